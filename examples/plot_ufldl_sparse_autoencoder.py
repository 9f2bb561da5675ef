"""
=======================================================
The UFLDL sparse autoencoder exercise on natural images
=======================================================

Stanford's UFLDL tutorial asks for a sparse autoencoder trained on small
patches of natural images, and shows that its hidden units learn oriented
edge detectors, much like the simple cells of the primary visual cortex.
This example runs that exercise with :class:`~skae.SparseAutoEncoder` on the
two photographs that ship with scikit-learn, and draws the 25 learned filters
with :func:`skae.plotting.plot_filters`.
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
from sklearn.datasets import load_sample_images

from skae import SparseAutoEncoder
from skae.plotting import plot_filters

# %%
# Sampling 8x8 patches
# --------------------
# The exercise samples 10,000 patches of 8x8 pixels at random positions of
# grey natural images. We use the two sample photographs of scikit-learn
# (a Chinese temple and a flower), turned grey by averaging the colour
# channels, and draw every patch from one seeded generator, so the run is
# reproducible.
n_patches = 10_000
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    n_patches = 500
# sphinx_gallery_end_ignore
patch_size = 8

images = [image.mean(axis=2) / 255.0 for image in load_sample_images().images]
rng = np.random.default_rng(0)
which = rng.integers(len(images), size=n_patches)
patches = np.empty((n_patches, patch_size * patch_size))
for i, k in enumerate(which):
    height, width = images[k].shape
    top = rng.integers(height - patch_size + 1)
    left = rng.integers(width - patch_size + 1)
    patch = images[k][top : top + patch_size, left : left + patch_size]
    patches[i] = patch.ravel()

# %%
# Normalising the patches as UFLDL does
# -------------------------------------
# UFLDL's ``normalizeData`` removes each patch's mean brightness (the
# autoencoder should model structure, not lighting), truncates the pixels at
# plus or minus three standard deviations of all patch pixels, and squashes
# the result into [0.1, 0.9], the range of the sigmoid decoder away from its
# flat ends.
patches -= patches.mean(axis=1, keepdims=True)
pstd = 3 * patches.std()
patches = np.clip(patches, -pstd, pstd) / pstd
patches = (patches + 1) * 0.4 + 0.1
print(f"{patches.shape[0]} patches of {patches.shape[1]} pixels in [0.1, 0.9]")

# %%
# The exercise's parameters in skae's objective
# ---------------------------------------------
# The exercise minimises, over ``m`` patches,
#
# .. math::
#
#     J_{\mathrm{UFLDL}} = \frac{1}{m} \sum_i \frac{1}{2} \|x_i - y_i\|^2
#         + \frac{\lambda}{2} \sum_l \|W_l\|_F^2
#         + \beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)
#
# with :math:`\lambda = 10^{-4}`, :math:`\beta = 3`, :math:`\rho = 0.01`.
# skae minimises the lecture's sparse autoencoder objective with weight decay
# ("Sparse AutoEncoder": data term, plus :math:`\lambda \sum W^2`, plus
# :math:`\beta \sum_j \mathrm{KL}`), with the data term averaged over the
# samples and the squared error not halved,
#
# .. math::
#
#     J = \frac{1}{m} \sum_i \|x_i - y_i\|^2
#         + \mathtt{weight\_decay} \sum_l \|W_l\|_F^2
#         + \mathtt{sparsity\_weight} \sum_j \mathrm{KL}(\rho \| \hat\rho_j).
#
# Twice the exercise's objective is exactly skae's with
# ``weight_decay = lambda = 1e-4`` and ``sparsity_weight = 2 * beta = 6``;
# doubling an objective does not move its minimiser, so both train the same
# network. The encoder and the decoder are sigmoids and the loss is the squared
# error, as in the exercise (skae would otherwise pick cross-entropy for a
# sigmoid decoder).
lam, beta, rho = 1e-4, 3.0, 0.01
sae = SparseAutoEncoder(
    n_components=25,
    activation="sigmoid",
    out_activation="sigmoid",
    loss="squared_error",
    sparsity_target=rho,
    sparsity_weight=2 * beta,
    weight_decay=lam,
    solver="lbfgs",
    random_state=0,
)

# %%
# Training with L-BFGS until it converges
# ---------------------------------------
# The exercise runs ``minFunc``'s L-BFGS for a fixed 400 iterations. Here
# skae's stopping rule ends the fit instead, with the default ``tol=1e-4``
# and ``max_iter=1000``: training stops once the objective J has not improved
# by ``tol * max(|J|, 1)`` for 10 iterations in a row. On these patches that
# happens after 250 to 350 iterations (262 with one BLAS thread; with more,
# the order in which the threads add up their products, and with it the
# count, changes from run to run), at a J within 2% of the one 400
# iterations reach (0.70 against 0.69). The filters below are the same
# oriented edges and bars either way, a few of them a little broader and
# smoother than after 400 iterations, and the mean activation sits as close
# to rho.
sae.fit(patches)

print(f"L-BFGS iterations: {sae.n_iter_}, final objective J = {sae.loss_:.4f}")
print(
    f"mean code activation: {sae.mean_activation_.mean():.4f} "
    f"(sparsity target rho = {rho})"
)

# %%
# The learned filters
# -------------------
# Each code unit's 64 input weights, drawn as an 8x8 image (mid-grey is zero),
# show the pattern that unit responds to most. After training they are smooth,
# oriented edges and bars, horizontal, vertical and diagonal, at different
# positions: the result the exercise asks to reproduce. The exercise's images
# (Bruno Olshausen's) come whitened, which flattens their spectrum; these
# photographs are not, so their strong low frequencies make the filters here
# broader and less localised than the exercise's thin edges.
ax = plot_filters(sae)
ax.set_title("25 filters learned from natural image patches")
plt.show()
