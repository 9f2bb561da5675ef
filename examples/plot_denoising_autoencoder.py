"""
======================================
Denoising autoencoder on masked digits
======================================

A denoising autoencoder (Vincent et al., 2008) is trained to reconstruct each
clean input from a corrupted copy of it: ``J = mean_i L(x_i, g(f(x~_i)))``.
It cannot learn the identity, so its code has to capture the structure that
lets it fill in what the corruption removed. In skae it is an
:class:`~skae.AutoEncoder` with ``corruption="masking"`` (or ``"gaussian"``,
``"salt_and_pepper"``); transform, inverse_transform and the scores never
corrupt.

This example trains a plain and a denoising autoencoder with 32 code units on
70% of scikit-learn's digits, masks 30% of the pixels of the other 30%, and
compares how well each reconstructs the clean digits from the masked ones.
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
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoEncoder

# %%
# Data: clean training digits, masked test digits
# -----------------------------------------------
#
# Pixels are scaled to [0, 1]. Masking sets each test pixel to 0 with
# probability 0.3, the corruption the denoising autoencoder trains with.

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
masked = X_test * (np.random.default_rng(1).random(X_test.shape) >= 0.3)

# %%
# Two autoencoders, one corrupting its training inputs
# ----------------------------------------------------
#
# With the default L-BFGS solver the corruption is drawn once per fit (L-BFGS
# needs one deterministic objective); "sgd" and "adam" draw a new one for
# every batch of every epoch. Both fits run until skae's stopping rule ends
# them (the objective J no longer improves by ``tol * max(|J|, 1)``), well
# within the default ``max_iter=1000``: about 400 iterations for the plain
# autoencoder and 700 for the denoising one.

# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    X_train = X_train[:60]
# sphinx_gallery_end_ignore
models = {}
for name, corruption in (("plain", None), ("denoising", "masking")):
    models[name] = AutoEncoder(
        n_components=32, corruption=corruption, corruption_level=0.3, random_state=0
    ).fit(X_train)
    print(f"{name:>9}: {models[name].n_iter_} iterations")

errors = {}
for name, model in models.items():
    reconstruction = model.inverse_transform(model.transform(masked))
    errors[name] = ((reconstruction - X_test) ** 2).sum(axis=1).mean()
    print(
        f"{name:>9}: squared error of the clean digit, from the masked one: "
        f"{errors[name]:.2f}"
    )
print(f"denoising / plain: {errors['denoising'] / errors['plain']:.2f}")

# %%
# The reconstructions
# -------------------
#
# The plain autoencoder, which learnt to copy its input, copies the holes too;
# the denoising one fills them in.

rows = {"clean": X_test, "masked": masked}
for name, model in models.items():
    rows[name] = model.inverse_transform(model.transform(masked))
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 4.4))
for row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(row, images[:8]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name)
fig.suptitle("Reconstructions of masked test digits (30% of the pixels set to 0)")
plt.show()
