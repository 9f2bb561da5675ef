"""Out-of-core training: an AutoEncoder fitted by dask-ml's ``Incremental``.

An ``AutoEncoder(n_components=16, solver="adam", random_state=0)`` (64 -> 16
sigmoid -> 64 identity, squared error) is trained for one pass over a Dask
array several times larger than one worker's ``memory_limit``, by
``dask_ml.wrappers.Incremental(..., shuffle_blocks=False).fit(X)`` on a
``distributed.LocalCluster`` of worker processes (one thread each), and by
the same ``partial_fit`` loop over the same blocks as NumPy arrays in this
process. Measured:

``data``
    ``X`` is generated lazily, block by block, on whichever worker runs the
    block's task (``dask.array.map_blocks`` of :func:`data_block`, no input
    array): rows ``x = z A + 0.1 e`` with ``z`` uniform on ``[0, 1]^16``,
    ``e`` standard normal in 64 features and a fixed ``A`` (16 x 64), each
    block from ``numpy.random.default_rng([seed, block index])``. The array
    is chunked along rows only (``(block_rows, 64)``; dask-ml hands a
    ``partial_fit`` only the first column block of each row block), float64,
    and ``--times`` times a worker's ``memory_limit`` in size; its blocks
    never exist together anywhere.
``in-process loop``
    ``for i in blocks: est.partial_fit(data_block(i))`` in this process under
    ``threadpool_limits(1, "blas")`` (a worker's single thread), before the
    cluster starts. Rows per second of the ``partial_fit`` calls alone and of
    the whole loop (generating each block, then training on it), and the
    loop's peak RSS (sampled every 10 ms) above the process's RSS before it.
``Incremental``
    Two runs, each on a fresh cluster: ``Incremental.fit(X)``, one graph of
    all the blocks; and ``Incremental.partial_fit(X.blocks[i : i + group])``
    for ``i = 0, group, 2 group, ...`` (``--group`` blocks a call, 4; 0 skips
    it), the same blocks in the same order, one small graph at a time. The
    generating tasks have no inputs, so the scheduler hands them to any idle
    worker as soon as it can, however far ahead of the sequential chain of
    ``partial_fit`` tasks; with more than one worker, the worker not
    training generates the coming blocks and holds them (spilling to disk
    past distributed's thresholds) until the chain reaches them. A call of
    ``group`` blocks bounds that to ``group`` blocks. For each run: the wall
    time (building the graph, generating the blocks on the workers, moving
    the pickled model between them, every ``partial_fit``), after the
    workers have imported skae and dask-ml (not timed), and its rows per
    second; from ``distributed``'s task stream the time inside the
    ``partial_fit`` tasks, how many of them (and of the generating tasks) ran
    on each worker, and how often the model changed workers. Per worker: its
    ``memory_limit``, its RSS idle (after the imports, before the fit), its
    peak RSS (``getrusage`` ``ru_maxrss``, the process's whole life; a 10 ms
    sampler's maximum during the fit; the maximum of distributed's own
    ``SystemMonitor`` samples), the most keys it held at once, what it
    spilled to disk (count and bytes, and whether blocks or models), what it
    sent to the other worker, its process id before and after (a worker
    killed for its memory comes back with another), and the warnings of its
    log ("Pausing worker", "Unmanaged memory use is high", ...); the
    nannies' warnings (restarts) are caught in this process.
``correctness``
    The parameters of every fit against the in-process loop's (``coefs_``
    and ``intercepts_``): the largest absolute difference
    (``shuffle_blocks=False``: the same blocks
    in the same order, the same ``random_state``; the same BLAS thread
    count), and the reconstruction error of a held-out block (mean squared
    error per entry; the best rank-16 reconstruction leaves 3/4 of the
    noise's 0.01, 0.0075) against ``PCA(16)`` fitted on the first block.

``Incremental`` calls ``partial_fit`` on one block at a time, in order, each
call waiting for the model the previous one returned: the training is
sequential wherever the blocks are, so more workers add memory and data
locality, never speed.

Usage::

    python benchmarks/bench_dask.py            # 2 workers x 1 GiB, 4x: ~1 minute
    python benchmarks/bench_dask.py --quick    # 0.5x a worker's limit, ~20 s
    python benchmarks/bench_dask.py --workers 1 --times 2 --group 0

A worker that has imported dask-ml (which imports numba, pandas and pyarrow)
holds about 330 MiB before any data: with a ``memory_limit`` of 400 MiB it
pauses (past 80%) as soon as it imports them and the fit makes no progress
(stopped after 60 s); 1 GiB leaves about 390 MiB below the 70% spill
threshold, room for several blocks.

dask, distributed and dask-ml are imported by the functions that use them,
so the module imports without them. Nothing is asserted.
"""

# License: BSD-3-Clause

import argparse
import logging
import os
import pickle
import platform
import resource
import threading
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

import skae
from skae import AutoEncoder

N_FEATURES = 64
RANK = 16  # the dimension of the data's signal
NOISE = 0.1  # the standard deviation of the noise of every entry
N_COMPONENTS = 16
SEED = 0
SAMPLE_SECONDS = 0.01
MiB = 2**20


def make_estimator():
    return AutoEncoder(n_components=N_COMPONENTS, solver="adam", random_state=SEED)


def mixing_matrix(n_features=N_FEATURES, seed=SEED):
    """The fixed ``A`` of ``x = z A + noise`` (RANK x n_features)."""
    return np.random.default_rng(seed).standard_normal((RANK, n_features)) / np.sqrt(
        RANK
    )


def data_block(index, n_rows, n_features=N_FEATURES, seed=SEED):
    """Block ``index`` of the data: ``n_rows`` rows of ``z A + NOISE e``."""
    rng = np.random.default_rng([seed, index])
    Z = rng.random((n_rows, RANK))
    X = rng.standard_normal((n_rows, n_features))
    X *= NOISE
    mixing = mixing_matrix(n_features, seed)
    step = 8192  # no temporary of the block's size
    for start in range(0, n_rows, step):
        X[start : start + step] += Z[start : start + step] @ mixing
    return X


def _dask_block(block_info=None, seed=SEED):
    info = block_info[None]
    n_rows, n_features = info["chunk-shape"]
    return data_block(info["chunk-location"][0], n_rows, n_features, seed)


def block_sizes(n_rows, block_rows):
    sizes = [block_rows] * (n_rows // block_rows)
    if n_rows % block_rows:
        sizes.append(n_rows % block_rows)
    return sizes


def dask_data(n_rows, block_rows, n_features=N_FEATURES):
    """The lazy Dask array: one generating task per row block."""
    import dask.array as da
    from dask.base import tokenize

    chunks = (tuple(block_sizes(n_rows, block_rows)), (n_features,))
    return da.map_blocks(
        _dask_block,
        chunks=chunks,
        dtype=np.float64,
        meta=np.empty((0, n_features)),
        name="data_block-" + tokenize(n_rows, block_rows, n_features, SEED),
    )


def parse_bytes(text):
    from dask.utils import parse_bytes

    return parse_bytes(text)


def _fmt_mib(n_bytes):
    return f"{n_bytes / MiB:.0f} MiB"


def _rate(rows, seconds):
    return f"{rows / seconds / 1e3:,.0f} k"


class RSSSampler:
    """The peak RSS of this process, sampled in a thread."""

    def __init__(self, interval=SAMPLE_SECONDS):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self):
        self.start = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def reconstruction_mse(estimator, X):
    return float(
        np.mean((X - estimator.inverse_transform(estimator.transform(X))) ** 2)
    )


def max_parameter_difference(a, b):
    return max(
        float(np.max(np.abs(p - q)))
        for p, q in zip(
            [*a.coefs_, *a.intercepts_], [*b.coefs_, *b.intercepts_], strict=True
        )
    )


# -- the loop in this process ------------------------------------------------------


def in_process_loop(sizes):
    """``partial_fit`` over the blocks in order, one block in memory at a time."""
    warm = make_estimator()
    warm.partial_fit(data_block(10**6, 1000))  # first-call costs, not timed
    estimator = make_estimator()
    fit_seconds = 0.0
    with threadpool_limits(1, user_api="blas"), RSSSampler() as memory:
        start = time.perf_counter()
        for index, n_rows in enumerate(sizes):
            block = data_block(index, n_rows)
            tick = time.perf_counter()
            estimator.partial_fit(block)
            fit_seconds += time.perf_counter() - tick
            del block
        total_seconds = time.perf_counter() - start
    return estimator, fit_seconds, total_seconds, memory


# -- the cluster -------------------------------------------------------------------


def _worker_imports():
    import dask_ml.wrappers  # noqa: F401
    import psutil

    import skae  # noqa: F401

    return psutil.Process().memory_info().rss


def _worker_start_sampler(dask_worker):
    import psutil

    process = psutil.Process()
    state = {"peak": 0, "keys": 0, "spilled": set(), "stop": threading.Event()}

    def run():
        while not state["stop"].is_set():
            state["peak"] = max(state["peak"], process.memory_info().rss)
            state["keys"] = max(state["keys"], len(dask_worker.data))
            try:  # the kinds of the keys on disk now (the event loop moves them)
                on_disk = list(getattr(dask_worker.data, "slow", {}))
            except RuntimeError:
                on_disk = []
            state["spilled"].update(_key_kind(key) for key in on_disk)
            state["stop"].wait(SAMPLE_SECONDS)

    threading.Thread(target=run, daemon=True).start()
    dask_worker._bench_dask_sampler = state
    return os.getpid()


def _key_kind(key):
    """ "model" (a partial_fit's result), "block" (generated data) or "alias"."""
    name = str(key[0] if isinstance(key, tuple) else key)
    if name.startswith("fit-"):
        return "model"
    return "block" if name.startswith("data_block-") else "alias"


def _worker_report(dask_worker):
    state = dask_worker._bench_dask_sampler
    state["stop"].set()
    spill = getattr(dask_worker.data, "cumulative_metrics", {})
    monitor = dask_worker.monitor.quantities.get("memory", ())
    return {
        "pid": os.getpid(),
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "sampled_peak": state["peak"],
        "monitor_peak": max(monitor, default=0),
        "keys": state["keys"],
        "spilled_kinds": sorted(state["spilled"]),
        "spilled_count": int(spill.get(("disk-write", "count"), 0)),
        "spilled_bytes": int(spill.get(("disk-write", "bytes"), 0)),
        "sent_count": int(dask_worker.transfer_outgoing_count_total),
        "sent_bytes": int(dask_worker.transfer_outgoing_bytes_total),
        "memory_limit": dask_worker.memory_manager.memory_limit,
    }


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(f"{record.name}: {record.getMessage()}")


def incremental_on_cluster(n_rows, block_rows, n_workers, memory_limit, group):
    """Train on a fresh cluster: ``Incremental.fit(X)`` when ``group`` is None,
    else ``Incremental.partial_fit`` on ``group`` blocks of ``X`` at a time."""
    from dask_ml.wrappers import Incremental
    from distributed import Client, LocalCluster, get_task_stream

    nanny_warnings = _Warnings()
    logging.getLogger("distributed").addHandler(nanny_warnings)
    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    )
    client = Client(cluster)
    try:
        startup = time.perf_counter() - start
        idle = client.run(_worker_imports)
        pids_before = client.run(_worker_start_sampler)
        X = dask_data(n_rows, block_rows)
        incremental = Incremental(make_estimator(), shuffle_blocks=False)
        with get_task_stream(client) as stream:
            tick = time.perf_counter()
            if group is None:
                incremental.fit(X)
            else:
                for first in range(0, X.numblocks[0], group):
                    incremental.partial_fit(X.blocks[first : first + group])
            fit_seconds = time.perf_counter() - tick
        reports = client.run(_worker_report)
        pids_after = {address: report["pid"] for address, report in reports.items()}
        logs = client.get_worker_logs()
        workers = sorted(idle)
        log_warnings = {
            address: [
                message.split(" - ", 3)[-1]
                for level, message in logs.get(address, ())
                if level in ("WARNING", "ERROR", "CRITICAL")
            ]
            for address in workers
        }
        return {
            "estimator": incremental.estimator_,
            "startup": startup,
            "fit_seconds": fit_seconds,
            "workers": workers,
            "idle": idle,
            "reports": reports,
            "same_workers": pids_before == pids_after,
            "log_warnings": log_warnings,
            "nanny_warnings": list(nanny_warnings.messages),
            "tasks": list(stream.data),
        }
    finally:
        client.close()
        cluster.close()
        logging.getLogger("distributed").removeHandler(nanny_warnings)


def task_summary(tasks, workers):
    """partial_fit seconds, tasks per worker, the model's moves between workers."""
    fits, counts = [], {w: {"fit": 0, "data": 0} for w in workers}
    for task in tasks:
        key = task["key"]
        compute = [s for s in task["startstops"] if s["action"] == "compute"]
        if not compute:
            continue
        kind = {"model": "fit", "block": "data"}.get(_key_kind(key))
        if kind is None or (kind == "fit" and key[1] < 0):
            continue  # X.blocks[...]'s aliases; the initial model (a literal)
        counts.setdefault(task["worker"], {"fit": 0, "data": 0})[kind] += 1
        if kind == "fit":
            fits.append((compute[0]["start"], task["worker"], compute[0]["stop"]))
    fits.sort()
    seconds = sum(stop - begin for begin, _, stop in fits)
    moves = sum(a[1] != b[1] for a, b in zip(fits, fits[1:]))
    return seconds, counts, moves, len(fits)


# -- report ------------------------------------------------------------------------


def run(n_workers, memory_limit, times, block_rows, group):
    limit = parse_bytes(memory_limit)
    # whole blocks, at least ``times`` the limit
    n_rows = int(np.ceil(times * limit / (block_rows * N_FEATURES * 8))) * block_rows
    sizes = block_sizes(n_rows, block_rows)
    nbytes = n_rows * N_FEATURES * 8
    print(
        f"\nX: {n_rows:,} rows x {N_FEATURES} features float64 = {_fmt_mib(nbytes)} "
        f"({nbytes / limit:.2f}x a worker's memory_limit of {_fmt_mib(limit)}, "
        f"{nbytes / (limit * n_workers):.2f}x the cluster's), {len(sizes)} blocks "
        f"of {block_rows:,} rows ({_fmt_mib(block_rows * N_FEATURES * 8)}); "
        f"{n_workers} worker process(es) x 1 thread, a fresh cluster for each run"
    )

    local, local_fit, local_total, memory = in_process_loop(sizes)
    runs = {"Incremental.fit(X)": None}
    if group:
        runs[f"Incremental.partial_fit(X.blocks[i : i + {group}]), in turn"] = group
    results = {
        name: incremental_on_cluster(n_rows, block_rows, n_workers, memory_limit, g)
        for name, g in runs.items()
    }

    print(f"\n## Training speed: one pass over {n_rows:,} rows\n")
    print(
        "| run | seconds | rows / s | partial_fit seconds | partial_fit rows / s "
        "| partial_fit calls | the model changed workers |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| in-process loop (NumPy blocks, 1 BLAS thread) | {local_total:.1f} | "
        f"{_rate(n_rows, local_total)} | {local_fit:.1f} | {_rate(n_rows, local_fit)} "
        f"| {len(sizes)} | - |"
    )
    for name, result in results.items():
        seconds, counts, moves, n_fits = task_summary(
            result["tasks"], result["workers"]
        )
        result["counts"] = counts
        print(
            f"| {name} | {result['fit_seconds']:.1f} | "
            f"{_rate(n_rows, result['fit_seconds'])} | {seconds:.1f} | "
            f"{_rate(n_rows, seconds)} | {n_fits} | {moves} |"
        )
    startups = ", ".join(f"{r['startup']:.1f} s" for r in results.values())
    print(
        f"\n(the in-process loop's peak RSS {_fmt_mib(memory.peak)}, "
        f"{_fmt_mib(memory.peak - memory.start)} above its RSS before the loop; "
        f"the clusters' starts ({startups}) and the workers' imports are not "
        "counted; the model pickles to "
        f"{len(pickle.dumps(local)) / 1024:.0f} KiB)"
    )

    print("\n## Memory of each worker\n")
    print(
        "| run | worker | memory_limit | RSS idle (imports done) "
        "| peak RSS (ru_maxrss) | peak / limit | peak sampled (10 ms) "
        "| peak (distributed's monitor) | most keys held | spilled to disk "
        "| sent to the other worker | partial_fit tasks | generating tasks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        for number, address in enumerate(result["workers"]):
            r = result["reports"][address]
            c = result["counts"].get(address, {"fit": 0, "data": 0})
            kinds = f" ({', '.join(r['spilled_kinds'])})" if r["spilled_kinds"] else ""
            print(
                f"| {name} | {number} | {_fmt_mib(r['memory_limit'])} | "
                f"{_fmt_mib(result['idle'][address])} | {_fmt_mib(r['maxrss'])} | "
                f"{r['maxrss'] / r['memory_limit']:.0%} | "
                f"{_fmt_mib(r['sampled_peak'])} | {_fmt_mib(r['monitor_peak'])} | "
                f"{r['keys']} | {r['spilled_count']} keys, "
                f"{_fmt_mib(r['spilled_bytes'])}{kinds} | {r['sent_count']} times, "
                f"{_fmt_mib(r['sent_bytes'])} | "
                f"{c['fit']} | {c['data']} |"
            )
    print(
        "\n(spilled to disk: distributed's count of keys written to disk, with "
        "the kinds a 10 ms sampler saw on disk; sent: get_data requests served "
        "and the bytes by distributed's own size estimate, exact for a NumPy "
        "block, a few bytes for the model (sys.getsizeof))"
    )
    for name, result in results.items():
        print(
            f"\n{name}: the same worker processes before and after "
            f"(none restarted): {result['same_workers']}"
        )
        for number, address in enumerate(result["workers"]):
            warned = result["log_warnings"][address]
            print(f"worker {number}: {len(warned)} warnings in its log")
            for message in sorted(set(warned)):
                print(f"    {warned.count(message)} x {message[:160]}")
        nanny = result["nanny_warnings"]
        print(f"nanny / scheduler warnings in this process: {len(nanny)}")
        for message in nanny[:5]:
            print(f"    {message[:160]}")

    held_out = data_block(len(sizes), 20_000)
    pca = PCA(N_COMPONENTS).fit(data_block(0, sizes[0]))
    pca_mse = float(
        np.mean((held_out - pca.inverse_transform(pca.transform(held_out))) ** 2)
    )
    print("\n## Correctness\n")
    print(
        "| run | largest parameter difference from the in-process loop | "
        "n_iter_ | t_ | held-out MSE |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| in-process loop | - | {local.n_iter_} | {local.t_} | "
        f"{reconstruction_mse(local, held_out):.5f} |"
    )
    for name, result in results.items():
        remote = result["estimator"]
        print(
            f"| {name} | {max_parameter_difference(remote, local):.1e} | "
            f"{remote.n_iter_} | {remote.t_} | "
            f"{reconstruction_mse(remote, held_out):.5f} |"
        )
    print(
        f"| PCA(16) fitted on block 0 | - | - | - | {pca_mse:.5f} |\n"
        f"\n(held-out: {len(held_out):,} rows of block {len(sizes)}, not trained "
        f"on; the noise's variance is {NOISE**2:.5f} an entry, and a rank-16 "
        f"reconstruction of the rank-16 signal keeps 16/64 of it: "
        f"{NOISE**2 * 48 / 64:.5f} is the floor)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="an array of 0.5x a worker's limit"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument(
        "--memory-limit", default="1GiB", help="each worker's memory_limit (1GiB)"
    )
    parser.add_argument(
        "--times", type=float, help="the array's size / memory_limit (4; quick 0.5)"
    )
    parser.add_argument(
        "--block-rows", type=int, default=100_000, help="rows of a block (100000)"
    )
    parser.add_argument(
        "--group",
        type=int,
        default=4,
        help="blocks per Incremental.partial_fit call of the second run (4; 0: none)",
    )
    args = parser.parse_args(argv)
    times = args.times or (0.5 if args.quick else 4.0)

    import dask
    import dask_ml
    import distributed

    print(
        f"skae {skae.__version__}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, dask-ml {dask_ml.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    start = time.perf_counter()
    run(args.workers, args.memory_limit, times, args.block_rows, args.group)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
