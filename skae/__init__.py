"""skae: scikit-learn-compatible neural networks trained by backpropagation."""

# License: BSD-3-Clause

from skae._autoencoder import AutoEncoder, SparseAutoEncoder
from skae._mlp import MLPRegressorGD

__version__ = "0.1.0"

__all__ = ["AutoEncoder", "MLPRegressorGD", "SparseAutoEncoder", "__version__"]
