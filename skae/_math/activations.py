"""Activation functions and their derivatives (presented by the public
:mod:`skae.activations`)."""

# License: BSD-3-Clause

from abc import ABC, abstractmethod
from numbers import Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import InvalidParameterError

from skae._math.array_api import ops_for


class Activation(ABC):
    """Base class of an activation function ``f`` and its derivative.

    Subclasses define :meth:`forward` and :meth:`derivative`. The derivative is
    written in terms of the *output* ``a = f(z)``, which the forward pass keeps
    anyway, so backpropagation never stores the pre-activations ``z``.

    skae's activations compute NumPy arrays with NumPy, writing into ``out``,
    and the arrays of any other Array API namespace (PyTorch, CuPy,
    array_api_strict) in that namespace, on their device, returning new
    arrays there (``out`` then only gives the dtype).

    Attributes
    ----------
    name : str
        Key of the activation in :data:`ACTIVATIONS`.
    output_range : tuple of float
        Closed hull ``(low, high)`` of the values ``f`` can take.
    """

    name = None
    output_range = (-np.inf, np.inf)

    @abstractmethod
    def forward(self, z, out=None):
        """Apply the activation elementwise.

        Parameters
        ----------
        z : ndarray
            Pre-activations.
        out : ndarray, default=None
            Array of the shape and dtype of ``z`` to write the result into; it
            may be ``z`` itself. By default a new array is returned and ``z``
            is left unchanged.

        Returns
        -------
        a : ndarray
            ``f(z)``, of the same shape and dtype as ``z`` (``out`` if given).
        """

    @abstractmethod
    def derivative(self, a, out=None):
        """Derivative ``f'(z)`` written in terms of the output ``a = f(z)``.

        Parameters
        ----------
        a : ndarray
            Outputs of :meth:`forward`.
        out : ndarray, default=None
            Array to write the result into; it may be ``a`` itself.

        Returns
        -------
        d : ndarray
            ``f'(z)`` for the ``z`` with ``f(z) = a``, same shape and dtype.
        """

    def get_params(self, deep=True):
        """Return the activation's parameters as a dict (empty for most).

        Together with :meth:`set_params` this follows scikit-learn's protocol,
        so an estimator's ``activation__alpha`` can be grid-searched.
        """
        return {}

    def set_params(self, **params):
        """Set the activation's parameters; returns ``self``."""
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"{self!r} has no parameter {key!r}.")
        type(self).__init__(self, **{**self.get_params(), **params})
        return self

    def __eq__(self, other):
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Identity(Activation):
    """Identity, ``f(z) = z``: the linear output of a regression network."""

    name = "identity"

    def forward(self, z, out=None):
        ops = ops_for(z)
        if out is None:
            return ops.copy(z)
        if out is not z:
            ops.copyto(out, z)
        return out

    def derivative(self, a, out=None):
        """``1``, whatever the output ``a``."""
        ops = ops_for(a)
        if out is None:
            return ops.ones_like(a)
        return ops.fill(out, 1)


class Sigmoid(Activation):
    """Logistic sigmoid, ``1 / (1 + exp(-z))`` (lecture: Sigmoid)."""

    name = "sigmoid"
    output_range = (0.0, 1.0)

    def forward(self, z, out=None):
        ops = ops_for(z)
        if not ops.is_numpy:
            return ops.sigmoid(z)  # the namespace's own stable form
        if z.size < 2048:
            # on a few values one call of scipy's expit costs least
            return expit(z, out=out)
        # The lecture's formula as it stands, four times faster than expit on
        # large arrays. Where exp(-z) overflows to inf, 1 / inf = 0 is the
        # exact result rounded (sigmoid(z) is then below the smallest normal
        # number), so that overflow is silenced; elsewhere the relative error
        # is a few ulps, in the tails too.
        out = np.negative(z, out=out)
        with np.errstate(over="ignore", under="ignore"):
            np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)

    def log_forward(self, z):
        """``log sigmoid(z) = -softplus(-z)``, from the logits: finite and
        exact where ``sigmoid(z)`` rounds to 0 (a classifier's log-probability)."""
        ops = ops_for(z)
        out = _softplus(ops.negative(z))
        return ops.negative(out, out=out)

    def derivative(self, a, out=None):
        """``f (1 - f)``, from the output ``a`` that the forward pass kept."""
        ops = ops_for(a)
        if out is a:
            return ops.multiply(a, 1 - a, out=out)
        out = ops.subtract(1, a, out=out)
        out *= a
        return out


class Tanh(Activation):
    """Hyperbolic tangent, ``tanh z = 2 sigmoid(2z) - 1`` (lecture: Tanh)."""

    name = "tanh"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        return ops_for(z).tanh(z, out=out)

    def derivative(self, a, out=None):
        """``1 - f^2``, from the output ``a``."""
        ops = ops_for(a)
        out = ops.multiply(a, a, out=out)
        return ops.subtract(1, out, out=out)


class Softsign(Activation):
    """Softsign, ``z / (1 + |z|)`` (lecture: Softsign)."""

    name = "softsign"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        ops = ops_for(z)
        denominator = ops.abs(z)
        denominator += 1
        return ops.divide(z, denominator, out=out)

    def derivative(self, a, out=None):
        """``1 / (1 + |z|)^2 = (1 - |a|)^2``, from the output ``a``."""
        ops = ops_for(a)
        out = ops.abs(a, out=out)
        out = ops.subtract(1, out, out=out)
        return ops.square(out, out=out)


class HardTanh(Activation):
    """Hard tanh, ``clip(z, -1, 1)`` (lecture: Hard Tanh)."""

    name = "hardtanh"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        return ops_for(z).clip(z, -1, 1, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``|a| < 1``, else ``0``.

        The lecture's closed interval differs only at ``|z| = 1``, which the
        output cannot tell apart from saturation.
        """
        ops = ops_for(a)
        if out is None:
            return ops.astype(ops.abs(a) < 1, a.dtype)
        out = ops.abs(a, out=out)
        return ops.less(out, 1, out=out)


class ReLU(Activation):
    """Rectified linear unit, ``max(0, z)`` (lecture: ReLU)."""

    name = "relu"
    output_range = (0.0, np.inf)

    def forward(self, z, out=None):
        return ops_for(z).maximum(z, 0, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``a > 0`` (that is, ``z > 0``), else ``0``."""
        ops = ops_for(a)
        if out is None:
            return ops.astype(a > 0, a.dtype)
        # a float mask multiplies later far faster than boolean indexing
        return ops.greater(a, 0, out=out)


class PReLU(Activation):
    """Parametric ReLU, ``z`` for ``z >= 0`` and ``alpha z`` otherwise.

    Parameters
    ----------
    alpha : float, default=0.25
        Slope for negative inputs, in ``(0, 1)`` as in the lecture (PReLU).
    """

    name = "prelu"

    def __init__(self, alpha=0.25):
        if not (_is_real(alpha) and 0 < alpha < 1):
            raise InvalidParameterError(
                f"PReLU needs a real alpha with 0 < alpha < 1, got alpha={alpha!r}."
            )
        self.alpha = alpha

    def forward(self, z, out=None):
        ops = ops_for(z)
        # slope 1 or alpha, built arithmetically: masked ufuncs are far slower
        slope = ops.greater_equal(z, 0, out=ops.empty_like(z))
        # a Python float keeps the array's dtype; a NumPy float64 would promote
        slope *= 1 - float(self.alpha)
        slope += float(self.alpha)
        return ops.multiply(z, slope, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``a > 0``, else ``alpha``; ``a`` has the sign of ``z``."""
        ops = ops_for(a)
        if out is None:
            out = ops.empty_like(a)
        out = ops.greater(a, 0, out=out)
        out *= 1 - float(self.alpha)
        out += float(self.alpha)
        return out

    def get_params(self, deep=True):
        return {"alpha": self.alpha}


class ELU(Activation):
    """Exponential linear unit, ``z`` for ``z >= 0``, ``alpha (exp z - 1)`` otherwise.

    Parameters
    ----------
    alpha : float, default=1.0
        Scale of the negative branch, which tends to ``-alpha``. The lecture
        (ELU) takes it in ``(0, 1)``; any ``alpha > 0`` is accepted.
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        if not (_is_real(alpha) and 0 < alpha < np.inf):
            raise InvalidParameterError(
                f"ELU needs a finite real alpha > 0, got alpha={alpha!r}."
            )
        self.alpha = alpha

    @property
    def output_range(self):
        return (-self.alpha, np.inf)

    def forward(self, z, out=None):
        # max(z, 0) + alpha expm1(min(z, 0)): expm1 never overflows there and
        # keeps precision near 0
        ops = ops_for(z)
        negative_part = ops.minimum(z, 0)
        negative_part = ops.expm1(negative_part, out=negative_part)
        negative_part *= float(self.alpha)
        out = ops.maximum(z, 0, out=out)
        out += negative_part
        return out

    def derivative(self, a, out=None):
        """``1`` where ``a >= 0``, else ``f + alpha = alpha exp z``."""
        # min(a, 0) + alpha, plus 1 - alpha where a >= 0
        ops = ops_for(a)
        step = ops.greater_equal(a, 0, out=ops.empty_like(a))
        step *= 1 - float(self.alpha)
        out = ops.minimum(a, 0, out=out)
        out += float(self.alpha)
        out += step
        return out

    def get_params(self, deep=True):
        return {"alpha": self.alpha}


class Softplus(Activation):
    """Softplus, ``log(1 + exp z)`` (lecture: SoftPlus)."""

    name = "softplus"
    output_range = (0.0, np.inf)

    def forward(self, z, out=None):
        return _softplus(z, out=out)

    def derivative(self, a, out=None):
        """``sigmoid(z) = 1 - exp(-a)``, computed as ``-expm1(-a)`` for precision."""
        ops = ops_for(a)
        out = ops.negative(a, out=out)
        out = ops.expm1(out, out=out)
        return ops.negative(out, out=out)


class Softmax(Activation):
    """Softmax over each row, ``exp(z_k) / sum_j exp(z_j)``: the output of a
    classifier of several classes, the probabilities of a categorical model
    (lecture: the softmax's cross-entropy from maximum likelihood).

    Not elementwise, so not a hidden activation: its derivative is a Jacobian,
    which backpropagation never forms, as the categorical cross-entropy's
    delta ``p - t`` is computed fused (see ``CategoricalCrossEntropy``).
    """

    name = "softmax"
    output_range = (0.0, 1.0)

    def forward(self, z, out=None):
        """Each row of ``z``, shifted by its maximum (no exponential
        overflows; the largest is 1), exponentiated and normalised."""
        ops = ops_for(z)
        out = ops.subtract(z, ops.reshape(ops.row_max(z), (-1, 1)), out=out)
        out = ops.exp(out, out=out)
        out /= ops.reshape(ops.row_sums(out), (-1, 1))
        return out

    def log_forward(self, z):
        """``log softmax(z) = z - logsumexp(z)`` of each row, from the logits:
        finite where a probability underflows to 0."""
        ops = ops_for(z)
        shifted = ops.subtract(z, ops.max(z, axis=1, keepdims=True))
        sums = ops.sum(ops.exp(shifted), axis=1)
        return ops.subtract(shifted, ops.reshape(ops.log(sums), (-1, 1)), out=shifted)

    def derivative(self, a, out=None):
        raise TypeError(
            "The softmax has no elementwise derivative (its derivative is a "
            "Jacobian): it is an output for the categorical cross-entropy, "
            "whose output delta p - t needs none."
        )


def _softplus(z, out=None):
    """``log(1 + exp z)`` as ``max(z, 0) + log1p(exp(-|z|))``: no overflow, full
    precision, and much faster than ``np.logaddexp(0, z)``."""
    ops = ops_for(z)
    positive_part = ops.maximum(z, 0)
    out = ops.abs(z, out=out)
    out = ops.negative(out, out=out)
    out = ops.exp(out, out=out)
    out = ops.log1p(out, out=out)
    out += positive_part
    return out


def _is_real(value):
    """A real number, not a bool."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


ACTIVATIONS = {
    cls.name: cls
    for cls in (Identity, Sigmoid, Tanh, Softsign, HardTanh, ReLU, PReLU, ELU, Softplus)
}
"""dict: activation name to class; ``"logistic"`` is accepted as an alias of
``"sigmoid"`` by :func:`get_activation`."""

_ALIASES = {"logistic": "sigmoid"}


def get_activation(activation):
    """Return an activation object from a name or an activation object.

    Parameters
    ----------
    activation : str or Activation
        A key of :data:`ACTIVATIONS` (or ``"logistic"``, an alias of
        ``"sigmoid"``), or an :class:`Activation` instance, returned as is.

    Returns
    -------
    activation : Activation
        The activation object.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known names.

    Examples
    --------
    >>> from skae._math.activations import get_activation
    >>> get_activation("logistic")
    Sigmoid()
    >>> get_activation("prelu")
    PReLU(alpha=0.25)
    """
    if isinstance(activation, Activation):
        return activation
    name = _ALIASES.get(activation, activation)
    if name not in ACTIVATIONS:
        known = ", ".join(sorted(set(ACTIVATIONS) | set(_ALIASES)))
        raise ValueError(f"Unknown activation {activation!r}; known names: {known}.")
    return ACTIVATIONS[name]()
