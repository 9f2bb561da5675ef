"""Activation functions and their derivatives.

Each activation maps pre-activations ``z`` to activations ``a = f(z)`` and
gives its derivative as a function of ``a`` (the lecture's activation
section); subclass :class:`Activation` for one of your own.
"""

# License: BSD-3-Clause

from skae._math.activations import (
    ACTIVATIONS,
    ELU,
    Activation,
    HardTanh,
    Identity,
    PReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Softsign,
    Tanh,
    get_activation,
)

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
