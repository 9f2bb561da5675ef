"""skae: scikit-learn-compatible neural networks trained by backpropagation."""

# License: BSD-3-Clause

from skae._applications.outlier import ReconstructionOutlierDetector
from skae._applications.scoring import reconstruction_scorer
from skae._estimators.autoencoder import AutoEncoder
from skae._estimators.mlp import MLPRegressorGD
from skae._estimators.sparse_autoencoder import SparseAutoEncoder
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
