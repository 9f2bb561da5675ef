"""skae.Checkpoint: atomic checkpoints during fit, and exact resumes from them."""

# License: BSD-3-Clause

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skae
from skae import (
    AutoEncoder,
    Checkpoint,
    MLPClassifierGD,
    MLPRegressorGD,
    ReconstructionOutlierDetector,
    VariationalAutoEncoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(5,), batch_size=16, tol=0.0, random_state=0)


def _data():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(80, 6))
    y = np.tanh(X @ rng.normal(size=6))
    return X, y


X, Y = _data()
LABELS = (Y > np.median(Y)).astype(int)


def _fit(estimator, **kwargs):
    if isinstance(estimator, MLPClassifierGD):
        return estimator.fit(X, LABELS, **kwargs)
    if isinstance(estimator, MLPRegressorGD):
        return estimator.fit(X, Y, **kwargs)
    return estimator.fit(X, **kwargs)


def _partial_fit(estimator):
    if isinstance(estimator, MLPClassifierGD):
        return estimator.partial_fit(X, LABELS, classes=[0, 1])
    if isinstance(estimator, MLPRegressorGD):
        return estimator.partial_fit(X, Y)
    return estimator.partial_fit(X)


def _assert_same_run(resumed, uninterrupted):
    """Bit for bit the same parameters, solver state and record."""
    np.testing.assert_array_equal(resumed._theta, uninterrupted._theta)
    assert resumed.loss_curve_ == uninterrupted.loss_curve_
    assert resumed.t_ == uninterrupted.t_
    assert pickle.dumps(resumed._optimizer.state) == pickle.dumps(
        uninterrupted._optimizer.state
    )


class Counting(Checkpoint):
    """A Checkpoint that notes the iteration of each file it writes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.written = []

    def _write(self, estimator):
        super()._write(estimator)
        self.written.append(len(estimator.loss_curve_))


# -- when it writes, and what ----------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_writes_every_n_iter_the_estimator_of_that_iteration(solver, tmp_path):
    path = tmp_path / "model.pkl"
    checkpoint = Counting(path, every_n_iter=3)
    reg = MLPRegressorGD(solver=solver, max_iter=7, **SMALL).set_callbacks(checkpoint)
    reg.fit(X, Y)
    assert checkpoint.written == [3, 6] and reg.n_iter_ == 7
    saved = Checkpoint.load(path)
    assert saved.n_iter_ == 6 and saved.loss_curve_ == reg.loss_curve_[:6]
    assert not any(key.startswith("_skl") for key in vars(saved))  # no callbacks
    # the estimator as it was at the end of iteration 6: a fit stopped there
    stopped = _fit(MLPRegressorGD(solver=solver, max_iter=6, **SMALL))
    np.testing.assert_array_equal(saved.predict(X), stopped.predict(X))
    assert sorted(os.listdir(tmp_path)) == ["model.pkl"]


def test_every_iteration_by_default_and_the_count_goes_on_across_calls(tmp_path):
    default = Counting(tmp_path / "all.pkl")
    every_2 = Counting(tmp_path / "even.pkl", every_n_iter=2)
    ae = AutoEncoder(n_components=2, solver="adam", max_iter=3, **SMALL)
    ae.set_callbacks(default, every_2)
    ae.fit(X)
    ae.set_params(warm_start=True).fit(X)
    _partial_fit(ae)
    # len(loss_curve_) counts: 3 epochs, 3 more, then one partial_fit
    assert default.written == [1, 2, 3, 4, 5, 6, 7]
    assert every_2.written == [2, 4, 6]
    assert "even.pkl'), every_n_iter=2)" in repr(every_2)


def test_on_improvement_writes_the_best_iterations(tmp_path):
    rng = np.random.default_rng(1)
    X_val = rng.uniform(size=(20, 6))
    best = Counting(tmp_path / "best.pkl", on_improvement=True)
    reg = MLPRegressorGD(solver="sgd", learning_rate_init=0.5, max_iter=12, **SMALL)
    reg.set_callbacks(best).fit(X, Y, X_val=X_val, y_val=np.tanh(X_val.sum(1)))
    scores = reg.validation_scores_
    new_best = [
        i + 1 for i, s in enumerate(scores) if s > max(scores[:i], default=-1e300)
    ]
    assert best.written == new_best and len(new_best) < len(scores)  # a few only
    saved = Checkpoint.load(tmp_path / "best.pkl")
    assert saved.validation_scores_[-1] == max(scores)


def test_on_improvement_saves_what_early_stopping_ends_on(tmp_path):
    path = tmp_path / "best.pkl"
    reg = MLPRegressorGD(
        early_stopping=True, n_iter_no_change=3, max_iter=40, **SMALL
    ).set_callbacks(Checkpoint(path, on_improvement=True, every_n_iter=None))
    _fit(reg)
    np.testing.assert_array_equal(Checkpoint.load(path)._theta, reg._theta)


def test_on_improvement_without_validation_set_is_an_error(tmp_path):
    path = tmp_path / "best.pkl"
    reg = MLPRegressorGD(max_iter=3, **SMALL)
    reg.set_callbacks(Checkpoint(path, on_improvement=True))
    with pytest.raises(ValueError, match="no validation set: pass X_val"):
        _fit(reg)
    with pytest.raises(ValueError, match="partial_fit holds out nothing"):
        _partial_fit(reg)
    assert not hasattr(reg, "_theta") and not path.exists()
    # a warm start without the X_val of the fit before: at its first iteration
    reg.set_callbacks()
    _fit(reg, X_val=X[:10], y_val=Y[:10])
    reg.set_callbacks(Checkpoint(path, on_improvement=True))
    with pytest.raises(ValueError, match="records no validation score"):
        _fit(reg.set_params(warm_start=True))
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3  # rolled back


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(every_n_iter=0), InvalidParameterError),
        (dict(every_n_iter=True), InvalidParameterError),
        (dict(format="json"), InvalidParameterError),
        (dict(on_improvement="yes"), InvalidParameterError),
    ],
)
def test_parameters_are_checked(params, error, tmp_path):
    with pytest.raises(error):
        Checkpoint(tmp_path / "model.pkl", **params)
    with pytest.raises(InvalidParameterError):
        Checkpoint(3)


# -- formats and loading -------------------------------------------------------


def test_skops_format_round_trips_and_trusts_skae_classes_only(tmp_path, monkeypatch):
    skops_io = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    ae = AutoEncoder(n_components=2, solver="adam", max_iter=2, **SMALL)
    ae.set_callbacks(Checkpoint(path, format="skops")).fit(X)
    restored = Checkpoint.load(path)
    np.testing.assert_array_equal(restored.transform(X), ae.transform(X))
    _assert_same_run(restored, ae)
    real = skops_io.get_untrusted_types
    # a module imported into a skae module is no skae class; os.system neither
    for name in ["skae._training.checkpoint.os", "posix.system"]:
        monkeypatch.setattr(
            skops_io, "get_untrusted_types", lambda name=name, **kw: [*real(**kw), name]
        )
        with pytest.raises(ValueError, match=f"trusted: \\['{name}'\\]"):
            Checkpoint.load(path)


def test_skops_missing_is_a_clear_import_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match="needs skops.*pip install skops"):
        Checkpoint(tmp_path / "model.skops", format="skops")


def test_a_failed_write_keeps_the_previous_checkpoint_and_no_temporary(
    tmp_path, monkeypatch
):
    path = tmp_path / "model.pkl"
    reg = MLPRegressorGD(solver="adam", max_iter=2, **SMALL)
    reg.set_callbacks(Checkpoint(path)).fit(X, Y)
    before = path.read_bytes()

    def failing_dump(obj, file, *args, **kwargs):
        file.write(before[:20])  # a few bytes, then the disk is full
        raise OSError("No space left on device")

    monkeypatch.setattr(pickle, "dump", failing_dump)
    with pytest.raises(OSError, match="No space left"):
        reg.set_params(warm_start=True).fit(X, Y)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.pkl"]
    assert path.read_bytes() == before
    assert Checkpoint.load(path).n_iter_ == 2
    assert reg.n_iter_ == 2  # the failed fit left the estimator as it was


# -- meta-estimators and pretraining -------------------------------------------


def test_meta_estimators_write_the_skae_estimator(tmp_path):
    path = tmp_path / "model.pkl"
    reg = MLPRegressorGD(max_iter=2, **SMALL).set_callbacks(Checkpoint(path))
    pipe = make_pipeline(StandardScaler(), reg).fit(X, Y)
    assert type(Checkpoint.load(path)) is MLPRegressorGD
    np.testing.assert_array_equal(Checkpoint.load(path)._theta, pipe[-1]._theta)
    # every candidate's fit shares it, the refit writes last
    search = GridSearchCV(reg, {"weight_decay": [1e-4, 1e-1]}, cv=2).fit(X, Y)
    np.testing.assert_array_equal(
        Checkpoint.load(path)._theta, search.best_estimator_._theta
    )
    ae = AutoEncoder(n_components=2, max_iter=2, **SMALL)
    detector = ReconstructionOutlierDetector(ae.set_callbacks(Checkpoint(path)))
    detector.fit(X)
    np.testing.assert_array_equal(
        Checkpoint.load(path)._theta, detector.estimator_._theta
    )
    assert os.listdir(tmp_path) == ["model.pkl"]
    for meta in (search, pipe):
        meta.set_callbacks(Checkpoint(tmp_path / "meta.pkl"))
        with pytest.raises(TypeError, match="Set it on the skae estimator"):
            meta.fit(X, Y)


def test_greedy_pretraining_stages_are_never_written(tmp_path):
    checkpoint = Counting(tmp_path / "model.pkl")
    ae = AutoEncoder(n_components=2, hidden_layer_sizes=(4,), init="greedy")
    ae.set_params(max_iter=2, tol=0.0, random_state=0).set_callbacks(checkpoint)
    ae.fit(X)  # two stages of 2 epochs, then 2 epochs of the whole network
    assert checkpoint.written == [1, 2]
    saved = Checkpoint.load(tmp_path / "model.pkl")
    assert len(saved.coefs_) == 4 and len(saved.pretrain_loss_curves_) == 2
    np.testing.assert_array_equal(saved._theta, ae._theta)


# -- resuming --------------------------------------------------------------------

PARTIAL_FIT = [
    (MLPRegressorGD, {}),
    (MLPClassifierGD, {}),
    (AutoEncoder, dict(n_components=2)),
]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "cls, params",
    [
        *PARTIAL_FIT,
        # noise drawn per call: from the stream the file holds
        (VariationalAutoEncoder, dict(n_components=2)),
        (AutoEncoder, dict(n_components=2, corruption="gaussian")),
        (MLPClassifierGD, dict(dropout=0.3, activation=("tanh",))),
    ],
    ids=["regressor", "classifier", "autoencoder", "vae", "denoising", "dropout"],
)
def test_resume_with_partial_fit_is_exact(cls, params, solver, tmp_path):
    path = tmp_path / "model.pkl"
    uninterrupted = cls(solver=solver, **SMALL, **params)
    uninterrupted.set_callbacks(Checkpoint(path, every_n_iter=3))
    for _ in range(5):
        _partial_fit(uninterrupted)
    resumed = Checkpoint.load(path)  # epoch 3
    for _ in range(2):
        _partial_fit(resumed)
    _assert_same_run(resumed, uninterrupted)


FIT_RESUMES = {
    "regressor-sgd": MLPRegressorGD(solver="sgd", **SMALL),
    "regressor-adam": MLPRegressorGD(solver="adam", **SMALL),
    "classifier-adam": MLPClassifierGD(solver="adam", **SMALL),
    "autoencoder-sgd": AutoEncoder(n_components=2, solver="sgd", **SMALL),
    "random_state-None": MLPRegressorGD(**{**SMALL, "random_state": None}),
    "greedy": AutoEncoder(n_components=2, solver="adam", init="greedy", **SMALL),
    "cosine-lr_period": MLPRegressorGD(learning_rate="cosine", lr_period=3, **SMALL),
    # the masks' seeds come from the estimator's stream, which the file holds
    "dropout": MLPRegressorGD(dropout=0.4, **SMALL),
    # the loss improves by tol at epoch 1 only: the step is divided at
    # epoch 6, the checkpoint's
    "adaptive": MLPRegressorGD(
        solver="sgd",
        learning_rate="adaptive",
        **{**SMALL, "tol": 10.0},
        n_iter_no_change=5,
    ),
}


@pytest.mark.parametrize("name", FIT_RESUMES)
def test_resume_with_a_warm_start_is_exact(name, tmp_path):
    path = tmp_path / "model.pkl"
    uninterrupted = FIT_RESUMES[name].set_params(max_iter=8)
    uninterrupted.set_callbacks(Checkpoint(path, every_n_iter=6))
    _fit(uninterrupted)
    resumed = Checkpoint.load(path)
    assert len(resumed.loss_curve_) == 6
    resumed.set_params(warm_start=True, max_iter=8 - len(resumed.loss_curve_))
    _fit(resumed)
    _assert_same_run(resumed, uninterrupted)
    assert resumed.n_iter_ == 2 and uninterrupted.n_iter_ == 8


def test_resume_with_a_validation_set_is_exact(tmp_path):
    path = tmp_path / "model.pkl"
    X_val, y_val = X[:20] + 0.1, Y[:20]
    uninterrupted = MLPRegressorGD(max_iter=6, **SMALL)
    uninterrupted.set_callbacks(Checkpoint(path, every_n_iter=4))
    uninterrupted.fit(X, Y, X_val=X_val, y_val=y_val)
    resumed = Checkpoint.load(path).set_params(warm_start=True, max_iter=2)
    resumed.fit(X, Y, X_val=X_val, y_val=y_val)
    _assert_same_run(resumed, uninterrupted)
    assert resumed.validation_scores_ == uninterrupted.validation_scores_


# -- a real interruption -----------------------------------------------------------

CHILD = """
import os, signal, sys
import numpy as np
import skae
from skae import Checkpoint, MLPRegressorGD

class KillAfter:
    '''SIGKILL this process at the end of iteration 5, between checkpoints.'''
    def setup(self, estimator, context): pass
    def teardown(self, estimator, context): pass
    def on_fit_task_begin(self, estimator, context): pass
    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration" and len(estimator.loss_curve_) == 5:
            if "skops" in sys.modules:  # never imported for a pickle Checkpoint
                sys.exit(3)
            os.kill(os.getpid(), signal.SIGKILL)

rng = np.random.default_rng(0)
X = rng.uniform(size=(80, 6))
y = np.tanh(X @ rng.normal(size=6))
reg = MLPRegressorGD(solver="adam", max_iter=9, **{SMALL!r})
reg.set_callbacks(Checkpoint(sys.argv[1], every_n_iter=2), KillAfter())
reg.fit(X, y)
sys.exit(4)  # never reached
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_killed_between_checkpoints_resumes_exactly(tmp_path):
    path = tmp_path / "model.pkl"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD).replace("{SMALL!r}", repr(SMALL)))
    root = Path(skae.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.run(
        [sys.executable, str(script), str(path)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert sorted(os.listdir(tmp_path)) == ["child.py", "model.pkl"]
    resumed = Checkpoint.load(path)
    assert resumed.n_iter_ == 4  # the last checkpoint before the kill
    resumed.set_params(warm_start=True, max_iter=9 - len(resumed.loss_curve_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        resumed.fit(X, Y)
    uninterrupted = MLPRegressorGD(solver="adam", max_iter=9, **SMALL).fit(X, Y)
    _assert_same_run(resumed, uninterrupted)
