"""AutoEncoder and SparseAutoEncoder: codes, reconstructions, losses, sparsity."""

# License: BSD-3-Clause

import pickle
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoEncoder, SparseAutoEncoder


@pytest.fixture
def low_rank(rng):
    """200 points on a 3-dimensional subspace of R^10, centred in [0, 1]."""
    X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 10))
    return 0.5 + 0.1 * X / np.abs(X).max()


def test_reconstructs_low_rank_data(low_rank):
    ae = AutoEncoder(
        n_components=3, weight_decay=0.0, max_iter=500, tol=0.0, random_state=0
    )
    with pytest.warns(Warning):  # tol=0 spends the whole budget
        ae.fit(low_rank)
    reconstruction = ae.inverse_transform(ae.transform(low_rank))
    error = ((reconstruction - low_rank) ** 2).sum(axis=1).mean()
    variance = ((low_rank - low_rank.mean(axis=0)) ** 2).sum(axis=1).mean()
    assert error < 0.01 * variance


def test_score_is_minus_the_mean_reconstruction_loss(digits01):
    for ae in [
        AutoEncoder(n_components=8, max_iter=20, random_state=0),
        AutoEncoder(
            n_components=8, out_activation="sigmoid", max_iter=20, random_state=0
        ),
    ]:
        with pytest.warns(Warning):
            ae.fit(digits01)
        Y = ae.inverse_transform(ae.transform(digits01))
        if ae.out_activation == "identity":
            losses = ((digits01 - Y) ** 2).sum(axis=1)
        else:
            losses = -(digits01 * np.log(Y) + (1 - digits01) * np.log(1 - Y)).sum(1)
        np.testing.assert_allclose(ae.score_samples(digits01), -losses, rtol=1e-10)
        assert ae.score(digits01) == pytest.approx(-losses.mean(), rel=1e-10)


@pytest.mark.parametrize(
    "out_activation, loss, expected",
    [
        ("identity", "auto", "squared_error"),
        ("sigmoid", "auto", "cross_entropy"),
        ("sigmoid", "squared_error", "squared_error"),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_loss_choice(out_activation, loss, expected, digits01):
    ae = AutoEncoder(
        n_components=8,
        out_activation=out_activation,
        loss=loss,
        max_iter=10,
        random_state=0,
    ).fit(digits01)
    Y = ae.inverse_transform(ae.transform(digits01))
    squared = ((digits01 - Y) ** 2).sum(axis=1)
    if expected == "squared_error":
        np.testing.assert_allclose(-ae.score_samples(digits01), squared, rtol=1e-10)
    else:
        assert np.all(-ae.score_samples(digits01) > squared)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_autoencoder_reaches_its_target_activation(digits01):
    rho = 0.05
    sae = SparseAutoEncoder(
        n_components=30,
        sparsity_target=rho,
        sparsity_weight=3.0,
        max_iter=300,
        random_state=0,
    ).fit(digits01)
    np.testing.assert_allclose(
        sae.mean_activation_, sae.transform(digits01).mean(axis=0), rtol=1e-12
    )
    assert abs(sae.mean_activation_.mean() - rho) < 0.5 * rho
    plain = AutoEncoder(n_components=30, max_iter=300, random_state=0).fit(digits01)
    assert plain.transform(digits01).mean() > 2 * rho


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_zero_sparsity_weight_is_the_plain_autoencoder(digits01):
    params = dict(n_components=6, max_iter=15, random_state=0)
    sae = SparseAutoEncoder(sparsity_weight=0.0, **params).fit(digits01)
    ae = AutoEncoder(**params).fit(digits01)
    assert sae.loss_curve_ == ae.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_deep_autoencoder_mirrors_its_encoder(digits01):
    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(20, 10),
        activation="tanh",
        max_iter=10,
        random_state=0,
    ).fit(digits01)
    shapes = [W.shape for W in ae.coefs_]
    assert shapes == [(64, 20), (20, 10), (10, 4), (4, 10), (10, 20), (20, 64)]
    assert ae.transform(digits01).shape == (300, 4)
    assert ae.inverse_transform(np.zeros((2, 4))).shape == (2, 64)
    with pytest.raises(ValueError, match="n_components=4"):
        ae.inverse_transform(np.zeros((2, 5)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_feature_names_and_pandas_output(digits01):
    sae = SparseAutoEncoder(n_components=3, max_iter=5, random_state=0)
    sae.set_output(transform="pandas")
    codes = sae.fit_transform(pd.DataFrame(digits01[:, :5], columns=list("abcde")))
    assert list(codes.columns) == [f"sparseautoencoder{i}" for i in range(3)]
    assert list(sae.feature_names_in_) == list("abcde")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_beta_rho_lambda_in_a_pipeline(digits01):
    from sklearn.datasets import load_digits

    y = load_digits().target[:300]
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("sae", SparseAutoEncoder(n_components=16, max_iter=20, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {
            "sae__sparsity_weight": [0.1, 3.0],
            "sae__sparsity_target": [0.05, 0.2],
            "sae__weight_decay": [1e-4, 1e-2],
        },
        cv=2,
    )
    grid.fit(digits01, y)
    assert len(grid.cv_results_["params"]) == 8
    assert grid.best_score_ > 0.5


def test_sparse_input_is_never_densified_whole():
    n_samples, n_features = 20_000, 1_000
    X = sparse.random(
        n_samples,
        n_features,
        density=0.002,
        format="csr",
        random_state=0,
        dtype=np.float64,
    )
    dense_bytes = n_samples * n_features * 8  # 160 MB
    ae = AutoEncoder(
        n_components=5, solver="adam", batch_size=100, max_iter=1, random_state=0
    )
    tracemalloc.start()
    try:
        with pytest.warns(Warning):
            ae.fit(X)
        ae.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * dense_bytes


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
@pytest.mark.parametrize("out_activation", ["identity", "sigmoid"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_targets_are_never_densified(
    solver, out_activation, monkeypatch, digits01
):
    X = sparse.csr_matrix(digits01)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a sparse matrix was densified")

    for cls in [sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix]:
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    params = dict(
        n_components=4,
        out_activation=out_activation,
        solver=solver,
        batch_size="full",
        max_iter=5,
        random_state=0,
    )
    ae = AutoEncoder(**params).fit(X)
    monkeypatch.undo()
    dense = AutoEncoder(**params).fit(digits01)
    np.testing.assert_allclose(ae.loss_curve_, dense.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(
        ae.score_samples(X), dense.score_samples(digits01), rtol=1e-10
    )


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_saturated_code_units_give_a_finite_objective(solver, rng):
    # inputs so large that every code unit starts saturated at exactly 0 or 1:
    # rho_hat is 0 or 1, and the KL term is clipped to stay finite
    X = np.tile(1e4 * rng.standard_normal(6), (40, 1))
    sae = SparseAutoEncoder(n_components=3, solver=solver, max_iter=5, random_state=0)
    sae.fit(X)
    assert np.all((sae.mean_activation_ == 0) | (sae.mean_activation_ == 1))
    assert np.isfinite(sae.loss_curve_).all()
    assert all(np.isfinite(W).all() for W in sae.coefs_ + sae.intercepts_)
    assert np.isfinite(sae.mean_activation_).all()


@pytest.mark.parametrize("hidden_layer_sizes", [(), (12,)])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_tied_weights_halve_the_weights(hidden_layer_sizes, digits01):
    params = dict(
        n_components=6,
        hidden_layer_sizes=hidden_layer_sizes,
        max_iter=30,
        random_state=0,
    )
    tied = SparseAutoEncoder(tied_weights=True, **params).fit(digits01)
    free = SparseAutoEncoder(**params).fit(digits01)
    n_layers = len(tied.coefs_)
    for layer in range(n_layers // 2):
        encoder, decoder = tied.coefs_[layer], tied.coefs_[n_layers - 1 - layer]
        assert np.shares_memory(encoder, decoder)
        np.testing.assert_array_equal(decoder, encoder.T)
    n_free = sum(W.size for W in free.coefs_)
    n_tied = sum(W.size for W in tied.coefs_[: n_layers // 2])
    assert 2 * n_tied == n_free
    assert tied.loss_curve_[-1] < tied.loss_curve_[0]
    # the tying survives a pickle round trip
    restored = pickle.loads(pickle.dumps(tied))
    assert np.shares_memory(restored.coefs_[0], restored.coefs_[-1])
    np.testing.assert_array_equal(
        restored.transform(digits01), tied.transform(digits01)
    )
