"""MLPRegressorGD: regression quality, outputs, sample weights and parameters."""

# License: BSD-3-Clause

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skae import MLPRegressorGD
from skae.activations import PReLU


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_quality_as_scikit_learn(solver):
    X, y = make_friedman1(n_samples=600, noise=0.5, random_state=0)
    y = (y - y.mean()) / y.std()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ours, theirs = [], []
    for seed in range(2):  # both depend on the initial weights: average two
        params = dict(
            hidden_layer_sizes=(32,), solver=solver, max_iter=300, random_state=seed
        )
        ours.append(
            MLPRegressorGD(**params).fit(X_train, y_train).score(X_test, y_test)
        )
        theirs.append(
            MLPRegressor(**params).fit(X_train, y_train).score(X_test, y_test)
        )
    assert np.mean(ours) > np.mean(theirs) - 0.02
    assert min(ours) > 0.75


def test_prediction_shapes_follow_y(regression_data):
    X, Y = regression_data
    reg = MLPRegressorGD(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0)
    assert reg.fit(X, Y).predict(X).shape == (X.shape[0], 2)
    assert reg.n_outputs_ == 2
    assert reg.fit(X, Y[:, 0]).predict(X).shape == (X.shape[0],)
    assert reg.fit(X, Y[:, :1]).predict(X).shape == (X.shape[0], 1)
    assert reg.n_outputs_ == 1


def test_transform_is_the_last_hidden_layer(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(7, 3), activation="relu", solver="lbfgs", random_state=0
    ).fit(X, y)
    H = reg.transform(X)
    assert H.shape == (X.shape[0], 3)
    assert H.min() >= 0
    # the output layer applied to the codes gives the predictions
    np.testing.assert_allclose(
        H @ reg.coefs_[-1] + reg.intercepts_[-1], reg.predict(X), rtol=1e-12
    )
    names = reg.get_feature_names_out()
    assert list(names) == ["mlpregressorgd0", "mlpregressorgd1", "mlpregressorgd2"]


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="lbfgs"),
        dict(solver="sgd", batch_size="full"),
        dict(solver="adam", batch_size="full"),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_integer_weights_equal_repeated_rows_on_full_batches(params, rng):
    X = rng.normal(size=(30, 4))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=30)
    weights = rng.integers(0, 4, size=30)
    est = MLPRegressorGD(
        hidden_layer_sizes=(6,), max_iter=20, shuffle=False, random_state=0, **params
    )
    weighted = clone(est).fit(X, y, sample_weight=weights)
    repeated = clone(est).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_larger_weight_decay_gives_smaller_weights(regression_data):
    X, y = regression_data
    norms = []
    for weight_decay in [0.0, 1e-2, 1e-1]:
        reg = MLPRegressorGD(
            hidden_layer_sizes=(10,),
            solver="lbfgs",
            weight_decay=weight_decay,
            random_state=0,
        ).fit(X, y)
        norms.append(sum((W**2).sum() for W in reg.coefs_))
    assert norms[0] > norms[1] > norms[2]


def test_activation_object_is_used_and_cloned(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=(5,),
        activation=PReLU(alpha=0.1),
        solver="lbfgs",
        random_state=0,
    ).fit(X, y)
    H = reg.transform(X)
    Z = X @ reg.coefs_[0] + reg.intercepts_[0]
    np.testing.assert_allclose(H, np.where(Z >= 0, Z, 0.1 * Z), rtol=1e-12)
    copy = clone(reg)
    assert copy.activation == PReLU(alpha=0.1)
    assert copy.activation is not reg.activation


def test_linear_network_without_hidden_layers(rng):
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    reg = MLPRegressorGD(
        hidden_layer_sizes=(), solver="lbfgs", weight_decay=0.0, tol=0.0, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(reg.coefs_[0].ravel(), [1.0, -2.0, 0.5], atol=1e-4)
    np.testing.assert_allclose(reg.intercepts_[0], [3.0], atol=1e-4)


def test_hidden_layer_sizes_as_an_int_is_one_layer(regression_data):
    X, y = regression_data
    reg = MLPRegressorGD(
        hidden_layer_sizes=5, solver="lbfgs", max_iter=5, random_state=0
    )
    with pytest.warns(Warning):
        reg.fit(X, y)
    assert [W.shape for W in reg.coefs_] == [(6, 5), (5, 2)]


@pytest.mark.parametrize("sizes", [(0,), (4, -1), (2.5,)])
def test_hidden_layer_sizes_must_be_positive_integers(sizes, regression_data):
    X, y = regression_data
    with pytest.raises((ValueError, TypeError), match="hidden_layer_sizes"):
        MLPRegressorGD(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize(
    "params", [dict(batch_size=1, momentum=0.0), dict(batch_size=5)]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_zero_weights_remove_samples_on_mini_batches(params, rng):
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1)
    weights = np.ones(30)
    weights[:10] = 0.0  # a whole batch of zero weights, and single zero samples
    est = MLPRegressorGD(
        hidden_layer_sizes=(4,),
        solver="sgd",
        shuffle=False,
        max_iter=5,
        random_state=0,
        **params,
    )
    weighted = clone(est).fit(X, y, sample_weight=weights)
    removed = clone(est).fit(X[10:], y[10:])
    assert np.isfinite(weighted.loss_curve_).all()
    if params["batch_size"] == 1:  # the same steps in the same order
        np.testing.assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-10)


def test_all_zero_or_negative_weights_are_refused(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="zero"):
        MLPRegressorGD().fit(X, y, sample_weight=np.zeros(len(X)))
    with pytest.raises(ValueError, match="(?i)negative"):
        MLPRegressorGD().fit(X, y, sample_weight=-np.ones(len(X)))


def test_transform_without_hidden_layers_is_a_dense_copy_of_the_input(rng):
    from scipy import sparse

    X = rng.normal(size=(20, 3))
    reg = MLPRegressorGD(hidden_layer_sizes=(), solver="lbfgs", random_state=0)
    reg.fit(X, X.sum(axis=1))
    H = reg.transform(X)
    assert H is not X and np.array_equal(H, X)
    assert isinstance(reg.transform(sparse.csr_matrix(X)), np.ndarray)


def test_default_fits_on_the_bundled_datasets_converge_without_a_warning():
    # the first data a newcomer tries: the stopping rule ends each fit
    import warnings

    from sklearn.datasets import (
        load_breast_cancer,
        load_diabetes,
        load_digits,
        load_iris,
        load_wine,
    )
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from skae import AutoEncoder, ReconstructionOutlierDetector, SparseAutoEncoder

    unit = MinMaxScaler().fit_transform
    data = {"digits": unit(load_digits().data)}
    for name, load in [
        ("breast cancer", load_breast_cancer),
        ("iris", load_iris),
        ("wine", load_wine),
        ("diabetes", load_diabetes),
    ]:
        data[name] = StandardScaler().fit_transform(load().data)
    X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for X in data.values():
            assert AutoEncoder(random_state=0).fit(X).n_iter_ < 1000
            assert SparseAutoEncoder(random_state=0).fit(unit(X)).n_iter_ < 1000
        y = (y_diabetes - y_diabetes.mean()) / y_diabetes.std()
        X = StandardScaler().fit_transform(X_diabetes)
        assert MLPRegressorGD(random_state=0).fit(X, y).n_iter_ < 1000
        ReconstructionOutlierDetector(random_state=0).fit(data["breast cancer"])
