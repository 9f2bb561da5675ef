"""SPEC.md's bad-input table, row by row: a clear error, and nothing lost."""

# License: BSD-3-Clause

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder
from skae.activations import ACTIVATIONS

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
def test_divergence_names_the_step_and_keeps_finite_parameters(
    estimator, params, digits01
):
    estimator = clone(estimator).set_params(**params)
    X = 1e200 * digits01[:60, :8]  # unscaled data and a step far too large
    with pytest.raises(ValueError, match="diverged at iteration") as info:
        _fit(estimator, X)
    assert "learning_rate_init" in str(info.value)
    assert "StandardScaler" in str(info.value)
    assert all(np.isfinite(W).all() for W in estimator.coefs_ + estimator.intercepts_)


def test_divergence_keeps_the_parameters_of_the_last_finite_step(rng):
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1)
    y_outlier = y.copy()
    y_outlier[-1] = 1e200  # its squared error overflows at the 30th step
    params = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        batch_size=1,
        shuffle=False,
        random_state=0,
    )
    reg = MLPRegressorGD(**params)
    with pytest.raises(ValueError, match="iteration 1, step 30"):
        reg.fit(X, y_outlier)
    # the same 29 steps, without the outlier
    reference = MLPRegressorGD(max_iter=1, **params)
    with pytest.warns(ConvergenceWarning):
        reference.fit(X[:-1], y[:-1])
    for W, W_ref in zip(
        reg.coefs_ + reg.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert np.array_equal(W, W_ref)


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


class _CtrlC:
    """A callback that presses Ctrl-C once ``iteration`` epochs (or L-BFGS
    iterations) have ended: injected through the training loop's per-iteration
    task, as a user's interrupt would arrive."""

    def __init__(self, iteration):
        self.iteration = iteration
        self.ended = 0

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

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
