"""Flat-vector BLAS updates, and the BLAS thread pools they must not fight."""

# License: BSD-3-Clause

import functools
import os
import threading
from contextlib import contextmanager

import numpy as np
import scipy
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def axpy(a, x, y):
    """Add ``a * x`` to the 1-D contiguous float array ``y`` in place.

    One BLAS call instead of NumPy's ``y += a * x``, which makes a temporary
    and two passes: measured twice as fast on a 200,000-vector here, and four
    times on a 3,000-vector, where call overhead dominates. Call it under
    :func:`single_threaded_scipy_blas`.
    """
    result = _AXPY[y.dtype](x, y, a=a)
    if result is not y:  # BLAS worked on a copy (never for our own vectors)
        y[...] = result
    return y


@contextmanager
def single_threaded_scipy_blas():
    """Context in which scipy's own BLAS runs on the calling thread only.

    scipy's wheels bundle an OpenBLAS beside NumPy's, each with its own thread
    pool. Between calls their idle workers spin; on a few cores scipy's then
    starve NumPy's matrix products (measured here: 30x slower when axpy and
    matmul alternate, 4x for each L-BFGS evaluation). With one thread, scipy's
    pool has no worker to spin. Where both share one BLAS, nothing changes.

    The limit is process-wide: fits running at once in several threads share
    it. The first to enter sets it, the last to leave restores exactly the
    limits that were there before the first entered.
    """
    with _SHARED_LIMIT.lock:
        if _SHARED_LIMIT.users == 0:
            _SHARED_LIMIT.limiter = _scipy_pools().limit(limits=1)
        _SHARED_LIMIT.users += 1
    try:
        yield
    finally:
        with _SHARED_LIMIT.lock:
            _SHARED_LIMIT.users -= 1
            if _SHARED_LIMIT.users == 0:
                _SHARED_LIMIT.limiter.restore_original_limits()
                _SHARED_LIMIT.limiter = None


class _SharedLimit:
    """How many fits hold the limit, and the limiter that restores it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.limiter = None


_SHARED_LIMIT = _SharedLimit()


@functools.cache
def _scipy_pools():
    """The thread pools of the BLAS bundled in scipy's folder (found once)."""
    controller = ThreadpoolController()
    scipy_dir = os.path.dirname(scipy.__file__)  # also prefixes ".../scipy.libs"
    paths = [info["filepath"] for info in controller.info()]
    return controller.select(filepath=[p for p in paths if p.startswith(scipy_dir)])
