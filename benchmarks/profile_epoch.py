"""Where an epoch of skae's training goes: forward, backward, solver, batches.

Times each stage of skae's training step by wrapping the core's functions, for
the mini-batch workloads of ``bench_training.py``:

    python benchmarks/profile_epoch.py            # W1-W3, sgd, float32
    python benchmarks/profile_epoch.py --dtype float64 --solver adam

The forward and backward passes hold the matrix products; everything else is
elementwise work and the solver's whole-vector updates.
"""

# License: BSD-3-Clause

import argparse
import functools
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoder, MLPRegressorGD
from skae._math import losses as _losses
from skae._math import network as _network
from skae._math import penalties as _penalties
from skae._training import batches as _batches
from skae._training import solvers as _optimizers

STAGES = {
    "forward pass": (_network.Network, "forward"),
    "backward pass": (_network.Network, "backward"),
    "loss and output delta": (_losses.SquaredError, "loss_and_delta"),
    "weight decay": (_penalties.WeightDecay, "add_gradient"),
    "solver step (sgd)": (_optimizers.SGD, "step"),
    "solver step (adam)": (_optimizers.Adam, "step"),
}


def _timed(seconds, label, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start

    return wrapper


def _timed_batches(seconds, epoch):
    """Time the gathering of each batch inside the batch generator."""

    @functools.wraps(epoch)
    def wrapper(self, order=None, noise=None):
        batches = epoch(self, order, noise)
        while True:
            start = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                return
            finally:
                seconds["gather batch"] = (
                    seconds.get("gather batch", 0.0) + time.perf_counter() - start
                )
            yield batch

    return wrapper


def profile(estimator, X, y, epochs):
    """Seconds per epoch of each stage, and of the whole epoch."""
    seconds = {}
    originals = {label: getattr(cls, name) for label, (cls, name) in STAGES.items()}
    original_epoch = _batches.Batches.epoch
    for label, (cls, name) in STAGES.items():
        setattr(cls, name, _timed(seconds, label, originals[label]))
    _batches.Batches.epoch = _timed_batches(seconds, original_epoch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            estimator.fit(X) if y is None else estimator.fit(X, y)
            seconds["whole epoch"] = time.perf_counter() - start
    finally:
        for label, (cls, name) in STAGES.items():
            setattr(cls, name, originals[label])
        _batches.Batches.epoch = original_epoch
    return {label: value / epochs for label, value in seconds.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--solver", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    common = dict(
        solver=args.solver,
        batch_size=256,
        max_iter=args.epochs,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,
        random_state=0,
    )
    X = rng.normal(size=(20000, 256)).astype(dtype)
    y = np.tanh(X @ rng.normal(size=256) / 16).astype(dtype)
    latent = rng.normal(size=(10000, 16)) @ rng.normal(size=(16, 784))
    X_ae = (1 / (1 + np.exp(-latent))).astype(dtype)
    cases = {
        "W1": (MLPRegressorGD(hidden_layer_sizes=(256,), **common), X, y),
        "W2": (MLPRegressorGD(hidden_layer_sizes=(256, 256), **common), X, y),
        "W3": (AutoEncoder(n_components=128, **common), X_ae, None),
    }
    for name, (estimator, data, target) in cases.items():
        profile(estimator, data[:512], target if target is None else target[:512], 1)
        times = profile(estimator, data, target, args.epochs)
        whole = times.pop("whole epoch")
        print(f"{name} {args.solver} {dtype.name}: {whole * 1e3:.1f} ms per epoch")
        for label, value in sorted(times.items(), key=lambda item: -item[1]):
            print(f"  {label:24s} {value * 1e3:7.2f} ms  {100 * value / whole:5.1f}%")


if __name__ == "__main__":
    main()
