"""Chunked evaluation: the results of the whole batch, with the memory of a chunk.

Chunks follow scikit-learn's ``working_memory`` (MiB). Every method that runs
the network over many rows (fit's full-batch evaluations, predict, transform,
inverse_transform, score, score_samples, validation scoring and
``mean_activation_``) must give the same numbers with a tiny working memory
as with the default, and its peak memory must not grow with the rows.
"""

# License: BSD-3-Clause

import tracemalloc
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoder, MLPClassifierGD, MLPRegressorGD, SparseAutoEncoder

TINY = 0.01  # MiB: a few rows per chunk for these small networks


def _fitted_and_outputs(estimator, X, y):
    """Fit, then every chunked output of the estimator."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if y is None:
            estimator.fit(X, X_val=X[:50])
        else:
            estimator.fit(X, y, X_val=X[:50], y_val=y[:50])
    outputs = {
        "theta": estimator._theta,
        "loss_curve": np.array(estimator.loss_curve_),
        "validation": np.array(estimator.validation_scores_),
        "transform": estimator.transform(X),
    }
    if y is None:
        outputs["inverse_transform"] = estimator.inverse_transform(outputs["transform"])
        outputs["score_samples"] = estimator.score_samples(X)
        outputs["score"] = estimator.score(X)
        if hasattr(estimator, "mean_activation_"):
            outputs["mean_activation"] = estimator.mean_activation_
    else:
        outputs["predict"] = estimator.predict(X)
        outputs["score"] = estimator.score(X, y)
    if isinstance(estimator, MLPClassifierGD):
        outputs["predict_proba"] = estimator.predict_proba(X)
        outputs["predict_log_proba"] = estimator.predict_log_proba(X)
    return outputs


ESTIMATORS = [
    MLPRegressorGD(hidden_layer_sizes=(7,), solver="lbfgs", max_iter=15),
    MLPRegressorGD(hidden_layer_sizes=(7,), batch_size="full", max_iter=15),
    AutoEncoder(n_components=4, max_iter=15),
    AutoEncoder(
        n_components=4, tied_weights=True, out_activation="sigmoid", max_iter=15
    ),
    SparseAutoEncoder(n_components=4, max_iter=15),
    SparseAutoEncoder(n_components=4, solver="adam", batch_size="full", max_iter=8),
    MLPClassifierGD(hidden_layer_sizes=(7,), solver="lbfgs", max_iter=15),
]
IDS = [
    f"{type(e).__name__}-{e.solver}-{e.batch_size}-{getattr(e, 'tied_weights', '')}"
    for e in ESTIMATORS
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("storage", ["dense", "csr", "csc"])
def test_a_tiny_working_memory_gives_the_same_results(estimator, storage, digits01):
    X = digits01[:240]
    y = None
    if isinstance(estimator, MLPRegressorGD):
        y = X @ np.linspace(-1, 1, X.shape[1])
    if isinstance(estimator, MLPClassifierGD):  # three classes
        y = np.digitize(X @ np.linspace(-1, 1, X.shape[1]), [-0.5, 0.5])
    if storage != "dense":
        X = sparse.csr_matrix(X).asformat(storage)
    estimator = clone(estimator).set_params(random_state=0)
    whole = _fitted_and_outputs(clone(estimator), X, y)
    with sklearn.config_context(working_memory=TINY):
        chunked = _fitted_and_outputs(clone(estimator), X, y)
    assert whole.keys() == chunked.keys()
    for name, value in whole.items():
        # each evaluation agrees to rounding (tests/test_objective.py); fifteen
        # L-BFGS iterations amplify it (measured: weights 6e-12 apart
        # relative to their largest), so entries near 0 are compared on the
        # array's own scale
        scale = np.max(np.abs(value))
        assert_allclose(
            chunked[name], value, rtol=1e-9, atol=1e-9 * scale, err_msg=name
        )


def _peak(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_memory_does_not_grow_with_the_rows(solver):
    # a sparse input whose dense reconstruction the unchunked path would
    # materialise whole: 8000 x 1000 float64 is 61 MiB, the data 1.2 MiB
    def data(n_samples):
        return sparse.random(
            n_samples, 1000, density=0.02, format="csr", random_state=0
        )

    def peaks(n_samples):
        X = data(n_samples)
        ae = AutoEncoder(
            n_components=8, solver=solver, batch_size="full", max_iter=2, tol=0.0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = _peak(lambda: ae.fit(X))
        return fit, _peak(lambda: ae.score_samples(X))

    with sklearn.config_context(working_memory=1):
        small, large = peaks(2000), peaks(8000)
    dense_reconstruction = 8000 * 1000 * 8
    for kind, at_2000, at_8000 in zip(["fit", "score_samples"], small, large):
        # flat in the rows: the four times larger data adds its own size
        # (sparse slices, per-sample losses) and nothing like a dense copy
        assert at_8000 < at_2000 + 2 * 2**20, kind
        assert at_8000 < dense_reconstruction / 8, kind


def test_class_probabilities_take_the_memory_of_the_output_only():
    # a sparse input through a hidden layer of 256: 8000 rows of it are 16
    # MiB, the 8000 x 4 probabilities 0.25 MiB
    rng = np.random.default_rng(0)

    def data(n_samples):
        X = sparse.random(n_samples, 500, density=0.02, format="csr", random_state=0)
        return X, rng.integers(0, 4, n_samples)

    X, y = data(500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifierGD(hidden_layer_sizes=(256,), solver="lbfgs", max_iter=3)
        clf.fit(X, y)
    with sklearn.config_context(working_memory=1):
        inputs = [data(n)[0] for n in (2000, 8000)]
        for method in (clf.predict_proba, clf.predict_log_proba, clf.predict):
            small, large = (_peak(lambda: method(X)) for X in inputs)
            output = 6000 * 4 * 8  # what the 6000 more rows' probabilities take
            assert large - small < 2 * output + 2**20, method.__name__
