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
from scipy import sparse
from sklearn import get_config

try:  # recent scikit-learn releases vendor it
    from sklearn.externals import array_api_compat
except ImportError:  # before: the package itself, which dispatch requires there
    try:
        import array_api_compat
    except ImportError:  # no dispatch possible: every array is NumPy's
        array_api_compat = None
from scipy.linalg import blas
from sklearn.utils._array_api import _convert_to_numpy

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
    "max",
    "min",
    "ones_like",
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


def is_array(value):
    """Whether ``value`` is an array of any namespace (not a number or None)."""
    return hasattr(value, "shape") and hasattr(value, "dtype")


def dispatching():
    """Whether scikit-learn's ``array_api_dispatch`` is on: without it, every
    input is converted to NumPy."""
    return get_config()["array_api_dispatch"]


def is_numpy(array):
    """Whether ``array`` is computed by NumPy: an ndarray, a SciPy sparse
    matrix, or anything that is not another namespace's array (a list)."""
    return ops_for(array) is NUMPY


def device_of(array):
    """The device of an array of any namespace (``"cpu"`` for NumPy's)."""
    return "cpu" if is_numpy(array) else array_api_compat.device(array)


def namespace_name(array):
    """The name of the namespace that computes ``array``, for messages."""
    if sparse.issparse(array):
        return "SciPy sparse (NumPy only)"
    return "numpy" if is_numpy(array) else ops_for(array).xp.__name__


def check_same_namespace(X, fitted, estimator_name, method, subject="it was fitted"):
    """Raise if ``X`` is not in the namespace, on the device, of the fitted
    parameters ``fitted`` (scikit-learn's rule for its Array API estimators)."""
    if not dispatching():
        X = None  # validation will make a NumPy array of it
    if ops_for(X) is ops_for(fitted) and device_of(X) == device_of(fitted):
        return
    advice = ""
    if numpy_dtype(fitted.dtype) == np.float64 and not has_float64(X):
        advice = (
            f" X's device has no float64: a {numpy_dtype(fitted.dtype)} model "
            "cannot move there; fit on float32 data for it."
        )
    raise ValueError(
        f"Inputs passed to {estimator_name}.{method}() must use the same "
        "namespace and the same device as those passed to fit(): "
        f"{subject} on {namespace_name(fitted)} arrays on device "
        f"{device_of(fitted)!r}, and "
        f"got {namespace_name(X)} data on device {device_of(X)!r}. Convert X "
        "(for a NumPy model, np.asarray(X) or X.cpu().numpy()), or refit on "
        f"data like X.{advice}"
    )


def numpy_dtype(dtype):
    """The NumPy dtype of a dtype of any namespace (``torch.float32`` ->
    ``float32``), for the checks and sizes computed on the host."""
    try:
        return np.dtype(dtype)
    except TypeError:  # another namespace's: its name, after the module's
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def to_namespace_of(array, like):
    """``array`` in the namespace and on the device of ``like`` (through
    NumPy when both are elsewhere; as it is when it is there already)."""
    ops = ops_for(like)
    if ops_for(array) is ops and device_of(array) == device_of(like):
        return array
    if ops is NUMPY:
        return to_numpy(array)
    return ops.xp.asarray(to_numpy(array), device=array_api_compat.device(like))


def to_numpy(array):
    """``array`` as a NumPy array, copied to the host if it is elsewhere."""
    ops = ops_for(array)
    if ops is NUMPY:
        return array
    return _convert_to_numpy(array, ops.xp)


def _floats_of(array):
    """The real floating dtypes of ``array``'s namespace on its device."""
    xp = ops_for(array).xp
    return xp.__array_namespace_info__().dtypes(
        device=array_api_compat.device(array), kind="real floating"
    )


def has_float64(array):
    """Whether ``array``'s device holds float64 (Apple's MPS does not)."""
    return array is None or is_numpy(array) or "float64" in _floats_of(array)


def widest_float(array):
    """float64 of ``array``'s namespace, or float32 on a device without
    float64 (to sum many float32 values in)."""
    if is_numpy(array):
        return np.float64
    return _floats_of(array).get("float64", array.dtype)


def rows_sliceable(X, T):
    """CSR for row slicing, never densified; an autoencoder's target stays the
    very object that is its input (gathered once a batch)."""
    if not sparse.issparse(X):
        return X, T
    target_is_input = T is X
    X = X.tocsr()
    return X, (X if target_is_input else T)
