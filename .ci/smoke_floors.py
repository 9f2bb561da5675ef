"""Smoke test at the runtime floors of pyproject.toml (run by .ci/run in an
environment with only numpy, scipy, scikit-learn and threadpoolctl at their
lowest allowed versions): the three estimators fit, transform, predict and
score, and pass scikit-learn's check_estimator."""

# License: BSD-3-Clause

import warnings

import numpy as np
import scipy
import sklearn
import threadpoolctl
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import check_estimator

from skae import (
    AutoEncoder,
    MLPRegressorGD,
    ReconstructionOutlierDetector,
    SparseAutoEncoder,
    reconstruction_scorer,
)

print(
    f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
    f"{sklearn.__version__}, threadpoolctl {threadpoolctl.__version__}"
)
X, y = load_digits(return_X_y=True)
X = X / 16.0
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # short fits on purpose
    reg = MLPRegressorGD(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    assert reg.fit(X, y).predict(X).shape == (len(X),)
    assert reg.transform(X).shape == (len(X), 16) and np.isfinite(reg.score(X, y))
    for ae in (AutoEncoder(n_components=8), SparseAutoEncoder(n_components=8)):
        ae.set_params(max_iter=20, random_state=0).fit(X)
        assert ae.transform(X).shape == (len(X), 8)
        assert ae.inverse_transform(ae.transform(X)).shape == X.shape
        assert np.isfinite(ae.score(X))
        assert np.isclose(reconstruction_scorer(ae, X), ae.score(X), rtol=1e-12)
    scores = cross_val_score(AutoEncoder(max_iter=5, random_state=0), X, cv=2)
    ours = cross_val_score(
        AutoEncoder(max_iter=5, random_state=0), X, cv=2, scoring=reconstruction_scorer
    )
    assert np.allclose(ours, scores, rtol=1e-12)
    detector = ReconstructionOutlierDetector(AutoEncoder(max_iter=20, random_state=0))
    assert set(detector.fit_predict(X)) == {-1, 1}
    for estimator in (
        MLPRegressorGD(),
        AutoEncoder(),
        SparseAutoEncoder(),
        ReconstructionOutlierDetector(),
    ):
        check_estimator(estimator)
        print(f"check_estimator passed: {estimator!r}")
