"""skae's networks as ONNX operators (for :mod:`skae.onnx`).

The graph of each method of a fitted estimator, written with skl2onnx's
operators: the layers (every activation of :mod:`skae.activations`), the
reconstruction loss of ``score_samples``, and the outlier detector's score
around an autoencoder, a pipeline ending in one, or a PCA; the classifier's
label and probabilities. Imported by
:mod:`skae.onnx` only, never by ``import skae``: it needs skl2onnx.
"""

# License: BSD-3-Clause

import numpy as np
from onnx import TensorProto
from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
from skl2onnx.algebra.onnx_ops import (
    OnnxAbs,
    OnnxAdd,
    OnnxArgMax,
    OnnxArrayFeatureExtractor,
    OnnxCast,
    OnnxClip,
    OnnxConcat,
    OnnxDiv,
    OnnxExp,
    OnnxGreater,
    OnnxLog,
    OnnxMatMul,
    OnnxMax,
    OnnxMin,
    OnnxMul,
    OnnxNeg,
    OnnxReduceSum,
    OnnxRelu,
    OnnxReshape,
    OnnxSigmoid,
    OnnxSoftmax,
    OnnxSub,
    OnnxTanh,
    OnnxWhere,
)
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from skae._estimators.autoencoder_base import BaseAutoEncoder
from skae._estimators.mlp import MLPRegressorGD
from skae._math.activations import (
    ELU,
    HardTanh,
    Identity,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)

# a VAE's score is an ELBO estimated with draws of the noise, not a graph of
# the network's layers alone
_NO_ELBO = (
    "skae.onnx exports a VariationalAutoEncoder's transform (the posterior "
    "mean), inverse_transform (the decoder's mean) and reconstruct, not its "
    "score_samples, the ELBO estimated with draws of the noise, nor a "
    "ReconstructionOutlierDetector around it, which scores by it."
)


def flat_steps(model):
    """The steps of ``model``, nested pipelines expanded (``[model]`` for one
    that is no pipeline)."""
    if not isinstance(model, Pipeline):
        return [model]
    return [leaf for _, step in model.steps for leaf in flat_steps(step)]


def constant(value, dtype):
    return np.asarray(value, dtype=dtype)


def activation_graph(activation, z, dtype, opv):
    """``activation(z)`` as ONNX operators, in ``dtype``.

    Every formula is the one of :mod:`skae.activations`. Softsign, ELU and
    softplus are written with elementary operators: onnxruntime has no
    float64 kernels for their own operators, and a parameter written as an
    ONNX attribute (LeakyRelu's, Elu's ``alpha``) is a float32.
    """
    c = lambda value: constant(value, dtype)  # noqa: E731
    if isinstance(activation, Identity):
        return z
    if isinstance(activation, Sigmoid):
        return OnnxSigmoid(z, op_version=opv)
    if isinstance(activation, Tanh):
        return OnnxTanh(z, op_version=opv)
    if isinstance(activation, Softsign):  # z / (1 + |z|)
        return OnnxDiv(
            z, OnnxAdd(c(1), OnnxAbs(z, op_version=opv), op_version=opv), op_version=opv
        )
    if isinstance(activation, HardTanh):
        return OnnxClip(z, c(-1), c(1), op_version=opv)
    if isinstance(activation, PReLU):  # max(z, 0) + alpha min(z, 0)
        negative = OnnxMul(
            c(activation.alpha), OnnxMin(z, c(0), op_version=opv), op_version=opv
        )
        return OnnxAdd(OnnxMax(z, c(0), op_version=opv), negative, op_version=opv)
    if isinstance(activation, ReLU):
        return OnnxRelu(z, op_version=opv)
    if isinstance(activation, ELU):  # z > 0 ? z : alpha (exp(min(z, 0)) - 1)
        decay = OnnxSub(
            OnnxExp(OnnxMin(z, c(0), op_version=opv), op_version=opv),
            c(1),
            op_version=opv,
        )
        negative = OnnxMul(c(activation.alpha), decay, op_version=opv)
        return OnnxWhere(
            OnnxGreater(z, c(0), op_version=opv), z, negative, op_version=opv
        )
    if isinstance(activation, Softplus):
        return _softplus(z, dtype, opv)
    if isinstance(activation, Softmax):  # a classifier's output, over each row
        return OnnxSoftmax(z, axis=1, op_version=opv)
    raise TypeError(
        f"skae.onnx has no ONNX form of the activation {activation!r}; the "
        "activations of skae.activations are all supported."
    )


def _softplus(z, dtype, opv):
    """``log(1 + exp(z))`` as ``max(z, 0) + log(1 + exp(-|z|))``: no overflow."""
    tail = OnnxExp(OnnxNeg(OnnxAbs(z, op_version=opv), op_version=opv), op_version=opv)
    return OnnxAdd(
        OnnxMax(z, constant(0, dtype), op_version=opv),
        OnnxLog(OnnxAdd(constant(1, dtype), tail, op_version=opv), op_version=opv),
        op_version=opv,
    )


def _sigmoid_of_minus(t, dtype, opv):
    """``sigmoid(-t) = 1 / (1 + exp(t))``, skae's formula, to full relative
    precision where it is small: onnxruntime's Sigmoid rounds values under
    about 1e-8 (float32) or 1e-13 (float64) to 0 or to a wrong digit, fine in
    a hidden layer but not for the probabilities of an output."""
    one = constant(1, dtype)
    return OnnxDiv(
        one,
        OnnxAdd(one, OnnxExp(t, op_version=opv), op_version=opv),
        op_version=opv,
    )


def layers_graph(estimator, node, dtype, opv, start=0, stop=None, logits=False):
    """Layers ``start`` to ``stop - 1`` of the fitted network on ``node``;
    with ``logits``, also the last layer's pre-activation."""
    network = estimator._network
    stop = network.n_layers if stop is None else stop
    layers = network.unflatten(estimator._theta)
    z = node
    for layer in range(start, stop):
        W, b = layers[layer]  # a tied decoder's W: the encoder's, transposed
        W = np.ascontiguousarray(W, dtype=dtype)
        z = OnnxAdd(
            OnnxMatMul(node, W, op_version=opv), b.astype(dtype), op_version=opv
        )
        node = activation_graph(network.activation(layer), z, dtype, opv)
    return (node, z) if logits else node


def score_samples_graph(estimator, node, dtype, opv):
    """Minus each sample's reconstruction loss, shape ``(n_samples,)``."""
    y, z = layers_graph(estimator, node, dtype, opv, logits=True)
    axes = np.array([1], dtype=np.int64)
    if estimator._fitted_loss == "cross_entropy":  # softplus(z) - x z, per row
        losses = OnnxSub(
            _softplus(z, dtype, opv), OnnxMul(node, z, op_version=opv), op_version=opv
        )
    else:
        residual = OnnxSub(y, node, op_version=opv)
        losses = OnnxMul(residual, residual, op_version=opv)
    total = OnnxReduceSum(losses, axes, keepdims=0, op_version=opv)
    return OnnxNeg(total, op_version=opv)


def posterior_mean_graph(estimator, node, dtype, opv):
    """A variational autoencoder's ``transform``: the mean ``mu``, the first
    ``n_components`` columns of the stochastic layer's linear head."""
    network = estimator._network
    head = network.stochastic - 1
    node = layers_graph(estimator, node, dtype, opv, stop=head)
    W, b = network.unflatten(estimator._theta)[head]
    k = estimator._n_features_out
    W_mu = np.ascontiguousarray(W[:, :k], dtype=dtype)
    return OnnxAdd(
        OnnxMatMul(node, W_mu, op_version=opv), b[:k].astype(dtype), op_version=opv
    )


def method_graph(estimator, method, node, dtype, opv):
    """The graph of one method of a fitted skae estimator."""
    if isinstance(estimator, MLPRegressorGD):
        return layers_graph(estimator, node, dtype, opv)
    code = estimator._code_layer
    if estimator._network.stochastic is not None:  # a variational autoencoder
        if method == "score_samples":
            raise NotImplementedError(_NO_ELBO)
        if method in ("transform", "reconstruct"):
            node = posterior_mean_graph(estimator, node, dtype, opv)
        if method == "transform":
            return node
        return layers_graph(estimator, node, dtype, opv, start=code)
    if method == "transform":
        return layers_graph(estimator, node, dtype, opv, stop=code)
    if method == "inverse_transform":
        return layers_graph(estimator, node, dtype, opv, start=code)
    if method == "reconstruct":
        return layers_graph(estimator, node, dtype, opv)
    return score_samples_graph(estimator, node, dtype, opv)


def classifier_graph(estimator, node, dtype, opv, classes):
    """The classifier's ``(label, probabilities)``, as skl2onnx exports
    scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`.

    ``probabilities`` is ``predict_proba``: the softmax (multiclass), the
    sigmoids (multilabel), or, for a binary target, the columns
    ``[sigmoid(-z), sigmoid(z)]`` of the logit ``z``, each to its own
    relative precision, as skae computes them (not skl2onnx's ``1 - p``).
    ``label`` is ``predict``: ``classes[argmax]`` (``classes``, int64 or str,
    one a column), or the int64 indicator matrix ``probabilities > 0.5`` for
    a multilabel target.
    """
    softmax, z = layers_graph(estimator, node, dtype, opv, logits=True)
    target_type = estimator._label_binarizer.y_type_
    minus_z = OnnxNeg(z, op_version=opv)
    if target_type == "multilabel-indicator":
        probabilities = _sigmoid_of_minus(minus_z, dtype, opv)
        above = OnnxGreater(probabilities, constant(0.5, dtype), op_version=opv)
        label = OnnxCast(above, to=TensorProto.INT64, op_version=opv)
        return label, probabilities
    if target_type == "binary":
        probabilities = OnnxConcat(
            _sigmoid_of_minus(z, dtype, opv),  # sigmoid(-z), of classes[0]
            _sigmoid_of_minus(minus_z, dtype, opv),
            axis=1,
            op_version=opv,
        )
    else:
        probabilities = softmax
    index = OnnxArgMax(probabilities, axis=1, op_version=opv)
    label = OnnxArrayFeatureExtractor(classes, index, op_version=opv)
    flat = np.array([-1], dtype=np.int64)
    return OnnxReshape(label, flat, op_version=opv), probabilities


def reconstruction_score_graph(inner, node, dtype, opv):
    """The detector's ``score_samples`` under its fitted ``estimator_``."""
    steps = flat_steps(inner)  # a pipeline of pipelines: one chain of steps
    last = steps[-1]
    for step in steps[:-1]:  # scikit-learn steps: skl2onnx's own converters
        if step is None or step == "passthrough":
            continue
        node = OnnxSubEstimator(step, node, op_version=opv)
    if isinstance(last, BaseAutoEncoder):
        if last._network.stochastic is not None:
            raise NotImplementedError(_NO_ELBO)
        return score_samples_graph(last, node, dtype, opv)
    if isinstance(last, PCA) and len(steps) == 1:
        # inverse_transform(transform(x)) = (x - mean) C^T C + mean, whitened
        # or not; minus the squared error
        C = last.components_.astype(dtype)
        centred = OnnxSub(node, last.mean_.astype(dtype), op_version=opv)
        back = OnnxMatMul(
            OnnxMatMul(centred, C.T.copy(), op_version=opv), C, op_version=opv
        )
        residual = OnnxSub(centred, back, op_version=opv)
        squares = OnnxMul(residual, residual, op_version=opv)
        axes = np.array([1], dtype=np.int64)
        return OnnxNeg(
            OnnxReduceSum(squares, axes, keepdims=0, op_version=opv), op_version=opv
        )
    raise NotImplementedError(
        f"skae.onnx exports a ReconstructionOutlierDetector around a skae "
        f"autoencoder, a Pipeline of scikit-learn steps (nested or not) ending "
        f"in one, or a PCA; not around {inner!r}."
    )
