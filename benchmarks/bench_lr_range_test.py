"""The learning-rate range test's suggestion against the default learning rate.

Issue 25 asks of ``skae.lr_range_test`` a suggested ``learning_rate_init``
that trains at least as well as the default, 0.001, within the same number
of epochs. For each data set, solver ("adam", "sgd") and seed, the range test
runs on the training split (``lr_range_test``'s defaults: 100 steps from
1e-6 to 10, smoothing 0.98, stop at 4x the lowest smoothed loss), then the
same network trains ``--epochs`` epochs (``max_iter=epochs`` and
``n_iter_no_change`` above it, so that every fit runs all of them) at:

- the default ``learning_rate_init=0.001``;
- the suggestion, the rate at the lowest smoothed loss / 10 (the rule
  ``lr_range_test`` implements);
- the same rule on the losses smoothed with 0.9 instead of 0.98 (a
  shorter memory, which trails the raw losses less), for comparison;
- the rate at the lowest smoothed loss itself, undivided;
- the rate of the steepest fall of the smoothed loss (fastai's
  ``lr_steep``: the smallest slope against ``log(rate)``, over the steps up
  to the lowest smoothed loss), computed from the same curve, for comparison.

The held-out score (accuracy, R^2) on a 25% split is reported as mean +- std
over the seeds; a fit that diverges scores nan and is counted.

``digits``
    ``sklearn.datasets.load_digits`` (1797 x 64), StandardScaler fitted on
    the training split, ``MLPClassifierGD`` with its defaults (100 relu
    units, batches of 200, ``weight_decay=1e-4``).
``friedman1``
    ``make_friedman1(n_samples=1000, noise=1.0, random_state=0)``, X
    standardised (on the training split), y as generated (mean 14, standard
    deviation 5), ``MLPRegressorGD`` with its defaults.
``friedman1-y``
    The same with y standardised too (on the training split), as the user
    guide and the gallery do: the default rate is then less far off.

The seed sets the split (stratified for digits), the network's initial
weights and the range test's order of batches.

Usage::

    python benchmarks/bench_lr_range_test.py             # ~1-2 minutes
    python benchmarks/bench_lr_range_test.py --seeds 2 --epochs 10   # quick

Nothing is asserted.
"""

# License: BSD-3-Clause

import argparse
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skae
from skae import DivergenceError, MLPClassifierGD, MLPRegressorGD, lr_range_test

SOLVERS = ("adam", "sgd")
DEFAULT_RATE = 0.001
DATA = ("digits", "friedman1", "friedman1-y")
RULES = ("default", "suggested", "smoothing 0.9", "lowest", "steepest")


def data(name, seed):
    """(X_train, X_test, y_train, y_test, estimator class) of one seed's split."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        model = MLPClassifierGD
    else:
        X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
        split = train_test_split(X, y, test_size=0.25, random_state=seed)
        model = MLPRegressorGD
    X_train, X_test, y_train, y_test = split
    if name == "friedman1-y":
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test, model


def lowest_over_10(result, smoothing):
    """The suggestion's rule on the losses smoothed with ``smoothing``."""
    average, smoothed = 0.0, []
    for i, loss in enumerate(result.losses):
        average = smoothing * average + (1 - smoothing) * loss
        smoothed.append(average / (1 - smoothing ** (i + 1)))
    return float(result.learning_rates[int(np.argmin(smoothed))] / 10)


def steepest_rate(result):
    """The rate of the smallest slope of the smoothed loss against log(rate),
    over the steps up to its lowest value."""
    best = int(np.argmin(result.smoothed_losses))
    if best < 2:
        return float(result.learning_rates[0])
    rates = result.learning_rates[: best + 1]
    slopes = np.gradient(result.smoothed_losses[: best + 1], np.log(rates))
    return float(rates[int(np.argmin(slopes))])


def train_and_score(cls, solver, rate, epochs, seed, split):
    """Held-out score after ``epochs`` epochs at ``rate`` (nan if diverged)."""
    X_train, X_test, y_train, y_test = split
    estimator = cls(
        solver=solver,
        learning_rate_init=rate,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        # max_iter is reached by design: every fit runs all the epochs
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            estimator.fit(X_train, y_train)
        except DivergenceError:
            return float("nan")
    return estimator.score(X_test, y_test)


def bench(name, solver, seeds, epochs):
    """Scores and rates of the three rules over the seeds."""
    scores = {rule: [] for rule in RULES}
    rates = {rule: [] for rule in RULES}
    seconds, stopped = [], 0
    for seed in range(seeds):
        X_train, X_test, y_train, y_test, cls = data(name, seed)
        start = time.perf_counter()
        result = lr_range_test(
            cls(solver=solver, random_state=seed), X_train, y_train, random_state=seed
        )
        seconds.append(time.perf_counter() - start)
        stopped += result.stopped_early
        rates["default"].append(DEFAULT_RATE)
        rates["suggested"].append(result.suggested_learning_rate)
        rates["smoothing 0.9"].append(lowest_over_10(result, 0.9))
        rates["lowest"].append(result.lowest_loss_learning_rate)
        rates["steepest"].append(steepest_rate(result))
        split = (X_train, X_test, y_train, y_test)
        for rule in scores:
            scores[rule].append(
                train_and_score(cls, solver, rates[rule][-1], epochs, seed, split)
            )
    return scores, rates, seconds, stopped


def _mean_std(values):
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    text = f"{finite.mean():.4f} +- {finite.std():.4f}" if finite.size else "-"
    diverged = values.size - finite.size
    return text + (f" ({diverged} diverged)" if diverged else "")


def _rates(values):
    return f"{np.median(values):.3g} [{min(values):.2g}, {max(values):.2g}]"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", choices=DATA, default=None)
    args = parser.parse_args(argv)
    print(
        f"skae {skae.__version__}, scikit-learn {sklearn.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; seeds 0-{args.seeds - 1}, {args.epochs} epochs"
    )
    print(
        "\n| data | solver | rule | learning_rate_init: median [min, max] | "
        "held-out score, mean +- std | seeds at least the default's | "
        "range test: seconds, stopped early |"
    )
    print("|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for name in DATA:
        if args.only not in (None, name):
            continue
        for solver in SOLVERS:
            scores, rates, seconds, stopped = bench(
                name, solver, args.seeds, args.epochs
            )
            default = np.asarray(scores["default"], dtype=float)
            for rule in scores:
                ours = np.asarray(scores[rule], dtype=float)
                wins = int(np.sum(ours >= default)) if rule != "default" else "-"
                timing = (
                    f"{np.mean(seconds):.2f} s, {stopped}/{args.seeds}"
                    if rule == "suggested"
                    else ""
                )
                print(
                    f"| {name} | {solver} | {rule} | {_rates(rates[rule])} | "
                    f"{_mean_std(ours)} | {wins} | {timing} |"
                )
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
