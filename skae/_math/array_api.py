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

import functools
from contextlib import nullcontext

import numpy as np

try:  # recent scikit-learn releases vendor it
    from sklearn.externals import array_api_compat
except ImportError:  # before: the package itself, which dispatch requires there
    try:
        import array_api_compat
    except ImportError:  # no dispatch possible: every array is NumPy's
        array_api_compat = None
from scipy.linalg import blas

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
# functions of the same name and use in NumPy and the standard, called as they are
_SAME_NAMES = (
    "empty_like",
    "finfo",
    "isnan",
    "max",
    "min",
    "ones_like",
    "prod",
    "reshape",
    "take",
    "zeros_like",
)
# those of two operands, either of which may be a Python number
_BINARY = ("add", "divide", "maximum", "minimum", "multiply", "subtract")
# comparisons: into a float ``out`` they give 0.0 and 1.0, as NumPy's do
_COMPARISONS = ("greater", "greater_equal", "less")


_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def axpy(a, x, y):
    """Add ``a * x`` to the 1-D contiguous float array ``y`` in place.

    One BLAS call instead of NumPy's ``y += a * x``, which makes a temporary
    and two passes: measured twice as fast on a 200,000-vector here, and four
    times on a 3,000-vector, where call overhead dominates. Training calls it
    under ``single_threaded_scipy_blas`` (scipy's BLAS thread pool).
    """
    result = _AXPY[y.dtype](x, y, a=a)
    if result is not y:  # BLAS worked on a copy (never for our own vectors)
        y[...] = result
    return y


def _row_max(A):
    """The largest entry of each row of a 2-D array (nan where a row has one).

    Read at each row's ``argmax``: NumPy's maximum along short rows (a
    softmax's classes) takes twice as long as its argmax and the gather.
    """
    return A[np.arange(A.shape[0]), A.argmax(axis=1)]


def _row_sums(A):
    """The sum of each row of a 2-D array, as one BLAS matrix-vector product
    (NumPy's reduction along short rows takes four times as long)."""
    return A @ np.ones(A.shape[1], A.dtype)


def _concat_columns(arrays, out=None):
    """The 2-D ``arrays`` side by side (into ``out`` when given)."""
    return np.concatenate(arrays, axis=1, out=out)


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
        # sum(x, axis=0, dtype=None, out=None): the ufunc's reduce itself
        self.sum = np.add.reduce
        # sum_k A_ik B_ik for each row i, and sum_i A_ik B_ik for each column k
        self.rowwise_dot = functools.partial(np.einsum, "ij,ij->i")
        self.columnwise_dot = functools.partial(np.einsum, "ij,ij->j")
        self.row_max = _row_max
        self.row_sums = _row_sums
        self.concat_columns = _concat_columns
        self.errstate = np.errstate
        for name in _SAME_NAMES:
            setattr(self, name, getattr(np, name))

    @staticmethod
    def astype(x, dtype):
        return x.astype(dtype, copy=False)

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def fill(out, value):
        out.fill(value)
        return out

    @staticmethod
    def mask_like(mask, like):
        """A boolean NumPy ``mask`` to multiply ``like`` with (NumPy casts)."""
        return mask

    @staticmethod
    def put_where(out, value, condition):
        """``out`` with ``value`` where ``condition`` holds."""
        np.copyto(out, value, where=condition)
        return out

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
            function = getattr(xp, name)
            if name in _BINARY:
                function = _with_scalars(xp, function)
            setattr(self, name, _writing_out(function))
        for name in _COMPARISONS:
            function = _with_scalars(xp, getattr(xp, name))
            setattr(self, name, _comparison(xp, function))
        self.reciprocal = _writing_out(lambda x: 1 / x)
        for name in _SAME_NAMES:
            setattr(self, name, getattr(xp, name))

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

    def sum(self, x, axis=0, dtype=None, out=None):
        """Sum along ``axis`` (0 by default, as ``numpy.add.reduce``)."""
        return _assign(out, self.xp.sum(x, axis=axis, dtype=dtype))

    def rowwise_dot(self, A, B):
        return self.xp.sum(A * B, axis=1)

    def row_max(self, A):
        return self.xp.max(A, axis=1)

    def row_sums(self, A):
        return self.xp.sum(A, axis=1)

    def concat_columns(self, arrays, out=None):
        return _assign(out, self.xp.concat(arrays, axis=1))

    def columnwise_dot(self, A, B):
        return self.xp.sum(A * B, axis=0)

    def empty_for(self, shape, like):
        return self.xp.empty(
            shape, dtype=like.dtype, device=array_api_compat.device(like)
        )

    def astype(self, x, dtype):
        return self.xp.astype(x, dtype, copy=False)

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def copyto(self, dst, src):
        dst[...] = src

    def fill(self, out, value):
        out[...] = value
        return out

    def mask_like(self, mask, like):
        """A boolean NumPy ``mask`` in ``like``'s namespace, dtype and device."""
        return self.xp.asarray(
            mask, dtype=like.dtype, device=array_api_compat.device(like)
        )

    def put_where(self, out, value, condition):
        return _assign(out, self.xp.where(condition, value, out))

    def __repr__(self):
        return f"ArrayAPIOps({self.xp.__name__})"


def _assign(out, result):
    if out is None:
        return result
    out[...] = result
    return out


def _with_scalars(xp, function):
    """``function`` with its Python-number operands made arrays like the
    array operand (PyTorch's functions take no Python numbers there)."""

    def call(x1, x2, **kwargs):
        if isinstance(x1, (int, float)):
            x1 = xp.asarray(x1, dtype=x2.dtype, device=array_api_compat.device(x2))
        elif isinstance(x2, (int, float)):
            x2 = xp.asarray(x2, dtype=x1.dtype, device=array_api_compat.device(x1))
        return function(x1, x2, **kwargs)

    return call


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
    if (
        array_api_compat is None
        or isinstance(array, (np.ndarray, np.generic, int, float))
        or not array_api_compat.is_array_api_obj(array)
    ):
        return NUMPY  # subclasses, scalars, sparse matrices
    xp = array_api_compat.array_namespace(array)
    if array_api_compat.is_numpy_namespace(xp):
        return NUMPY
    ops = _NAMESPACES.get(xp)
    if ops is None:  # setdefault: threads racing here all get the one stored
        ops = _NAMESPACES.setdefault(xp, ArrayAPIOps(xp))
    return ops


def reused_or_empty_like(buffer, like):
    """``buffer`` when it is an array of ``like``'s type, shape and dtype, else
    a new empty one like ``like`` (a scratch array kept between calls)."""
    if (
        type(buffer) is not type(like)  # None, or another namespace's
        or buffer.shape != like.shape
        or buffer.dtype != like.dtype
    ):
        return ops_for(like).empty_like(like)
    return buffer
