"""skae: scikit-learn-compatible neural networks trained by backpropagation."""

# License: BSD-3-Clause

from skae._autoencoder import AutoEncoder
from skae._mlp import MLPRegressorGD
from skae._outlier import ReconstructionOutlierDetector
from skae._scoring import reconstruction_scorer
from skae._sparse_autoencoder import SparseAutoEncoder
from skae.exceptions import DivergenceError

__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "DivergenceError",
    "MLPRegressorGD",
    "ReconstructionOutlierDetector",
    "SparseAutoEncoder",
    "__version__",
    "reconstruction_scorer",
]
