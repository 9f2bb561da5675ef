"""The benchmark scripts keep working as the package moves: each one imports
(a renamed private module broke ``profile_epoch.py`` unnoticed once)."""

# License: BSD-3-Clause

import ast
import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# scripts whose imports need an optional package: compiled, not imported
NEEDS_OPTIONAL = {"bench_gpu.py": "torch"}


@pytest.mark.parametrize(
    "script", sorted(path.name for path in BENCHMARKS.glob("*.py")), ids=str
)
def test_benchmark_script_imports(script):
    path = BENCHMARKS / script
    if script in NEEDS_OPTIONAL:
        ast.parse(path.read_text(encoding="utf-8"))
        return
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # main() runs only under __main__
    assert callable(module.main)
