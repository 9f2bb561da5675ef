"""A different activation per hidden layer: the network, the exact gradient,
the autoencoders' mirrored decoder, the checks and scikit-learn's tools."""

# License: BSD-3-Clause

import numpy as np
import pytest
from finite_differences import central_differences, relative_error
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import (
    AutoEncoder,
    MLPClassifierGD,
    MLPRegressorGD,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)
from skae._math.losses import CrossEntropy, SquaredError
from skae._math.network import Network
from skae._math.objective import Objective
from skae._math.penalties import KLSparsity, WeightDecay
from skae._training.pretraining import stages_of
from skae.activations import ACTIVATIONS, PReLU, Sigmoid

KINKS = np.array([-1.0, 0.0, 1.0])
NAMES = sorted(ACTIVATIONS)
# three sequences of four hidden layers that hold every activation
SEQUENCES = [NAMES[0:4], NAMES[4:8], [NAMES[8], *NAMES[0:3]][::-1]]


def names(estimator):
    return [a.name for a in estimator._network.hidden_activations]


def fit(estimator, *data, **params):
    with pytest.warns(ConvergenceWarning):
        return estimator.fit(*data, **params)


@pytest.mark.parametrize("sequence", SEQUENCES, ids="-".join)
@pytest.mark.parametrize("output", ["squared-identity", "cross_entropy-sigmoid"])
def test_gradient_of_a_mixed_network_matches_finite_differences(sequence, output, rng):
    hidden = [ACTIVATIONS[name]() for name in sequence]
    n_out = 3 if output == "squared-identity" else 1
    network = Network(
        (4, 5, 3, 6, 3, n_out),
        hidden,
        ACTIVATIONS["identity" if n_out == 3 else "sigmoid"](),
    )
    loss = SquaredError() if n_out == 3 else CrossEntropy()
    objective = Objective(network, loss, WeightDecay(0.02))
    for _ in range(100):  # a point with no hidden pre-activation at a kink
        theta = network.initialize(np.random.RandomState(rng.integers(2**31)), float)
        theta += 0.1 * rng.standard_normal(theta.shape)
        X = rng.standard_normal((7, 4))
        A, pre = X, []
        for layer, (W, b) in enumerate(network.unflatten(theta)):
            pre.append(A @ W + b)
            A = network.activation(layer).forward(pre[-1].copy())
        if min(np.abs(Z[..., None] - KINKS).min() for Z in pre[:-1]) > 1e-4:
            break
    T = rng.uniform(size=(7, n_out))
    # each layer's own activation, as the forward pass was written out above
    assert [network.activation(layer) for layer in range(4)] == hidden
    value, gradient = objective.loss_and_gradient(theta, X, T)
    numerical = central_differences(
        lambda t: objective.loss_and_gradient(t, X, T)[0], theta
    )
    assert np.linalg.norm(numerical) > 1e-3
    assert relative_error(gradient, numerical) < 1e-6


def test_the_sparsity_penalty_on_a_code_of_its_own_activation(rng):
    network = Network(
        (4, 5, 3, 5, 4),
        [ACTIVATIONS["softplus"](), Sigmoid(), ACTIVATIONS["tanh"]()],
        Sigmoid(),
    )
    objective = Objective(
        network, CrossEntropy(), WeightDecay(0.0), KLSparsity(0.1, 0.5), 2
    )
    theta = network.initialize(np.random.RandomState(0), float)
    X = rng.uniform(0.05, 0.95, (6, 4))
    _, gradient = objective.loss_and_gradient(theta, X, X)
    numerical = central_differences(
        lambda t: objective.loss_and_gradient(t, X, X)[0], theta
    )
    assert relative_error(gradient, numerical) < 1e-6


def test_the_decoder_mirrors_the_encoders_sequence(digits01):
    X = digits01[:50]
    common = dict(n_components=3, hidden_layer_sizes=(8, 5), max_iter=2)
    ae = fit(AutoEncoder(activation=("relu", "tanh", "sigmoid"), **common), X)
    assert names(ae) == ["relu", "tanh", "sigmoid", "tanh", "relu"]
    # one per hidden layer: as given
    given = ["elu", "relu", "sigmoid", "tanh", "softplus"]
    assert names(fit(AutoEncoder(activation=given, **common), X)) == given
    # a VAE's Gaussian is linear; the sequence covers the other hidden layers
    vae = fit(
        VariationalAutoEncoder(activation=["relu", "tanh"], solver="adam", **common),
        X,
    )
    assert names(vae) == ["relu", "tanh", "identity", "tanh", "relu"]
    vae = fit(
        VariationalAutoEncoder(
            activation=["relu", "tanh", "elu", "softplus"], solver="adam", **common
        ),
        X,
    )
    assert names(vae) == ["relu", "tanh", "identity", "elu", "softplus"]


def test_one_activation_for_all_is_the_same_as_a_sequence_of_it(rng, digits01):
    X = rng.standard_normal((40, 5))
    y = X[:, 0] - X[:, 1]
    reg = MLPRegressorGD(hidden_layer_sizes=(6, 4), max_iter=5, random_state=0)
    one = fit(clone(reg).set_params(activation="tanh"), X, y)
    each = fit(clone(reg).set_params(activation=("tanh", "tanh")), X, y)
    assert_array_equal(one._theta, each._theta)
    ae = AutoEncoder(n_components=3, hidden_layer_sizes=(6,), max_iter=5)
    one = fit(clone(ae).set_params(activation="relu", random_state=0), digits01)
    each = fit(clone(ae).set_params(activation=["relu"] * 2, random_state=0), digits01)
    assert_array_equal(one._theta, each._theta)


def test_greedy_stages_use_each_layers_activation(rng):
    X = rng.standard_normal((40, 5))
    reg = MLPRegressorGD(
        hidden_layer_sizes=(6, 4, 3),
        activation=("tanh", "relu", "sigmoid"),
        solver="adam",
        init="greedy",
        max_iter=3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, X[:, 0])
    # a stage's decoder rebuilds its input: what the layer below made
    stages = stages_of(reg)
    assert [s.output.name for s in stages] == ["identity", "tanh", "relu"]
    ae = AutoEncoder(
        n_components=2,
        hidden_layer_sizes=(4,),
        activation=("tanh", "relu"),
        init="greedy",
        solver="adam",
        max_iter=3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        ae.fit(rng.standard_normal((30, 6)))
    assert [s.output.name for s in stages_of(ae)] == ["identity", "tanh"]


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (
            MLPRegressorGD((5, 4), activation=("relu",) * 3),
            r"3 entries, but hidden_layer_sizes=\(5, 4\) gives 2 hidden layers",
        ),
        (
            AutoEncoder(hidden_layer_sizes=(5,), activation=("relu",) * 4),
            r"gives 3 hidden layers .*one per hidden layer \(3\), or one per "
            r"encoder layer \(2\), which the decoder mirrors",
        ),
        (
            MLPRegressorGD((5, 4), activation=("relu", "swish")),
            r"activation \(hidden layer 2\): .*'swish'",
        ),
        (
            AutoEncoder(
                hidden_layer_sizes=(5,),
                activation=("relu", "sigmoid", "tanh"),
                tied_weights=True,
            ),
            "Tied weights .* activations must mirror",
        ),
        (
            SparseAutoEncoder(hidden_layer_sizes=(5,), activation=("sigmoid", "relu")),
            r"code activation with values in \[0, 1\].*ReLU",
        ),
    ],
)
def test_bad_sequences_are_refused_and_a_fitted_model_kept(estimator, match, rng):
    X = rng.uniform(size=(30, 6))
    fitted = fit(clone(estimator).set_params(activation="sigmoid", max_iter=2), X, X)
    before = fitted._theta.copy()
    with pytest.raises(ValueError, match=match):
        fitted.set_params(activation=estimator.activation).fit(X, X)
    assert_array_equal(fitted._theta, before)
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X, X)


def test_a_sparse_code_may_differ_from_the_layers_around_it(digits01):
    sae = SparseAutoEncoder(
        n_components=5,
        hidden_layer_sizes=(8,),
        activation=("relu", "sigmoid"),
        max_iter=3,
    )
    fit(sae, digits01[:60])
    assert names(sae) == ["relu", "sigmoid", "relu"]


def test_clone_grid_search_and_warm_start_with_sequences(rng):
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifierGD(
        (6, 4), activation=["tanh", PReLU(alpha=0.1)], max_iter=3, random_state=0
    )
    copy = clone(clf)
    assert copy.get_params()["activation"] == ["tanh", PReLU(alpha=0.1)]
    assert copy.activation[1] is not clf.activation[1]
    grid = GridSearchCV(
        clf,
        {"activation": [("tanh", "relu"), ("relu", "tanh"), "elu"]},
        cv=2,
        error_score="raise",
    )
    with pytest.warns(ConvergenceWarning):
        grid.fit(X, y)
    assert grid.best_params_["activation"] in [
        ("tanh", "relu"),
        ("relu", "tanh"),
        "elu",
    ]
    assert names(grid.best_estimator_) in (
        ["tanh", "relu"],
        ["relu", "tanh"],
        ["elu"] * 2,
    )
    fitted = fit(clone(clf), X, y)
    with pytest.raises(ValueError, match="warm_start=False"):
        fitted.set_params(activation=["tanh", "relu"], warm_start=True).fit(X, y)
    fitted.set_params(activation=("tanh", PReLU(alpha=0.1)))
    with pytest.warns(ConvergenceWarning):
        fitted.fit(X, y)  # the same activations, as a tuple: continued
