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
each until it converges, compares their reconstruction errors on the training
digits and on the other 30%, and draws the loss curves of every stage.
Pretraining is not free, so it also reads the loss curves at equal budgets:
as many iterations of the deep network, and as many iterations in all.
"""

# License: BSD-3-Clause

# sphinx_gallery_start_ignore
# The test suite runs a smaller version of this example: with
# SKAE_EXAMPLES_FAST set, the blocks hidden on the rendered page, like this
# one, shrink its settings.
import os

# sphinx_gallery_end_ignore
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
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
# Two fits per seed
# -----------------
# The network is ``64 -> 32 -> 8 -> 32 -> 64``: sigmoid hidden layers, a
# linear output and the squared error, trained by L-BFGS (the default) until
# skae's stopping rule ends the fit: the objective J has not improved by
# ``tol * max(|J|, 1)`` (``tol=1e-4``, the default) for 10 iterations in a
# row. The default ``max_iter=1000`` is too few for this network: from the
# random start J still improves by more than that after 1000 iterations, and
# both starts need about 1,800 to 1,900 iterations in all to converge, so
# ``max_iter=3000`` leaves room. With ``init="greedy"`` two stages run first,
# each until it converges too (and for at most ``max_iter`` iterations):
#
# 1. a ``64 -> 32 -> 64`` autoencoder of the digits, whose encoder and decoder
#    become the first and the last layer of the deep network;
# 2. a ``32 -> 8 -> 32`` autoencoder of the 32 sigmoid codes of stage 1 (with a
#    sigmoid output, since it reconstructs sigmoid activations), whose encoder
#    and decoder become the two middle layers.
#
# Each setting is fitted from three seeds.

seeds = [0, 1, 2]
X_fit = X_train
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    seeds = [0]
    X_fit = X_train[:30]
# sphinx_gallery_end_ignore
settings = dict(
    n_components=8, hidden_layer_sizes=(32,), activation="sigmoid", max_iter=3000
)


def fit(seed, **params):
    """Fit one autoencoder; return it and the seconds its fit took."""
    model = AutoEncoder(**{**settings, **params}, random_state=seed)
    start = time.perf_counter()
    model.fit(X_fit)
    return model, time.perf_counter() - start


def stage_iterations(model):
    """Iterations of the pretraining stages (0 for a random start)."""
    return sum(len(curve) for curve in model.pretrain_loss_curves_ or [])


names = ("random", "greedy")
models = {name: [] for name in names}
results = {name: [] for name in names}  # (train error, test error, seconds)
for seed in seeds:
    for name, params in zip(names, ({}, {"init": "greedy"})):
        model, seconds = fit(seed, **params)
        models[name].append(model)
        results[name].append((-model.score(X_fit), -model.score(X_test), seconds))

# %%
# Reconstruction errors at convergence
# ------------------------------------
# ``-score`` is the mean over the digits of the summed squared error of the 64
# reconstructed pixels. The table gives the median over the seeds; the
# iterations of the greedy fit count its stages too.

median = {name: np.median(results[name], axis=0) for name in names}
print(f"median over seeds {seeds}, at convergence")
print(f"{'':>8}  {'train':>6}  {'test':>6}  {'iterations':>10}  {'fit (s)':>7}")
for name in names:
    train, test, seconds = median[name]
    iterations = np.median(
        [stage_iterations(model) + len(model.loss_curve_) for model in models[name]]
    )
    print(f"{name:>8}  {train:6.3f}  {test:6.3f}  {iterations:10.0f}  {seconds:7.2f}")

# %%
# Equal budgets, read from the loss curves
# ----------------------------------------
# Scipy's L-BFGS takes the same steps whatever ``max_iter`` is, so the
# objective J at iteration ``k`` of the random start's loss curve is the J a
# fit with ``max_iter=k`` would end with, and that of the greedy fit's
# fine-tuning is J after ``k`` iterations from the converged stages
# (``loss_curve_`` records J, which adds the weight decay to the data term).
# Reading the curves at a budget of 300 iterations of the deep network
# compares the greedy fit's fine-tuning with the random start after as many
# iterations ("same max_iter") and after as many as the greedy fit ran in
# all, its stages included ("same iterations in all").


def objective_after(model, iterations):
    """J after ``iterations`` iterations of the deep network, or at the end
    of a fit that converged sooner."""
    return model.loss_curve_[min(iterations, len(model.loss_curve_)) - 1]


budget = 300
at_budget = {"random, same max_iter": [], "greedy": [], "random, same in all": []}
for random_model, greedy_model in zip(models["random"], models["greedy"]):
    in_all = budget + stage_iterations(greedy_model)
    at_budget["random, same max_iter"].append(objective_after(random_model, budget))
    at_budget["greedy"].append(objective_after(greedy_model, budget))
    at_budget["random, same in all"].append(objective_after(random_model, in_all))
print(f"objective J after {budget} iterations of the deep network, median:")
for name, values in at_budget.items():
    print(f"{name:>24}  {np.median(values):6.3f}")

# %%
# After the same number of iterations of the deep network, the greedy start
# has a clearly lower objective. Most of that lead is the extra training the
# stages give, though: the random start, given as many iterations as the
# greedy fit ran in all, catches up and, in our runs, passes it. Run until
# they converge, the two starts end at about the same error, on the training
# digits and on the test digits alike (in our runs within 0.02 on the
# training digits and equal on the test digits), after about as many
# iterations in all; the greedy fit took a little less time, since a stage-2
# iteration costs little. On this small network pretraining buys a good start
# quickly rather than a better end point. It matters more for deeper
# networks: Hinton and Salakhutdinov report that, without pretraining, their
# very deep autoencoders reconstructed only the average of the training data,
# even after long fine-tuning.

# %%
# Loss curves
# -----------
# The iterations of each stage are laid end to end (seed 0): the greedy fit
# runs stage 1, then stage 2, then fine-tunes the deep network. Stage 1's loss
# is the reconstruction error of the digits by a single hidden layer of 32,
# lower than the deep network's, which has to pass through 8 units; stage 2's
# is the error of reconstructing the 32 codes, a different quantity, on a
# scale of its own. The random fit starts at iteration 1. The dots mark the
# budgets of the table above: 300 iterations of the deep network for each
# start, and, on the same vertical line as the greedy fit's 300th, the random
# start after as many iterations in all.

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
random_curve = models["random"][0].loss_curve_
ax.plot(
    np.arange(1, len(random_curve) + 1), random_curve, color="tab:red", label="random"
)
ax.plot(start + budget, objective_after(greedy, budget), "o", color="tab:blue")
for step in (budget, start + budget):
    ax.plot(step, objective_after(models["random"][0], step), "o", color="tab:red")
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
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 3.6))
for row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(row, images[:8]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name.replace(", ", ",\n"), fontsize=8)
fig.suptitle("Reconstructions of test digits, both fits converged")
plt.show()
