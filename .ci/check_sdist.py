"""Build the sdist and check that it carries the license and what the tests
read: both conftest.py files, the tests, the examples, the user guide and the
README; and no build leftovers. Then build the wheel from it and check that
the wheel carries every module of the package, its layers' subpackages
included."""

# License: BSD-3-Clause

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

out = Path(tempfile.mkdtemp())
subprocess.run(
    [sys.executable, "-m", "build", "--outdir", str(out)],  # sdist, then wheel
    check=True,
    capture_output=True,
)
(sdist,) = out.glob("skae-*.tar.gz")
with tarfile.open(sdist) as archive:
    names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
needed = {
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "conftest.py",
    "tests/conftest.py",
    "docs/user_guide/index.rst",
}
needed |= {str(p) for p in Path("docs/user_guide").glob("*.rst")}
modules = {str(p) for p in Path("skae").rglob("*.py")}
needed |= modules
needed |= {str(p) for p in Path("tests").glob("test_*.py")}
needed |= {str(p) for p in Path("examples").glob("plot_*.py")}
missing = sorted(needed - names)
leftovers = sorted(
    n for n in names if "__pycache__" in n or n.startswith("docs/_build")
)
if missing or leftovers:
    sys.exit(f"sdist {sdist.name}: missing {missing}, leftovers {leftovers}")
print(f"sdist {sdist.name}: {len(names)} files, everything the tests need")

(wheel,) = out.glob("skae-*.whl")
with zipfile.ZipFile(wheel) as archive:
    missing = sorted(modules - set(archive.namelist()))
if missing:
    sys.exit(f"wheel {wheel.name}: missing {missing}")
print(f"wheel {wheel.name}: all {len(modules)} modules of skae")
