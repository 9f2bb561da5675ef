"""A layered network on one flat parameter vector: init, forward, backward."""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse


class Network:
    """A fully connected feed-forward network whose parameters live in one vector.

    Layout is scikit-learn's: samples are rows, layer ``l`` maps
    ``A_l`` of shape ``(n_samples, n_l)`` to ``A_{l+1} = f(A_l W_l + b_l)``
    with ``W_l`` of shape ``(n_l, n_{l+1})``; the lecture's ``Z = W A + B``
    with samples as columns is the transpose of this. All ``W_l`` and ``b_l``
    are views of one flat vector ``theta``, laid out layer by layer as
    ``W_0, b_0, W_1, b_1, ...``.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths ``(n_0, n_1, ..., n_L)``, input first and output last.
    hidden : Activation
        Activation of every hidden layer.
    output : Activation
        Activation of the output layer.
    """

    def __init__(self, layer_sizes, hidden, output):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.hidden = hidden
        self.output = output
        self.n_layers = len(self.layer_sizes) - 1
        # (start of W, start of b, end of b) of each layer in theta
        self._offsets = []
        start = 0
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            self._offsets.append(
                (start, start + n_in * n_out, start + (n_in + 1) * n_out)
            )
            start += (n_in + 1) * n_out
        self.n_params = start

    def activation(self, layer):
        """Activation function of layer ``layer`` (0-based, output last)."""
        return self.output if layer == self.n_layers - 1 else self.hidden

    def unflatten(self, theta):
        """Return ``[(W_0, b_0), (W_1, b_1), ...]``, views of the flat ``theta``."""
        layers = []
        for (w, b, end), n_in, n_out in zip(
            self._offsets, self.layer_sizes[:-1], self.layer_sizes[1:]
        ):
            layers.append((theta[w:b].reshape(n_in, n_out), theta[b:end]))
        return layers

    def weights(self, theta):
        """Return the weight matrices ``W_l`` (views), without the biases."""
        return [W for W, _ in self.unflatten(theta)]

    def initialize(self, random_state, dtype):
        """Draw initial parameters: Glorot-uniform weights and zero biases.

        Parameters
        ----------
        random_state : numpy.random.RandomState
            Source of randomness.
        dtype : numpy dtype
            Floating dtype of the parameters.

        Returns
        -------
        theta : ndarray of shape (n_params,)
        """
        theta = np.zeros(self.n_params, dtype=dtype)
        for W, _ in self.unflatten(theta):
            bound = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
            W[...] = random_state.uniform(-bound, bound, size=W.shape)
        return theta

    def forward(self, theta, X, start=0, stop=None):
        """Run layers ``start`` to ``stop - 1`` on the input ``X``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        X : {ndarray, sparse matrix} of shape (n_samples, layer_sizes[start])
            Input of layer ``start``.
        start, stop : int
            First layer and one past the last layer to run (default: all).

        Returns
        -------
        activations : list of ndarray
            ``[X, A_{start+1}, ..., A_stop]``.
        logits : ndarray
            Pre-activations ``Z`` of the last layer run, which the
            cross-entropy needs to stay finite when the sigmoid saturates.
        """
        stop = self.n_layers if stop is None else stop
        activations = [X]
        logits = X
        for layer, (W, b) in enumerate(self.unflatten(theta)[start:stop], start):
            logits = activations[-1] @ W
            logits += b
            activations.append(self.activation(layer).forward(logits))
        return activations, logits

    def backward(
        self, theta, activations, output_delta, gradient, activation_grads=None
    ):
        """Backpropagate ``output_delta`` and write the gradient into ``gradient``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        activations : list of ndarray
            Output of :meth:`forward` over the whole network.
        output_delta : ndarray of shape (n_samples, n_outputs)
            ``dJ/dZ_L`` at the output layer.
        gradient : ndarray of shape (n_params,)
            Filled with ``dJ/dtheta``, laid out as ``theta``.
        activation_grads : dict of int to ndarray, default=None
            Extra terms ``dJ/dA_l`` from penalties on hidden activations,
            keyed by the index ``l`` in ``activations``; added to the
            backpropagated error before the activation's derivative, as the
            sparse autoencoder's delta requires.
        """
        activation_grads = activation_grads or {}
        layers = self.unflatten(theta)
        grads = self.unflatten(gradient)
        delta = output_delta
        for layer in reversed(range(self.n_layers)):
            W, _ = layers[layer]
            dW, db = grads[layer]
            A = activations[layer]
            if sparse.issparse(A):
                dW[...] = A.T @ delta
            else:
                np.matmul(A.T, delta, out=dW)
            delta.sum(axis=0, out=db)
            if layer > 0:
                error = delta @ W.T
                if layer in activation_grads:
                    error += activation_grads[layer]
                delta = error * self.activation(layer - 1).derivative(A)
