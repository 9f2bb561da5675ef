"""skae: scikit-learn-compatible neural networks trained by backpropagation."""

# License: BSD-3-Clause

import importlib

from skae.exceptions import DivergenceError

__version__ = "0.1.0"

# the public names and the modules that define them, imported on first use:
# ``import skae`` (and ``python -m skae --help``) does not wait for
# scikit-learn's import until an estimator is asked for
_DEFINED_IN = {
    "AutoEncoder": "skae._estimators.autoencoder",
    "Checkpoint": "skae._training.checkpoint",
    "MLPClassifierGD": "skae._estimators.classifier",
    "MLPRegressorGD": "skae._estimators.mlp",
    "ReconstructionOutlierDetector": "skae._applications.outlier",
    "SparseAutoEncoder": "skae._estimators.sparse_autoencoder",
    "VariationalAutoEncoder": "skae._estimators.variational_autoencoder",
    "lr_range_test": "skae._applications.lr_range_test",
    "reconstruction_scorer": "skae._applications.scoring",
}

__all__ = [
    "AutoEncoder",
    "Checkpoint",
    "DivergenceError",
    "MLPClassifierGD",
    "MLPRegressorGD",
    "ReconstructionOutlierDetector",
    "SparseAutoEncoder",
    "VariationalAutoEncoder",
    "__version__",
    "lr_range_test",
    "reconstruction_scorer",
]


def __getattr__(name):
    if name not in _DEFINED_IN:
        raise AttributeError(f"module 'skae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_DEFINED_IN[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(_DEFINED_IN))
