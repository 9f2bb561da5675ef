"""Checks of data and hyper-parameters that come before any training.

Shared by the estimators (which never import from each other) and by
:class:`~skae._training.trainable.TrainableNetwork`: each either passes or
raises an error that names what was wrong and how to fix it, before anything
is allocated or fitted.
"""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse
from sklearn.utils.validation import _check_sample_weight

from skae._math.array_api import ops_for
from skae._math.namespaces import (
    check_same_namespace,
    dispatching,
    has_float64,
    is_numpy,
    numpy_dtype,
    widest_float,
)
from skae._math.objective import chunk_rows
from skae._training.memory import memory_available

_DTYPES = (np.float64, np.float32)


def input_dtype(estimator, reset, X, like=None, method="fit"):
    """The dtype to validate ``X`` into: that of the training data ``like``
    if given (for validation data), float64 or float32 of ``X``'s namespace
    on a fresh fit, else the dtype the parameters were fitted in; ``X`` must
    be in the namespace and on the device of ``like`` or of the parameters."""
    name = type(estimator).__name__
    if like is not None:
        check_same_namespace(X, like, name, method, subject="the training data is")
        return like.dtype
    if reset:
        if not dispatching() or is_numpy(X):
            return _DTYPES
        xp = ops_for(X).xp
        # a device without float64 (MPS) trains in float32
        return (xp.float64, xp.float32) if has_float64(X) else (xp.float32,)
    check_same_namespace(X, estimator._theta, name, method)
    return estimator._theta.dtype


def stochastic_solver(estimator):
    """``partial_fit`` exists for "sgd" and "adam", as in scikit-learn."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            f"partial_fit is not available for solver={estimator.solver!r}: it "
            "trains on one batch at a time, which solver='sgd' and "
            "solver='adam' do; L-BFGS needs all the data at once (use fit)."
        )
    return True


def normalized_weights(sample_weight, X):
    """Checked sample weights divided by their largest, in the data's dtype.

    J depends only on the weights' ratios; dividing in float64 first keeps
    weights of any finite scale (1e38 in float32, 1e-300) from overflowing
    their sum or vanishing in the cast, so they train as their normalised
    values.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=widest_float(X), ensure_non_negative=True
    )
    ops = ops_for(sample_weight)
    largest = float(ops.max(sample_weight))
    if largest == 0:  # scikit-learn's own check says so first since 1.9
        raise ValueError(
            "All sample weights are zero: at least one sample needs a positive weight."
        )
    return ops.astype(sample_weight / largest, X.dtype)


# how far past 0 and 1 data in [0, 1] may be, in units of the dtype's epsilon:
# MinMaxScaler's (x - min) / (max - min) rounds the maximum to 1 + 2.2e-16
_UNIT_INTERVAL_SLACK = 4


def check_unit_interval(X):
    """The cross-entropy is defined for data in [0, 1] only (up to a few units
    of rounding, as scalers leave it)."""
    if sparse.issparse(X):
        low, high = float(X.min()), float(X.max())
    else:
        ops = ops_for(X)
        low, high = float(ops.min(X)), float(ops.max(X))
    slack = _UNIT_INTERVAL_SLACK * float(np.finfo(numpy_dtype(X.dtype)).eps)
    if not (low >= -slack and high <= 1 + slack):
        raise ValueError(
            "loss='cross_entropy' needs data in [0, 1], but X ranges over "
            f"[{low:.17g}, {high:.17g}]. Scale it first, for example with "
            "sklearn.preprocessing.MinMaxScaler(clip=True) (which keeps new "
            "data in [0, 1] too), or use loss='squared_error'."
        )


def check_memory(estimator, network, n_samples, dtype, available=None):
    """Refuse a network whose training cannot fit in memory, before it is
    allocated (a bare MemoryError, or swapping, otherwise).

    ``available`` defaults to the memory this process may still use: the
    least of the machine's physical memory, what its address-space limit
    (``RLIMIT_AS``) and its memory cgroup (a container's limit, v2 or v1)
    leave; 0 says an allocation has already failed.
    """
    where = "this machine has"
    if available is None:
        available, where = memory_available()
        if available is None:
            return
    dtype = numpy_dtype(dtype)
    itemsize = dtype.itemsize
    # theta, its gradient, the copy of the last recorded iteration and the
    # rollback's backup, plus the solver's state (scipy's L-BFGS keeps ten
    # pairs of float64 vectors and a few more)
    per_parameter = {
        "adam": 7 * itemsize,
        "sgd": 5 * itemsize,
        "lbfgs": 4 * itemsize + 26 * 8,
    }[estimator.solver]
    rows = n_samples
    if estimator.solver != "lbfgs":
        rows = estimator._batch_size(n_samples, warn=False)
    # forward and backward buffers of a batch, about four per layer, for at
    # most a chunk of rows: larger batches are computed chunk by chunk
    rows = min(rows, chunk_rows(network, dtype))
    workspace = 4 * rows * sum(network.layer_sizes[1:]) * itemsize
    needed = network.n_params * per_parameter + workspace
    if needed <= available:
        return
    names = estimator._width_parameters
    widths = ", ".join(f"{name}={getattr(estimator, name)!r}" for name in names)
    n_features = network.layer_sizes[0]
    # the parameters of the same network with one unit in each hidden layer
    narrowest = _narrowest_parameters(network.layer_sizes)
    if narrowest * per_parameter > available and n_features == max(network.layer_sizes):
        advice = (
            f"The data has {n_features:,} features: even one unit in each hidden "
            f"layer would need {_gib(narrowest * per_parameter)}. Reduce the "
            "features first, in a Pipeline before this estimator: feature "
            "selection (sklearn.feature_selection), or a reduction that takes "
            "sparse input (sklearn.decomposition.TruncatedSVD)"
        )
    elif workspace > needed / 2:  # the buffers of a chunk, not the parameters
        advice = (
            f"Most of it is the buffers of {rows:,} rows computed at once: "
            "lower scikit-learn's working_memory (sklearn.set_config"
            "(working_memory=...), in MiB) or batch_size"
        )
    else:
        advice = f"Use narrower layers ({' or '.join(names)})"
    limit = (
        f"more than the {_gib(available)} of memory {where}"
        if available
        else "which could not be allocated"
    )
    raise ValueError(
        f"{widths} make a network with layer sizes {network.layer_sizes} and "
        f"{network.n_params:,} parameters; training it with "
        f"solver={estimator.solver!r} in {np.dtype(dtype).name} needs about "
        f"{_gib(needed)}, {limit}. {advice}."
    )


def check_architecture(estimator, n_features, n_outputs):
    """warm_start and partial_fit continue the fitted network: its shape and
    activations must be the ones the current parameters ask for."""
    network = estimator._network
    sizes = estimator._layer_sizes(n_features, n_outputs)
    wanted = (
        sizes,
        _one_or_each(estimator._hidden_activations(len(sizes) - 2)),
        estimator._output_activation(),
        estimator._tied_weights(),
    )
    fitted = (
        network.layer_sizes,
        _one_or_each(network.hidden_activations),
        network.output,
        network.tied,
    )
    if wanted != fitted:
        raise ValueError(
            "warm_start and partial_fit continue the fitted network, with "
            f"layer sizes {fitted[0]}, hidden activation {fitted[1]!r} and "
            f"output activation {fitted[2]!r}, tied weights {fitted[3]}; the "
            f"current parameters and data ask for layer sizes {wanted[0]}, "
            f"hidden activation {wanted[1]!r}, output activation "
            f"{wanted[2]!r}, tied weights {wanted[3]}. Restore "
            "those parameters, or fit from scratch with warm_start=False."
        )


def _one_or_each(activations):
    """The hidden layers' activations: the one they all share, or the list."""
    if activations and all(a == activations[0] for a in activations):
        return activations[0]
    return activations


def check_weight_decay(weight_decay, weights):
    """Refuse a weight decay so strong that the penalty, or its gradient, is
    not finite at the weights training starts from."""
    if not weight_decay:
        return
    dtype = numpy_dtype(weights.dtype)
    ops = ops_for(weights)
    largest = float(ops.max(ops.abs(weights))) if weights.shape[0] else 0.0
    # scaled by the largest: no overflow in the weights' own dtype
    scaled = weights / largest if largest else weights
    squared_norm = float(ops.vdot(scaled, scaled)) * largest**2
    limit = float(np.finfo(dtype).max) / max(
        squared_norm, 2 * largest, np.finfo(dtype).tiny
    )
    if weight_decay >= limit:
        raise ValueError(
            f"weight_decay={weight_decay!r} makes the penalty lambda * ||W||^2 "
            f"or its gradient non-finite in {dtype.name} at the initial weights "
            f"(||W||^2 = {squared_norm:.4g}); weight_decay must be below "
            f"{limit:.4g}, and is usually below 1."
        )


def check_sparsity_weight(sparsity_weight, sparsity_target, dtype):
    """Refuse a KL weight whose gradient overflows: for a saturated code unit
    it reaches ``beta * max(rho, 1 - rho) / eps``."""
    if not sparsity_weight:
        return
    finfo = np.finfo(numpy_dtype(dtype))
    rho = sparsity_target
    limit = float(finfo.max) * float(finfo.eps) / max(rho, 1 - rho)
    if sparsity_weight >= limit:
        raise ValueError(
            f"sparsity_weight={sparsity_weight!r} overflows the KL penalty's "
            f"gradient in {finfo.dtype.name}, which reaches beta * max(rho, "
            "1 - rho) / eps for a saturated code unit; sparsity_weight must be "
            f"below {limit:.4g}, and is usually below 10."
        )


def _narrowest_parameters(layer_sizes):
    """Parameters of a network of these input and output widths with one
    unit in each hidden layer."""
    widths = [layer_sizes[0], *([1] * (len(layer_sizes) - 2)), layer_sizes[-1]]
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths[:-1], widths[1:]))


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.3g} GiB"
