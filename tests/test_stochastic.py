"""A variational autoencoder's stochastic layer in the core: the reparameterised
draw, the KL term, and the objective's gradient against finite differences."""

# License: BSD-3-Clause

import array_api_strict as xps
import numpy as np
import pytest
import sklearn
from finite_differences import central_differences, relative_error
from numpy.testing import assert_allclose
from scipy import sparse

from skae._math.losses import CrossEntropy, SquaredError
from skae._math.network import Network
from skae._math.objective import Objective
from skae._math.penalties import GaussianKL, WeightDecay
from skae._math.stochastic import GaussianDraw, GaussianNoise
from skae.activations import ACTIVATIONS, Identity, Sigmoid

N_SAMPLES, N_FEATURES, K = 6, 4, 2
# encoder and decoder hidden widths around the stochastic layer of 2K units
ARCHITECTURES = {"shallow": ((), ()), "deep": ((5,), (3,))}
# the decoder's likelihood: Gaussian (squared error) or Bernoulli (cross-entropy)
LIKELIHOODS = {
    "gaussian": (SquaredError, Identity),
    "bernoulli": (CrossEntropy, Sigmoid),
}
# (beta, weight decay, sample weights)
PENALTIES = [(1.0, 0.0, None), (2.5, 0.05, "real"), (0.5, 0.0, "integer")]
KINKS = np.array([-1.0, 0.0, 1.0])


def build(hidden, likelihood, architecture, beta=1.0, weight_decay=0.0, seed=0):
    """A VAE's network and objective with a fixed noise stream."""
    loss, output = LIKELIHOODS[likelihood]
    encoder, decoder = ARCHITECTURES[architecture]
    p = 1 + len(encoder)
    network = Network(
        (N_FEATURES, *encoder, 2 * K, *decoder, N_FEATURES),
        ACTIVATIONS[hidden](),
        output(),
        stochastic=p,
    )
    objective = Objective(
        network,
        loss(),
        WeightDecay(weight_decay),
        latent_kl=GaussianKL(beta),
        latent_noise=GaussianNoise(seed, fixed=True),
    )
    return network, objective


def by_formula(network, theta, X, eps):
    """The forward pass written out: output, ``[mu | log sigma^2]`` and the
    pre-activations of every layer."""
    A, pre, H = X, [], None
    for layer, (W, b) in enumerate(network.unflatten(theta)):
        if layer == network.stochastic:
            H = A
            A = H[:, :K] + np.exp(H[:, K:] / 2) * eps
        Z = A @ W + b
        pre.append(Z)
        A = network.activation(layer).forward(Z.copy())
    return A, H, pre


def objective_by_formula(network, theta, X, eps, likelihood, beta, decay, w):
    """J from the issue's formula: the weighted mean of the reconstruction loss
    plus beta KL, plus the weight decay."""
    Y, H, _ = by_formula(network, theta, X, eps)
    if likelihood == "gaussian":
        L = ((X - Y) ** 2).sum(axis=1)
    else:
        L = -(X * np.log(Y) + (1 - X) * np.log(1 - Y)).sum(axis=1)
    mu, log_variance = H[:, :K], H[:, K:]
    kl = 0.5 * (mu**2 + np.exp(log_variance) - 1 - log_variance).sum(axis=1)
    w = np.ones(len(X)) if w is None else w
    J = np.sum(w * (L + beta * kl)) / np.sum(w)
    return J + decay * sum(np.sum(W**2) for W, _ in network.unflatten(theta))


def draw_case(network, likelihood, rng, n_samples=N_SAMPLES):
    """Parameters, inputs and the noise the fixed stream gives their rows, with
    no pre-activation near a kink of an activation."""
    eps = GaussianNoise(0, fixed=True).draw(n_samples, K, np.zeros(1))
    for _ in range(100):
        theta = network.initialize(np.random.RandomState(rng.integers(2**31)), float)
        theta += 0.1 * rng.standard_normal(theta.shape)
        X = rng.uniform(0.05, 0.95, (n_samples, N_FEATURES))
        if likelihood == "gaussian":
            X = rng.standard_normal((n_samples, N_FEATURES))
        _, _, pre = by_formula(network, theta, X, eps)
        if min(np.abs(Z[..., None] - KINKS).min() for Z in pre[:-1]) > 1e-4:
            return theta, X, eps
    raise AssertionError("no kink-free point found")


def draw_weights(kind, rng, n_samples=N_SAMPLES):
    if kind == "integer":
        return rng.integers(1, 4, n_samples)
    if kind == "real":
        return rng.uniform(0.2, 3.0, n_samples)
    return None


@pytest.mark.parametrize(("beta", "decay", "weights"), PENALTIES)
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_gradient_with_the_noise_held_fixed_matches_finite_differences(
    hidden, likelihood, architecture, beta, decay, weights, rng
):
    network, objective = build(hidden, likelihood, architecture, beta, decay)
    theta, X, eps = draw_case(network, likelihood, rng)
    w = draw_weights(weights, rng)

    def fun(theta):
        return objective.loss_and_gradient(theta, X, X, w)[0]

    loss, gradient = objective.loss_and_gradient(theta, X, X, w)
    numerical = central_differences(fun, theta)
    expected = objective_by_formula(network, theta, X, eps, likelihood, beta, decay, w)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert objective.value(theta, X, X, w) == pytest.approx(loss, rel=1e-14)
    assert np.linalg.norm(numerical) > 1e-3
    assert relative_error(gradient, numerical) < 1e-6


@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
def test_the_kl_term_has_a_gradient_and_beta_scales_it(likelihood, rng):
    network, with_kl = build("tanh", likelihood, "deep", beta=1.0)
    _, without = build("tanh", likelihood, "deep", beta=0.0)
    _, doubled = build("tanh", likelihood, "deep", beta=2.0)
    theta, X, _ = draw_case(network, likelihood, rng)
    J0, g0 = without.loss_and_gradient(theta, X, X)
    J1, g1 = with_kl.loss_and_gradient(theta, X, X)
    J2, g2 = doubled.loss_and_gradient(theta, X, X)
    assert J1 > J0 and np.linalg.norm(g1 - g0) > 1e-3  # the KL term acts
    assert_allclose(J2 - J0, 2 * (J1 - J0), rtol=1e-12)
    assert_allclose(g2 - g0, 2 * (g1 - g0), rtol=1e-9, atol=1e-14)


def test_the_kl_term_is_exact_where_the_variance_is_near_one():
    # sigma^2 - 1 - log sigma^2 cancels near log sigma^2 = 0: expm1 keeps it
    s = np.array([[0.0, 0.0, 1e-9, -1e-7], [0.0, 0.0, 0.5, -3.0]])
    kl = GaussianKL(1.0).sample_values(s)
    exact = 0.5 * np.array(
        [1e-18 / 2 + 1e-14 / 2, np.expm1(0.5) - 0.5 + np.expm1(-3) + 3]
    )
    assert_allclose(kl, exact, rtol=1e-6)
    assert GaussianKL(1.0).sample_values(np.zeros((3, 4))).tolist() == [0, 0, 0]


def test_the_noise_restarts_for_a_fixed_stream_and_goes_on_otherwise(rng):
    like = np.zeros(1)
    fixed, fresh = GaussianNoise(3, fixed=True), GaussianNoise(3, fixed=False)
    first = [fixed.draw(4, K, like), fresh.draw(4, K, like)]
    fixed.restart(), fresh.restart()
    assert np.array_equal(fixed.draw(4, K, like), first[0])
    assert not np.array_equal(fresh.draw(4, K, like), first[1])
    # drawn in chunks of rows, a stream gives the rows what one draw gives
    fixed.restart()
    chunks = np.vstack([fixed.draw(n, K, like) for n in (1, 2, 1)])
    assert np.array_equal(chunks, first[0])
    # a float32 evaluation gets the float64 noise, rounded
    fixed.restart()
    eps32 = fixed.draw(4, K, np.zeros(1, np.float32))
    assert eps32.dtype == np.float32
    assert np.array_equal(eps32, first[0].astype(np.float32))


@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
def test_chunked_evaluation_is_the_whole_batchs(likelihood, rng):
    network, whole = build("sigmoid", likelihood, "deep", beta=1.3, weight_decay=0.01)
    _, chunked = build("sigmoid", likelihood, "deep", beta=1.3, weight_decay=0.01)
    chunked.chunk_rows = 2
    theta, X, _ = draw_case(network, likelihood, rng, n_samples=7)
    w = rng.uniform(0.5, 2.0, 7)
    J, gradient = whole.loss_and_gradient(theta, X, X, w)
    J_chunked, gradient_chunked = chunked.loss_and_gradient(theta, X, X, w)
    assert J_chunked == pytest.approx(J, rel=1e-13)
    assert_allclose(gradient_chunked, gradient, rtol=1e-11, atol=1e-15)
    assert chunked.value(theta, X, X, w) == pytest.approx(J, rel=1e-13)


@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
def test_float32_and_sparse_input(likelihood, rng):
    network, objective = build("tanh", likelihood, "deep", beta=1.0, weight_decay=0.01)
    theta, X, _ = draw_case(network, likelihood, rng, n_samples=10)
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    w = rng.uniform(0.5, 2.0, 10)
    J, gradient = objective.loss_and_gradient(theta, X, X, w)
    Xs = sparse.csr_matrix(X)
    J_sparse, gradient_sparse = objective.loss_and_gradient(theta, Xs, Xs, w)
    assert J_sparse == pytest.approx(J, rel=1e-13)
    assert_allclose(gradient_sparse, gradient, rtol=1e-10, atol=1e-14)
    X32 = X.astype(np.float32)
    J32, gradient32 = objective.loss_and_gradient(theta.astype(np.float32), X32, X32, w)
    assert gradient32.dtype == np.float32
    assert J32 == pytest.approx(J, rel=1e-5)
    assert relative_error(gradient32.astype(float), gradient) < 1e-5


def test_without_noise_the_mean_is_passed_on(rng):
    network, objective = build("relu", "gaussian", "deep")
    theta, X, _ = draw_case(network, "gaussian", rng)
    Y, H, _ = by_formula(network, theta, X, np.zeros((len(X), K)))
    activations, _ = network.forward(theta, X)
    assert_allclose(activations[-1], Y, rtol=1e-13)
    assert_allclose(activations[network.stochastic], H, rtol=1e-13)
    # the encoder alone gives [mu | log sigma^2]; the decoder alone takes z
    code, _ = network.forward(theta, X, stop=network.stochastic)
    decoded, _ = network.forward(theta, H[:, :K], start=network.stochastic)
    assert_allclose(code[-1], H, rtol=1e-13)
    assert_allclose(decoded[-1], Y, rtol=1e-13)
    # and the gradient without a draw is the gradient through the mean
    objective.latent_noise = None
    _, gradient = objective.loss_and_gradient(theta, X, X)
    numerical = central_differences(lambda t: objective.value(t, X, X), theta)
    assert relative_error(gradient, numerical) < 1e-6


def test_the_draw_is_the_reparameterisation(rng):
    H = rng.standard_normal((5, 2 * K))
    eps = rng.standard_normal((5, K))
    draw = GaussianDraw(eps)
    assert_allclose(draw.forward(H), H[:, :K] + np.exp(H[:, K:] / 2) * eps)
    dz = rng.standard_normal((5, K))
    expected = np.hstack([dz, dz * eps * np.exp(H[:, K:] / 2) / 2])
    assert_allclose(draw.backward(dz), expected, rtol=1e-14)


@pytest.mark.parametrize(
    ("sizes", "tied", "stochastic"),
    [((4, 3, 4), False, 1), ((4, 4, 4), True, 1), ((4, 4, 4), False, 0)],
)
def test_a_stochastic_layer_is_an_untied_hidden_layer_of_even_width(
    sizes, tied, stochastic
):
    with pytest.raises(ValueError, match="stochastic layer is a hidden layer"):
        Network(sizes, Sigmoid(), Identity(), tied=tied, stochastic=stochastic)


def test_the_objective_in_another_namespace_is_numpys(rng):
    network, objective = build("elu", "bernoulli", "deep", beta=1.5, weight_decay=0.01)
    theta, X, _ = draw_case(network, "bernoulli", rng)
    J, gradient = objective.loss_and_gradient(theta, X, X)
    with sklearn.config_context(array_api_dispatch=True):
        X_strict = xps.asarray(X)
        J_strict, gradient_strict = objective.loss_and_gradient(
            xps.asarray(theta), X_strict, X_strict
        )
    assert J_strict == pytest.approx(J, rel=1e-12)
    assert_allclose(np.asarray(gradient_strict), gradient, rtol=1e-10, atol=1e-14)
