"""A small fit on a busy machine: quiet time against time beside busy processes.

The demo-sized fit (digits, 64 -> 25 -> 64, L-BFGS, 100 iterations) is timed
on a quiet machine, then with ``2 x n_cores`` other processes spinning, for
skae's ``SparseAutoEncoder`` and for scikit-learn's ``MLPRegressor`` on the
same reconstruction (X -> X). OpenBLAS worker threads that wait for a core
make small products slow on a busy machine; skae times its own work with
NumPy's threads and with one, and keeps the faster (``skae._training.threads``).

Usage: ``python benchmarks/bench_busy_machine.py [--busy N] [--repeats R]``.
Nothing is asserted about time.
"""

# License: BSD-3-Clause

import argparse
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

from skae import SparseAutoEncoder

X = MinMaxScaler().fit_transform(load_digits().data)
CONTENDERS = {
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


def _median_time(fit, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    quiet = {name: _median_time(fit, args.repeats) for name, fit in CONTENDERS.items()}
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(args.busy)
    ]
    try:
        time.sleep(1.0)
        busy = {
            name: _median_time(fit, args.repeats) for name, fit in CONTENDERS.items()
        }
    finally:
        for spinner in spinners:
            spinner.kill()
    print(
        f"{os.cpu_count()} cores, {args.busy} busy processes, medians of "
        f"{args.repeats}\n"
    )
    print("| fit | quiet | busy | busy / quiet |\n|---|---|---|---|")
    for name in CONTENDERS:
        print(
            f"| {name} | {quiet[name]:.3f} s | {busy[name]:.3f} s | "
            f"{busy[name] / quiet[name]:.1f}x |"
        )


if __name__ == "__main__":
    main()
