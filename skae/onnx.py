"""Export skae's estimators to ONNX through skl2onnx.

Importing this module registers skl2onnx converters for
:class:`~skae.MLPRegressorGD` (``predict``), :class:`~skae.MLPClassifierGD`
(``label`` and ``probabilities``, ``predict`` and ``predict_proba``, as
skl2onnx exports scikit-learn's ``MLPClassifier``, with its options
``zipmap``, ``nocl`` and ``output_class_labels``), :class:`~skae.AutoEncoder`,
:class:`~skae.SparseAutoEncoder` and :class:`~skae.VariationalAutoEncoder`
(``transform``, the code; the VAE's is the posterior mean) and
:class:`~skae.ReconstructionOutlierDetector` (``label`` and ``scores``, the
``decision_function``, as skl2onnx exports scikit-learn's outlier
detectors), so that ``skl2onnx.to_onnx`` converts them alone and inside
pipelines. :func:`to_onnx` also exports an autoencoder's other methods.

Needs the optional extra ``onnx`` (``pip install "skae[onnx]"``: skl2onnx, and
onnxruntime to run the models); ``import skae`` never imports it.
"""

# License: BSD-3-Clause

try:
    import skl2onnx
    from skl2onnx import update_registered_converter
    from skl2onnx._parse import _parse_sklearn_classifier
    from skl2onnx.algebra.onnx_ops import (
        OnnxIdentity,
        OnnxLess,
        OnnxReshape,
        OnnxSub,
        OnnxWhere,
    )
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_numpy_type,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skae.onnx needs skl2onnx (and onnxruntime to run the exported models): "
        'install the extra with pip install "skae[onnx]".'
    ) from error

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skae._applications.outlier import ReconstructionOutlierDetector
from skae._estimators.autoencoder import AutoEncoder
from skae._estimators.autoencoder_base import BaseAutoEncoder
from skae._estimators.classifier import MLPClassifierGD
from skae._estimators.mlp import MLPRegressorGD
from skae._estimators.sparse_autoencoder import SparseAutoEncoder
from skae._estimators.variational_autoencoder import VariationalAutoEncoder
from skae._integrations.onnx_graphs import (
    classifier_graph,
    constant,
    flat_steps,
    method_graph,
    reconstruction_score_graph,
)
from skae._math.namespaces import is_numpy, namespace_name

__all__ = ["METHODS", "to_onnx"]

#: what :func:`to_onnx` exports of each estimator, its default first
METHODS = {
    MLPRegressorGD: ("predict",),
    MLPClassifierGD: ("predict",),
    VariationalAutoEncoder: ("transform", "inverse_transform", "reconstruct"),
    BaseAutoEncoder: ("transform", "inverse_transform", "reconstruct", "score_samples"),
    ReconstructionOutlierDetector: ("predict",),
}

# ReduceSum takes its axes as an input from opset 13 on (the scores use it)
_MIN_OPSET = 13


# -- what can be exported ---------------------------------------------------------


def _check_exportable(estimator, opset):
    """Raise, naming the fix, for what no ONNX graph of skae's can hold."""
    if opset is not None and opset < _MIN_OPSET:
        raise ValueError(
            f"skae.onnx exports to ONNX opset {_MIN_OPSET} or later (its scores "
            f"use ReduceSum with an axes input); got target_opset={opset}. Pass "
            f"target_opset={_MIN_OPSET} or more, or None for skl2onnx's default."
        )
    inner = getattr(estimator, "estimator_", estimator)
    for step in flat_steps(inner):
        theta = getattr(step, "_theta", None)
        if theta is not None and not is_numpy(theta):
            raise ValueError(
                f"{type(step).__name__} was fitted on {namespace_name(theta)} "
                "arrays; skae.onnx exports NumPy models. Move it to NumPy first "
                "with scikit-learn's move_estimator_to (sklearn.utils._array_api)"
                ", to numpy on device 'cpu', and export the moved model."
            )


def _check_width(estimator, width, method):
    """Raise unless ``width`` columns are what ``method`` takes."""
    if method == "inverse_transform":
        expected, what = estimator._n_features_out, "codes (n_components)"
    else:
        expected, what = estimator.n_features_in_, "features, as at fit"
    if width != expected:
        raise ValueError(
            f"The example X has {width} columns, but "
            f"{type(estimator).__name__}.{method} takes {expected} {what}. Pass "
            f"an example of the input the exported model will get."
        )


# -- skl2onnx's converters and shape calculators ----------------------------------


def _tensor_type(operator):
    return operator.inputs[0].type.__class__


def _input_width(operator):
    """The example input's number of columns, where skl2onnx knows it."""
    shape = getattr(operator.inputs[0].type, "shape", None) or [None, None]
    return shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None


def _network_shape(operator):
    estimator = operator.raw_operator
    check_is_fitted(estimator)
    if _input_width(operator) is not None:
        method = "predict" if isinstance(estimator, MLPRegressorGD) else "transform"
        _check_width(estimator, _input_width(operator), method)
    n_rows = operator.inputs[0].get_first_dimension()
    if isinstance(estimator, MLPRegressorGD):
        width = estimator.n_outputs_
    else:
        width = estimator._n_features_out
    operator.outputs[0].type = _tensor_type(operator)([n_rows, width])


def _network_converter(scope, operator, container):
    estimator = operator.raw_operator
    opv = container.target_opset
    _check_exportable(estimator, opv)
    dtype = guess_numpy_type(operator.inputs[0].type)
    method = "predict" if isinstance(estimator, MLPRegressorGD) else "transform"
    node = method_graph(estimator, method, operator.inputs[0], dtype, opv)
    output = OnnxIdentity(node, op_version=opv, output_names=operator.outputs[:1])
    output.add_to(scope, container)


def _label_classes(scope, classifier):
    """The classifier's labels as an ONNX graph holds them: ``None`` for a
    multilabel target (its label is the indicator matrix), str for string
    classes, else int64 (skl2onnx's rule; ``nocl=True``: the class indices)."""
    if classifier._label_binarizer.y_type_ == "multilabel-indicator":
        return None
    classes = np.asarray(get_label_classes(scope, classifier))
    if all(isinstance(c, str) for c in classes.tolist()):
        return np.array(classes.tolist(), dtype=str)
    # integers, bools, or floats of integral values (classifiers refuse others)
    return classes.astype(np.int64)


def _classifier_parser(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser of classifiers (its ZipMap by default), after a check
    that names an unfitted model as such."""
    check_is_fitted(model)
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)


def _classifier_shape(operator):
    classifier = operator.raw_operator
    check_is_fitted(classifier)
    if _input_width(operator) is not None:
        _check_width(classifier, _input_width(operator), "predict")
    n_rows = operator.inputs[0].get_first_dimension()
    classes = _label_classes(operator.scope_inst, classifier)
    n_columns = len(classifier.classes_)
    if classes is None:  # multilabel: the indicator matrix
        operator.outputs[0].type = Int64TensorType([n_rows, n_columns])
    elif classes.dtype.kind == "U":
        operator.outputs[0].type = StringTensorType([n_rows])
    else:
        operator.outputs[0].type = Int64TensorType([n_rows])
    operator.outputs[1].type = _tensor_type(operator)([n_rows, n_columns])


def _classifier_converter(scope, operator, container):
    classifier = operator.raw_operator
    opv = container.target_opset
    _check_exportable(classifier, opv)
    dtype = guess_numpy_type(operator.inputs[0].type)
    classes = _label_classes(scope, classifier)
    label, probabilities = classifier_graph(
        classifier, operator.inputs[0], dtype, opv, classes
    )
    for node, output in (
        (label, operator.outputs[:1]),
        (probabilities, operator.outputs[1:2]),
    ):
        OnnxIdentity(node, op_version=opv, output_names=output).add_to(scope, container)


def _detector_shape(operator):
    check_is_fitted(operator.raw_operator)
    if _input_width(operator) is not None:
        _check_width(operator.raw_operator, _input_width(operator), "predict")
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n_rows])
    operator.outputs[1].type = _tensor_type(operator)([n_rows, 1])


def _detector_converter(scope, operator, container):
    detector = operator.raw_operator
    opv = container.target_opset
    _check_exportable(detector, opv)
    dtype = guess_numpy_type(operator.inputs[0].type)
    score = reconstruction_score_graph(
        detector.estimator_, operator.inputs[0], dtype, opv
    )
    decision = OnnxSub(score, constant([detector.offset_], dtype), op_version=opv)
    # predict: -1 where decision_function < 0, +1 elsewhere
    label = OnnxWhere(
        OnnxLess(decision, constant([0], dtype), op_version=opv),
        np.array([-1], dtype=np.int64),
        np.array([1], dtype=np.int64),
        op_version=opv,
    )
    OnnxIdentity(label, op_version=opv, output_names=operator.outputs[:1]).add_to(
        scope, container
    )
    column = OnnxReshape(decision, np.array([-1, 1], dtype=np.int64), op_version=opv)
    OnnxIdentity(column, op_version=opv, output_names=operator.outputs[1:2]).add_to(
        scope, container
    )


for _cls in (MLPRegressorGD, AutoEncoder, SparseAutoEncoder, VariationalAutoEncoder):
    update_registered_converter(
        _cls, f"Skae{_cls.__name__}", _network_shape, _network_converter
    )
# the options of skl2onnx's own MLPClassifier converter
update_registered_converter(
    MLPClassifierGD,
    "SkaeMLPClassifierGD",
    _classifier_shape,
    _classifier_converter,
    parser=_classifier_parser,
    options={
        "zipmap": [True, False, "columns"],
        "output_class_labels": [False, True],
        "nocl": [True, False],
    },
)
update_registered_converter(
    ReconstructionOutlierDetector,
    "SkaeReconstructionOutlierDetector",
    _detector_shape,
    _detector_converter,
)


# -- exporting one method ---------------------------------------------------------


def _methods(estimator):
    for cls, methods in METHODS.items():
        if isinstance(estimator, cls):
            return methods
    raise TypeError(
        f"skae.onnx.to_onnx exports skae's estimators; got {estimator!r}. Use "
        "skl2onnx.to_onnx for other models and pipelines (after import "
        "skae.onnx, pipelines may contain skae's estimators)."
    )


def to_onnx(estimator, X, method=None, target_opset=None):
    """Export one method of a fitted skae estimator as an ONNX model.

    Parameters
    ----------
    estimator : MLPRegressorGD, MLPClassifierGD, AutoEncoder, \
SparseAutoEncoder, VariationalAutoEncoder or ReconstructionOutlierDetector
        A fitted estimator.
    X : ndarray of shape (n_samples, n_features)
        Example input, 2-D: its dtype (float32 or float64) is the model's, its
        number of columns the input's width, which must be the estimator's
        (``n_features_in_``; for ``"inverse_transform"``, codes of
        ``n_components`` columns). The estimator must hold NumPy arrays (a
        model fitted on another Array API namespace: move it to NumPy first).
    method : str, default=None
        What the model computes: for the autoencoders ``"transform"`` (the
        default), ``"inverse_transform"``, ``"reconstruct"``
        (``inverse_transform(transform(X))``) or ``"score_samples"`` (not
        for a :class:`~skae.VariationalAutoEncoder`, whose score is an ELBO
        estimated with draws of the noise); for
        the regressor, the classifier and the detector their default
        (``"predict"``; the classifier's model outputs ``label`` and
        ``probabilities``, the detector's ``label`` and ``scores``).
    target_opset : int, default=None
        ONNX opset, 13 or later; skl2onnx's default when None.

    Returns
    -------
    model : onnx.ModelProto
        Input ``"X"``; one output named after the method (``"predict"``,
        ``"transform"``, ``"inverse_transform"``, ``"reconstruct"``,
        ``"score_samples"``), or the detector's ``"label"`` and ``"scores"``,
        or the classifier's ``"label"`` (``predict``: int64 or string labels
        of shape (n,), or the int64 indicator matrix for a multilabel target)
        and ``"probabilities"`` (``predict_proba``, a tensor of the dtype of
        ``X``: skl2onnx's option ``zipmap=False``; ``skl2onnx.to_onnx`` adds
        its ZipMap by default, which onnxruntime runs on float32 only).
        Inside pipelines, ``skl2onnx.to_onnx`` names outputs its own way.
    """
    methods = _methods(estimator)
    check_is_fitted(estimator)
    method = methods[0] if method is None else method
    if method not in methods:
        raise ValueError(
            f"{type(estimator).__name__} has no ONNX export for method={method!r}; "
            f"choose one of {', '.join(map(repr, methods))}."
        )
    _check_exportable(estimator, target_opset)
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"X is the example input whose dtype the model takes: float32 or "
            f"float64, got {X.dtype}."
        )
    if X.ndim != 2:
        raise ValueError(
            f"X is an example input of shape (n_samples, n_features); got an "
            f"array of shape {X.shape}. Pass 2-D data: one sample as "
            f"X.reshape(1, -1)."
        )
    _check_width(estimator, X.shape[1], method)
    if isinstance(estimator, ReconstructionOutlierDetector):
        return skl2onnx.to_onnx(estimator, X[:1], target_opset=target_opset)
    if isinstance(estimator, MLPClassifierGD):  # tensors, not skl2onnx's ZipMap
        options = {id(estimator): {"zipmap": False}}
        return skl2onnx.to_onnx(
            estimator, X[:1], target_opset=target_opset, options=options
        )
    dtype = X.dtype.type
    tensor = FloatTensorType if dtype is np.float32 else DoubleTensorType
    opv = target_opset or _default_opset()
    node = method_graph(estimator, method, "X", dtype, opv)
    output = OnnxIdentity(node, op_version=opv, output_names=[method])
    return output.to_onnx({"X": tensor([None, X.shape[1]])}, target_opset=opv)


def _default_opset():
    from skl2onnx import get_latest_tested_opset_version

    return get_latest_tested_opset_version()
