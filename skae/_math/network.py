"""A layered network on one flat parameter vector: init, forward, backward."""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse

from skae._math.activations import Identity
from skae._math.array_api import ops_for
from skae._math.workspace import Workspace


class Network:
    """A fully connected feed-forward network whose parameters live in one vector.

    Layout is scikit-learn's: samples are rows, layer ``l`` maps
    ``A_l`` of shape ``(n_samples, n_l)`` to ``A_{l+1} = f(A_l W_l + b_l)``
    with ``W_l`` of shape ``(n_l, n_{l+1})``; the lecture's ``Z = W A + B``
    with samples as columns is the transpose of this. All ``W_l`` and ``b_l``
    are views of one flat vector ``theta``, laid out as
    ``W_0, W_1, ..., W_{L-1}, b_0, b_1, ..., b_{L-1}``: the weights come first,
    so the weight decay acts on one contiguous slice.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths ``(n_0, n_1, ..., n_L)``, input first and output last.
    hidden : Activation or sequence of Activation
        Activation of every hidden layer, or of each (one per hidden layer,
        bottom first).
    output : Activation
        Activation of the output layer.
    tied : bool, default=False
        For a mirrored autoencoder, ``layer_sizes`` symmetric: each decoder
        layer uses the transpose of its mirror encoder layer's weights
        (``W~ = W^T``), so only the encoder's weights are parameters.
    stochastic : int, default=None
        A variational autoencoder's stochastic layer: the index ``p`` of the
        activations that are the mean and log-variance ``[mu | log sigma^2]``
        of a diagonal Gaussian (``layer_sizes[p] = 2k``, the layer before it
        linear), whose draw ``z = mu + sigma * eps`` of ``k`` units
        (:class:`~skae._math.stochastic.GaussianDraw`) is the input of layer
        ``p`` (Kingma and Welling, 2014: the reparameterisation).
    """

    def __init__(self, layer_sizes, hidden, output, tied=False, stochastic=None):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.output = output
        self.tied = tied
        self.stochastic = stochastic
        self.n_layers = len(self.layer_sizes) - 1
        if tied and (self.layer_sizes != self.layer_sizes[::-1] or self.n_layers % 2):
            raise ValueError(
                f"Tied weights need mirrored layer sizes, got {self.layer_sizes}."
            )
        if stochastic is not None and (
            tied
            or not 0 < stochastic < self.n_layers
            or self.layer_sizes[stochastic] % 2
        ):
            raise ValueError(
                f"A stochastic layer is a hidden layer of even width (a mean and a "
                f"log-variance per unit), untied; got layer {stochastic} of "
                f"{self.layer_sizes}, tied={tied}."
            )
        # each layer's input width: the draw's k units after the stochastic layer
        self._in_widths = [
            n // 2 if layer == stochastic else n
            for layer, n in enumerate(self.layer_sizes[:-1])
        ]
        # the layer whose weights each layer uses: itself, or its mirror
        self._owner = [
            self.n_layers - 1 - layer if tied and layer >= self.n_layers // 2 else layer
            for layer in range(self.n_layers)
        ]
        shapes = list(zip(self._in_widths, self.layer_sizes[1:]))
        self.n_weights = sum(
            n_in * n_out
            for layer, (n_in, n_out) in enumerate(shapes)
            if self._owner[layer] == layer
        )
        self.n_params = self.n_weights + sum(self.layer_sizes[1:])
        # (start of W, start of b) of each layer in theta; a layer that uses
        # its mirror's weights has no weights of its own (start None)
        self._offsets = []
        w_start, b_start = 0, self.n_weights
        for layer, (n_in, n_out) in enumerate(shapes):
            owns = self._owner[layer] == layer
            self._offsets.append((w_start if owns else None, b_start))
            w_start += n_in * n_out if owns else 0
            b_start += n_out
        self._views = {}
        if isinstance(hidden, (list, tuple)):
            if len(hidden) != self.n_layers - 1:
                raise ValueError(
                    f"One activation per hidden layer: got {len(hidden)} for the "
                    f"{self.n_layers - 1} hidden layers of {self.layer_sizes}."
                )
            self._activations = [*hidden, output]
        else:
            self._activations = [hidden] * (self.n_layers - 1) + [output]
        if stochastic is not None:  # the Gaussian's parameters are unconstrained
            self._activations[stochastic - 1] = Identity()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_views"] = {}  # a cache of views of arrays that are not ours
        return state

    @property
    def hidden_activations(self):
        """The activation of each hidden layer, bottom first."""
        return self._activations[:-1]

    def activation(self, layer):
        """Activation function of layer ``layer`` (0-based, output last)."""
        return self._activations[layer]

    def unflatten(self, theta):
        """Return ``[(W_0, b_0), (W_1, b_1), ...]``, views of the flat ``theta``."""
        # training passes the same parameter and gradient vectors at every
        # step: their views are made once (a few microseconds a step saved)
        cached = self._views.get(id(theta))
        if cached is not None and cached[0] is theta:
            return cached[1]
        layers = []
        for layer, ((w, b), n_in, n_out) in enumerate(
            zip(self._offsets, self._in_widths, self.layer_sizes[1:])
        ):
            if w is None:  # tied: the transpose of the mirror encoder's weights
                W = layers[self._owner[layer]][0].T
            else:
                W = ops_for(theta).reshape(theta[w : w + n_in * n_out], (n_in, n_out))
            layers.append((W, theta[b : b + n_out]))
        if len(self._views) >= 4:
            self._views.clear()
        self._views[id(theta)] = (theta, layers)
        return layers

    def weights(self, theta):
        """Return the weight matrices ``W_l`` (views), without the biases; with
        tied weights the decoder's are transposed views of the encoder's."""
        return [W for W, _ in self.unflatten(theta)]

    def flat_weights(self, theta):
        """All weights, without the biases, as one 1-D view of ``theta``."""
        return theta[: self.n_weights]

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
        layers = self.unflatten(theta)
        for layer, (W, _) in enumerate(layers):
            if self._owner[layer] == layer:
                bound = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
                W[...] = random_state.uniform(-bound, bound, size=W.shape)
        return theta

    def workspace(self, n_rows, dtype):
        """Work arrays for batches of up to ``n_rows`` samples, reused every step."""
        return Workspace(self.layer_sizes, n_rows, dtype)

    def forward(
        self, theta, X, start=0, stop=None, workspace=None, draw=None, dropout=None
    ):
        """Run layers ``start`` to ``stop - 1`` on the input ``X``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        X : {ndarray, sparse matrix} of shape (n_samples, layer_sizes[start])
            Input of layer ``start``.
        start, stop : int
            First layer and one past the last layer to run (default: all).
        workspace : Workspace, default=None
            Buffers to compute in; by default new arrays are allocated.
        draw : GaussianDraw, default=None
            With a stochastic layer run through (``start < p < stop``): the
            draw of ``z`` from its activations, kept for :meth:`backward`. By
            default the layer after it gets the mean ``mu``.
        dropout : Dropout, default=None
            During training, the masks of the dropped hidden layers: each
            such layer's input is ``a * m``, kept for :meth:`backward`.

        Returns
        -------
        activations : list of ndarray
            ``[X, A_{start+1}, ..., A_stop]``; at a stochastic layer ``A_p``
            is ``[mu | log sigma^2]``, not the draw.
        logits : ndarray
            Pre-activations ``Z`` of the last layer run, which the
            cross-entropy needs to stay finite when the sigmoid saturates.
        """
        stop = self.n_layers if stop is None else stop
        layers = self.unflatten(theta)
        activations = [X]
        logits = X
        for layer in range(start, stop):
            W, b = layers[layer]
            out = None if workspace is None else workspace.logits[layer]
            A = activations[-1]
            if layer == self.stochastic and layer > start:  # z from mu, log sigma^2
                A = _mean(A) if draw is None else draw.forward(A)
            elif dropout is not None and layer in dropout:
                A = dropout.forward(layer, A)
            logits = _product(A, W, out)
            logits += b
            activation = self.activation(layer)
            if layer < self.n_layers - 1:
                # hidden layers: the activation overwrites its own logits
                activations.append(activation.forward(logits, out=logits))
            elif isinstance(activation, Identity):
                activations.append(logits)  # no copy of the output
            else:
                out = None if workspace is None else workspace.output
                activations.append(activation.forward(logits, out=out))
        return activations, logits

    def forward_chunks(self, theta, X, rows, start=0, stop=None):
        """Yield ``(row slice, activations of layer stop)`` for chunks of at
        most ``rows`` rows of ``X`` (the input of layer ``start``)."""
        if X.shape[0] > rows and sparse.issparse(X):
            X = X.tocsr()  # CSC rows: all entries a slice
        for first in range(0, max(X.shape[0], 1), rows):
            chunk = slice(first, min(first + rows, X.shape[0]))
            part = X if chunk.stop - chunk.start == X.shape[0] else X[chunk, :]
            activations, _ = self.forward(theta, part, start, stop)
            yield chunk, activations[-1]

    def forward_chunked(self, theta, X, rows, start=0, stop=None, then=None):
        """Activations of layer ``stop`` (default: the output) for all of
        ``X``, computed ``rows`` rows at a time: the only array of all the
        rows is the result. ``then``, if given, maps each chunk's
        activations to the chunk of the result (a column slice, the next
        layer's logits)."""
        chunks = self.forward_chunks(theta, X, rows, start, stop)
        chunk, A = next(chunks)
        if then is not None:
            A = then(A)
        if chunk.stop >= X.shape[0]:  # one chunk
            return A
        out = ops_for(A).empty_for((X.shape[0], A.shape[1]), A)
        out[chunk, :] = A
        for chunk, A in chunks:
            out[chunk, :] = A if then is None else then(A)
        return out

    def backward(
        self,
        theta,
        activations,
        output_delta,
        gradient,
        activation_grads=None,
        workspace=None,
        draw=None,
        dropout=None,
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
            keyed by the index ``l`` in ``activations`` and broadcastable to
            its shape; added to the backpropagated error before the
            activation's derivative, as the sparse autoencoder's delta requires.
        workspace : Workspace, default=None
            Buffers to compute in; by default new arrays are allocated.
        draw : GaussianDraw, default=None
            The draw :meth:`forward` made at the stochastic layer (None: it
            passed the mean on).
        dropout : Dropout, default=None
            The masks :meth:`forward` applied to hidden layers.
        """
        activation_grads = activation_grads or {}
        ops = ops_for(gradient)
        layers = self.unflatten(theta)
        grads = self.unflatten(gradient)
        delta = output_delta
        for layer in reversed(range(self.n_layers)):
            W, _ = layers[layer]
            dW, db = grads[layer]
            A = activations[layer]
            sampled = layer == self.stochastic
            dropped = dropout is not None and layer in dropout
            if sampled:  # the layer's input was the draw z, or the mean
                A = _mean(A) if draw is None else draw.z
            elif dropped:  # the layer's input was a * m
                A = dropout.inputs[layer]
            owner = self._owner[layer]
            if owner != layer:
                # tied decoder layer, first to reach the shared weights: its
                # gradient, transposed, into its mirror's (contiguous) slot
                _weight_gradient(ops, A, delta, out=grads[owner][0], transposed=True)
            elif self.tied:
                dW += _weight_gradient(ops, A, delta)  # the encoder's own share
            else:
                _weight_gradient(ops, A, delta, out=dW)
            ops.sum(delta, axis=0, out=db)
            if layer == 0:
                break
            error = derivative = None
            if workspace is not None:
                error = workspace.errors[layer - 1]
                derivative = workspace.derivatives[layer - 1]
            if sampled:  # dJ/dz, then through the draw to [mu | log sigma^2]
                error = _through_draw(ops.matmul(delta, W.T), draw, out=error)
            elif W.shape[1] == 1:
                # an outer product: a matrix product with inner dimension 1
                # runs far below speed, broadcasting does not
                error = ops.multiply(delta, W.T, out=error)
            else:
                error = ops.matmul(delta, W.T, out=error)
            if dropped:  # dJ/da from dJ/d(a * m)
                error = dropout.backward(layer, error)
            if layer in activation_grads:
                error += activation_grads[layer]
            output = activations[layer]  # of layer - 1: [mu | log sigma^2] too
            error *= self.activation(layer - 1).derivative(output, out=derivative)
            delta = error


def _mean(H):
    """The mean ``mu``, the first half of a stochastic layer's activations."""
    return H[:, : H.shape[1] // 2]


def _through_draw(dz, draw, out=None):
    """``dJ/d[mu | log sigma^2]`` from ``dJ/dz``: the draw's backward pass, or
    ``[dJ/dz | 0]`` where the mean was passed on."""
    if draw is not None:
        return draw.backward(dz, out=out)
    ops = ops_for(dz)
    return ops.concat_columns([dz, ops.zeros_like(dz)], out=out)


def _weight_gradient(ops, A, delta, out=None, transposed=False):
    """``A.T @ delta`` (or its transpose ``delta.T @ A``) into ``out``."""
    if type(A) is not np.ndarray and sparse.issparse(A):  # layer 0, never tied
        if out is None:
            return A.T @ delta
        out[...] = A.T @ delta
        return out
    left, right = (delta.T, A) if transposed else (A.T, delta)
    if A.shape[0] == 1:  # one sample (SGD): an outer product, by broadcasting
        return ops.multiply(left, right, out=out)
    return ops.matmul(left, right, out=out)


def _product(A, W, out):
    """``A @ W`` into ``out`` (if given), for a dense or sparse ``A``."""
    # a type test is much cheaper than sparse.issparse, per step
    if type(A) is np.ndarray:
        return np.matmul(A, W, out=out)
    if sparse.issparse(A):
        return A @ W  # sparse times dense allocates its result
    return ops_for(A).matmul(A, W, out=out)
