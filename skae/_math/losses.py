"""Per-sample losses: value, gradient and the output-layer delta."""

# License: BSD-3-Clause

import math

import numpy as np
from scipy import sparse

from skae._math.activations import Identity, Sigmoid, Softmax
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
    The value is ``softplus(z) - t z``, the same quantity without ``log(0)``
    when the sigmoid saturates, with the softplus summed from the outputs the
    forward pass made (see :func:`_softplus_sum`): no exponential of its own.
    """

    name = "cross_entropy"

    def value(self, T, Y, Z):
        """Per-sample loss from the logits ``Z`` and the outputs ``Y``,
        shape ``(n_samples,)``."""
        return _softplus_sum(Z, Y, axis=1) - _rowwise_dot(T, Z)

    def gradient(self, T, Y):
        """``dL/dy = (y - t) / (y (1 - y))``; infinite where ``y`` saturates."""
        return _residual(Y, T) / (Y * (1 - Y))

    def output_delta(self, T, Y, Z, output):
        """``dL/dz = y - t``, the fused form of ``dL/dy * sigmoid'(z)``."""
        return self.loss_and_delta(T, Y, Z, output, 1.0)[1]

    def loss_and_delta(self, T, Y, Z, output, share, out=None, scratch=None):
        """Weighted loss ``sum_i s_i L_i`` and the output delta ``s_i (y_i - t_i)``.

        ``share`` is the scalar ``1 / n`` or a column of weights ``s_i``;
        ``out`` receives the delta and ``scratch`` a work array. With the
        scalar share only the total is needed, never a loss per sample.
        """
        if not isinstance(output, Sigmoid):
            raise ValueError(
                "The cross-entropy loss needs the sigmoid output activation, "
                f"got {output!r}."
            )
        if isinstance(share, float):
            loss = share * (_softplus_sum(Z, Y, out, scratch) - _dot(T, Z))
        else:
            losses = _softplus_sum(Z, Y, out, scratch, axis=1) - _rowwise_dot(T, Z)
            loss = share[:, 0] @ losses
        delta = _residual(Y, T, out=out)
        delta *= share
        return float(loss), delta


class CategoricalCrossEntropy:
    """Categorical cross-entropy ``-sum_k t_k log p_k`` of a softmax output.

    The negative log-likelihood of a categorical model whose class
    probabilities are ``p = softmax(z)`` (lecture: cross-entropy from maximum
    likelihood), for targets ``t`` that are one-hot rows or, more generally,
    non-negative weights of the classes. It requires the softmax output. From
    the logits it is ``(sum_k t_k) logsumexp(z) - t . z``, without ``log 0``
    where a probability underflows, and ``logsumexp(z)`` is read off the
    probabilities the forward pass made: ``max_k z_k - log max_k p_k``
    (``p`` is largest where ``z`` is, and there ``log p`` is at most
    ``log n_classes`` in size): no exponential of its own.
    """

    name = "categorical_cross_entropy"

    def value(self, T, Y, Z):
        """Per-sample loss from the logits ``Z`` and the probabilities ``Y``,
        shape ``(n_samples,)``."""
        return _target_sums(T) * _logsumexp(Z, Y) - _rowwise_dot(T, Z)

    def gradient(self, T, Y):
        """``dL/dp = -t / p``; infinite where a probability underflows."""
        return -T / Y

    def output_delta(self, T, Y, Z, output):
        """``dL/dz = (sum_k t_k) p - t``: ``p - t`` for one-hot targets."""
        return self.loss_and_delta(T, Y, Z, output, 1.0)[1]

    def loss_and_delta(self, T, Y, Z, output, share, out=None, scratch=None):
        """Weighted loss ``sum_i s_i L_i`` and the output delta
        ``s_i ((sum_k t_ik) p_i - t_i)``; ``share`` is the scalar ``1 / n`` or a
        column of weights ``s_i``, ``out`` receives the delta."""
        if not isinstance(output, Softmax):
            raise ValueError(
                "The categorical cross-entropy needs the softmax output "
                f"activation, got {output!r}."
            )
        ops = ops_for(Z)
        sums = _target_sums(T)
        if isinstance(share, float):  # the total only: two dot products
            loss = share * (float(ops.vdot(sums, _logsumexp(Z, Y))) - _dot(T, Z))
        else:
            losses = sums * _logsumexp(Z, Y) - _rowwise_dot(T, Z)
            loss = share[:, 0] @ losses
        delta = ops.multiply(Y, ops.reshape(sums, (-1, 1)), out=out)
        delta = _residual(delta, T, out=delta)
        delta *= share
        return float(loss), delta


LOSSES = {
    loss.name: loss for loss in (SquaredError, CrossEntropy, CategoricalCrossEntropy)
}


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


def _softplus_sum(Z, Y, out=None, scratch=None, axis=None):
    """``sum softplus(z)`` over all of the logits ``Z`` (``axis=None``) or over
    each row (``axis=1``), from the outputs ``Y = sigmoid(Z)`` of the forward pass.

    ``softplus(z) = max(z, 0) + log(1 + exp(-|z|))``, and ``1 + exp(-|z|)`` is
    ``1 / max(y, 1 - y)``: the second term is ``-log max(y, 1 - y)``, and its
    sum minus the log of a product (:func:`_sum_of_logs`). A subtraction and a
    maximum an entry, where ``exp`` and ``log1p`` an entry cost most of the
    loss (both are scalar loops in float64 on AVX2). Each entry is exact to
    about one unit in the last place of 1, absolutely, as the sum it enters
    needs: ``1 - y`` is exact for ``y >= 1/2`` and rounded to that for
    ``y < 1/2``. ``out`` and ``scratch`` receive work arrays.
    """
    ops = ops_for(Z)
    larger = ops.subtract(1, Y, out=scratch)
    larger = ops.maximum(Y, larger, out=larger)
    positive_part = ops.maximum(Z, 0.0, out=out)
    return ops.sum(positive_part, axis=axis) - _sum_of_logs(larger, axis)


def _sum_of_logs(V, axis=None):
    """``sum log V`` over all entries (``axis=None``) or each row (``axis=1``)
    of ``V`` in ``[1/2, 1]``, as the log of products: one ``log`` for each
    column of a block of rows (each row of a block of columns), a block as
    long as its product stays a normal number (1021 entries in float64, 125
    in float32). A product of ``k`` entries is within ``k`` units in the last
    place, which its log turns into an absolute error of about ``k * 1e-16``.
    """
    ops = ops_for(V)
    block = -math.floor(math.log2(float(ops.finfo(V.dtype).smallest_normal))) - 1
    n_rows, n_columns = V.shape
    if axis is None:
        return sum(
            float(ops.sum(ops.log(ops.prod(V[rows, :], axis=0))))
            for rows in _blocks(n_rows, block)
        )
    return sum(
        ops.log(ops.prod(V[:, columns], axis=1))
        for columns in _blocks(n_columns, block)
    )


def _blocks(n, size):
    """Slices of at most ``size`` covering ``range(n)``."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _logsumexp(Z, P):
    """``log sum_k exp z_k`` of each row, from the logits and their softmax
    ``P``: ``max_k z_k - log max_k p_k``."""
    ops = ops_for(Z)
    return ops.row_max(Z) - ops.log(ops.row_max(P))


def _target_sums(T):
    """``sum_k t_k`` of each row of the targets, dense or sparse: 1 for
    one-hot rows."""
    if type(T) is not np.ndarray and sparse.issparse(T):
        return np.asarray(T.sum(axis=1)).ravel()
    return ops_for(T).row_sums(T)


def _dot(T, Z):
    """``sum_ik t_ik z_ik``, for a dense or sparse ``T``."""
    if type(T) is np.ndarray and type(Z) is np.ndarray:
        return float(np.vdot(T, Z))
    return float(ops_for(Z).sum(_rowwise_dot(T, Z)))


def _rowwise_dot(T, Z):
    """``sum_k t_ik z_ik`` for each row, for a dense or sparse ``T``."""
    if type(T) is not np.ndarray and sparse.issparse(T):
        return np.asarray(sparse.csr_matrix(T).multiply(Z).sum(axis=1)).ravel()
    return ops_for(Z).rowwise_dot(T, Z)
