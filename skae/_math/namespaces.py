"""Which namespace and device an array is on, and moving arrays between them.

NumPy arrays, SciPy sparse matrices and Python numbers are NumPy's; any other
Array API array (PyTorch, CuPy, array_api_strict) belongs to its own
namespace, on its own device. The core computes with the operations
:func:`~skae._math.array_api.ops_for` gives for an array; these helpers check,
convert and size arrays around it.
"""

# License: BSD-3-Clause

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.utils._array_api import _convert_to_numpy

from skae._math.array_api import NUMPY, array_api_compat, ops_for


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


def stacked_rows(A, B):
    """The rows of ``A`` then those of ``B``, in ``A``'s namespace: a CSR
    matrix if either is sparse (neither densified)."""
    if sparse.issparse(A) or sparse.issparse(B):
        return sparse.vstack([sparse.csr_matrix(A), sparse.csr_matrix(B)], "csr")
    if is_numpy(A):
        return np.concatenate([A, B])
    return array_api_compat.array_namespace(A).concat([A, B], axis=0)
