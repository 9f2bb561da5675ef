"""The shared training loop: training methods, stopping, warm start, partial_fit."""

# License: BSD-3-Clause

import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

import skae._training.batches
from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder

SOLVERS = ["sgd", "adam", "lbfgs"]

# the lecture's three training methods, as SPEC.md sets them
TRAINING_METHODS = {
    "batch_gd": dict(solver="sgd", momentum=0.0, batch_size="full"),
    "sgd": dict(solver="sgd", momentum=0.0, batch_size=1),
    "mini_batch_sgd": dict(solver="sgd", batch_size=16),
}


def _estimators(**params):
    """One of each estimator, small, with the given parameters."""
    return [
        MLPRegressorGD(hidden_layer_sizes=(8,), **params),
        AutoEncoder(n_components=4, **params),
        SparseAutoEncoder(n_components=4, **params),
    ]


def _assert_same_parameters(first, second):
    """Bitwise-identical weights and biases."""
    for W1, W2 in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_
    ):
        assert np.array_equal(W1, W2)


def _objective_by_hand(reg, X, y):
    """SPEC's J for a regressor: mean squared error summed over outputs plus
    weight decay on the weights, from the public attributes."""
    residual = ((reg.predict(X) - y) ** 2).sum(axis=1).mean()
    return residual + reg.weight_decay * sum((W**2).sum() for W in reg.coefs_)


def _fit(estimator, X, y):
    if isinstance(estimator, MLPRegressorGD):
        return estimator.fit(X, y)
    return estimator.fit(X)


@pytest.mark.parametrize("method", sorted(TRAINING_METHODS))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_training_methods_drive_the_objective_down(method, regression_data):
    X, y = regression_data
    # one step per epoch for Batch GD: a larger step and more epochs
    rate, epochs = (0.1, 100) if method == "batch_gd" else (0.01, 30)
    params = dict(TRAINING_METHODS[method], learning_rate_init=rate, random_state=0)
    for estimator in _estimators(max_iter=epochs, **params):
        _fit(estimator, X, y)
        curve = estimator.loss_curve_
        assert len(curve) == estimator.n_iter_
        assert curve[-1] < 0.8 * curve[0], type(estimator).__name__


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_batch_gd_loss_curve_is_monotone(regression_data):
    X, y = regression_data
    params = dict(TRAINING_METHODS["batch_gd"], learning_rate_init=0.01, tol=0.0)
    for estimator in _estimators(max_iter=100, random_state=0, **params):
        _fit(estimator, X, y)
        assert np.all(np.diff(estimator.loss_curve_) <= 0), type(estimator).__name__


def test_batch_gd_reports_the_objective_before_each_step(regression_data):
    # one epoch of Batch GD is one step, and loss_ is J at the starting point:
    # a second estimator warm-started from the first reports J after that step
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(5,),
        solver="sgd",
        momentum=0.0,
        batch_size="full",
        max_iter=1,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    before = reg.loss_
    j_after_first_fit = _objective_by_hand(reg, X, y)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert reg.loss_ == pytest.approx(j_after_first_fit, rel=1e-10)
    assert reg.loss_ < before


@pytest.mark.parametrize("solver", SOLVERS)
def test_stops_after_n_iter_no_change_without_improvement(solver, regression_data):
    X, y = regression_data
    # with a huge tol only the first iteration counts as an improvement
    for estimator in _estimators(
        solver=solver, tol=1e6, n_iter_no_change=3, random_state=0
    ):
        _fit(estimator, X, y)
        assert estimator.n_iter_ == 4, type(estimator).__name__


@pytest.mark.parametrize("solver", SOLVERS)
def test_convergence_warning_when_max_iter_runs_out(solver, regression_data):
    X, y = regression_data
    for estimator in _estimators(solver=solver, tol=0.0, max_iter=3, random_state=0):
        with pytest.warns(ConvergenceWarning, match="max_iter"):
            _fit(estimator, X, y)
        assert estimator.n_iter_ == 3


def test_adaptive_learning_rate_decays_before_stopping(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="adaptive",
        tol=1e6,
        n_iter_no_change=2,
        random_state=0,
    )
    reg.fit(X, y)
    # every n_iter_no_change epochs the rate is divided by 5, from 1e-3 until it
    # is no longer above 1e-6: 1e-3 / 5**5 = 3.2e-7, so five decays, then stop
    assert reg.n_iter_ == 1 + 2 * 5 + 2


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dtype_is_preserved(solver, dtype, regression_data):
    X, y = regression_data
    X = X.astype(dtype)
    for estimator in _estimators(solver=solver, max_iter=5, random_state=0):
        _fit(estimator, X, y)
        assert all(W.dtype == dtype for W in estimator.coefs_)
        assert all(b.dtype == dtype for b in estimator.intercepts_)
        assert estimator.transform(X).dtype == dtype
        if isinstance(estimator, MLPRegressorGD):
            assert estimator.predict(X).dtype == dtype
        else:
            assert estimator.inverse_transform(estimator.transform(X)).dtype == dtype


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_random_state_gives_identical_parameters(solver, regression_data):
    X, y = regression_data
    params = dict(solver=solver, max_iter=10, early_stopping=solver != "lbfgs")
    for first, second in zip(
        _estimators(random_state=7, **params), _estimators(random_state=7, **params)
    ):
        _fit(first, X, y)
        _fit(second, X, y)
        _assert_same_parameters(first, second)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pickle_round_trip_gives_identical_outputs(regression_data):
    X, y = regression_data
    for estimator in _estimators(solver="adam", max_iter=5, random_state=0):
        _fit(estimator, X, y)
        restored = pickle.loads(pickle.dumps(estimator))
        assert np.array_equal(restored.transform(X), estimator.transform(X))
        if isinstance(estimator, MLPRegressorGD):
            assert np.array_equal(restored.predict(X), estimator.predict(X))
        else:
            assert restored.score(X) == estimator.score(X)
        # the fitted attributes are still views of one parameter vector
        restored.coefs_[0][0, 0] += 1.0
        assert restored.coefs_[0][0, 0] == estimator.coefs_[0][0, 0] + 1.0


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_input_gives_the_dense_model(solver, fmt, rng):
    X = rng.uniform(size=(60, 8)) * (rng.uniform(size=(60, 8)) < 0.3)
    y = X @ rng.normal(size=8)
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    params = dict(solver=solver, max_iter=10, random_state=0)
    for dense_est, sparse_est in zip(_estimators(**params), _estimators(**params)):
        _fit(dense_est, X, y)
        _fit(sparse_est, X_sparse, y)
        for W1, W2 in zip(dense_est.coefs_, sparse_est.coefs_):
            np.testing.assert_allclose(W1, W2, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(
            dense_est.transform(X),
            sparse_est.transform(X_sparse),
            rtol=1e-6,
            atol=1e-9,
        )


def test_warm_start_continues_the_previous_fit(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,),
        max_iter=20,
        tol=0.0,
        learning_rate_init=0.01,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    first_curve = list(reg.loss_curve_)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert reg.loss_curve_[:20] == first_curve
    assert len(reg.loss_curve_) == 40  # the whole record
    assert reg.n_iter_ == 20  # the latest fit's epochs, as in scikit-learn
    # the second fit starts where the first ended, far below the first start
    assert first_curve[-1] < 0.5 * first_curve[0]
    assert reg.loss_curve_[20] < 1.01 * first_curve[-1]


def test_partial_fit_keeps_solver_state_and_reads_parameters(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.9,
        learning_rate_init=0.01,
        random_state=0,
    )
    reg.partial_fit(X, y)
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 2
    assert reg.t_ == 2 * X.shape[0]
    # a negligible learning rate: the parameters still move, by the velocity
    # the solver kept from the earlier calls
    reg.set_params(learning_rate_init=1e-12)
    before = np.concatenate([W.ravel() for W in reg.coefs_])
    reg.partial_fit(X, y)
    after = np.concatenate([W.ravel() for W in reg.coefs_])
    assert np.abs(after - before).max() > 1e-6

    # without momentum, the same negligible rate leaves them (almost) still
    plain = MLPRegressorGD(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.01,
        random_state=0,
    )
    plain.partial_fit(X, y)
    plain.set_params(learning_rate_init=1e-12)
    before = np.concatenate([W.ravel() for W in plain.coefs_])
    plain.partial_fit(X, y)
    after = np.concatenate([W.ravel() for W in plain.coefs_])
    assert np.abs(after - before).max() < 1e-9


def test_partial_fit_only_for_stochastic_solvers():
    assert not hasattr(MLPRegressorGD(solver="lbfgs"), "partial_fit")
    assert not hasattr(AutoEncoder(), "partial_fit")  # lbfgs by default
    assert hasattr(AutoEncoder(solver="adam"), "partial_fit")
    assert hasattr(SparseAutoEncoder(solver="sgd"), "partial_fit")


def test_partial_fit_trains_an_autoencoder_batch_by_batch(digits01):
    ae = AutoEncoder(
        n_components=16, solver="adam", learning_rate_init=0.01, random_state=0
    )
    scores = []
    for _ in range(5):
        for chunk in np.array_split(digits01, 3):
            ae.partial_fit(chunk)
        scores.append(ae.score(digits01))
    assert scores[-1] > scores[0]


@pytest.mark.parametrize("solver", SOLVERS)
def test_early_stopping_keeps_the_best_parameters(solver, regression_data, monkeypatch):
    X, y = regression_data
    n_val = 20

    def last_rows_held_out(*arrays, test_size, random_state, stratify=None):
        parts = []
        for array in arrays:
            parts += [array[:-n_val], array[-n_val:]]
        return parts

    monkeypatch.setattr(skae._training.batches, "train_test_split", last_rows_held_out)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(30,),
        solver=solver,
        early_stopping=True,
        learning_rate_init=0.05,
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
    )
    reg.fit(X, y)
    scores = reg.validation_scores_
    assert len(scores) == reg.n_iter_
    assert reg.best_validation_score_ == max(scores)
    assert reg.n_iter_ < reg.max_iter  # it stopped early
    # the kept parameters are those that scored best on the held-out rows
    held_out = r2_score(y[-n_val:], reg.predict(X[-n_val:]))
    assert held_out == pytest.approx(reg.best_validation_score_, rel=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_verbose_prints_one_line_per_epoch(regression_data, capsys):
    X, y = regression_data
    MLPRegressorGD(
        hidden_layer_sizes=(4,),
        max_iter=3,
        tol=0.0,
        verbose=True,
        early_stopping=True,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Iteration 1, loss = ")
    assert "validation score = " in lines[0] and "time = " in lines[0]


def _snapshot(estimator):
    """Every attribute of an estimator, as bytes, to compare states exactly."""
    return pickle.dumps(sorted(vars(estimator).items()))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_may_switch_solver_and_early_stopping(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,),
        solver="adam",
        max_iter=5,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    reg.set_params(solver="sgd").fit(X, y)
    reg.set_params(solver="adam", early_stopping=True).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_ >= 1
    assert len(reg.loss_curve_) == 10 + reg.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_refuses_a_changed_architecture(regression_data, digits01):
    ae = AutoEncoder(n_components=3, max_iter=5, warm_start=True, random_state=0).fit(
        digits01
    )
    for change in [
        dict(n_components=4),
        dict(activation="tanh"),
        dict(out_activation="sigmoid"),
        dict(hidden_layer_sizes=(5,)),
    ]:
        before = _snapshot(ae)
        with pytest.raises(ValueError, match="warm_start=False"):
            clone_params = ae.get_params()
            ae.set_params(**change).fit(digits01)
        ae.set_params(**clone_params)
        assert _snapshot(ae) == before
    X, y = regression_data
    reg = MLPRegressorGD(solver="adam", random_state=0).partial_fit(X, y[:, 0])
    with pytest.raises(ValueError, match="layer sizes"):
        reg.partial_fit(X, y)


def test_lbfgs_warning_names_the_limit_it_hit(digits01):
    ae = AutoEncoder(n_components=4, max_iter=200, max_fun=15, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="reached max_fun"):
        ae.fit(digits01)
    assert ae.n_iter_ <= 15


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_user_validation_set_is_scored_every_epoch(solver, regression_data):
    X, y = regression_data
    X_train, y_train, X_val, y_val = X[:90], y[:90], X[90:], y[90:]
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,), solver=solver, max_iter=20, random_state=0
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == reg.n_iter_
    # the last entries describe the final parameters
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X_val, y_val))
    assert reg.validation_loss_curve_[-1] == pytest.approx(
        _objective_by_hand(reg, X_val, y_val)
    )
    # training loss and validation loss are the same objective, side by side
    assert len(reg.loss_curve_) == len(reg.validation_loss_curve_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_early_stopping_uses_the_user_validation_set(solver, regression_data):
    X, y = regression_data
    X_train, y_train, X_val, y_val = X[:90], y[:90], X[90:], y[90:]
    reg = MLPRegressorGD(
        hidden_layer_sizes=(30,),
        solver=solver,
        early_stopping=True,
        learning_rate_init=0.05,
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    # nothing was held out of X_train, and the kept parameters are the best
    # ones on the given validation set
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert reg.score(X_val, y_val) == pytest.approx(reg.best_validation_score_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_autoencoder_validation_set(digits01):
    ae = AutoEncoder(n_components=6, max_iter=10, random_state=0)
    ae.fit(digits01[:200], X_val=digits01[200:])
    assert len(ae.validation_loss_curve_) == ae.n_iter_
    assert ae.validation_scores_[-1] == pytest.approx(ae.score(digits01[200:]))


def test_validation_set_errors(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="X_val and y_val go together"):
        MLPRegressorGD().fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="features"):
        MLPRegressorGD(max_iter=2).fit(X, y, X_val=X[:, :3], y_val=y)


def test_best_parameters_of_a_failed_fit_do_not_leak_into_the_next(rng):
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e3,
        momentum=0.0,
        early_stopping=True,
        max_iter=50,
        random_state=0,
    )
    with pytest.raises(ValueError, match="diverged at iteration [2-9]"):
        reg.fit(X * 1e3, y * 1e3)  # diverges after scoring some epochs
    reg.set_params(
        learning_rate_init=1e-3,
        early_stopping=False,
        hidden_layer_sizes=(3,),
        max_iter=5,
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert [W.shape for W in reg.coefs_] == [(5, 3), (3, 1)]
    assert np.abs(reg.predict(X)).max() < 100


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_each_warm_started_fit_keeps_its_own_best_parameters(regression_data):
    X, y = regression_data
    X_val, y_val = X[100:], y[100:]
    reg = MLPRegressorGD(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        warm_start=True,
        n_iter_no_change=3,
        max_iter=40,
        random_state=0,
    )
    for rate in [0.01, 0.01, 0.3]:  # the last fit only makes things worse
        reg.set_params(learning_rate_init=rate).fit(
            X[:100], y[:100], X_val=X_val, y_val=y_val
        )
        assert reg.score(X_val, y_val) == pytest.approx(reg.best_validation_score_)


def test_validation_set_needs_what_the_training_set_needs(digits01):
    with pytest.raises(ValueError, match="MinMaxScaler"):
        AutoEncoder(out_activation="sigmoid").fit(digits01, X_val=5 * digits01 - 2)
    with pytest.raises(ValueError, match="sample_weight_val"):
        MLPRegressorGD().fit(digits01, digits01[:, 0], sample_weight_val=np.ones(300))


# -- an L-BFGS fit that stalls at the data's scale ----------------------------


def _linear_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    return X, X @ rng.normal(size=6) + 0.1 * rng.normal(size=200)


@pytest.mark.parametrize("scale", [1e50, 1e100, 1e150])
def test_lbfgs_that_learns_nothing_at_the_targets_scale_warns(scale):
    # scipy stops after one iteration with its status 0 (no decrease of J
    # left in float64) and R^2 about -0.03 on the training data itself
    X, y = _linear_data()
    est = MLPRegressorGD(
        hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="barely moved the objective J") as w:
        est.fit(X, y * scale)
    message = str(w[0].message)
    assert f"targets' standard deviation {np.std(y * scale):.3g}" in message
    assert "StandardScaler" in message and "TransformedTargetRegressor" in message
    assert est.score(X, y * scale) < 0.1  # what the warning is about


@pytest.mark.parametrize("noise", [False, True])
def test_warm_starts_of_a_converged_lbfgs_fit_do_not_warn(noise):
    # at the minimum J barely moves: a good fit (R^2 0.998), or pure noise
    # (the mean target's loss), is not a stall
    X, y = _linear_data()
    if noise:
        y = np.random.default_rng(1).normal(size=y.shape)
    est = MLPRegressorGD(
        hidden_layer_sizes=(5,), solver="lbfgs", max_iter=2000, random_state=0
    ).fit(X, y)
    est.set_params(warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            est.fit(X, y)


def test_a_convergence_warning_points_at_the_users_line():
    # a filter by module or a traceback then finds the user's fit, not skae
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _linear_data()
    with pytest.warns(ConvergenceWarning) as record:
        MLPRegressorGD(max_iter=2, random_state=0).fit(X, y)
    assert record[0].filename == __file__
    with pytest.warns(ConvergenceWarning) as record:  # through scikit-learn
        pipe = make_pipeline(StandardScaler(), MLPRegressorGD(max_iter=2))
        cross_val_score(pipe, X, y, cv=2)
    assert record[0].filename == __file__
