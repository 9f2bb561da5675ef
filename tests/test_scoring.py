"""skae.reconstruction_scorer: the autoencoders' own score as a scikit-learn scorer."""

# License: BSD-3-Clause

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder, reconstruction_scorer


@pytest.fixture(scope="module")
def fitted(digits01):
    X = digits01[:300]
    return X, {
        "squared": AutoEncoder(n_components=8, tol=1e-3, random_state=0).fit(X),
        "sparse": SparseAutoEncoder(n_components=8, tol=1e-3, random_state=0).fit(X),
    }


@pytest.mark.parametrize("name", ["squared", "sparse"])
def test_it_is_the_estimators_own_score(fitted, name):
    X, models = fitted
    ae = models[name]
    assert reconstruction_scorer(ae, X) == pytest.approx(ae.score(X), rel=1e-12)
    assert reconstruction_scorer(ae, X, X) == pytest.approx(ae.score(X), rel=1e-12)


def test_sample_weights_weigh_the_samples(fitted):
    X, models = fitted
    ae = models["squared"]
    weights = np.arange(len(X)) % 3
    expected = np.average(ae.score_samples(X), weights=weights)
    assert reconstruction_scorer(ae, X, sample_weight=weights) == pytest.approx(
        expected, rel=1e-12
    )
    # integer weights are repeated rows
    repeated = np.repeat(X, weights, axis=0)
    assert reconstruction_scorer(ae, X, sample_weight=weights) == pytest.approx(
        ae.score(repeated), rel=1e-12
    )


def test_in_a_pipeline_it_scores_the_last_step_on_transformed_data(digits01):
    X = digits01[:200] * 16
    pipe = make_pipeline(
        MinMaxScaler(), AutoEncoder(n_components=4, tol=1e-3, random_state=0)
    ).fit(X)
    assert reconstruction_scorer(pipe, X) == pytest.approx(pipe.score(X), rel=1e-12)


def test_model_selection_ranks_as_with_the_default_score(digits01):
    X = digits01[:200]
    grid = {"n_components": [2, 8]}
    ae = AutoEncoder(tol=1e-3, random_state=0)
    ours = GridSearchCV(ae, grid, cv=2, scoring=reconstruction_scorer).fit(X)
    default = GridSearchCV(ae, grid, cv=2).fit(X)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        default.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert ours.best_params_ == {"n_components": 8}
    scores = cross_val_score(ae, X, cv=2, scoring=reconstruction_scorer)
    np.testing.assert_allclose(scores, cross_val_score(ae, X, cv=2), rtol=1e-12)


def test_it_pickles_and_refuses_a_model_without_score_samples(regression_data):
    X, y = regression_data
    assert pickle.loads(pickle.dumps(reconstruction_scorer)) is reconstruction_scorer
    reg = MLPRegressorGD(hidden_layer_sizes=(3,), solver="lbfgs", tol=1e-3)
    reg.set_params(random_state=0).fit(X, y)
    with pytest.raises(AttributeError, match="score_samples"):
        reconstruction_scorer(reg, X, y)
