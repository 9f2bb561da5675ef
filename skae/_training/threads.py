"""BLAS thread pools sized to the work."""

# License: BSD-3-Clause

import functools
import os
import threading
import time
from contextlib import contextmanager

import scipy
from threadpoolctl import ThreadpoolController


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
    _SCIPY_LIMIT.enter()
    try:
        yield
    finally:
        _SCIPY_LIMIT.leave()


class _SharedLimit:
    """One thread for some BLAS pools, shared by the fits that ask for it.

    The first fit to enter saves the pools' thread counts and sets one; the
    last to leave restores them, whichever threads these are.
    """

    def __init__(self, pools):
        self._pools = pools
        self.lock = threading.Lock()
        self.users = 0
        self.saved = []

    def enter(self):
        with self.lock:
            if self.users == 0:
                self.saved = [(pool, pool.num_threads) for pool in self._pools()]
                for pool, _ in self.saved:
                    _set_num_threads(pool, 1)
            self.users += 1

    def threads_as_set(self):
        """Each pool's thread count as it was before any fit limited it."""
        with self.lock:
            if self.users:  # lowered by fits running now: what they saved
                return [n_threads for _, n_threads in self.saved]
            return [pool.num_threads for pool in self._pools()]

    def leave(self):
        with self.lock:
            self.users -= 1
            if self.users == 0:
                for pool, n_threads in self.saved:
                    _set_num_threads(pool, n_threads)
                self.saved = []


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


@functools.cache
def _numpy_pools():
    """The BLAS thread pools other than scipy's own: NumPy's products."""
    controller = ThreadpoolController()
    scipy_dir = os.path.dirname(scipy.__file__)
    paths = [
        info["filepath"]
        for info in controller.info()
        if info["user_api"] == "blas" and not info["filepath"].startswith(scipy_dir)
    ]
    return controller.select(filepath=paths)


_SCIPY_LIMIT = _SharedLimit(lambda: _scipy_pools().lib_controllers)
_NUMPY_LIMIT = _SharedLimit(lambda: _numpy_pools().lib_controllers)


# Multiply-adds of a network's largest matrix product below which NumPy's
# BLAS runs on one thread. Measured here (2 cores, OpenBLAS 0.3.30): the
# digits autoencoder fit, products of 1797 x 64 x 25 = 2.9e6, takes 0.160 s
# with one thread and 0.175 s with two on a quiet machine, and 0.46 s against
# 1.5 s beside four busy processes, whose cores the second thread waits for;
# the benchmark's W1 (200 x 256 x 256 = 1.3e7), W3 (200 x 784 x 128 = 2.0e7)
# and W5 (10000 x 64 x 25 = 1.6e7) run 20-40% faster with two threads quiet.
SMALL_PRODUCT = 8e6


def _free_cores():
    """Cores no runnable thread of another process wants now: the cores this
    process may run on, less one for the calling thread, less the runnable
    threads that are not this process's (Linux's ``/proc``); None elsewhere."""
    try:
        with open("/proc/loadavg") as loadavg:  # "... running/total last_pid"
            running = int(loadavg.read().split()[3].split("/")[0])
        own = 0
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as stat:
                line = stat.read()
            own += line[line.rindex(")") + 2] == "R"  # the state follows the name
    except (OSError, ValueError, IndexError):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return cores - 1 - (running - own)


class BlasThreadTuner:
    """NumPy's BLAS threads for a training run, sized to its work.

    Small products (see :data:`SMALL_PRODUCT`) gain nothing from a second
    thread on a quiet machine and lose much on a busy one: they run on one
    thread. Larger ones gain on a quiet machine and lose on a busy one, which
    no size tells apart, so the run measures, on its own units of work
    (solver steps, or L-BFGS evaluations), one thread first, which is cheap
    whatever the machine: after one unit of warm-up on one thread, a block of
    units on one thread lasting at least ``block_seconds``, then as much work
    with the threads as they are. That block stops at its first unit slower
    per row than ``abort`` times one thread: beside a busy process each of
    its products waits for the other core, and a step can take ten times as
    long as on one thread. The rest runs with the faster, one thread when
    within ``margin`` (it is kinder to other processes).

    Where the system tells (Linux), the threads as set are not tried at all
    when at every unit of the one-thread block another process's runnable
    threads wanted every other core: one unit as set would cost more there
    than the whole comparison is worth; the load is looked at again after
    another block's work. When a core looked free and one thread still did
    as well, the load may come and go (a process busy 20 ms in every 100):
    the comparison is made again after one block's work, then two, four...
    Where the system does not tell, the first stop of the block as set is
    looked at again after a block, and any later one is a decision.

    The comparison is made again later, for a machine whose load changes:
    after ``period`` times a block's work, the period doubling each time, and
    never before the time the last comparison lost in the slower threads is
    at most ``budget`` of the time run since. On a busy machine the
    experiments then cost a few percent of a fit; timing whole epochs made a
    3-epoch fit run its last epoch on one thread, and comparing both ways
    every few blocks ran two of every three timed steps on two threads,
    doubling a fit beside a busy process. Where NumPy's BLAS already has one
    thread (the user's ``threadpool_limits`` or ``OPENBLAS_NUM_THREADS``, or
    one core) nothing changes; a thread count is only ever lowered, and
    restored at the end.

    Parameters
    ----------
    product_size : int
        Multiply-adds of the run's largest matrix product.
    period : int, default=8
        Blocks' worth of work before the first comparison is made again.
    margin : float, default=1.1
        How much slower one thread may be and still be kept.
    block_seconds : float, default=0.02
        Least duration of the block timed on one thread.
    abort : float, default=2.0
        How many times slower per row than one thread a unit with the
        threads as set ends their block at once.
    budget : float, default=0.025
        The largest share of the run's time a comparison may lose: on a
        quiet machine, where one thread is slower, a fit of 120 steps makes
        its first comparison only.
    """

    def __init__(
        self,
        product_size,
        period=8,
        margin=1.1,
        block_seconds=0.02,
        abort=2.0,
        budget=0.025,
    ):
        self.period, self.margin, self.block_seconds = period, margin, block_seconds
        self.abort, self.budget = abort, budget
        self.single = False  # whether this run holds the one-thread limit
        # then "one thread", "as set", "decided"
        self._phase = "warm-up"
        self._decision = False  # one thread after the comparison
        self._seconds = self._work = 0.0  # of the block being timed
        self._one_rate = None  # seconds per work on one thread
        # what the system said of the load during that block: whether it
        # says (Linux), and whether a core was free at some unit
        self._load_known = self._free_seen = False
        self._rechecking = False  # a look again: the period stays
        self._spacing = 1  # blocks of one thread before the next look again
        self._aborts = 0  # blocks as set stopped for their slowness
        self._block_work = self._left = 0.0
        self._start = None
        # the threads as the user set them, not as another fit running at
        # the same time lowered them: a small fit that took one thread for
        # them would skip the limit and get the threads back mid-run when
        # the other fit ended (OpenBLAS's sums split by thread count: its
        # results would then differ from the same fit alone)
        self.active = any(n > 1 for n in _NUMPY_LIMIT.threads_as_set())
        if self.active and product_size < SMALL_PRODUCT:
            self._use(single=True)
            self.active = False  # one thread throughout: nothing to time

    def begin(self):
        """Start a unit of work, with the threads it is to be timed with."""
        if not self.active:
            return
        phase = self._phase
        single = phase in ("warm-up", "one thread") or (
            phase == "decided" and self._decision
        )
        self._use(single=single)
        self._start = time.perf_counter()

    def end(self, work=1.0):
        """End the unit of work begun last; ``work`` is its size (its rows)."""
        if not self.active:
            return
        seconds = time.perf_counter() - self._start
        phase = self._phase
        if phase == "warm-up":
            self._phase = "one thread"
            return
        if phase == "decided":
            self._left -= work
            if self._left <= 0:  # compare again, later next time
                if not self._rechecking:
                    self.period *= 2
                self._phase, self._rechecking = "one thread", False
            return
        self._seconds += seconds
        self._work += work
        if phase == "one thread":
            free = _free_cores()
            self._load_known = free is not None
            self._free_seen = self._free_seen or free is None or free > 0
        if phase == "one thread" and self._seconds >= self.block_seconds:
            self._one_rate = self._seconds / self._work
            self._block_work = self._work
            self._seconds, self._work = 0.0, 0.0
            if self._free_seen:
                self._phase = "as set"
            else:  # every other core taken throughout: one thread, untried
                self._look_again(1)
            self._free_seen = False
        elif phase == "as set":
            rate = self._seconds / self._work
            slower = rate > self.abort * self._one_rate  # far slower: no more
            if not (slower or self._work >= self._block_work):
                return
            if not (slower or self._one_rate < self.margin * rate):
                self._spacing, self._aborts = 1, 0
                self._decide(False, rate)
            elif self._load_known:
                # a core looked free, yet one thread did as well: the load
                # may come and go; look again, later each time
                self._look_again(self._spacing)
                self._spacing *= 2
            elif slower and not self._aborts:  # perhaps a busy moment
                self._aborts = 1
                self._look_again(1)
            else:  # the system does not say: the cost counts
                self._decide(True, rate)

    def _look_again(self, blocks):
        """One thread for ``blocks`` blocks' work, then compare again (the
        period kept)."""
        self._decision, self._left = True, blocks * self._block_work
        self._rechecking = True
        self._phase, self._seconds, self._work = "decided", 0.0, 0.0

    def _decide(self, single, rate):
        """Keep one thread (``single``) or the threads as set, whose rate was
        ``rate``, until the next comparison."""
        self._decision = single
        if single:  # the work run as set cost this much more than one thread
            lost, kept = (rate - self._one_rate) * self._work, self._one_rate
        else:  # and the block on one thread this much more than as set
            lost, kept = (self._one_rate - rate) * self._block_work, rate
        run_for = max(lost, 0.0) / self.budget  # seconds, for the loss's share
        self._left = max(self.period * self._block_work, run_for / kept)
        self._phase, self._seconds, self._work = "decided", 0.0, 0.0

    def close(self):
        """Give the threads back as they were."""
        self._use(single=False)

    def _use(self, single):
        if single and not self.single:
            _NUMPY_LIMIT.enter()
        elif self.single and not single:
            _NUMPY_LIMIT.leave()
        self.single = single
