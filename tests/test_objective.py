"""The objective J(theta): value against the SPEC formula, gradient against FD."""

# License: BSD-3-Clause

import numpy as np
import pytest
from finite_differences import central_differences, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skae._math.activations import Softmax
from skae._math.losses import CategoricalCrossEntropy, CrossEntropy, SquaredError
from skae._math.network import Network
from skae._math.objective import Objective
from skae._math.penalties import KLSparsity, WeightDecay
from skae.activations import ACTIVATIONS, Identity, Sigmoid

RHO, BETA = 0.1, 0.7
N_SAMPLES = 6
N_FEATURES = 4
# hidden widths; the sparse (code) layer is the middle hidden layer
HIDDEN_SIZES = {"shallow": (3,), "deep": (5, 3, 4)}
# points where an activation is not differentiable (relu and prelu at 0,
# hardtanh at -1 and 1) or not twice differentiable (elu, softsign at 0)
KINKS = np.array([-1.0, 0.0, 1.0])
KINK_MARGIN = 1e-4
# (loss, output activation): the valid pairings
OUTPUTS = {
    "squared-identity": (SquaredError, Identity),
    "squared-sigmoid": (SquaredError, Sigmoid),
    "cross_entropy-sigmoid": (CrossEntropy, Sigmoid),
    "categorical-softmax": (CategoricalCrossEntropy, Softmax),
}
# a KL penalty only makes sense on activations in [0, 1], whose mean is a
# probability; every hidden activation is checked without sparsity, and the
# sparse case is checked with each [0, 1]-ranged activation (the sigmoid)
SPARSE_HIDDEN = sorted(
    name
    for name, cls in ACTIVATIONS.items()
    if 0 <= cls().output_range[0] and cls().output_range[1] <= 1
)
HIDDEN_CASES = [(name, False) for name in sorted(ACTIVATIONS)] + [
    (name, True) for name in SPARSE_HIDDEN
]


def build(hidden, output, architecture="deep", n_outputs=3, weight_decay=0.0, kl=True):
    """Network and objective of a case; ``kl`` switches the KL penalty on."""
    loss, output_activation = OUTPUTS[output]
    n_outputs = n_outputs_of(output, n_outputs)
    hidden_sizes = HIDDEN_SIZES[architecture]
    network = Network(
        (N_FEATURES, *hidden_sizes, n_outputs),
        ACTIVATIONS[hidden](),
        output_activation(),
    )
    sparse_layer = 1 + len(hidden_sizes) // 2
    objective = Objective(
        network,
        loss(),
        WeightDecay(weight_decay),
        KLSparsity(RHO, BETA) if kl else None,
        sparse_layer if kl else None,
    )
    return network, objective


def hidden_logits(network, theta, X):
    """Pre-activations of every hidden layer, computed layer by layer."""
    activations, _ = network.forward(theta, X)
    return [
        activations[layer] @ W + b
        for layer, (W, b) in enumerate(network.unflatten(theta)[:-1])
    ]


def draw_point(network, rng, n_samples=N_SAMPLES):
    """A generic ``(theta, X)``: Glorot draw plus noise, no pre-activation at a kink.

    Draws again from the same seeded generator until no hidden pre-activation
    lies within ``KINK_MARGIN`` of a kink, so the result is deterministic.
    """
    for _ in range(100):
        theta = network.initialize(
            np.random.RandomState(rng.integers(2**31)), np.float64
        )
        theta += 0.1 * rng.standard_normal(theta.shape)
        X = rng.standard_normal((n_samples, network.layer_sizes[0]))
        distance = min(
            (
                np.abs(Z[..., None] - KINKS).min()
                for Z in hidden_logits(network, theta, X)
            ),
            default=np.inf,  # no hidden layer, no kink
        )
        if distance > KINK_MARGIN:
            return theta, X
    raise AssertionError("no kink-free point found")


def n_outputs_of(output, n_outputs):
    """A softmax needs two outputs at least: of one, it is the constant 1."""
    return max(n_outputs, 2) if OUTPUTS[output][1] is Softmax else n_outputs


def draw_targets(output, n_outputs, rng, n_samples=N_SAMPLES):
    """Targets in [0, 1] for a sigmoid or softmax output (for the softmax,
    weights of the classes, not only one-hot rows), real-valued for an
    identity one."""
    n_outputs = n_outputs_of(output, n_outputs)
    if OUTPUTS[output][1] in (Sigmoid, Softmax):
        return rng.uniform(0, 1, (n_samples, n_outputs))
    return rng.standard_normal((n_samples, n_outputs))


def draw_weights(kind, rng, n_samples=N_SAMPLES):
    """None, positive integer weights or positive real weights."""
    if kind == "integer":
        return rng.integers(1, 4, n_samples)
    if kind == "real":
        return rng.uniform(0.2, 3.0, n_samples)
    return None


@pytest.mark.parametrize("architecture", sorted(HIDDEN_SIZES))
@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize(
    ("hidden", "kl"),
    HIDDEN_CASES,
    ids=[f"{name}-{'kl' if kl else 'nokl'}" for name, kl in HIDDEN_CASES],
)
def test_gradient_matches_finite_differences(
    hidden, kl, output, weight_decay, n_outputs, weights, architecture, rng
):
    network, objective = build(
        hidden, output, architecture, n_outputs, weight_decay, kl
    )
    theta, X = draw_point(network, rng)
    T = draw_targets(output, n_outputs, rng)
    sample_weight = draw_weights(weights, rng)

    def fun(theta):
        return objective.loss_and_gradient(theta, X, T, sample_weight)[0]

    loss, gradient = objective.loss_and_gradient(theta, X, T, sample_weight)
    numerical = central_differences(fun, theta)

    assert np.isfinite(loss)
    assert gradient.shape == theta.shape
    assert np.linalg.norm(numerical) > 1e-3  # a non-degenerate check
    assert relative_error(gradient, numerical) < 1e-6


def test_sparse_cases_are_covered():
    # the KL penalty is checked with at least the sigmoid
    assert "sigmoid" in SPARSE_HIDDEN


def spec_objective(network, theta, X, T, loss, weight_decay, sparse_layer, w):
    """J written out from the SPEC, from the network's forward activations."""
    activations, _ = network.forward(theta, X)
    Y = activations[-1]
    if loss is SquaredError:
        L = ((T - Y) ** 2).sum(axis=1)
    elif loss is CategoricalCrossEntropy:
        L = -(T * np.log(Y)).sum(axis=1)
    else:
        L = -(T * np.log(Y) + (1 - T) * np.log(1 - Y)).sum(axis=1)
    J = np.sum(w * L) / np.sum(w)
    J += weight_decay * sum(np.sum(W**2) for W, _ in network.unflatten(theta))
    if sparse_layer is not None:
        rho_hat = (w[:, None] * activations[sparse_layer]).sum(axis=0) / np.sum(w)
        kl = RHO * np.log(RHO / rho_hat) + (1 - RHO) * np.log((1 - RHO) / (1 - rho_hat))
        J += BETA * kl.sum()
    return J


@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("kl", [False, True])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_loss_matches_spec_formula(output, kl, weights, rng):
    network, objective = build("sigmoid", output, weight_decay=0.03, kl=kl)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    sample_weight = draw_weights(weights, rng)

    loss, _ = objective.loss_and_gradient(theta, X, T, sample_weight)

    w = np.ones(N_SAMPLES) if sample_weight is None else sample_weight
    expected = spec_objective(
        network,
        theta,
        X,
        T,
        OUTPUTS[output][0],
        0.03,
        objective.sparse_layer if kl else None,
        w,
    )
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kl", [False, True])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_sample_losses_match_spec_formula(output, kl, rng):
    network, objective = build("tanh", output, kl=kl)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    per_sample = objective.sample_losses(theta, X, T)
    # with unit weights and no penalty, J is the mean of the per-sample losses
    expected = spec_objective(
        network, theta, X, T, OUTPUTS[output][0], 0.0, None, np.ones(N_SAMPLES)
    )
    assert per_sample.shape == (N_SAMPLES,)
    assert per_sample.mean() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kl", [False, True])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_integer_weights_act_as_repeated_rows(output, kl, rng):
    network, objective = build("sigmoid", output, weight_decay=0.02, kl=kl)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    sample_weight = np.array([1, 3, 2, 1, 4, 2])

    loss, gradient = objective.loss_and_gradient(theta, X, T, sample_weight)
    loss_rep, gradient_rep = objective.loss_and_gradient(
        theta, np.repeat(X, sample_weight, axis=0), np.repeat(T, sample_weight, axis=0)
    )

    assert loss == pytest.approx(loss_rep, rel=1e-12)
    assert_allclose(gradient, gradient_rep, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_unit_weights_equal_no_weights(output, rng):
    network, objective = build("sigmoid", output, weight_decay=0.02)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    loss, gradient = objective.loss_and_gradient(theta, X, T)
    for w in (np.ones(N_SAMPLES), np.full(N_SAMPLES, 2.5)):
        loss_w, gradient_w = objective.loss_and_gradient(theta, X, T, w)
        assert loss_w == pytest.approx(loss, rel=1e-12)
        assert_allclose(gradient_w, gradient, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kl", [False, True])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_weight_decay_leaves_bias_gradients_alone(output, kl, rng):
    strength = 0.3
    network, plain = build("sigmoid", output, weight_decay=0.0, kl=kl)
    _, decayed = build("sigmoid", output, weight_decay=strength, kl=kl)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    sample_weight = draw_weights("real", rng)

    loss0, gradient0 = plain.loss_and_gradient(theta, X, T, sample_weight)
    loss1, gradient1 = decayed.loss_and_gradient(theta, X, T, sample_weight)

    layers = network.unflatten(theta)
    squared_norm = sum(np.sum(W**2) for W, _ in layers)
    assert loss1 - loss0 == pytest.approx(strength * squared_norm, rel=1e-10)
    for (W, _), (dW0, db0), (dW1, db1) in zip(
        layers, network.unflatten(gradient0), network.unflatten(gradient1)
    ):
        assert_array_equal(db1, db0)
        assert_allclose(dW1 - dW0, 2 * strength * W, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("kl", [False, True])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_float32_gradient(output, kl, weights, rng):
    network, objective = build("sigmoid", output, weight_decay=0.01, kl=kl)
    theta, X = draw_point(network, rng)
    T = draw_targets(output, 3, rng)
    sample_weight = draw_weights(weights, rng)

    loss64, gradient64 = objective.loss_and_gradient(theta, X, T, sample_weight)
    loss32, gradient32 = objective.loss_and_gradient(
        theta.astype(np.float32),
        X.astype(np.float32),
        T.astype(np.float32),
        sample_weight,
    )

    assert gradient32.dtype == np.float32
    assert np.isfinite(loss32)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert relative_error(gradient32.astype(np.float64), gradient64) < 1e-5


def sparse_data(rng, n_samples, n_features):
    """Non-negative data in [0, 1] with about half of the entries zero."""
    X = rng.uniform(0, 1, (n_samples, n_features))
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    return X


@pytest.mark.parametrize(
    ("hidden", "kl"), [("sigmoid", False), ("sigmoid", True), ("relu", False)]
)
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_sparse_input_matches_dense(output, hidden, kl, rng):
    network, objective = build(hidden, output, weight_decay=0.01, kl=kl)
    theta, _ = draw_point(network, rng)
    X = sparse_data(rng, 10, N_FEATURES)
    T = draw_targets(output, 3, rng, n_samples=10)
    sample_weight = rng.uniform(0.5, 2.0, 10)

    loss, gradient = objective.loss_and_gradient(theta, X, T, sample_weight)
    loss_csr, gradient_csr = objective.loss_and_gradient(
        theta, sparse.csr_matrix(X), T, sample_weight
    )

    assert loss_csr == pytest.approx(loss, rel=1e-12)
    assert_allclose(gradient_csr, gradient, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_sparse_autoencoder_targets_match_dense(output, dtype, rng):
    # an autoencoder's targets are its inputs: both sparse
    loss_cls, output_activation = OUTPUTS[output]
    network = Network((N_FEATURES, 3, N_FEATURES), Sigmoid(), output_activation())
    objective = Objective(
        network, loss_cls(), WeightDecay(0.01), KLSparsity(RHO, BETA), 1
    )
    theta = network.initialize(np.random.RandomState(0), dtype)
    X = sparse_data(rng, 10, N_FEATURES).astype(dtype)

    loss, gradient = objective.loss_and_gradient(theta, X, X)
    X_csr = sparse.csr_matrix(X)
    loss_csr, gradient_csr = objective.loss_and_gradient(theta, X_csr, X_csr)

    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert gradient_csr.dtype == dtype
    assert loss_csr == pytest.approx(loss, rel=rtol)
    assert_allclose(gradient_csr, gradient, rtol=rtol * 100, atol=rtol * 1e-2)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    hidden_sizes=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    n_features=st.integers(1, 4),
    n_outputs=st.integers(1, 3),
    n_samples=st.integers(1, 5),
    hidden=st.sampled_from(sorted(ACTIVATIONS)),
    output=st.sampled_from(sorted(OUTPUTS)),
    weight_decay=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_gradient_of_random_architectures(
    hidden_sizes,
    n_features,
    n_outputs,
    n_samples,
    hidden,
    output,
    weight_decay,
    seed,
):
    # any depth and width, down to single units, single samples and no hidden
    # layer, with KL sparsity on a middle sigmoid layer when there is one
    rng = np.random.default_rng(seed)
    loss, output_activation = OUTPUTS[output]
    n_outputs = n_outputs_of(output, n_outputs)
    kl = hidden == "sigmoid" and len(hidden_sizes) > 0
    network = Network(
        (n_features, *hidden_sizes, n_outputs),
        ACTIVATIONS[hidden](),
        output_activation(),
    )
    objective = Objective(
        network,
        loss(),
        WeightDecay(weight_decay),
        KLSparsity(RHO, BETA) if kl else None,
        1 + len(hidden_sizes) // 2 if kl else None,
    )
    theta, X = draw_point(network, rng, n_samples)
    T = draw_targets(output, n_outputs, rng, n_samples)
    sample_weight = draw_weights("real", rng, n_samples)

    def fun(theta):
        return objective.loss_and_gradient(theta, X, T, sample_weight)[0]

    _, gradient = objective.loss_and_gradient(theta, X, T, sample_weight)
    numerical = central_differences(fun, theta)
    scale = max(np.linalg.norm(numerical), 1e-3)  # gradients may vanish here
    assert np.linalg.norm(gradient - numerical) / scale < 1e-6


@pytest.mark.parametrize("architecture", [(5, 3, 5), (6, 4, 2, 4, 6)])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize(
    ("hidden", "kl"),
    HIDDEN_CASES,
    ids=[f"{name}-{'kl' if kl else 'nokl'}" for name, kl in HIDDEN_CASES],
)
@pytest.mark.parametrize("as_sparse", [False, True], ids=["dense", "csr"])
def test_tied_weights_gradient_matches_finite_differences(
    architecture, output, hidden, kl, as_sparse, rng
):
    # decoder layers use the transposed encoder weights: one parameter, two uses
    loss, output_activation = OUTPUTS[output]
    network = Network(
        architecture, ACTIVATIONS[hidden](), output_activation(), tied=True
    )
    code = len(architecture) // 2
    objective = Objective(
        network,
        loss(),
        WeightDecay(0.05),
        KLSparsity(RHO, BETA) if kl else None,
        code if kl else None,
    )
    theta, X = draw_point(network, rng)
    X = 1 / (1 + np.exp(-X))  # targets in [0, 1] for the cross-entropy
    X_input = sparse.csr_matrix(X) if as_sparse else X
    weights = draw_weights("real", rng)

    def fun(theta):
        return objective.loss_and_gradient(theta, X_input, X, weights)[0]

    _, gradient = objective.loss_and_gradient(theta, X_input, X, weights)
    assert relative_error(gradient, central_differences(fun, theta)) < 1e-6
    # the decoder's weights are views of the encoder's, transposed
    layers = network.unflatten(theta)
    for layer in range(code):
        W_encoder, W_decoder = layers[layer][0], layers[-1 - layer][0]
        assert np.shares_memory(W_encoder, W_decoder)
        assert_array_equal(W_decoder, W_encoder.T)


# -- chunked evaluation: the same J and gradient with the memory of a chunk ----

N_CHUNKED = 23  # chunks of 5 rows: four whole ones and a remainder of 3


def _chunked_pair(network, objective):
    """The objective computed whole and the same one in chunks of 5 rows."""
    whole = Objective(
        network,
        objective.loss,
        objective.weight_decay,
        objective.sparsity,
        objective.sparse_layer,
        chunk_rows=10**6,
    )
    chunked = Objective(
        network,
        objective.loss,
        objective.weight_decay,
        objective.sparsity,
        objective.sparse_layer,
        chunk_rows=5,
    )
    return whole, chunked


def _close(a, b):
    assert_allclose(a, b, rtol=1e-12, atol=1e-14 * np.abs(b).max(initial=1.0))


@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("hidden, kl", HIDDEN_CASES)
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_chunked_objective_equals_the_whole_batch(
    hidden, kl, output, weights, storage, rng
):
    network, objective = build(hidden, output, weight_decay=0.01, kl=kl)
    whole, chunked = _chunked_pair(network, objective)
    theta, X = draw_point(network, rng, n_samples=N_CHUNKED)
    T = draw_targets(output, 3, rng, n_samples=N_CHUNKED)
    w = draw_weights(weights, rng, n_samples=N_CHUNKED)
    if storage == "csr":
        X[np.abs(X) < 0.8] = 0.0
        X = sparse.csr_matrix(X)
    loss, gradient = whole.loss_and_gradient(theta, X, T, w)
    loss_chunked, gradient_chunked = chunked.loss_and_gradient(theta, X, T, w)
    assert loss_chunked == pytest.approx(loss, rel=1e-12)
    _close(gradient_chunked, gradient)
    assert chunked.value(theta, X, T, w) == pytest.approx(loss, rel=1e-12)
    _close(chunked.sample_losses(theta, X, T), whole.sample_losses(theta, X, T))


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("kl", [False, True])
def test_chunked_objective_with_tied_weights_and_sparse_targets(output, kl, rng):
    loss, output_activation = OUTPUTS[output]
    sizes = (N_FEATURES, 5, 3, 5, N_FEATURES)  # mirrored: an autoencoder
    network = Network(sizes, Sigmoid(), output_activation(), tied=True)
    objective = Objective(
        network,
        loss(),
        WeightDecay(0.01),
        KLSparsity(RHO, BETA) if kl else None,
        2 if kl else None,
    )
    whole, chunked = _chunked_pair(network, objective)
    theta = network.initialize(np.random.RandomState(0), np.float64)
    X = rng.uniform(0, 1, (N_CHUNKED, N_FEATURES))
    X[X < 0.5] = 0.0
    X = sparse.csr_matrix(X)  # the target is the sparse input itself
    loss_whole, gradient = whole.loss_and_gradient(theta, X, X)
    loss_chunked, gradient_chunked = chunked.loss_and_gradient(theta, X, X)
    assert loss_chunked == pytest.approx(loss_whole, rel=1e-12)
    _close(gradient_chunked, gradient)


def test_chunk_rows_follow_scikit_learns_working_memory():
    import sklearn

    from skae._math.objective import chunk_rows

    network = Network((100, 50, 10), Sigmoid(), Identity())
    row_bytes = 8 * (3 * (50 + 10) + 2 * 10)
    with sklearn.config_context(working_memory=1):
        assert chunk_rows(network, np.float64) == 2**20 // row_bytes
    assert chunk_rows(network, np.float32, working_memory=1) == 2**20 // (
        row_bytes // 2
    )
    assert chunk_rows(network, np.float64, working_memory=1e-9) == 1
