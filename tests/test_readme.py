"""The Python examples of README.md and docs/install.rst run without a warning.

Every ```python block of the README and every ``.. code-block:: python``
block of the installation page is executed in a fresh namespace with all
warnings turned into errors: an example a user copies must converge by its
settings, not print ConvergenceWarnings. What each example prints or computes
is then checked.
"""

# License: BSD-3-Clause

import contextlib
import io
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTALL = ROOT / "docs" / "install.rst"


def markdown_python_blocks(path):
    """``(first line number, code)`` of each fenced ```python block."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in pattern.finditer(text)
    ]


def rst_python_blocks(path):
    """``(first line number, code)`` of each ``.. code-block:: python``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    directive = re.compile(r"^(\s*)\.\. code-block::\s*python3?\s*$")
    for number, line in enumerate(lines):
        match = directive.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        body, start = [], None
        for index in range(number + 1, len(lines)):
            text = lines[index]
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break  # back at the directive's level: the block has ended
            if start is None and text.strip().startswith(":"):
                continue  # a directive option such as :caption:
            if start is None and text.strip():
                start = index + 1
            if start is not None:
                body.append(text)
        blocks.append((start, textwrap.dedent("\n".join(body)).strip() + "\n"))
    return blocks


BLOCKS = [
    pytest.param(code, id=f"{path.name}:{line}")
    for path, extract in [
        (README, markdown_python_blocks),
        (INSTALL, rst_python_blocks),
    ]
    for line, code in extract(path)
]


def run_example(code, name):
    """Execute ``code`` in a fresh namespace, every warning an error.

    Returns the namespace and what the code printed.
    """
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        warnings.simplefilter("error")
        exec(compile(code, name, "exec"), namespace)
    return namespace, printed.getvalue()


def test_the_examples_are_found():
    assert len(markdown_python_blocks(README)) >= 1
    assert len(rst_python_blocks(INSTALL)) >= 1
    for _, code in markdown_python_blocks(README) + rst_python_blocks(INSTALL):
        compile(code, "example", "exec")  # whole blocks, not fragments


def check_grid_search(namespace, printed):
    """README: the grid over beta, rho and lambda, every candidate scored."""
    grid = namespace["grid"]
    assert set(grid.param_grid) == {
        "sae__sparsity_weight",
        "sae__sparsity_target",
        "sae__weight_decay",
    }
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) >= 4
    assert np.isfinite(scores).all()  # no fit failed
    # ten classes: chance is 0.1; a logistic regression on good codes of the
    # digits scores above 0.9 under this 3-fold split
    assert grid.best_score_ > 0.9
    sae = grid.best_estimator_.named_steps["sae"]
    assert sae.n_iter_ < sae.max_iter  # the refit stopped by tol
    assert str(grid.best_params_) in printed
    assert printed.split()[-1] == str(grid.best_score_)


def check_first_model(namespace, printed):
    """docs/install.rst: the cross-validated accuracy of the first model."""
    accuracy = float(printed.split()[-1])
    assert 0.9 < accuracy <= 1.0


def check_anything(namespace, printed):
    """An example without a check of its own: it must at least print."""
    assert printed.strip(), "the example prints nothing to check"


CHECKS = {"GridSearchCV(": check_grid_search, "cross_val_score(": check_first_model}


@pytest.mark.parametrize("code", BLOCKS)
def test_example_runs_without_warnings(code, request):
    namespace, printed = run_example(code, request.node.callspec.id)
    checks = [check for marker, check in CHECKS.items() if marker in code]
    for check in checks or [check_anything]:
        check(namespace, printed)
