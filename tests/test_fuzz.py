"""Property-based fuzzing: any data either fits cleanly or gets a documented error.

Hypothesis draws data sets of 1-60 samples and 1-30 features, float32 or
float64, dense or CSR, with magnitudes from 1e-30 to 1e30, constant and
duplicated columns and rows, or all zeros, and trains every estimator with every
activation and solver. With warnings turned into errors, each case must either
fit with finite parameters and outputs of the right shape and dtype, or raise
one of the documented errors. Profiles (tests/conftest.py): "ci" by default,
``--hypothesis-profile=long`` for a release.
"""

# License: BSD-3-Clause

import warnings

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder
from skae.activations import ACTIVATIONS

ACTIVATION_NAMES = sorted(ACTIVATIONS) + ["logistic"]
SOLVERS = ["sgd", "adam", "lbfgs"]

# the documented outcomes other than a clean fit, as (type, words of the message)
DOCUMENTED_ERRORS = [
    (ValueError, "diverged"),  # non-finite loss: smaller learning rate, scale data
    (ValueError, "Allowed activations"),  # sparsity needs a [0, 1] code activation
    (ValueError, "needs data in [0, 1]"),  # cross-entropy outside [0, 1]
]


@st.composite
def data_sets(draw):
    """A matrix with a drawn shape, dtype, storage, magnitude and structure."""
    n_samples = draw(st.integers(1, 60))
    n_features = draw(st.integers(1, 30))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    magnitude = 10.0 ** draw(st.integers(-30, 30))
    structure = draw(
        st.sampled_from(["random", "constant columns", "duplicated rows", "zeros"])
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = magnitude * rng.standard_normal((n_samples, n_features))
    if structure == "constant columns":
        X[:, ::2] = X[0, ::2]
    elif structure == "duplicated rows":
        X[1::2] = X[0]
    elif structure == "zeros":
        X[:] = 0.0
    if draw(st.booleans()):
        X = np.abs(X)  # non-negative data, as for the sigmoid decoder
    X = X.astype(dtype)
    y = magnitude * rng.standard_normal((n_samples, draw(st.integers(1, 2))))
    y = y[:, 0] if y.shape[1] == 1 and draw(st.booleans()) else y
    if draw(st.booleans()):
        X = sparse.csr_matrix(X)
    return X, y


@st.composite
def estimators(draw):
    """An estimator of a drawn kind, activation and solver, small and quick."""
    kind = draw(st.sampled_from([MLPRegressorGD, AutoEncoder, SparseAutoEncoder]))
    params = dict(
        activation=draw(st.sampled_from(ACTIVATION_NAMES)),
        solver=draw(st.sampled_from(SOLVERS)),
        max_iter=draw(st.integers(1, 5)),
        random_state=0,
    )
    if kind is MLPRegressorGD:
        return kind(hidden_layer_sizes=(3,), **params)
    out_activation = draw(st.sampled_from(["identity", "sigmoid"]))
    return kind(n_components=2, out_activation=out_activation, **params)


def _documented(error):
    """The words of the documented error that ``error`` is, or None."""
    for kind, words in DOCUMENTED_ERRORS:
        if isinstance(error, kind) and words in str(error):
            return words
    return None


@given(data=data_sets(), estimator=estimators())
def test_fits_cleanly_or_raises_a_documented_error(data, estimator):
    X, y = data
    is_regressor = isinstance(estimator, MLPRegressorGD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a short max_iter running out is documented and expected here
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            estimator.fit(X, y) if is_regressor else estimator.fit(X)
        except ValueError as error:
            if _documented(error) is None:
                raise
            event(f"documented error: {_documented(error)}")
            return
        event("fitted")
        parameters = estimator.coefs_ + estimator.intercepts_
        assert all(p.dtype == X.dtype and np.isfinite(p).all() for p in parameters)
        outputs = [estimator.transform(X)]
        if is_regressor:
            outputs.append(estimator.predict(X))
            assert outputs[-1].shape == np.shape(y)
        else:
            outputs.append(estimator.inverse_transform(outputs[0]))
            assert outputs[-1].shape == X.shape
        assert outputs[0].shape[0] == X.shape[0]
        for output in outputs:
            assert output.dtype == X.dtype
            assert np.isfinite(output).all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_documented_outcome_is_reachable(solver):
    # guard against a fuzz test that passes because everything errors out
    X = np.random.default_rng(0).uniform(size=(20, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AutoEncoder(
            n_components=2, solver=solver, max_iter=50, tol=1e3, random_state=0
        )
        model.fit(X)
    assert np.isfinite(model.transform(X)).all()
