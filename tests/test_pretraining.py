"""Greedy layer-wise pretraining: init="greedy" on all three estimators."""

# License: BSD-3-Clause

import os
import pickle
import signal
import statistics
import warnings

import numpy as np
import pytest
from callback_base import DoNothingCallback
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import skae._math.objective
import skae._training.run
from skae import AutoEncoder, DivergenceError, MLPRegressorGD, SparseAutoEncoder
from skae._training.corruption import Corruption
from skae._training.pretraining import LayerAutoEncoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(80, 3))
    return 1 / (1 + np.exp(-latent @ rng.normal(size=(3, 10))))


@pytest.fixture
def initial(monkeypatch):
    """The parameters each fit's end-to-end training starts from."""
    starts = []
    original = skae._training.run.TrainingRun.train

    def spy(self):
        if not isinstance(self.estimator, LayerAutoEncoder):
            starts.append(self.estimator._theta.copy())
        return original(self)

    monkeypatch.setattr(skae._training.run.TrainingRun, "train", spy)
    return starts


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _stage_objective(W, b, W_out, b_out, H, output, weight_decay):
    """J of a shallow sigmoid autoencoder by the formula: the squared error of
    the reconstruction of ``H`` plus the weight decay."""
    Y = _sigmoid(H @ W + b) @ W_out + b_out
    if output == "sigmoid":
        Y = _sigmoid(Y)
    decay = weight_decay * ((W**2).sum() + (W_out**2).sum())
    return ((Y - H) ** 2).sum(axis=1).mean() + decay


def test_random_init_is_the_default_and_records_no_pretraining(X, initial):
    default = AutoEncoder(n_components=3, max_iter=20, random_state=0).fit(X)
    random = AutoEncoder(n_components=3, max_iter=20, random_state=0, init="random")
    random.fit(X)
    assert default.pretrain_loss_curves_ is None
    assert_array_equal(default.transform(X), random.transform(X))
    assert_array_equal(initial[0], initial[1])


@pytest.mark.parametrize(
    ("estimator", "n_stages"),
    [
        (AutoEncoder(n_components=3), 1),
        (AutoEncoder(n_components=3, hidden_layer_sizes=(6,)), 2),
        (SparseAutoEncoder(n_components=3, hidden_layer_sizes=(8, 6)), 3),
        (MLPRegressorGD(hidden_layer_sizes=(6,)), 1),
        (MLPRegressorGD(hidden_layer_sizes=(6, 4)), 2),
    ],
    ids=repr,
)
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_one_stage_per_hidden_layer_each_up_to_max_iter(estimator, n_stages, solver, X):
    est = estimator.set_params(init="greedy", solver=solver, max_iter=7, random_state=0)
    est.fit(X, X[:, 0]) if isinstance(est, MLPRegressorGD) else est.fit(X)
    curves = est.pretrain_loss_curves_
    assert len(curves) == n_stages
    assert all(1 <= len(curve) <= 7 for curve in curves)
    assert all(np.isfinite(curve).all() for curve in curves)
    assert 1 <= est.n_iter_ <= 7  # and then the whole network, to max_iter


def test_stages_initialise_the_encoder_and_its_mirror(X, initial):
    """The deep autoencoder starts from the stages' networks: each encoder
    layer with its mirror decoder layer reaches the stage's final loss on the
    codes of the layers below, computed here from the formula."""
    est = AutoEncoder(
        n_components=3,
        hidden_layer_sizes=(6,),
        activation="sigmoid",
        weight_decay=1e-3,
        max_iter=40,
        init="greedy",
        random_state=0,
    ).fit(X)
    start = est._network.unflatten(initial[0])
    (W0, b0), (W1, b1), (W2, b2), (W3, b3) = start
    first, second = (curve[-1] for curve in est.pretrain_loss_curves_)
    # stage 1 reconstructs X with the identity output (the estimator's)
    assert_allclose(_stage_objective(W0, b0, W3, b3, X, "identity", 1e-3), first)
    # stage 2 reconstructs the first layer's codes with the sigmoid
    H = _sigmoid(X @ W0 + b0)
    assert_allclose(_stage_objective(W1, b1, W2, b2, H, "sigmoid", 1e-3), second)
    # the end-to-end training then moves on from there
    assert not np.allclose(est.coefs_[0], W0)


def test_regressor_pretrains_its_hidden_layers_and_keeps_a_glorot_output(X, initial):
    y = X @ np.arange(10.0)
    greedy = MLPRegressorGD(
        hidden_layer_sizes=(5,), activation="tanh", init="greedy", solver="lbfgs"
    )
    greedy.set_params(max_iter=30, random_state=0, weight_decay=0.0).fit(X, y)
    random = MLPRegressorGD(hidden_layer_sizes=(5,), activation="tanh", solver="lbfgs")
    random.set_params(max_iter=30, random_state=0, weight_decay=0.0).fit(X, y)
    (W0, b0), (W1, b1) = greedy._network.unflatten(initial[0])
    (R0, _), (R1, r1) = random._network.unflatten(initial[1])
    assert not np.allclose(W0, R0) and np.any(b0 != 0)  # pretrained
    # unsupervised on X, with an identity output: the stage's final loss
    reconstruction_loss = greedy.pretrain_loss_curves_[0][-1]
    assert reconstruction_loss < ((X - X.mean(axis=0)) ** 2).sum(axis=1).mean()
    # the output layer: a Glorot draw (no pretraining), zero biases
    bound = np.sqrt(6 / (5 + 1))
    assert np.all(np.abs(W1) <= bound) and np.all(b1 == 0) and np.all(r1 == 0)


def test_the_sparsity_penalty_acts_on_the_code_layers_stage_only(X, monkeypatch):
    seen = []
    original = LayerAutoEncoder._sparsity

    def spy(self):
        result = original(self)
        seen.append(None if result is None else result[0].strength)
        return result

    monkeypatch.setattr(LayerAutoEncoder, "_sparsity", spy)
    SparseAutoEncoder(
        n_components=3,
        hidden_layer_sizes=(6,),
        sparsity_weight=2.5,
        init="greedy",
        max_iter=5,
        random_state=0,
    ).fit(X)
    assert set(seen) == {None, 2.5}
    assert seen[0] is None and seen[-1] == 2.5  # bottom stage first


def test_two_greedy_fits_with_one_seed_are_identical(X):
    def fit(seed):
        return AutoEncoder(
            n_components=3,
            hidden_layer_sizes=(6,),
            solver="adam",
            corruption="masking",
            init="greedy",
            max_iter=5,
            random_state=seed,
        ).fit(X)

    a, b, c = fit(0), fit(0), fit(1)
    assert a.pretrain_loss_curves_ == b.pretrain_loss_curves_
    assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.transform(X), c.transform(X))


def test_tied_weights_are_pretrained_tied(X):
    est = AutoEncoder(
        n_components=3,
        hidden_layer_sizes=(6,),
        tied_weights=True,
        init="greedy",
        max_iter=20,
        random_state=0,
    ).fit(X)
    assert_array_equal(est.coefs_[3], est.coefs_[0].T)
    assert_array_equal(est.coefs_[2], est.coefs_[1].T)


def test_warm_start_and_partial_fit_do_not_pretrain_again(X, monkeypatch):
    stages = []
    original = LayerAutoEncoder._fit_network

    def spy(self, *args, **kwargs):
        stages.append(self.width)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LayerAutoEncoder, "_fit_network", spy)
    est = AutoEncoder(
        n_components=3, hidden_layer_sizes=(6,), init="greedy", max_iter=5
    )
    est.set_params(random_state=0, warm_start=True).fit(X)
    curves = est.pretrain_loss_curves_
    assert stages == [6, 3]
    est.fit(X)  # a warm start: continues the network
    assert stages == [6, 3] and est.pretrain_loss_curves_ is curves
    est.set_params(solver="adam")
    est.partial_fit(X)
    assert stages == [6, 3]
    fresh = AutoEncoder(n_components=3, hidden_layer_sizes=(6,), init="greedy")
    fresh.set_params(solver="adam", random_state=0).partial_fit(X)  # a new network
    assert stages == [6, 3, 6, 3]


def test_stage_warnings_say_which_stage(X):
    est = AutoEncoder(
        n_components=3, hidden_layer_sizes=(6,), init="greedy", max_iter=2
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.set_params(random_state=0).fit(X)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert any("pretraining of hidden layer 1 of 2" in m for m in messages)
    assert any("pretraining of hidden layer 2 of 2" in m for m in messages)
    assert not any("LayerAutoEncoder" in m for m in messages)
    assert any(m.startswith("AutoEncoder: the lbfgs solver") for m in messages)


# -- interrupted or failed pretraining: the estimator as it was ----------------


def _interrupt_in_stage(monkeypatch, stage, call, how):
    """Interrupt the ``call``-th objective evaluation of the ``stage``-th stage."""
    original_fit = LayerAutoEncoder._fit_network
    original = skae._math.objective.Objective.loss_and_gradient
    state = {"stage": 0, "calls": 0, "in": False}

    def fit(self, *args, **kwargs):
        state["stage"] += 1
        state["in"], state["calls"] = True, 0
        try:
            return original_fit(self, *args, **kwargs)
        finally:
            state["in"] = False

    def evaluate(self, *args, **kwargs):
        if state["in"] and state["stage"] == stage:
            state["calls"] += 1
            if state["calls"] == call:
                if how == "signal":
                    os.kill(os.getpid(), signal.SIGINT)  # answered between steps
                else:
                    raise KeyboardInterrupt  # from anywhere, as a callback's
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LayerAutoEncoder, "_fit_network", fit)
    monkeypatch.setattr(skae._math.objective.Objective, "loss_and_gradient", evaluate)
    return state


@pytest.mark.skipif(os.name != "posix", reason="a real SIGINT needs POSIX")
@pytest.mark.parametrize("how", ["signal", "exception"])
@pytest.mark.parametrize("stage", [1, 2])
@pytest.mark.parametrize("call", [1, 4])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_ctrl_c_during_pretraining_leaves_the_estimator_as_it_was(
    solver, call, stage, how, X, monkeypatch
):
    est = AutoEncoder(
        n_components=3, hidden_layer_sizes=(6,), solver=solver, max_iter=10
    )
    est.set_params(random_state=0, batch_size=20).fit(X)
    est.set_params(init="greedy")
    before = pickle.dumps(est)
    codes = est.transform(X)
    state = _interrupt_in_stage(monkeypatch, stage, call, how)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            est.fit(X)
    assert pickle.dumps(est) == before
    assert_array_equal(est.transform(X), codes)
    assert not [w for w in caught if "interrupted" in str(w.message)]
    unfitted = AutoEncoder(n_components=3, hidden_layer_sizes=(6,), init="greedy")
    state["stage"] = 0  # the same interrupt in the first fit of a new estimator
    with pytest.raises(KeyboardInterrupt):
        unfitted.set_params(solver=solver, random_state=0, max_iter=10).fit(X)
    with pytest.raises(NotFittedError):
        unfitted.transform(X)


def test_a_diverging_stage_leaves_the_estimator_as_it_was(X):
    est = AutoEncoder(n_components=3, hidden_layer_sizes=(6,), solver="sgd")
    est.set_params(random_state=0, max_iter=5).fit(X)
    codes = est.transform(X)
    # J overflows at the first step of stage 1
    est.set_params(init="greedy", learning_rate_init=1e12, momentum=0.0)
    with pytest.raises(DivergenceError, match="pretraining of hidden layer 1") as info:
        est.fit(X * 1e150)
    assert not info.value.parameters_kept
    assert_array_equal(est.transform(X), codes)
    assert est.pretrain_loss_curves_ is None


def test_unknown_init_is_rejected_by_name(X):
    for Estimator in (AutoEncoder, SparseAutoEncoder):
        with pytest.raises(InvalidParameterError, match="'init' parameter"):
            Estimator(init="pretrained").fit(X)
    with pytest.raises(InvalidParameterError, match="'init' parameter"):
        MLPRegressorGD(init="Greedy").fit(X, X[:, 0])


def test_greedy_init_beats_random_on_a_deep_digits_autoencoder():
    """The issue's target: a 64-32-8-32-64 sigmoid autoencoder on the digits,
    max_iter=300 for every stage and the fine-tuning, median over 3 seeds, at
    most 0.9x the reconstruction error of the same network from random init."""
    X = load_digits().data / 16.0
    errors = {"random": [], "greedy": []}
    for seed in range(3):
        for init in errors:
            est = AutoEncoder(
                n_components=8,
                hidden_layer_sizes=(32,),
                activation="sigmoid",
                max_iter=300,
                init=init,
                random_state=seed,
            ).fit(X)
            errors[init].append(-est.score(X))
    greedy, random = (statistics.median(errors[k]) for k in ("greedy", "random"))
    assert greedy <= 0.9 * random


def test_the_stages_weigh_the_samples_as_the_fit_does():
    """Integer weights act as repeated rows in every stage (the first stage's
    curve is equal; later ones drift only by rounding through L-BFGS)."""
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 10), rng.rand(15)
    weights = rng.randint(0, 4, 15)
    weighted, repeated = (
        MLPRegressorGD(
            hidden_layer_sizes=(16, 8), activation="tanh", solver="lbfgs"
        ).set_params(init="greedy", random_state=0, max_iter=50)
        for _ in range(2)
    )
    weighted.fit(X, y, sample_weight=weights)
    repeated.fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    first_w, second_w = weighted.pretrain_loss_curves_
    first_r, second_r = repeated.pretrain_loss_curves_
    assert_allclose(first_w, first_r, rtol=1e-10)
    assert_allclose(second_w[:5], second_r[:5], rtol=1e-6)
    unweighted = MLPRegressorGD(hidden_layer_sizes=(16, 8), activation="tanh")
    unweighted.set_params(solver="lbfgs", init="greedy", random_state=0, max_iter=50)
    assert not np.allclose(unweighted.fit(X, y).pretrain_loss_curves_[0], first_w)


# -- found in review ----------------------------------------------------------------


def test_pretraining_leaves_other_threads_warnings_alone(X):
    """Stage warnings are named by the stage itself, not caught process-wide:
    another thread's warnings keep their words, and nothing is swallowed."""
    import threading

    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def greedy():
            for seed in range(3):
                AutoEncoder(
                    n_components=3, hidden_layer_sizes=(8, 6), init="greedy"
                ).set_params(max_iter=30, random_state=seed).fit(X)

        def plain():
            for i in range(200):
                warnings.warn(f"plain warning {i}", UserWarning)

        threads = [threading.Thread(target=greedy), threading.Thread(target=plain)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    plain_messages = [
        str(w.message) for w in caught if "plain warning" in str(w.message)
    ]
    assert len(plain_messages) == 200
    assert all(m.startswith("plain warning") for m in plain_messages)
    assert warnings.filters == filters


def test_a_callback_stopping_at_a_pretraining_task_ends_the_fit(X):
    class StopAtPretraining(DoNothingCallback):
        def on_fit_task_end(self, estimator, context, **kwargs):
            return context.task_name == "pretraining"

    est = AutoEncoder(
        n_components=2, hidden_layer_sizes=(5,), init="greedy", max_iter=10
    ).set_params(tol=0.0, random_state=0)
    est.set_callbacks(StopAtPretraining())
    est.fit(X)
    assert len(est.pretrain_loss_curves_) == 1  # the second stage skipped
    assert est.n_iter_ == 0 and est.loss_curve_ == []  # and the fine-tuning
    assert est.transform(X).shape == (80, 2)  # the pretrained network


def test_stages_score_the_validation_sets_codes(X):
    """X_val goes through the stages too: no stage splits data of its own."""
    X_val = X[:10] + 0.01
    est = AutoEncoder(
        n_components=2, early_stopping=True, init="greedy", max_iter=5
    ).set_params(random_state=0)
    est.fit(X[:10], X_val=X_val)  # 10 rows: too few to hold out 10% of
    assert len(est.pretrain_loss_curves_) == 1 and est.n_iter_ >= 1


def test_early_stopping_splits_once_for_the_stages_and_the_network(X):
    """The stages score the fit's held-out part: a split that cannot be made
    fails once, as with random init, naming the user's random_state."""
    y = X[:, 0]
    weights = np.zeros(80)
    weights[:3] = 1.0
    messages = []
    for init in ("random", "greedy"):
        est = MLPRegressorGD(hidden_layer_sizes=(4,), init=init, early_stopping=True)
        with pytest.raises(ValueError, match="early_stopping holds out") as info:
            est.set_params(random_state=0).fit(X, y, sample_weight=weights)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "random_state=0" in messages[1]


def test_errors_in_a_stage_name_the_stage(X, monkeypatch):
    def fail(self, *args, **kwargs):
        raise ValueError("what went wrong")

    monkeypatch.setattr(LayerAutoEncoder, "_fit_network", fail)
    est = AutoEncoder(n_components=2, hidden_layer_sizes=(4,), init="greedy")
    with pytest.raises(ValueError) as info:
        est.fit(X)
    assert str(info.value) == (
        "AutoEncoder, greedy pretraining of hidden layer 1 of 2: what went wrong"
    )


def test_a_stage_divergence_message_keeps_nothing(X):
    est = AutoEncoder(n_components=3, hidden_layer_sizes=(6,), solver="sgd")
    est.set_params(init="greedy", learning_rate_init=1e12, momentum=0.0)
    with pytest.raises(DivergenceError) as info:
        est.set_params(random_state=0, max_iter=5).fit(X * 1e150)
    message = str(info.value)
    assert message.startswith("AutoEncoder, greedy pretraining of hidden layer 1")
    assert "left as it was" in message and "keeps" not in message


def test_verbose_lines_say_which_stage(X, capsys):
    AutoEncoder(
        n_components=2, hidden_layer_sizes=(4,), init="greedy", max_iter=2
    ).set_params(verbose=True, random_state=0).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Greedy pretraining of hidden layer 1 of 2: Iteration 1")
    assert any(
        line.startswith("Greedy pretraining of hidden layer 2 of 2") for line in lines
    )
    assert lines[-1].startswith("Iteration 2")  # the whole network's


def test_a_failing_stage_ends_its_callback_task(X, monkeypatch):
    events = []

    class Recorder(DoNothingCallback):
        def on_fit_task_begin(self, estimator, context, **kwargs):
            events.append(("begin", context.task_name))

        def on_fit_task_end(self, estimator, context, **kwargs):
            events.append(("end", context.task_name))

    def fail(self, *args, **kwargs):
        raise RuntimeError("a stage that fails")

    monkeypatch.setattr(LayerAutoEncoder, "_fit_network", fail)
    est = AutoEncoder(n_components=2, hidden_layer_sizes=(4,), init="greedy")
    est.set_callbacks(Recorder())
    with pytest.raises(RuntimeError, match="a stage that fails"):
        est.fit(X)
    assert events == [
        ("begin", "fit"),
        ("begin", "pretraining"),
        ("end", "pretraining"),
        ("end", "fit"),
    ]


def test_a_perceptrons_denoising_stages_corrupt_their_inputs_only(X, monkeypatch):
    drawn, stages = [], []
    whole, train = Corruption.whole, skae._training.run.TrainingRun.train

    def spy_whole(self, inputs, rows):
        corrupted = whole(self, inputs, rows)
        drawn.append((self.kind, self.level, inputs, corrupted))
        return corrupted

    def spy_train(self):
        train(self)
        stages.append(self.estimator)

    monkeypatch.setattr(Corruption, "whole", spy_whole)
    monkeypatch.setattr(skae._training.run.TrainingRun, "train", spy_train)
    MLPRegressorGD(
        hidden_layer_sizes=(6, 4),
        activation="sigmoid",
        init="greedy",
        pretrain_corruption="masking",
        pretrain_corruption_level=0.3,
        solver="lbfgs",
        weight_decay=0.0,
        max_iter=30,
        random_state=0,
    ).fit(X, X @ np.arange(10.0))
    assert len(drawn) == 2 and len(stages) == 3  # the supervised fit: clean
    codes = X
    for (kind, level, clean, noisy), stage, output in zip(
        drawn, stages, ["identity", "sigmoid"]
    ):
        assert (kind, level) == ("masking", 0.3)
        assert_allclose(clean, codes, rtol=1e-12)  # input: the clean codes
        erased = noisy == 0
        assert 0.2 < erased.mean() < 0.4 and np.all(erased | (noisy == clean))
        (W, b), (W_out, b_out) = stage._network.unflatten(stage._theta)

        def J(inputs):
            Y = _sigmoid(inputs @ W + b) @ W_out + b_out
            Y = _sigmoid(Y) if output == "sigmoid" else Y
            return ((Y - clean) ** 2).sum(axis=1).mean()

        # the stage reconstructs the clean input from the corrupted one
        assert_allclose(stage.loss_curve_[-1], J(noisy), rtol=1e-10)
        assert not np.isclose(stage.loss_curve_[-1], J(clean), rtol=1e-3)
        codes = _sigmoid(clean @ W + b)


def test_pretrain_corruption_is_checked_and_needs_greedy_init(X):
    y = X[:, 0]
    model = MLPRegressorGD(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5)
    with pytest.warns(UserWarning, match="corruption='masking'.*init='greedy'"):
        model.set_params(pretrain_corruption="masking").fit(X, y)
    model.set_params(init="greedy", pretrain_corruption_level=1.0)
    with pytest.raises(InvalidParameterError, match="'pretrain_corruption_level'.*"):
        model.fit(X, y)
    model.set_params(pretrain_corruption="gaussian", pretrain_corruption_level=0.1)
    with pytest.raises(ValueError, match="pretrain_corruption='gaussian' needs dense"):
        model.fit(X, y, X_unlabeled=sparse.csr_matrix(X))
    with pytest.raises(InvalidParameterError, match="pretrain_corruption"):
        model.set_params(pretrain_corruption="blur").fit(X, y)
