"""The training objective J(theta): data term plus penalties, and its gradient."""

# License: BSD-3-Clause

import numpy as np


class Objective:
    """The penalised loss that every solver minimises.

    .. math::

        J(\\theta) = \\frac{1}{\\sum_i w_i} \\sum_i w_i L(t_i, y_i)
                    + \\lambda \\sum_l \\|W_l\\|_F^2
                    + \\beta \\sum_j \\mathrm{KL}(\\rho \\| \\hat\\rho_j)

    Parameters
    ----------
    network : Network
        Architecture and activations.
    loss : SquaredError or CrossEntropy
        Per-sample loss ``L``.
    weight_decay : WeightDecay
        The L2 penalty on the weights.
    sparsity : KLSparsity, default=None
        The KL penalty on the mean activations of one hidden layer.
    sparse_layer : int, default=None
        Index in the network's activations of the layer ``sparsity`` acts on.
    """

    def __init__(self, network, loss, weight_decay, sparsity=None, sparse_layer=None):
        self.network = network
        self.loss = loss
        self.weight_decay = weight_decay
        self.sparsity = sparsity
        self.sparse_layer = sparse_layer

    def sample_losses(self, theta, X, T):
        """Per-sample data loss ``L(t_i, y_i)``, shape ``(n_samples,)``."""
        activations, logits = self.network.forward(theta, X)
        return self.loss.value(T, activations[-1], logits)

    def loss_and_gradient(self, theta, X, T, sample_weight=None, out=None):
        """Return ``J(theta)`` and its gradient with respect to ``theta``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Inputs of the batch.
        T : {ndarray, sparse matrix} of shape (n_samples, n_outputs)
            Targets of the batch.
        sample_weight : ndarray of shape (n_samples,), default=None
            Weights ``w_i``; all ones when None.
        out : ndarray of shape (n_params,), default=None
            Array to write the gradient into; by default a new one.

        Returns
        -------
        loss : float
            ``J(theta)`` on the batch.
        gradient : ndarray of shape (n_params,)
            ``dJ/dtheta``, in the dtype of ``theta``.
        """
        n_samples = X.shape[0]
        workspace = self._workspace(n_samples, theta.dtype)
        activations, logits = self.network.forward(theta, X, workspace=workspace)
        share = _share(n_samples, sample_weight, theta.dtype)
        loss, output_delta = self.loss.loss_and_delta(
            T,
            activations[-1],
            logits,
            self.network.output,
            share,
            out=workspace.output_delta,
            scratch=workspace.derivatives[-1],
        )

        activation_grads = {}
        if self.sparsity is not None:
            rho_hat = self._mean_code(activations, share)
            loss += self.sparsity.value(rho_hat)
            # d rho_hat_j / d h_ij = share_i; a row broadcasts when it is 1 / n
            kl_gradient = self.sparsity.gradient(rho_hat).astype(theta.dtype)
            activation_grads[self.sparse_layer] = share * kl_gradient[None, :]

        gradient = np.empty_like(theta) if out is None else out
        self.network.backward(
            theta, activations, output_delta, gradient, activation_grads, workspace
        )

        weights = self.network.flat_weights(theta)
        loss += self.weight_decay.value(weights)
        self.weight_decay.add_gradient(weights, self.network.flat_weights(gradient))
        return float(loss), gradient

    def value(self, theta, X, T, sample_weight=None):
        """Return ``J(theta)`` on a batch without the gradient: a forward pass."""
        workspace = self._workspace(X.shape[0], theta.dtype)
        activations, logits = self.network.forward(theta, X, workspace=workspace)
        share = _share(X.shape[0], sample_weight, theta.dtype)
        losses = self.loss.value(T, activations[-1], logits)
        loss = (
            share * losses.sum() if isinstance(share, float) else share[:, 0] @ losses
        )
        if self.sparsity is not None:
            loss += self.sparsity.value(self._mean_code(activations, share))
        return float(loss) + self.weight_decay.value(self.network.flat_weights(theta))

    def _mean_code(self, activations, share):
        """``rho_hat``: the (weighted) mean activation of the sparse layer."""
        code = activations[self.sparse_layer]
        return code.mean(axis=0) if isinstance(share, float) else share[:, 0] @ code

    def _workspace(self, n_samples, dtype):
        """Buffers for this batch size, kept from one step to the next."""
        workspace = getattr(self, "_buffers", None)
        if workspace is None or not workspace.fits(n_samples, dtype):
            workspace = self._buffers = self.network.workspace(n_samples, dtype)
        return workspace.rows(n_samples)


def _share(n_samples, sample_weight, dtype):
    """Each sample's share of the weighted mean: ``w_i / sum(w)``, or ``1 / n``
    as a Python float (which keeps float32 arithmetic in float32)."""
    if sample_weight is None:
        return 1.0 / n_samples
    return (sample_weight / sample_weight.sum()).astype(dtype)[:, None]
