"""Solvers: SGD and Adam steps against their update formulas, schedules, L-BFGS."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skae._training.solvers import SGD, Adam, minimize_lbfgs

N_PARAMS = 7


def draw(rng, dtype=np.float64):
    """A starting point and two different gradients of varied magnitudes."""
    scales = np.logspace(-3, 1, N_PARAMS)
    theta = rng.standard_normal(N_PARAMS).astype(dtype)
    g1 = (scales * rng.standard_normal(N_PARAMS)).astype(dtype)
    g2 = (scales * rng.standard_normal(N_PARAMS)).astype(dtype)
    return theta, g1, g2


def test_sgd_without_momentum(rng):
    theta, g1, g2 = draw(rng)
    eta = 0.05
    optimizer = SGD(eta, momentum=0.0)
    updated = theta.copy()
    optimizer.step(updated, g1)
    assert_allclose(updated, theta - eta * g1, rtol=1e-14)
    optimizer.step(updated, g2)
    assert_allclose(updated, theta - eta * g1 - eta * g2, rtol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_with_momentum(nesterov, rng):
    theta, g1, g2 = draw(rng)
    eta, mu = 0.05, 0.8
    optimizer = SGD(eta, momentum=mu, nesterov=nesterov)
    updated = theta.copy()

    expected = theta.copy()
    v = np.zeros_like(theta)
    for gradient in (g1, g2):
        optimizer.step(updated, gradient)
        v = mu * v - eta * gradient
        if nesterov:
            expected = expected + mu * v - eta * gradient
        else:
            expected = expected + v
        assert_allclose(updated, expected, rtol=1e-13, atol=1e-15)


def test_sgd_nesterov_differs_from_classical(rng):
    theta, g1, g2 = draw(rng)
    results = []
    for nesterov in (False, True):
        updated = theta.copy()
        optimizer = SGD(0.05, momentum=0.8, nesterov=nesterov)
        optimizer.step(updated, g1)
        optimizer.step(updated, g2)
        results.append(updated)
    assert not np.allclose(*results)


def test_adam_steps(rng):
    theta, g1, g2 = draw(rng)
    eta, beta_1, beta_2, epsilon = 0.01, 0.8, 0.95, 1e-4
    optimizer = Adam(eta, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    updated = theta.copy()

    # Kingma and Ba (2015), Sec. 2, with the bias correction folded into the
    # step size (the form scikit-learn uses)
    expected = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, gradient in enumerate((g1, g2), start=1):
        optimizer.step(updated, gradient)
        m = beta_1 * m + (1 - beta_1) * gradient
        v = beta_2 * v + (1 - beta_2) * gradient**2
        eta_t = eta * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        expected = expected - eta_t * m / (np.sqrt(v) + epsilon)
        assert_allclose(updated, expected, rtol=1e-13, atol=1e-15)
    assert optimizer.learning_rate == eta


def test_adam_first_step_is_a_sign_step(rng):
    # with the bias correction, the first step moves every parameter by about
    # eta in the direction opposite to its gradient, whatever its magnitude
    theta, g1, _ = draw(rng)
    updated = theta.copy()
    Adam(0.01, epsilon=1e-12).step(updated, g1)
    assert_allclose(theta - updated, 0.01 * np.sign(g1), rtol=1e-6)


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_sgd_invscaling(power_t):
    optimizer = SGD(0.1, schedule="invscaling", power_t=power_t)
    assert optimizer.learning_rate == 0.1
    for samples_seen in (10, 250, 1000):
        optimizer.end_epoch(samples_seen)
        expected = 0.1 / (samples_seen + 1) ** power_t
        assert optimizer.learning_rate == pytest.approx(expected, rel=1e-14)
        assert optimizer.decay() is False


def test_sgd_invscaling_step_uses_the_new_rate(rng):
    theta, g1, _ = draw(rng)
    optimizer = SGD(0.1, schedule="invscaling", momentum=0.0)
    optimizer.end_epoch(99)
    updated = theta.copy()
    optimizer.step(updated, g1)
    assert_allclose(updated, theta - 0.01 * g1, rtol=1e-14)


def test_sgd_adaptive_decay():
    optimizer = SGD(0.1, schedule="adaptive")
    optimizer.end_epoch(500)
    assert optimizer.learning_rate == 0.1
    assert optimizer.decay() is True
    assert optimizer.learning_rate == pytest.approx(0.02, rel=1e-14)
    assert optimizer.decay() is True
    assert optimizer.learning_rate == pytest.approx(0.004, rel=1e-14)
    # it keeps dividing by 5 and stops once the rate is at most 1e-6
    rates = [optimizer.learning_rate]
    while optimizer.decay():
        rates.append(optimizer.learning_rate)
    assert_allclose(np.divide(rates[:-1], rates[1:]), 5.0, rtol=1e-12)
    assert rates[-1] <= 1e-6 < rates[-2]
    assert optimizer.learning_rate == rates[-1]


@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_sgd_decay_is_false_without_adaptive(schedule):
    optimizer = SGD(0.1, schedule=schedule)
    assert optimizer.decay() is False
    assert optimizer.learning_rate == 0.1


def test_adam_has_no_schedule():
    optimizer = Adam(0.01)
    optimizer.end_epoch(1000)
    assert optimizer.decay() is False
    assert optimizer.learning_rate == 0.01


OPTIMIZERS = {
    "sgd": lambda state=None: SGD(0.05, momentum=0.0, state=state),
    "momentum": lambda state=None: SGD(0.05, momentum=0.8, nesterov=False, state=state),
    "nesterov": lambda state=None: SGD(0.05, momentum=0.8, state=state),
    "invscaling": lambda state=None: SGD(
        0.05, schedule="invscaling", momentum=0.8, state=state
    ),
    "adaptive": lambda state=None: SGD(
        0.05, schedule="adaptive", momentum=0.8, state=state
    ),
    "adam": lambda state=None: Adam(0.01, state=state),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_continues_the_old_optimizer(name, rng):
    theta, g1, g2 = draw(rng)

    single = OPTIMIZERS[name]()
    expected = theta.copy()
    single.step(expected, g1)
    single.end_epoch(30)
    single.decay()
    single.step(expected, g2)

    first = OPTIMIZERS[name]()
    updated = theta.copy()
    first.step(updated, g1)
    first.end_epoch(30)
    first.decay()
    second = OPTIMIZERS[name](state=first.state)
    assert second.learning_rate == single.learning_rate
    second.step(updated, g2)

    assert_array_equal(updated, expected)


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adam"])
def test_fresh_optimizer_forgets(name, rng):
    # without the state, the second step differs: the state carries information
    theta, g1, g2 = draw(rng)
    continued = theta.copy()
    optimizer = OPTIMIZERS[name]()
    optimizer.step(continued, g1)
    OPTIMIZERS[name](state=optimizer.state).step(continued, g2)
    restarted = theta.copy()
    OPTIMIZERS[name]().step(restarted, g1)
    OPTIMIZERS[name]().step(restarted, g2)
    assert not np.allclose(continued, restarted)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_stays_float32(name, rng):
    theta, g1, g2 = draw(rng, np.float32)
    theta64 = theta.astype(np.float64)
    optimizer = OPTIMIZERS[name]()
    optimizer64 = OPTIMIZERS[name]()
    updated = theta.copy()
    for gradient in (g1, g2):
        optimizer.step(updated, gradient)
        optimizer64.step(theta64, gradient.astype(np.float64))
    assert updated.dtype == np.float32
    for value in optimizer.state.values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
    assert_allclose(updated, theta64, rtol=1e-5, atol=1e-6)


def quadratic(rng, n=6):
    """``f(x) = x^T A x / 2 - b^T x`` with A symmetric positive definite."""
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)
    b = rng.standard_normal(n)

    def fun(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    return fun, np.linalg.solve(A, b)


def test_lbfgs_finds_the_minimum(rng):
    fun, optimum = quadratic(rng)
    iterations = []

    def callback(intermediate_result):
        iterations.append(intermediate_result.x.copy())

    result = minimize_lbfgs(fun, np.zeros(optimum.size), 200, 1000, callback)

    assert_allclose(result.x, optimum, rtol=1e-8, atol=1e-10)
    assert np.linalg.norm(fun(result.x)[1]) < 1e-8
    assert result.fun == pytest.approx(fun(optimum)[0], rel=1e-12)
    assert len(iterations) == result.nit


def test_lbfgs_stops_when_the_callback_raises(rng):
    fun, optimum = quadratic(rng)
    seen = []

    def callback(intermediate_result):
        seen.append((intermediate_result.x.copy(), intermediate_result.fun))
        if len(seen) == 3:
            raise StopIteration

    result = minimize_lbfgs(fun, np.zeros(optimum.size), 200, 1000, callback)

    assert len(seen) == 3
    assert result.nit == 3
    assert_array_equal(result.x, seen[-1][0])
    assert result.fun == seen[-1][1]
    assert not np.allclose(result.x, optimum)
    # each iteration decreased the objective
    values = [fun(np.zeros(optimum.size))[0]] + [value for _, value in seen]
    assert np.all(np.diff(values) < 0)


def test_lbfgs_honours_max_iter(rng):
    fun, optimum = quadratic(rng)
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.fun)

    result = minimize_lbfgs(fun, np.zeros(optimum.size), 2, 1000, callback)
    assert result.nit == 2
    assert len(seen) == 2
    assert result.status == 1


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_new_learning_rate_init_applies_with_carried_state(schedule):
    # partial_fit builds a new optimizer from the current parameters each
    # call: a changed learning_rate_init must apply at once, whatever the schedule
    old = SGD(1.0, schedule=schedule, power_t=0.5, momentum=0.0)
    old.end_epoch(99)
    old.decay()
    new = SGD(1e-3, schedule=schedule, power_t=0.5, momentum=0.0, state=old.state)
    expected = {"constant": 1e-3, "invscaling": 1e-3 / 100**0.5, "adaptive": 1e-3 / 5}[
        schedule
    ]
    assert new.learning_rate == pytest.approx(expected, rel=1e-12)
