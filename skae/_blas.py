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
            pools = _scipy_pools().lib_controllers
            _SHARED_LIMIT.saved = [(pool, pool.num_threads) for pool in pools]
            for pool, _ in _SHARED_LIMIT.saved:
                _set_num_threads(pool, 1)
        _SHARED_LIMIT.users += 1
    try:
        yield
    finally:
        with _SHARED_LIMIT.lock:
            _SHARED_LIMIT.users -= 1
            if _SHARED_LIMIT.users == 0:
                for pool, n_threads in _SHARED_LIMIT.saved:
                    _set_num_threads(pool, n_threads)
                _SHARED_LIMIT.saved = []


class _SharedLimit:
    """How many fits hold the limit, and the thread counts to restore."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.saved = []


_SHARED_LIMIT = _SharedLimit()


def _set_num_threads(pool, n_threads):
    """Set a pool's thread count from any thread.

    threadpoolctl 3.8 ignores an OpenBLAS change from a thread other than the
    one that first changed it, while that thread lives; the last fit to end
    is often not the first to begin, and the lock above already keeps
    threads from fighting, so the unguarded setter is used where it exists.
    """
    getattr(pool, "_real_set_num_threads", pool.set_num_threads)(n_threads)


@functools.cache
def _scipy_pools():
    """The thread pools of the BLAS bundled in scipy's folder (found once)."""
    controller = ThreadpoolController()
    scipy_dir = os.path.dirname(scipy.__file__)  # also prefixes ".../scipy.libs"
    paths = [info["filepath"] for info in controller.info()]
    return controller.select(filepath=[p for p in paths if p.startswith(scipy_dir)])
