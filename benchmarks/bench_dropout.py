"""Dropout on digits: does an over-parameterised classifier generalise better?

Issue 25 asks that an over-parameterised ``MLPClassifierGD`` with dropout
0.2-0.5 generalise at least as well as without it on digits. The network has
two hidden layers of 256 relu units (139 k weights for 898 training rows);
each rate trains the same number of epochs with Adam (``learning_rate_init
=1e-3``, batches of 64, ``weight_decay=1e-5``, the stopping rule off: ``tol=0``
and ``n_iter_no_change=inf``), so only the dropout differs. Test accuracy and
test log-loss on the other half of digits (stratified 50/50 split, one per
seed), mean and standard deviation over the seeds; the split and the network's
initial weights change with the seed, and each rate sees the same ones.
scikit-learn's ``MLPClassifier`` (no dropout; same network, solver and
epochs, ``alpha`` matched to the weight decay) is the reference a user would
otherwise pick.

Usage::

    python benchmarks/bench_dropout.py              # seeds 0-4, ~3-4 minutes
    python benchmarks/bench_dropout.py --seeds 2 --epochs 40   # quick look
"""

# License: BSD-3-Clause

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skae import MLPClassifierGD

RATES = (0.0, 0.2, 0.35, 0.5)
HIDDEN = (256, 256)
BATCH = 64
DECAY = 1e-5


def run(seeds, epochs):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rows = {rate: [] for rate in RATES}
    rows["scikit-learn"] = []
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, stratify=y, random_state=seed
        )
        for rate in RATES:
            clf = MLPClassifierGD(
                HIDDEN,
                dropout=rate,
                batch_size=BATCH,
                weight_decay=DECAY,
                max_iter=epochs,
                tol=0.0,
                n_iter_no_change=np.inf,
                random_state=seed,
            )
            start = time.perf_counter()
            clf.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            rows[rate].append(_scores(clf, X_test, y_test, seconds))
        reference = MLPClassifier(
            HIDDEN,
            batch_size=BATCH,
            alpha=2 * BATCH * DECAY,  # alpha / (2 batch) ||W||^2 = DECAY ||W||^2
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=seed,
        )
        start = time.perf_counter()
        reference.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        rows["scikit-learn"].append(_scores(reference, X_test, y_test, seconds))
        print(f"seed {seed} done", flush=True)
    return rows


def _scores(clf, X_test, y_test, seconds):
    proba = clf.predict_proba(X_test)
    return (
        accuracy_score(y_test, clf.classes_[proba.argmax(axis=1)]),
        log_loss(y_test, proba, labels=clf.classes_),
        seconds,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    with warnings.catch_warnings(), threadpool_limits(1, "blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = run(args.seeds, args.epochs)
    print(
        f"\ndigits, MLP {HIDDEN} relu, adam, {args.epochs} epochs, "
        f"seeds 0-{args.seeds - 1}, 898 train / 899 test\n"
    )
    print("| dropout | test accuracy | test log-loss | fit time (s) |")
    print("|---|---|---|---|")
    for key, scores in rows.items():
        accuracy, loss, seconds = np.array(scores).T
        name = key if isinstance(key, str) else f"{key:g}"
        print(
            f"| {name} | {accuracy.mean():.4f} +- {accuracy.std():.4f} "
            f"| {loss.mean():.4f} +- {loss.std():.4f} | {np.median(seconds):.2f} |"
        )


if __name__ == "__main__":
    main()
