"""
==============================================
Batch gradient descent, SGD and mini-batch SGD
==============================================

The lecture ("Training methods") names three ways to run gradient descent,
which differ only in how many samples each weight update averages over:

- **Batch GD**: every update uses all the training samples;
- **SGD**: every update uses one sample, picked at random;
- **Mini-batch SGD**: every update uses a random part of the samples.

In skae all three are settings of ``solver="sgd"``. This example trains the
same network on the same data with each of them and draws the objective
against epochs and against seconds.
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
from sklearn.datasets import make_friedman1
from sklearn.preprocessing import StandardScaler

from skae import MLPRegressorGD

# %%
# One regression problem
# ----------------------
# Friedman's first problem: 10 uniform inputs (5 of them useless), a smooth
# nonlinear target and Gaussian noise. Inputs and target are standardised, so
# one learning rate suits every weight.
n_samples = 1000
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    n_samples = 300
# sphinx_gallery_end_ignore
X, y = make_friedman1(n_samples=n_samples, noise=1.0, random_state=0)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()

# %%
# The three methods as settings
# -----------------------------
# Everything but ``batch_size`` is shared: one hidden layer of 32 tanh units,
# the same initial weights (``random_state=0``), a constant learning rate of
# 0.01 and no momentum, also for mini-batch SGD, so that the batch size is the
# only difference. With ``batch_size="full"`` each epoch is one averaged
# update, the lecture's batch weight update; with ``batch_size=1`` an epoch is
# ``n_samples`` updates, each from one sample; with ``batch_size=32`` it is
# ``n_samples / 32`` updates. SGD and mini-batch SGD draw their samples in a
# new random order every epoch (``shuffle=True``, the default).
methods = {
    "Batch GD": dict(batch_size="full", momentum=0.0),
    "SGD": dict(batch_size=1, momentum=0.0),
    "Mini-batch SGD (32)": dict(batch_size=32, momentum=0.0),
}
n_epochs = 200
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    n_epochs = 20
# sphinx_gallery_end_ignore

# %%
# Training one epoch at a time
# ----------------------------
# :meth:`~skae.MLPRegressorGD.partial_fit` runs exactly one epoch and keeps
# the solver's state, so calling it in a loop is the same training as ``fit``
# with ``max_iter=n_epochs``, and lets us time every epoch with
# :func:`time.perf_counter`. The recorded time also holds partial_fit's input
# checks, a fraction of a millisecond per epoch.
#
# ``loss_curve_`` gets one value per epoch: the objective :math:`J` of
# SPEC.md (here the mean squared error plus the weight decay term). For Batch
# GD it is :math:`J` on the whole training set; for SGD and mini-batch SGD it
# is the average of the batch objectives met during the epoch, as
# scikit-learn's ``MLPRegressor`` reports it.
curves, seconds = {}, {}
for name, settings in methods.items():
    model = MLPRegressorGD(
        hidden_layer_sizes=(32,),
        activation="tanh",
        solver="sgd",
        learning_rate_init=0.01,
        random_state=0,
        **settings,
    )
    elapsed = []
    for _ in range(n_epochs):
        start = time.perf_counter()
        model.partial_fit(X, y)
        elapsed.append(time.perf_counter() - start)
    curves[name] = np.asarray(model.loss_curve_)
    seconds[name] = np.cumsum(elapsed)
    print(
        f"{name:>20}: J = {curves[name][-1]:.3f} after {n_epochs} epochs, "
        f"{1e3 * np.mean(elapsed):.2f} ms per epoch, R^2 = {model.score(X, y):.3f}"
    )

# %%
# The loss curves
# ---------------
# Against epochs (left), Batch GD falls smoothly and monotonically, but
# slowly: it makes one update per pass over the data, and within these epochs
# it settles on a plateau near the error of a linear fit (R^2 about 0.75).
# SGD makes ``n_samples`` updates per epoch, so it is far ahead after the
# first epoch and keeps falling, with visible noise, since each update follows
# a single sample's gradient. Mini-batch SGD lies in between: it leaves the
# plateau that stops Batch GD, and its curve is almost as smooth.
#
# Against seconds (right) the picture shifts: an SGD epoch costs ``n_samples``
# small steps in Python, while a Batch GD epoch is a few matrix products on
# the whole data set and a mini-batch epoch a few dozen on slices of it, both
# more than ten times cheaper here. For the first tenth of a second
# mini-batch SGD is ahead of SGD, and all its epochs take about as long as a
# dozen or so of SGD's, ending at a similar objective. It gets many updates per
# epoch while keeping the arithmetic vectorised, which is why it is the usual
# choice.
fig, (ax_epochs, ax_seconds) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for name, curve in curves.items():
    epochs = np.arange(1, len(curve) + 1)
    ax_epochs.plot(epochs, curve, label=name)
    ax_seconds.plot(seconds[name], curve, label=name)
ax_epochs.set_xlabel("epoch")
ax_epochs.set_ylabel("objective J (loss_curve_)")
ax_epochs.set_yscale("log")
ax_seconds.set_xlabel("training time (s)")
ax_seconds.set_xscale("log")
for ax in (ax_epochs, ax_seconds):
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
ax_epochs.set_title("Objective against epochs")
ax_seconds.set_title("Objective against seconds")
fig.tight_layout()
plt.show()
