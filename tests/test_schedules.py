"""The "cosine" and "step" learning-rate schedules of SGD and Adam: the rate of
every epoch against its closed form, the step each epoch takes, continuity
across partial_fit, warm starts and pickling, and the parameters' checks."""

# License: BSD-3-Clause

import copy
import inspect
import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
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
from skae._training.schedules import EPOCH_SCHEDULES, EpochSchedule
from skae._training.solvers import SGD, Adam

ESTIMATORS = [
    MLPRegressorGD,
    MLPClassifierGD,
    AutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
]


def cosine_rate(eta0, e, period, restarts):
    """SGDR's rate (Loshchilov and Hutter 2017, eq. 5, T_mult=1), with
    eta_min = eta0 / 1000."""
    eta_min = eta0 / 1000
    position = e % period if restarts else min(e, period)
    return eta_min + 0.5 * (eta0 - eta_min) * (1 + np.cos(np.pi * position / period))


def step_rate(eta0, e, period, factor):
    return eta0 * factor ** (e // period)


def expected_rate(schedule, eta0, e, lr_period, lr_step_factor, max_iter):
    """The rate the docstrings state for epoch ``e`` (0 in the first epoch)."""
    if schedule == "cosine":
        period = max_iter if lr_period is None else lr_period
        return cosine_rate(eta0, e, period, restarts=lr_period is not None)
    period = math.ceil(max_iter / 3) if lr_period is None else lr_period
    return step_rate(eta0, e, period, lr_step_factor)


def _epoch_schedule(schedule, lr_period, lr_step_factor, max_iter):
    """The solvers' schedule object, as the estimators build it."""
    if schedule not in EPOCH_SCHEDULES:
        return None
    return EpochSchedule(schedule, lr_period, lr_step_factor, max_iter)


def make_sgd(
    eta, schedule, lr_period=None, lr_step_factor=0.1, max_iter=None, **kwargs
):
    epoch_schedule = _epoch_schedule(schedule, lr_period, lr_step_factor, max_iter)
    return SGD(eta, schedule, epoch_schedule=epoch_schedule, **kwargs)


def make_adam(
    eta, schedule="constant", lr_period=None, lr_step_factor=0.1, max_iter=None, **kw
):
    epoch_schedule = _epoch_schedule(schedule, lr_period, lr_step_factor, max_iter)
    return Adam(eta, epoch_schedule=epoch_schedule, **kw)


SOLVERS = {
    "sgd": lambda **kw: make_sgd(0.05, kw.pop("schedule"), momentum=0.9, **kw),
    "adam": lambda **kw: make_adam(0.05, **kw),
}

CASES = [
    # schedule, lr_period, lr_step_factor, max_iter
    ("cosine", None, 0.1, 10),  # one cycle, then eta_min
    ("cosine", 4, 0.1, 10),  # warm restarts every 4 epochs
    ("cosine", 1, 0.1, 10),  # a restart every epoch: constant
    ("step", None, 0.1, 10),  # drops every ceil(10 / 3) = 4 epochs
    ("step", 3, 0.5, 10),
    ("step", 2, 1.0, 10),  # factor 1: constant
]


# -- the solvers ------------------------------------------------------------


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("case", CASES)
def test_solver_rate_is_the_closed_form_at_every_epoch(solver, case):
    schedule, lr_period, factor, max_iter = case
    optimizer = SOLVERS[solver](
        schedule=schedule,
        lr_period=lr_period,
        lr_step_factor=factor,
        max_iter=max_iter,
    )
    rates = []
    for e in range(3 * max_iter):  # past max_iter: partial_fit, warm starts
        expected = expected_rate(schedule, 0.05, e, lr_period, factor, max_iter)
        assert optimizer.learning_rate == pytest.approx(expected, rel=1e-12), e
        rates.append(optimizer.learning_rate)
        optimizer.end_epoch(samples_seen=100 * (e + 1))
    assert optimizer.state["epochs"] == 3 * max_iter
    assert rates[0] == 0.05  # every schedule starts at learning_rate_init
    assert min(rates) >= 0.05 * (1e-3 if schedule == "cosine" else factor**30)


def test_cosine_anneals_to_eta_min_and_restarts():
    sgd = make_sgd(1.0, "cosine", max_iter=8)
    restarting = make_sgd(1.0, "cosine", lr_period=8, max_iter=100)
    one_cycle, cycles = [], []
    for _ in range(20):
        one_cycle.append(sgd.learning_rate)
        cycles.append(restarting.learning_rate)
        sgd.end_epoch(0)
        restarting.end_epoch(0)
    # strictly decreasing over a cycle, halfway at the midpoint
    assert np.all(np.diff(one_cycle[:9]) < 0)
    assert one_cycle[4] == pytest.approx((1 + 1e-3) / 2, rel=1e-12)
    # without restarts: eta_min from the end of the cycle on
    assert one_cycle[8:] == [pytest.approx(1e-3, rel=1e-12)] * 12
    # with restarts: periodic, back at learning_rate_init every 8 epochs
    assert cycles[:8] == one_cycle[:8] and cycles[8:16] == one_cycle[:8]
    assert cycles[16] == 1.0


def test_step_drops_by_the_factor_every_period():
    optimizer = make_adam(0.2, schedule="step", lr_step_factor=0.5, max_iter=30)
    rates = []
    for _ in range(30):
        rates.append(optimizer.learning_rate)
        optimizer.end_epoch(0)
    ratios = np.divide(rates[1:], rates[:-1])
    # the default period, ceil(30 / 3) = 10: a drop after epochs 10 and 20
    drops = np.flatnonzero(ratios != 1) + 1
    assert_array_equal(drops, [10, 20])
    assert ratios[drops - 1] == pytest.approx([0.5, 0.5], rel=1e-12)


@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_adam_step_uses_the_scheduled_rate(schedule, rng):
    # one Adam step at epoch e is Adam's step with learning_rate_init = eta_e
    theta = rng.standard_normal(5)
    gradients = rng.standard_normal((2, 5))
    scheduled = make_adam(0.1, schedule=schedule, lr_period=2, max_iter=10)
    scheduled.step(updated := theta.copy(), gradients[0])
    for _ in range(3):
        scheduled.end_epoch(0)
    eta = expected_rate(schedule, 0.1, 3, 2, 0.1, 10)
    assert eta < 0.1
    reference = Adam(eta, state=copy.deepcopy(scheduled.state))
    expected = updated.copy()
    scheduled.step(updated, gradients[1])
    reference.step(expected, gradients[1])
    assert_array_equal(updated, expected)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_adam_still_ignores_scikit_learn_schedules(schedule):
    optimizer = make_adam(0.01, schedule=schedule, max_iter=10)
    optimizer.end_epoch(1000)
    assert optimizer.decay() is False
    assert optimizer.learning_rate == 0.01


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_float32_stays_float32(solver, schedule, rng):
    optimizer = SOLVERS[solver](schedule=schedule, lr_period=2, max_iter=10)
    theta = rng.standard_normal(5).astype(np.float32)
    for _ in range(3):
        optimizer.end_epoch(0)
        optimizer.step(theta, rng.standard_normal(5).astype(np.float32))
    assert theta.dtype == np.float32
    assert isinstance(optimizer.learning_rate, float)


@pytest.mark.parametrize("kind", [SGD, Adam])
def test_a_state_without_the_epoch_count_starts_it(kind):
    # a solver state saved before the schedules had no "epochs"
    old = {"velocity": None, "samples_seen": 40, "decays": 0}
    make = make_sgd
    if kind is Adam:
        old = {"m": None, "v": None, "t": 3}
        make = make_adam
    optimizer = make(0.1, "step", state=old, lr_period=1, max_iter=5)
    assert optimizer.learning_rate == 0.1
    optimizer.end_epoch(80)
    assert optimizer.learning_rate == pytest.approx(0.01, rel=1e-12)


# -- the estimators ---------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(40)
    return X, y


def _regressor(**params):
    return MLPRegressorGD(
        hidden_layer_sizes=(4,), batch_size=10, random_state=0, **params
    )


def _parameters(est):
    return np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("case", CASES[:2] + CASES[3:5])
def test_each_epoch_steps_with_the_closed_form_rate(solver, case, data):
    # the epoch e of the schedule takes exactly the steps of a constant rate
    # eta_e from the same state: the rate the solver uses is the closed form
    schedule, lr_period, factor, max_iter = case
    X, y = data
    est = _regressor(
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.02,
        lr_period=lr_period,
        lr_step_factor=factor,
        max_iter=max_iter,
    )
    for e in range(max_iter + 2):
        eta = expected_rate(schedule, 0.02, e, lr_period, factor, max_iter)
        constant = copy.deepcopy(est).set_params(
            learning_rate="constant", learning_rate_init=eta
        )
        est.partial_fit(X, y)
        constant.partial_fit(X, y)
        assert_array_equal(_parameters(est), _parameters(constant), err_msg=str(e))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_partial_fit_warm_start_and_pickle_continue_the_schedule(
    solver, schedule, data
):
    X, y = data
    params = dict(solver=solver, learning_rate=schedule, lr_period=3, tol=0.0)
    params["n_iter_no_change"] = 100
    with pytest.warns(ConvergenceWarning):
        one_run = _regressor(max_iter=8, **params).fit(X, y)

    by_call = _regressor(max_iter=8, **params)
    for call in range(8):
        by_call.partial_fit(X, y)
        if call == 3:
            by_call = pickle.loads(pickle.dumps(by_call))

    warm = _regressor(max_iter=4, warm_start=True, **params)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X, y)

    for continued in (by_call, warm):
        assert continued._optimizer.state["epochs"] == 8
        assert continued._optimizer.learning_rate == one_run._optimizer.learning_rate
        assert_array_equal(_parameters(continued), _parameters(one_run))
        assert continued.loss_curve_ == one_run.loss_curve_


def test_a_restart_of_the_schedule_differs(data):
    # the continuity above is the schedule's: a fresh solver at epoch 4 moves
    # differently
    X, y = data
    params = dict(solver="sgd", learning_rate="step", lr_period=2, max_iter=8)
    continued = _regressor(**params)
    for _ in range(5):
        continued.partial_fit(X, y)
    restarted = _regressor(**params)
    for _ in range(4):
        restarted.partial_fit(X, y)
    restarted._optimizer = None
    restarted.partial_fit(X, y)
    assert not np.allclose(_parameters(continued), _parameters(restarted))


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive", "cosine", "step"])
def test_lbfgs_ignores_the_schedule(schedule, data):
    X, y = data
    fits = [
        _regressor(solver="lbfgs", learning_rate=rate, max_iter=5, tol=0.0)
        for rate in ("constant", schedule)
    ]
    for est in fits:
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y)
    assert_array_equal(_parameters(fits[0]), _parameters(fits[1]))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_estimator_follows_the_schedule(Estimator, data):
    X, y = data
    est = Estimator(
        hidden_layer_sizes=(2,),
        solver="sgd",
        learning_rate="step",
        learning_rate_init=0.01,
        lr_period=2,
        lr_step_factor=0.5,
        random_state=0,
    )
    if Estimator is MLPClassifierGD:
        args, kwargs = (X, (y > 0).astype(int)), {"classes": [0, 1]}
    else:
        args, kwargs = ((X, y) if Estimator is MLPRegressorGD else (X,)), {}
    for _ in range(5):
        est.partial_fit(*args, **kwargs)
    assert est._optimizer.learning_rate == pytest.approx(0.01 * 0.5**2, rel=1e-12)


def test_greedy_pretraining_stages_follow_the_schedule(data):
    # each stage runs the schedule from its own epoch 0: the same first epoch
    # as a constant rate (a factor of 1), a smaller step from the second on
    X, _ = data
    curves = []
    for factor in (1.0, 0.5):
        est = AutoEncoder(
            hidden_layer_sizes=(3,),
            init="greedy",
            solver="sgd",
            batch_size=10,
            learning_rate="step",
            lr_period=1,
            lr_step_factor=factor,
            max_iter=3,
            tol=0.0,
            random_state=0,
        )
        with pytest.warns(ConvergenceWarning):
            est.fit(X)
        curves.append(est.pretrain_loss_curves_[0])
    assert curves[0][0] == curves[1][0]
    assert curves[0][1] != curves[1][1]


# -- the parameters ---------------------------------------------------------


BAD = [
    ("lr_period", 0, "lr_period"),
    ("lr_period", -3, "lr_period"),
    ("lr_period", True, "not a bool"),
    ("lr_period", 1.5, "lr_period"),
    ("lr_step_factor", 0, r"lr_step_factor.*\(0.0, 1.0\]"),
    ("lr_step_factor", 1.5, r"lr_step_factor.*\(0.0, 1.0\]"),
    ("learning_rate", "linear", "'cosine'"),
]


@pytest.mark.parametrize("name, value, message", BAD)
def test_bad_values_are_refused(name, value, message, data):
    X, y = data
    est = _regressor(max_iter=2, **{name: value})
    with pytest.raises(InvalidParameterError, match=message):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    # partial_fit validates the parameters set since the last call
    fitted = _regressor(solver="sgd").partial_fit(X, y)
    with pytest.raises(InvalidParameterError, match=message):
        fitted.set_params(**{name: value}).partial_fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_parameters_follow_power_t_and_round_trip(Estimator):
    names = list(inspect.signature(Estimator).parameters)
    at = names.index("power_t")
    assert names[at + 1 : at + 3] == ["lr_period", "lr_step_factor"]
    defaults = Estimator().get_params()
    assert defaults["lr_period"] is None and defaults["lr_step_factor"] == 0.1

    est = Estimator(learning_rate="cosine", lr_period=7, lr_step_factor=0.5)
    params = est.get_params()
    assert (params["learning_rate"], params["lr_period"]) == ("cosine", 7)
    assert params["lr_step_factor"] == 0.5
    cloned = clone(est)
    assert cloned.get_params() == params
    cloned.set_params(lr_period=None, lr_step_factor=1.0)
    assert (cloned.lr_period, cloned.lr_step_factor) == (None, 1.0)
    assert "lr_period : int or None, default=None" in Estimator.__doc__
    assert "lr_step_factor : float, default=0.1" in Estimator.__doc__
