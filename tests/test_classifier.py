"""MLPClassifierGD: the targets' models, their objective, and the labels' API."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_multilabel_classification,
)
from sklearn.ensemble import StackingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_val_predict, train_test_split
from sklearn.preprocessing import LabelBinarizer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import check_estimator

from skae import MLPClassifierGD, MLPRegressorGD


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


def test_early_stopping_holds_out_a_stratified_part_and_scores_accuracy():
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifierGD(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X[:500] / 16, y[:500])
    scores = np.array(clf.validation_scores_)
    assert np.all((0 <= scores) & (scores <= 1))
    assert clf.best_validation_score_ == scores.max() > 0.8
    # stratified: the held-out 100 rows have each class's share of the 500
    labels = clf._validation_split_labels(np.eye(10)[y[:500]], n_held_out=100)
    assert_array_equal(labels, y[:500])


def test_early_stopping_with_too_few_rows_per_class_splits_at_random(rng):
    X, y = _data("multiclass", rng, n_samples=12)
    y[:1] = 3  # a class of one row: no stratified split exists
    clf = MLPClassifierGD(hidden_layer_sizes=(4,), early_stopping=True)
    clf._label_binarizer = LabelBinarizer().fit(y)
    T = clf._label_binarizer.transform(y).astype(float)
    assert clf._validation_split_labels(T, n_held_out=2) is None
    clf.set_params(random_state=0).fit(X, y)  # fits, on a random split
    assert len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize("estimator", [MLPClassifierGD, MLPRegressorGD])
def test_partial_fit_says_early_stopping_does_not_apply(estimator, rng):
    X, y = _data("binary", rng)
    if estimator is MLPRegressorGD:
        y = X[:, 0]
    model = estimator(hidden_layer_sizes=(4,), solver="sgd", early_stopping=True)
    kwargs = {"classes": ["no", "yes"]} if estimator is MLPClassifierGD else {}
    with pytest.warns(UserWarning, match="early_stopping applies to fit"):
        model.partial_fit(X, y, **kwargs)
    assert model.n_iter_ == 1 and model.validation_scores_ is None


def test_early_stopping_breaks_ties_of_accuracy_by_the_validation_loss(rng):
    # separable classes: the validation accuracy reaches 1 within a few epochs
    # and stays there; the fit goes on while the validation J falls by tol and
    # keeps, among the epochs within tol of the best accuracy, the lowest J
    X = np.vstack([rng.normal(-2, 1, (60, 2)), rng.normal(2, 1, (60, 2))])
    y = np.repeat([0, 1], 60)
    X_val = np.vstack([rng.normal(-2, 1, (20, 2)), rng.normal(2, 1, (20, 2))])
    y_val = np.repeat([0, 1], 20)
    clf = MLPClassifierGD(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate_init=0.01,
        early_stopping=True,
        n_iter_no_change=5,
        max_iter=500,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    scores = np.array(clf.validation_scores_)
    losses = np.array(clf.validation_loss_curve_)
    first_best = np.argmax(scores)
    assert scores.max() == 1.0
    assert clf.n_iter_ > first_best + 1 + clf.n_iter_no_change  # went on
    tied = scores >= scores.max() - clf.tol
    kept = np.flatnonzero(tied)[np.argmin(losses[tied])]
    assert kept > first_best and losses[kept] < losses[first_best]
    decay = clf.weight_decay * sum((W**2).sum() for W in clf.coefs_)
    proba = clf.predict_proba(X_val)[np.arange(len(y_val)), y_val]
    assert_allclose(-np.log(proba).mean() + decay, losses[kept], rtol=1e-10)


def test_early_stopping_and_scikit_learns_checks():
    # Every check passes but two. A held-out part of weighted rows is not one
    # of repeated rows: with early stopping, weighting a row and repeating it
    # split differently, so the two weight-equivalence checks cannot hold.
    # (check_class_weight_classifiers, weights 1000 : 0.0001, needs the ties
    # of the class-weighted validation accuracy broken by the validation J:
    # the accuracy saturates within a few epochs)
    results = check_estimator(
        MLPClassifierGD(early_stopping=True, max_iter=200, random_state=0),
        on_fail=None,
    )
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == {
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    }


def test_unlabeled_rows_join_the_pretraining_only(rng):
    X, y = _data("multiclass", rng, n_samples=60)
    settings = dict(
        hidden_layer_sizes=(4,), solver="lbfgs", init="greedy", random_state=0
    )
    alone = MLPClassifierGD(**settings).fit(X, y)
    # the same rows again, unlabeled: each stage's mean objective is unchanged
    doubled = MLPClassifierGD(**settings).fit(X, y, X_unlabeled=X)
    assert_allclose(
        doubled.pretrain_loss_curves_[0][:10],
        alone.pretrain_loss_curves_[0][:10],
        rtol=1e-8,
    )
    # other rows move the pretraining; the training proper sees X and y only
    other = MLPClassifierGD(**settings).fit(
        X, y, X_unlabeled=sparse.csr_matrix(rng.normal(size=(200, 5)))
    )
    assert other.pretrain_loss_curves_[0][0] != alone.pretrain_loss_curves_[0][0]
    assert other.loss_ == pytest.approx(_spec_objective(other, X, y, None), rel=1e-10)


def test_unlabeled_rows_without_greedy_pretraining_are_refused(rng):
    X, y = _data("binary", rng)
    with pytest.raises(ValueError, match="X_unlabeled is for greedy pretraining"):
        MLPClassifierGD(solver="lbfgs").fit(X, y, X_unlabeled=X)
    regressor = MLPRegressorGD(
        hidden_layer_sizes=(3,),
        solver="lbfgs",
        init="greedy",
        warm_start=True,
        random_state=0,
    ).fit(X, X[:, 0])
    before = regressor.coefs_[0].copy()
    with pytest.raises(ValueError, match="continues a fit"):
        regressor.fit(X, X[:, 0], X_unlabeled=X)
    assert_array_equal(regressor.coefs_[0], before)
    with pytest.raises(ValueError, match="features"):
        MLPClassifierGD(init="greedy").fit(X, y, X_unlabeled=X[:, :2])


def test_scikit_learns_classifier_tools_use_it():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[::2]
    y = y[::2]
    clf = MLPClassifierGD(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    proba = cross_val_predict(clf, X, y, cv=3, method="predict_proba")
    assert proba.shape == (len(X), 2) and roc_auc_score(y, proba[:, 1]) > 0.95
    calibrated = CalibratedClassifierCV(clf, cv=3).fit(X, y)
    assert_allclose(calibrated.predict_proba(X).sum(axis=1), 1.0)
    stack = StackingClassifier(
        [("mlp", clf), ("tree", DecisionTreeClassifier(random_state=0))], cv=3
    ).fit(X, y)
    assert stack.score(X, y) > 0.9
    for scoring in ("roc_auc", "neg_log_loss"):
        search = GridSearchCV(
            clf, {"weight_decay": [1e-4, 1e-2]}, cv=3, scoring=scoring
        )
        search.fit(X, y)
        assert np.isfinite(search.best_score_), scoring
