"""Per-sample losses: value, gradient and the output-layer delta."""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse

from skae.activations import Identity, Sigmoid


def _residual(Y, T):
    """``Y - T`` as a new dense array; a sparse ``T`` (an autoencoder's sparse
    input) is subtracted entry by entry, never densified."""
    if not sparse.issparse(T):
        return Y - T
    T = sparse.coo_matrix(T)
    T.sum_duplicates()
    residual = Y.copy()
    residual[T.row, T.col] -= T.data
    return residual


def _rowwise_dot(T, Z):
    """``sum_k t_ik z_ik`` for each row, for a dense or sparse ``T``."""
    if sparse.issparse(T):
        return np.asarray(sparse.csr_matrix(T).multiply(Z).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", T, Z)


class SquaredError:
    """Squared error ``L(t, y) = ||t - y||^2``, summed over outputs.

    The negative log-likelihood of a Gaussian with fixed variance, up to
    constants (lecture: the maximum-likelihood derivation of MSE).
    """

    name = "squared_error"

    def value(self, T, Y, Z):
        """Per-sample loss, an array of shape ``(n_samples,)``."""
        residual = _residual(Y, T)
        return np.einsum("ij,ij->i", residual, residual)

    def gradient(self, T, Y):
        """``dL/dy = 2 (y - t)``."""
        residual = _residual(Y, T)
        residual *= 2
        return residual

    def output_delta(self, T, Y, Z, output):
        """``dL/dz`` at the output: fused ``2 (y - t)`` for an identity output,
        the chain rule ``2 (y - t) g'(z)`` for any other (UFLDL's sigmoid)."""
        if isinstance(output, Identity):
            return self.gradient(T, Y)
        return self.gradient(T, Y) * output.derivative(Y)


class CrossEntropy:
    """Bernoulli cross-entropy ``-sum_k [t_k log y_k + (1 - t_k) log(1 - y_k)]``.

    It requires a sigmoid output ``y = sigmoid(z)`` and targets in ``[0, 1]``.
    The value is computed from the logits as ``softplus(z) - t z``, which is the
    same quantity without ``log(0)`` when the sigmoid saturates.
    """

    name = "cross_entropy"

    def value(self, T, Y, Z):
        """Per-sample loss from the logits ``Z``, shape ``(n_samples,)``."""
        return np.logaddexp(0, Z).sum(axis=1) - _rowwise_dot(T, Z)

    def gradient(self, T, Y):
        """``dL/dy = (y - t) / (y (1 - y))``; infinite where ``y`` saturates."""
        return _residual(Y, T) / (Y * (1 - Y))

    def output_delta(self, T, Y, Z, output):
        """``dL/dz = y - t``, the fused form of ``dL/dy * sigmoid'(z)``."""
        if not isinstance(output, Sigmoid):
            raise ValueError(
                "The cross-entropy loss needs the sigmoid output activation, "
                f"got {output!r}."
            )
        return _residual(Y, T)


LOSSES = {loss.name: loss for loss in (SquaredError, CrossEntropy)}
