"""A classifier's labels: the classes learnt from ``y``, the checks of later
labels, the one-hot targets they become and the class weights, and the labels
the early-stopping split is stratified by.

Functions of a fitted ``LabelBinarizer`` (the classifier's
``_label_binarizer``), so that the estimator keeps its public face only.
"""

# License: BSD-3-Clause

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from skae._math.array_api import ops_for
from skae._math.namespaces import to_namespace_of, to_numpy
from skae._training.checks import normalized_weights

# what ``type_of_target`` calls the targets the classifier models
TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")


def learn_classes(name, y, classes=None):
    """A ``LabelBinarizer`` fitted on ``classes`` (partial_fit) or ``y``.

    ``name`` is the estimator's, for the messages.
    """
    check_classification_targets(y)  # "Unknown label type" for numbers
    target_type = type_of_target(y, input_name="y")
    if target_type not in TARGET_TYPES:
        raise ValueError(
            f"{name} models binary, multiclass and multilabel "
            f"indicator targets; y is {target_type!r}. For several "
            "multiclass outputs, fit one classifier per output "
            "(sklearn.multioutput.MultiOutputClassifier)."
        )
    binarizer = LabelBinarizer()
    multilabel = target_type == "multilabel-indicator"
    binarizer.fit(y if classes is None or multilabel else np.asarray(classes))
    if len(binarizer.classes_) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes; "
            f"y has 1 class: {binarizer.classes_[0]!r}."
        )
    return binarizer


def check_classes(binarizer, y, classes=None):
    """Raise if ``y`` (or ``classes``) holds labels ``binarizer`` does not know."""
    known = binarizer.classes_
    if classes is not None and not np.array_equal(np.unique(classes), known):
        raise ValueError(
            f"classes={list(classes)!r} differs from the classes of the "
            f"previous calls, {list(known)!r}."
        )
    if binarizer.y_type_ == "multilabel-indicator":
        if type_of_target(y) != "multilabel-indicator" or y.shape[1] != len(known):
            raise ValueError(
                f"y must be a multilabel indicator matrix of {len(known)} "
                "labels, as at fit."
            )
        return
    unseen = np.setdiff1d(np.unique(y), known)
    if len(unseen):
        raise ValueError(
            f"y has classes {list(unseen)!r} that the model does not know; "
            f"its classes are {list(known)!r}. Fit again (warm_start=False) "
            "to learn new classes."
        )


def targets_and_weights(binarizer, class_weight, y, sample_weight, X):
    """The one-hot targets of the labels ``y`` and the samples' weights,
    each ``sample_weight`` times its class weight (None for neither), in
    ``X``'s dtype and namespace.

    The user's weights are checked and scaled to a largest of 1 before the
    class weights multiply them (so that no product overflows), and the
    product scaled again.
    """
    T = binarizer.transform(y)
    if sample_weight is not None:
        sample_weight = to_numpy(normalized_weights(sample_weight, X))
    weights = class_weights(class_weight, binarizer, y, sample_weight)
    if weights is None:
        weights = sample_weight
    elif sample_weight is not None:
        weights = weights * sample_weight
    if weights is not None:
        weights = to_namespace_of(normalized_weights(weights, X), X)
    T = to_namespace_of(np.asarray(T, dtype=np.float64), X)
    return ops_for(T).astype(T, X.dtype), weights


def class_weights(class_weight, binarizer, y, sample_weight):
    """Each sample's class weight, or None without ``class_weight``.

    ``"balanced"`` gives class ``c`` the weight ``W / (n_classes W_c)``,
    ``W_c`` the summed ``sample_weight`` of its samples (their count
    without), so that weighting a sample and repeating it agree.
    """
    if class_weight is None:
        return None
    if binarizer.y_type_ == "multilabel-indicator":
        raise ValueError(
            "class_weight applies to binary and multiclass targets; for a "
            "multilabel target weigh the samples with sample_weight."
        )
    classes, index = np.unique(y, return_inverse=True)
    if class_weight == "balanced":
        totals = np.bincount(index, weights=sample_weight, minlength=len(classes))
        with np.errstate(divide="ignore"):  # a class of zero weight keeps 0
            balanced = totals.sum() / (len(classes) * totals)
            per_class = np.where(totals > 0, balanced, 0.0)
    else:
        known = binarizer.classes_
        unknown = set(class_weight) - set(known.tolist())
        if unknown:
            raise ValueError(
                f"class_weight names classes {sorted(unknown, key=str)!r} "
                f"that are not in classes_ {list(known)!r}."
            )
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes])
    return per_class[index]


def stratification_labels(binarizer, T, n_held_out):
    """The classes of the one-hot targets ``T``, to stratify the
    early-stopping split of ``n_held_out`` rows by, where every class has a
    row on both sides of it; else None (a random split), and always for a
    multilabel target."""
    if binarizer.y_type_ == "multilabel-indicator":
        return None
    T = to_numpy(T)
    labels = T.argmax(axis=1) if binarizer.y_type_ == "multiclass" else T[:, 0]
    counts = np.bincount(labels.astype(np.intp))
    counts = counts[counts > 0]
    n_train = len(labels) - n_held_out
    if counts.min() < 2 or min(n_held_out, n_train) < len(counts):
        return None
    return labels
