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

    def loss_and_gradient(self, theta, X, T, sample_weight=None):
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

        Returns
        -------
        loss : float
            ``J(theta)`` on the batch.
        gradient : ndarray of shape (n_params,)
            ``dJ/dtheta``, in the dtype of ``theta``.
        """
        activations, logits = self.network.forward(theta, X)
        Y = activations[-1]
        # share of each sample in the weighted mean: w_i / sum(w), or 1 / n
        if sample_weight is None:
            share = np.full((Y.shape[0], 1), 1 / Y.shape[0], dtype=Y.dtype)
        else:
            share = (sample_weight / sample_weight.sum()).astype(Y.dtype)[:, None]

        loss = self.loss.value(T, Y, logits) @ share[:, 0]
        output_delta = self.loss.output_delta(T, Y, logits, self.network.output)
        output_delta *= share

        activation_grads = {}
        if self.sparsity is not None:
            code = activations[self.sparse_layer]
            rho_hat = share[:, 0] @ code
            loss += self.sparsity.value(rho_hat)
            # d rho_hat_j / d h_ij = share_i
            activation_grads[self.sparse_layer] = share * self.sparsity.gradient(
                rho_hat
            )

        gradient = np.empty_like(theta)
        self.network.backward(
            theta, activations, output_delta, gradient, activation_grads
        )

        weights = self.network.weights(theta)
        loss += self.weight_decay.value(weights)
        self.weight_decay.add_gradient(weights, self.network.weights(gradient))
        return float(loss), gradient
