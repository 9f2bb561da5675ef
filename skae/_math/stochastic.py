"""A variational autoencoder's stochastic layer: the reparameterised draw.

The encoder gives each sample the mean ``mu`` and the log-variance
``log sigma^2`` of a diagonal Gaussian ``q(z|x)`` over ``k`` latent units.
A draw ``z ~ q(z|x)`` is made differentiable by the reparameterisation of
Kingma and Welling (2014, *Auto-encoding variational Bayes*):
``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` drawn apart from the
parameters, so that with ``eps`` held fixed ``z`` is a smooth function of
``mu`` and ``log sigma^2``:

.. math::

    \\frac{\\partial z}{\\partial \\mu} = 1, \\qquad
    \\frac{\\partial z}{\\partial \\log\\sigma^2} = \\tfrac{1}{2}\\,\\sigma\\,\\epsilon.

:class:`GaussianNoise` draws the ``eps`` of each evaluation of the objective.
"""

# License: BSD-3-Clause

import numpy as np

from skae._math.array_api import ops_for
from skae._math.namespaces import numpy_dtype, to_namespace_of


class GaussianDraw:
    """One pass's draw ``z = mu + sigma * eps`` at the stochastic layer.

    Parameters
    ----------
    eps : ndarray of shape (n_samples, k)
        Standard normal noise, in the activations' namespace and dtype.

    Attributes
    ----------
    z : ndarray of shape (n_samples, k)
        The draw, set by :meth:`forward` (the input of the layer above).
    """

    def __init__(self, eps):
        self.eps = eps
        self.z = self._sigma = None

    def forward(self, H):
        """``z = mu + exp(log sigma^2 / 2) * eps`` from ``H = [mu | log sigma^2]``."""
        ops = ops_for(H)
        k = H.shape[1] // 2
        self._sigma = ops.exp(ops.multiply(H[:, k:], 0.5))
        self.z = ops.add(H[:, :k], ops.multiply(self._sigma, self.eps))
        return self.z

    def backward(self, dz, out=None):
        """``dJ/d[mu | log sigma^2] = [dJ/dz | dJ/dz * sigma * eps / 2]``."""
        ops = ops_for(dz)
        d_log_variance = ops.multiply(ops.multiply(dz, self._sigma), self.eps)
        d_log_variance = ops.multiply(d_log_variance, 0.5, out=d_log_variance)
        return ops.concat_columns([dz, d_log_variance], out=out)


class GaussianNoise:
    """The standard normal ``eps`` of the stochastic layer, evaluation by evaluation.

    Each evaluation of the objective calls :meth:`restart`, then draws the
    noise of its rows chunk by chunk, in order, with :meth:`draw`. With
    ``fixed=True`` every evaluation restarts the same stream: the objective is
    a deterministic function of the parameters (what L-BFGS, the validation
    scores and a gradient check need), each row of a batch getting the same
    ``eps`` at every evaluation. With ``fixed=False`` the stream goes on: each
    step of a stochastic solver gets fresh noise.

    Parameters
    ----------
    seed : int
        Seed of the stream (drawn from the estimator's ``random_state``).
    fixed : bool
        Whether every evaluation draws the same noise.
    """

    def __init__(self, seed, fixed):
        self.seed = int(seed)
        self.fixed = fixed
        self._rng = np.random.default_rng(self.seed)

    def restart(self):
        """Begin an evaluation: the same stream again when ``fixed``."""
        if self.fixed:
            self._rng = np.random.default_rng(self.seed)

    def draw(self, n_rows, k, like):
        """``eps`` for the next ``n_rows`` rows: shape ``(n_rows, k)``, drawn by
        NumPy on the host in float64 (a float32 fit gets the float64 fit's
        noise, rounded), cast to ``like``'s dtype and moved to its namespace.

        A stream drawn in chunks of rows gives the rows the values one draw of
        them all would (NumPy fills row after row).
        """
        eps = self._rng.standard_normal((n_rows, k))
        return to_namespace_of(eps.astype(numpy_dtype(like.dtype), copy=False), like)
