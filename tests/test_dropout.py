"""Dropout on hidden layers: the masks, the exact gradient with the masks held
fixed, and what the estimators do with it."""

# License: BSD-3-Clause

import numpy as np
import pytest
import sklearn
from finite_differences import central_differences, relative_error
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoEncoder,
    MLPClassifierGD,
    MLPRegressorGD,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)
from skae._math.activations import Softmax
from skae._math.dropout import DropoutMasks
from skae._math.losses import CategoricalCrossEntropy, CrossEntropy, SquaredError
from skae._math.network import Network
from skae._math.objective import Objective
from skae._math.penalties import GaussianKL, KLSparsity, WeightDecay
from skae._math.stochastic import GaussianNoise
from skae.activations import ACTIVATIONS, Identity, Sigmoid

N_SAMPLES, N_FEATURES = 7, 4
KINKS = np.array([-1.0, 0.0, 1.0])
# how the parameter checks write the range, scikit-learn's and skae's
RANGE = r"\[0(\.0)?, 1(\.0)?\)"
RATES = {1: 0.5, 2: 0.25, 3: 0.4}  # every hidden layer of (4, 5, 3, 4, n_out)


def draw_point(network, rng, n_samples=N_SAMPLES, unit=False):
    """Parameters and inputs with no hidden pre-activation near a kink."""
    for _ in range(100):
        theta = network.initialize(np.random.RandomState(rng.integers(2**31)), float)
        theta += 0.1 * rng.standard_normal(theta.shape)
        X = rng.standard_normal((n_samples, network.layer_sizes[0]))
        if unit:
            X = rng.uniform(0.05, 0.95, X.shape)
        activations, _ = network.forward(theta, X)
        pre = [
            A @ W + b
            for A, (W, b) in zip(activations[:-2], network.unflatten(theta)[:-1])
        ]
        if min(np.abs(Z[..., None] - KINKS).min() for Z in pre) > 1e-4:
            return theta, X
    raise AssertionError("no kink-free point found")


def masks_of(rates, n_samples, network, seed=0):
    """The masks a fixed ``DropoutMasks`` of this seed gives every evaluation."""
    masks = DropoutMasks(rates, np.random.RandomState(seed), fixed=True)
    masks.restart()
    return masks.draw(n_samples, network.layer_sizes, np.zeros(1)).masks


def by_formula(network, theta, X, masks):
    """The forward pass written out: each dropped layer's input is a * m."""
    A = X
    for layer, (W, b) in enumerate(network.unflatten(theta)):
        if layer in masks:
            A = A * masks[layer]
        A = network.activation(layer).forward(A @ W + b)
    return A


def test_masks_keep_one_minus_p_of_the_units_scaled_by_its_inverse():
    network = Network((3, 400, 300, 2), Sigmoid(), Identity())
    masks = masks_of({1: 0.3, 2: 0.6}, 500, network)
    for index, rate in ((1, 0.3), (2, 0.6)):
        mask = masks[index]
        assert set(np.unique(mask)) == {0.0, 1 / (1 - rate)}
        # 200 000 and 150 000 Bernoulli draws: within 5 standard deviations
        kept = np.mean(mask > 0)
        assert abs(kept - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / mask.size)
        assert abs(mask.mean() - 1) < 0.02  # inverted: E[m] = 1


def test_a_batch_drawn_chunk_by_chunk_gets_the_masks_of_one_draw():
    network = Network((3, 6, 5, 2), Sigmoid(), Identity())
    whole = DropoutMasks({1: 0.5, 2: 0.3}, np.random.RandomState(1), fixed=True)
    whole.restart()
    one = whole.draw(10, network.layer_sizes, np.zeros(1)).masks
    whole.restart()
    parts = [whole.draw(n, network.layer_sizes, np.zeros(1)).masks for n in (3, 7)]
    for index in one:
        assert_array_equal(one[index], np.vstack([p[index] for p in parts]))
    # a running stream draws new masks at every evaluation
    running = DropoutMasks({1: 0.5}, np.random.RandomState(1))
    running.restart()
    first = running.draw(10, network.layer_sizes, np.zeros(1)).masks[1]
    running.restart()
    assert not np.array_equal(first, running.draw(10, (3, 6), np.zeros(1)).masks[1])


OUTPUTS = {
    "squared-identity": (SquaredError, Identity, 3),
    "cross_entropy-sigmoid": (CrossEntropy, Sigmoid, 1),
    "categorical-softmax": (CategoricalCrossEntropy, Softmax, 3),
}


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_gradient_with_the_masks_held_fixed_matches_finite_differences(
    hidden, output, rng
):
    loss, output_activation, n_outputs = OUTPUTS[output]
    network = Network(
        (N_FEATURES, 5, 3, 4, n_outputs), ACTIVATIONS[hidden](), output_activation()
    )
    objective = Objective(
        network,
        loss(),
        WeightDecay(0.03),
        dropout=DropoutMasks(RATES, np.random.RandomState(0), fixed=True),
    )
    theta, X = draw_point(network, rng)
    T = rng.standard_normal((N_SAMPLES, n_outputs))
    if output != "squared-identity":
        T = rng.uniform(size=(N_SAMPLES, n_outputs))
        if output == "categorical-softmax":
            T /= T.sum(axis=1, keepdims=True)
    w = rng.uniform(0.2, 3.0, N_SAMPLES)

    loss_value, gradient = objective.loss_and_gradient(theta, X, T, w)
    Y = by_formula(network, theta, X, masks_of(RATES, N_SAMPLES, network))
    if output == "squared-identity":
        L = ((T - Y) ** 2).sum(axis=1)
    elif output == "cross_entropy-sigmoid":
        L = -(T * np.log(Y) + (1 - T) * np.log(1 - Y)).sum(axis=1)
    else:
        L = -(T * np.log(Y)).sum(axis=1)
    decay = 0.03 * sum(np.sum(W**2) for W in network.weights(theta))
    assert loss_value == pytest.approx(np.average(L, weights=w) + decay, rel=1e-12)
    assert objective.value(theta, X, T, w) == pytest.approx(loss_value, rel=1e-13)
    numerical = central_differences(
        lambda t: objective.loss_and_gradient(t, X, T, w)[0], theta
    )
    assert np.linalg.norm(numerical) > 1e-3
    assert relative_error(gradient, numerical) < 1e-6
    # scoring never drops: the J of the plain forward pass
    scoring = objective.for_scoring()
    assert scoring.dropout is None and objective.dropout is not None
    assert scoring.value(theta, X, T, w) == pytest.approx(
        Objective(network, loss(), WeightDecay(0.03)).value(theta, X, T, w), rel=1e-14
    )


@pytest.mark.parametrize("chunk_rows", [None, 3])
def test_the_sparsity_penalty_reads_the_activations_before_the_mask(chunk_rows, rng):
    # a sparse autoencoder's network, every hidden layer dropped; chunked,
    # rho_hat is computed in a pass of its own, through the same masks
    network = Network((N_FEATURES, 5, 3, 5, N_FEATURES), Sigmoid(), Sigmoid())
    rates = {1: 0.3, 2: 0.5, 3: 0.2}
    objective = Objective(
        network,
        CrossEntropy(),
        WeightDecay(0.01),
        KLSparsity(0.1, 0.7),
        2,
        chunk_rows=chunk_rows,
        dropout=DropoutMasks(rates, np.random.RandomState(3), fixed=True),
    )
    theta, X = draw_point(network, rng, unit=True)
    loss_value, gradient = objective.loss_and_gradient(theta, X, X)

    masks = masks_of(rates, N_SAMPLES, network, seed=3)
    Y = by_formula(network, theta, X, masks)
    W0, b0 = network.unflatten(theta)[0]
    H1 = Sigmoid().forward(X @ W0 + b0)
    W1, b1 = network.unflatten(theta)[1]
    code = Sigmoid().forward((H1 * masks[1]) @ W1 + b1)  # before its own mask
    rho_hat = code.mean(axis=0)
    kl = np.sum(0.1 * np.log(0.1 / rho_hat) + 0.9 * np.log(0.9 / (1 - rho_hat)))
    L = -(X * np.log(Y) + (1 - X) * np.log(1 - Y)).sum(axis=1).mean()
    decay = 0.01 * sum(np.sum(W**2) for W in network.weights(theta))
    assert loss_value == pytest.approx(L + 0.7 * kl + decay, rel=1e-12)
    numerical = central_differences(
        lambda t: objective.loss_and_gradient(t, X, X)[0], theta
    )
    assert relative_error(gradient, numerical) < 1e-6


def test_a_stochastic_layer_is_never_dropped_and_the_gradient_is_exact(rng):
    # a VAE's network: hidden 5, [mu | log sigma^2] of 2 x 2, hidden 5
    network = Network(
        (N_FEATURES, 5, 4, 5, N_FEATURES),
        ACTIVATIONS["tanh"](),
        Identity(),
        stochastic=2,
    )
    objective = Objective(
        network,
        SquaredError(),
        WeightDecay(0.0),
        latent_kl=GaussianKL(1.0),
        latent_noise=GaussianNoise(0, fixed=True),
        dropout=DropoutMasks({1: 0.4, 3: 0.4}, np.random.RandomState(0), fixed=True),
    )
    # tanh is smooth: no kinks to keep away from
    theta = network.initialize(np.random.RandomState(0), float)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    loss_value, gradient = objective.loss_and_gradient(theta, X, X)
    numerical = central_differences(
        lambda t: objective.loss_and_gradient(t, X, X)[0], theta
    )
    assert relative_error(gradient, numerical) < 1e-6
    with pytest.raises(InvalidParameterError, match=r"dropout.*\[0, 1\)"):
        VariationalAutoEncoder(dropout=(0.2, 1.0), hidden_layer_sizes=(4,)).fit(X)
    vae = VariationalAutoEncoder(
        n_components=2,
        hidden_layer_sizes=(5,),
        dropout=0.4,
        max_iter=3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        vae.fit(X)
    assert vae._build_objective().dropout.rates == {1: 0.4, 3: 0.4}


def regression(rng, n=60):
    X = rng.standard_normal((n, 5))
    return X, X[:, :2] @ [[1.0], [-2.0]] + 0.1 * rng.standard_normal((n, 1))


def fit(estimator, *data):
    with pytest.warns(ConvergenceWarning):
        return estimator.fit(*data)


def test_fits_are_reproducible_and_predictions_never_drop(rng):
    X, y = regression(rng)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(16, 8), dropout=0.3, max_iter=5, random_state=0
    )
    a, b = fit(clone(reg), X, y), fit(clone(reg), X, y)
    assert_array_equal(a._theta, b._theta)
    plain = fit(clone(reg).set_params(dropout=0.0), X, y)
    assert not np.allclose(a._theta, plain._theta)
    # no dropout at prediction: the network's plain forward pass, every time
    expected = X
    for layer, (W, b) in enumerate(zip(a.coefs_, a.intercepts_)):
        expected = expected @ W + b
        if layer < 2:
            expected = np.maximum(expected, 0)
    assert_allclose(a.predict(X), expected, rtol=1e-12)
    assert_array_equal(a.predict(X), a.predict(X))


def test_no_dropout_is_the_fit_without_it(rng):
    X, y = regression(rng)
    reg = MLPRegressorGD(hidden_layer_sizes=(6, 4), max_iter=5, random_state=0)
    for zero in (0.0, [0.0, 0.0], np.zeros(2)):
        assert_array_equal(
            fit(clone(reg).set_params(dropout=zero), X, y)._theta,
            fit(clone(reg), X, y)._theta,
        )


def test_validation_is_scored_without_dropout(rng):
    X, y = regression(rng)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,), dropout=0.5, max_iter=4, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y, X_val=X, y_val=y)
    objective = Objective(reg._network, SquaredError(), WeightDecay(reg.weight_decay))
    assert reg.validation_loss_curve_[-1] == pytest.approx(
        objective.value(reg._theta, X, y), rel=1e-12
    )
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X, y), rel=1e-12)


def test_chunked_batches_train_as_one(rng):
    X = rng.uniform(size=(40, 6))
    ae = AutoEncoder(
        n_components=3,
        hidden_layer_sizes=(5,),
        dropout=0.3,
        batch_size="full",
        solver="sgd",
        max_iter=5,
        random_state=0,
    )
    whole = fit(clone(ae), X)
    with sklearn.config_context(working_memory=0.0005):  # a few rows a chunk
        chunked = fit(clone(ae), X)
    assert_allclose(chunked._theta, whole._theta, rtol=1e-10, atol=1e-13)


def test_pretraining_stages_never_drop(digits01):
    X = digits01[:100]
    common = dict(
        solver="adam",
        hidden_layer_sizes=(16,),
        n_components=4,
        init="greedy",
        max_iter=3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        dropped = SparseAutoEncoder(dropout=0.5, **common).fit(X)
        plain = SparseAutoEncoder(**common).fit(X)
    assert dropped.pretrain_loss_curves_ == plain.pretrain_loss_curves_
    assert dropped.loss_curve_ != plain.loss_curve_


@pytest.mark.parametrize(
    ("dropout", "match"),
    [
        (1.0, RANGE),
        (-0.1, RANGE),
        (True, RANGE),
        ((0.1, "a"), RANGE),
        ((0.1, 0.2, 0.3), r"3 entries.*2 hidden layers"),
    ],
)
def test_bad_rates_are_refused_and_a_fitted_model_kept(dropout, match, rng):
    X, y = regression(rng)
    reg = fit(
        MLPRegressorGD(hidden_layer_sizes=(4, 3), max_iter=2, random_state=0), X, y
    )
    before = reg._theta.copy()
    reg.set_params(dropout=dropout)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)
    with pytest.raises(ValueError, match=match):
        reg.partial_fit(X, y)
    assert_array_equal(reg._theta, before)


def test_lbfgs_refuses_dropout_and_says_why(rng):
    X, y = regression(rng)
    clf = MLPClassifierGD(solver="lbfgs", dropout=0.2)
    with pytest.raises(ValueError, match="or .adam.: L-BFGS.s line search"):
        clf.fit(X, y.ravel() > 0)
    assert not hasattr(clf, "_theta")
