"""Network: parameter layout, initialisation, forward and backward passes."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skae._math.network import Network
from skae.activations import Identity, ReLU, Sigmoid, Tanh

LAYER_SIZES = [(3, 2), (4, 3, 2), (5, 4, 3, 4, 5), (6, 8, 1)]


def make_network(layer_sizes, hidden=None, output=None):
    return Network(layer_sizes, hidden or Tanh(), output or Identity())


def generic_theta(network, rng):
    """Parameters with non-zero biases, in float64."""
    theta = network.initialize(np.random.RandomState(0), np.float64)
    theta += 0.1 * rng.standard_normal(theta.shape)
    return theta


@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_n_params(layer_sizes):
    network = make_network(layer_sizes)
    expected = sum(
        (n_in + 1) * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])
    )
    assert network.n_params == expected
    assert network.n_layers == len(layer_sizes) - 1
    assert network.layer_sizes == tuple(layer_sizes)


@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_unflatten_shapes_and_layout(layer_sizes):
    network = make_network(layer_sizes)
    theta = np.arange(network.n_params, dtype=np.float64)
    layers = network.unflatten(theta)
    assert len(layers) == network.n_layers
    for (W, b), n_in, n_out in zip(layers, layer_sizes[:-1], layer_sizes[1:]):
        assert W.shape == (n_in, n_out)
        assert b.shape == (n_out,)
    # laid out as W_0, W_1, ..., b_0, b_1, ... with W in row-major order
    pieces = [W.ravel() for W, _ in layers] + [b for _, b in layers]
    assert_array_equal(np.concatenate(pieces), theta)
    assert_array_equal(
        network.flat_weights(theta), np.concatenate(pieces[: len(layers)])
    )
    weights = network.weights(theta)
    assert len(weights) == network.n_layers
    for W, (W_layer, _) in zip(weights, layers):
        assert_array_equal(W, W_layer)


@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_unflatten_returns_views(layer_sizes):
    network = make_network(layer_sizes)
    theta = np.zeros(network.n_params)
    for layer, (W, b) in enumerate(network.unflatten(theta)):
        W[...] = layer + 1
        b[...] = -(layer + 1)
    # every entry of theta was reached through the views
    assert np.all(theta != 0)
    for layer, (W, b) in enumerate(network.unflatten(theta)):
        assert np.all(W == layer + 1)
        assert np.all(b == -(layer + 1))
    # and writing into theta shows through the views
    theta[:] = 7.0
    for W in network.weights(theta):
        assert np.shares_memory(W, theta)
        assert np.all(W == 7.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_initialize(layer_sizes, dtype):
    network = make_network(layer_sizes)
    theta = network.initialize(np.random.RandomState(42), dtype)
    assert theta.dtype == dtype
    assert theta.shape == (network.n_params,)
    # same seed, same draw; another seed, another draw
    assert_array_equal(network.initialize(np.random.RandomState(42), dtype), theta)
    other = network.initialize(np.random.RandomState(43), dtype)
    assert not np.array_equal(other, theta)
    for W, b in network.unflatten(theta):
        bound = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
        assert_array_equal(b, 0)
        assert np.all(np.abs(W) <= bound)
        assert np.all(W != 0)


def test_initialize_spreads_over_the_glorot_range():
    network = make_network((200, 100, 50))
    theta = network.initialize(np.random.RandomState(0), np.float64)
    for W in network.weights(theta):
        bound = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
        # a uniform draw on [-bound, bound]: extremes near the bound, mean near 0,
        # variance bound^2 / 3 = 2 / (fan_in + fan_out)
        assert np.abs(W).max() > 0.99 * bound
        assert abs(W.mean()) < 0.05 * bound
        assert W.var() == pytest.approx(bound**2 / 3, rel=0.05)


@pytest.mark.parametrize("output", [Identity(), Sigmoid()])
@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_forward_matches_layer_by_layer_formula(layer_sizes, output, rng):
    network = make_network(layer_sizes, ReLU(), output)
    theta = generic_theta(network, rng)
    X = rng.standard_normal((7, layer_sizes[0]))

    activations, logits = network.forward(theta, X)

    assert len(activations) == network.n_layers + 1
    assert activations[0] is X
    A = X
    for layer, (W, b) in enumerate(network.unflatten(theta)):
        Z = A @ W + b
        last = layer == network.n_layers - 1
        A = output.forward(Z) if last else np.maximum(Z, 0)
        assert_allclose(activations[layer + 1], A, rtol=1e-12, atol=1e-14)
    assert_allclose(logits, Z, rtol=1e-12, atol=1e-14)
    assert activations[-1].shape == (7, layer_sizes[-1])


@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_forward_start_stop_composes(layer_sizes, rng):
    network = make_network(layer_sizes, Sigmoid(), Identity())
    theta = generic_theta(network, rng)
    X = rng.standard_normal((5, layer_sizes[0]))
    full, full_logits = network.forward(theta, X)
    for split in range(network.n_layers + 1):
        encoded, _ = network.forward(theta, X, stop=split)
        decoded, logits = network.forward(theta, encoded[-1], start=split)
        assert len(encoded) == split + 1
        assert len(decoded) == network.n_layers - split + 1
        assert_allclose(encoded[-1], full[split], rtol=1e-12, atol=1e-14)
        for mine, theirs in zip(encoded + decoded[1:], full):
            assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
        if split < network.n_layers:
            assert_allclose(logits, full_logits, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_forward_on_csr_equals_dense(layer_sizes, dtype, rng):
    network = make_network(layer_sizes, Tanh(), Sigmoid())
    theta = generic_theta(network, rng).astype(dtype)
    X = rng.uniform(0, 1, (8, layer_sizes[0]))
    X[rng.uniform(size=X.shape) < 0.6] = 0.0
    X = X.astype(dtype)

    dense, dense_logits = network.forward(theta, X)
    csr, csr_logits = network.forward(theta, sparse.csr_matrix(X))

    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for mine, theirs in zip(csr[1:], dense[1:]):
        assert isinstance(mine, np.ndarray)
        assert mine.dtype == dtype
        assert_allclose(mine, theirs, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(csr_logits, dense_logits, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("csr", [False, True])
@pytest.mark.parametrize("layer_sizes", LAYER_SIZES)
def test_backward_fills_whole_gradient(layer_sizes, csr, rng):
    network = make_network(layer_sizes, Tanh(), Identity())
    theta = generic_theta(network, rng)
    X = rng.standard_normal((6, layer_sizes[0]))
    X_in = sparse.csr_matrix(X) if csr else X
    activations, _ = network.forward(theta, X_in)
    output_delta = rng.standard_normal(activations[-1].shape)
    gradient = np.full(network.n_params, np.nan)

    network.backward(theta, activations, output_delta.copy(), gradient)

    assert np.all(np.isfinite(gradient))
    assert np.all(gradient != 0)
    # the last layer's gradient is A_{L-1}^T delta and the column sums of delta
    dW, db = network.unflatten(gradient)[-1]
    assert_allclose(dW, activations[-2].T @ output_delta, rtol=1e-12)
    assert_allclose(db, output_delta.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("layer_sizes", [(4, 3, 2), (5, 4, 3, 4, 5)])
def test_backward_is_the_chain_rule(layer_sizes, rng):
    # backward of delta is the gradient of sum(delta * Z_L), a linear functional
    # of the output logits, by central differences
    network = make_network(layer_sizes, Tanh(), Identity())
    theta = generic_theta(network, rng)
    X = rng.standard_normal((6, layer_sizes[0]))
    output_delta = rng.standard_normal((6, layer_sizes[-1]))
    activations, _ = network.forward(theta, X)
    gradient = np.empty(network.n_params)
    network.backward(theta, activations, output_delta.copy(), gradient)

    h = 1e-6
    numerical = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        plus = np.sum(output_delta * network.forward(theta + step, X)[1])
        minus = np.sum(output_delta * network.forward(theta - step, X)[1])
        numerical[k] = (plus - minus) / (2 * h)
    error = np.linalg.norm(gradient - numerical) / np.linalg.norm(gradient + numerical)
    assert error < 1e-7
