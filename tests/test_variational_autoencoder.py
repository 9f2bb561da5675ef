"""VariationalAutoEncoder: the ELBO on the one core, its codes, samples and scores."""

# License: BSD-3-Clause

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import ReconstructionOutlierDetector, VariationalAutoEncoder
from skae._estimators.variational_autoencoder import N_SCORE_DRAWS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    return load_digits().data[:300] / 16


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _fit(X, **params):
    settings = dict(
        n_components=2,
        hidden_layer_sizes=(16,),
        out_activation="sigmoid",
        max_iter=20,
        random_state=0,
    )
    settings.update(params)
    return VariationalAutoEncoder(**settings).fit(X)


def _encode(vae, X):
    """``[mu | log sigma^2]`` by the formula: relu hidden layer, linear head."""
    (W0, b0), (W1, b1) = vae._network.unflatten(vae._theta)[:2]
    return np.maximum(X @ W0 + b0, 0) @ W1 + b1


def _decode(vae, Z):
    (W2, b2), (W3, b3) = vae._network.unflatten(vae._theta)[2:]
    return _sigmoid(np.maximum(Z @ W2 + b2, 0) @ W3 + b3)


def test_codes_are_the_posterior_means_and_decoding_is_the_decoders_mean(digits):
    vae = _fit(digits)
    H = _encode(vae, digits)
    assert_allclose(vae.transform(digits), H[:, :2], rtol=1e-12)
    Z = np.random.default_rng(0).standard_normal((7, 2))
    assert_allclose(vae.inverse_transform(Z), _decode(vae, Z), rtol=1e-12)
    with sklearn.config_context(working_memory=1e-3):  # a few rows a chunk
        assert_allclose(vae.transform(digits), H[:, :2], rtol=1e-12)
    assert vae.get_feature_names_out().tolist() == [
        "variationalautoencoder0",
        "variationalautoencoder1",
    ]


def test_samples_come_from_the_prior_through_the_decoder(digits):
    vae = _fit(digits)
    Z = np.random.RandomState(3).standard_normal((4, 2))
    assert_allclose(vae.sample(4, random_state=3), _decode(vae, Z), rtol=1e-12)
    # an int random_state of the estimator: the same samples at every call
    assert_array_equal(vae.sample(2), vae.sample(2))
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="n_samples must be a positive integer"):
            vae.sample(bad)


def test_score_samples_is_the_elbo_with_common_draws(digits):
    vae = _fit(digits)
    X = digits[:20]
    H = _encode(vae, X)
    mu, log_variance = H[:, :2], H[:, 2:]
    kl = 0.5 * (mu**2 + np.exp(log_variance) - 1 - log_variance).sum(axis=1)
    eps = vae._score_eps
    assert eps.shape == (N_SCORE_DRAWS, 2)
    reconstruction = 0
    for e in eps:
        Y = _decode(vae, mu + np.exp(log_variance / 2) * e)
        reconstruction += -(X * np.log(Y) + (1 - X) * np.log(1 - Y)).sum(1)
    elbo = -(reconstruction / len(eps) + kl)
    assert_allclose(vae.score_samples(X), elbo, rtol=1e-10)
    # a sample's score is its own: the same alone, in any company, any order
    assert_allclose(vae.score_samples(X[3:4]), elbo[3:4], rtol=1e-12)
    assert_allclose(vae.score_samples(X[::-1]), elbo[::-1], rtol=1e-12)
    assert vae.score(X) == pytest.approx(elbo.mean(), rel=1e-12)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_fit_is_determined_by_random_state(digits, solver):
    a = _fit(digits, solver=solver)
    b = _fit(digits, solver=solver)
    c = _fit(digits, solver=solver, random_state=1)
    assert a.loss_curve_ == b.loss_curve_
    assert_array_equal(a.transform(digits), b.transform(digits))
    assert_array_equal(a.score_samples(digits), b.score_samples(digits))
    assert not np.array_equal(a.transform(digits), c.transform(digits))


def test_the_kl_term_is_trained(digits):
    # beta weighs the KL term: a larger beta leaves posteriors closer to the
    # prior (pyod's VAE, whose KL term is clamped to 0 by default, would not)
    def mean_kl(beta):
        vae = _fit(digits, beta=beta, solver="lbfgs", max_iter=200)
        H = _encode(vae, digits)
        mu, log_variance = H[:, :2], H[:, 2:]
        return (0.5 * (mu**2 + np.exp(log_variance) - 1 - log_variance)).sum(1).mean()

    assert mean_kl(10.0) < 0.5 * mean_kl(1.0) < 0.5 * mean_kl(0.1)


def test_training_lowers_the_objective_and_the_elbo_rises(digits):
    vae = _fit(digits, max_iter=60, learning_rate_init=0.01)
    assert vae.loss_curve_[-1] < 0.8 * vae.loss_curve_[0]
    untrained = _fit(digits, max_iter=1, learning_rate_init=1e-6)
    assert vae.score(digits) > untrained.score(digits) + 5


def test_sparse_and_float32_input(digits):
    dense = _fit(digits, solver="lbfgs")
    csr = _fit(sparse.csr_matrix(digits), solver="lbfgs")
    assert_allclose(csr._theta, dense._theta, rtol=1e-7, atol=1e-9)
    single = _fit(digits.astype(np.float32), solver="lbfgs", max_iter=5)
    assert single.transform(digits.astype(np.float32)).dtype == np.float32
    assert single.sample(2).dtype == np.float32
    assert single.score_samples(digits.astype(np.float32)).dtype == np.float32


def test_validation_scores_are_the_elbo_and_the_loss_is_deterministic(digits):
    X, X_val = digits[:250], digits[250:]
    vae = VariationalAutoEncoder(
        n_components=2,
        hidden_layer_sizes=(16,),
        out_activation="sigmoid",
        max_iter=5,
        random_state=0,
    ).fit(X, X_val=X_val)
    assert vae.validation_scores_[-1] == pytest.approx(vae.score(X_val), rel=1e-12)
    assert len(vae.validation_loss_curve_) == vae.n_iter_ == 5
    # the validation J: one fixed draw, so refitting gives the same curve
    again = VariationalAutoEncoder(**vae.get_params()).fit(X, X_val=X_val)
    assert again.validation_loss_curve_ == vae.validation_loss_curve_


def test_in_a_pipeline_and_a_grid_search_over_beta_and_n_components():
    X = load_digits().data[:200]
    pipe = make_pipeline(
        MinMaxScaler(clip=True),  # the test folds' pixels stay in [0, 1]
        VariationalAutoEncoder(
            hidden_layer_sizes=(16,),
            out_activation="sigmoid",
            max_iter=10,
            random_state=0,
        ),
    )
    grid = GridSearchCV(
        pipe,
        {
            "variationalautoencoder__beta": [0.5, 1.0],
            "variationalautoencoder__n_components": [2, 4],
        },
        cv=2,
    ).fit(X)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert (
        grid.transform(X).shape[1]
        == grid.best_params_["variationalautoencoder__n_components"]
    )


def test_parameters_are_checked(digits):
    for params, words in [
        (dict(beta=-1.0), "'beta' parameter"),
        (dict(init="greedy"), "'init' parameter"),
        (dict(tied_weights=True), "tied_weights"),
    ]:
        with pytest.raises((ValueError, TypeError), match=words):
            VariationalAutoEncoder(**params).fit(digits)


def test_partial_fit_and_warm_start_continue(digits):
    vae = VariationalAutoEncoder(
        hidden_layer_sizes=(8,), out_activation="sigmoid", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(3):
            vae.partial_fit(digits)
    assert vae.n_iter_ == len(vae.loss_curve_) == 3
    vae.set_params(warm_start=True, max_iter=2).fit(digits)
    assert len(vae.loss_curve_) == 5


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_the_loss_curve_is_its_two_terms_plus_the_weight_decay(digits, solver):
    vae = _fit(digits, solver=solver, beta=2.0, weight_decay=1e-3, max_iter=15)
    reconstruction = np.array(vae.reconstruction_loss_curve_)
    kl = np.array(vae.kl_loss_curve_)
    assert len(reconstruction) == len(kl) == len(vae.loss_curve_) == vae.n_iter_
    assert np.all(kl > 0) and np.all(reconstruction > 0)  # the KL term is there
    decay = 1e-3 * sum((W**2).sum() for W in vae.coefs_)
    if solver == "lbfgs":  # one fixed draw: the last J is the fitted model's
        expected = reconstruction[-1] + 2.0 * kl[-1] + decay
        assert vae.loss_ == pytest.approx(expected, rel=1e-12)
    else:  # means over the last epoch's steps, the weights moving a little
        gap = vae.loss_curve_[-1] - (reconstruction[-1] + 2.0 * kl[-1])
        assert gap == pytest.approx(decay, rel=0.01)


def test_the_outlier_detector_scores_by_the_elbo(digits):
    vae = VariationalAutoEncoder(
        hidden_layer_sizes=(16,), out_activation="sigmoid", max_iter=10, random_state=0
    )
    detector = ReconstructionOutlierDetector(vae, contamination=0.1).fit(digits)
    elbo = detector.estimator_.score_samples(digits)
    assert_allclose(detector.score_samples(digits), elbo)
    assert np.mean(detector.predict(digits) == -1) == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_an_array_api_fit_is_the_numpy_fit(digits, solver):
    import array_api_strict as xps

    X = digits[:120]
    numpy_fit = _fit(X, solver=solver, max_iter=5)
    with sklearn.config_context(array_api_dispatch=True):
        strict_fit = _fit(xps.asarray(X), solver=solver, max_iter=5)
        codes = strict_fit.transform(xps.asarray(X))
        samples = strict_fit.sample(3)
        scores = strict_fit.score_samples(xps.asarray(X))
    assert_allclose(np.asarray(strict_fit._theta), numpy_fit._theta, rtol=1e-9)
    assert_allclose(np.asarray(codes), numpy_fit.transform(X), rtol=1e-9)
    assert_allclose(np.asarray(samples), numpy_fit.sample(3), rtol=1e-9)
    assert_allclose(np.asarray(scores), numpy_fit.score_samples(X), rtol=1e-9)


def test_set_output_and_pickling(digits):
    import pickle

    vae = _fit(digits).set_output(transform="pandas")
    frame = vae.transform(digits)
    assert list(frame.columns) == [
        "variationalautoencoder0",
        "variationalautoencoder1",
    ]
    again = pickle.loads(pickle.dumps(vae))
    assert_allclose(again.score_samples(digits), vae.score_samples(digits))
    assert_allclose(again.sample(4, random_state=1), vae.sample(4, random_state=1))
