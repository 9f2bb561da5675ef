"""Every gallery example runs, in its fast mode, with a non-interactive backend."""

# License: BSD-3-Clause

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def run_example(path, monkeypatch, fast=True):
    """Run an example as a script; return its globals (the objects it made)."""
    if fast:
        monkeypatch.setenv("SKAE_EXAMPLES_FAST", "1")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    return runpy.run_path(str(path), run_name="__main__")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_draws(path, monkeypatch):
    try:
        run_example(path, monkeypatch)
        assert plt.get_fignums(), "an example draws at least one figure"
    finally:
        plt.close("all")
