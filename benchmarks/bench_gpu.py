"""skae on PyTorch (a GPU, or the CPU) against skae on NumPy and a plain torch loop.

The W3 workload of ``bench_training.py``: an autoencoder 784 -> 128 -> 784,
sigmoid, cross-entropy, Adam, batches of 256, float32, on [0, 1] data with
structure, for 10000 rows and 60000 rows. It first checks, on a small
problem in float64 (float32 where the device has no float64), that the fit on
the device gives the NumPy fit's parameters. Then it times one epoch (the
median of a few, after one untimed epoch) of

- skae on PyTorch tensors on the device (``array_api_dispatch``),
- skae on NumPy on this machine's CPU,
- a hand-written PyTorch loop on the same device: the same network, loss,
  solver and batches, in eager mode (what a user of torch would write),

and prints the ratios. Run with a GPU as::

    SCIPY_ARRAY_API=1 python benchmarks/bench_gpu.py --device cuda

(``--device cpu`` runs everything on the CPU; ``--quick`` shrinks the sizes).
"""

# License: BSD-3-Clause

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skae import AutoEncoder  # noqa: E402


def make_data(n_samples, n_features=784, seed=0):
    """[0, 1] data on 16 latent factors, as bench_training.py's W3."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, 16))
    return 1 / (1 + np.exp(-latent @ rng.normal(size=(16, n_features))))


def skae_model(epochs, **params):
    return AutoEncoder(
        n_components=128,
        activation="sigmoid",
        solver="adam",
        batch_size=256,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
        **params,
    )


def synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_skae(X, epochs, device):
    """Seconds of one epoch of skae on ``X`` (a NumPy array or a tensor)."""
    model = skae_model(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=not isinstance(X, np.ndarray)):
            synchronize(device)
            start = time.perf_counter()
            model.fit(X)
            synchronize(device)
    return (time.perf_counter() - start) / model.n_iter_


def time_torch_loop(X, epochs, device):
    """Seconds of one epoch of the same training, written in PyTorch."""
    torch.manual_seed(0)
    n, d = X.shape
    model = torch.nn.Sequential(
        torch.nn.Linear(d, 128), torch.nn.Sigmoid(), torch.nn.Linear(128, d)
    ).to(device=device, dtype=X.dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    synchronize(device)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, device=device)
        for begin in range(0, n, 256):
            batch = X[order[begin : begin + 256]]
            optimizer.zero_grad()
            loss = loss_fn(model(batch), batch) / batch.shape[0]
            loss.backward()
            optimizer.step()
    synchronize(device)
    return (time.perf_counter() - start) / epochs


def median_time(function, repeats, *args):
    function(*args)  # warm-up: allocations, kernels, BLAS threads
    return statistics.median(function(*args) for _ in range(repeats))


def check_correctness(device):
    """The device fit's parameters against the NumPy fit's, on a small problem."""
    X = make_data(300, 64, seed=1)
    dtype = torch.float64
    if device.startswith("mps"):
        dtype = torch.float32  # no float64 there
    X = X.astype(np.float64 if dtype == torch.float64 else np.float32)
    worst = 0.0
    for solver in ("sgd", "adam", "lbfgs"):
        params = dict(solver=solver, max_iter=20, tol=0.0, n_iter_no_change=21)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reference = AutoEncoder(n_components=8, random_state=0, **params).fit(X)
            with sklearn.config_context(array_api_dispatch=True):
                X_t = torch.asarray(X, device=device)
                model = AutoEncoder(n_components=8, random_state=0, **params).fit(X_t)
                codes = model.transform(X_t)
        assert codes.device.type == torch.device(device).type, codes.device
        for ours, theirs in zip(model.coefs_, reference.coefs_):
            difference = np.max(np.abs(ours.cpu().numpy() - theirs))
            worst = max(worst, difference / np.max(np.abs(theirs)))
        print(f"  {solver:>5}: largest relative difference of the weights {worst:.2e}")
    tolerance = 1e-9 if dtype == torch.float64 else 1e-3
    assert worst < tolerance, worst
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    device, repeats = args.device, 1 if args.quick else args.repeats
    print(f"torch {torch.__version__}, device {device}", end="")
    if device.startswith("cuda"):
        print(f" ({torch.cuda.get_device_name(0)})", end="")
    print(f"; NumPy {np.__version__}, scikit-learn {sklearn.__version__}")
    print("correctness against NumPy:")
    check_correctness(device)

    sizes = (1000, 6000) if args.quick else (10000, 60000)
    print(
        "\n| rows | skae on torch | skae on NumPy | torch loop | NumPy / torch | "
        "skae torch / torch loop |"
    )
    print("|---|---|---|---|---|---|")
    for n_samples in sizes:
        X = make_data(n_samples).astype(np.float32)
        X_t = torch.asarray(X, device=device)
        ours = median_time(time_skae, repeats, X_t, 1, device)
        numpy_cpu = median_time(time_skae, repeats, X, 1, "cpu")
        loop = median_time(time_torch_loop, repeats, X_t, 1, device)
        print(
            f"| {n_samples} | {ours * 1e3:.1f} ms | {numpy_cpu * 1e3:.1f} ms | "
            f"{loop * 1e3:.1f} ms | {numpy_cpu / ours:.1f}x | {ours / loop:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
