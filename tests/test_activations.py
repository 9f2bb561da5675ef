"""Activations against the lecture's formula and derivative tables."""

# License: BSD-3-Clause

import pickle
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skae.activations import (
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

DTYPES = [np.float32, np.float64]

# the lecture's defaults: PReLU alpha = 0.25, ELU alpha = 1.0
DEFAULT_ALPHA = {"prelu": 0.25, "elu": 1.0}

# non-default slopes / scales, to check that both forward and derivative use them
NON_DEFAULT = [(PReLU, 0.1), (ELU, 0.5)]

SPECIAL_POINTS = [-1e4, -1e3, -50.0, -1.0, 0.0, 1.0, 50.0, 1e3, 1e4]


@contextmanager
def _floating_point_errors_raise():
    """Turn every warning and every overflow / invalid / divide into an error.

    Underflow is left alone: exp(-1e4) rounding to 0 is the correct result.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


def _grid(rng, dtype):
    """The special points (up to +-1e4) and random values, in ``dtype``."""
    z = np.concatenate([SPECIAL_POINTS, rng.normal(scale=5.0, size=40)])
    return z.astype(dtype)


def _sigmoid(z):
    """1 / (1 + exp(-z)) in float64, via exp(-|z|) so that it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


# f(z) from the lecture, in float64; naive forms that overflow at |z| = 1e4 are
# rewritten through exp(-|z|), which is the same function.
REFERENCE_FORWARD = {
    "identity": lambda z, alpha: z,
    "sigmoid": lambda z, alpha: _sigmoid(z),
    # tanh z = sign(z) (1 - exp(-2|z|)) / (1 + exp(-2|z|))
    "tanh": lambda z, alpha: (
        np.sign(z) * -np.expm1(-2 * np.abs(z)) / (1 + np.exp(-2 * np.abs(z)))
    ),
    "softsign": lambda z, alpha: z / (1 + np.abs(z)),
    "hardtanh": lambda z, alpha: np.where(z < -1, -1.0, np.where(z > 1, 1.0, z)),
    "relu": lambda z, alpha: np.where(z > 0, z, 0.0),
    "prelu": lambda z, alpha: np.where(z >= 0, z, alpha * z),
    "elu": lambda z, alpha: np.where(z >= 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1)),
    # log(1 + exp z) = max(z, 0) + log(1 + exp(-|z|))
    "softplus": lambda z, alpha: np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))),
}

# f'(z) from the lecture, in terms of z and f = f(z), in float64
REFERENCE_DERIVATIVE = {
    "identity": lambda z, f, alpha: np.ones_like(z),
    "sigmoid": lambda z, f, alpha: f * (1 - f),
    "tanh": lambda z, f, alpha: 1 - f**2,
    "softsign": lambda z, f, alpha: 1 / (1 + np.abs(z)) ** 2,
    "hardtanh": lambda z, f, alpha: np.where(np.abs(z) < 1, 1.0, 0.0),
    "relu": lambda z, f, alpha: np.where(z > 0, 1.0, 0.0),
    "prelu": lambda z, f, alpha: np.where(z > 0, 1.0, alpha),
    "elu": lambda z, f, alpha: np.where(z >= 0, 1.0, f + alpha),
    "softplus": lambda z, f, alpha: _sigmoid(z),
}


def _check_forward(activation, name, alpha, z):
    with _floating_point_errors_raise():
        a = activation.forward(z)
    assert a.dtype == z.dtype
    assert a.shape == z.shape
    assert np.all(np.isfinite(a))
    expected = REFERENCE_FORWARD[name](z.astype(np.float64), alpha)
    finfo = np.finfo(z.dtype)
    assert_allclose(a, expected, rtol=8 * finfo.eps, atol=finfo.tiny)


def _check_derivative(activation, name, alpha, z):
    with _floating_point_errors_raise():
        d = activation.derivative(activation.forward(z))
    assert d.dtype == z.dtype
    assert d.shape == z.shape
    assert np.all(np.isfinite(d))
    z64 = z.astype(np.float64)
    expected = REFERENCE_DERIVATIVE[name](
        z64, REFERENCE_FORWARD[name](z64, alpha), alpha
    )
    # computed from the rounded output a = f(z), so the error is a few eps
    eps = np.finfo(z.dtype).eps
    assert_allclose(d, expected, rtol=8 * eps, atol=8 * eps)


def _check_finite_differences(activation, rng):
    z = rng.uniform(-4, 4, size=300)
    away_from_kinks = (
        (np.abs(z) > 1e-3) & (np.abs(z - 1) > 1e-3) & (np.abs(z + 1) > 1e-3)
    )
    z = z[away_from_kinks]
    h = 1e-6
    numerical = (activation.forward(z + h) - activation.forward(z - h)) / (2 * h)
    analytic = activation.derivative(activation.forward(z))
    assert_allclose(analytic, numerical, rtol=1e-6, atol=1e-9)


def test_registry_holds_the_nine_activations():
    assert set(ACTIVATIONS) == {
        "identity",
        "sigmoid",
        "tanh",
        "softsign",
        "hardtanh",
        "relu",
        "prelu",
        "elu",
        "softplus",
    }
    for name, cls in ACTIVATIONS.items():
        assert issubclass(cls, Activation)
        assert cls.name == name


def test_default_alphas_are_the_lecture_ones():
    assert PReLU().alpha == DEFAULT_ALPHA["prelu"]
    assert ELU().alpha == DEFAULT_ALPHA["elu"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_formula(name, dtype, rng):
    z = _grid(rng, dtype)
    _check_forward(ACTIVATIONS[name](), name, DEFAULT_ALPHA.get(name), z)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_formula(name, dtype, rng):
    z = _grid(rng, dtype)
    _check_derivative(ACTIVATIONS[name](), name, DEFAULT_ALPHA.get(name), z)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name, rng):
    _check_finite_differences(ACTIVATIONS[name](), rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "activation, expected",
    [
        (Sigmoid(), {1e4: 1.0, -1e4: 0.0}),
        (Tanh(), {1e4: 1.0, -1e4: -1.0}),
        (Softplus(), {1e4: 1e4, -1e4: 0.0}),
        (ELU(), {1e4: 1e4, -1e4: -1.0}),
        (ELU(alpha=0.5), {1e4: 1e4, -1e4: -0.5}),
        (HardTanh(), {1e4: 1.0, -1e4: -1.0}),
        (Softsign(), {1e4: 1e4 / (1 + 1e4), -1e4: -1e4 / (1 + 1e4)}),
    ],
    ids=repr,
)
def test_forward_limits_at_huge_inputs(activation, expected, dtype):
    z = np.array(list(expected), dtype=dtype)
    with _floating_point_errors_raise():
        a = activation.forward(z)
    assert a.dtype == dtype
    assert_allclose(a, list(expected.values()), rtol=np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [Sigmoid(), Softplus()], ids=repr)
def test_derivative_keeps_relative_precision_in_the_left_tail(activation, dtype):
    # sigmoid'(z) = sigmoid(z)(1 - sigmoid(z)) and softplus'(z) = sigmoid(z) are
    # tiny but representable here; the derivative from the output keeps them
    z = np.array([-80.0, -50.0, -20.0], dtype=dtype)
    with _floating_point_errors_raise():
        d = activation.derivative(activation.forward(z))
    expected = _sigmoid(z.astype(np.float64))
    if isinstance(activation, Sigmoid):
        expected = expected * (1 - expected)
    assert np.all(d > 0)
    assert_allclose(d, expected, rtol=8 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, alpha", NON_DEFAULT)
def test_non_default_alpha_is_used(cls, alpha, dtype, rng):
    activation = cls(alpha=alpha)
    assert activation.alpha == alpha
    z = _grid(rng, dtype)
    _check_forward(activation, cls.name, alpha, z)
    _check_derivative(activation, cls.name, alpha, z)


@pytest.mark.parametrize("cls, alpha", NON_DEFAULT)
def test_non_default_alpha_on_the_negative_side(cls, alpha):
    activation = cls(alpha=alpha)
    z = np.array([-2.0, -0.5])
    a = activation.forward(z)
    d = activation.derivative(a)
    if cls is PReLU:
        assert_allclose(a, alpha * z)
        assert_allclose(d, [alpha, alpha])
    else:
        assert_allclose(a, alpha * (np.exp(z) - 1))
        assert_allclose(d, alpha * np.exp(z))
    # the positive side does not depend on alpha
    assert_allclose(activation.forward(np.array([3.0])), [3.0])
    assert_allclose(activation.derivative(np.array([3.0])), [1.0])


@pytest.mark.parametrize("cls, alpha", NON_DEFAULT)
def test_non_default_alpha_matches_finite_differences(cls, alpha, rng):
    _check_finite_differences(cls(alpha=alpha), rng)


def test_hardtanh_derivative_is_zero_at_the_saturation_boundary():
    # the output at |z| = 1 cannot be told apart from saturation
    activation = HardTanh()
    z = np.array([-1.0, -0.999, 0.999, 1.0])
    assert_array_equal(activation.derivative(activation.forward(z)), [0, 1, 1, 0])


@pytest.mark.parametrize(
    "activation, expected",
    [(ReLU(), 0.0), (PReLU(alpha=0.1), 0.1), (ELU(alpha=0.5), 1.0)],
    ids=repr,
)
def test_derivative_at_zero(activation, expected):
    # relu and prelu: 1 for z > 0 only; elu: 1 for z >= 0
    d = activation.derivative(activation.forward(np.zeros(1)))
    assert_array_equal(d, [expected])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_two_dimensional_input(name, dtype, rng):
    activation = ACTIVATIONS[name]()
    Z = rng.normal(scale=3.0, size=(6, 4)).astype(dtype)
    A = activation.forward(Z)
    D = activation.derivative(A)
    assert A.shape == D.shape == Z.shape
    assert A.dtype == D.dtype == dtype
    assert_array_equal(A, activation.forward(Z.ravel()).reshape(Z.shape))
    assert_array_equal(D, activation.derivative(A.ravel()).reshape(Z.shape))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_get_activation_by_name(name):
    activation = get_activation(name)
    assert type(activation) is ACTIVATIONS[name]
    assert activation == ACTIVATIONS[name]()


def test_get_activation_logistic_alias():
    assert type(get_activation("logistic")) is Sigmoid


@pytest.mark.parametrize(
    "activation", [Sigmoid(), PReLU(alpha=0.1), ELU(alpha=0.5)], ids=repr
)
def test_get_activation_returns_instance_as_is(activation):
    assert get_activation(activation) is activation


def test_get_activation_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as excinfo:
        get_activation("swish")
    message = str(excinfo.value)
    assert "swish" in message
    for name in [*ACTIVATIONS, "logistic"]:
        assert name in message


ALL_INSTANCES = [ACTIVATIONS[name]() for name in sorted(ACTIVATIONS)] + [
    cls(alpha=alpha) for cls, alpha in NON_DEFAULT
]


@pytest.mark.parametrize("activation", ALL_INSTANCES, ids=repr)
def test_pickle_round_trip(activation, rng):
    restored = pickle.loads(pickle.dumps(activation))
    assert type(restored) is type(activation)
    assert restored == activation
    assert restored.get_params() == activation.get_params()
    assert repr(restored) == repr(activation)
    z = _grid(rng, np.float64)
    a = activation.forward(z)
    assert_array_equal(restored.forward(z), a)
    assert_array_equal(restored.derivative(a), activation.derivative(a))


@pytest.mark.parametrize(
    "activation, text",
    [
        (PReLU(alpha=0.1), "PReLU(alpha=0.1)"),
        (PReLU(), "PReLU(alpha=0.25)"),
        (ELU(alpha=0.5), "ELU(alpha=0.5)"),
        (ELU(), "ELU(alpha=1.0)"),
        (Sigmoid(), "Sigmoid()"),
        (Identity(), "Identity()"),
        (Softplus(), "Softplus()"),
    ],
)
def test_repr(activation, text):
    assert repr(activation) == text


def test_equality_by_type_and_params():
    assert PReLU(alpha=0.1) == PReLU(alpha=0.1)
    assert hash(PReLU(alpha=0.1)) == hash(PReLU(alpha=0.1))
    assert PReLU(alpha=0.1) != PReLU(alpha=0.2)
    assert PReLU(alpha=0.5) != ELU(alpha=0.5)
    assert ELU() == ELU(alpha=1.0)
    assert Sigmoid() == Sigmoid()
    assert hash(Sigmoid()) == hash(Sigmoid())
    assert Sigmoid() != Tanh()
    assert ReLU() != PReLU()
    assert Sigmoid() != "sigmoid"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ALL_INSTANCES, ids=repr)
def test_output_range_holds_the_outputs(activation, dtype, rng):
    low, high = activation.output_range
    assert low < high
    a = activation.forward(_grid(rng, dtype))
    assert np.all(a >= low)
    assert np.all(a <= high)
    # the range is the hull of the values: the grid's +-1e4 reach its ends
    for end, extreme in [(low, a.min()), (high, a.max())]:
        if np.isinf(end):
            assert abs(extreme) >= 1e3
            assert np.sign(extreme) == np.sign(end)
        else:
            assert abs(extreme - end) <= 1e-3


def test_elu_output_range_follows_alpha():
    assert ELU(alpha=0.5).output_range == (-0.5, np.inf)
    assert ELU().output_range == (-1.0, np.inf)


@pytest.mark.parametrize("activation", ALL_INSTANCES, ids=repr)
def test_forward_and_derivative_leave_input_untouched(activation, rng):
    z = _grid(rng, np.float64)
    z_before = z.copy()
    z.flags.writeable = False
    a = activation.forward(z)
    assert_array_equal(z, z_before)
    assert not np.shares_memory(a, z)

    a_before = a.copy()
    a.flags.writeable = False
    d = activation.derivative(a)
    assert_array_equal(a, a_before)
    assert not np.shares_memory(d, a)


@pytest.mark.parametrize("cls", [PReLU, ELU])
def test_numpy_scalar_alpha_keeps_float32(cls):
    # a grid built with np.linspace passes NumPy scalars, which must not
    # promote float32 arithmetic to float64
    activation = cls(alpha=np.float64(0.5))
    z = np.array([-2.0, -0.5, 0.5, 2.0], dtype=np.float32)
    a = activation.forward(z)
    assert a.dtype == np.float32
    assert activation.derivative(a).dtype == np.float32


@pytest.mark.parametrize(
    "cls, alpha", [(PReLU, 0.0), (PReLU, 1.0), (PReLU, 5.0), (ELU, 0.0), (ELU, -1.0)]
)
def test_alpha_outside_its_range_is_refused(cls, alpha):
    with pytest.raises(ValueError, match="alpha"):
        cls(alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        cls().set_params(alpha=alpha)
