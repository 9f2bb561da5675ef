"""The data of a training run: mini-batches, and held-out validation sets."""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse
from sklearn.utils import gen_batches


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
        self._total_weight = None if sample_weight is None else sample_weight.sum()

    def epoch(self, order=None, noise=None):
        """Yield ``(X, T, sample_weight, share of the epoch's loss)`` per batch,
        in the order of the permutation ``order`` (default: as stored); with
        ``noise`` (a :class:`~skae._corruption.Corruption`), ``X`` is a fresh
        corrupted copy of the batch's inputs."""
        if order is not None and self._X_rows is None:
            self._X_rows = _row_buffer(self.X, self.batch_size)
            if self.T is not self.X:
                self._T_rows = _row_buffer(self.T, self.batch_size)
        for batch in gen_batches(self.n_samples, self.batch_size):
            rows = batch if order is None else order[batch]
            w = None if self.sample_weight is None else self.sample_weight[rows]
            if w is None:
                share = (batch.stop - batch.start) / self.n_samples
            elif not w.any():
                continue
            else:
                share = float(w.sum() / self._total_weight)
            X = _take_rows(self.X, rows, self._X_rows)
            T = X if self.T is self.X else _take_rows(self.T, rows, self._T_rows)
            if noise is not None:
                X = noise(X, out=self._noisy(X))
            yield X, T, w, share

    def _noisy(self, X):
        """Where a dense batch's corrupted copy goes (None for sparse)."""
        if sparse.issparse(X):
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


def rows_sliceable(X, T):
    """CSR for row slicing, never densified; an autoencoder's target stays the
    very object that is its input (gathered once a batch)."""
    if not sparse.issparse(X):
        return X, T
    target_is_input = T is X
    X = X.tocsr()
    return X, (X if target_is_input else T)


def _row_buffer(A, n_rows):
    """An array for ``n_rows`` rows of a dense ``A`` (None for sparse ``A``)."""
    return None if sparse.issparse(A) else np.empty((n_rows, A.shape[1]), A.dtype)


def _take_rows(A, rows, buffer):
    """Rows of ``A``: a view for a slice, else gathered into ``buffer``."""
    if isinstance(rows, slice) or buffer is None:
        return A[rows]
    return A.take(rows, axis=0, out=buffer[: len(rows)], mode="clip")
