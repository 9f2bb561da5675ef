"""The lecture's own fits, before and after the cross-entropy without exp/log.

Issue 21 found the demo's fit bound by exponentials and logarithms: the
sigmoid decoder's cross-entropy took ``exp`` and ``log1p`` of every output
(scalar loops in float64 on AVX2, where NumPy has no vector kernel for them).
skae now sums the softplus from the sigmoid outputs the forward pass already
made (``skae._math.losses._softplus_sum``). This script measures three fits
with the previous formula (kept here, as ``previous_loss_and_delta``) and the
current one, interleaved round by round in one process:

``demo``
    ``python -m skae``'s first fit: digits (1257 x 64), SparseAutoEncoder 64
    -> 128 -> 64, rho = 0.05, sigmoid decoder, cross-entropy, L-BFGS, float64.
``demo-32``
    The demo's fit that issue 21 profiled, before the demo's rework: the same
    with 32 code units and rho = 0.1.
``readme``
    The README's grid search (24 fits of a SparseAutoEncoder 64 -> 64 -> 64,
    identity decoder, squared error, then logistic regressions), under
    ``threadpool_limits(1)`` as the README runs it.
``ufldl``
    The UFLDL gallery example's fit: 10,000 natural-image patches, 64 -> 25
    -> 64, sigmoid decoder, squared error, a fixed 400 L-BFGS iterations (as
    the exercise runs; the example now stops by skae's rule, near 260).

Only the demo's fits compute a cross-entropy; the other two are measured to show
what the change does not touch. For each it prints the median time of each
formula, their ratio, the iterations, and the largest relative difference of
J and of its gradient between the two formulas, evaluated at the parameters
of every 10th iteration of a fit. With ``--profile`` it also prints the time
of each stage per evaluation of J (forward pass, loss and output delta,
backward pass, the rest: L-BFGS and the training loop).

Usage: ``python benchmarks/bench_lecture_fits.py [--rounds R] [--only demo]
[--profile]``. To see the AVX2 machine's kernels on an AVX-512 one, run it
with ``NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL"`` (NumPy's float64 ``exp``
and ``log`` then take the AVX2 or scalar path). Nothing is asserted.
"""

# License: BSD-3-Clause

import argparse
import contextlib
import functools
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, load_sample_images
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

import skae._math.losses
import skae._math.network
import skae._math.objective
from skae import SparseAutoEncoder
from skae._math.activations import _softplus
from skae._math.array_api import ops_for

CROSS_ENTROPY = skae._math.losses.CrossEntropy


def previous_loss_and_delta(self, T, Y, Z, output, share, out=None, scratch=None):
    """The cross-entropy as skae computed it before: ``softplus(z)`` from
    ``exp(-|z|)`` and ``log1p`` of every output, summed per row."""
    ops = ops_for(Z)
    losses = ops.sum(_softplus(Z, out=out), axis=1) - skae._math.losses._rowwise_dot(
        T, Z
    )
    loss = share * ops.sum(losses) if isinstance(share, float) else share[:, 0] @ losses
    delta = skae._math.losses._residual(Y, T, out=out)
    delta *= share
    return float(loss), delta


CURRENT = CROSS_ENTROPY.loss_and_delta
FORMULAS = {"before": previous_loss_and_delta, "now": CURRENT}


@contextlib.contextmanager
def formula(name):
    CROSS_ENTROPY.loss_and_delta = FORMULAS[name]
    try:
        yield
    finally:
        CROSS_ENTROPY.loss_and_delta = CURRENT


def demo_data():
    X, y = load_digits(return_X_y=True)
    X_train, *_ = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    return MinMaxScaler().fit_transform(X_train)


def demo_estimator(n_components=128, sparsity_target=0.05):
    return SparseAutoEncoder(
        n_components=n_components,
        sparsity_target=sparsity_target,
        sparsity_weight=3.0,
        weight_decay=3e-4,
        out_activation="sigmoid",
        random_state=0,
    )


def ufldl_data(n_patches=10_000, size=8):
    """The gallery example's patches, normalised as UFLDL's normalizeData."""
    images = [image.mean(axis=2) / 255.0 for image in load_sample_images().images]
    rng = np.random.default_rng(0)
    patches = np.empty((n_patches, size * size))
    for i, k in enumerate(rng.integers(len(images), size=n_patches)):
        height, width = images[k].shape
        top, left = rng.integers(height - size + 1), rng.integers(width - size + 1)
        patches[i] = images[k][top : top + size, left : left + size].ravel()
    patches -= patches.mean(axis=1, keepdims=True)
    scale = 3 * patches.std()
    return (np.clip(patches, -scale, scale) / scale + 1) * 0.4 + 0.1


def ufldl_estimator():
    return SparseAutoEncoder(
        n_components=25,
        activation="sigmoid",
        out_activation="sigmoid",
        loss="squared_error",
        sparsity_target=0.01,
        sparsity_weight=6.0,
        weight_decay=1e-4,
        max_iter=400,
        tol=0,
        random_state=0,
    )


def readme_search():
    """The README's grid search, as it stands there."""
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("sae", SparseAutoEncoder(n_components=64, tol=1e-3, random_state=0)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {
            "sae__sparsity_weight": [0.1, 3.0],
            "sae__sparsity_target": [0.05, 0.2],
            "sae__weight_decay": [1e-4, 1e-3],
        },
        cv=3,
    )
    with threadpool_limits(1, user_api="blas"):
        grid.fit(X, y)
    return grid.best_estimator_["sae"]


def workloads():
    demo, patches = demo_data(), ufldl_data()
    return {
        "demo": (lambda: demo_estimator().fit(demo), demo_estimator, demo),
        "demo-32": (
            lambda: demo_estimator(32, 0.1).fit(demo),
            lambda: demo_estimator(32, 0.1),
            demo,
        ),
        "readme": (readme_search, None, None),
        "ufldl": (
            lambda: _without_warning(ufldl_estimator().fit, patches),
            ufldl_estimator,
            patches,
        ),
    }


def _without_warning(fit, X):
    with warnings.catch_warnings():  # 400 iterations by design, as the exercise
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(X)


def agreement(make, X):
    """Largest relative difference of J and of its gradient between the two
    formulas, at the parameters of every 10th evaluation of a fit."""
    Objective = skae._math.objective.Objective
    original = Objective.loss_and_gradient
    thetas = []

    def keeping(self, theta, *args, **kwargs):
        if len(thetas) * 10 <= keeping.calls:
            thetas.append(theta.copy())
        keeping.calls += 1
        return original(self, theta, *args, **kwargs)

    keeping.calls = 0
    Objective.loss_and_gradient = keeping
    try:
        estimator = _without_warning(make().fit, X)
    finally:
        Objective.loss_and_gradient = original
    objective = estimator._build_objective()
    worst_loss = worst_gradient = 0.0
    for theta in thetas:
        results = {}
        for name in FORMULAS:
            with formula(name):
                results[name] = objective.loss_and_gradient(theta, X, X)
        (j0, g0), (j1, g1) = results["before"], results["now"]
        worst_loss = max(worst_loss, abs(j1 - j0) / abs(j0))
        worst_gradient = max(
            worst_gradient, np.linalg.norm(g1 - g0) / np.linalg.norm(g0)
        )
    return worst_loss, worst_gradient, len(thetas)


STAGES = {
    "forward pass": (skae._math.network.Network, "forward"),
    "backward pass": (skae._math.network.Network, "backward"),
    "loss and output delta (cross-entropy)": (CROSS_ENTROPY, "loss_and_delta"),
    "loss and output delta (squared error)": (
        skae._math.losses.SquaredError,
        "loss_and_delta",
    ),
}


def profile(fit):
    """Seconds per evaluation of J in each stage of one fit."""
    seconds, calls = {}, {"n": 0}
    originals = {label: getattr(*where) for label, where in STAGES.items()}

    def timed(label, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start
                calls["n"] += label == "backward pass"

        return wrapper

    for label, (owner, name) in STAGES.items():
        setattr(owner, name, timed(label, originals[label]))
    try:
        start = time.perf_counter()
        fit()
        total = time.perf_counter() - start
    finally:
        for label, (owner, name) in STAGES.items():
            setattr(owner, name, originals[label])
    n = max(calls["n"], 1)
    rows = {label: value / n for label, value in seconds.items()}
    rows["rest (L-BFGS, training loop)"] = (total - sum(seconds.values())) / n
    rows["total"] = total / n
    return rows, n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=None, help="comma-separated workloads")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    chosen = workloads()
    if args.only:
        chosen = {name: chosen[name] for name in args.only.split(",")}
    for name, (fit, make, X) in chosen.items():
        fit()  # warm-up: imports, page faults, BLAS thread start
        times = {formula_name: [] for formula_name in FORMULAS}
        for _ in range(args.rounds):
            for formula_name in FORMULAS:
                with formula(formula_name):
                    start = time.perf_counter()
                    model = fit()
                    times[formula_name].append(time.perf_counter() - start)
        before, now = (statistics.median(times[key]) for key in FORMULAS)
        print(
            f"{name}: before {before:.3f} s, now {now:.3f} s, "
            f"speed-up {before / now:.2f}x ({model.n_iter_} iterations, "
            f"{args.rounds} rounds)"
        )
        if make is not None:
            loss, gradient, n = agreement(make, X)
            print(
                f"  J and gradient, before against now at {n} points of a fit: "
                f"largest relative difference {loss:.1e} and {gradient:.1e}"
            )
        if args.profile:
            for formula_name in FORMULAS:
                with formula(formula_name):
                    rows, n = profile(fit)
                print(f"  per evaluation of J ({formula_name}, {n} evaluations):")
                for label, value in rows.items():
                    print(f"    {label:<40} {value * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
