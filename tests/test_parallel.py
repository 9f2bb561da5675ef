"""Parallel safety: GridSearchCV gives the same results with one job or two."""

# License: BSD-3-Clause

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import MLPRegressorGD, SparseAutoEncoder

GRIDS = {
    "sparse autoencoder": (
        Pipeline(
            [
                ("sae", SparseAutoEncoder(n_components=8, max_iter=15, random_state=0)),
                ("clf", LogisticRegression(max_iter=300)),
            ]
        ),
        {
            "sae__sparsity_weight": [0.1, 3.0],
            "sae__sparsity_target": [0.05, 0.2],
            "sae__weight_decay": [1e-4, 1e-2],
        },
    ),
    "regressor": (
        MLPRegressorGD(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
        {"solver": ["sgd", "adam", "lbfgs"], "weight_decay": [1e-4, 1e-1]},
    ),
}


def _results(name, X, y, n_jobs, backend):
    estimator, grid = GRIDS[name]
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)
    with parallel_backend(backend):
        search.fit(X, y)
    return search.cv_results_


@pytest.mark.parametrize("backend", ["loky", "threading"])
@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_jobs_give_the_results_of_one(name, backend, digits01):
    X = digits01[:150]
    y = load_digits().target[:150]
    if name == "regressor":
        y = X[:, 20:22].sum(axis=1)
    serial = _results(name, X, y, 1, backend)
    parallel = _results(name, X, y, 2, backend)
    assert serial["params"] == parallel["params"]
    for key in serial:
        if key.startswith(("split", "mean_test", "std_test", "rank_test")):
            np.testing.assert_array_equal(serial[key], parallel[key], err_msg=key)
