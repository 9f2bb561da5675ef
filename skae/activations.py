"""Activation functions and their derivatives."""

# License: BSD-3-Clause

from abc import ABC, abstractmethod
from numbers import Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "Activation",
    "HardTanh",
    "Identity",
    "PReLU",
    "ReLU",
    "Sigmoid",
    "Softplus",
    "Softsign",
    "Tanh",
    "get_activation",
]


class Activation(ABC):
    """Base class of an activation function ``f`` and its derivative.

    Subclasses define :meth:`forward` and :meth:`derivative`. The derivative is
    written in terms of the *output* ``a = f(z)``, which the forward pass keeps
    anyway, so backpropagation never stores the pre-activations ``z``.

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
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def derivative(self, a, out=None):
        """``1``, whatever the output ``a``."""
        if out is None:
            return np.ones_like(a)
        out.fill(1)
        return out


class Sigmoid(Activation):
    """Logistic sigmoid, ``1 / (1 + exp(-z))`` (lecture: Sigmoid)."""

    name = "sigmoid"
    output_range = (0.0, 1.0)

    def forward(self, z, out=None):
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

    def derivative(self, a, out=None):
        """``f (1 - f)``, from the output ``a`` that the forward pass kept."""
        if out is a:
            return np.multiply(a, 1 - a, out=out)
        out = np.subtract(1, a, out=out)
        out *= a
        return out


class Tanh(Activation):
    """Hyperbolic tangent, ``tanh z = 2 sigmoid(2z) - 1`` (lecture: Tanh)."""

    name = "tanh"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, a, out=None):
        """``1 - f^2``, from the output ``a``."""
        out = np.multiply(a, a, out=out)
        return np.subtract(1, out, out=out)


class Softsign(Activation):
    """Softsign, ``z / (1 + |z|)`` (lecture: Softsign)."""

    name = "softsign"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        denominator = np.abs(z)
        denominator += 1
        return np.divide(z, denominator, out=out)

    def derivative(self, a, out=None):
        """``1 / (1 + |z|)^2 = (1 - |a|)^2``, from the output ``a``."""
        out = np.abs(a, out=out)
        np.subtract(1, out, out=out)
        return np.square(out, out=out)


class HardTanh(Activation):
    """Hard tanh, ``clip(z, -1, 1)`` (lecture: Hard Tanh)."""

    name = "hardtanh"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        return np.clip(z, -1, 1, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``|a| < 1``, else ``0``.

        The lecture's closed interval differs only at ``|z| = 1``, which the
        output cannot tell apart from saturation.
        """
        if out is None:
            return (np.abs(a) < 1).astype(a.dtype)
        np.abs(a, out=out)
        return np.less(out, 1, out=out)


class ReLU(Activation):
    """Rectified linear unit, ``max(0, z)`` (lecture: ReLU)."""

    name = "relu"
    output_range = (0.0, np.inf)

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``a > 0`` (that is, ``z > 0``), else ``0``."""
        if out is None:
            return (a > 0).astype(a.dtype)
        # a float mask multiplies later far faster than boolean indexing
        return np.greater(a, 0, out=out)


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
        # slope 1 or alpha, built arithmetically: masked ufuncs are far slower
        slope = np.greater_equal(z, 0, out=np.empty_like(z))
        # a Python float keeps the array's dtype; a NumPy float64 would promote
        slope *= 1 - float(self.alpha)
        slope += float(self.alpha)
        return np.multiply(z, slope, out=out)

    def derivative(self, a, out=None):
        """``1`` where ``a > 0``, else ``alpha``; ``a`` has the sign of ``z``."""
        if out is None:
            out = np.empty_like(a)
        np.greater(a, 0, out=out)
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
        negative_part = np.minimum(z, 0)
        np.expm1(negative_part, out=negative_part)
        negative_part *= float(self.alpha)
        out = np.maximum(z, 0, out=out)
        out += negative_part
        return out

    def derivative(self, a, out=None):
        """``1`` where ``a >= 0``, else ``f + alpha = alpha exp z``."""
        # min(a, 0) + alpha, plus 1 - alpha where a >= 0
        step = np.greater_equal(a, 0, out=np.empty_like(a))
        step *= 1 - float(self.alpha)
        out = np.minimum(a, 0, out=out)
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
        out = np.negative(a, out=out)
        np.expm1(out, out=out)
        return np.negative(out, out=out)


def _softplus(z, out=None):
    """``log(1 + exp z)`` as ``max(z, 0) + log1p(exp(-|z|))``: no overflow, full
    precision, and much faster than ``np.logaddexp(0, z)``."""
    positive_part = np.maximum(z, 0)
    out = np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
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
    >>> from skae.activations import get_activation
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
