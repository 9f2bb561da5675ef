"""Ctrl-C for real: a SIGINT sent from another thread while ``fit`` runs.

A ``threading.Timer`` calls ``os.kill(os.getpid(), SIGINT)`` after a seeded
random delay, so Python's default handler raises ``KeyboardInterrupt`` in the
main thread wherever the fit happens to be: inside an epoch, between recording
the loss and the validation score, in scipy's L-BFGS-B, in the set-up before
training, or after it. Whatever the moment, the contract is one of:

* the signal lands during training: ``fit`` returns, warns "interrupted", and
  the estimator is fitted, usable and its training records are consistent;
* the signal lands before training starts or after it ends: either ``fit``
  raises ``KeyboardInterrupt`` and the estimator is exactly as before the
  call, or ``fit`` completes normally.

Anything else (another exception, torn records, non-finite outputs, training
leftovers, a signal that vanished) fails. Every repetition is checked and all
problems of a configuration are reported together, with the outcome counts.
"""

# License: BSD-3-Clause

import math
import os
import pickle
import signal
import threading
import time
import warnings
import zlib
from collections import Counter

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from skae import (
    AutoEncoder,
    MLPRegressorGD,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

pytestmark = pytest.mark.skipif(
    os.name != "posix", reason="a real SIGINT from another thread needs POSIX"
)

SOLVERS = ["sgd", "adam", "lbfgs"]
#: nominal length of one fit, and the range of the delays (seconds): 0.4 s
#: is hundreds of steps of these fits, 2.5 to 62% of a fit's length for the
#: signal (0.8 s took the suite 23 s longer for the same 192 signals)
FIT_SECONDS = 0.4
DELAYS = (0.01, 0.25)
REPEATS = 4
LEFTOVERS = ("_best_theta", "_fit_tasks")
RECORDS = ("loss_curve_", "validation_scores_", "validation_loss_curve_")
_THREADING_FILE = threading.__file__


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def default_sigint_handler():
    """Python's own SIGINT handler (KeyboardInterrupt) for the test, restored after."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    errors = np.geterr()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        np.seterr(**errors)


@pytest.fixture(scope="module", autouse=True)
def single_blas_thread():
    """NumPy's BLAS on one thread: on two cores its spinning workers make the
    fit durations erratic (measured 3 ms to 60 ms an epoch), and the delays
    are drawn within the expected duration."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    """Digits in [0, 1] for the autoencoders, a standardised regression problem."""
    digits = MinMaxScaler().fit_transform(load_digits().data)
    X, y = make_regression(
        n_samples=1500, n_features=20, n_informative=10, noise=5.0, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    return {
        "ae": (digits[:1500], None, digits[1500:], None),
        "reg": (X[:1200], y[:1200], X[1200:], y[1200:]),
    }


# -- estimators and fits ----------------------------------------------------------


def _make(kind, solver, mode, max_iter, **params):
    common = dict(
        solver=solver,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping="early" in mode,
        random_state=0,
        learning_rate_init=1e-3,
        **params,
    )
    if kind == "reg":
        return MLPRegressorGD(hidden_layer_sizes=(32,), **common)
    if kind == "sae":
        return SparseAutoEncoder(
            n_components=16, sparsity_target=0.1, sparsity_weight=1.0, **common
        )
    if kind == "vae":
        return VariationalAutoEncoder(
            n_components=4, hidden_layer_sizes=(16,), out_activation="sigmoid", **common
        )
    return AutoEncoder(n_components=16, **common)


def _fit_args(kind, mode, data):
    """Positional and keyword arguments of ``fit`` for a validation mode."""
    X, y, X_val, y_val = data["reg" if kind == "reg" else "ae"]
    args = (X, y) if kind == "reg" else (X,)
    kwargs = {}
    if "X_val" in mode:
        kwargs = {"X_val": X_val, "y_val": y_val} if kind == "reg" else {"X_val": X_val}
    return args, kwargs


def _snapshot(est):
    return pickle.dumps(sorted(vars(est).items()))


def _changed_keys(est, before):
    """The attributes that differ from the snapshot ``before``."""
    old, new = dict(pickle.loads(before)), vars(est)
    return sorted(
        key
        for key in set(old) | set(new)
        if key not in old
        or key not in new
        or pickle.dumps(old[key]) != pickle.dumps(new[key])
    )


def _seconds_per_iteration(kind, solver, mode, data):
    """Time an epoch (L-BFGS iteration) now, from two short uninterrupted fits."""
    args, kwargs = _fit_args(kind, mode, data)
    times = {}
    for n in (10, 50):
        est = _make(kind, solver, mode, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            est.fit(*args, **kwargs)
            times[n] = (time.perf_counter() - start, est.n_iter_)
    (t10, n10), (t50, n50) = times[10], times[50]
    per_iteration = (t50 - t10) / max(n50 - n10, 1)
    return max(per_iteration, t50 / max(n50, 1) / 4, 1e-5)


def _max_iter_for(kind, solver, mode, data, seconds=FIT_SECONDS):
    return max(
        20, math.ceil(seconds / _seconds_per_iteration(kind, solver, mode, data))
    )


def _delays(name, n, low, high):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return rng.uniform(low, high, size=n)


# -- one fit under a timed SIGINT -------------------------------------------------


def _raised_inside_call(exc):
    """Whether the KeyboardInterrupt came out of a call (the fit) rather than
    this module's own frame or the timer's threading code around it."""
    tb = exc.__traceback__.tb_next
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != _THREADING_FILE:
            return True
        tb = tb.tb_next
    return False


def _disarm(timer):
    """Cancel and join the timer; return a KeyboardInterrupt that the signal
    raised here (after the fit), so that none can reach pytest."""
    late = None
    while True:
        try:
            timer.cancel()
            timer.join()
            # a signal sent before the join is pending in the C handler: a
            # sleep checks for it, so it is raised here, not in pytest
            time.sleep(0.002)
            time.sleep(0.002)
            return late
        except KeyboardInterrupt as exc:
            late = exc


def _fit_under_sigint(est, args, kwargs, delay):
    """Fit with a SIGINT from a Timer thread after ``delay`` seconds.

    Returns a dict: ``returned`` (fit returned), ``inside`` (a KeyboardInterrupt
    came out of fit), ``outside`` (one was raised here, before or after the fit
    call), ``fired`` (the signal was sent), ``warnings``, ``seconds``.
    """
    fired = threading.Event()

    def send():
        fired.set()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(delay, send)
    timer.daemon = True
    result = {"returned": False, "inside": None, "outside": None}
    errors, config = np.geterr(), sklearn.get_config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            try:
                timer.start()
                est.fit(*args, **kwargs)
                result["returned"] = True
            except KeyboardInterrupt as exc:
                key = "inside" if _raised_inside_call(exc) else "outside"
                result[key] = exc
        finally:
            late = _disarm(timer)
        result["seconds"] = time.perf_counter() - start
    assert not timer.is_alive()
    if late is not None:
        assert result["outside"] is None and result["inside"] is None, (
            "two KeyboardInterrupts from one signal"
        )
        result["outside"] = late
    result["fired"] = fired.is_set()
    result["warnings"] = list(caught)
    result["handler"] = signal.getsignal(signal.SIGINT)
    result["notes"] = []
    if result["handler"] is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if np.geterr() != errors:
        result["notes"].append(f"NumPy's error state leaked: {np.geterr()}")
        np.seterr(**errors)
    if sklearn.get_config() != config:
        result["notes"].append("scikit-learn's global configuration leaked")
        sklearn.set_config(**config)
    return result


# -- the contract -------------------------------------------------------------------


def _interrupted_warnings(result):
    return [
        w
        for w in result["warnings"]
        if issubclass(w.category, UserWarning) and "interrupted" in str(w.message)
    ]


def _other_user_warnings(result):
    """UserWarnings other than the interrupt's and the solver's convergence."""
    return [
        w
        for w in result["warnings"]
        if issubclass(w.category, UserWarning)
        and not issubclass(w.category, ConvergenceWarning)
        and "interrupted" not in str(w.message)
    ]


def _finite(values):
    return bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def _record_problems(est, fresh, has_validation, early, same_length=True):
    """Problems with the training records of a fitted estimator."""
    problems = []
    curve = est.loss_curve_
    if fresh and est.n_iter_ != len(curve):
        problems.append(f"n_iter_={est.n_iter_} but len(loss_curve_)={len(curve)}")
    if not _finite(curve):
        problems.append("non-finite loss_curve_")
    if curve:
        if est.loss_ != curve[-1]:
            problems.append(f"loss_={est.loss_} but loss_curve_[-1]={curve[-1]}")
        if est.best_loss_ != min(curve):
            problems.append(
                f"best_loss_={est.best_loss_} but min(loss_curve_)={min(curve)}"
            )
    for name in est._loss_terms:  # J's parts, beside loss_curve_
        terms = getattr(est, f"{name}_loss_curve_")
        if len(terms) != len(curve) or not _finite(terms):
            problems.append(
                f"torn records: len({name}_loss_curve_)={len(terms)}, "
                f"len(loss_curve_)={len(curve)}"
            )
    scores, losses = est.validation_scores_, est.validation_loss_curve_
    if has_validation:
        if scores is None or losses is None:
            problems.append("no validation records despite validation data")
            return problems
        if len(scores) != len(losses):
            problems.append(
                f"torn validation records: len(validation_scores_)={len(scores)}, "
                f"len(validation_loss_curve_)={len(losses)}"
            )
        if same_length and len(scores) != len(curve):
            problems.append(
                f"torn records: len(validation_scores_)={len(scores)}, "
                f"len(loss_curve_)={len(curve)}"
            )
        if not (_finite(scores) and _finite(losses)):
            problems.append("non-finite validation records")
        if early and scores and est.best_validation_score_ != max(scores):
            problems.append(
                f"best_validation_score_={est.best_validation_score_} but "
                f"max(validation_scores_)={max(scores)}"
            )
    return problems


def _usable_problems(est, kind, data):
    """Problems using the fitted estimator and its pickled copy."""
    problems = []
    left = [name for name in LEFTOVERS if name in vars(est)]
    if left:
        problems.append(f"training leftovers in vars(est): {left}")
    try:
        copy = pickle.loads(pickle.dumps(est))
        left = [name for name in LEFTOVERS if name in vars(copy)]
        if left:
            problems.append(f"training leftovers in the pickled estimator: {left}")
        if kind == "reg":
            X, y, X_val, y_val = data["reg"]
            outputs = {
                "predict": est.predict(X_val),
                "transform": est.transform(X_val),
                "score": est.score(X_val, y_val),
            }
            if outputs["predict"].shape != y_val.shape:
                problems.append(f"predict shape {outputs['predict'].shape}")
            again = copy.predict(X_val)
        else:
            X, _, X_val, _ = data["ae"]
            codes = est.transform(X_val)
            outputs = {
                "transform": codes,
                "inverse_transform": est.inverse_transform(codes),
                "score": est.score(X_val),
                "score_samples": est.score_samples(X_val),
            }
            again = copy.transform(X_val)
        for name, value in outputs.items():
            if not _finite(value):
                problems.append(f"{name} is not finite")
        first = outputs["predict" if kind == "reg" else "transform"]
        if not np.array_equal(first, again):
            problems.append("the unpickled estimator predicts differently")
    except Exception as exc:  # noqa: BLE001 - reported as a problem
        problems.append(f"using the fitted estimator raised {exc!r}")
    return problems


def _judge(result, est, before, fresh, kind, mode, data, same_length=True):
    """Classify one fit under SIGINT and return (outcome, problems)."""
    has_validation, early = mode != "none", "early" in mode
    interrupted = _interrupted_warnings(result)
    problems = [
        f"unexpected UserWarning: {w.message}" for w in _other_user_warnings(result)
    ]
    if result["handler"] is not signal.default_int_handler:
        problems.append(f"fit left SIGINT handled by {result['handler']!r}")

    if result["inside"] is not None:  # fit raised KeyboardInterrupt
        outcome = "raised"
        if _snapshot(est) != before:
            problems.append(
                "fit raised KeyboardInterrupt but the estimator changed: "
                f"{_changed_keys(est, before)}"
            )
        if fresh:
            try:
                check_is_fitted(est)
                problems.append("fit raised KeyboardInterrupt but est is fitted")
            except NotFittedError:
                pass
        return outcome, problems

    if not result["returned"] and result["outside"] is not None:
        # raised here (or in Timer.start) before fit was called, or just after
        # it returned: an unchanged estimator tells the first case
        if _snapshot(est) == before:
            return "before", problems

    if result["returned"] or result["outside"] is not None:
        if interrupted:
            outcome = "interrupted" if est.loss_curve_ else "interrupted-at-0"
            if result["outside"] is not None:
                problems.append("interrupted warning and a KeyboardInterrupt too")
            if len(interrupted) > 1:
                problems.append(f"{len(interrupted)} interrupted warnings")
        else:
            outcome = "completed"
            if result["fired"] and result["outside"] is None:
                problems.append(
                    "the signal was sent during fit, but fit neither warned "
                    "'interrupted' nor raised KeyboardInterrupt"
                )
        problems += _record_problems(est, fresh, has_validation, early, same_length)
        problems += _usable_problems(est, kind, data)
        return outcome, problems

    return "unknown", problems + [f"unclassified result {result}"]


# -- tests --------------------------------------------------------------------------

CONFIGS = [
    *(
        ("reg", s, m)
        for s in SOLVERS
        for m in ("none", "X_val", "early", "X_val+early")
    ),
    *(("sae", s, m) for s in SOLVERS for m in ("none", "X_val", "early")),
    *(("ae", s, "X_val") for s in SOLVERS),
    # the variational autoencoder's term curves are cut back with the others
    *(("vae", s, "X_val") for s in SOLVERS),
]


class _Tally:
    """Outcomes, problems and notes of the repetitions of one configuration."""

    def __init__(self, name, max_iter):
        self.name, self.max_iter = name, max_iter
        self.outcomes, self.problems, self.notes = Counter(), [], []
        self.expected = FIT_SECONDS

    def delays(self, n, low=DELAYS[0], high=DELAYS[1]):
        """Seeded delays within the expected fit duration; when a fit ends
        before its signal (the machine got faster than measured), the next
        delays are drawn within that fit's duration instead."""
        for fraction in _delays(self.name, n, low / FIT_SECONDS, high / FIT_SECONDS):
            yield fraction * self.expected

    def add(self, i, delay, result, outcome, found):
        self.outcomes[outcome] += 1
        if outcome == "completed" and result["returned"]:
            self.expected = min(self.expected, result["seconds"])
        where = f"repeat {i} ({outcome}, delay {delay:.4f} s)"
        self.problems += [f"{where}: {p}" for p in found]
        self.notes += [f"{where}: {n}" for n in result["notes"]]

    def check(self, landed=True):
        outcomes = dict(self.outcomes)
        print(f"{self.name}: max_iter={self.max_iter}, {outcomes}")
        for note in self.notes:
            print(f"  note: {note}")
        assert not self.problems, f"{outcomes}\n" + "\n".join(self.problems)
        if landed:
            n = self.outcomes["interrupted"] + self.outcomes["interrupted-at-0"]
            assert n >= 1, f"no signal landed during training: {outcomes}"


@pytest.mark.parametrize(
    "kind, solver, mode", CONFIGS, ids=["-".join(config) for config in CONFIGS]
)
def test_sigint_during_a_fresh_fit(kind, solver, mode, data):
    """A fresh fit of about FIT_SECONDS, the signal at a random moment in it."""
    max_iter = _max_iter_for(kind, solver, mode, data)
    args, kwargs = _fit_args(kind, mode, data)
    tally = _Tally(f"fresh-{kind}-{solver}-{mode}", max_iter)
    for i, delay in enumerate(tally.delays(REPEATS)):
        est = _make(kind, solver, mode, max_iter)
        before = _snapshot(est)
        result = _fit_under_sigint(est, args, kwargs, delay)
        tally.add(
            i, delay, result, *_judge(result, est, before, True, kind, mode, data)
        )
    tally.check()


WARM = [
    *(("reg", s, first, "X_val") for s in SOLVERS for first in ("X_val", "none")),
    *(("reg", s, "early", "early") for s in SOLVERS),
    *(("sae", s, first, "X_val") for s in SOLVERS for first in ("X_val", "none")),
]


@pytest.mark.parametrize(
    "kind, solver, first, second", WARM, ids=["-".join(config) for config in WARM]
)
def test_sigint_during_a_warm_started_fit(kind, solver, first, second, data):
    """A first fit runs uninterrupted (with validation data or without); the
    warm-started second one, with validation data, is interrupted."""
    max_iter = _max_iter_for(kind, solver, second, data)
    first_args, first_kwargs = _fit_args(kind, first, data)
    args, kwargs = _fit_args(kind, second, data)
    tally = _Tally(f"warm-{kind}-{solver}-{first}-{second}", max_iter)
    for i, delay in enumerate(tally.delays(3)):
        est = _make(kind, solver, first, 30, warm_start=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(*first_args, **first_kwargs)
        est.set_params(max_iter=max_iter, early_stopping="early" in second)
        before = _snapshot(est)
        earlier = {name: list(getattr(est, name) or []) for name in RECORDS}
        result = _fit_under_sigint(est, args, kwargs, delay)
        outcome, found = _judge(
            result, est, before, False, kind, second, data, same_length=first != "none"
        )
        for name, old in earlier.items():  # the first fit's record is kept
            if list(getattr(est, name) or [])[: len(old)] != old:
                found.append(f"{name} lost the first fit's record")
        tally.add(i, delay, result, outcome, found)
    tally.check()


BOUNDARY = [(kind, s) for kind in ("reg", "sae") for s in SOLVERS]


@pytest.mark.parametrize("kind, solver", BOUNDARY, ids=["-".join(c) for c in BOUNDARY])
def test_sigint_near_the_start_and_end_of_fit(kind, solver, data):
    """Short fits with the signal aimed at the set-up and first iterations, and
    at the end of training (the last records, the best-parameter restore,
    ``_after_fit``, the return): every outcome must keep the contract, and
    here any mix of outcomes is expected."""
    mode = "X_val+early" if kind == "reg" else "X_val"
    seconds = 0.04
    max_iter = _max_iter_for(kind, solver, mode, data, seconds=seconds)
    args, kwargs = _fit_args(kind, mode, data)
    tally = _Tally(f"boundary-{kind}-{solver}", max_iter)
    delays = np.concatenate(
        [
            _delays(tally.name + "-start", 8, 0.0, 0.006),
            _delays(tally.name + "-end", 8, 0.8 * seconds, 1.3 * seconds),
        ]
    )
    for i, delay in enumerate(delays):
        est = _make(kind, solver, mode, max_iter)
        before = _snapshot(est)
        result = _fit_under_sigint(est, args, kwargs, delay)
        tally.add(
            i, delay, result, *_judge(result, est, before, True, kind, mode, data)
        )
    tally.check(landed=False)
