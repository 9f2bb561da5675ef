"""The training objective J(theta): data term plus penalties, and its gradient."""

# License: BSD-3-Clause

import numpy as np
from sklearn import get_config

from skae._math.array_api import ops_for, reused_or_empty_like
from skae._math.namespaces import numpy_dtype, rows_sliceable
from skae._math.stochastic import GaussianDraw, GaussianNoise


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
    chunk_rows : int, default=None
        Most rows computed at once; a larger batch is computed chunk by chunk
        with the same result. By default :func:`chunk_rows` of scikit-learn's
        ``working_memory``, read at each call (training sets it once a fit).
    latent_kl : GaussianKL, default=None
        A variational autoencoder's KL term, on the activations of the
        network's stochastic layer, a term of each sample:
        ``J = (1 / sum_i w_i) sum_i w_i (L_i + beta KL_i) + lambda sum ||W||^2``.
    latent_noise : GaussianNoise, default=None
        Where the ``eps`` of the network's stochastic layer comes from; each
        evaluation restarts it (a fixed stream gives a deterministic J).
        Without it the stochastic layer passes its mean on.
    dropout : DropoutMasks, default=None
        Training's dropout on hidden layers: each evaluation of ``J`` and its
        gradient (:meth:`loss_and_gradient`, :meth:`value`) draws the masks of
        its rows; :meth:`sample_losses`, which scores, never drops.
    """

    def __init__(
        self,
        network,
        loss,
        weight_decay,
        sparsity=None,
        sparse_layer=None,
        chunk_rows=None,
        latent_kl=None,
        latent_noise=None,
        dropout=None,
    ):
        self.network = network
        self.dropout = dropout
        self.chunk_rows = chunk_rows
        self.loss = loss
        self.weight_decay = weight_decay
        self.sparsity = sparsity
        self.sparse_layer = sparse_layer
        self.latent_kl = latent_kl
        self.latent_noise = latent_noise
        # with a KL term: J's parts at the latest evaluation, the (weighted)
        # mean reconstruction loss and KL (without beta), which training records
        self.last_terms = None

    def sample_losses(self, theta, X, T):
        """Per-sample data loss ``L(t_i, y_i)``, shape ``(n_samples,)``,
        computed chunk by chunk (see :attr:`chunk_rows`); through the draw of
        a stochastic layer, whose noise restarts."""
        X, T = rows_sliceable(X, T)
        losses = ops_for(theta).empty_for((X.shape[0],), theta)
        self._restart_noise()
        for rows in self._chunks(X.shape[0], theta.dtype):
            X_rows, T_rows = _take_pair(X, T, rows)
            activations, logits = self.network.forward(
                theta,
                X_rows,
                workspace=self._workspace(_n(rows), theta),
                draw=self._draw(_n(rows), theta),
            )
            losses[rows] = self.loss.value(T_rows, activations[-1], logits)
        return losses

    def loss_and_gradient(self, theta, X, T, sample_weight=None, out=None):
        """Return ``J(theta)`` and its gradient with respect to ``theta``.

        A batch of more than :attr:`chunk_rows` samples is computed chunk by
        chunk, the gradient accumulated into ``out``: the same result, with
        the memory of one chunk. The KL term needs ``rho_hat`` over the whole
        batch first, so it then costs one more forward pass to the code.

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
        ops = ops_for(theta)
        share = _share(n_samples, sample_weight, theta)
        gradient = ops.empty_like(theta) if out is None else out
        self._restart_noise()
        self._begin_terms()
        if n_samples <= (self.chunk_rows or chunk_rows(self.network, theta.dtype)):
            # a mini-batch: one pass, rho_hat on the way
            loss = self._data_term(theta, X, T, share, gradient, kl_gradient=None)
        else:
            X, T = rows_sliceable(X, T)
            chunks = self._chunks(n_samples, theta.dtype)
            kl_gradient = None
            loss = 0.0
            if self.sparsity is not None:
                rho_hat = self._mean_code(theta, X, share, chunks)
                loss += self.sparsity.value(rho_hat)
                kl_gradient = ops.astype(self.sparsity.gradient(rho_hat), theta.dtype)
            # a gradient-sized array for the chunks after the first
            scratch = self._scratch = reused_or_empty_like(
                getattr(self, "_scratch", None), theta
            )
            for index, rows in enumerate(chunks):
                target = gradient if index == 0 else scratch
                loss += self._data_term(
                    theta,
                    *_take_pair(X, T, rows),
                    _rows_of(share, rows),
                    target,
                    kl_gradient,
                )
                if index:
                    gradient += scratch

        weights = self.network.flat_weights(theta)
        loss += self.weight_decay.value(weights)
        self.weight_decay.add_gradient(weights, self.network.flat_weights(gradient))
        return float(loss), gradient

    def _data_term(self, theta, X, T, share, gradient, kl_gradient):
        """The loss of these rows (``share`` their weights in the whole batch)
        and its gradient, written into ``gradient``; without ``kl_gradient``
        the KL term of these rows alone is added too (the batch is whole)."""
        workspace = self._workspace(X.shape[0], theta)
        draw = self._draw(X.shape[0], theta)
        dropout = self._dropout(X.shape[0], theta)
        activations, logits = self.network.forward(
            theta, X, workspace=workspace, draw=draw, dropout=dropout
        )
        loss, output_delta = self.loss.loss_and_delta(
            T,
            activations[-1],
            logits,
            self.network.output,
            share,
            out=None if workspace is None else workspace.output_delta,
            scratch=None if workspace is None else workspace.derivatives[-1],
        )
        activation_grads = {}
        if self.sparsity is not None:
            if kl_gradient is None:
                rho_hat = _weighted_mean(activations[self.sparse_layer], share)
                loss += self.sparsity.value(rho_hat)
                kl_gradient = ops_for(theta).astype(
                    self.sparsity.gradient(rho_hat), theta.dtype
                )
            # d rho_hat_j / d h_ij = share_i; a row broadcasts when it is 1 / n
            activation_grads[self.sparse_layer] = share * kl_gradient[None, :]
        if self.latent_kl is not None:
            H = activations[self.network.stochastic]
            kl = self.latent_kl.mean(H, share)
            self._add_terms(loss, kl)
            loss += self.latent_kl.strength * kl
            activation_grads[self.network.stochastic] = self.latent_kl.gradient(
                H, share
            )
        self.network.backward(
            theta,
            activations,
            output_delta,
            gradient,
            activation_grads,
            workspace,
            draw=draw,
            dropout=dropout,
        )
        return loss

    def value(self, theta, X, T, sample_weight=None):
        """Return ``J(theta)`` on a batch without the gradient: a forward pass
        (chunk by chunk, see :attr:`chunk_rows`)."""
        X, T = rows_sliceable(X, T)
        ops = ops_for(theta)
        share = _share(X.shape[0], sample_weight, theta)
        chunks = self._chunks(X.shape[0], theta.dtype)
        loss = 0.0
        self._restart_noise()
        self._begin_terms()
        if self.sparsity is not None and len(chunks) > 1:
            loss += self.sparsity.value(self._mean_code(theta, X, share, chunks))
        for rows in chunks:
            workspace = self._workspace(_n(rows), theta)
            X_rows, T_rows = _take_pair(X, T, rows)
            activations, logits = self.network.forward(
                theta,
                X_rows,
                workspace=workspace,
                draw=self._draw(_n(rows), theta),
                dropout=self._dropout(_n(rows), theta),
            )
            losses = self.loss.value(T_rows, activations[-1], logits)
            part = _rows_of(share, rows)
            if isinstance(part, float):
                data = part * float(ops.sum(losses))
            else:
                data = float(part[:, 0] @ losses)
            loss += data
            if self.latent_kl is not None:
                H = activations[self.network.stochastic]
                kl = self.latent_kl.mean(H, part)
                self._add_terms(data, kl)
                loss += self.latent_kl.strength * kl
            if self.sparsity is not None and len(chunks) == 1:  # rho_hat on the way
                code = activations[self.sparse_layer]
                loss += self.sparsity.value(_weighted_mean(code, share))
        return float(loss) + self.weight_decay.value(self.network.flat_weights(theta))

    def _mean_code(self, theta, X, share, chunks):
        """``rho_hat``: the (weighted) mean activation of the sparse layer,
        over all the rows, chunk by chunk. With dropout, through the masks
        the pass after it draws again (the stream is rewound): the same
        network for ``rho_hat`` as for the loss."""
        rho_hat = 0.0
        ops = ops_for(theta)
        start = None if self.dropout is None else self.dropout.position()
        for rows in chunks:
            workspace = self._workspace(_n(rows), theta)
            activations, _ = self.network.forward(
                theta,
                _take(X, rows),
                stop=self.sparse_layer,
                workspace=workspace,
                dropout=self._dropout(_n(rows), theta),
            )
            part = _rows_of(share, rows)
            if isinstance(part, float):  # 1 / n: a sum, not the chunk's mean
                rho_hat = rho_hat + part * ops.sum(activations[-1], axis=0)
            else:
                rho_hat = rho_hat + part[:, 0] @ activations[-1]
        if start is not None:
            self.dropout.rewind(start)
        return rho_hat

    def for_scoring(self):
        """This objective as held-out data is scored with: deterministic.

        Itself, or a copy whose stochastic layer's running noise is one
        fixed stream and which never drops (validation J is that of the
        network that predicts)."""
        noise = self.latent_noise
        running = noise is not None and not noise.fixed
        if not running and self.dropout is None:
            return self
        copy = object.__new__(Objective)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.pop("_buffers", None)  # its own work arrays
        if running:
            copy.latent_noise = GaussianNoise(noise.seed, fixed=True)
        copy.dropout = None
        return copy

    def _begin_terms(self):
        if self.latent_kl is not None:
            self.last_terms = {"reconstruction": 0.0, "kl": 0.0}

    def _add_terms(self, data, kl):
        """Add a chunk's data loss and KL (without ``beta``) to the terms."""
        self.last_terms["reconstruction"] += float(data)
        self.last_terms["kl"] += kl

    def _restart_noise(self):
        """Begin an evaluation of J: the stochastic layer's noise and the
        dropout masks restart."""
        if self.latent_noise is not None:
            self.latent_noise.restart()
        if self.dropout is not None:
            self.dropout.restart()

    def _dropout(self, n_rows, theta):
        """The dropout masks of the next ``n_rows`` rows, or None."""
        if self.dropout is None:
            return None
        return self.dropout.draw(n_rows, self.network.layer_sizes, theta)

    def _draw(self, n_rows, theta):
        """The stochastic layer's draw for the next ``n_rows`` rows, or None
        (no stochastic layer, or no noise: the mean is passed on)."""
        if self.network.stochastic is None or self.latent_noise is None:
            return None
        k = self.network.layer_sizes[self.network.stochastic] // 2
        return GaussianDraw(self.latent_noise.draw(n_rows, k, theta))

    def _chunks(self, n_samples, dtype):
        """Row slices of at most :attr:`chunk_rows` rows covering a batch."""
        rows = self.chunk_rows
        if rows is None:
            rows = chunk_rows(self.network, dtype)
        return [
            slice(start, min(start + rows, n_samples))
            for start in range(0, max(n_samples, 1), rows)
        ]

    def _workspace(self, n_samples, theta):
        """Buffers for this batch size, kept from one step to the next (None
        outside NumPy: other namespaces compute in new arrays)."""
        if type(theta) is not np.ndarray:
            return None
        dtype = theta.dtype
        workspace = getattr(self, "_buffers", None)
        if workspace is None or not workspace.fits(n_samples, dtype):
            workspace = self._buffers = self.network.workspace(n_samples, dtype)
        return workspace.rows(n_samples)


def chunk_rows(network, dtype, working_memory=None):
    """Rows whose forward and backward buffers fit in ``working_memory`` MiB.

    ``working_memory`` defaults to scikit-learn's setting
    (``sklearn.set_config(working_memory=...)``, 1024 MiB unless changed), as
    ``sklearn.metrics.pairwise_distances_chunked`` reads it. A row needs a
    logit, an error and a derivative per unit of every layer, and the output
    and its delta (see :class:`~skae._math.workspace.Workspace`).
    """
    if working_memory is None:
        working_memory = get_config()["working_memory"]
    widths = network.layer_sizes[1:]
    row_bytes = numpy_dtype(dtype).itemsize * (3 * sum(widths) + 2 * widths[-1])
    return max(1, int(working_memory * 2**20 // row_bytes))


def _n(rows):
    return rows.stop - rows.start


def _take(A, rows):
    """The chunk's rows of ``A``: ``A`` itself when the chunk is all of it
    (slicing a sparse matrix copies it)."""
    if rows.start == 0 and rows.stop >= A.shape[0]:
        return A
    return A[rows, :]


def _take_pair(X, T, rows):
    """The chunk's rows of the input and the target, sliced once when the
    target is the input (an autoencoder)."""
    X_rows = _take(X, rows)
    return X_rows, (X_rows if T is X else _take(T, rows))


def _rows_of(share, rows):
    """The shares of a chunk's rows: ``1 / n`` stays a scalar."""
    return share if isinstance(share, float) else share[rows, :]


def _weighted_mean(code, share):
    """``rho_hat`` of one whole batch from its code activations."""
    if isinstance(share, float):
        return ops_for(code).sum(code, axis=0) / code.shape[0]
    return share[:, 0] @ code


def _share(n_samples, sample_weight, theta):
    """Each sample's share of the weighted mean: ``w_i / sum(w)``, or ``1 / n``
    as a Python float (which keeps float32 arithmetic in float32)."""
    if sample_weight is None:
        return 1.0 / n_samples
    ops = ops_for(sample_weight)
    return ops.astype(sample_weight / ops.sum(sample_weight), theta.dtype)[:, None]
