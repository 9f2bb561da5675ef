"""The user guide explains skae by its public API: private names stay in its
last section, "How the code is organised"."""

# License: BSD-3-Clause

import re
import textwrap
import warnings
from pathlib import Path

import skae

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "user_guide.rst"
LAST_SECTION = "How the code is organised"

# the core's private classes, by the names the prose would use
PRIVATE_CLASSES = (
    "BaseNetwork",
    "BaseAutoEncoder",
    "TrainingRun",
    "Objective",
    "Network",
    "Batches",
    "SquaredError",
    "CrossEntropy",
    "WeightDecay",
    "KLSparsity",
    "FitTasks",
    "BlasThreadTuner",
)


def _prose():
    text = GUIDE.read_text(encoding="utf-8")
    assert text.count(LAST_SECTION) == 1
    before = text[: text.index(LAST_SECTION)]
    # skops names the types a file holds by their full private paths: the one
    # place a user must read them, in quotes in the trusted-types example
    return re.sub(r'"skae\._[\w.]+"', '"<type>"', before)


def test_no_private_module_names_before_the_last_section():
    assert re.findall(r"skae\._\w+", _prose()) == []


def test_no_private_classes_before_the_last_section():
    prose = _prose()
    found = [name for name in PRIVATE_CLASSES if re.search(rf"\b{name}\b(?!\w)", prose)]
    assert found == []


def test_the_last_section_names_every_module_of_the_package():
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(LAST_SECTION) :]
    package = Path(skae.__file__).parent
    public = {"__init__", "__main__", "activations", "exceptions", "onnx", "plotting"}
    private = {
        "skae." + ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if path.parent != package and path.name != "__init__.py"
    }
    assert len(private) > 20  # every layer's modules
    folders = {
        f"skae/{path.relative_to(package)}/"
        for path in package.iterdir()
        if path.is_dir()
    } - {"skae/__pycache__/"}
    loose = {path.stem for path in package.glob("*.py")} - public
    missing = sorted(name for name in private | folders if f"``{name}``" not in section)
    assert loose == set() and missing == []


def test_the_array_api_example_runs_warning_free():
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("Running on a GPU") : text.index(LAST_SECTION)]
    start = section.index(".. code-block:: python")
    lines = section[start:].splitlines()[1:]
    body = []
    for line in lines:
        if line.strip() and not line.startswith("   "):
            break  # back at the directive's level
        if line.strip().startswith(":caption:"):
            continue
        body.append(line)
    code = textwrap.dedent("\n".join(body))
    assert "array_api_dispatch=True" in code and "assert_allclose" in code
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, str(GUIDE), "exec"), {})
