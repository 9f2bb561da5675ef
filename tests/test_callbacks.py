"""scikit-learn's callbacks: a task per epoch or L-BFGS iteration, and stopping."""

# License: BSD-3-Clause

import warnings

import numpy as np
import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder, reconstruction_scorer

SOLVERS = ["sgd", "adam", "lbfgs"]


class Recorder:
    """A callback that records its hooks and can ask training to stop."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.events = []
        self.losses = []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context, *, X=None, fitted_estimator=None):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        self.events.append(("end", context.task_name))
        if context.task_name == "iteration" and fitted_estimator is not None:
            # a copy ready to use, as if fit had stopped here
            self.losses.append(fitted_estimator.transform(X).sum())
            return self.stop_at is not None and len(self.losses) >= self.stop_at
        return False


def _fit(estimator, X, y):
    return (
        estimator.fit(X, y)
        if isinstance(estimator, MLPRegressorGD)
        else estimator.fit(X)
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", [MLPRegressorGD, AutoEncoder, SparseAutoEncoder])
def test_one_task_per_epoch_or_iteration(cls, solver, regression_data):
    X, y = regression_data
    recorder = Recorder()
    estimator = cls(solver=solver, max_iter=6, tol=0.0, random_state=0)
    estimator.set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning):
        _fit(estimator, X, y)
    assert recorder.events[0] == "setup" and recorder.events[-1] == "teardown"
    begins = [e for e in recorder.events if e[0] == "begin" and e[1] == "iteration"]
    ends = [e for e in recorder.events if e[0] == "end" and e[1] == "iteration"]
    # one task per iteration, plus the one left open at the end (closed empty)
    assert len(begins) == len(ends) == estimator.n_iter_ + 1
    assert len(recorder.losses) == estimator.n_iter_


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callback_can_stop_training(solver, regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(solver=solver, max_iter=50, tol=0.0, random_state=0)
    reg.set_callbacks(Recorder(stop_at=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop
        reg.fit(X, y)
    assert reg.n_iter_ == 3
    assert np.isfinite(reg.predict(X)).all()


def test_scoring_monitor_logs_a_score_per_epoch(regression_data):
    X, y = regression_data
    monitor = ScoringMonitor(scoring="r2")
    reg = MLPRegressorGD(solver="adam", max_iter=8, tol=0.0, random_state=0)
    reg.set_callbacks(monitor)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    log = monitor.get_logs()  # the most recent run
    rows = [row for row in log.data if row["task_name"] == "iteration"]
    assert len(rows) == reg.n_iter_
    assert rows[-1]["r2"] == pytest.approx(reg.score(X, y))
    assert rows[-1]["r2"] > rows[0]["r2"]


def test_progress_bar_in_a_pipeline_inside_a_grid_search(regression_data, capsys):
    X, y = regression_data
    pipe = make_pipeline(
        StandardScaler(),
        MLPRegressorGD(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
    )
    search = GridSearchCV(pipe, {"mlpregressorgd__weight_decay": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    output = capsys.readouterr().out
    assert "GridSearchCV" in output
    assert "MLPRegressorGD" in output


def test_verbose_still_prints_with_callbacks(regression_data, capsys):
    X, y = regression_data
    reg = MLPRegressorGD(max_iter=2, tol=0.0, verbose=True, random_state=0)
    reg.set_callbacks(Recorder())
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert capsys.readouterr().out.count("Iteration") == 2


@pytest.mark.parametrize("solver", SOLVERS)
def test_greedy_pretraining_stages_are_tasks_of_the_fit(solver, regression_data):
    X, _ = regression_data
    recorder = Recorder()
    estimator = AutoEncoder(
        n_components=2, hidden_layer_sizes=(4,), init="greedy", solver=solver
    )
    estimator.set_params(max_iter=3, tol=0.0, random_state=0)
    estimator.set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    tasks = [e for e in recorder.events if e not in ("setup", "teardown")]
    # the fit, then a task per stage, then the iterations of the whole network
    assert tasks[:5] == [
        ("begin", "fit"),
        ("begin", "pretraining"),
        ("end", "pretraining"),
        ("begin", "pretraining"),
        ("end", "pretraining"),
    ]
    assert tasks[-1] == ("end", "fit")
    iterations = [e for e in tasks if e == ("end", "iteration")]
    assert len(iterations) == estimator.n_iter_ + 1


def test_progress_bars_follow_the_pretraining_stages(regression_data, capsys):
    X, y = regression_data
    estimator = MLPRegressorGD(
        hidden_layer_sizes=(4, 3), init="greedy", max_iter=3, random_state=0
    )
    estimator.set_callbacks(ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    assert len(estimator.pretrain_loss_curves_) == 2
    assert estimator.n_iter_ == 3


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", [AutoEncoder, SparseAutoEncoder])
def test_scoring_monitor_with_the_autoencoders_own_score(cls, solver, regression_data):
    X, _ = regression_data
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    monitor = ScoringMonitor(scoring=reconstruction_scorer)
    ae = cls(n_components=3, solver=solver, max_iter=8, tol=0.0, random_state=0)
    ae.set_callbacks(monitor)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
    assert len(rows) == ae.n_iter_
    assert rows[-1]["score"] == pytest.approx(ae.score(X), rel=1e-12)
    assert rows[-1]["score"] > rows[0]["score"]


@pytest.mark.parametrize("scoring", ["r2", "neg_mean_squared_error", ["r2"]])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_scorer_that_needs_predict_names_the_fix(scoring, solver, regression_data):
    X, _ = regression_data
    ae = AutoEncoder(n_components=2, solver=solver, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    before = (ae.coefs_[0].copy(), ae.n_iter_, list(ae.loss_curve_))
    ae.set_callbacks(ScoringMonitor(scoring=scoring))
    with pytest.raises(AttributeError, match=r"reconstruction_scorer") as info:
        ae.set_params(max_iter=4).fit(X[::-1])
    assert "'predict'" in str(info.value) and "AutoEncoder" in str(info.value)
    assert isinstance(info.value.__cause__, AttributeError)  # scikit-learn's own
    # the failed fit left the fitted model as it was
    np.testing.assert_array_equal(ae.coefs_[0], before[0])
    assert (ae.n_iter_, ae.loss_curve_) == before[1:]


def test_other_attribute_errors_of_callbacks_are_not_rewritten(regression_data):
    X, _ = regression_data

    class Broken(Recorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            raise AttributeError("my callback's own mistake")

    ae = AutoEncoder(n_components=2, max_iter=3, random_state=0)
    ae.set_callbacks(Broken())
    with pytest.raises(AttributeError, match="^my callback's own mistake$"):
        ae.fit(X)
