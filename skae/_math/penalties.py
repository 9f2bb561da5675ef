"""Penalties of the objective: L2 weight decay, KL sparsity and a variational
autoencoder's KL term."""

# License: BSD-3-Clause

from skae._math.array_api import ops_for


class WeightDecay:
    """``lambda * sum_l ||W_l||_F^2`` over the weights, never the biases.

    Lecture: regularised autoencoder, ``J_{AE+wd}``. It does not scale with the
    number of samples or the batch size. It acts on all the weights at once,
    as one flat array.
    """

    def __init__(self, strength):
        # Python floats keep float32 arithmetic in float32
        self.strength = float(strength)

    def value(self, weights):
        """Penalty of the flat array of all weights."""
        return self.strength * float(ops_for(weights).vdot(weights, weights))

    def add_gradient(self, weights, weight_gradient):
        """Add ``2 lambda W`` to the flat weight gradient, in place."""
        if self.strength != 0:
            ops_for(weights).axpy(2 * self.strength, weights, weight_gradient)


class KLSparsity:
    """``beta * sum_j KL(rho || rho_hat_j)`` on the mean activations of one layer.

    Lecture: sparse autoencoder, ``J_{AE+sp}``, with
    ``KL(rho || rho_hat) = rho log(rho / rho_hat)
    + (1 - rho) log((1 - rho) / (1 - rho_hat))``.

    ``rho_hat`` is clipped to ``[eps, 1 - eps]``, ``eps`` the machine epsilon of
    its dtype, so that units saturated at exactly 0 or 1 give a large but finite
    value and gradient.
    """

    def __init__(self, target, strength):
        self.target = float(target)
        self.strength = float(strength)

    def _clip(self, rho_hat):
        ops = ops_for(rho_hat)
        eps = float(ops.finfo(rho_hat.dtype).eps)
        return ops.clip(rho_hat, eps, 1 - eps)

    def value(self, rho_hat):
        """Penalty for the mean activations ``rho_hat`` of shape ``(n_units,)``."""
        rho, rho_hat = self.target, self._clip(rho_hat)
        ops = ops_for(rho_hat)
        kl = rho * ops.log(rho / rho_hat) + (1 - rho) * ops.log(
            (1 - rho) / (1 - rho_hat)
        )
        return self.strength * ops.sum(kl)

    def gradient(self, rho_hat):
        """``d/d rho_hat_j = beta (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j))``.

        This is the term the lecture adds to the code layer's delta.
        """
        rho, rho_hat = self.target, self._clip(rho_hat)
        return self.strength * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))


class GaussianKL:
    """``beta * KL(q(z|x) || N(0, I))`` of each sample, from ``[mu | log sigma^2]``.

    A variational autoencoder's KL term (lecture: the KL divergence between
    two distributions): for the diagonal Gaussian ``q(z|x) = N(mu, sigma^2)``
    and the standard normal prior it has the closed form
    ``KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``, with
    ``sigma^2 - 1 - log sigma^2`` computed as ``expm1(s) - s`` of
    ``s = log sigma^2``, exact near 0 where the difference cancels. Unlike
    :class:`KLSparsity`, it is a term of each sample, weighted as the samples'
    losses are.
    """

    def __init__(self, strength):
        self.strength = float(strength)

    def sample_values(self, H):
        """Unweighted ``KL`` of each row of ``H = [mu | log sigma^2]``,
        shape ``(n_samples,)``, without ``beta``."""
        ops = ops_for(H)
        k = H.shape[1] // 2
        mu, log_variance = H[:, :k], H[:, k:]
        terms = ops.subtract(ops.expm1(log_variance), log_variance)
        terms = ops.add(terms, ops.square(mu), out=terms)
        return ops.multiply(ops.row_sums(terms), 0.5)

    def mean(self, H, share):
        """``sum_i s_i KL_i`` without ``beta``, ``share`` the scalar ``1 / n`` or
        a column of the samples' shares ``s_i``."""
        kl = self.sample_values(H)
        if isinstance(share, float):
            return share * float(ops_for(H).sum(kl))
        return float(share[:, 0] @ kl)

    def value(self, H, share):
        """``beta sum_i s_i KL_i`` (see :meth:`mean`)."""
        return self.strength * self.mean(H, share)

    def gradient(self, H, share):
        """``d/dH`` of :meth:`value`: ``beta s_i [mu | (sigma^2 - 1) / 2]``."""
        ops = ops_for(H)
        k = H.shape[1] // 2
        half_expm1 = ops.multiply(ops.expm1(H[:, k:]), 0.5)
        gradient = ops.concat_columns([H[:, :k], half_expm1])
        return ops.multiply(gradient, share * self.strength, out=gradient)
