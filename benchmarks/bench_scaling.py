"""Scaling: fit time and peak memory against the number of rows and the width.

For each solver, an ``AutoEncoder`` (``n_features=64``, sigmoid code, identity
decoder) is fitted for a fixed number of iterations on synthetic data in
[0, 1], first with N from 1,000 to 200,000 rows at ``n_components=32``, then
with ``n_components`` from 16 to 1,024 at 20,000 rows. Peak memory is the
largest traced allocation during ``fit`` (tracemalloc, so above the data
itself), under scikit-learn's ``working_memory`` (``--working-memory``, MiB).
Writes a Markdown section (``--output``) for benchmarks/RESULTS.md. Nothing is
asserted about time.

Usage: ``python benchmarks/bench_scaling.py [--working-memory 64] [--output F]``
"""

# License: BSD-3-Clause

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoder

N_FEATURES = 64
ITERATIONS = {"lbfgs": 20, "adam": 3, "sgd": 3}  # iterations, epochs, epochs
ROWS = [1_000, 5_000, 20_000, 50_000, 200_000]
WIDTHS = [16, 64, 256, 1024]


def _fit(solver, X, n_components):
    ae = AutoEncoder(
        n_components=n_components,
        solver=solver,
        max_iter=ITERATIONS[solver],
        tol=0.0,
        random_state=0,
    )
    tracemalloc.start()
    start = time.perf_counter()
    ae.fit(X)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def _table(title, column, values, data):
    lines = [
        f"### {title}",
        "",
        f"| {column} | "
        + " | ".join(f"{solver} time | {solver} peak" for solver in ITERATIONS)
        + " |",
        "|---|" + "---|---|" * len(ITERATIONS),
    ]
    for value in values:
        cells = []
        for solver in ITERATIONS:
            seconds, peak = data[solver, value]
            cells += [f"{seconds:.2f} s", f"{peak / 2**20:.1f} MiB"]
        lines.append(f"| {value:,} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--working-memory", type=float, default=64.0)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(0)
    data = rng.uniform(size=(max(ROWS), N_FEATURES))
    by_rows, by_width = {}, {}
    with sklearn.config_context(working_memory=args.working_memory):
        for solver in ITERATIONS:
            for n_rows in ROWS:
                by_rows[solver, n_rows] = _fit(solver, data[:n_rows], 32)
            for width in WIDTHS:
                by_width[solver, width] = _fit(solver, data[:20_000], width)
    lines = [
        "## Scaling (issue 10)",
        "",
        f"`python benchmarks/bench_scaling.py --working-memory "
        f"{args.working_memory:g}`: AutoEncoder, {N_FEATURES} features, fits of "
        + ", ".join(f"{n} {s}" for s, n in ITERATIONS.items())
        + " iterations; peak = largest traced allocation during fit, above the "
        "data; working_memory "
        f"{args.working_memory:g} MiB.",
        "",
        *_table("Against the rows (n_components=32)", "rows", ROWS, by_rows),
        "",
        *_table("Against the width (20,000 rows)", "n_components", WIDTHS, by_width),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as file:
            file.write(text)


if __name__ == "__main__":
    main()
