"""VariationalAutoEncoder against a hand-written PyTorch VAE; wbc outliers.

Three measurements, on scikit-learn's digits scaled to [0, 1]
(``load_digits().data / 16``, split 70/30 by ``train_test_split(...,
random_state=0)``: 1257 training and 540 test rows) and on the ODDS-style
*wbc* set:

``correctness``
    skae's objective ``J`` (``Objective.loss_and_gradient`` with the network
    of a ``VariationalAutoEncoder``, its cross-entropy, weight decay and
    ``GaussianKL``, and a noise source that hands out one fixed float64
    ``eps``) against the same formula written in PyTorch, float64, on the
    1257 training rows as one batch, from the same weights (skae's Glorot draw
    copied into torch, and the weights after a short skae fit) and the same
    ``eps``: ``J = (1/n) sum_i [CE(x_i, logits_i) + beta KL_i] + lambda sum_l
    ||W_l||^2`` with ``binary_cross_entropy_with_logits(..., reduction="sum")
    / n``. It prints the relative difference of ``J`` (target 1e-12), the
    largest relative difference of the gradients over the eight parameter
    arrays (for each array ``max |g_skae - g_torch| / max |g_torch|``, the
    largest over the arrays), for ``beta = 1`` and ``beta = 0``, and the norm
    of the KL term's gradient (the gradient at ``beta = 1`` minus the one at
    ``beta = 0``), for latent sizes 2 and 10.
``training``
    The same VAE trained by skae and by a hand-written PyTorch loop: encoder
    64 -> 128 relu -> [mu | log sigma^2] (2k, linear), decoder k -> 128 relu
    -> 64 logits (Bernoulli likelihood, the cross-entropy from the logits),
    ``weight_decay = 1e-4`` (skae's default) as an explicit
    ``1e-4 sum ||W||^2`` in torch's loss (weights only, not biases; not
    Adam's ``weight_decay``), Adam at ``lr = 1e-3``, betas (0.9, 0.999),
    ``eps = 1e-8``, batches of 100 rows shuffled every epoch, a fresh
    ``eps`` every step, a fixed number of epochs (skae: ``tol=0``,
    ``n_iter_no_change`` above ``max_iter``). Both start from skae's initial
    weights (copied into torch) for each seed. Per latent size (2, 10) and
    dtype (float64; float32 too unless ``--no-float32``), ``--rounds`` seeds,
    the two fits interleaved (the order alternating seed by seed). Reported:
    the held-out negative ELBO of both, computed by one NumPy function from
    each model's weights with the same 10 draws of ``eps`` common to all
    test rows (``CE(x, decoder(mu + sigma eps))`` averaged over the draws,
    plus the closed-form KL; float64), their ratio (target: skae within 2%
    of torch), and the median time of an epoch (skae: its whole ``fit``
    divided by the epochs, so its own per-epoch bookkeeping counts; torch:
    the training loop divided by the epochs) and their ratio (target at most
    1.0). A sanity line checks that the NumPy estimator, given skae's own
    score draws, gives ``-vae.score(X_test)``.
``outliers``
    The ODDS-style *wbc* set from ``load_breast_cancer``: the 357 benign rows
    (target 1) and the first 21 malignant rows (target 0) in dataset order,
    378 rows kept in dataset order, ``MinMaxScaler`` fitted on all 378 (its
    output clipped to [0, 1]: one entry comes out as 1.0000000000000002,
    which a sigmoid decoder's cross-entropy refused before skae let such
    rounding through; the clip is kept so that the figures stand).
    ROC AUC (malignant = outlier, the score ``-decision_function``) over 10
    stratified 60/40 splits (``StratifiedShuffleSplit(n_splits=10,
    test_size=0.4, random_state=0)``), each detector fitted on the training
    part (its rows unlabelled, outliers included) and scored on the test
    part: ``ReconstructionOutlierDetector`` around ``VariationalAutoEncoder``
    (its ELBO), around ``AutoEncoder`` (the VAE's architecture, and the
    default one of the user guide's wbc figure) and around ``PCA``, and
    ``IsolationForest(random_state=0)``. The user guide's protocol drew the
    21 malignant rows at random and averaged five splits; this one fixes
    the rows, so that every detector sees the same data.

Threads: torch runs under ``torch.set_num_threads(1)`` and skae under
``threadpoolctl.threadpool_limits(1, "blas")`` (one core each, on a small
machine).

PyTorch is a benchmark-only dependency (``pip install torch``); it is
imported inside the functions that need it, so this module imports without
it.

Usage::

    python benchmarks/bench_vae.py            # the full run
    python benchmarks/bench_vae.py --quick    # 10 epochs, 2 seeds, float64, 3 splits
    python benchmarks/bench_vae.py --only training --epochs 100 --rounds 3

Nothing is asserted.
"""

# License: BSD-3-Clause

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

import skae
from skae import AutoEncoder, ReconstructionOutlierDetector, VariationalAutoEncoder
from skae._math.losses import LOSSES
from skae._math.objective import Objective
from skae._math.penalties import GaussianKL, WeightDecay

HIDDEN = 128
LATENTS = (2, 10)
BATCH = 100
LR = 1e-3
WEIGHT_DECAY = 1e-4  # skae's default, as an explicit term in torch's loss
N_DRAWS = 10  # draws of eps of the held-out ELBO, common to all rows
EPS_SEED = 2026  # of those draws


def _ratio(a, b):
    return a / b if b else float("nan")


# -- data -------------------------------------------------------------------------


def digits_data():
    X = load_digits().data / 16
    return train_test_split(X, test_size=0.3, random_state=0)


def wbc_data():
    """The 357 benign rows and the first 21 malignant ones, in dataset order,
    scaled to [0, 1] on all 378; labels 1 for the malignant (outliers)."""
    X, y = load_breast_cancer(return_X_y=True)
    malignant = np.flatnonzero(y == 0)[:21]
    keep = np.sort(np.concatenate([np.flatnonzero(y == 1), malignant]))
    X, outlier = X[keep], (y[keep] == 0).astype(int)
    # MinMaxScaler maps one entry to 1.0000000000000002 (dataset row 290,
    # feature 15); clipped back to [0, 1], as for the recorded figures
    return np.clip(MinMaxScaler().fit_transform(X), 0, 1), outlier


# -- the model, skae's side ---------------------------------------------------------


def make_vae(k, seed, epochs, **params):
    """The benchmark's VAE in skae: a fixed number of epochs."""
    return VariationalAutoEncoder(
        n_components=k,
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        out_activation="sigmoid",
        solver="adam",
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH,
        learning_rate_init=LR,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
        **params,
    )


def initial_state(vae, X):
    """The network and the flat parameters ``vae.fit(X)`` starts from: the
    same ``random_state`` draws the same Glorot weights."""
    fresh = clone(vae)
    fresh._initialize(X, X.shape[1])
    return fresh._network, fresh._theta.copy()


def layers_of(network, theta):
    """``[(W, b), ...]`` as float64 copies, ``W`` of shape (n_in, n_out)."""
    return [
        (np.array(W, dtype=np.float64), np.array(b, dtype=np.float64))
        for W, b in network.unflatten(theta)
    ]


class FixedNoise:
    """A noise source for skae's objective that hands out one fixed ``eps``,
    row after row, from the start at every evaluation."""

    fixed = True

    def __init__(self, eps):
        self.eps = eps
        self._next = 0

    def restart(self):
        self._next = 0

    def draw(self, n_rows, k, like):
        eps = self.eps[self._next : self._next + n_rows, :k]
        self._next += n_rows
        return eps.astype(like.dtype)


def skae_objective(network, beta, eps):
    return Objective(
        network,
        LOSSES["cross_entropy"](),
        WeightDecay(WEIGHT_DECAY),
        latent_kl=GaussianKL(beta),
        latent_noise=FixedNoise(eps),
    )


def negative_elbo(layers, X, eps_draws):
    """Mean over the rows of ``CE(x, decoder(mu + sigma eps))`` (averaged over
    the draws, each common to all rows) plus ``KL(q(z|x) || N(0, I))``, in
    float64 from the weights alone: the same estimator for every model."""
    (W0, b0), (W1, b1), (W2, b2), (W3, b3) = layers
    H = np.maximum(X @ W0 + b0, 0) @ W1 + b1
    k = H.shape[1] // 2
    mu, log_variance = H[:, :k], H[:, k:]
    kl = 0.5 * np.sum(mu**2 + np.expm1(log_variance) - log_variance, axis=1)
    sigma = np.exp(0.5 * log_variance)
    reconstruction = np.zeros(X.shape[0])
    for eps in eps_draws:
        logits = np.maximum((mu + sigma * eps) @ W2 + b2, 0) @ W3 + b3
        reconstruction += np.sum(np.logaddexp(0, logits) - X * logits, axis=1)
    return float(np.mean(kl + reconstruction / len(eps_draws)))


# -- the model, PyTorch's side ------------------------------------------------------


def torch_vae(layers, dtype):
    """The same VAE as a ``torch.nn.Module``, its weights copied from ``layers``
    (skae's ``(n_in, n_out)`` matrices, transposed into ``nn.Linear``)."""
    import torch

    class TorchVAE(torch.nn.Module):
        def __init__(self, d, h, k):
            super().__init__()
            self.k = k
            self.encoder = torch.nn.Linear(d, h)
            self.head = torch.nn.Linear(h, 2 * k)  # [mu | log sigma^2]
            self.decoder = torch.nn.Linear(k, h)
            self.out = torch.nn.Linear(h, d)  # logits of the Bernoulli means

        def linears(self):
            return [self.encoder, self.head, self.decoder, self.out]

        def forward(self, x, eps):
            H = self.head(torch.relu(self.encoder(x)))
            mu, log_variance = H[:, : self.k], H[:, self.k :]
            z = mu + torch.exp(0.5 * log_variance) * eps
            return self.out(torch.relu(self.decoder(z))), mu, log_variance

    d, h = layers[0][0].shape
    k = layers[2][0].shape[0]
    model = TorchVAE(d, h, k).to(dtype)
    with torch.no_grad():
        for linear, (W, b) in zip(model.linears(), layers):
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(b))
    return model


def torch_loss(model, x, eps, beta):
    """``J`` of one batch, the formula of skae's objective; also its parts."""
    import torch
    import torch.nn.functional as F

    logits, mu, log_variance = model(x, eps)
    n = x.shape[0]
    ce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = 0.5 * torch.sum(mu**2 + torch.exp(log_variance) - 1 - log_variance) / n
    decay = sum(torch.sum(linear.weight**2) for linear in model.linears())
    return ce + beta * kl + WEIGHT_DECAY * decay


def torch_layers(model):
    return [
        (
            linear.weight.detach().double().numpy().T.copy(),
            linear.bias.detach().double().numpy().copy(),
        )
        for linear in model.linears()
    ]


# -- correctness -------------------------------------------------------------------


def _gradient_difference(network, gradient, model):
    """Largest over the arrays of ``max |g_skae - g_torch| / max |g_torch|``."""
    worst = 0.0
    for (dW, db), linear in zip(network.unflatten(gradient), model.linears()):
        pairs = ((dW, linear.weight.grad.numpy().T), (db, linear.bias.grad.numpy()))
        for ours, theirs in pairs:
            scale = np.max(np.abs(theirs))
            worst = max(worst, np.max(np.abs(ours - theirs)) / scale)
    return worst


def check_correctness(X, short_epochs):
    import torch

    n = X.shape[0]
    rows = []
    for k in LATENTS:
        eps = np.random.default_rng(k).standard_normal((n, k))
        states = {}
        vae = make_vae(k, 0, short_epochs)
        states["initial"] = initial_state(vae, X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            vae.fit(X)
        states[f"after {short_epochs} epochs"] = (vae._network, vae._theta.copy())
        for state, (network, theta) in states.items():
            row = {"k": k, "state": state}
            gradients = {}
            for beta in (1.0, 0.0):
                J, gradient = skae_objective(network, beta, eps).loss_and_gradient(
                    theta, X, X
                )
                gradients[beta] = gradient.copy()
                model = torch_vae(layers_of(network, theta), torch.float64)
                X_t, eps_t = torch.from_numpy(X), torch.from_numpy(eps)
                loss = torch_loss(model, X_t, eps_t, beta)
                loss.backward()
                J_torch = loss.item()
                row[beta] = (
                    J,
                    J_torch,
                    abs(J - J_torch) / abs(J_torch),
                    _gradient_difference(network, gradient, model),
                )
            row["kl_gradient"] = float(np.linalg.norm(gradients[1.0] - gradients[0.0]))
            row["gradient"] = float(np.linalg.norm(gradients[1.0]))
            rows.append(row)
    print(
        f"\n## Correctness: skae's J against PyTorch's, float64, {n} rows as one "
        "batch, the same weights and eps\n"
    )
    print(
        "| k | weights | J skae (beta=1) | J torch | J rel. diff | "
        "grad max rel. diff | J rel. diff beta=0 | grad max rel. diff beta=0 | "
        "norm of the KL term's gradient | norm of the gradient |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        one, zero = row[1.0], row[0.0]
        print(
            f"| {row['k']} | {row['state']} | {one[0]:.12f} | {one[1]:.12f} | "
            f"{one[2]:.1e} | {one[3]:.1e} | {zero[2]:.1e} | {zero[3]:.1e} | "
            f"{row['kl_gradient']:.3e} | {row['gradient']:.3e} |"
        )
    print(
        "\n(grad max rel. diff: for each of the 8 parameter arrays "
        "max |g_skae - g_torch| / max |g_torch|, the largest; KL term's gradient: "
        "skae's gradient at beta=1 minus at beta=0; target for J: 1e-12)"
    )
    return rows


# -- training ------------------------------------------------------------------------


def fit_skae(X, k, seed, epochs):
    """(fitted VAE, seconds per epoch of its whole fit)."""
    vae = make_vae(k, seed, epochs)
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        vae.fit(X)
        seconds = time.perf_counter() - start
    if vae.n_iter_ != epochs:
        print(f"note: skae stopped after {vae.n_iter_} of {epochs} epochs")
    return vae, seconds / vae.n_iter_


def fit_torch(layers, X, k, seed, epochs):
    """(final layers, seconds per epoch of the loop, last epoch's mean J)."""
    import torch

    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    generator = torch.Generator().manual_seed(seed)
    model = torch_vae(layers, dtype)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8
    )
    X_t = torch.from_numpy(X)
    n = X.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        epoch_loss = 0.0
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, BATCH):
            batch = X_t[order[begin : begin + BATCH]]
            eps = torch.randn(batch.shape[0], k, dtype=dtype, generator=generator)
            optimizer.zero_grad(set_to_none=True)
            loss = torch_loss(model, batch, eps, 1.0)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * batch.shape[0] / n
    seconds = time.perf_counter() - start
    return torch_layers(model), seconds / epochs, epoch_loss


def bench_training(X_train, X_test, epochs, rounds, dtypes):
    import torch

    results = {}  # (dtype name, k) -> list of per-seed dicts
    sanity = []
    for dtype in dtypes:
        A = X_train.astype(dtype)
        for k in LATENTS:
            eps_draws = np.random.default_rng(EPS_SEED).standard_normal((N_DRAWS, k))
            fit_skae(A, k, 0, 1)  # warm-up, not timed
            fit_torch(layers_of(*initial_state(make_vae(k, 0, 1), A)), A, k, 0, 1)
            for seed in range(rounds):
                layers = layers_of(*initial_state(make_vae(k, seed, epochs), A))
                row = {}
                for who in ("skae", "torch") if seed % 2 == 0 else ("torch", "skae"):
                    if who == "skae":
                        vae, per_epoch = fit_skae(A, k, seed, epochs)
                        fitted = layers_of(vae._network, vae._theta)
                        row["skae"] = (
                            negative_elbo(fitted, X_test, eps_draws),
                            per_epoch,
                            vae.loss_curve_[-1],
                        )
                        if seed == 0:
                            own = negative_elbo(
                                fitted, X_test, np.asarray(vae._score_eps, np.float64)
                            )
                            score = -vae.score(X_test.astype(dtype))
                            sanity.append((np.dtype(dtype).name, k, own, score))
                    else:
                        fitted, per_epoch, last = fit_torch(layers, A, k, seed, epochs)
                        row["torch"] = (
                            negative_elbo(fitted, X_test, eps_draws),
                            per_epoch,
                            last,
                        )
                results.setdefault((np.dtype(dtype).name, k), []).append(row)
    print_training(results, sanity, epochs, rounds, len(X_train), len(X_test))
    print(f"\n(torch {torch.__version__}, {torch.get_num_threads()} thread)")
    return results


def print_training(results, sanity, epochs, rounds, n_train, n_test):
    print(
        f"\n## Training: 64 -> ({HIDDEN},) relu -> 2k -> k -> ({HIDDEN},) relu -> 64, "
        f"Bernoulli, Adam lr {LR:g}, batches of {BATCH}, {epochs} epochs, "
        f"{n_train} train / {n_test} test rows, seeds 0-{rounds - 1}, one thread\n"
    )
    print(
        "| dtype | k | test -ELBO skae | test -ELBO torch | ratio skae / torch | "
        "-ELBO by seed, skae | -ELBO by seed, torch | last epoch's J skae / torch | "
        "epoch skae | epoch torch | time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (dtype, k), rows in results.items():
        mine = [r["skae"] for r in rows]
        theirs = [r["torch"] for r in rows]
        elbo_mine = np.mean([r[0] for r in mine])
        elbo_theirs = np.mean([r[0] for r in theirs])
        t_mine = statistics.median(r[1] for r in mine)
        t_theirs = statistics.median(r[1] for r in theirs)
        print(
            f"| {dtype} | {k} | {elbo_mine:.3f} | {elbo_theirs:.3f} | "
            f"**{_ratio(elbo_mine, elbo_theirs):.4f}** | "
            f"{' '.join(f'{r[0]:.2f}' for r in mine)} | "
            f"{' '.join(f'{r[0]:.2f}' for r in theirs)} | "
            f"{np.mean([r[2] for r in mine]):.3f} / "
            f"{np.mean([r[2] for r in theirs]):.3f} | "
            f"{t_mine * 1e3:.2f} ms | {t_theirs * 1e3:.2f} ms | "
            f"**{_ratio(t_mine, t_theirs):.2f}x** |"
        )
    print(
        f"\n(-ELBO: mean over the {n_test} test rows, {N_DRAWS} draws of eps common "
        "to all rows and both models, the mean over the seeds; times: medians "
        "over the seeds; targets: ELBO ratio within 2% of 1, time ratio <= 1.0)"
    )
    for dtype, k, own, score in sanity:
        print(
            f"sanity, {dtype} k={k}: this estimator with skae's score draws "
            f"{own:.10f}, -vae.score(X_test) {score:.10f}, "
            f"relative difference {abs(own - score) / abs(score):.1e}"
        )


# -- outliers --------------------------------------------------------------------------


def outlier_detectors():
    vae = dict(
        hidden_layer_sizes=(16,),
        activation="relu",
        out_activation="sigmoid",
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    )
    return {
        "VAE k=2, (16,) relu, sigmoid, adam lr 0.01": ReconstructionOutlierDetector(
            VariationalAutoEncoder(n_components=2, **vae)
        ),
        "VAE k=5, same": ReconstructionOutlierDetector(
            VariationalAutoEncoder(n_components=5, **vae)
        ),
        "AutoEncoder k=2, the VAE's architecture and solver": (
            ReconstructionOutlierDetector(
                AutoEncoder(n_components=2, solver="adam", **vae)
            )
        ),
        "AutoEncoder() default (10 sigmoid units, lbfgs), as the user guide": (
            ReconstructionOutlierDetector(AutoEncoder(random_state=0))
        ),
        "PCA(n_components=2)": ReconstructionOutlierDetector(PCA(n_components=2)),
        "PCA(n_components=5)": ReconstructionOutlierDetector(PCA(n_components=5)),
        "IsolationForest(random_state=0)": IsolationForest(random_state=0),
    }


def bench_outliers(n_splits):
    X, outlier = wbc_data()
    splits = StratifiedShuffleSplit(n_splits=n_splits, test_size=0.4, random_state=0)
    aucs, seconds, warned, n_iter = {}, {}, {}, {}
    for train, test in splits.split(X, outlier):
        for name, detector in outlier_detectors().items():
            with (
                threadpool_limits(1, user_api="blas"),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                detector.fit(X[train])  # unsupervised: no labels
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                score = -detector.decision_function(X[test])
            warned[name] = warned.get(name, 0) + any(
                issubclass(w.category, ConvergenceWarning) for w in caught
            )
            aucs.setdefault(name, []).append(roc_auc_score(outlier[test], score))
            fitted = getattr(detector, "estimator_", None)
            if hasattr(fitted, "n_iter_"):
                n_iter.setdefault(name, []).append(fitted.n_iter_)
    print_outliers(aucs, seconds, warned, n_iter, n_splits, X, outlier)
    return aucs


def print_outliers(aucs, seconds, warned, n_iter, n_splits, X, outlier):
    print(
        f"\n## Outliers: wbc ({len(X)} rows, {outlier.sum()} malignant, "
        f"{X.shape[1]} features), ROC AUC over {n_splits} stratified 60/40 splits\n"
    )
    names = list(aucs)
    vae_names = [name for name in names if name.startswith("VAE")]
    print(
        "| detector | mean ROC AUC | std | by split | median fit | "
        "median n_iter_ | ConvergenceWarning (fits) | "
        + " | ".join(f"{name.split(',')[0]} wins (splits)" for name in vae_names)
        + " |"
    )
    print("|---|---|---|---|---|---|---|" + "---|" * len(vae_names))
    for name in names:
        values = np.array(aucs[name])
        wins = [
            "-"
            if vae == name
            else f"{int(np.sum(np.array(aucs[vae]) > values))} / {n_splits}"
            for vae in vae_names
        ]
        print(
            f"| {name} | {values.mean():.3f} | {values.std():.3f} | "
            f"{' '.join(f'{v:.3f}' for v in values)} | "
            f"{statistics.median(seconds[name]) * 1e3:.0f} ms | "
            f"{statistics.median(n_iter[name]) if name in n_iter else '-'} | "
            f"{warned[name]} | " + " | ".join(wins) + " |"
        )
    print(
        "\n(score: -decision_function, malignant = outlier; each detector fitted "
        "on the training part with its outliers, unlabelled; one BLAS thread; "
        "wins: splits where that VAE's ROC AUC is higher than the row's)"
    )


# -- main -----------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="10 epochs, 2 seeds, float64, 3 splits"
    )
    parser.add_argument("--epochs", type=int, help="training epochs (50; quick 10)")
    parser.add_argument("--rounds", type=int, help="seeds of the training (5; quick 2)")
    parser.add_argument("--splits", type=int, help="wbc splits (10; quick 3)")
    parser.add_argument(
        "--no-float32", action="store_true", help="train in float64 only"
    )
    parser.add_argument("--only", choices=("correctness", "training", "outliers"))
    args = parser.parse_args(argv)
    epochs = args.epochs or (10 if args.quick else 50)
    rounds = args.rounds or (2 if args.quick else 5)
    splits = args.splits or (3 if args.quick else 10)
    dtypes = (np.float64,)
    if not (args.quick or args.no_float32):
        dtypes += (np.float32,)

    start = time.perf_counter()
    X_train, X_test = digits_data()
    versions = (
        f"skae {skae.__version__}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, Python {platform.python_version()}"
    )
    if args.only in (None, "correctness", "training"):
        import torch

        torch.set_num_threads(1)
        versions += f", torch {torch.__version__} (1 thread)"
    print(versions)
    if args.only in (None, "correctness"):
        check_correctness(X_train, 5)
    if args.only in (None, "training"):
        bench_training(X_train, X_test, epochs, rounds, dtypes)
    if args.only in (None, "outliers"):
        bench_outliers(splits)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
