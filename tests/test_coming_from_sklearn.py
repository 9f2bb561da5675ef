"""The user guide's table "coming from scikit-learn's MLPRegressor", checked:
from the same weights, skae's "sgd" retraces scikit-learn's trajectory with
``learning_rate_init / 2`` and ``weight_decay = alpha / batch size``, and its
objective is twice scikit-learn's."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network import MLPRegressor

from skae import MLPRegressorGD

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _pair(batch_size, alpha, learning_rate_init, activation, momentum, nesterov):
    common = dict(
        hidden_layer_sizes=(7,),
        activation=activation,
        solver="sgd",
        momentum=momentum,
        nesterovs_momentum=nesterov,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        warm_start=True,
    )
    theirs = MLPRegressor(
        batch_size=batch_size,
        alpha=alpha,
        learning_rate_init=learning_rate_init,
        **common,
    )
    ours = MLPRegressorGD(
        batch_size=batch_size,
        # scikit-learn divides its penalty by the batch's number of samples
        weight_decay=alpha / batch_size,
        # skae's squared error is twice scikit-learn's: half the rate, same step
        learning_rate_init=learning_rate_init / 2,
        **common,
    )
    return theirs, ours


@pytest.mark.parametrize(
    ("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)]
)
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("batch_size", [64, 16])  # the whole set, mini-batches
def test_sgd_retraces_scikit_learns_trajectory(
    batch_size, activation, momentum, nesterov
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=64)
    theirs, ours = _pair(batch_size, 0.01, 0.01, activation, momentum, nesterov)
    theirs.fit(X, y)
    ours.fit(X, y)
    # the same starting point: scikit-learn's weights after its first epoch
    for W, W_theirs in zip(ours.coefs_, theirs.coefs_):
        W[...] = W_theirs
    for b, b_theirs in zip(ours.intercepts_, theirs.intercepts_):
        b[...] = b_theirs
    # then ten epochs in one call, each solver from no velocity (a fit call
    # starts scikit-learn's solver anew; skae's, once its state is dropped)
    ours._optimizer = None
    theirs.set_params(max_iter=10).fit(X, y)
    ours.set_params(max_iter=10).fit(X, y)
    for W, W_theirs in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(W, W_theirs, rtol=1e-10, atol=1e-13)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-10, atol=1e-13)
    # the objective: twice scikit-learn's, epoch by epoch
    assert_allclose(
        ours.loss_curve_[1:], 2 * np.array(theirs.loss_curve_[1:]), rtol=1e-10
    )
