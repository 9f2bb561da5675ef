"""
===================================================
Greedy layer-wise pretraining of a deep autoencoder
===================================================

A deep autoencoder started from small random weights is hard to train: the
gradient reaching its lower layers is weak, and the optimiser spends many
iterations on a plateau. Greedy layer-wise pretraining (Bengio, Lamblin,
Popovici and Larochelle, 2007; Hinton and Salakhutdinov, 2006) first trains
each encoder layer as a shallow autoencoder of the codes of the layer below
it, then uses these shallow networks to initialise the deep one, which is
trained end to end ("fine-tuned") as usual. In skae this is
``init="greedy"`` on :class:`~skae.AutoEncoder`,
:class:`~skae.SparseAutoEncoder` and :class:`~skae.MLPRegressorGD`.

This example trains a 64-32-8-32-64 sigmoid autoencoder on 70% of
scikit-learn's digits from Glorot's random draw and from greedy pretraining,
compares their reconstruction errors on the training digits and on the other
30%, and draws the loss curves of every stage. Pretraining is not free, so it
also trains the random start for as many iterations as the greedy fit ran in
all.
"""

# License: BSD-3-Clause

# sphinx_gallery_start_ignore
# The test suite runs a smaller version of this example: with
# SKAE_EXAMPLES_FAST set, the blocks hidden on the rendered page, like this
# one, shrink its settings.
import os

# sphinx_gallery_end_ignore
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoEncoder

# %%
# Data
# ----
# The 8x8 digits, pixels scaled to [0, 1], split 70/30 into training and
# test digits.

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

# %%
# Three fits per seed
# -------------------
# The network is ``64 -> 32 -> 8 -> 32 -> 64``: sigmoid hidden layers, a
# linear output and the squared error, trained by L-BFGS (the default) for
# ``max_iter`` iterations. With ``init="greedy"`` two stages run first, each
# for up to ``max_iter`` iterations too:
#
# 1. a ``64 -> 32 -> 64`` autoencoder of the digits, whose encoder and decoder
#    become the first and the last layer of the deep network;
# 2. a ``32 -> 8 -> 32`` autoencoder of the 32 sigmoid codes of stage 1 (with a
#    sigmoid output, since it reconstructs sigmoid activations), whose encoder
#    and decoder become the two middle layers.
#
# The greedy fit thus runs up to three times as many iterations as the random
# one, although a stage-2 iteration is cheap (its network has a ninth of the
# weights). The third model, "random, same iterations", starts from the same
# random draw as "random" and runs as many iterations as the greedy fit did
# in all, stages included; L-BFGS is deterministic, so its loss curve begins
# with the curve of "random".

seeds = [0, 1, 2]
max_iter = 300
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    seeds = [0]
    max_iter = 60
# sphinx_gallery_end_ignore
settings = dict(
    n_components=8, hidden_layer_sizes=(32,), activation="sigmoid", max_iter=max_iter
)


def fit(seed, **params):
    """Fit one autoencoder; return it and the seconds its fit took."""
    model = AutoEncoder(**{**settings, **params}, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # a fit that stops at max_iter warns that it did not converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    return model, time.perf_counter() - start


def total_iterations(model):
    """Iterations of the pretraining stages and of the fine-tuning."""
    stages = model.pretrain_loss_curves_ or []
    return sum(len(curve) for curve in stages) + len(model.loss_curve_)


names = ("random", "greedy", "random, same iterations")
models = {name: [] for name in names}
results = {name: [] for name in names}  # (train error, test error, seconds)
for seed in seeds:
    runs = {"random": fit(seed), "greedy": fit(seed, init="greedy")}
    budget = total_iterations(runs["greedy"][0])
    runs["random, same iterations"] = fit(seed, max_iter=budget)
    for name, (model, seconds) in runs.items():
        models[name].append(model)
        results[name].append((-model.score(X_train), -model.score(X_test), seconds))

# %%
# Reconstruction errors
# ---------------------
# ``-score`` is the mean over the digits of the summed squared error of the 64
# reconstructed pixels. The table gives the median over the seeds.

median = {name: np.median(results[name], axis=0) for name in names}
print(f"median over seeds {seeds}, max_iter={max_iter}")
print(f"{'':>24}  {'train':>6}  {'test':>6}  {'iterations':>10}  {'fit (s)':>7}")
for name in names:
    train, test, seconds = median[name]
    iterations = np.median([total_iterations(model) for model in models[name]])
    print(f"{name:>24}  {train:6.3f}  {test:6.3f}  {iterations:10.0f}  {seconds:7.2f}")
for other in ("random", "random, same iterations"):
    ratio_train = median["greedy"][0] / median[other][0]
    ratio_test = median["greedy"][1] / median[other][1]
    print(f"greedy / {other}: {ratio_train:.2f} (train), {ratio_test:.2f} (test)")

# %%
# With the same ``max_iter``, the greedy start ends with a clearly lower
# error, on the training digits and on the test digits alike. Most of that
# lead is the extra training the stages give, though: the random start,
# trained for as many iterations as the greedy fit ran in all, catches up
# and, in our runs, passes it. Per second of fitting the comparison is
# closer, since a stage-2 iteration costs little: in our measurements the two
# starts were about even for equal fit times, and both reached about the same
# error once L-BFGS converged (``max_iter=2000``). On this small network
# pretraining buys a good start quickly rather than a better end point. It
# matters more for deeper networks: Hinton and Salakhutdinov report that,
# without pretraining, their very deep autoencoders reconstructed only the
# average of the training data, even after long fine-tuning.

# %%
# Loss curves
# -----------
# The iterations of each stage are laid end to end (seed 0): the greedy fit
# runs stage 1, then stage 2, then fine-tunes the deep network. Stage 1's loss
# is the reconstruction error of the digits by a single hidden layer of 32,
# lower than the deep network's, which has to pass through 8 units; stage 2's
# is the error of reconstructing the 32 codes, a different quantity, on a
# scale of its own. The random fits start at iteration 1; the dot marks where
# "random" stops.

greedy = models["greedy"][0]
fig, ax = plt.subplots(figsize=(9, 4.5))
start = 0
colors = ("tab:olive", "tab:green")
for index, curve in enumerate(greedy.pretrain_loss_curves_):
    steps = np.arange(start + 1, start + len(curve) + 1)
    ax.plot(steps, curve, color=colors[index], label=f"greedy, stage {index + 1}")
    start += len(curve)
    ax.axvline(start + 0.5, color="grey", linestyle=":", linewidth=1)
steps = np.arange(start + 1, start + len(greedy.loss_curve_) + 1)
ax.plot(steps, greedy.loss_curve_, color="tab:blue", label="greedy, fine-tuning")
long_curve = models["random, same iterations"][0].loss_curve_
ax.plot(
    np.arange(1, len(long_curve) + 1),
    long_curve,
    color="tab:red",
    label="random (then same iterations)",
)
random_curve = models["random"][0].loss_curve_
ax.plot(len(random_curve), random_curve[-1], "o", color="tab:red")
ax.set_yscale("log")
ax.set_xlabel("iterations, the stages laid end to end")
ax.set_ylabel("objective J (loss_curve_)")
ax.set_title("Loss curves of a 64-32-8-32-64 sigmoid autoencoder")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# Reconstructions
# ---------------
# Eight test digits and their reconstructions through the 8-unit code (seed 0).

rows = {"test digit": X_test}
for name in names:
    model = models[name][0]
    rows[name] = model.inverse_transform(model.transform(X_test))
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 4.6))
for row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(row, images[:8]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name.replace(", ", ",\n"), fontsize=8)
fig.suptitle(f"Reconstructions of test digits (max_iter={max_iter})")
plt.show()
