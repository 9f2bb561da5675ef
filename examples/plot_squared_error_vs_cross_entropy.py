"""
====================================================
Squared error versus cross-entropy for autoencoders
====================================================

The lecture derives both reconstruction losses of the basic autoencoder from
one principle, maximum likelihood: the squared error is the negative
log-likelihood of a Gaussian model of the pixels, the cross-entropy that of a
Bernoulli model. This example trains the two pairings the lecture recommends
on scikit-learn's digits scaled to [0, 1]: an identity decoder with squared
error, and a sigmoid decoder with cross-entropy. Both have the same code size
and solver, and both are judged on held-out digits by the same yardsticks.
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
from sklearn.preprocessing import MinMaxScaler

from skae import AutoEncoder

# %%
# Two losses from one principle
# -----------------------------
#
# Maximum likelihood picks the parameters under which the training data are
# most probable; taking logs, it minimises the negative log-likelihood
# ``-sum_i log p_model(x_i; theta)`` (lecture: "最大似然估计", equations (3)
# and (15)). An autoencoder's decoder output ``y = g(f(x))`` is read as the
# parameter of a distribution over the input ``x`` itself.
#
# * **Gaussian model, identity decoder.** If each pixel is ``x_k ~ N(y_k,
#   sigma^2)`` with a fixed ``sigma``, then ``-log p(x | y) = ||x - y||^2 /
#   (2 sigma^2) + const``: minimising it is minimising the squared error
#   ``L(x, y) = ||x - y||^2`` (lecture: equations (18) to (20), the derivation
#   of MSE). The mean ``y_k`` of a Gaussian can be any real number, so the
#   matching decoder output is the identity, ``s_g(z) = z``.
# * **Bernoulli model, sigmoid decoder.** If each pixel is "on" with
#   probability ``y_k``, then ``-log p(x | y) = -sum_k [x_k log y_k +
#   (1 - x_k) log(1 - y_k)]``, the cross-entropy of the lecture's Basic
#   AutoEncoder slide. A probability must lie in ``(0, 1)``, so the matching
#   decoder output is the sigmoid ``s_g(z) = 1 / (1 + exp(-z))``. For grey
#   values between 0 and 1 the loss is still minimised at ``y = x``, but its
#   minimum is the entropy of ``x`` rather than zero.
#
# As the lecture puts it, *any* negative log-likelihood is a cross-entropy
# between the data and the model; "the" cross-entropy is the Bernoulli one.
# In skae, ``out_activation="identity"`` picks the squared error and
# ``out_activation="sigmoid"`` the cross-entropy, through ``loss="auto"``.
#
# The data
# --------
#
# The 8x8 digits take 17 grey levels; :class:`~sklearn.preprocessing.MinMaxScaler`
# fitted on the training set maps them to [0, 1]. A test pixel may fall
# slightly outside the training range, and the cross-entropy needs targets in
# [0, 1], so the scaled test set is clipped.

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train = scaler.transform(X_train)
X_test = np.clip(scaler.transform(X_test), 0, 1)
print(f"{len(X_train)} training and {len(X_test)} test images of 8x8 pixels")
print(f"share of test pixels exactly 0 or 1: {np.isin(X_test, (0, 1)).mean():.0%}")

# %%
# Two autoencoders, one difference
# --------------------------------
#
# Both autoencoders have 32 sigmoid code units, the default weight decay and
# the L-BFGS solver with the same stopping rule (the default ``tol`` and
# ``max_iter``) and seed. Only the decoder output ``s_g``, and with it the
# loss, differs. Both converge well before ``max_iter=1000``.

n_components = 32
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    X_train = X_train[:200]
# sphinx_gallery_end_ignore
models = {
    "identity decoder, squared error": AutoEncoder(
        n_components, out_activation="identity", random_state=0
    ),
    "sigmoid decoder, cross-entropy": AutoEncoder(
        n_components, out_activation="sigmoid", random_state=0
    ),
}
reconstructions = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    reconstructions[name] = model.inverse_transform(model.transform(X_test))
    print(f"{name}: {model.n_iter_} L-BFGS iterations, {seconds:.2f} s")

# %%
# One yardstick for both
# ----------------------
#
# Each model's own ``score`` is minus its own training loss, so the two scores
# are not comparable. Instead, both reconstructions ``inverse_transform(
# transform(X_test))`` are measured by the same two numbers, each summed over
# the 64 pixels and averaged over the test images:
#
# * the squared error ``||x - y||^2``, the identity decoder's own loss;
# * the cross-entropy, the sigmoid decoder's own loss. The identity decoder's
#   outputs can leave [0, 1], where the logarithm is undefined, so they are
#   clipped to [0.001, 0.999] for this number only.
#
# The identity decoder's outputs that leave [0, 1] are errors on a pixel
# whose value is known to lie in [0, 1]: clipping them afterwards can only
# bring them closer. The table shows that score too.


def squared_error(X, Y):
    """Squared reconstruction error of each image, summed over its pixels."""
    return np.sum((X - Y) ** 2, axis=1)


def cross_entropy(X, Y, eps=1e-3):
    """Bernoulli cross-entropy of each image, outputs clipped to [eps, 1 - eps]."""
    Y = np.clip(Y, eps, 1 - eps)
    return -np.sum(X * np.log(Y) + (1 - X) * np.log1p(-Y), axis=1)


floor = cross_entropy(X_test, X_test, eps=1e-12).mean()
test_mse = {}
print(f"\n{'test set, per image':34s} {'squared err':>11s} {'cross-ent':>10s}")
for name, Y in reconstructions.items():
    test_mse[name] = squared_error(X_test, Y).mean()
    print(f"{name:34s} {test_mse[name]:11.4f} {cross_entropy(X_test, Y).mean():10.3f}")
Y_identity = reconstructions["identity decoder, squared error"]
print(
    f"{'identity decoder, clipped to [0,1]':34s} "
    f"{squared_error(X_test, np.clip(Y_identity, 0, 1)).mean():11.4f}"
)
print(f"{'perfect reconstruction':34s} {0:11.4f} {floor:10.3f}")
for name, Y in reconstructions.items():
    outside = np.mean((Y < 0) | (Y > 1))
    print(
        f"{name}: outputs in [{Y.min():.3f}, {Y.max():.3f}], "
        f"{outside:.0%} of them outside [0, 1]"
    )

# %%
# Reconstructions of held-out digits
# ----------------------------------
#
# The first row shows test digits, the next two their reconstructions from a
# 32-unit code. Both models keep the digits' shapes; the sigmoid decoder's
# backgrounds are a little cleaner, the identity decoder leaves faint grey
# where the digit is blank. Its overshoots below 0 and above 1 are drawn as
# plain white and black (the colour scale is clipped to [0, 1]), so the
# figure hides part of its error.

n_show = 10
rows = {"original test digits": X_test, **reconstructions}
fig = plt.figure(figsize=(0.9 * n_show, 4.8), layout="constrained")
for subfig, (label, images) in zip(fig.subfigures(3, 1), rows.items()):
    if label in test_mse:
        label = f"{label}: test squared error per image {test_mse[label]:.3f}"
    subfig.suptitle(label, fontsize=10)
    for ax, image in zip(subfig.subplots(1, n_show), images[:n_show]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle(f"Digits through a {n_components}-unit code", fontweight="bold")

# %%
# Where the outputs land
# ----------------------
#
# The histogram of all reconstructed test pixels shows the practical side of
# the choice. The sigmoid decoder's outputs are probabilities and stay inside
# (0, 1) by construction; they pile up near 0 and 1, where most digit pixels
# are. The identity decoder, as a Gaussian mean, has no such bound: a large
# share of its outputs fall below 0 or above 1 for pixels that are exactly 0
# or 1.

fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(-0.4, 1.4, 73)
for name, Y in reconstructions.items():
    ax.hist(Y.ravel(), bins=bins, histtype="step", linewidth=1.5, label=name)
for edge in (0, 1):
    ax.axvline(edge, color="grey", linestyle="--", linewidth=1)
ax.set_xlabel("reconstructed pixel value (test set)")
ax.set_ylabel("number of pixels")
ax.set_yscale("log")
ax.legend()
ax.set_title("Decoder outputs: the sigmoid stays in [0, 1]")
fig.tight_layout()

# %%
# What to take away
# -----------------
#
# Both losses are maximum-likelihood losses; they differ in the noise model
# they assume. On these nearly black-and-white digits the sigmoid decoder
# trained with cross-entropy reconstructs held-out images slightly better
# than the identity decoder even by the identity decoder's own squared error,
# and its outputs are valid pixel values without any post-processing. The
# identity decoder spends part of its fit on outputs outside [0, 1]; clipping
# them afterwards repairs much of that, which says the same thing from the
# other side: the data live in [0, 1], and the Bernoulli model builds that in.

plt.show()
