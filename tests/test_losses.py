"""Per-sample losses: value, gradient and output delta against the SPEC formulas."""

# License: BSD-3-Clause

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logit

from skae._math.activations import Softmax
from skae._math.losses import (
    LOSSES,
    CategoricalCrossEntropy,
    CrossEntropy,
    SquaredError,
)
from skae.activations import ACTIVATIONS, Identity, Sigmoid, Softplus, Tanh

DTYPES = [np.float32, np.float64]
N_OUTPUTS = [1, 4]
N_SAMPLES = 5


@contextmanager
def _floating_point_errors_raise():
    """Turn every warning and every overflow / invalid / divide into an error.

    Underflow is left alone: exp(-1e4) rounding to 0 is the correct result.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _numerical_gradient(fun, X, h=1e-6):
    """Central differences of ``fun(X).sum()`` with respect to each entry of X.

    The per-sample losses depend on their own row only, so entry (i, k) of the
    result is d L_i / d X_ik.
    """
    grad = np.empty_like(X)
    for idx in np.ndindex(X.shape):
        step = np.zeros_like(X)
        step[idx] = h
        grad[idx] = (fun(X + step).sum() - fun(X - step).sum()) / (2 * h)
    return grad


def _targets(rng, n_outputs):
    """Targets in [0, 1]: soft values and exact 0 / 1."""
    T = rng.uniform(0, 1, size=(N_SAMPLES, n_outputs))
    T[0] = 0.0
    T[-1] = 1.0
    return T


def test_registry_holds_both_losses():
    assert set(LOSSES) == {
        "squared_error",
        "cross_entropy",
        "categorical_cross_entropy",
    }
    assert LOSSES["squared_error"] is SquaredError
    assert LOSSES["cross_entropy"] is CrossEntropy
    assert LOSSES["categorical_cross_entropy"] is CategoricalCrossEntropy
    for name, cls in LOSSES.items():
        assert cls.name == name


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_squared_error_value(n_outputs, rng):
    T = rng.normal(size=(N_SAMPLES, n_outputs))
    Y = rng.normal(size=(N_SAMPLES, n_outputs))
    value = SquaredError().value(T, Y, Y)
    assert value.shape == (N_SAMPLES,)
    expected = [
        sum((T[i, k] - Y[i, k]) ** 2 for k in range(n_outputs))
        for i in range(N_SAMPLES)
    ]
    assert_allclose(value, expected, rtol=1e-12)
    assert_array_equal(SquaredError().value(T, T, T), np.zeros(N_SAMPLES))


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_cross_entropy_value(n_outputs, rng):
    T = _targets(rng, n_outputs)
    Z = rng.normal(scale=3.0, size=(N_SAMPLES, n_outputs))
    Y = _sigmoid(Z)
    value = CrossEntropy().value(T, Y, Z)
    assert value.shape == (N_SAMPLES,)
    expected = -np.sum(T * np.log(Y) + (1 - T) * np.log(1 - Y), axis=1)
    assert_allclose(value, expected, rtol=1e-10)
    assert np.all(value > 0)


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_squared_error_gradient_matches_finite_differences(n_outputs, rng):
    loss = SquaredError()
    T = rng.normal(size=(N_SAMPLES, n_outputs))
    Y = rng.normal(size=(N_SAMPLES, n_outputs))
    numerical = _numerical_gradient(lambda Y: loss.value(T, Y, Y), Y)
    assert_allclose(loss.gradient(T, Y), numerical, rtol=1e-6, atol=1e-8)
    assert_allclose(loss.gradient(T, Y), 2 * (Y - T), rtol=1e-12)


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_cross_entropy_gradient_matches_finite_differences(n_outputs, rng):
    loss = CrossEntropy()
    T = _targets(rng, n_outputs)
    Y = rng.uniform(0.05, 0.95, size=(N_SAMPLES, n_outputs))
    # the value is computed from the logits: pass the ones of the perturbed Y
    numerical = _numerical_gradient(lambda Y: loss.value(T, Y, logit(Y)), Y)
    assert_allclose(loss.gradient(T, Y), numerical, rtol=1e-6, atol=1e-8)
    assert_allclose(loss.gradient(T, Y), (Y - T) / (Y * (1 - Y)), rtol=1e-12)


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
@pytest.mark.parametrize(
    "loss, output",
    [
        (SquaredError(), Identity()),
        (SquaredError(), Sigmoid()),
        (SquaredError(), Tanh()),
        (SquaredError(), Softplus()),
        (CrossEntropy(), Sigmoid()),
        (CategoricalCrossEntropy(), Softmax()),
    ],
    ids=lambda obj: type(obj).__name__,
)
def test_output_delta_matches_finite_differences_in_z(loss, output, n_outputs, rng):
    T = _targets(rng, n_outputs)
    Z = rng.normal(scale=2.0, size=(N_SAMPLES, n_outputs))
    delta = loss.output_delta(T, output.forward(Z), Z, output)
    assert delta.shape == Z.shape
    numerical = _numerical_gradient(lambda Z: loss.value(T, output.forward(Z), Z), Z)
    assert_allclose(delta, numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_identity_squared_error_delta_is_fused_chain_rule(n_outputs, rng):
    loss, output = SquaredError(), Identity()
    T = rng.normal(size=(N_SAMPLES, n_outputs))
    Z = rng.normal(size=(N_SAMPLES, n_outputs))
    Y = output.forward(Z)
    delta = loss.output_delta(T, Y, Z, output)
    assert_allclose(delta, 2 * (Y - T), rtol=1e-12)
    assert_allclose(delta, loss.gradient(T, Y) * output.derivative(Y), rtol=1e-12)


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_sigmoid_cross_entropy_delta_is_fused_chain_rule(n_outputs, rng):
    loss, output = CrossEntropy(), Sigmoid()
    T = _targets(rng, n_outputs)
    # not saturated: the chain rule dL/dy * sigmoid'(z) is finite and accurate
    Z = rng.uniform(-5, 5, size=(N_SAMPLES, n_outputs))
    Y = output.forward(Z)
    delta = loss.output_delta(T, Y, Z, output)
    assert_allclose(delta, Y - T, rtol=1e-12)
    assert_allclose(
        delta, loss.gradient(T, Y) * output.derivative(Y), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("n_outputs", N_OUTPUTS)
def test_sigmoid_squared_error_delta(n_outputs, rng):
    loss, output = SquaredError(), Sigmoid()
    T = _targets(rng, n_outputs)
    Z = rng.normal(scale=2.0, size=(N_SAMPLES, n_outputs))
    Y = output.forward(Z)
    delta = loss.output_delta(T, Y, Z, output)
    assert_allclose(delta, 2 * (Y - T) * Y * (1 - Y), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_finite_for_saturated_logits(dtype):
    loss, output = CrossEntropy(), Sigmoid()
    T = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype=dtype)
    Z = np.array([[1e4, -1e4], [1e4, -1e4], [1e4, -1e4]], dtype=dtype)
    with _floating_point_errors_raise():
        Y = output.forward(Z)
        value = loss.value(T, Y, Z)
        delta = loss.output_delta(T, Y, Z, output)
    # the sigmoid saturates to exactly 0 and 1, so the naive formula takes log(0)
    assert_array_equal(Y, [[1, 0], [1, 0], [1, 0]])
    with np.errstate(all="ignore"):
        naive = -np.sum(T * np.log(Y) + (1 - T) * np.log(1 - Y), axis=1)
    assert not np.all(np.isfinite(naive))
    # -log sigmoid(z) -> max(-z, 0) and -log(1 - sigmoid(z)) -> max(z, 0)
    assert np.all(np.isfinite(value))
    assert_allclose(value, [0.0, 2e4, 1e4], rtol=1e-6)
    assert np.all(np.isfinite(delta))
    assert_array_equal(delta, Y - T)


def _exact_cross_entropy(T, Z):
    """Per-entry ``softplus(z) - t z`` from NumPy's ``logaddexp`` (a few ulps
    of each entry), and the rows and the total summed without rounding."""
    entries = np.logaddexp(0.0, Z) - T * Z
    return [math.fsum(row) for row in entries], math.fsum(entries.ravel())


def test_cross_entropy_is_exact_to_ulps_of_one_per_entry(rng):
    # logits over the whole range: both tails of the sigmoid, where it rounds
    # to 0 and to 1, the middle, and values at the edge of exp's range
    Z = rng.normal(scale=8.0, size=(600, 7))
    Z[:, 0] = rng.choice([-800.0, -745.0, -40.0, -1e-300, 0.0, 37.0, 710.0], 600)
    T = rng.uniform(0, 1, size=Z.shape)
    T[::2] = np.round(T[::2])
    output, loss = Sigmoid(), CrossEntropy()
    with _floating_point_errors_raise():
        Y = output.forward(Z)
        rows = loss.value(T, Y, Z)
        total, _ = loss.loss_and_delta(T, Y, Z, output, 1.0)
    exact_rows, exact_total = _exact_cross_entropy(T, Z)
    # within a few units of 1e-16 per entry, and of the terms' rounding
    scale = np.finfo(np.float64).eps * (np.abs(Z) + 1)
    assert np.all(np.abs(rows - exact_rows) <= 4 * scale.sum(axis=1))
    assert abs(total - exact_total) <= 4 * scale.sum()


@pytest.mark.parametrize("dtype, n", [(np.float64, 2500), (np.float32, 300)])
def test_cross_entropy_sums_logs_in_blocks_that_cannot_underflow(dtype, n):
    # at z = 0 each entry is log 2: 2500 factors of 1/2 (300 in float32)
    # multiply to below the smallest normal number, so the log of one product
    # would be -inf; the loss takes products of blocks short enough
    output, loss = Sigmoid(), CrossEntropy()
    for shape in [(n, 2), (2, n)]:  # the total, and a loss per row
        Z = np.zeros(shape, dtype=dtype)
        T = np.full(shape, 0.5, dtype=dtype)
        Y = output.forward(Z)
        total, _ = loss.loss_and_delta(T, Y, Z, output, 1.0)
        rows = loss.value(T, Y, Z)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        assert_allclose(total, Z.size * np.log(2), rtol=rtol)
        assert_allclose(rows, shape[1] * np.log(2), rtol=rtol)


@pytest.mark.parametrize("n_classes", [2, 5])
def test_categorical_cross_entropy_value_and_delta(n_classes, rng):
    loss, output = CategoricalCrossEntropy(), Softmax()
    Z = rng.normal(scale=3.0, size=(N_SAMPLES, n_classes))
    T = np.eye(n_classes)[rng.integers(n_classes, size=N_SAMPLES)]
    P = output.forward(Z)
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    assert_allclose(loss.value(T, P, Z), -np.sum(T * np.log(P), axis=1), rtol=1e-12)
    # one-hot targets: the fused delta p - t, the chain rule through the Jacobian
    jacobian = np.einsum("ik,kl->ikl", P, np.eye(n_classes)) - np.einsum(
        "ik,il->ikl", P, P
    )
    chained = np.einsum("ik,ikl->il", loss.gradient(T, P), jacobian)
    delta = loss.output_delta(T, P, Z, output)
    assert_allclose(delta, P - T, rtol=1e-12)
    assert_allclose(delta, chained, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_cross_entropy_finite_for_saturated_logits(dtype):
    loss, output = CategoricalCrossEntropy(), Softmax()
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    T = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    with _floating_point_errors_raise():
        P = output.forward(Z)
        value = loss.value(T, P, Z)
        delta = loss.output_delta(T, P, Z, output)
    # the probabilities of the losing classes underflow to exactly 0, where
    # -log p is infinite; from the logits the loss is 0 and 2e4
    assert_array_equal(P, [[1, 0, 0], [0, 1, 0]])
    assert_allclose(value, [0.0, 2e4], rtol=1e-6, atol=1e-3)
    assert_array_equal(delta, P - T)


def test_softmax_is_an_output_only(rng):
    with pytest.raises(TypeError, match="Jacobian"):
        Softmax().derivative(Softmax().forward(rng.normal(size=(3, 2))))
    assert "softmax" not in ACTIVATIONS  # not offered for hidden layers
    Z = rng.normal(size=(N_SAMPLES, 3))
    for name in sorted(ACTIVATIONS):
        if name != "softmax":
            with pytest.raises(ValueError, match="softmax"):
                CategoricalCrossEntropy().output_delta(
                    np.eye(3)[[0, 1, 2, 0, 1]],
                    ACTIVATIONS[name]().forward(Z),
                    Z,
                    ACTIVATIONS[name](),
                )


@pytest.mark.parametrize(
    "name", sorted(name for name in ACTIVATIONS if name != "sigmoid")
)
def test_cross_entropy_needs_sigmoid_output(name, rng):
    output = ACTIVATIONS[name]()
    T = rng.uniform(0, 1, size=(N_SAMPLES, 2))
    Z = rng.normal(size=(N_SAMPLES, 2))
    with pytest.raises(ValueError, match="sigmoid"):
        CrossEntropy().output_delta(T, output.forward(Z), Z, output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "loss, output",
    [
        (SquaredError(), Identity()),
        (SquaredError(), Sigmoid()),
        (CrossEntropy(), Sigmoid()),
        (CategoricalCrossEntropy(), Softmax()),
    ],
    ids=lambda obj: type(obj).__name__,
)
def test_dtype_is_preserved(loss, output, dtype, rng):
    T = rng.uniform(0, 1, size=(N_SAMPLES, 3)).astype(dtype)
    Z = rng.normal(size=(N_SAMPLES, 3)).astype(dtype)
    Y = output.forward(Z)
    assert loss.value(T, Y, Z).dtype == dtype
    assert loss.gradient(T, Y).dtype == dtype
    assert loss.output_delta(T, Y, Z, output).dtype == dtype


@pytest.mark.parametrize(
    "loss, output",
    [
        (SquaredError(), Identity()),
        (SquaredError(), Sigmoid()),
        (CrossEntropy(), Sigmoid()),
        (CategoricalCrossEntropy(), Softmax()),
    ],
    ids=lambda obj: type(obj).__name__,
)
def test_inputs_untouched(loss, output, rng):
    T = rng.uniform(0, 1, size=(N_SAMPLES, 3))
    Z = rng.normal(size=(N_SAMPLES, 3))
    Y = output.forward(Z)
    before = [T.copy(), Y.copy(), Z.copy()]
    for array in (T, Y, Z):
        array.flags.writeable = False
    loss.value(T, Y, Z)
    loss.gradient(T, Y)
    delta = loss.output_delta(T, Y, Z, output)
    # the caller scales the delta in place: it must be a fresh array
    assert not any(np.shares_memory(delta, array) for array in (T, Y, Z))
    for array, copy in zip((T, Y, Z), before):
        assert_array_equal(array, copy)
