"""
=======================================
A variational autoencoder of the digits
=======================================

A variational autoencoder (Kingma and Welling, 2014) encodes each input into a
Gaussian distribution ``q(z|x)`` over a latent code rather than into one
point, and decodes a draw of it. Training maximises the evidence lower bound
(ELBO): the expected log-likelihood of the input under the decoder, minus the
KL divergence from ``q(z|x)`` to the prior ``N(0, I)``. The KL term pulls the
codes of all inputs into the bulk of the prior, so that decoding a draw of the
prior gives something that looks like the data: the model generates.

This example fits a :class:`~skae.VariationalAutoEncoder` with two latent
units on scikit-learn's 8x8 digits, then draws the latent plane of the test
digits, the digits decoded from a grid over the prior, and the two terms of
the objective during training. See :doc:`/user_guide/variational` for the
formulas.
"""

# License: BSD-3-Clause

# sphinx_gallery_start_ignore
# The test suite runs a smaller version of this example: with
# SKAE_EXAMPLES_FAST set, the blocks hidden on the rendered page, like this
# one, shrink its settings.
import os

# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import VariationalAutoEncoder

# %%
# Data
# ----
# The pixels scaled to [0, 1], the range of a Bernoulli likelihood's mean;
# three quarters of the digits to train on, a quarter to test on.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.25, stratify=y, random_state=0
)
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    X_train, y_train = X_train[:300], y_train[:300]
# sphinx_gallery_end_ignore
print(f"{len(X_train)} training digits, {len(X_test)} test digits")

# %%
# The model
# ---------
# The encoder is a hidden layer of 128 ReLU units, then the mean and the
# log-variance of ``q(z|x)`` over two latent units; the decoder mirrors it
# and ends in a sigmoid, the mean of a Bernoulli likelihood per pixel, so that
# the reconstruction term is the cross-entropy. Adam draws fresh noise
# ``eps`` for every mini-batch, so the objective it records moves up and
# down from epoch to epoch; the stopping rule gets more patience than its
# default (30 epochs without an improvement of ``tol`` rather than 10), so
# that this noise does not stop training while the objective still falls.

vae = VariationalAutoEncoder(
    n_components=2,
    hidden_layer_sizes=(128,),
    out_activation="sigmoid",
    learning_rate_init=0.003,
    n_iter_no_change=30,
    random_state=0,
).fit(X_train)

# %%
# :meth:`~skae.VariationalAutoEncoder.score_samples` estimates the ELBO of
# each digit, :meth:`~skae.VariationalAutoEncoder.score` their mean. As a
# yardstick, a model whose code carried nothing (a collapsed posterior,
# ``q(z|x) = N(0, I)`` and a KL of 0) would decode every input to one image,
# at best about the mean training digit: the cross-entropy of the test digits
# under that image is printed below, its sign flipped to compare with the
# ELBO.

mean_digit = np.clip(X_train.mean(axis=0), 1e-6, 1 - 1e-6)
constant = -np.sum(
    X_test * np.log(mean_digit) + (1 - X_test) * np.log(1 - mean_digit), axis=1
).mean()
print(f"stopped after {vae.n_iter_} epochs (max_iter={vae.max_iter})")
print(f"last epoch: J = {vae.loss_curve_[-1]:.2f}")
print(f"  reconstruction (cross-entropy) = {vae.reconstruction_loss_curve_[-1]:.2f}")
print(f"  KL(q(z|x) || N(0, I))          = {vae.kl_loss_curve_[-1]:.2f}")
print(f"test ELBO (score):                      {vae.score(X_test):.2f}")
print(f"training ELBO:                          {vae.score(X_train):.2f}")
print(f"mean digit for every input, minus its cross-entropy: {-constant:.2f}")

# %%
# The latent plane
# ----------------
# :meth:`~skae.VariationalAutoEncoder.transform` gives the posterior means
# ``mu(x)`` of the test digits, which the model never trained on, coloured by
# their labels (which it never saw). The dashed circles mark one and two
# standard deviations of the prior.

Z_test = vae.transform(X_test)
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
points = ax.scatter(
    Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", vmin=-0.5, vmax=9.5, s=12
)
for radius in (1, 2):
    ax.add_patch(plt.Circle((0, 0), radius, fill=False, ls="--", color="0.5"))
fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
ax.set_aspect("equal")
ax.set_xlabel("$z_1$ (posterior mean)")
ax.set_ylabel("$z_2$ (posterior mean)")
ax.set_title("Test digits in the latent plane")

# %%
# Digits of a class land close together, though no label was used. A few
# classes (in our run 0, 2, 4 and 6) have a region of their own towards the
# rim of the prior's bulk; others crowd near the centre and overlap. The KL
# term keeps the codes inside the prior's bulk, most within two of the
# origin, rather than spreading the classes apart as far as they like: two
# latent units cannot keep ten classes apart, the price of a code one can
# plot.
#
# Generating digits
# -----------------
# The decoder turns any point of the plane into a digit. Left, a regular grid
# of ``z`` over the bulk of the prior, the quantiles 5% to 95% of ``N(0, 1)``
# in each direction (``scipy.stats.norm.ppf``), decoded with
# :meth:`~skae.VariationalAutoEncoder.inverse_transform`; right, digits
# decoded from random draws of the prior by
# :meth:`~skae.VariationalAutoEncoder.sample`. Each image is the decoder's
# mean, the probability of every pixel being on, not a draw of its pixels.

n_grid = 15
quantiles = norm.ppf(np.linspace(0.05, 0.95, n_grid))
z1, z2 = np.meshgrid(quantiles, quantiles[::-1])  # z2 grows upwards
grid = vae.inverse_transform(np.column_stack([z1.ravel(), z2.ravel()]))
# one image: the 8x8 digits side by side, each framed by a blank pixel
tiles = np.pad(grid.reshape(n_grid, n_grid, 8, 8), ((0, 0), (0, 0), (1, 1), (1, 1)))
canvas = tiles.transpose(0, 2, 1, 3).reshape(10 * n_grid, 10 * n_grid)
samples = vae.sample(20, random_state=1)

fig = plt.figure(figsize=(11, 6), layout="constrained")
ax_grid, ax_samples = fig.subfigures(1, 2, width_ratios=[3, 2]).flat
ax = ax_grid.subplots()
ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
ticks = 10 * np.arange(n_grid) + 4.5
ax.set_xticks(ticks[::2], [f"{q:.1f}" for q in quantiles[::2]])
ax.set_yticks(ticks[::2], [f"{q:.1f}" for q in quantiles[::-1][::2]])
ax.set_xlabel("$z_1$")
ax.set_ylabel("$z_2$")
ax.set_title("Decoded from a grid over the prior")
axes = ax_samples.subplots(5, 4)
for image, ax in zip(samples, axes.flat):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
ax_samples.suptitle("Decoded from draws of the prior (sample)")

# %%
# Across the grid one digit turns into the next, in the layout of the
# latent plane above: the decoder has a digit-like image for every point of
# the prior's bulk, between the codes of training digits too. The images are
# blurred, being means: where two classes meet, the mean image is a blend of
# both. The draws of ``sample`` are digits of several classes, some clear,
# some blends, as a random ``z`` may fall between two clusters.
#
# The two terms of the objective
# ------------------------------
# ``loss_curve_`` holds the objective ``J`` of each epoch,
# ``reconstruction_loss_curve_`` and ``kl_loss_curve_`` its two terms (the
# mean cross-entropy and the mean KL divergence, without ``beta``); ``J`` is
# their sum, with ``beta = 1``, plus the weight decay.

epochs = np.arange(1, vae.n_iter_ + 1)
fig, (ax_j, ax_kl) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_j.plot(epochs, vae.loss_curve_, label="objective J")
ax_j.plot(epochs, vae.reconstruction_loss_curve_, label="reconstruction")
ax_j.set_xlabel("epoch")
ax_j.set_ylabel("mean over the epoch's mini-batches")
ax_j.set_title("The negative ELBO and its reconstruction term")
ax_j.legend()
ax_kl.plot(epochs, vae.kl_loss_curve_, color="C2")
ax_kl.set_xlabel("epoch")
ax_kl.set_ylabel("KL(q(z|x) || N(0, I))")
ax_kl.set_title("The KL term")

# %%
# The reconstruction term falls fast over the first epochs and then slowly;
# the KL term starts near 0, the untrained encoder's posteriors close to the
# prior, and grows as the codes learn to tell digits apart, levelling off
# well above 0: the code carries information about each digit, and the ELBO
# beats the mean digit's yardstick. The gap between the two curves on the
# left is the KL term plus the weight decay. The curves stay jagged to the
# end, each epoch drawing new noise ``eps``.

plt.show()
