"""Every gallery example runs, in its fast mode, with a non-interactive backend."""

# License: BSD-3-Clause

import re
import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))

# What silences a warning in an example: a context or a decorator around the
# fits, or a filter that ignores ConvergenceWarning (or every warning).
SILENCING = re.compile(
    r"catch_warnings|ignore_warnings"
    r"|(?:filterwarnings|simplefilter)\([^)]*(?:ConvergenceWarning|[\"']ignore[\"'])"
)


def run_example(path, monkeypatch, fast=True):
    """Run an example as a script; return its globals (the objects it made)."""
    if fast:
        monkeypatch.setenv("SKAE_EXAMPLES_FAST", "1")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    return runpy.run_path(str(path), run_name="__main__")


# Every fit of an example stops by its stopping rule, in the fast mode too:
# one that reaches max_iter fails the test.
@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_draws(path, monkeypatch):
    try:
        run_example(path, monkeypatch)
        assert plt.get_fignums(), "an example draws at least one figure"
    finally:
        plt.close("all")


def test_no_example_silences_convergence_warnings():
    """A plain text check: no example hides a ConvergenceWarning from its
    reader (it would hide one from the test above too)."""
    examples = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
    assert len(examples) >= len(EXAMPLES) > 0
    silencing = [
        f"{path.name}: {match.group(0)!r}"
        for path in examples
        for match in SILENCING.finditer(path.read_text())
    ]
    assert not silencing


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_rendered_code_hides_the_fast_switch(path):
    """The page shows the full-size settings only: the fast mode's switch (and
    the ``os`` it needs) sits in blocks that sphinx-gallery leaves out."""
    from sphinx_gallery import py_source_parser as parser  # in the test extra

    _, blocks = parser.split_code_and_text_blocks(str(path))
    shown = "".join(
        parser.remove_ignore_blocks(block.content)
        for block in blocks
        if block.type == "code"
    )
    assert "SKAE_EXAMPLES_FAST" in path.read_text()
    for hidden in ("SKAE_EXAMPLES_FAST", "FAST", "import os", "os.environ"):
        assert hidden not in shown


def _neighbour_correlation(weights, side=8):
    """Mean correlation of horizontally and vertically adjacent pixels, over the
    filters (the columns of ``weights``, each reshaped to ``side x side``)."""
    correlations = []
    for image in weights.T.reshape(-1, side, side):
        for left, right in ((image[:, :-1], image[:, 1:]), (image[:-1], image[1:])):
            correlations.append(np.corrcoef(left.ravel(), right.ravel())[0, 1])
    return np.mean(correlations)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_ufldl_filters_have_edge_structure(monkeypatch):
    path = Path(__file__).parents[1] / "examples" / "plot_ufldl_sparse_autoencoder.py"
    monkeypatch.delenv("SKAE_EXAMPLES_FAST", raising=False)
    try:
        # One BLAS thread: the products are small (10,000 x 64 by 25), and on a
        # busy two-core machine two spinning BLAS threads made this fit ten
        # times slower (measured: 46 s against 5 s).
        with threadpool_limits(limits=1, user_api="blas"):
            objects = run_example(path, monkeypatch, fast=False)
    finally:
        plt.close("all")
    patches, sae, rho = objects["patches"], objects["sae"], objects["rho"]
    assert patches.shape == (10_000, 64)
    assert 0.1 <= patches.min() and patches.max() <= 0.9

    assert rho / 2 <= sae.mean_activation_.mean() <= 2 * rho

    # Measured: 0.82 for the learned filters; random Gaussian filters of the
    # same shape give -0.01 to -0.04 (over seeds 0 to 4).
    learned = _neighbour_correlation(sae.coefs_[0])
    random = _neighbour_correlation(np.random.default_rng(0).standard_normal((64, 25)))
    assert abs(random) < 0.15
    assert learned > 0.6
