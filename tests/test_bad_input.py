"""SPEC.md's bad-input table, row by row: a clear error, and nothing lost."""

# License: BSD-3-Clause

import pickle
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from callback_base import DoNothingCallback
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoEncoder, DivergenceError, MLPRegressorGD, SparseAutoEncoder
from skae.activations import ACTIVATIONS, ELU, PReLU

ESTIMATORS = [
    MLPRegressorGD(hidden_layer_sizes=(5,), random_state=0),
    AutoEncoder(n_components=3, random_state=0),
    SparseAutoEncoder(n_components=3, random_state=0),
]
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]


def _fit(estimator, X, y=None, method="fit"):
    if isinstance(estimator, MLPRegressorGD):
        return getattr(estimator, method)(X, X[:, 0] if y is None else y)
    return getattr(estimator, method)(X)


def _snapshot(estimator):
    """Every attribute of an estimator, as bytes, to compare states exactly."""
    return pickle.dumps(sorted(vars(estimator).items()))


def _fitted(estimator, X):
    estimator = clone(estimator).set_params(max_iter=5)
    with pytest.warns(ConvergenceWarning):
        return _fit(estimator, X)


# -- NaN or inf in X or y, empty X, wrong n_features: scikit-learn's errors -----


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_inf_in_X(estimator, value, message, digits01):
    X = digits01[:50, :8].copy()
    X[3, 2] = value
    with pytest.raises(ValueError, match=message):
        _fit(clone(estimator), X)


@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_inf_in_y(value, message, regression_data):
    X, y = regression_data
    y = y.copy()
    y[0, 1] = value
    with pytest.raises(ValueError, match=message):
        MLPRegressorGD().fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_empty_X(estimator):
    with pytest.raises(ValueError, match="0 sample"):
        _fit(clone(estimator), np.empty((0, 4)), np.empty(0))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_wrong_number_of_features_after_fit(estimator, digits01):
    fitted = _fitted(estimator, digits01[:, :8])
    methods = ["transform", "predict", "score_samples"]
    for method in [m for m in methods if hasattr(fitted, m)]:
        with pytest.raises(ValueError, match="X has 5 features.*expecting 8"):
            getattr(fitted, method)(digits01[:, :5])


# -- the loss, the output and the data must fit together ------------------------


@pytest.mark.parametrize("cls", [AutoEncoder, SparseAutoEncoder])
def test_cross_entropy_needs_the_sigmoid_output(cls, digits01):
    estimator = cls(out_activation="identity", loss="cross_entropy")
    with pytest.raises(ValueError, match="cross_entropy.*needs the sigmoid output"):
        estimator.fit(digits01)
    assert not hasattr(estimator, "n_iter_")  # nothing fitted, nothing half-set


@pytest.mark.parametrize("cls", [AutoEncoder, SparseAutoEncoder])
def test_cross_entropy_needs_data_in_the_unit_interval(cls, digits01):
    estimator = cls(out_activation="sigmoid")
    # the message gives the observed range and the fix
    with pytest.raises(ValueError, match=r"\[-1, 3\].*MinMaxScaler"):
        estimator.fit(4 * digits01 - 1)


OUTSIDE_UNIT_RANGE = sorted(
    name
    for name, cls in ACTIVATIONS.items()
    if cls().output_range[0] < 0 or cls().output_range[1] > 1
)


@pytest.mark.parametrize("activation", OUTSIDE_UNIT_RANGE)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparsity_needs_a_code_activation_in_the_unit_interval(activation, digits01):
    with pytest.raises(ValueError, match="Allowed activations: sigmoid"):
        SparseAutoEncoder(activation=activation).fit(digits01)
    # without the penalty any activation will do
    SparseAutoEncoder(
        activation=activation, sparsity_weight=0.0, max_iter=5, tol=1e3, random_state=0
    ).fit(digits01)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_unknown_activation_lists_the_known_names(estimator, digits01):
    estimator = clone(estimator).set_params(activation="swish")
    with pytest.raises(InvalidParameterError, match="activation") as info:
        _fit(estimator, digits01)
    for name in ACTIVATIONS:
        assert repr(name) in str(info.value)


# -- divergence: a clear error, the last finite parameters, nothing lost --------


DIVERGING = [
    dict(solver="sgd", learning_rate_init=1e100),
    dict(solver="adam", learning_rate_init=1e100),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("params", DIVERGING, ids=["sgd", "adam"])
def test_divergence_without_a_finite_objective_changes_nothing(
    estimator, params, digits01
):
    # unscaled data and a step far too large: J is infinite from the start
    estimator = clone(estimator).set_params(**params)
    X = 1e200 * digits01[:60, :8]
    with pytest.raises(DivergenceError, match="diverged at iteration 1") as info:
        _fit(estimator, X)
    assert "learning_rate_init" in str(info.value)
    assert "StandardScaler" in str(info.value)
    assert "left as it was" in str(info.value)
    assert not info.value.parameters_kept
    with pytest.raises(NotFittedError):  # still unfitted, not a random model
        estimator.coefs_
    # a fitted model is not thrown away either
    fitted = _fitted(estimator.set_params(learning_rate_init=1e-3), X / 1e200)
    before = _snapshot(fitted)
    with pytest.raises(DivergenceError):
        _fit(fitted.set_params(**params), X)
    fitted.set_params(learning_rate_init=1e-3)
    assert _snapshot(fitted) == before


def _objective(estimator, X, y=None):
    """J of the estimator's current parameters on (X, y), computed by skae."""
    T = X if y is None else y.reshape(len(y), -1)
    return estimator._build_objective().value(estimator._theta, X, T)


# one-sample SGD on a linear net whose step overshoots: J stays finite for
# the first epoch and overflows in the second (learning rates measured)
DIVERGES_IN_EPOCH_2 = dict(
    hidden_layer_sizes=(4,),
    activation="identity",
    solver="sgd",
    momentum=0.0,
    learning_rate_init=0.1,
    batch_size=1,
    shuffle=False,
    random_state=0,
)


def _diverging_problem(rng):
    X = rng.normal(size=(30, 3))
    return X, X.sum(axis=1)


def test_divergence_keeps_the_last_recorded_iteration(rng):
    X, y = _diverging_problem(rng)
    params = DIVERGES_IN_EPOCH_2
    reg = MLPRegressorGD(**params)
    with pytest.raises(DivergenceError, match="iteration 2, step 5") as info:
        reg.fit(X, y)
    assert info.value.parameters_kept
    assert "parameters of iteration 1" in str(info.value)
    assert np.isfinite(_objective(reg, X, y))
    assert reg.n_iter_ == len(reg.loss_curve_) == 1
    # exactly the parameters of the first epoch
    reference = MLPRegressorGD(max_iter=1, **params)
    with pytest.warns(ConvergenceWarning):
        reference.fit(X, y)
    assert np.array_equal(reg._theta, reference._theta)


def test_mid_epoch_divergence_never_keeps_an_infinite_objective(rng):
    # step k overflows, the check before step k + 1 sees it: the parameters
    # after step k give J = inf, so they must not be kept
    X = rng.normal(size=(200, 4))
    y = X @ rng.normal(size=4)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(16,),
        solver="sgd",
        batch_size=10,
        learning_rate_init=10.0,
        random_state=0,
    )
    with pytest.raises(DivergenceError) as info:
        reg.fit(X, y)
    if info.value.parameters_kept:
        assert np.isfinite(_objective(reg, X, y))
        assert np.isfinite(reg.predict(X)).all()
    else:
        with pytest.raises(NotFittedError):
            reg.predict(X)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("params", DIVERGING, ids=["sgd", "adam"])
def test_diverging_partial_fit_leaves_the_model_bitwise_identical(
    estimator, params, digits01
):
    estimator = clone(estimator).set_params(solver=params["solver"])
    X = digits01[:60, :8]
    _fit(estimator, X, method="partial_fit")
    _fit(estimator, X, method="partial_fit")
    before = _snapshot(estimator)
    estimator.set_params(**params)
    with pytest.raises(ValueError, match="diverged"):
        _fit(estimator, 1e200 * X, method="partial_fit")
    estimator.set_params(learning_rate_init=ESTIMATORS[0].learning_rate_init)
    assert _snapshot(estimator) == before


def test_failed_first_partial_fit_leaves_the_estimator_unfitted(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(solver="sgd", learning_rate_init=1e3, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        reg.partial_fit(X, y * 1e200)
    with pytest.raises(NotFittedError):
        reg.predict(X)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_failed_refit_leaves_a_fitted_model_as_it_was(estimator, digits01):
    fitted = _fitted(estimator, digits01[:, :5])
    before = _snapshot(fitted)
    with pytest.raises(ValueError, match="NaN"):
        _fit(fitted, np.full((10, 3), np.nan))  # other width, and NaN
    assert _snapshot(fitted) == before
    assert fitted.transform(digits01[:, :5]).shape[0] == 300


# -- Ctrl-C: training stops, the model keeps usable parameters, a warning -----


class _CtrlC(DoNothingCallback):
    """A callback that presses Ctrl-C once ``iteration`` epochs (or L-BFGS
    iterations) have ended: injected through the training loop's per-iteration
    task, as a user's interrupt would arrive."""

    def __init__(self, iteration):
        self.iteration = iteration
        self.ended = 0

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.ended += 1
            if self.ended == self.iteration:
                raise KeyboardInterrupt


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_keyboard_interrupt_keeps_a_usable_model(estimator, solver, digits01):
    estimator = clone(estimator).set_params(solver=solver, tol=0.0)
    estimator.set_callbacks(_CtrlC(3))
    with pytest.warns(UserWarning, match="KeyboardInterrupt"):
        _fit(estimator, digits01)
    assert estimator.n_iter_ == 3
    assert len(estimator.loss_curve_) == 3
    assert all(np.isfinite(W).all() for W in estimator.coefs_ + estimator.intercepts_)
    assert np.isfinite(estimator.transform(digits01)).all()


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_keyboard_interrupt_keeps_the_best_parameters_with_early_stopping(
    solver, regression_data
):
    X, y = regression_data
    # validation targets that training moves away from: the best validation
    # score comes early, so the best and the last parameters differ
    X_val, y_val = X[100:], -y[100:]
    reg = MLPRegressorGD(
        hidden_layer_sizes=(30,),
        solver=solver,
        early_stopping=True,
        learning_rate_init=0.05,
        n_iter_no_change=100,
        random_state=0,
    ).set_callbacks(_CtrlC(15))
    with pytest.warns(UserWarning, match="best parameters"):
        reg.fit(X[:100], y[:100], X_val=X_val, y_val=y_val)
    assert reg.n_iter_ == 15
    assert np.argmax(reg.validation_scores_) < reg.n_iter_ - 1
    assert reg.score(X_val, y_val) == pytest.approx(
        max(reg.validation_scores_), rel=1e-12
    )


# -- hostile use (issue 9): every call validates, nothing silently wrong -------


def _regression(rng, n=100, n_features=4):
    X = rng.normal(size=(n, n_features))
    return X, X @ rng.normal(size=n_features)


BAD_BETWEEN_CALLS = [
    dict(learning_rate_init=-0.01),
    dict(weight_decay=-1),
    dict(momentum=5),
    dict(solver="foo"),
    dict(learning_rate="foo"),
    dict(beta_1=1),
    dict(beta_2=1),
    dict(epsilon=-1),
    dict(batch_size=0),
    dict(batch_size="foo"),
    dict(batch_size=True),
    dict(max_iter=True),
    dict(n_iter_no_change=0),
]


@pytest.mark.parametrize("params", BAD_BETWEEN_CALLS, ids=str)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_validates_parameters_set_since_the_last_call(params, solver, rng):
    X, y = _regression(rng)
    reg = MLPRegressorGD(hidden_layer_sizes=(5,), solver=solver, random_state=0)
    reg.partial_fit(X, y)
    before = _snapshot(reg)
    good = reg.get_params()
    reg.set_params(**params)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        reg.partial_fit(X, y)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        reg.fit(X, y)
    reg.set_params(**good)
    assert _snapshot(reg) == before


@pytest.mark.parametrize(
    "params", [dict(sparsity_weight=-1), dict(sparsity_target=1.5)], ids=str
)
def test_partial_fit_validates_the_sparsity_parameters(params, digits01):
    sae = SparseAutoEncoder(n_components=3, solver="adam", random_state=0)
    sae.partial_fit(digits01)
    before = _snapshot(sae)
    sae.set_params(**params)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        sae.partial_fit(digits01)
    sae.set_params(sparsity_weight=1.0, sparsity_target=0.05)
    assert _snapshot(sae) == before


def test_lbfgs_that_cannot_take_a_step_raises_and_changes_nothing(rng):
    X, y = _regression(rng)
    ae = AutoEncoder(n_components=3)
    with pytest.raises(DivergenceError, match="L-BFGS could not take") as info:
        ae.fit(X * 1e50)
    assert "status" in str(info.value) and not info.value.parameters_kept
    assert not hasattr(ae, "n_iter_")
    reg = MLPRegressorGD(solver="lbfgs", max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(DivergenceError, match="status"):
        reg.fit(X, y * 1e100)
    assert _snapshot(reg) == before


def test_lbfgs_stopping_before_the_rule_warns_with_scipys_status(rng, monkeypatch):
    # scipy giving up after two iterations with a failed line search (status
    # 2), as it does on badly scaled problems
    import skae._training.run

    real = skae._training.run.minimize_lbfgs

    def gives_up_after_two(fun, theta0, max_iter, max_fun, callback):
        result = real(fun, theta0, 2, max_fun, callback)
        result.status, result.message = 2, "ABNORMAL_TERMINATION_IN_LNSRCH"
        return result

    monkeypatch.setattr(skae._training.run, "minimize_lbfgs", gives_up_after_two)
    X, y = _regression(rng)
    reg = MLPRegressorGD(solver="lbfgs", max_iter=50, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="status 2: ABNORMAL") as record:
        reg.fit(X, y)
    assert "after 2 iterations" in str(record[0].message)
    assert reg.n_iter_ == len(reg.loss_curve_) == 2


def test_lbfgs_stopped_by_the_dtype_without_learning_warns(rng):
    # scipy's status 0 (no decrease of J left in float32) after one iteration,
    # R^2 about -0.02 on the training data: no longer silent (a genuine
    # convergence stays silent: tests/test_training.py, warm starts)
    X, y = _regression(rng)
    reg = MLPRegressorGD(solver="lbfgs", max_iter=50, random_state=0)
    with pytest.warns(ConvergenceWarning, match="barely moved the objective J"):
        reg.fit(X.astype(np.float32), y * 1e10)
    assert reg.n_iter_ == 1
    assert reg.score(X.astype(np.float32), y * 1e10) < 0.1


def test_adam_refuses_a_gradient_whose_square_overflows(rng):
    # a millisecond timestamp as a float32 feature: the gradient is finite,
    # its square is not, and Adam's steps would silently become 0
    X = np.c_[rng.normal(size=(200, 3)), 1.6e12 + 1e9 * rng.uniform(size=200)]
    X = X.astype(np.float32)
    y = rng.normal(size=200).astype(np.float32)
    reg = MLPRegressorGD(random_state=0)
    with pytest.raises(DivergenceError, match="too large for Adam"):
        reg.fit(X, y)
    # gradient descent forms no square: the same gradient is no divergence
    sgd = MLPRegressorGD(solver="sgd", learning_rate_init=1e-30, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        sgd.fit(X, y)


def test_kept_divergence_restores_the_solver_state_too(rng):
    X, y = _diverging_problem(rng)
    # with momentum the same divergence needs a smaller step
    params = {**DIVERGES_IN_EPOCH_2, "momentum": 0.9, "learning_rate_init": 0.02}
    reg = MLPRegressorGD(**params)
    with pytest.raises(DivergenceError) as info:
        reg.fit(X, y)
    assert info.value.parameters_kept
    reference = MLPRegressorGD(**{**params, "max_iter": reg.n_iter_})
    with pytest.warns(ConvergenceWarning):
        reference.fit(X, y)
    assert np.array_equal(reg._theta, reference._theta)
    for key, value in reference._optimizer.state.items():
        assert np.array_equal(reg._optimizer.state[key], value), key
    assert reg.t_ == reference.t_


def test_a_fit_inside_a_fit_hears_ctrl_c(rng):
    import signal

    X, y = _regression(rng)
    inner = MLPRegressorGD(hidden_layer_sizes=(5,), max_iter=500, tol=0.0)

    class FitsAnother(DoNothingCallback):
        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "iteration" and not hasattr(inner, "n_iter_"):
                inner.set_callbacks(_SignalAt(3))
                inner.fit(X, y)

    outer = MLPRegressorGD(hidden_layer_sizes=(5,), max_iter=50, tol=0.0)
    outer.set_callbacks(FitsAnother())
    with pytest.warns(UserWarning, match="interrupted") as record:
        outer.fit(X, y)
    # both stop: the inner one at its next step, the outer one after it
    assert inner.n_iter_ == 3 and outer.n_iter_ == 1
    assert len(record) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _SignalAt(DoNothingCallback):
    """A callback that sends the process a real SIGINT at an iteration."""

    def __init__(self, iteration):
        self.iteration, self.ended = iteration, 0

    def on_fit_task_end(self, estimator, context, **kwargs):
        import signal

        if context.task_name == "iteration":
            self.ended += 1
            if self.ended == self.iteration:
                signal.raise_signal(signal.SIGINT)


def test_memory_estimate_counts_a_chunk_not_the_whole_batch():
    import sklearn

    from skae._math.network import Network
    from skae._training.checks import check_memory
    from skae.activations import Identity, Sigmoid

    network = Network((784, 256, 784), Sigmoid(), Identity())
    machine = 24 * 2**30
    for params in (dict(), dict(solver="adam", batch_size="full")):
        ae = AutoEncoder(n_components=256, **params)
        # a million rows at once would need 31 GiB of buffers; chunks of
        # working_memory need 1 GiB: accepted
        check_memory(ae, network, 1_000_000, np.float64, available=machine)
        with sklearn.config_context(working_memory=10**6):  # no chunking
            with pytest.raises(ValueError, match="lower scikit-learn's working_m"):
                check_memory(ae, network, 1_000_000, np.float64, available=machine)
    with pytest.raises(ValueError, match="which could not be allocated"):
        check_memory(ae, network, 10, np.float64, available=0)


def test_a_rise_from_a_perfect_fit_is_no_explosion(rng):
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = MLPRegressorGD(
        hidden_layer_sizes=(), solver="lbfgs", weight_decay=0.0, random_state=0
    ).fit(X, y)
    assert reg.loss_ < 1e-12  # J ~ 0: any noise is many times that
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*rose from")
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.set_params(solver="adam", learning_rate_init=1e-4, warm_start=True)
        reg.fit(X, y)
    assert reg.score(X, y) > 0.999


def test_divergence_from_the_start_leaves_the_estimator_unfitted(rng):
    X, y = _regression(rng)
    reg = MLPRegressorGD()
    with pytest.raises(DivergenceError, match="iteration 1, step 1"):
        reg.fit(X, y * 1e200)
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_a_fitted_model_owns_its_activation(rng):
    X, y = _regression(rng)
    shared = PReLU(alpha=0.1)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,), activation=shared, max_iter=30, random_state=0
    )
    other = clone(reg).set_params(activation=shared)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
        other.fit(X, y)
    before = reg.predict(X)
    reg.set_params(activation__alpha=0.9)  # changes the object both were given
    assert shared.alpha == 0.9
    assert np.array_equal(reg.predict(X), before)
    assert reg._network.activation(0) == PReLU(alpha=0.1)
    assert other._network.activation(0) is not reg._network.activation(0)
    # continuing with another alpha is a changed architecture
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.partial_fit(X, y)
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.set_params(warm_start=True).fit(X, y)
    assert np.array_equal(reg.predict(X), before)


@pytest.mark.parametrize("cls", [AutoEncoder, SparseAutoEncoder])
def test_cross_entropy_scores_refuse_data_outside_the_unit_interval(cls, digits01):
    ae = cls(n_components=3, out_activation="sigmoid", max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        ae.fit(digits01)
    assert np.isfinite(ae.score(digits01))
    for method in (ae.score, ae.score_samples):
        with pytest.raises(ValueError, match=r"needs data in \[0, 1\].*MinMaxScaler"):
            method(1e6 * digits01)


def test_finiteness_check_does_not_square():
    from skae._training.run import _all_finite

    big = np.full(100, 1e30, dtype=np.float32)  # its sum of squares overflows
    assert _all_finite(big)
    for bad in (np.inf, -np.inf, np.nan):
        broken = big.copy()
        broken[7] = bad
        assert not _all_finite(broken)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_weights_at_any_scale_train_as_their_normalised_values(
    solver, dtype, rng
):
    X, y = _regression(rng)
    X = X.astype(dtype)
    w = rng.uniform(0.5, 2.0, size=len(y))
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0)

    def fitted_theta(weights):
        with pytest.warns(ConvergenceWarning):
            return MLPRegressorGD(**params).fit(X, y, sample_weight=weights)._theta

    normalised = fitted_theta(w / w.max())
    huge = np.finfo(dtype).max / 4
    for scale in (huge, 1e-40, 1e-300, 3.0):
        theta = fitted_theta(w / w.max() * scale)
        assert np.isfinite(theta).all()
        np.testing.assert_allclose(theta, normalised, rtol=1e-5, atol=1e-6)
    # uniform weights at the top of the float32 range: as no weights at all
    uniform = fitted_theta(np.full(len(y), 1e38))
    np.testing.assert_allclose(uniform, fitted_theta(None), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_early_stopping_refuses_a_split_without_positive_weight(solver, rng):
    X, y = _regression(rng)
    w = np.zeros(len(y))
    w[3] = 1.0  # one weighted sample: one side of every split has none
    sides = set()
    for seed in range(60):
        reg = MLPRegressorGD(early_stopping=True, solver=solver, random_state=seed)
        with pytest.raises(ValueError, match="early_stopping holds out") as info:
            reg.fit(X, y, sample_weight=w)
        for name in ("validation_fraction", "random_state", "X_val"):
            assert name in str(info.value)
        sides.add("held-out" if "held-out part" in str(info.value) else "training")
        assert "needs at least" in str(info.value)
        assert not hasattr(reg, "n_iter_")
    assert sides == {"held-out", "training"}


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_interrupt_while_validating_keeps_the_records_whole(solver, rng):
    X, y = _regression(rng)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(5,), solver=solver, tol=0.0, random_state=0
    )
    calls = []
    original = reg._validation_score

    def interrupted_third_time(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as if Ctrl-C landed inside the scoring
        return original(*args)

    reg._validation_score = interrupted_third_time
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    del reg._validation_score
    assert reg.n_iter_ == len(reg.loss_curve_) == 2
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == 2
    assert reg.loss_ == reg.loss_curve_[-1]
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sigint_while_validating_records_the_whole_iteration(solver, rng):
    import signal

    X, y = _regression(rng)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(5,), solver=solver, tol=0.0, random_state=0
    )
    calls = []
    original = reg._validation_score

    def signal_third_time(*args):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # a real Ctrl-C, mid-scoring
        return original(*args)

    reg._validation_score = signal_third_time
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    del reg._validation_score
    # the iteration being scored is recorded whole, then training stops
    assert reg.n_iter_ == len(reg.loss_curve_) == 3
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _InterruptedAfterTraining(SparseAutoEncoder):
    """Ctrl-C lands in the mean_activation_ pass, after the training loop."""

    def _after_fit(self, X):
        if self.solver == "adam":  # a KeyboardInterrupt raised right there
            if not getattr(self, "_raised", False):
                self._raised = True
                raise KeyboardInterrupt
        else:  # a real SIGINT
            import signal

            signal.raise_signal(signal.SIGINT)
        super()._after_fit(X)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_interrupt_after_training_keeps_the_training(solver, digits01):
    sae = _InterruptedAfterTraining(
        n_components=4, solver=solver, max_iter=5, tol=0.0, random_state=0
    )
    with pytest.warns(UserWarning, match="finished training is kept"):
        with pytest.warns(ConvergenceWarning):
            sae.fit(digits01)
    assert sae.n_iter_ == len(sae.loss_curve_) == 5
    assert sae.mean_activation_.shape == (4,)
    assert np.isfinite(sae.transform(digits01)).all()


def test_divergence_with_early_stopping_keeps_the_best_and_no_leftovers(rng):
    X, y = _diverging_problem(rng)
    X_val = rng.normal(size=(20, 3))
    y_val = X_val.sum(axis=1)
    reg = MLPRegressorGD(early_stopping=True, **DIVERGES_IN_EPOCH_2)
    with pytest.raises(DivergenceError, match="parameters of best") as info:
        reg.fit(X, y, X_val=X_val, y_val=y_val)
    assert info.value.parameters_kept
    assert reg.score(X_val, y_val) == pytest.approx(max(reg.validation_scores_))
    assert not any("best_theta" in key for key in vars(reg))
    assert b"best_theta" not in pickle.dumps(reg)


def test_a_checkpoint_pickled_mid_fit_holds_the_model_only(rng):
    import threading

    X, y = _regression(rng, n=4000, n_features=20)  # 640 kB of data

    class Checkpoint(DoNothingCallback):
        def __init__(self):
            self.lock = threading.Lock()  # a callback that does not pickle
            self.saved = []

        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "iteration" and len(self.saved) < 2:
                self.saved.append(pickle.dumps(estimator))

    checkpoint = Checkpoint()
    reg = MLPRegressorGD(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    reg.set_callbacks(checkpoint)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    for saved in checkpoint.saved:
        assert len(saved) < 20_000  # the model, not the 640 kB of data
        restored = pickle.loads(saved)
        assert not any(key.startswith("_skl") for key in vars(restored))
        assert np.isfinite(restored.predict(X[:10])).all()
    # after the fit the estimator pickles with its callbacks, as scikit-learn's
    assert hasattr(pickle.loads(pickle.dumps(MLPRegressorGD())), "get_params")


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(hidden_layer_sizes=10**9), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(10, 10**8)), "hidden_layer_sizes"),
    ],
)
def test_a_network_too_large_for_memory_is_refused_before_allocating(params, name, rng):
    X, y = _regression(rng)
    with pytest.raises(ValueError, match=f"{name}=.*GiB"):
        MLPRegressorGD(**params).fit(X, y)
    with pytest.raises(ValueError, match="n_components=.*GiB"):
        AutoEncoder(n_components=10**9).fit(X)


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(batch_size=True), "batch_size"),
        (dict(hidden_layer_sizes=np.array(5)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes={3, 4}), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=True), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(3, True)), "hidden_layer_sizes"),
        (dict(weight_decay=1e308), "weight_decay"),
    ],
    ids=str,
)
def test_odd_values_get_a_message_naming_the_parameter(params, name, rng):
    X, y = _regression(rng)
    reg = MLPRegressorGD(**params)
    with pytest.raises(ValueError, match=name):
        reg.fit(X, y)
    assert not hasattr(reg, "n_iter_")


def test_odd_activation_and_sparsity_values_are_named(digits01):
    with pytest.raises(ValueError, match="alpha"):
        PReLU(alpha="a")
    with pytest.raises(ValueError, match="alpha"):
        ELU(alpha=np.inf)
    with pytest.raises(ValueError, match="sparsity_weight=.*must be below"):
        SparseAutoEncoder(sparsity_weight=1e300).fit(digits01)
    with pytest.raises(NotFittedError):
        MLPRegressorGD().coefs_
    with pytest.raises(NotFittedError):
        AutoEncoder().intercepts_


def test_validation_sets_are_checked_up_front(rng):
    X, y = _regression(rng)
    with pytest.raises(ValueError, match="validation_fraction") as info:
        MLPRegressorGD(early_stopping=True).fit(X[:1], y[:1])
    assert "test_size" not in str(info.value)
    with pytest.raises(ValueError, match="X_val has 1 sample"):
        MLPRegressorGD().fit(X, y, X_val=X[:1], y_val=y[:1])
    with pytest.raises(ValueError, match="X_val has 1 sample"):
        AutoEncoder().fit(X, X_val=X[:1])
    w_val = np.zeros(5)
    w_val[0] = 1.0  # one weighted sample: R^2 is not defined
    with pytest.raises(ValueError, match="sample_weight_val gives a positive"):
        MLPRegressorGD().fit(X, y, X_val=X[:5], y_val=y[:5], sample_weight_val=w_val)
    with pytest.raises(ValueError, match="y_val has 2 outputs, but y has 1"):
        MLPRegressorGD().fit(X, y, X_val=X[:5], y_val=np.c_[y[:5], y[:5]])


def test_scikit_learn_conventions_carried_over(rng):
    X, y = _regression(rng)
    with pytest.warns(ConvergenceWarning):
        reg = MLPRegressorGD(n_iter_no_change=np.inf, tol=1e9, max_iter=7).fit(X, y)
    assert reg.n_iter_ == 7  # the stopping rule is off
    # scikit-learn's partial_fit ignores early_stopping; skae says so
    reg = MLPRegressorGD(early_stopping=True)
    with pytest.warns(UserWarning, match="early_stopping applies to fit"):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 1


def test_a_finite_explosion_of_J_warns(rng):
    X, y = _regression(rng)
    with pytest.warns(ConvergenceWarning, match="learning_rate_init") as record:
        reg = MLPRegressorGD(learning_rate_init=10, max_iter=50, random_state=0).fit(
            X, y
        )
    assert any("rose from" in str(w.message) for w in record)
    assert reg.loss_ > 1e3 * reg.loss_curve_[0]


def test_the_divergence_error_is_public():
    import skae

    assert issubclass(skae.DivergenceError, ValueError)
    assert skae.DivergenceError.__module__ == "skae.exceptions"
    assert "DivergenceError" in skae.__all__


def test_validation_outputs_that_overflow_score_minus_infinity():
    # found by the fuzz: float32 data of 1e9, one step, the held-out rows'
    # outputs overflow while the training J stays finite
    a = [1.2573022e8, -1.3210486e8, 6.4042266e8, 1.0490012e8, -5.3566938e8, 3.6e8]
    b = [-2.3250307e9, -2.1879166e8, -1.2459109e9, -7.3226733e8, -5.44e8, -3.16e8]
    X = np.array([a, a, b, a], np.float32)
    y = np.array([-6.53828609e8, -1.29613634e8, 7.83975470e8, 1.49343115e9])
    reg = MLPRegressorGD(
        hidden_layer_sizes=(3,),
        activation="elu",
        solver="sgd",
        max_iter=1,
        momentum=0.0,
        early_stopping=True,
        validation_fraction=0.3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert reg.validation_scores_ == [-np.inf]
    assert reg.validation_loss_curve_ == [np.inf]


def test_float32_scores_average_in_float64(rng):
    ae = AutoEncoder(n_components=1, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        ae.fit(rng.uniform(size=(20, 1)).astype(np.float32))
    # each loss is about 9e36, finite in float32; their float32 sum is not
    score = ae.score(np.full((100, 1), 3e18, np.float32))
    assert np.isfinite(score) and score < -1e36


def test_a_second_ctrl_c_stops_at_once(rng):
    import signal

    class TwiceAtThree(DoNothingCallback):
        ended = 0

        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "iteration":
                self.ended += 1
                if self.ended == 3:
                    signal.raise_signal(signal.SIGINT)
                    signal.raise_signal(signal.SIGINT)  # impatient: raises here
                    raise AssertionError("the second Ctrl-C did not stop here")

    X, y = _regression(rng)
    reg = MLPRegressorGD(hidden_layer_sizes=(5,), max_iter=50, random_state=0)
    reg.set_callbacks(TwiceAtThree())
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X, y)
    # stopped where it was; the three recorded iterations are kept whole
    assert reg.n_iter_ == len(reg.loss_curve_) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- the memory a fit may use -------------------------------------------------------


def test_the_memory_check_reads_the_process_address_space_limit():
    # a 10-row CSR of 2e7 features: 8e7 parameters, about 18 GiB for L-BFGS,
    # within this machine's memory but not within a 4 GiB RLIMIT_AS, under
    # which the fit died after 16 s with a bare MemoryError
    code = """
import resource
import numpy as np
from scipy import sparse
from skae import AutoEncoder

rng = np.random.default_rng(0)
rows, columns = np.arange(10).repeat(20), rng.integers(0, 20_000_000, 200)
X = sparse.csr_matrix((rng.uniform(size=200), (rows, columns)), (10, 20_000_000))
resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY))
try:
    AutoEncoder(n_components=2, corruption="masking", corruption_level=0.2).fit(X)
except ValueError as error:
    print(error)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert "address-space limit (RLIMIT_AS) leaves" in result.stdout, result.stderr
    assert "The data has 20,000,000 features" in result.stdout


@pytest.mark.parametrize(
    "files, expected",
    [
        # cgroup v2: the process's group and the container's root
        ({"0::/job": "", "job/memory.max": "1000", "job/memory.current": "300"}, 700),
        ({"0::/": "", "memory.max": "max", "memory.current": "5"}, None),
        # v1: the memory controller's group, "no limit" is a huge number
        (
            {
                "4:memory:/job": "",
                "memory/job/memory.limit_in_bytes": "2000",
                "memory/job/memory.usage_in_bytes": "500",
                "memory/memory.limit_in_bytes": "9223372036854771712",
            },
            1500,
        ),
        # the host's path is not mounted in the container: its root is read
        (
            {
                "4:memory:/host/path": "",
                "memory/memory.limit_in_bytes": "4096",
                "memory/memory.usage_in_bytes": "96",
            },
            4000,
        ),
    ],
)
def test_the_memory_check_reads_a_containers_cgroup(tmp_path, files, expected):
    from skae._training.memory import _cgroup_memory_left

    membership = "\n".join(line for line in files if ":" in line) + "\n"
    (tmp_path / "cgroup").write_text(membership)
    root = tmp_path / "sys"
    for name, content in files.items():
        if ":" not in name:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(content + "\n")
    root.mkdir(exist_ok=True)
    assert _cgroup_memory_left(str(root), str(tmp_path / "cgroup")) == expected


def test_a_network_too_wide_for_its_data_names_the_features():
    from skae._math.network import Network
    from skae._training.checks import check_memory
    from skae.activations import Identity, Sigmoid

    n_features = 10**9
    network = Network((n_features, 8, n_features), Sigmoid(), Identity())
    with pytest.raises(ValueError) as info:
        check_memory(AutoEncoder(n_components=8), network, 100, np.float64, 2**34)
    message = str(info.value)
    assert "The data has 1,000,000,000 features" in message
    assert "TruncatedSVD" in message and "feature_selection" in message
    assert "narrower layers" not in message
    # where narrower layers would fit, they are the advice
    network = Network((1000, 10**6, 1000), Sigmoid(), Identity())
    with pytest.raises(ValueError, match="narrower layers"):
        check_memory(AutoEncoder(n_components=10**6), network, 100, np.float64, 2**30)


@pytest.mark.parametrize(
    "estimator",
    [
        MLPRegressorGD(early_stopping=True),
        AutoEncoder(early_stopping=True, solver="adam"),
    ],
    ids=["regressor", "autoencoder"],
)
def test_one_sample_under_early_stopping_says_so_in_scikit_learns_words(estimator):
    # scikit-learn's check looks for "1 sample", "n_samples = 1", ...; the
    # hold-out split's explanation stays
    from sklearn.utils.estimator_checks import check_fit2d_1sample

    check_fit2d_1sample(type(estimator).__name__, estimator)
    with pytest.raises(ValueError, match=r"n_samples = 1\).*validation_fraction"):
        estimator.fit(
            np.ones((1, 3)), *([np.ones(1)] if hasattr(estimator, "predict") else [])
        )


def test_partial_fit_on_lbfgs_names_the_solvers_that_have_it():
    for estimator in (MLPRegressorGD(solver="lbfgs"), AutoEncoder()):
        with pytest.raises(
            AttributeError, match="has no attribute 'partial_fit'"
        ) as info:
            estimator.partial_fit(np.ones((3, 2)), np.ones(3))
        # scikit-learn's words, caused by skae's: which solvers have it
        assert "solver='sgd' and solver='adam'" in str(info.value.__cause__)


def test_string_targets_of_the_regressor_say_it_is_a_regressor():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match="is a regressor: y must hold numbers") as info:
        MLPRegressorGD().fit(X, ["a", "b", "a", "b", "a"])
    assert "MLPClassifier" in str(info.value)
    with pytest.warns(ConvergenceWarning):  # numbers written as strings train
        MLPRegressorGD(max_iter=2).fit(X, ["1.5", "2", "3", "4", "5"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_takes_min_max_scaled_data_with_its_rounding(dtype):
    # MinMaxScaler rounds a feature's maximum to 1 + 2.2e-16 on the breast
    # cancer data (row 461, feature 13): data in [0, 1] up to rounding fit;
    # beyond a few units of it they are refused, with the values in full
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import MinMaxScaler

    X = MinMaxScaler().fit_transform(load_breast_cancer().data).astype(dtype)
    if dtype is np.float64:
        assert X.max() > 1  # the rounding this test is about
    ae = AutoEncoder(n_components=3, out_activation="sigmoid", max_iter=3)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    assert np.isfinite(ae.score(X))
    eps = np.finfo(dtype).eps
    for bad in (1 + 8 * eps, -8 * eps):
        X_bad = X.copy()
        X_bad[0, 0] = bad
        shown = re.escape(f"{float(X_bad[0, 0]):.17g}")  # in full
        with pytest.raises(ValueError, match=rf"ranges over \[.*{shown}"):
            ae.score(X_bad)
