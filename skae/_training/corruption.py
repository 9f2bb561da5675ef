"""Input corruption of denoising autoencoders (Vincent et al., 2008).

A denoising autoencoder encodes a corrupted input ``x~`` and is scored
against the clean ``x``: ``J = mean_i L(x_i, g(f(x~_i))) + penalties``. The
corruption is only ever applied to training inputs, never to what
``transform``, ``inverse_transform`` or the scores see.
"""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import InvalidParameterError

from skae._math.array_api import ops_for
from skae._math.namespaces import numpy_dtype, to_namespace_of

KINDS = ("masking", "gaussian", "salt_and_pepper")

# the levels each kind accepts, and what a level means there
_RANGES = {
    # a level of 1 would erase every input: nothing left to reconstruct from
    "masking": ((0.0, 1.0), "[0, 1)", "the probability of setting an entry to 0"),
    "gaussian": ((0.0, np.inf), "[0, inf)", "the standard deviation of the noise"),
    "salt_and_pepper": (
        (0.0, 1.0),
        "[0, 1]",
        "the probability of setting an entry to its feature's minimum or maximum",
    ),
}


def check_corruption(estimator, X, prefix=""):
    """Raise if the corruption level is out of its kind's range, or if the
    kind cannot corrupt ``X`` (only masking keeps sparse input sparse).

    The estimator's parameters are ``corruption`` and ``corruption_level``
    after ``prefix`` ("pretrain_": a perceptron's denoising pretraining).
    """
    kind_name, level_name = f"{prefix}corruption", f"{prefix}corruption_level"
    kind, level = getattr(estimator, kind_name), getattr(estimator, level_name)
    if kind is None:
        return
    name = type(estimator).__name__
    if isinstance(level, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The {level_name!r} parameter of {name} must be a float, not a "
            f"bool; got {level!r}."
        )
    (low, high), interval, meaning = _RANGES[kind]
    closed_high = kind != "masking"
    if not (low <= level and (level <= high if closed_high else level < high)):
        raise InvalidParameterError(
            f"The {level_name!r} parameter of {name} must be in {interval} "
            f"for {kind_name}={kind!r} ({meaning}); got {level!r}."
        )
    largest = float(np.finfo(numpy_dtype(X.dtype)).max)
    if kind == "gaussian" and 10 * level > largest:  # noise beyond 10 sigma: inf
        raise InvalidParameterError(
            f"The {level_name!r} parameter of {name} is the noise's standard "
            f"deviation; {level!r} makes the noise overflow X's dtype {X.dtype} "
            f"(largest {largest:.3g}). Use a level far below it, on the scale of "
            "the data."
        )
    if sparse.issparse(X) and kind != "masking":
        raise ValueError(
            f"{kind_name}={kind!r} needs dense input, but X is a sparse matrix: "
            f"it would fill every entry. Use {kind_name}='masking', which keeps "
            "sparse input sparse, or densify X (X.toarray()) if it fits in memory."
        )


class Corruption:
    """Draws corrupted copies of training inputs; the inputs are never changed.

    Parameters
    ----------
    kind : {"masking", "gaussian", "salt_and_pepper"}
        ``"masking"`` sets each entry to 0 with probability ``level``;
        ``"gaussian"`` adds ``N(0, level^2)`` noise; ``"salt_and_pepper"``
        sets each entry, with probability ``level``, to its feature's minimum
        or maximum over the training data seen (each with probability 1/2).
    level : float
        The corruption level, in the kind's range (see
        :func:`check_corruption`).
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The training data of this call: where salt and pepper takes each
        feature's minimum and maximum.
    random_state : numpy.random.RandomState
        The estimator's random state; one seed is drawn from it, so two fits
        with the same ``random_state`` draw the same corruption.
    seen_range : tuple of two arrays of shape (1, n_features), default=None
        Salt and pepper: each feature's minimum and maximum over the data of
        earlier calls (``partial_fit``), merged with ``X``'s. Without it, a
        call of one row would corrupt nothing: its minimum is its maximum.

    Attributes
    ----------
    value_range : tuple of two arrays of shape (1, n_features), or None
        The minima and maxima salt and pepper sets entries to: the data seen
        so far, for the next call's ``seen_range``.
    """

    def __init__(self, kind, level, X, random_state, seen_range=None):
        self.kind = kind
        self.level = level
        self._rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        self.value_range = None
        if kind == "salt_and_pepper":
            ops = ops_for(X)
            low, high = ops.min(X, axis=0)[None, :], ops.max(X, axis=0)[None, :]
            if seen_range is not None:  # in X's namespace, were the model moved
                low = ops.minimum(low, to_namespace_of(seen_range[0], X))
                high = ops.maximum(high, to_namespace_of(seen_range[1], X))
            self.value_range = low, high

    def __call__(self, X, out=None):
        """A corrupted copy of the rows ``X`` (in ``out`` when given, dense)."""
        if sparse.issparse(X):  # masking, the only kind for sparse input
            corrupted = X.copy()
            corrupted.data *= self._uniform(corrupted.data.shape) >= self.level
            corrupted.eliminate_zeros()
            return corrupted
        # drawn by NumPy, on the host (the draws of a NumPy fit), and moved
        # to X's device: one batch of draws per step
        ops = ops_for(X)
        if out is None:
            out = ops.empty_like(X)
        if self.kind == "masking":
            keep = self._uniform(X.shape) >= self.level
            return ops.multiply(X, ops.mask_like(keep, X), out=out)
        if self.kind == "gaussian":
            noise = self._rng.standard_normal(X.shape, dtype=numpy_dtype(X.dtype))
            noise *= self.level
            return ops.add(X, to_namespace_of(noise, X), out=out)
        # salt and pepper: one uniform decides whether (u < level) and which
        # (u < level / 2: the minimum, else the maximum)
        u = to_namespace_of(self._uniform(X.shape), X)
        ops.copyto(out, X)
        low, high = self.value_range
        out = ops.put_where(out, high, u < self.level)
        return ops.put_where(out, low, u < self.level / 2)

    def whole(self, X, chunk_rows):
        """A corrupted copy of all of ``X``, drawn ``chunk_rows`` rows at a time
        (L-BFGS: one draw per fit, so that the objective is deterministic)."""
        if sparse.issparse(X):
            return self(X)
        out = ops_for(X).empty_like(X)
        for start in range(0, X.shape[0], chunk_rows):
            rows = slice(start, min(start + chunk_rows, X.shape[0]))
            self(X[rows, :], out=out[rows, :])
        return out

    def _uniform(self, shape):
        # float64 draws whatever the data's dtype: a level just below 1 would
        # round to 1 in float32, and masking would then erase every entry
        return self._rng.random(shape)
