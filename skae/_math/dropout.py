"""Inverted dropout on hidden layers (Srivastava et al., 2014).

During training each unit of a dropped hidden layer is kept with probability
``1 - p`` and its activation scaled by ``1 / (1 - p)``: the layer above reads

.. math::

    \\tilde a = a \\odot m, \\qquad m_{ij} = \\frac{[u_{ij} \\ge p]}{1 - p},
    \\quad u_{ij} \\sim U[0, 1),

so that ``E[a~] = a``, and prediction, which never drops, needs no rescaling.
With the mask ``m`` held fixed, ``a~`` is linear in ``a`` and the backward
pass multiplies the error by the same mask:
``dJ/da = (dJ/da~) * m``. A penalty on the layer's activations (the sparse
autoencoder's KL term) reads ``a``, the activations before the mask.

:class:`DropoutMasks` draws the masks of each evaluation of the objective,
:class:`Dropout` applies one pass's.
"""

# License: BSD-3-Clause

import numpy as np

from skae._math.array_api import ops_for
from skae._math.namespaces import numpy_dtype, to_namespace_of


class Dropout:
    """One pass's masks, applied on the way up and on the way down.

    Parameters
    ----------
    masks : dict of int to ndarray
        The scaled mask ``m`` of each dropped layer, keyed by the index of its
        activations (the input of layer ``index``), shape ``(n_rows, width)``.

    Attributes
    ----------
    inputs : dict of int to ndarray
        ``a~ = a * m`` of each dropped layer, set by :meth:`forward`: what the
        layer above read, which its weight gradient needs.
    """

    def __init__(self, masks):
        self.masks = masks
        self.inputs = {}

    def __contains__(self, index):
        return index in self.masks

    def forward(self, index, A):
        """``a~ = a * m``: the input of layer ``index``, kept for the backward pass."""
        self.inputs[index] = ops_for(A).multiply(A, self.masks[index])
        return self.inputs[index]

    def backward(self, index, error):
        """``dJ/da = (dJ/da~) * m``, in place in ``error``."""
        error *= self.masks[index]
        return error


class DropoutMasks:
    """Where the masks come from, evaluation by evaluation.

    Each evaluation of the objective calls :meth:`restart`, then draws the
    masks of its rows chunk by chunk, in order, with :meth:`draw`. A restart
    seeds one stream per dropped layer from ``random_state``, the
    estimator's own: a fit is reproducible from its ``random_state``, one
    continued from a pickle of the estimator draws what the uninterrupted fit
    would, and a batch drawn chunk by chunk gets the masks one draw of all
    its rows would (each layer's stream fills row after row). With
    ``fixed=True`` every evaluation draws the same masks, from seeds drawn
    once: ``J`` is then a deterministic function of the parameters, as a
    gradient check needs.

    Parameters
    ----------
    rates : dict of int to float
        The probability ``p`` in ``(0, 1)`` of dropping each unit of a layer,
        keyed by the index of its activations (1 for the first hidden layer).
    random_state : numpy.random.RandomState
        Source of the seeds.
    fixed : bool, default=False
        Whether every evaluation draws the same masks.
    """

    def __init__(self, rates, random_state, fixed=False):
        self.rates = dict(sorted(rates.items()))
        self.random_state = random_state
        self.fixed = fixed
        self._seeds = self._new_seeds() if fixed else None
        self._streams = None

    def _new_seeds(self):
        return self.random_state.randint(np.iinfo(np.int32).max, size=len(self.rates))

    def restart(self):
        """Begin an evaluation: new streams (the same again when ``fixed``)."""
        self.rewind(self._seeds if self.fixed else self._new_seeds())

    def position(self):
        """The seeds of this evaluation's streams, for :meth:`rewind`."""
        return self._seeds_now

    def rewind(self, seeds):
        """Streams from ``seeds``: the masks drawn since are drawn again."""
        self._seeds_now = seeds
        self._streams = [np.random.default_rng(int(seed)) for seed in seeds]

    def draw(self, n_rows, widths, like):
        """The masks of the next ``n_rows`` rows, one per dropped layer
        (``widths[index]`` units wide), drawn by NumPy in float64 (a float32
        fit gets the float64 fit's masks), cast to ``like``'s dtype and moved
        to its namespace."""
        dtype = numpy_dtype(like.dtype)
        masks = {}
        for stream, (index, rate) in zip(self._streams, self.rates.items()):
            kept = stream.random((n_rows, widths[index])) >= rate
            mask = np.multiply(kept, 1.0 / (1.0 - rate), dtype=dtype)
            masks[index] = to_namespace_of(mask, like)
        return Dropout(masks)
