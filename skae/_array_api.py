"""The array namespace the core computes in: NumPy, or any Array API namespace.

The core is written once, against the functions of :data:`NUMPY`, with
NumPy's ``out=`` argument. For NumPy arrays (and SciPy sparse matrices)
:func:`ops_for` gives :data:`NUMPY`, whose functions *are* NumPy's ufuncs and
scipy's BLAS: the fast path writes into preallocated buffers through no
wrapper. For an array of another namespace (PyTorch, CuPy, array_api_strict)
it gives an :class:`ArrayAPIOps`: the same names over that namespace's own
functions, on the array's device. The standard has no ``out``, so these
compute a new array and, when ``out`` is given, assign it there (the
gradient's slices of the flat vector are written that way); the core
allocates no buffers for them. These two classes are the one place where the
two paths differ.
"""

# License: BSD-3-Clause

from contextlib import nullcontext

import numpy as np
from sklearn.externals import array_api_compat

from skae._blas import axpy

# elementwise functions (and matmul) the core calls, by their NumPy names,
# which are also the Array API standard's
_FUNCTIONS = (
    "abs",
    "add",
    "clip",
    "divide",
    "exp",
    "expm1",
    "log",
    "log1p",
    "matmul",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "sqrt",
    "square",
    "subtract",
    "tanh",
)
# comparisons: into a float ``out`` they give 0.0 and 1.0, as NumPy's do
_COMPARISONS = ("greater", "greater_equal", "less")


class NumPyOps:
    """NumPy's own functions under the names the core calls (see the module).

    Attributes
    ----------
    is_numpy : bool
        True: the fast path, in preallocated buffers.
    """

    is_numpy = True

    def __init__(self):
        for name in _FUNCTIONS + _COMPARISONS + ("copyto", "reciprocal", "vdot"):
            setattr(self, name, getattr(np, name))
        self.axpy = axpy
        self.errstate = np.errstate
        self.empty_like = np.empty_like
        self.ones_like = np.ones_like
        self.zeros_like = np.zeros_like
        self.finfo = np.finfo
        self.reshape = np.reshape

    @staticmethod
    def astype(x, dtype):
        return x.astype(dtype)

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def fill(out, value):
        out.fill(value)
        return out

    @staticmethod
    def sum(x, axis=None, out=None):
        return np.add.reduce(x, axis=axis, out=out)

    @staticmethod
    def rowwise_dot(A, B):
        """``sum_k A_ik B_ik`` for each row ``i``."""
        return np.einsum("ij,ij->i", A, B)

    @staticmethod
    def empty_for(shape, like):
        """A new array of ``shape``, of ``like``'s dtype (and device)."""
        return np.empty(shape, dtype=like.dtype)

    def __repr__(self):
        return "NUMPY"


NUMPY = NumPyOps()


class ArrayAPIOps:
    """An Array API namespace under the names the core calls.

    Each function computes a new array in the namespace and, given ``out``,
    assigns it there and returns ``out`` (a comparison into a float ``out``
    gives 0.0 and 1.0), as NumPy's ``out=`` would.

    Parameters
    ----------
    xp : module
        The array's namespace, as ``array_api_compat.array_namespace`` gives it.
    """

    is_numpy = False

    def __init__(self, xp):
        self.xp = xp
        for name in _FUNCTIONS:
            setattr(self, name, _writing_out(getattr(xp, name)))
        for name in _COMPARISONS:
            setattr(self, name, _comparison(xp, getattr(xp, name)))
        self.reciprocal = _writing_out(lambda x: 1 / x)
        self.finfo = xp.finfo
        self.reshape = xp.reshape

    @staticmethod
    def errstate(**kwargs):
        return nullcontext()  # the standard raises no floating-point warnings

    def sigmoid(self, z):
        """``1 / (1 + exp(-z))`` from ``exp(-|z|)``, which never overflows."""
        xp = self.xp
        e = xp.exp(-xp.abs(z))
        r = 1 / (1 + e)
        return xp.where(z >= 0, r, e * r)

    def axpy(self, a, x, y):
        y += a * x
        return y

    def vdot(self, a, b):
        return self.xp.sum(a * b)

    def sum(self, x, axis=None, out=None):
        return _assign(out, self.xp.sum(x, axis=axis))

    def rowwise_dot(self, A, B):
        return self.xp.sum(A * B, axis=1)

    def empty_for(self, shape, like):
        return self.xp.empty(
            shape, dtype=like.dtype, device=array_api_compat.device(like)
        )

    def empty_like(self, x):
        return self.xp.empty_like(x)

    def ones_like(self, x):
        return self.xp.ones_like(x)

    def zeros_like(self, x):
        return self.xp.zeros_like(x)

    def astype(self, x, dtype):
        return self.xp.astype(x, dtype)

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def copyto(self, dst, src):
        dst[...] = src

    def fill(self, out, value):
        out[...] = value
        return out

    def __repr__(self):
        return f"ArrayAPIOps({self.xp.__name__})"


def _assign(out, result):
    if out is None:
        return result
    out[...] = result
    return out


def _writing_out(function):
    def call(*args, out=None, **kwargs):
        return _assign(out, function(*args, **kwargs))

    call.__name__ = getattr(function, "__name__", "function")
    return call


def _comparison(xp, function):
    def call(x1, x2, out=None):
        result = function(x1, x2)
        return result if out is None else _assign(out, xp.astype(result, out.dtype))

    call.__name__ = getattr(function, "__name__", "comparison")
    return call


_NAMESPACES = {}


def ops_for(array):
    """The operations to compute on ``array`` with: :data:`NUMPY` for NumPy
    arrays, SciPy sparse matrices and Python numbers, else the
    :class:`ArrayAPIOps` of the array's own namespace."""
    if type(array) is np.ndarray:  # the fast path's only cost: one type test
        return NUMPY
    return _ops_of_namespace(array)


def _ops_of_namespace(array):
    if isinstance(array, (np.ndarray, np.generic, int, float)) or not (
        array_api_compat.is_array_api_obj(array)
    ):
        return NUMPY  # subclasses, scalars, sparse matrices
    xp = array_api_compat.array_namespace(array)
    if array_api_compat.is_numpy_namespace(xp):
        return NUMPY
    ops = _NAMESPACES.get(xp)
    if ops is None:
        ops = _NAMESPACES[xp] = ArrayAPIOps(xp)
    return ops
