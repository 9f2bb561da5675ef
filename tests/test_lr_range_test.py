"""lr_range_test: the learning-rate range test, and plot_lr_range_test."""

# License: BSD-3-Clause

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import SGDRegressor
from sklearn.utils.validation import check_is_fitted

from skae import (
    AutoEncoder,
    DivergenceError,
    MLPClassifierGD,
    MLPRegressorGD,
    lr_range_test,
)
from skae.plotting import plot_lr_range_test


def regressor(**params):
    return MLPRegressorGD(hidden_layer_sizes=(8,), random_state=0, **params)


def test_rates_grow_geometrically_from_min_lr_to_max_lr(regression_data):
    X, y = regression_data
    result = lr_range_test(
        regressor(batch_size=10), X, y, min_lr=1e-5, max_lr=1e-3, n_steps=25
    )
    rates = result.learning_rates
    assert not result.stopped_early and len(rates) == 25
    assert rates[0] == pytest.approx(1e-5) and rates[-1] == pytest.approx(1e-3)
    np.testing.assert_allclose(np.diff(np.log(rates)), np.log(100) / 24)


# ranges too short to reach the explosion, on purpose
STILL_FALLING = "ignore:.*smoothed loss was still falling:UserWarning"


@pytest.mark.filterwarnings(STILL_FALLING)
def test_each_step_is_one_partial_fit_at_its_rate(regression_data):
    """The losses are the clone's record, one step each: the same as
    partial_fit called by hand on the batches in order (no shuffling)."""
    X, y = regression_data
    estimator = regressor(solver="sgd", batch_size=16, shuffle=False)
    result = lr_range_test(estimator, X, y, min_lr=1e-4, max_lr=1e-1, n_steps=12)
    np.testing.assert_array_equal(result.losses, result.model.loss_curve_)
    assert result.model.n_iter_ == len(result.losses) == 12

    by_hand = clone(estimator).set_params(batch_size="full")
    epoch = [slice(start, start + 16) for start in range(0, 120, 16)]  # 7x16, 8
    for rows, rate in zip(epoch + epoch, result.learning_rates):
        by_hand.set_params(learning_rate_init=rate)
        by_hand.partial_fit(X[rows], y[rows])
    np.testing.assert_allclose(result.losses, by_hand.loss_curve_, rtol=1e-12)


@pytest.mark.filterwarnings(STILL_FALLING)
def test_smoothed_losses_are_the_debiased_moving_average(regression_data):
    X, y = regression_data
    result = lr_range_test(regressor(), X, y, max_lr=1e-2, n_steps=10, smoothing=0.9)
    average, expected = 0.0, []
    for i, loss in enumerate(result.losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.smoothed_losses, expected)
    assert result.smoothed_losses[0] == result.losses[0]  # debiased
    raw = lr_range_test(regressor(), X, y, max_lr=1e-2, n_steps=10, smoothing=0)
    np.testing.assert_array_equal(raw.smoothed_losses, raw.losses)


@pytest.mark.parametrize("stop_factor", [4.0, 1e300])
def test_stops_at_the_explosion_and_suggests_a_rate_below_it(
    regression_data, stop_factor
):
    """A huge max_lr on SGD: the loss explodes, by the stop factor or (with a
    stop factor never reached) a DivergenceError of partial_fit."""
    X, y = regression_data
    result = lr_range_test(
        regressor(solver="sgd", batch_size=20),
        X,
        y,
        max_lr=1e6,
        n_steps=80,
        stop_factor=stop_factor,
        random_state=0,
    )
    assert result.stopped_early and len(result.losses) < 80
    assert np.isfinite(result.losses).all()
    lowest = np.argmin(result.smoothed_losses)
    assert result.lowest_loss_learning_rate == result.learning_rates[lowest]
    assert result.suggested_learning_rate == pytest.approx(
        result.lowest_loss_learning_rate / 10
    )
    # below the explosion, where the loss had fallen below its start
    assert result.suggested_learning_rate < result.learning_rates[-1] / 10
    assert result.smoothed_losses[lowest] < result.losses[0]
    if stop_factor == 4.0:
        assert result.smoothed_losses[-1] > 4 * result.smoothed_losses.min()


def test_warns_when_no_rate_made_progress(regression_data):
    X, y = regression_data
    with pytest.warns(UserWarning, match="lowest at the first step"):
        result = lr_range_test(regressor(solver="sgd"), X, y, min_lr=1e3, max_lr=1e9)
    assert result.suggested_learning_rate < 1e3


def test_a_first_step_that_diverges_is_an_error(regression_data):
    X, y = regression_data
    with pytest.raises(DivergenceError, match="first step.*Lower min_lr"):
        lr_range_test(regressor(solver="sgd"), X, y, min_lr=1e200, max_lr=1e201)


def test_warns_when_the_loss_still_falls_at_max_lr(regression_data):
    X, y = regression_data
    with pytest.warns(UserWarning, match="still falling.*Raise max_lr"):
        result = lr_range_test(
            regressor(), X, y, min_lr=1e-3, max_lr=1e-2, n_steps=10, smoothing=0.5
        )
    assert not result.stopped_early
    assert np.argmin(result.smoothed_losses) == 9


@pytest.mark.parametrize("fitted", [False, True])
def test_the_estimator_passed_is_left_unchanged(regression_data, fitted):
    X, y = regression_data
    estimator = regressor(solver="sgd", init="greedy", max_iter=3, tol=0)
    if fitted:
        with pytest.warns(Warning):  # max_iter reached
            estimator.fit(X, y)
        coefs = [w.copy() for w in estimator.coefs_]
        record = list(estimator.loss_curve_), estimator.n_iter_
    params = estimator.get_params()
    result = lr_range_test(estimator, X, y, max_lr=1e2, n_steps=20, random_state=1)
    assert result.model is not estimator
    assert estimator.get_params() == params
    if fitted:
        for before, after in zip(coefs, estimator.coefs_):
            np.testing.assert_array_equal(before, after)
        assert (list(estimator.loss_curve_), estimator.n_iter_) == record
    else:
        with pytest.raises(NotFittedError):
            check_is_fitted(estimator)
    # the clone ran its own steps, from a random initialisation
    assert result.model.init == "random" and result.model.random_state == 1
    assert result.model.n_iter_ == len(result.losses)


def test_lbfgs_is_refused_with_the_reason(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="L-BFGS has no learning rate.*line search"):
        lr_range_test(regressor(solver="lbfgs"), X, y)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(min_lr=1e-2, max_lr=1e-3), "min_lr must be smaller than max_lr"),
        (dict(min_lr=1e-2, max_lr=1e-2), "min_lr must be smaller than max_lr"),
        (dict(min_lr=0.0), "min_lr must be a positive"),
        (dict(max_lr=np.inf), "max_lr must be a positive finite"),
        (dict(min_lr="1e-3"), "min_lr must be a positive"),
        (dict(n_steps=1), "n_steps must be an int of at least 2"),
        (dict(n_steps=10.0), "n_steps must be an int"),
        (dict(n_steps=True), "n_steps must be an int"),
        (dict(smoothing=1.0), r"smoothing must be in \[0, 1\)"),
        (dict(stop_factor=1.0), "stop_factor must be"),
    ],
)
def test_bad_arguments_are_refused(regression_data, arguments, match):
    X, y = regression_data
    with pytest.raises(ValueError, match=match):
        lr_range_test(regressor(), X, y, **arguments)


def test_other_estimators_are_refused(regression_data):
    X, y = regression_data
    with pytest.raises(TypeError, match="skae's estimators"):
        lr_range_test(SGDRegressor(), X, y[:, 0])


def test_reproducible_with_a_fixed_random_state(regression_data):
    X, y = regression_data
    estimator = MLPRegressorGD(hidden_layer_sizes=(8,), batch_size=40)  # no seed
    options = dict(min_lr=1e-4, n_steps=30)
    runs = [
        lr_range_test(estimator, X, y, **options, random_state=seed)
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    assert runs[0].suggested_learning_rate == runs[1].suggested_learning_rate
    assert not np.array_equal(runs[0].losses[:20], runs[2].losses[:20])
    # without one, the estimator's own random_state seeds the test
    seeded = estimator.set_params(random_state=3)
    again = [lr_range_test(seeded, X, y, **options) for _ in range(2)]
    np.testing.assert_array_equal(again[0].losses, again[1].losses)


def test_an_autoencoder_without_y(digits01):
    ae = AutoEncoder(n_components=6, solver="adam", random_state=0)
    result = lr_range_test(ae, digits01, max_lr=100.0, n_steps=40)
    assert result.model.n_features_in_ == 64
    assert 2 <= len(result.losses) <= 40
    assert result.smoothed_losses.min() < result.losses[0]


def test_a_classifier_learns_every_class_on_its_first_batch(digits01):
    y = load_digits().target[:300]
    clf = MLPClassifierGD(hidden_layer_sizes=(16,), batch_size=5)  # < 10 classes
    result = lr_range_test(clf, digits01, y, n_steps=40, min_lr=1e-4, random_state=0)
    np.testing.assert_array_equal(result.model.classes_, np.arange(10))
    assert result.model.predict_proba(digits01).shape == (300, 10)
    assert result.smoothed_losses.min() < result.losses[0]


def test_plot_draws_the_curves_and_the_suggestion(regression_data):
    X, y = regression_data
    result = lr_range_test(regressor(solver="sgd"), X, y, max_lr=1e4, random_state=0)
    fig, ax = plt.subplots()
    assert plot_lr_range_test(result, ax=ax) is ax
    raw, smoothed, suggestion = ax.lines
    np.testing.assert_array_equal(raw.get_xdata(), result.learning_rates)
    np.testing.assert_array_equal(raw.get_ydata(), result.losses)
    np.testing.assert_array_equal(smoothed.get_ydata(), result.smoothed_losses)
    assert suggestion.get_xdata()[0] == result.suggested_learning_rate
    assert ax.get_xscale() == "log"
    # the y axis holds the curve down to its lowest point
    bottom, top = ax.get_ylim()
    assert bottom <= result.smoothed_losses.min() and result.losses[0] <= top
    plt.close(fig)


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_lr_range_test(None)
