"""
==========================================
Activation functions and their derivatives
==========================================

The lecture ("Activation functions") draws each activation next to its
derivative: sigmoid, tanh, softsign, hard tanh, ReLU, PReLU, ELU and
softplus. This example draws them, with the identity, straight from
:mod:`skae.activations`, the code that the estimators run, so the picture
cannot drift from the implementation.
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

from skae.activations import ACTIVATIONS

# %%
# The registry
# ------------
# :data:`skae.activations.ACTIVATIONS` maps each name that the estimators'
# ``activation`` parameter accepts to a small class with ``forward(z)`` and
# ``derivative(a)``. The classes with a parameter use their defaults here:
# PReLU's slope ``alpha = 0.25`` for negative inputs and ELU's ``alpha = 1``.
for name, cls in ACTIVATIONS.items():
    print(f"{name:>9}: {cls()!r}")

# %%
# The derivative from the output
# ------------------------------
# ``derivative`` takes the activation's *output* ``a = f(z)``, not ``z``:
# the lecture writes :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))` and
# :math:`\tanh'(z) = 1 - \tanh^2(z)`, and backpropagation keeps exactly these
# outputs from the forward pass, so it never has to store ``z``. Every
# activation here admits such a form, for example ``softsign' = (1 - |a|)^2``,
# ``softplus' = 1 - exp(-a)``, and ``elu' = a + alpha`` for negative inputs. So
# each derivative below is computed as ``derivative(forward(z))``.
z = np.linspace(-4, 4, 801)
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    z = np.linspace(-4, 4, 201)
# sphinx_gallery_end_ignore
curves = {}
for name, cls in ACTIVATIONS.items():
    activation = cls()
    a = activation.forward(z)
    curves[name] = (a, activation.derivative(a))

# %%
# One small plot per activation
# -----------------------------
# Solid: the function :math:`f(z)`; dashed: its derivative :math:`f'(z)`.
# The saturating functions (sigmoid, tanh, softsign, hard tanh) have
# derivatives that vanish for large :math:`|z|`, which slows the training of
# deep networks; ReLU and its variants keep a derivative of 1 for positive
# inputs, and PReLU and ELU also keep a nonzero one for negative inputs.
# Where a derivative jumps (hard tanh at :math:`\pm 1`, the ReLU family at 0),
# it is drawn as a jump between two grid points.
fig, axes = plt.subplots(3, 3, figsize=(9, 8), sharex=True)
for ax, (name, (a, d)) in zip(axes.flat, curves.items()):
    ax.plot(z, a, label="f(z)")
    ax.plot(z, d, linestyle="--", label="f'(z)")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_title(name)
    ax.grid(True, alpha=0.3)
for ax in axes[-1]:
    ax.set_xlabel("z")
axes[0, 0].legend(loc="upper left")
fig.suptitle("skae.activations: each function and its derivative")
fig.tight_layout()
plt.show()
