"""The core on other Array API namespaces: the same numbers as NumPy's, in the
input's namespace (array_api_strict, and PyTorch on the CPU where installed)."""

# License: BSD-3-Clause

import array_api_strict as xps
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skae._array_api import NUMPY, ArrayAPIOps, ops_for
from skae._losses import CrossEntropy, SquaredError
from skae._network import Network
from skae._objective import Objective
from skae._optimizers import SGD, Adam
from skae._penalties import KLSparsity, WeightDecay
from skae.activations import ACTIVATIONS, ELU, Identity, PReLU, Sigmoid

ACTIVATION_OBJECTS = [cls() for cls in ACTIVATIONS.values()] + [PReLU(0.1), ELU(0.5)]
IDS = [repr(activation) for activation in ACTIVATION_OBJECTS]


def _values(dtype, n=3000):
    # more than 2048 values: the sigmoid's large-array formula; fewer below
    rng = np.random.default_rng(0)
    z = rng.normal(scale=4.0, size=n)
    z[:6] = [-800.0, -50.0, 0.0, 1e-12, 50.0, 800.0]
    return z.astype(dtype)


def _to_numpy(x):
    return np.asarray(x)  # array_api_strict arrays support the buffer protocol


def test_ops_for_numpy_is_numpy_itself():
    assert ops_for(np.zeros(3)) is NUMPY
    assert NUMPY.multiply is np.multiply and NUMPY.matmul is np.matmul
    ops = ops_for(xps.asarray([1.0]))
    assert isinstance(ops, ArrayAPIOps) and ops is ops_for(xps.asarray([2.0]))


@pytest.mark.parametrize("n", [10, 3000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_OBJECTS, ids=IDS)
def test_activations_compute_in_the_inputs_namespace(activation, dtype, n):
    z = _values(dtype, n)
    expected_a = activation.forward(z)
    expected_d = activation.derivative(expected_a)
    z_xp = xps.asarray(z)
    a = activation.forward(z_xp)
    d = activation.derivative(a)
    for result, expected in ((a, expected_a), (d, expected_d)):
        assert type(result) is type(z_xp)
        assert result.dtype == z_xp.dtype
        rtol = 1e-6 if dtype == "float32" else 1e-14
        assert_allclose(_to_numpy(result), expected, rtol=rtol, atol=0)
    # the input is left as it was
    assert_allclose(_to_numpy(z_xp), z, rtol=0, atol=0)


@pytest.mark.parametrize("activation", ACTIVATION_OBJECTS, ids=IDS)
def test_activations_given_out_return_the_result_in_its_dtype(activation):
    # the core passes its NumPy buffers as ``out``: in another namespace the
    # result is a new array (of that dtype), and the core uses what is returned
    z = _values("float64", 50)
    z_xp = xps.asarray(z)
    a = activation.forward(z_xp, out=xps.empty_like(z_xp))
    d = activation.derivative(a, out=xps.empty_like(a))
    assert d.dtype == xps.float64
    assert_allclose(_to_numpy(a), activation.forward(z), rtol=1e-14)
    assert_allclose(
        _to_numpy(d), activation.derivative(activation.forward(z)), rtol=1e-14
    )


# -- the network and the objective ----------------------------------------------

OBJECTIVE_CASES = {
    # (layer sizes, hidden, output, loss, tied, kl)
    "regression-relu": ((5, 7, 2), "relu", Identity, SquaredError, False, False),
    "deep-tanh": ((5, 6, 4, 3), "tanh", Identity, SquaredError, False, False),
    "autoencoder-ce": ((5, 3, 5), "sigmoid", Sigmoid, CrossEntropy, False, False),
    "sparse-sigmoid": ((5, 3, 5), "sigmoid", Sigmoid, SquaredError, False, True),
    "tied-deep": ((5, 4, 2, 4, 5), "softplus", Identity, SquaredError, True, False),
    "one-output": ((5, 4, 1), "elu", Identity, SquaredError, False, False),
}


def _objective(case, chunk_rows=None):
    sizes, hidden, output, loss, tied, kl = OBJECTIVE_CASES[case]
    network = Network(sizes, ACTIVATIONS[hidden](), output(), tied=tied)
    return Objective(
        network,
        loss(),
        WeightDecay(1e-2),
        KLSparsity(0.1, 0.5) if kl else None,
        1 if kl else None,
        chunk_rows=chunk_rows,
    )


def _problem(objective, n_samples=11, seed=0):
    rng = np.random.default_rng(seed)
    network = objective.network
    theta = network.initialize(np.random.RandomState(seed), np.float64)
    theta += 0.1 * rng.normal(size=theta.shape)
    X = rng.uniform(size=(n_samples, network.layer_sizes[0]))
    T = rng.uniform(size=(n_samples, network.layer_sizes[-1]))
    if (
        objective.loss.name == "cross_entropy"
        or network.layer_sizes[0] == (network.layer_sizes[-1])
    ):
        T = X  # an autoencoder: the target is the input
    return theta, X, T


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("chunk_rows", [None, 4])
@pytest.mark.parametrize("case", OBJECTIVE_CASES)
def test_objective_computes_in_the_inputs_namespace(case, chunk_rows, weighted):
    objective = _objective(case, chunk_rows)
    theta, X, T = _problem(objective)
    weights = np.linspace(0.5, 2.0, len(X)) if weighted else None
    loss, gradient = objective.loss_and_gradient(theta, X, T, weights)

    as_xp = xps.asarray
    X_xp = as_xp(X)
    T_xp = X_xp if T is X else as_xp(T)
    weights_xp = None if weights is None else as_xp(weights)
    loss_xp, gradient_xp = objective.loss_and_gradient(
        as_xp(theta), X_xp, T_xp, weights_xp
    )
    assert type(gradient_xp) is type(X_xp) and gradient_xp.dtype == xps.float64
    assert loss_xp == pytest.approx(loss, rel=1e-13)
    assert_allclose(np.asarray(gradient_xp), gradient, rtol=1e-12, atol=1e-15)
    value = objective.value(as_xp(theta), X_xp, T_xp, weights_xp)
    assert value == pytest.approx(loss, rel=1e-13)
    losses = objective.sample_losses(as_xp(theta), X_xp, T_xp)
    assert_allclose(
        np.asarray(losses), objective.sample_losses(theta, X, T), rtol=1e-13
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1, momentum=0.0),
        lambda: SGD(0.1, momentum=0.9, nesterov=False),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: Adam(0.01),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_solver_steps_compute_in_the_parameters_namespace(make):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=20)
    gradients = rng.normal(size=(3, 20))
    ours, theirs = make(), make()
    theta_xp = xps.asarray(theta)  # a copy: updated in place like theta
    for gradient in gradients:
        ours.step(theta, gradient)
        theirs.step(theta_xp, xps.asarray(gradient))
    assert type(theta_xp) is type(xps.asarray(0.0))
    assert_allclose(np.asarray(theta_xp), theta, rtol=1e-14, atol=1e-15)
