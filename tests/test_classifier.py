"""MLPClassifierGD: the targets' models, their objective, and the labels' API."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.model_selection import train_test_split

from skae import MLPClassifierGD


def _data(kind, rng, n_samples=40, n_features=5):
    X = rng.normal(size=(n_samples, n_features))
    if kind == "binary":
        y = np.where(X[:, 0] + 0.5 * rng.normal(size=n_samples) > 0, "yes", "no")
    elif kind == "multiclass":
        y = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])  # three classes
    else:
        y = (X[:, :3] + 0.5 * rng.normal(size=(n_samples, 3)) > 0).astype(int)
    return X, y


def _spec_objective(clf, X, y, weights):
    """J from scikit-learn's own pieces: -sum_k t_k log p_k, averaged with the
    weights, plus weight decay."""
    P = clf.predict_proba(X)
    if clf.out_activation_ == "softmax":
        T = (y[:, None] == clf.classes_[None, :]).astype(float)
        losses = -(T * np.log(P)).sum(axis=1)
    elif y.ndim == 1:  # binary: one output, the probability of classes_[1]
        t = (y == clf.classes_[1]).astype(float)
        losses = -(t * np.log(P[:, 1]) + (1 - t) * np.log(P[:, 0]))
    else:
        losses = -(y * np.log(P) + (1 - y) * np.log(1 - P)).sum(axis=1)
    decay = clf.weight_decay * sum(np.sum(W**2) for W in clf.coefs_)
    return np.average(losses, weights=weights) + decay


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_objective_is_the_negative_log_likelihood(kind, weighted, rng):
    X, y = _data(kind, rng)
    sample_weight = rng.uniform(0.2, 3.0, len(X)) if weighted else None
    clf = MLPClassifierGD(
        hidden_layer_sizes=(4,),
        activation="tanh",
        solver="lbfgs",
        max_iter=5,
        tol=0,
        random_state=0,
    )
    with pytest.warns(UserWarning):  # five iterations: reached max_iter
        clf.fit(X, y, sample_weight=sample_weight)
    expected = _spec_objective(clf, X, y, sample_weight)
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)
    assert clf.n_outputs_ == {"binary": 1, "multiclass": 3, "multilabel": 3}[kind]
    assert clf.out_activation_ == ("softmax" if kind == "multiclass" else "logistic")


def test_class_weights_multiply_sample_weights_and_balance_like_repeats(rng):
    X, y = _data("multiclass", rng, n_samples=30)
    repeats = rng.integers(1, 4, len(X))
    settings = dict(
        hidden_layer_sizes=(3,), solver="lbfgs", max_iter=30, tol=0, random_state=0
    )
    weighted = MLPClassifierGD(class_weight="balanced", **settings)
    repeated = MLPClassifierGD(class_weight="balanced", **settings)
    with pytest.warns(UserWarning):
        weighted.fit(X, y, sample_weight=repeats)
    with pytest.warns(UserWarning):
        repeated.fit(np.repeat(X, repeats, axis=0), np.repeat(y, repeats))
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    # a dict: the class's weight times the sample's
    weights = {0: 2.0, 1: 1.0, 2: 0.5}
    clf = MLPClassifierGD(class_weight=weights, **settings)
    with pytest.warns(UserWarning):
        clf.fit(X, y, sample_weight=repeats)
    combined = repeats * np.array([weights[label] for label in y])
    assert clf.loss_ == pytest.approx(_spec_objective(clf, X, y, combined), rel=1e-10)


def test_log_proba_comes_from_the_logits(rng):
    X, y = _data("multiclass", rng)
    clf = MLPClassifierGD(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    clf.fit(X, y)
    far = 1e4 * X[:3]  # logits so large that the losing probabilities underflow
    with np.errstate(all="raise", under="ignore"):
        log_proba = clf.predict_log_proba(far)
        proba = clf.predict_proba(far)
    assert np.any(proba == 0) and np.all(np.isfinite(log_proba))
    assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)
    Xb, yb = _data("binary", rng)
    binary = MLPClassifierGD(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    binary.fit(Xb, yb)
    assert_allclose(
        np.exp(binary.predict_log_proba(Xb)), binary.predict_proba(Xb), rtol=1e-12
    )
    assert np.all(np.isfinite(binary.predict_log_proba(1e4 * Xb)))


def test_partial_fit_follows_scikit_learns_rule_for_classes(rng):
    X, y = _data("multiclass", rng)
    clf = MLPClassifierGD(hidden_layer_sizes=(4,), solver="sgd", random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])  # a class to come
    assert_array_equal(clf.classes_, [0, 1, 2])
    clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="does not know"):
        clf.partial_fit(X, np.where(y == 2, 7, y))
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_bad_targets_say_what_to_do(rng):
    X, _ = _data("binary", rng)
    clf = MLPClassifierGD(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, rng.normal(size=len(X)))
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="MultiOutputClassifier"):
        clf.fit(X, rng.integers(0, 3, size=(len(X), 2)))
    Xm, Ym = _data("multilabel", rng)
    with pytest.raises(ValueError, match="multilabel target weigh the samples"):
        clf.set_params(class_weight="balanced").fit(Xm, Ym)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.set_params(class_weight={"maybe": 2.0}).fit(X, _data("binary", rng)[1])


def test_multilabel_predicts_an_indicator_matrix():
    X, Y = make_multilabel_classification(n_samples=150, random_state=0)
    clf = MLPClassifierGD(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0)
    clf.fit(X / X.max(), Y)
    predicted = clf.predict(X / X.max())
    assert predicted.shape == Y.shape and set(np.unique(predicted)) <= {0, 1}
    assert_array_equal(predicted, clf.predict_proba(X / X.max()) > 0.5)


def test_digits_are_classified_well():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.5, random_state=0, stratify=y
    )
    clf = MLPClassifierGD(hidden_layer_sizes=(32,), solver="lbfgs", random_state=0)
    clf.fit(X_train, y_train)
    assert clf.n_iter_ < clf.max_iter  # stopped by the rule
    assert clf.score(X_test, y_test) > 0.95
    assert clf.transform(X_test).shape == (len(X_test), 32)
