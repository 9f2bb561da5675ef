"""Training speed of skae against scikit-learn's MLPRegressor (and PyTorch).

Every contender trains the same network on the same data in one process; the
runs are interleaved (skae, scikit-learn, PyTorch, skae, ...) and the report
gives medians and ratios. For each workload the script also times the matrix
products alone (the GEMM floor) and reports skae's peak traced memory of a fit.

    python benchmarks/bench_training.py            # the full run, a few minutes
    python benchmarks/bench_training.py --quick    # small sizes, seconds
    python benchmarks/bench_training.py --output benchmarks/RESULTS.md

PyTorch is optional: when it is not installed its columns say so.
"""

# License: BSD-3-Clause

import os

# PyTorch's OpenMP workers busy-wait after each operation by default, which
# would slow whichever contender runs next on two cores: let them sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import platform
import statistics
import time
import tracemalloc
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_info, threadpool_limits

import skae
import skae._training.solvers
from skae import AutoEncoder, MLPRegressorGD
from skae._training.threads import single_threaded_scipy_blas

try:
    import torch
except ImportError:  # PyTorch is an optional contender
    torch = None


# -- workloads ------------------------------------------------------------------


@dataclass
class Workload:
    """One line of the report: a network, its data and how it is trained."""

    id: str
    description: str
    n_samples: int
    n_features: int
    hidden: tuple
    n_outputs: int
    activation: str  # scikit-learn's name
    solver: str
    dtype: type
    batch_size: int = 256
    epochs: int = 5  # epochs (or L-BFGS iterations) per timed run
    autoencoder: bool = False
    unit: str = "epoch"  # what one timing divides by: epoch, step or evaluation
    momentum: float = 0.9  # of "sgd"; 0 is the lecture's plain SGD

    @property
    def layer_sizes(self):
        return (self.n_features, *self.hidden, self.n_outputs)

    @property
    def label(self):
        return f"{self.id} {self.solver} {np.dtype(self.dtype).name}"


def workloads(quick):
    """The issue's five workloads; ``quick`` shrinks them to run in seconds."""
    scale = 10 if quick else 1
    epochs = 1 if quick else 5
    result = []
    for dtype in (np.float32, np.float64):
        for solver in ("sgd", "adam"):
            for wid, hidden in (("W1", (256,)), ("W2", (256, 256))):
                result.append(
                    Workload(
                        wid,
                        f"regression {20000 // scale}x256, hidden {hidden}, relu",
                        20000 // scale,
                        256,
                        hidden,
                        1,
                        "relu",
                        solver,
                        dtype,
                        epochs=epochs,
                    )
                )
            result.append(
                Workload(
                    "W3",
                    f"autoencoder {10000 // scale}x784 in [0, 1], code 128, sigmoid",
                    10000 // scale,
                    784,
                    (128,),
                    784,
                    "logistic",
                    solver,
                    dtype,
                    epochs=epochs,
                    autoencoder=True,
                )
            )
    result.append(
        Workload(
            "W4",
            f"pure SGD (momentum 0), batch 1, {2000 // scale}x64 -> 25 -> 64, sigmoid",
            2000 // scale,
            64,
            (25,),
            64,
            "logistic",
            "sgd",
            np.float64,
            batch_size=1,
            epochs=1,
            autoencoder=True,
            unit="step",
            momentum=0.0,
        )
    )
    result.append(
        Workload(
            "W5",
            f"L-BFGS, {10000 // scale}x64 -> 25 -> 64, sigmoid",
            10000 // scale,
            64,
            (25,),
            64,
            "logistic",
            "lbfgs",
            np.float64,
            epochs=10 if quick else 100,
            autoencoder=True,
            unit="evaluation",
        )
    )
    return result


def make_data(work, seed=0):
    """Standardised regression data, or [0, 1] data with structure for autoencoders."""
    rng = np.random.default_rng(seed)
    if work.autoencoder:
        latent = rng.normal(size=(work.n_samples, 16))
        X = 1 / (1 + np.exp(-latent @ rng.normal(size=(16, work.n_features))))
        return X.astype(work.dtype), X.astype(work.dtype)
    X = rng.normal(size=(work.n_samples, work.n_features))
    y = np.tanh(X @ rng.normal(size=work.n_features) / 16) + 0.1 * rng.normal(
        size=work.n_samples
    )
    return X.astype(work.dtype), y.astype(work.dtype)


# -- contenders: each returns (seconds per unit, units) --------------------------


class _CountingMinimize:
    """Wrap scipy.optimize.minimize to time and count the objective's evaluations."""

    def __init__(self, minimize):
        self.minimize = minimize
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, fun, x0, *args, **kwargs):
        def timed(*fun_args):
            start = time.perf_counter()
            try:
                return fun(*fun_args)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return self.minimize(timed, x0, *args, **kwargs)


def _per_unit(work, seconds, estimator, counter=None):
    if work.unit == "evaluation":
        return counter.seconds / counter.calls, counter.calls
    if work.unit == "step":
        return seconds / (estimator.n_iter_ * work.n_samples), estimator.n_iter_
    return seconds / estimator.n_iter_, estimator.n_iter_


def run_skae(work, X, Y):
    common = dict(
        solver=work.solver,
        max_iter=work.epochs,
        tol=0.0,
        n_iter_no_change=work.epochs + 1,
        momentum=work.momentum,
        random_state=0,
    )
    if work.solver != "lbfgs":
        common["batch_size"] = work.batch_size
    if work.autoencoder:
        estimator = AutoEncoder(
            n_components=work.hidden[0],
            activation="sigmoid",
            hidden_layer_sizes=work.hidden[1:],
            **common,
        )
    else:
        estimator = MLPRegressorGD(
            hidden_layer_sizes=work.hidden, activation=work.activation, **common
        )
    counter = _CountingMinimize(skae._training.solvers.minimize)
    skae._training.solvers.minimize = counter
    try:
        start = time.perf_counter()
        estimator.fit(X) if work.autoencoder else estimator.fit(X, Y)
        seconds = time.perf_counter() - start
    finally:
        skae._training.solvers.minimize = counter.minimize
    return _per_unit(work, seconds, estimator, counter)


def run_sklearn(work, X, Y):
    estimator = MLPRegressor(
        hidden_layer_sizes=work.hidden,
        activation=work.activation,
        solver=work.solver,
        batch_size=work.batch_size,
        max_iter=work.epochs,
        tol=0.0,
        n_iter_no_change=work.epochs + 1,
        alpha=1e-4,
        momentum=work.momentum,
        random_state=0,
    )
    counter = _CountingMinimize(scipy.optimize.minimize)
    scipy.optimize.minimize = counter
    try:
        start = time.perf_counter()
        estimator.fit(X, Y)
        seconds = time.perf_counter() - start
    finally:
        scipy.optimize.minimize = counter.minimize
    return _per_unit(work, seconds, estimator, counter)


def run_torch(work, X, Y):
    """The same network and solver in PyTorch eager mode on the CPU."""
    torch.manual_seed(0)
    dtype = torch.float32 if work.dtype == np.float32 else torch.float64
    act = {"relu": torch.nn.ReLU, "logistic": torch.nn.Sigmoid}[work.activation]
    layers = []
    sizes = work.layer_sizes
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    if work.solver == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)
    else:
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=1e-3,
            momentum=work.momentum,
            nesterov=work.momentum > 0,
        )
    X_t = torch.from_numpy(X)
    Y_t = torch.from_numpy(Y.reshape(len(Y), -1))
    n = len(X)
    start = time.perf_counter()
    for _ in range(work.epochs):
        order = torch.randperm(n)
        for begin in range(0, n, work.batch_size):
            idx = order[begin : begin + work.batch_size]
            optimizer.zero_grad()
            loss = ((model(X_t[idx]) - Y_t[idx]) ** 2).sum(dim=1).mean()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    per_epoch = seconds / work.epochs
    if work.unit == "step":
        return per_epoch / n, work.epochs
    return per_epoch, work.epochs


def gemm_floor(work, X):
    """Seconds per epoch of the epoch's matrix products alone, on reused buffers.

    Timed after one untimed pass (page faults of fresh buffers) and with
    scipy's BLAS pool quiet, as skae's training runs.
    """
    rng = np.random.default_rng(1)
    sizes = work.layer_sizes
    batch = (
        min(work.batch_size, work.n_samples)
        if work.solver != "lbfgs"
        else (work.n_samples)
    )
    weights = [
        rng.normal(size=(a, b)).astype(work.dtype)
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    acts = [X[:batch]] + [np.empty((batch, b), work.dtype) for b in sizes[1:]]
    deltas = [np.empty((batch, b), work.dtype) for b in sizes[1:]]
    grads = [np.empty_like(W) for W in weights]
    for d in deltas:
        d[...] = 1.0
    back = [np.empty((batch, a), work.dtype) for a in sizes[:-1]]
    n_batches = -(-work.n_samples // batch)

    def products():
        for i, W in enumerate(weights):
            np.matmul(acts[i], W, out=acts[i + 1])
        for i in reversed(range(len(weights))):
            np.matmul(acts[i].T, deltas[i], out=grads[i])
            if i > 0:
                np.matmul(deltas[i], weights[i].T, out=back[i])

    seconds = np.inf  # a floor: the fastest of a few epochs, with NumPy's
    # threads and with one (skae's tuner picks either; on a busy machine two
    # threads made the floor slower than skae's epoch, a share above 100%)
    for threads in (None, 1):
        with single_threaded_scipy_blas(), threadpool_limits(threads, "blas"):
            products()
            for _ in range(5 if work.unit == "evaluation" else 2):
                start = time.perf_counter()
                for _ in range(n_batches):
                    products()
                seconds = min(seconds, time.perf_counter() - start)
    if work.unit == "step":
        return seconds / work.n_samples
    return seconds  # one epoch (one evaluation for L-BFGS)


def peak_memory(work, X, Y):
    """Peak traced memory (bytes) of one skae fit, beyond the data it is given."""
    tracemalloc.start()
    try:
        run_skae(work, X, Y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


# -- the report -------------------------------------------------------------------


def measure(work, repeats):
    X, Y = make_data(work)
    contenders = {"skae": run_skae, "sklearn": run_sklearn}
    if torch is not None and work.solver != "lbfgs":
        contenders["torch"] = run_torch
    times = {name: [] for name in contenders}
    floors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, run in contenders.items():  # warm-up, not timed
            run(work, X[:512], Y[:512])
        for _ in range(repeats):  # interleaved, run by run
            for name, run in contenders.items():
                times[name].append(run(work, X, Y)[0])
            floors.append(gemm_floor(work, X))
        memory = peak_memory(work, X, Y)
    return {name: statistics.median(values) for name, values in times.items()}, (
        statistics.median(floors),
        memory,
    )


def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description():
    blas = ", ".join(
        f"{info['internal_api']} {info.get('version')} ({info['num_threads']} threads,"
        f" {info.get('architecture')})"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )
    return (
        f"{_cpu_model()} ({platform.machine()}), {os.cpu_count()} cores;"
        f" Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, skae "
        f"{skae.__version__}, PyTorch {torch.__version__ if torch else 'not installed'}"
        f"; BLAS: {blas}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per contender (default 3, quick 1)",
    )
    parser.add_argument("--only", default=None, help="comma-separated workload ids")
    parser.add_argument("--output", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    only = set(args.only.split(",")) if args.only else None

    lines = [
        f"Machine: {machine_description()}",
        "",
        f"Medians of {repeats} interleaved run(s); ratio = skae / other (below 1: "
        "skae faster). GEMM share = time of the products alone / skae's time.",
        "",
        "| workload | per | skae | scikit-learn | ratio | PyTorch | ratio "
        "| GEMM floor | GEMM share | skae peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for work in workloads(args.quick):
        if only and work.id not in only:
            continue
        times, (floor, memory) = measure(work, repeats)
        ours = times["skae"]
        torch_cells = (
            [format_time(times["torch"]), f"{ours / times['torch']:.2f}"]
            if "torch" in times
            else ["-", "-"]
        )
        floor_cells = [format_time(floor), f"{100 * floor / ours:.0f}%"]
        row = (
            "| "
            + " | ".join(
                [
                    f"{work.label}: {work.description}",
                    work.unit,
                    format_time(ours),
                    format_time(times["sklearn"]),
                    f"{ours / times['sklearn']:.2f}",
                    *torch_cells,
                    *floor_cells,
                    f"{memory / 2**20:.1f} MiB",
                ]
            )
            + " |"
        )
        lines.append(row)
        print(row, flush=True)
    if args.output:
        with open(args.output, "w") as f:
            f.write("# Training benchmark\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
