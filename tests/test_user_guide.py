"""The user guide, docs/user_guide/, checked as a reader meets it.

It explains skae by its public API: private names stay on its last page, "How
the code is organised", which names every module. And its Python code runs as
a reader pastes it: each page's blocks, in order, in one fresh namespace per
page, every warning an error; a block that cannot run here is listed in
``NOT_RUN`` with the reason, and nothing else is left out.
"""

# License: BSD-3-Clause

import contextlib
import io
import re
import textwrap
import warnings
from pathlib import Path

import pytest
import sklearn

import skae

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "user_guide"
PAGES = sorted(GUIDE.glob("*.rst"))
LAST_PAGE = GUIDE / "code_organisation.rst"
LAST_TITLE = "How the code is organised"

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

# The Python blocks not run here, by page and a substring found in that block
# alone, with the reason. The test fails if this is not exactly the set of
# blocks left out.
NOT_RUN = {
    ("ecosystem.rst", "LocalCluster(n_workers=2)"): (
        "starts a Dask cluster of worker processes; "
        "tests/test_ecosystem.py runs a grid search on one"
    ),
    ("gpu.rst", 'device="cuda"'): "needs PyTorch and a CUDA GPU",
}

# languages of ``.. code-block::`` that are not Python (none used so far); a
# block in any other language is Python by another name and must say "python"
OTHER_LANGUAGES = {"text", "console", "bash", "shell", "none"}


def _prose():
    """The pages before the last, where every name is public."""
    text = "\n".join(
        page.read_text(encoding="utf-8") for page in PAGES if page != LAST_PAGE
    )
    # skops names the types a file holds by their full private paths: the one
    # place a user must read them, in quotes in the trusted-types example
    return re.sub(r'"skae\._[\w.]+"', '"<type>"', text)


def _toctree(page):
    """The documents that ``page``'s toctree lists, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(".. toctree::")
    entries = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith("   "):
            break
        if line.strip() and not line.strip().startswith(":"):
            entries.append(line.strip())
    return entries


def test_the_index_lists_every_page_and_the_code_last():
    pages = {page.stem for page in PAGES} - {"index"}
    entries = _toctree(GUIDE / "index.rst")
    assert sorted(entries) == sorted(pages)
    assert entries[-1] == LAST_PAGE.stem
    assert LAST_PAGE.read_text(encoding="utf-8").startswith(LAST_TITLE + "\n")


def test_no_private_module_names_before_the_last_page():
    assert re.findall(r"skae\._\w+", _prose()) == []


def test_no_private_classes_before_the_last_page():
    prose = _prose()
    found = [name for name in PRIVATE_CLASSES if re.search(rf"\b{name}\b(?!\w)", prose)]
    assert found == []


def test_the_last_page_names_every_module_of_the_package():
    section = LAST_PAGE.read_text(encoding="utf-8")
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


# -- the code blocks ------------------------------------------------------------


def _indent(line):
    return len(line) - len(line.lstrip())


def _body(lines, start, indent, options):
    """The block that follows ``lines[start - 1]``: the lines indented more
    than ``indent``, less the directive's ``options``; ``(line number, code)``."""
    body, first = [], None
    for index in range(start, len(lines)):
        line = lines[index]
        if line.strip() and _indent(line) <= indent:
            break  # back at the directive's or the paragraph's level
        if options and first is None and line.strip().startswith(":"):
            continue  # a directive option such as :caption:
        if first is None and line.strip():
            first = index + 1
        if first is not None:
            body.append(line)
    return first, textwrap.dedent("\n".join(body)).strip() + "\n"


def code_blocks(page):
    """``(line number, language, code)`` of each code block of ``page``: the
    ``.. code-block::`` directives (and their aliases ``code`` and
    ``sourcecode``), and the literal blocks a ``::`` introduces, which Sphinx
    highlights as Python."""
    lines = page.read_text(encoding="utf-8").splitlines()
    directive = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
    blocks = []
    for number, line in enumerate(lines):
        match = directive.match(line)
        if match:
            first, code = _body(lines, number + 1, len(match.group(1)), options=True)
            blocks.append((first, match.group(2) or "default", code))
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".. "):
            first, code = _body(lines, number + 1, _indent(line), options=False)
            blocks.append((first, "python", code))
    return blocks


def python_blocks(page):
    return [
        (line, code)
        for line, language, code in code_blocks(page)
        if language == "python"
    ]


def _not_run(page, code):
    """The ``NOT_RUN`` entries of ``page`` whose substring ``code`` holds."""
    return [key for key in NOT_RUN if key[0] == page.name and key[1] in code]


def test_the_code_blocks_are_python_and_whole():
    assert [page.name for page in PAGES if python_blocks(page)] != []
    for page in PAGES:
        assert ">>> " not in page.read_text(encoding="utf-8"), page.name
        for line, language, code in code_blocks(page):
            where = f"{page.name}:{line}"
            assert language == "python" or language in OTHER_LANGUAGES, where
            if language == "python":
                compile(code, where, "exec")  # whole blocks, not fragments


def test_not_run_lists_exactly_the_blocks_left_out():
    left_out = []
    for page in PAGES:
        for line, code in python_blocks(page):
            keys = _not_run(page, code)
            assert len(keys) <= 1, (page.name, line, keys)
            left_out += keys
    assert sorted(left_out) == sorted(NOT_RUN)  # each names one block, once
    assert all(reason.strip() for reason in NOT_RUN.values())


PAGES_WITH_CODE = [
    pytest.param(page, id=page.stem)
    for page in PAGES
    if any(not _not_run(page, code) for _, code in python_blocks(page))
]


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_the_code_of_a_page_runs_without_warnings(page):
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    # a block may change scikit-learn's global configuration (metadata
    # routing): config_context restores it for the tests that follow
    with (
        sklearn.config_context(),
        warnings.catch_warnings(),
        contextlib.redirect_stdout(printed),
    ):
        warnings.simplefilter("error")
        for line, code in python_blocks(page):
            if not _not_run(page, code):
                exec(compile(code, f"{page}:{line}", "exec"), namespace)
