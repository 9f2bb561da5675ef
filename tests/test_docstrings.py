"""numpydoc validation of the public API's docstrings."""

# License: BSD-3-Clause

import pytest
from numpydoc.validate import validate

import skae
from skae import activations

# scikit-learn's own convention: methods need no extended summary, See Also or
# Examples, and "self : object"-style Returns lines are fine
IGNORED = {"ES01", "SA01", "EX01", "RT02"}

METHODS = [
    "fit",
    "partial_fit",
    "predict",
    "transform",
    "inverse_transform",
    "score",
    "score_samples",
    "decision_function",
]


def _public_names():
    for name in [
        "MLPRegressorGD",
        "AutoEncoder",
        "SparseAutoEncoder",
        "ReconstructionOutlierDetector",
    ]:
        cls = getattr(skae, name)
        yield f"skae.{name}"
        for method in METHODS:
            # methods skae writes itself, not those inherited from scikit-learn
            if getattr(getattr(cls, method, None), "__module__", "").startswith("skae"):
                yield f"skae.{name}.{method}"
    for name in activations.__all__:
        if name != "ACTIVATIONS":  # a dict: its docstring is dict's
            yield f"skae.activations.{name}"
    yield "skae.plotting.plot_filters"
    yield "skae.Checkpoint"
    for method in ["load", "setup", "teardown", "on_fit_task_begin", "on_fit_task_end"]:
        yield f"skae.Checkpoint.{method}"
    yield "skae.plotting.plot_lr_range_test"
    yield "skae.lr_range_test"
    yield "skae.onnx.to_onnx"
    yield "skae.activations.Activation.forward"
    yield "skae.activations.Activation.derivative"


@pytest.mark.parametrize("name", sorted(set(_public_names())))
def test_docstring_is_valid_numpydoc(name):
    errors = [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
