"""Fits on a busy machine: skae's BLAS thread tuner against its pinned choices.

Two parts (``--part``):

``w3``
    The W3 fit of ``bench_training.py`` as a whole (AutoEncoder 10000 x 784
    -> 128, sigmoid, Adam, batches of 256, 3 epochs, float32) under three
    conditions: quiet; one core kept busy (a process spinning); intermittent
    load (a process spinning 20 ms in every 100 ms). In each, skae as shipped
    (``tuned``: NumPy's BLAS threads chosen by timing), skae pinned to one
    thread (``threadpool_limits(1)``) and to all threads (the tuner off), and
    scikit-learn's ``MLPRegressor`` on the same reconstruction, interleaved
    round by round; the table gives medians. The tuner should be within
    1.2x of the better pinned choice with a core busy, and never above 1.5x
    its quiet time under intermittent load.
``digits``
    The demo-sized fit (digits, 64 -> 25 -> 64, L-BFGS, 100 iterations),
    quiet and beside ``2 x n_cores`` spinning processes, for skae's
    ``SparseAutoEncoder`` and scikit-learn's ``MLPRegressor``: small
    products run on one thread (``skae._training.threads``).

Usage: ``python benchmarks/bench_busy_machine.py [--part w3|digits|all]
[--rounds R]``. Nothing is asserted about time.
"""

# License: BSD-3-Clause

import argparse
import contextlib
import os
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

import skae._training.run
from skae import AutoEncoder, SparseAutoEncoder

SPIN = "while True: pass"
# spins 20 ms, then sleeps 80 ms, for ever
INTERMITTENT = """
import time
while True:
    end = time.perf_counter() + 0.02
    while time.perf_counter() < end:
        pass
    time.sleep(0.08)
"""


# -- W3 as a whole fit -------------------------------------------------------------


def w3_data(seed=0):
    """bench_training.py's W3 data: [0, 1] with structure, float32."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(10000, 16))
    X = 1 / (1 + np.exp(-latent @ rng.normal(size=(16, 784))))
    return X.astype(np.float32)


def _skae_w3(X):
    return AutoEncoder(
        n_components=128,
        activation="sigmoid",
        solver="adam",
        batch_size=256,
        max_iter=3,
        tol=0.0,
        n_iter_no_change=4,
        random_state=0,
    ).fit(X)


class _AllThreads(skae._training.run.BlasThreadTuner):
    """The tuner switched off: NumPy's BLAS threads as set, throughout."""

    def __init__(self, product_size, **params):
        super().__init__(product_size, **params)
        self._use(single=False)
        self.active = False


@contextlib.contextmanager
def _all_threads():
    shipped = skae._training.run.BlasThreadTuner
    skae._training.run.BlasThreadTuner = _AllThreads
    try:
        yield
    finally:
        skae._training.run.BlasThreadTuner = shipped


def w3_contenders(X):
    def tuned():
        _skae_w3(X)

    def one_thread():
        with threadpool_limits(1, user_api="blas"):
            _skae_w3(X)

    def all_threads():
        with _all_threads():
            _skae_w3(X)

    def sklearn():
        MLPRegressor(
            hidden_layer_sizes=(128,),
            activation="logistic",
            solver="adam",
            batch_size=256,
            max_iter=3,
            tol=0.0,
            n_iter_no_change=4,
            alpha=1e-4,
            random_state=0,
        ).fit(X, X)

    return {
        "skae tuned": tuned,
        "skae one thread": one_thread,
        "skae all threads": all_threads,
        "scikit-learn": sklearn,
    }


@contextlib.contextmanager
def load(condition):
    """No other process, one spinning, or one spinning 20 ms in every 100 ms."""
    code = {"quiet": None, "one core busy": SPIN, "intermittent": INTERMITTENT}[
        condition
    ]
    process = None if code is None else subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.5)
        yield
    finally:
        if process is not None:
            process.kill()
            process.wait()


def interleaved(contenders, rounds):
    """Median seconds of each contender over ``rounds`` rounds, in turn."""
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fit in contenders.items():
            start = time.perf_counter()
            fit()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(seconds)) for name, seconds in times.items()}


def run_w3(rounds):
    X = w3_data()
    contenders = w3_contenders(X)
    _skae_w3(X)  # the first fit pays for imports and page faults
    results = {}
    for condition in ("quiet", "one core busy", "intermittent"):
        with load(condition):
            results[condition] = interleaved(contenders, rounds)
    quiet = results["quiet"]["skae tuned"]
    print(
        f"W3 (AutoEncoder 10000 x 784 -> 128, sigmoid, adam, batch 256, 3 "
        f"epochs, float32), {os.cpu_count()} cores, medians of {rounds} "
        "interleaved rounds\n"
    )
    print(
        "| condition | skae tuned | skae one thread | skae all threads | "
        "scikit-learn | tuned / better pinned | tuned / quiet tuned | "
        "tuned / scikit-learn |\n|---|---|---|---|---|---|---|---|"
    )
    for condition, t in results.items():
        better = min(t["skae one thread"], t["skae all threads"])
        print(
            f"| {condition} | {t['skae tuned']:.3f} s | "
            f"{t['skae one thread']:.3f} s | {t['skae all threads']:.3f} s | "
            f"{t['scikit-learn']:.3f} s | {t['skae tuned'] / better:.2f} | "
            f"{t['skae tuned'] / quiet:.2f} | "
            f"{t['skae tuned'] / t['scikit-learn']:.2f} |"
        )
    print()


# -- the digits fit beside many busy processes ---------------------------------------


def run_digits(rounds):
    X = MinMaxScaler().fit_transform(load_digits().data)
    contenders = {
        "skae SparseAutoEncoder": lambda: SparseAutoEncoder(
            n_components=25,
            sparsity_target=0.1,
            sparsity_weight=3.0,
            max_iter=100,
            tol=0.0,
            random_state=0,
        ).fit(X),
        "scikit-learn MLPRegressor": lambda: MLPRegressor(
            hidden_layer_sizes=(25,),
            activation="logistic",
            solver="lbfgs",
            max_iter=100,
            tol=0.0,
            random_state=0,
        ).fit(X, X),
    }
    n_busy = 2 * (os.cpu_count() or 1)
    quiet = interleaved(contenders, rounds)
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n_busy)]
    try:
        time.sleep(1.0)
        busy = interleaved(contenders, rounds)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(
        f"digits (64 -> 25 -> 64, L-BFGS, 100 iterations), {os.cpu_count()} "
        f"cores, {n_busy} busy processes, medians of {rounds}\n"
    )
    print("| fit | quiet | busy | busy / quiet |\n|---|---|---|---|")
    for name in contenders:
        print(
            f"| {name} | {quiet[name]:.3f} s | {busy[name]:.3f} s | "
            f"{busy[name] / quiet[name]:.1f}x |"
        )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("w3", "digits", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.part in ("w3", "all"):
        run_w3(args.rounds)
    if args.part in ("digits", "all"):
        run_digits(args.rounds)


if __name__ == "__main__":
    main()
