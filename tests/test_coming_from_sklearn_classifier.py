"""The user guide's table "coming from scikit-learn's MLPClassifier", checked:
from the same weights on the same batches, skae retraces scikit-learn's
iterates with ``weight_decay = alpha / (2 * batch size)`` (scikit-learn adds
``alpha / 2`` times the squared weights over the batch's samples), for
binary, multiclass and multilabel targets, and its objective is
scikit-learn's."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network import MLPClassifier

from skae import MLPClassifierGD

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0, nesterovs_momentum=False),
    "sgd-momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "adam": dict(solver="adam"),
}


def _targets(kind, X, rng):
    score = X @ rng.normal(size=(X.shape[1], 3)) + 0.3 * rng.normal(size=(len(X), 3))
    if kind == "binary":
        return np.where(score[:, 0] > 0, "b", "a")
    if kind == "multiclass":
        return score.argmax(axis=1)
    return (score > 0).astype(int)


def _copy_weights(ours, theirs):
    for W, W_theirs in zip(ours.coefs_, theirs.coefs_):
        W[...] = W_theirs
    for b, b_theirs in zip(ours.intercepts_, theirs.intercepts_):
        b[...] = b_theirs


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("batch_size", [64, 16])  # the whole set, mini-batches
def test_stochastic_solvers_retrace_scikit_learns_iterates(kind, solver, batch_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = _targets(kind, X, rng)
    alpha = 0.01
    common = dict(
        hidden_layer_sizes=(7,),
        activation="tanh",
        batch_size=batch_size,
        learning_rate_init=0.01,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        warm_start=True,
        **SOLVERS[solver],
    )
    theirs = MLPClassifier(alpha=alpha, **common).fit(X, y)
    ours = MLPClassifierGD(weight_decay=alpha / (2 * batch_size), **common).fit(X, y)
    _copy_weights(ours, theirs)
    # then ten epochs (50 steps with batches of 16) in one call, each solver
    # from a fresh state (a fit call starts scikit-learn's solver anew)
    ours._optimizer = None
    theirs.set_params(max_iter=10).fit(X, y)
    ours.set_params(max_iter=10).fit(X, y)
    for W, W_theirs in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(W, W_theirs, rtol=1e-9, atol=1e-12)
    assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9, atol=1e-12
    )
    assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_lbfgs_retraces_scikit_learns_iterates(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = _targets(kind, X, rng)
    alpha = 0.01
    common = dict(
        hidden_layer_sizes=(7,),
        activation="tanh",
        solver="lbfgs",
        max_iter=1,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        warm_start=True,
    )
    theirs = MLPClassifier(alpha=alpha, **common).fit(X, y)
    ours = MLPClassifierGD(weight_decay=alpha / (2 * len(X)), **common).fit(X, y)
    _copy_weights(ours, theirs)
    # 30 iterations of scipy's L-BFGS-B from the same point, on the same J.
    # J and its gradient agree to rounding, not bit for bit (the two compute
    # in another order), and L-BFGS's line searches amplify that: measured,
    # the weights part by 1e-16 to 4e-13 after 10 iterations, 7e-13 to 2e-10
    # after 30, 6e-10 to 7e-8 after 50
    theirs.set_params(max_iter=30).fit(X, y)
    ours.set_params(max_iter=30).fit(X, y)
    for W, W_theirs in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(W, W_theirs, rtol=1e-9, atol=1e-12)
    assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9, atol=1e-12
    )
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
