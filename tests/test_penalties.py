"""Weight decay and KL sparsity penalties against the lecture's formulas."""

# License: BSD-3-Clause

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skae._math.penalties import KLSparsity, WeightDecay

DTYPES = [np.float32, np.float64]
SHAPES = [(3, 4), (4, 2), (2, 1)]


@contextmanager
def _floating_point_errors_raise():
    """Turn every warning and every floating-point error into an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


def _kl(rho, rho_hat):
    """KL(rho || rho_hat) of Bernoulli distributions, the lecture's formula."""
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def _numerical_gradient(fun, x, h):
    """Central differences of the scalar ``fun`` with respect to each entry of x."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        grad[idx] = (fun(x + step) - fun(x - step)) / (2 * h)
    return grad


def _flat_weights(rng, dtype=np.float64):
    """All weights of a network as one flat array, as the objective passes them."""
    return np.concatenate([rng.normal(size=shape).ravel() for shape in SHAPES]).astype(
        dtype
    )


@pytest.mark.parametrize("strength", [0.0, 1e-4, 0.3])
def test_weight_decay_value(strength, rng):
    layers = [rng.normal(size=shape) for shape in SHAPES]
    weights = np.concatenate([W.ravel() for W in layers])
    expected = strength * sum(np.linalg.norm(W, "fro") ** 2 for W in layers)
    assert_allclose(WeightDecay(strength).value(weights), expected, rtol=1e-12)


@pytest.mark.parametrize("strength", [0.0, 0.3])
def test_weight_decay_add_gradient_in_place(strength, rng):
    weights = _flat_weights(rng)
    grad = rng.normal(size=weights.shape)
    weights_before, grad_before = weights.copy(), grad.copy()
    WeightDecay(strength).add_gradient(weights, grad)
    assert_array_equal(weights, weights_before)
    assert_allclose(grad, grad_before + 2 * strength * weights, rtol=1e-12)


def test_weight_decay_gradient_matches_finite_differences(rng):
    penalty = WeightDecay(0.3)
    weights = _flat_weights(rng)
    grad = np.zeros_like(weights)
    penalty.add_gradient(weights, grad)
    numerical = _numerical_gradient(penalty.value, weights, h=1e-6)
    assert_allclose(grad, numerical, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weight_decay_float32_stays_float32(dtype, rng):
    weights = _flat_weights(rng, dtype)
    grad = np.zeros_like(weights)
    WeightDecay(0.3).add_gradient(weights, grad)
    assert grad.dtype == dtype
    assert np.isfinite(WeightDecay(0.3).value(weights))


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.9])
def test_kl_value(rho, rng):
    strength = 3.0
    rho_hat = rng.uniform(0.01, 0.99, size=7)
    expected = strength * np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    assert_allclose(KLSparsity(rho, strength).value(rho_hat), expected, rtol=1e-12)


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.9])
def test_kl_zero_at_target_and_positive_elsewhere(rho):
    penalty = KLSparsity(rho, 2.0)
    assert penalty.value(np.full(4, rho)) == pytest.approx(0.0, abs=1e-15)
    assert_allclose(penalty.gradient(np.full(4, rho)), 0.0, atol=1e-12)
    for rho_hat in np.linspace(0.01, 0.99, 50):
        if not np.isclose(rho_hat, rho):
            assert penalty.value(np.array([rho_hat])) > 0
    # one unit away from the target is enough to make the penalty positive
    assert penalty.value(np.array([rho, rho, rho / 2])) > 0


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.9])
def test_kl_gradient(rho, rng):
    strength = 3.0
    penalty = KLSparsity(rho, strength)
    rho_hat = rng.uniform(0.05, 0.95, size=7)
    gradient = penalty.gradient(rho_hat)
    assert gradient.shape == rho_hat.shape
    lecture = strength * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    assert_allclose(gradient, lecture, rtol=1e-12)
    numerical = _numerical_gradient(penalty.value, rho_hat, h=1e-7)
    assert_allclose(gradient, numerical, rtol=1e-6, atol=1e-8)
    # pushes rho_hat towards rho
    assert np.all(np.sign(gradient) == np.sign(rho_hat - rho))


def test_kl_scales_with_strength(rng):
    rho_hat = rng.uniform(0.05, 0.95, size=5)
    one, three = KLSparsity(0.1, 1.0), KLSparsity(0.1, 3.0)
    assert_allclose(three.value(rho_hat), 3 * one.value(rho_hat), rtol=1e-12)
    assert_allclose(three.gradient(rho_hat), 3 * one.gradient(rho_hat), rtol=1e-12)
    assert KLSparsity(0.1, 0.0).value(rho_hat) == 0


@pytest.mark.parametrize("rho", [0.05, 0.5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_saturated_units_give_finite_value_and_gradient(dtype, rho):
    strength = 2.0
    penalty = KLSparsity(rho, strength)
    rho_hat = np.array([0.0, 1.0, rho], dtype=dtype)
    with _floating_point_errors_raise():
        value = penalty.value(rho_hat)
        gradient = penalty.gradient(rho_hat)
    assert np.isfinite(value)
    assert value > 0
    assert gradient.dtype == dtype
    assert np.all(np.isfinite(gradient))
    # saturated at 0: raise rho_hat; at 1: lower it; at the target: stay
    assert gradient[0] < 0 < gradient[1]
    # as documented: rho_hat is clipped to [eps, 1 - eps], eps of its dtype
    eps = float(np.finfo(dtype).eps)
    clipped = np.array([eps, 1 - eps, rho])
    rtol = 10 * eps
    assert_allclose(value, strength * np.sum(_kl(rho, clipped)), rtol=rtol)
    lecture = strength * (-rho / clipped + (1 - rho) / (1 - clipped))
    assert_allclose(gradient, lecture, rtol=rtol, atol=10 * eps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_inputs_untouched(dtype):
    rho_hat = np.array([0.0, 0.2, 1.0], dtype=dtype)
    before = rho_hat.copy()
    rho_hat.flags.writeable = False
    penalty = KLSparsity(0.05, 1.0)
    penalty.value(rho_hat)
    penalty.gradient(rho_hat)
    assert_array_equal(rho_hat, before)
