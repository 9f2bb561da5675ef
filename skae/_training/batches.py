"""The data of a training run: mini-batches, and held-out validation sets."""

# License: BSD-3-Clause

import math

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils.sparsefuncs import mean_variance_axis

from skae._math.array_api import ops_for
from skae._math.namespaces import is_numpy, to_namespace_of, to_numpy, widest_float
from skae._training.user_warnings import warn_user


class Batches:
    """The mini-batches of an epoch, gathered into reused arrays.

    A shuffled dense batch is copied with ``np.take(..., mode="clip", out=)``
    into one preallocated array (several times faster than fancy indexing);
    unshuffled batches are views. An autoencoder's target is its input, so it
    is gathered once. Batches whose weights are all zero are skipped: a weight
    of 0 removes a sample.
    """

    def __init__(self, X, T, sample_weight, batch_size):
        self.X, self.T, self.sample_weight = X, T, sample_weight
        self.n_samples = X.shape[0]
        self.batch_size = batch_size
        self.n_batches = -(-self.n_samples // batch_size)
        self._X_rows = self._T_rows = None  # made at the first shuffled epoch
        self._noisy_rows = None  # made at the first corrupted dense batch
        self._total_weight = (
            None if sample_weight is None else ops_for(sample_weight).sum(sample_weight)
        )

    def epoch(self, order=None, noise=None):
        """Yield ``(X, T, sample_weight, share of the epoch's loss)`` per batch,
        in the order of the permutation ``order`` (default: as stored); with
        ``noise`` (a :class:`~skae._training.corruption.Corruption`), ``X`` is a fresh
        corrupted copy of the batch's inputs."""
        if order is not None and self._X_rows is None:
            self._X_rows = _row_buffer(self.X, self.batch_size)
            if self.T is not self.X:
                self._T_rows = _row_buffer(self.T, self.batch_size)
        if order is not None and not is_numpy(self.X):
            order = to_namespace_of(order, self.X)  # gathered on X's device
        for batch in gen_batches(self.n_samples, self.batch_size):
            rows = batch if order is None else order[batch]
            w = None if self.sample_weight is None else _take(self.sample_weight, rows)
            if w is None:
                share = (batch.stop - batch.start) / self.n_samples
            else:
                weight = ops_for(w).sum(w)
                if not float(weight) > 0:  # weights are not negative: all zero
                    continue
                share = float(weight / self._total_weight)
            X = _take_rows(self.X, rows, self._X_rows)
            T = X if self.T is self.X else _take_rows(self.T, rows, self._T_rows)
            if noise is not None:
                X = noise(X, out=self._noisy(X))
            yield X, T, w, share

    def _noisy(self, X):
        """Where a dense batch's corrupted copy goes (None for sparse)."""
        if sparse.issparse(X) or not is_numpy(X):
            return None
        if self._noisy_rows is None:
            self._noisy_rows = np.empty((self.batch_size, X.shape[1]), X.dtype)
        return self._noisy_rows[: X.shape[0]]


class Validation:
    """Held-out data the training loop scores after every epoch."""

    def __init__(self, X, T, w, objective):
        self.X, self.T, self.w = X, T, w
        self.objective = objective

    def loss(self, theta):
        """The objective J on the held-out data."""
        return self.objective.value(theta, self.X, self.T, self.w)


def split_validation(estimator, X, T, sample_weight):
    """Hold out ``validation_fraction`` of the data for early stopping."""
    n_samples = X.shape[0]
    # the sizes train_test_split will make, checked first to name our
    # parameters rather than its test_size and train_size
    n_held_out = math.ceil(estimator.validation_fraction * n_samples)
    fewest = estimator._fewest_validation_rows
    if n_held_out < fewest or n_held_out >= n_samples:
        raise ValueError(
            "early_stopping holds out "
            f"validation_fraction={estimator.validation_fraction} of the "
            f"training data (n_samples = {n_samples}), which leaves "
            f"{n_held_out} for validation and {n_samples - n_held_out} for "
            f"training; it needs at least {fewest} and 1. Use more samples or "
            "another "
            "validation_fraction, or pass a validation set as X_val."
        )
    target_is_input = T is X
    arrays = [X] if target_is_input else [X, T]
    if sample_weight is not None:
        arrays.append(sample_weight)
    parts = train_test_split(
        *arrays,
        test_size=estimator.validation_fraction,
        random_state=estimator._random_state,
        stratify=estimator._validation_split_labels(T, n_held_out),
    )
    train, held_out = parts[0::2], parts[1::2]
    if target_is_input:  # an autoencoder: split once, target = input
        train.insert(1, train[0])
        held_out.insert(1, held_out[0])
    w_train = train[2] if sample_weight is not None else None
    w_val = held_out[2] if sample_weight is not None else None
    # as many samples of positive weight as the parts need: 1 to train, and
    # to score 2 for R^2 (undefined on one sample), 1 for an accuracy
    for part, w, needed in (("training", w_train, 1), ("held-out", w_val, fewest)):
        if w is not None and np.count_nonzero(w) < needed:
            raise ValueError(
                "early_stopping holds out "
                f"validation_fraction={estimator.validation_fraction} of the data "
                f"(split by random_state={estimator._random_state_param()!r}), and the "
                f"{part} part has {np.count_nonzero(w)} samples of positive "
                f"weight; it needs at least {needed}. Use another "
                "validation_fraction or random_state, or pass a validation "
                "set as X_val."
            )
    return train[0], train[1], w_train, (held_out[0], held_out[1], w_val)


def check_validation_set(estimator, X_val, T_val, sample_weight_val, T, X=None):
    """The user's validation set: enough rows, the targets' outputs, and,
    with the training inputs ``X``, a warning when it looks unlike them."""
    if X_val.shape[0] < 2:
        raise ValueError(
            f"X_val has {X_val.shape[0]} sample; a validation set needs at least 2."
        )
    if sample_weight_val is not None:
        ops = ops_for(sample_weight_val)
        n_positive = int(
            ops.sum(ops.astype(sample_weight_val > 0, sample_weight_val.dtype))
        )
        if n_positive < 2:
            raise ValueError(
                f"sample_weight_val gives a positive weight to {n_positive} "
                "sample; a validation set needs at least 2."
            )
    if T_val.shape[1] != T.shape[1]:
        raise ValueError(
            f"y_val has {T_val.shape[1]} outputs, but y has {T.shape[1]}: "
            "the validation targets must have the training targets' outputs."
        )
    estimator._check_setup(T_val)
    if X is not None:
        _warn_if_unlike(estimator, X, X_val)


# how far (in training standard deviations) the validation features' means,
# and by what factor their spreads, may typically differ from the training
# data's before the validation set is said not to look like it
_MEAN_SHIFT, _SPREAD_RATIO = 3.0, 10.0


def _moments(A):
    """Per-feature mean and standard deviation, in float64 (sparse kept), by
    chunks of rows for dense data: no temporary the size of ``A``. Chunks are
    merged as Chan et al. (1979) do, which keeps the variance exact when the
    mean is large against the spread."""
    if sparse.issparse(A):
        mean, variance = mean_variance_axis(sparse.csr_matrix(A, dtype=np.float64), 0)
        return mean, np.sqrt(variance)
    n_features = A.shape[1]
    rows = max(1, int(get_config()["working_memory"] * 2**20) // (16 * n_features))
    count, mean, m2 = 0, np.zeros(n_features), np.zeros(n_features)
    ops, wide = ops_for(A), widest_float(A)
    for chunk in gen_batches(A.shape[0], rows):
        # in A's namespace: only the per-feature moments come to the host
        block = ops.astype(A[chunk, :], wide)
        n_block = block.shape[0]
        block_mean = ops.sum(block, axis=0) / n_block
        block = block - block_mean  # a new array: A is the user's data
        block_m2 = to_numpy(ops.columnwise_dot(block, block)).astype(np.float64)
        block_mean = to_numpy(block_mean).astype(np.float64)
        delta = block_mean - mean
        total = count + n_block
        mean += delta * (n_block / total)
        m2 += block_m2 + delta**2 * (count * n_block / total)
        count = total
    return mean, np.sqrt(m2 / count)


def _warn_if_unlike(estimator, X, X_val):
    """Warn when ``X_val`` is on another scale than ``X``: typically a
    validation set passed to the last step of a Pipeline, which reaches it
    without the earlier steps' transformations."""
    with np.errstate(all="ignore"):  # data near the dtype's limits: no verdict
        mean, spread = _moments(X)
        mean_val, spread_val = _moments(X_val)
        varying = (spread > 0) & np.isfinite(spread)
        if not varying.any():
            return
        shift = np.median(np.abs(mean_val - mean)[varying] / spread[varying])
        both = varying & (spread_val > 0)
        ratio = np.median(spread_val[both] / spread[both]) if both.any() else 1.0
    if not (np.isfinite(shift) and np.isfinite(ratio)):
        return
    if shift <= _MEAN_SHIFT and 1 / _SPREAD_RATIO <= ratio <= _SPREAD_RATIO:
        return
    warn_user(
        f"{estimator._display_name()}: X_val does not look like the training "
        f"data: its features' means lie a median {shift:.3g} training standard "
        f"deviations away, and their spread is {ratio:.3g} times the training "
        "data's. A validation set passed to the last step of a Pipeline skips "
        "the earlier steps' transformations: route it through them with "
        "Pipeline(..., transform_input=['X_val']) and metadata routing (see "
        "the user guide, 'A validation set of your own').",
        UserWarning,
    )


def _row_buffer(A, n_rows):
    """An array for ``n_rows`` rows of a dense NumPy ``A`` (None for sparse
    ``A``, and for another namespace's, which gathers into new arrays)."""
    if sparse.issparse(A) or not is_numpy(A):
        return None
    return np.empty((n_rows, A.shape[1]), A.dtype)


def _take_rows(A, rows, buffer):
    """Rows of ``A``: a view for a slice, else gathered into ``buffer``."""
    if isinstance(rows, slice):
        return A[rows, :]
    if buffer is None:
        return A[rows] if sparse.issparse(A) else ops_for(A).take(A, rows, axis=0)
    return A.take(rows, axis=0, out=buffer[: len(rows)], mode="clip")


def _take(w, rows):
    """The entries ``rows`` (a slice or indices) of a 1-D array."""
    return w[rows] if isinstance(rows, slice) else ops_for(w).take(w, rows, axis=0)
