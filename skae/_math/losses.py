"""Per-sample losses: value, gradient and the output-layer delta."""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse

from skae._math.activations import Identity, Sigmoid, _softplus
from skae._math.array_api import ops_for


class SquaredError:
    """Squared error ``L(t, y) = ||t - y||^2``, summed over outputs.

    The negative log-likelihood of a Gaussian with fixed variance, up to
    constants (lecture: the maximum-likelihood derivation of MSE).
    """

    name = "squared_error"

    def value(self, T, Y, Z):
        """Per-sample loss, an array of shape ``(n_samples,)``."""
        residual = _residual(Y, T)
        return ops_for(residual).rowwise_dot(residual, residual)

    def gradient(self, T, Y):
        """``dL/dy = 2 (y - t)``."""
        residual = _residual(Y, T)
        residual *= 2
        return residual

    def output_delta(self, T, Y, Z, output):
        """``dL/dz`` at the output: fused ``2 (y - t)`` for an identity output,
        the chain rule ``2 (y - t) g'(z)`` for any other (UFLDL's sigmoid)."""
        return self.loss_and_delta(T, Y, Z, output, 1.0)[1]

    def loss_and_delta(self, T, Y, Z, output, share, out=None, scratch=None):
        """Weighted loss ``sum_i s_i L_i`` and the output delta ``s_i dL_i/dz_i``.

        ``share`` is the scalar ``1 / n`` or a column of weights ``s_i``;
        ``out`` receives the delta and ``scratch`` the output derivative.
        """
        delta = _residual(Y, T, out=out)
        ops = ops_for(delta)
        if isinstance(share, float):
            loss = share * ops.vdot(delta, delta)
        else:
            loss = share[:, 0] @ ops.rowwise_dot(delta, delta)
        delta *= 2 * share
        if not isinstance(output, Identity):
            delta *= output.derivative(Y, out=scratch)
        return float(loss), delta


class CrossEntropy:
    """Bernoulli cross-entropy ``-sum_k [t_k log y_k + (1 - t_k) log(1 - y_k)]``.

    It requires a sigmoid output ``y = sigmoid(z)`` and targets in ``[0, 1]``.
    The value is computed from the logits as ``softplus(z) - t z``, which is the
    same quantity without ``log(0)`` when the sigmoid saturates.
    """

    name = "cross_entropy"

    def value(self, T, Y, Z):
        """Per-sample loss from the logits ``Z``, shape ``(n_samples,)``."""
        return ops_for(Z).sum(_softplus(Z), axis=1) - _rowwise_dot(T, Z)

    def gradient(self, T, Y):
        """``dL/dy = (y - t) / (y (1 - y))``; infinite where ``y`` saturates."""
        return _residual(Y, T) / (Y * (1 - Y))

    def output_delta(self, T, Y, Z, output):
        """``dL/dz = y - t``, the fused form of ``dL/dy * sigmoid'(z)``."""
        return self.loss_and_delta(T, Y, Z, output, 1.0)[1]

    def loss_and_delta(self, T, Y, Z, output, share, out=None, scratch=None):
        """Weighted loss ``sum_i s_i L_i`` and the output delta ``s_i (y_i - t_i)``.

        ``share`` is the scalar ``1 / n`` or a column of weights ``s_i``;
        ``out`` receives the delta (and, before it, the softplus of ``Z``).
        """
        if not isinstance(output, Sigmoid):
            raise ValueError(
                "The cross-entropy loss needs the sigmoid output activation, "
                f"got {output!r}."
            )
        ops = ops_for(Z)
        losses = ops.sum(_softplus(Z, out=out), axis=1) - _rowwise_dot(T, Z)
        loss = (
            share * ops.sum(losses)
            if isinstance(share, float)
            else share[:, 0] @ losses
        )
        delta = _residual(Y, T, out=out)
        delta *= share
        return float(loss), delta


LOSSES = {loss.name: loss for loss in (SquaredError, CrossEntropy)}


def _residual(Y, T, out=None):
    """``Y - T`` into ``out`` (a new array by default); a sparse ``T`` (an
    autoencoder's sparse input) is subtracted entry by entry, never densified."""
    if type(T) is np.ndarray:  # the fast path: issparse costs more than this
        return np.subtract(Y, T, out=out)
    if not sparse.issparse(T):
        return ops_for(Y).subtract(Y, T, out=out)
    if out is None:
        out = Y.copy()
    elif out is not Y:
        np.copyto(out, Y)
    T = sparse.coo_matrix(T)
    T.sum_duplicates()
    out[T.row, T.col] -= T.data
    return out


def _rowwise_dot(T, Z):
    """``sum_k t_ik z_ik`` for each row, for a dense or sparse ``T``."""
    if type(T) is not np.ndarray and sparse.issparse(T):
        return np.asarray(sparse.csr_matrix(T).multiply(Z).sum(axis=1)).ravel()
    return ops_for(Z).rowwise_dot(T, Z)
