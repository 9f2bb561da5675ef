"""Parallel safety: GridSearchCV gives the same results with one job or two."""

# License: BSD-3-Clause

import os
import sys

import numpy as np
import pytest
from callback_base import DoNothingCallback
from joblib import parallel_backend
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder

GRIDS = {
    "sparse autoencoder": (
        Pipeline(
            [
                ("sae", SparseAutoEncoder(n_components=8, max_iter=15, random_state=0)),
                ("clf", LogisticRegression(max_iter=300)),
            ]
        ),
        {
            "sae__sparsity_weight": [0.1, 3.0],
            "sae__sparsity_target": [0.05, 0.2],
            "sae__weight_decay": [1e-4, 1e-2],
        },
    ),
    "regressor": (
        MLPRegressorGD(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
        {"solver": ["sgd", "adam", "lbfgs"], "weight_decay": [1e-4, 1e-1]},
    ),
}


def _results(name, X, y, n_jobs, backend):
    estimator, grid = GRIDS[name]
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)
    with parallel_backend(backend):
        search.fit(X, y)
    return search.cv_results_


@pytest.mark.parametrize("backend", ["loky", "threading"])
@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_jobs_give_the_results_of_one(name, backend, digits01):
    X = digits01[:150]
    y = load_digits().target[:150]
    if name == "regressor":
        y = X[:, 20:22].sum(axis=1)
    serial = _results(name, X, y, 1, backend)
    parallel = _results(name, X, y, 2, backend)
    assert serial["params"] == parallel["params"]
    for key in serial:
        if key.startswith(("split", "mean_test", "std_test", "rank_test")):
            np.testing.assert_array_equal(serial[key], parallel[key], err_msg=key)


class _Meeting(DoNothingCallback):
    """A callback that holds a fit at its first iteration until the other
    fit arrives, and, for the fit that must finish last, at its second until
    the first fit has returned."""

    def __init__(self, barrier, wait_for=None, arrived=None):
        self.barrier, self.wait_for, self.ended = barrier, wait_for, 0
        self.arrived = arrived

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.task_name != "iteration":
            return
        self.ended += 1
        if self.ended == 1:
            if self.arrived is not None:
                self.arrived.set()
            self.barrier.wait(timeout=30)
        elif self.ended == 2 and self.wait_for is not None:
            assert self.wait_for.wait(timeout=30)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_overlapping_fits_in_threads_restore_scipys_blas_threads(solver):
    import threading

    from skae._training.threads import _scipy_pools

    def scipy_threads():
        return [pool["num_threads"] for pool in _scipy_pools().info()]

    before = scipy_threads()
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = X.sum(axis=1)
    barrier, first_done = threading.Barrier(2), threading.Event()
    first_in = threading.Event()
    errors = []

    def fit(max_iter, wait_for, first):
        try:
            reg = MLPRegressorGD(
                hidden_layer_sizes=(5,),
                solver=solver,
                max_iter=max_iter,
                tol=0.0,
                random_state=0,
            )
            arrived = first_in if first else None
            reg.set_callbacks(_Meeting(barrier, wait_for, arrived))
            reg.fit(X, y)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    # the first fit starts first (it is training when the second starts) and
    # ends first, while the second still runs
    threads = [
        threading.Thread(target=fit, args=(2, None, True)),
        threading.Thread(target=fit, args=(4, first_done, None)),
    ]
    threads[0].start()
    assert first_in.wait(timeout=30)
    threads[1].start()
    threads[0].join(timeout=60)
    first_done.set()  # its thread has ended: the second may go on
    threads[1].join(timeout=60)
    assert not errors, errors
    assert scipy_threads() == before


# -- NumPy's BLAS threads: chosen by timing, given back as they were -----------


def _numpy_threads():
    from skae._training.threads import _numpy_pools

    return [pool["num_threads"] for pool in _numpy_pools().info()]


class _Clock:
    """A perf_counter over which each unit of work lasts ``seconds(single)``,
    ``single`` whether the tuner runs it on one thread."""

    def __init__(self, tuner_of, seconds):
        self.now, self.tuner_of, self.seconds = 0.0, tuner_of, seconds
        self.started = False

    def __call__(self):
        # read at each begin (start) and each end of a unit, in turn
        if self.started:
            self.now += self.seconds(self.tuner_of().single)
        self.started = not self.started
        return self.now


def _run_tuner(monkeypatch, seconds, units, work=None, free_cores=1, **params):
    """Run ``units`` units of work through a tuner of large products over a
    fake clock (and ``free_cores`` cores no other process wants); return the
    tuner and whether each unit ran on one thread."""
    import skae._training.threads

    holder = []
    clock = _Clock(lambda: holder[0], seconds)
    monkeypatch.setattr(skae._training.threads.time, "perf_counter", clock)
    monkeypatch.setattr(skae._training.threads, "_free_cores", lambda: free_cores)
    tuner = skae._training.threads.BlasThreadTuner(10**9, **params)
    tuner.active = True  # also where NumPy's BLAS has one thread already
    holder.append(tuner)
    seen = []
    for unit in range(units):
        tuner.begin()
        seen.append(tuner.single)
        tuner.end(work=1.0 if work is None else work[unit])
    return tuner, seen


@pytest.mark.parametrize("single_faster", [True, False])
def test_the_tuner_keeps_the_faster_threads_and_gives_them_back(
    single_faster, monkeypatch
):
    before = _numpy_threads()
    fast, slow = 0.25, 0.375  # seconds a unit of work (exact in binary)
    # a block lasts at least 1 s on one thread; budget=1: the period rules
    # (where the system does not say what else runs)
    tuner, seen = _run_tuner(
        monkeypatch,
        lambda single: fast if single == single_faster else slow,
        60,
        free_cores=None,
        period=2,
        block_seconds=1.0,
        budget=1.0,
    )
    block = 4 if single_faster else 3  # units to last 1 s on one thread
    experiment = [True] * block + [False] * block  # one thread, then as set
    n = 1 + len(experiment)
    assert seen[:n] == [True] + experiment  # after a warm-up unit on one thread
    # the faster kept for 2 blocks' work, then compared again (no warm-up)
    assert seen[n : n + 2 * block] == [single_faster] * (2 * block)
    m = n + 2 * block
    assert seen[m : m + 2 * block] == experiment
    k = m + 2 * block  # then kept for twice as long: the period doubled
    assert seen[k : k + 4 * block] == [single_faster] * (4 * block)
    assert seen[k + 4 * block] is True  # and compared again, one thread first
    if single_faster:
        assert _numpy_threads() == [1] * len(before)
    tuner.close()
    assert _numpy_threads() == before


def test_threads_far_slower_than_one_are_tried_for_one_unit_then_rarely(
    monkeypatch,
):
    # beside a busy process, where the system does not say what else runs:
    # 9 ms a step on one thread, 100 ms on two
    tuner, seen = _run_tuner(
        monkeypatch,
        lambda single: 0.009 if single else 0.1,
        400,
        free_cores=None,
        budget=0.05,
    )
    # warm-up and a block of 20 ms on one thread, then one unit as set; a
    # busy moment? one thread for a block's work, a block, one unit as set
    assert seen[:12] == [True] * 4 + [False] + [True] * 6 + [False]
    # slow again: it lost 91 ms, so no comparison before 91 / 0.05 ms =
    # 1.82 s (202 units of 9 ms) on one thread, then a block, then a unit
    assert seen.index(False, 12) >= 12 + 202 + 3
    assert seen.count(False) == 3
    tuner.close()


def test_one_thread_as_fast_while_a_core_looks_free_is_looked_at_again_later(
    monkeypatch,
):
    # a core free at times, yet the threads as set slower whenever tried (a
    # load that comes and goes): compared again after 1, 2, 4 blocks' work
    _, seen = _run_tuner(monkeypatch, lambda single: 0.009 if single else 0.015, 60)
    tried = [i for i, single in enumerate(seen) if not single]
    # each comparison: a block of 3 units on one thread, then 3 as set
    starts = [i for i in tried if i - 1 not in tried]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[:3] == [3 + 3 + 3 * 1, 3 + 3 + 3 * 2, 3 + 3 + 3 * 4]


def test_a_busy_moment_does_not_keep_one_thread_for_long(monkeypatch):
    # two threads faster, but the first unit as set lands in a busy moment
    units = iter([0.1] + [0.006] * 1000)  # as set: slow once, then fast
    tuner, seen = _run_tuner(
        monkeypatch, lambda single: 0.009 if single else next(units), 60
    )
    assert seen[:5] == [True] * 4 + [False]
    assert seen[5:11] == [True] * 6  # a block's work, then a block
    # then two threads: a block as set, and kept till the next comparison
    assert not any(seen[11 : 11 + 3 + 8 * 3])
    tuner.close()


@pytest.mark.parametrize("free_cores", [0, -3])
def test_threads_are_not_tried_while_other_processes_want_every_core(
    free_cores, monkeypatch
):
    # the other processes' runnable threads take every core but the fit's:
    # no unit with two threads at all, and the comparisons stay cheap
    tuner, seen = _run_tuner(
        monkeypatch, lambda single: 0.009 if single else 0.1, 400, free_cores=free_cores
    )
    assert all(seen)
    assert tuner._phase == "decided" or tuner._phase == "one thread"
    tuner.close()


def test_unknown_load_tries_the_threads(monkeypatch):
    # where the system does not say (not Linux), one unit as set is the test
    _, seen = _run_tuner(
        monkeypatch, lambda single: 0.009 if single else 0.1, 10, free_cores=None
    )
    assert seen[:5] == [True, True, True, True, False]


def test_the_free_cores_are_read_from_the_system():
    import skae._training.threads

    free = skae._training.threads._free_cores()
    if sys.platform.startswith("linux"):
        cores = len(os.sched_getaffinity(0))
        assert free is not None and free <= cores - 1
    else:
        assert free is None


def test_the_comparisons_cost_at_most_the_budget_of_a_quiet_run(monkeypatch):
    # quiet: two threads 6 ms a step, one thread 8 ms
    tuner, seen = _run_tuner(
        monkeypatch, lambda single: 0.008 if single else 0.006, 400
    )
    on_one = seen.count(True)
    elapsed = 0.008 * on_one + 0.006 * (len(seen) - on_one)
    assert (0.008 - 0.006) * on_one <= 0.025 * elapsed  # what one thread lost
    assert not seen[-1]  # two threads kept
    tuner.close()


def test_the_tuner_compares_work_not_units(monkeypatch):
    """A short last batch in a block does not make its threads look faster."""
    # one thread takes 1.5 x the time per row; its block has shorter batches
    tuner, _ = _run_tuner(
        monkeypatch,
        lambda single: 0.015 if single else 0.02,
        4,
        work=[256, 128, 128, 256],  # warm-up, one, one, as set
        block_seconds=0.02,
    )
    assert tuner._phase == "decided" and tuner.single is False
    tuner.begin()
    # per unit one thread looked faster (0.015 s against 0.02 s), per row
    # it is slower (0.03 s for 256 rows against 0.02 s)
    assert tuner.single is False
    tuner.close()


def test_small_products_run_on_one_thread():
    import skae._training.threads

    before = _numpy_threads()
    tuner = skae._training.threads.BlasThreadTuner(1797 * 64)  # the digits autoencoder
    if max(before) > 1:
        assert tuner.single and _numpy_threads() == [1] * len(before)
    for _ in range(5):  # nothing timed, nothing switched
        tuner.begin()
        tuner.end()
        assert _numpy_threads() == ([1] * len(before) if max(before) > 1 else before)
    tuner.close()
    assert _numpy_threads() == before


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fits_leave_numpys_blas_threads_as_they_were(solver):
    from threadpoolctl import threadpool_limits

    X = np.random.default_rng(0).normal(size=(300, 8))
    y = X.sum(axis=1)
    before = _numpy_threads()
    reg = MLPRegressorGD(hidden_layer_sizes=(6,), solver=solver, max_iter=60)
    reg.set_params(tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert _numpy_threads() == before
    # the user's own limit wins, during the fit and after it
    seen = []

    class Watch(DoNothingCallback):
        def on_fit_task_end(self, estimator, context, **kwargs):
            seen.append(_numpy_threads())

    with threadpool_limits(limits=1, user_api="blas"):
        limited = _numpy_threads()
        with pytest.warns(ConvergenceWarning):
            clone(reg).set_callbacks(Watch()).fit(X, y)
        assert _numpy_threads() == limited
    assert all(threads == limited for threads in seen)
    assert _numpy_threads() == before


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_a_failed_or_interrupted_fit_gives_the_threads_back(solver):
    import signal

    from skae import DivergenceError

    before = _numpy_threads()
    X = np.random.default_rng(0).normal(size=(200, 8))
    with pytest.raises(DivergenceError):
        MLPRegressorGD(solver=solver, learning_rate_init=1e3).fit(X, X[:, 0] * 1e200)
    assert _numpy_threads() == before

    class CtrlC(DoNothingCallback):
        pressed = False

        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "iteration" and not self.pressed:
                self.pressed = True  # once: a second Ctrl-C raises at once
                signal.raise_signal(signal.SIGINT)

    reg = MLPRegressorGD(solver=solver, max_iter=50).set_callbacks(CtrlC())
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X, X[:, 0])
    assert _numpy_threads() == before


# fifteen iterations, on purpose; warning filters are process-wide, not per thread
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_at_once_in_threads_on_a_busy_machine_give_the_fits_alone():
    # one fit's BLAS thread limit must not reach another: a small fit that
    # read the threads another had lowered took no limit of its own, got
    # two threads back mid-run when the other ended, and OpenBLAS's sums
    # (the loss's dot product) split by thread count: its L-BFGS took
    # another path (the sparse autoencoder, 2 of 12 loaded runs)
    import subprocess
    import threading

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(600, 20))
    y = X @ rng.normal(size=20)

    def estimators():
        return [
            MLPRegressorGD(
                hidden_layer_sizes=(20,), solver="sgd", max_iter=15, random_state=1
            ),
            SparseAutoEncoder(n_components=6, max_iter=15, random_state=2),
            AutoEncoder(n_components=6, solver="adam", max_iter=15, random_state=3),
            MLPRegressorGD(
                hidden_layer_sizes=(20,), solver="lbfgs", max_iter=15, random_state=4
            ),
        ]

    def fit(estimator):
        if isinstance(estimator, MLPRegressorGD):
            estimator.fit(X, y)
        else:
            estimator.fit(X)

    alone = []
    for estimator in estimators():
        fit(estimator)
        alone.append(estimator._theta.copy())
    # the machine's other core busy, and a thread of this process busy in BLAS
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    stop = threading.Event()

    def busy():
        A = rng.uniform(size=(300, 300))
        while not stop.is_set():
            A @ A

    background = threading.Thread(target=busy)
    background.start()
    try:
        for _ in range(30):
            fits = estimators()
            threads = [threading.Thread(target=fit, args=(e,)) for e in fits]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for estimator, theta in zip(fits, alone):
                assert_array_equal(estimator._theta, theta)
    finally:
        stop.set()
        background.join()
        spinner.kill()
        spinner.wait()
