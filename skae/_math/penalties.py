"""Penalties of the objective: L2 weight decay and KL sparsity."""

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
