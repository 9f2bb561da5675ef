"""Activation functions and their derivatives."""

# License: BSD-3-Clause

import numpy as np
from scipy.special import expit

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


class Activation:
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

    def forward(self, z):
        """Apply the activation elementwise.

        Parameters
        ----------
        z : ndarray
            Pre-activations.

        Returns
        -------
        a : ndarray
            ``f(z)``, of the same shape and dtype as ``z``.
        """
        raise NotImplementedError

    def derivative(self, a):
        """Derivative ``f'(z)`` written in terms of the output ``a = f(z)``.

        Parameters
        ----------
        a : ndarray
            Outputs of :meth:`forward`.

        Returns
        -------
        d : ndarray
            ``f'(z)`` for the ``z`` with ``f(z) = a``, same shape and dtype.
        """
        raise NotImplementedError

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

    def forward(self, z):
        return z.copy()

    def derivative(self, a):
        """``1``, whatever the output ``a``."""
        return np.ones_like(a)


class Sigmoid(Activation):
    """Logistic sigmoid, ``1 / (1 + exp(-z))`` (lecture: Sigmoid)."""

    name = "sigmoid"
    output_range = (0.0, 1.0)

    def forward(self, z):
        # expit never overflows: it evaluates exp(-|z|) only
        return expit(z)

    def derivative(self, a):
        """``f (1 - f)``, from the output ``a`` that the forward pass kept."""
        return a * (1 - a)


class Tanh(Activation):
    """Hyperbolic tangent, ``tanh z = 2 sigmoid(2z) - 1`` (lecture: Tanh)."""

    name = "tanh"
    output_range = (-1.0, 1.0)

    def forward(self, z):
        return np.tanh(z)

    def derivative(self, a):
        """``1 - f^2``, from the output ``a``."""
        return 1 - a * a


class Softsign(Activation):
    """Softsign, ``z / (1 + |z|)`` (lecture: Softsign)."""

    name = "softsign"
    output_range = (-1.0, 1.0)

    def forward(self, z):
        return z / (1 + np.abs(z))

    def derivative(self, a):
        """``1 / (1 + |z|)^2 = (1 - |a|)^2``, from the output ``a``."""
        return np.square(1 - np.abs(a))


class HardTanh(Activation):
    """Hard tanh, ``clip(z, -1, 1)`` (lecture: Hard Tanh)."""

    name = "hardtanh"
    output_range = (-1.0, 1.0)

    def forward(self, z):
        return np.clip(z, -1, 1)

    def derivative(self, a):
        """``1`` where ``|a| < 1``, else ``0``.

        The lecture's closed interval differs only at ``|z| = 1``, which the
        output cannot tell apart from saturation.
        """
        return (np.abs(a) < 1).astype(a.dtype)


class ReLU(Activation):
    """Rectified linear unit, ``max(0, z)`` (lecture: ReLU)."""

    name = "relu"
    output_range = (0.0, np.inf)

    def forward(self, z):
        return np.maximum(z, 0)

    def derivative(self, a):
        """``1`` where ``a > 0`` (that is, ``z > 0``), else ``0``."""
        return (a > 0).astype(a.dtype)


class PReLU(Activation):
    """Parametric ReLU, ``z`` for ``z >= 0`` and ``alpha z`` otherwise.

    Parameters
    ----------
    alpha : float, default=0.25
        Slope for negative inputs, in ``(0, 1)`` as in the lecture (PReLU).
    """

    name = "prelu"

    def __init__(self, alpha=0.25):
        if not 0 < alpha < 1:
            raise ValueError(f"PReLU needs 0 < alpha < 1, got alpha={alpha!r}.")
        self.alpha = alpha

    def forward(self, z):
        # a Python float keeps the array's dtype; a NumPy float64 would promote
        return np.where(z >= 0, z, float(self.alpha) * z)

    def derivative(self, a):
        """``1`` where ``a > 0``, else ``alpha``; ``a`` has the sign of ``z``."""
        one = np.ones_like(a)
        return np.where(a > 0, one, float(self.alpha) * one)

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
        if not alpha > 0:
            raise ValueError(f"ELU needs alpha > 0, got alpha={alpha!r}.")
        self.alpha = alpha

    @property
    def output_range(self):
        return (-self.alpha, np.inf)

    def forward(self, z):
        # expm1 of min(z, 0) never overflows and keeps precision near 0
        return np.where(z >= 0, z, float(self.alpha) * np.expm1(np.minimum(z, 0)))

    def derivative(self, a):
        """``1`` where ``a >= 0``, else ``f + alpha = alpha exp z``."""
        return np.where(a >= 0, np.ones_like(a), a + float(self.alpha))

    def get_params(self, deep=True):
        return {"alpha": self.alpha}


class Softplus(Activation):
    """Softplus, ``log(1 + exp z)`` (lecture: SoftPlus)."""

    name = "softplus"
    output_range = (0.0, np.inf)

    def forward(self, z):
        # logaddexp(0, z) never overflows, unlike log1p(exp(z))
        return np.logaddexp(0, z)

    def derivative(self, a):
        """``sigmoid(z) = 1 - exp(-a)``, computed as ``-expm1(-a)`` for precision."""
        return -np.expm1(-a)


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
