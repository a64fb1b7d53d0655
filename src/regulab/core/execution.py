"""One execution layer for every many-fit workload (CV folds, resamples, Monte Carlo trials).

Tasks are independent, carry their own seeds (derived from the caller's seed with
:class:`numpy.random.SeedSequence`, never from execution order) and run through joblib:

* in this process (``n_jobs=None`` or 1);
* in local processes (``n_jobs=k`` or -1, joblib's loky backend, or any joblib backend the caller
  activated with :func:`joblib.parallel_config`; or ``backend="forkserver"``: processes forked
  from a server that imported their modules beforehand, :func:`start_forkserver`);
* on a ``dask.distributed`` cluster (extra ``distributed``), through joblib's Dask backend:
  ``backend="dask"`` (the cluster of :func:`use_scheduler` / :func:`local_cluster`, or the
  default Dask client), ``backend="tcp://host:8786"`` (a scheduler address) or
  ``backend=<distributed.Client>``. Inside ``with use_scheduler(address):`` every workload runs
  on that cluster without any argument (the CLI's ``--scheduler``).

Results come back in task order, and every task runs with one BLAS thread whatever executes it
(a BLAS reduction split over a different number of threads rounds differently), so every backend
gives the same numbers, bit for bit.

Large inputs: ``run_tasks(fn, tasks, data=(X, y))`` calls ``fn(data, task)`` and ships ``data``
once, not once per task: broadcast to every Dask worker with ``client.scatter`` (joblib's
``scatter=``), memory-mapped by joblib for local processes. (Dask's Active Memory Manager may
drop a worker's replica while no task there waits for it; that worker then fetches it again from
a peer, never from the caller: docs/scaling.md.) Sparse X stays sparse, float32 stays
float32. ``fn`` itself should then be small (a module-level function or a
:func:`functools.partial` of one): a closure over X would ship X with every batch of tasks.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

#: seconds to wait for a scheduler (connection and first worker) unless told otherwise
DEFAULT_TIMEOUT = 10.0
#: joblib backends that run on this machine and can be named as ``backend=``
LOCAL_BACKENDS = ("sequential", "loky", "multiprocessing", "threading")


class SchedulerUnavailable(ConnectionError):
    """No Dask scheduler answered (or it has no worker) within the timeout."""


def task_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds derived from ``seed`` (stable whatever runs them)."""
    children = np.random.SeedSequence(int(seed)).spawn(int(n))
    return [int(c.generate_state(1)[0]) for c in children]


# ---------------------------------------------------------------------------------------------
# Dask clients: connect with a bounded wait, activate for a block of code
# ---------------------------------------------------------------------------------------------
_ACTIVE: list = []          # stack of activated clients (innermost last), shared by all threads
_ACTIVE_LOCK = threading.Lock()


def _distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("running on Dask needs dask.distributed: pip install "
                          "'regulab[distributed]'") from None
    return distributed


def broadcast_config() -> dict:
    """The Dask settings under which a scheduler serves :func:`run_tasks`' broadcast of its
    data (``client.scatter(..., broadcast=True)``, through joblib's ``scatter=``): the Active
    Memory Manager off.

    Why: its ``ReduceReplicas`` policy drops the replicas a broadcast has just made while the
    scheduler's replicate loop makes them again, and the scatter can then wait forever (Dask's
    ``Client.scatter`` docstring says to disable it for ``broadcast=True``; dask/distributed
    #8796). Seen here: a stability selection on a 2-worker ``LocalCluster`` stuck 15 minutes in
    ``Client.scatter`` with both workers busy sending X to each other. Apply it with
    ``dask.config.set(broadcast_config())`` where the scheduler is created (a ``LocalCluster``
    creates its scheduler in the calling process); :func:`local_cluster` does. On a scheduler
    started elsewhere, with the AMM on, :func:`iter_tasks` stops it for a workload that
    broadcasts data and starts it again after (``docs/scaling.md``)."""
    return {"distributed.scheduler.active-memory-manager.start": False}


def _pause_memory_manager(client, stack) -> None:
    """Stop the scheduler's Active Memory Manager for this workload's broadcast and start it
    again when the workload ends (``stack``'s exit), where it was running: a scheduler started
    outside regulab, without :func:`broadcast_config`."""
    if client.amm.running():
        client.amm.stop()
        stack.callback(client.amm.start)


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported."""
    try:
        _distributed()
    except ImportError:  # pragma: no cover
        return False
    return True


def _check_timeout(timeout) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _probe(address: str, timeout: float) -> dict:
    """The scheduler's identity, asked with a deadline that covers the TCP connection AND the
    handshake (``distributed.Client`` alone waits forever on a port that accepts and stays
    silent). Runs its own event loop in a short-lived thread, so it works under a running loop
    (Jupyter) too."""
    import asyncio

    from distributed.comm import connect as comm_connect

    async def ask():
        comm = await comm_connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()

    box: dict = {}

    def target():
        try:
            box["identity"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="regulab-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5.0)
    if "identity" in box and isinstance(box["identity"], dict):
        return box["identity"]
    err = box.get("error")
    silent = err is None or isinstance(err, (TimeoutError, asyncio.TimeoutError)) \
        or str(err).startswith("Timed out")
    why = "no answer" if silent else (str(err).splitlines() or [type(err).__name__])[0]
    raise SchedulerUnavailable(f"no Dask scheduler answers at {address} within {timeout:g} s "
                               f"({why}); is the scheduler running and reachable?")


def connect(address: str, timeout: float = DEFAULT_TIMEOUT, *, wait_for_workers: bool = True):
    """A :class:`distributed.Client` of the scheduler at ``address`` (``tcp://host:port``).

    Raises :class:`SchedulerUnavailable` (one line, an ``OSError``) when nothing answers within
    ``timeout`` seconds, or, with ``wait_for_workers``, when the scheduler has no worker by then.
    The caller closes the client (or uses :func:`use_scheduler`).
    """
    distributed = _distributed()
    timeout = _check_timeout(timeout)
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"a scheduler address looks like tcp://host:8786, got {address!r}")
    address = address.strip()
    start = time.monotonic()
    identity = _probe(address, timeout)
    if identity.get("type") not in (None, "Scheduler"):
        raise SchedulerUnavailable(f"{address} is a Dask {identity.get('type')}, not a "
                                   f"scheduler")
    left = max(1.0, timeout - (time.monotonic() - start))
    try:
        client = distributed.Client(address, timeout=left, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnavailable(f"the Dask scheduler at {address} stopped answering "
                                   f"({exc})") from exc
    if wait_for_workers:
        left = max(1.0, timeout - (time.monotonic() - start))
        try:
            client.wait_for_workers(1, timeout=left)
        except (OSError, TimeoutError) as exc:
            client.close(timeout=5)
            raise SchedulerUnavailable(
                f"the Dask scheduler at {address} has no worker after {timeout:g} s "
                f"(start workers with: dask worker {address})") from exc
    return client


@contextlib.contextmanager
def activate(client) -> Iterator:
    """Within the block, workloads with ``backend=None`` (or ``"dask"``) run on ``client``."""
    with _ACTIVE_LOCK:
        _ACTIVE.append(client)
    try:
        yield client
    finally:
        with _ACTIVE_LOCK:
            for k in range(len(_ACTIVE) - 1, -1, -1):
                if _ACTIVE[k] is client:
                    del _ACTIVE[k]
                    break


def active_client():
    """The client activated by the innermost :func:`use_scheduler` / :func:`local_cluster`."""
    with _ACTIVE_LOCK:
        return _ACTIVE[-1] if _ACTIVE else None


@contextlib.contextmanager
def use_scheduler(address: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator:
    """Run every many-fit workload of the block on the Dask cluster at ``address``.

    Connects within ``timeout`` seconds (else :class:`SchedulerUnavailable`, at once, not a hang),
    yields the client, and closes it on exit; the cluster itself keeps running. This is what the
    command line's ``--scheduler ADDRESS`` calls.
    """
    client = connect(address, timeout)
    try:
        with activate(client):
            yield client
    finally:
        client.close(timeout=5)


@contextlib.contextmanager
def local_cluster(n_workers: int = 2, threads_per_worker: int = 1, *,
                  timeout: float = 60.0, **kwargs) -> Iterator:
    """A ``LocalCluster`` of worker processes on 127.0.0.1 (no dashboard), activated for the
    block and torn down after it. Yields the client. ``kwargs`` go to ``LocalCluster``."""
    distributed = _distributed()
    options = dict(n_workers=int(n_workers), threads_per_worker=int(threads_per_worker),
                   processes=True, host="127.0.0.1", dashboard_address=None)
    options.update(kwargs)
    import dask

    with dask.config.set(broadcast_config()):  # read by the scheduler as it starts
        cluster = distributed.LocalCluster(**options)
    try:
        client = distributed.Client(cluster, timeout=timeout, set_as_default=False)
        try:
            client.wait_for_workers(int(n_workers), timeout=timeout)
            with activate(client):
                yield client
        finally:
            client.close(timeout=10)
    finally:
        cluster.close(timeout=timeout)


# ---------------------------------------------------------------------------------------------
# running the tasks
# ---------------------------------------------------------------------------------------------
_CONTROLLER = None


def _controller():
    """threadpoolctl's controller of this process's BLAS/OpenMP pools (built once per process:
    introspecting the loaded libraries costs a fraction of a millisecond), or None."""
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER
    except Exception:  # pragma: no cover - threadpoolctl missing or unusable
        return None


def _one_thread():
    """A context limiting BLAS/OpenMP pools to one thread."""
    controller = _controller()
    try:
        return controller.limit(limits=1) if controller is not None else contextlib.nullcontext()
    except Exception:  # pragma: no cover - threadpoolctl unusable
        return contextlib.nullcontext()


def pool_threads() -> int | None:
    """The most threads any BLAS/OpenMP pool loaded in this process uses now (None: unknown)."""
    controller = _controller()
    try:
        counts = [int(m["num_threads"]) for m in controller.info()] if controller else []
    except Exception:  # pragma: no cover
        counts = []
    return max(counts) if counts else None


_MALLOC_TUNED = False
#: glibc ``mallopt`` parameters (malloc.h) and the values set in Dask workers (see below)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
WORKER_MMAP_THRESHOLD = 32 * 2**20   # glibc's largest: arrays below it come from the heap
WORKER_TRIM_THRESHOLD = 128 * 2**20


def _tune_malloc_once() -> None:
    """Undo, in a process that runs regulab tasks, Dask's ``MALLOC_TRIM_THRESHOLD_=65536``.

    Dask's nanny starts workers with that variable to hand freed memory back to the system at
    once; it also freezes glibc's mmap threshold at 128 KiB, so every array of 16k float64
    values or more (a p-vector, a column block) is a fresh ``mmap`` whose pages fault in again:
    we measured ~950,000 page faults and 1.6-1.8x the CPU time per stability pair on the sparse
    benchmark case. Arrays under 32 MiB then come from the heap again, and the heap is trimmed
    once 128 MiB lie free at its top. Only in a Dask worker, with glibc on Linux, when the
    variable is set below that; once per process; the numbers computed do not change.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if trim is None or not sys.platform.startswith("linux") or not _in_dask_worker():
        return
    try:
        if int(trim) >= WORKER_TRIM_THRESHOLD:
            return
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _in_dask_worker() -> bool:
    if "distributed" not in sys.modules:
        return False
    try:
        sys.modules["distributed"].get_worker()
    except (ValueError, AttributeError):
        return False
    return True


class _Task:
    """``fn(task)`` or ``fn(data, task)`` with one BLAS thread, or with the pools as they are
    (``one_thread=False``) (picklable: module level)."""

    def __init__(self, fn: Callable, with_data: bool, one_thread: bool = True):
        self.fn = fn
        self.with_data = with_data
        self.one_thread = one_thread
        inner = getattr(fn, "func", fn)  # a functools.partial names its function
        self.__name__ = str(getattr(inner, "__name__", type(inner).__name__)).lstrip("_")

    def __call__(self, data, task):
        _tune_malloc_once()
        with _one_thread() if self.one_thread else contextlib.nullcontext():
            return self.fn(data, task) if self.with_data else self.fn(task)


def _is_address(backend) -> bool:
    return isinstance(backend, str) and ("://" in backend or backend.count(":") == 1
                                         and backend.rsplit(":", 1)[1].isdigit())


def _resolve(backend):
    """``(kind, target)``: ``('local', joblib backend name or None)`` or ``('dask', client or
    address)``."""
    if backend is None:
        client = active_client()
        return ("dask", client) if client is not None else ("local", None)
    if isinstance(backend, str):
        name = backend.strip()
        if name == "dask":
            client = active_client()
            if client is None:
                try:
                    client = _distributed().get_client()
                except ValueError:
                    raise ValueError("backend='dask' needs a Dask cluster: pass its address "
                                     "(backend='tcp://host:8786'), or run inside "
                                     "regulab.core.execution.use_scheduler(address) or "
                                     "local_cluster()") from None
            return "dask", client
        if name in LOCAL_BACKENDS:
            return "local", name
        if _is_address(name):
            return "dask", name
        raise ValueError(f"backend must be None, 'dask', a scheduler address (tcp://host:port), "
                         f"a dask Client or one of {', '.join(LOCAL_BACKENDS)}; got {backend!r}")
    if hasattr(backend, "scheduler_info") and hasattr(backend, "submit"):
        return "dask", backend  # a distributed.Client
    raise ValueError(f"backend must be None, 'dask', a scheduler address or a dask Client, "
                     f"got {backend!r}")


# ---------------------------------------------------------------------------------------------
# worker processes forked from a server that has imported their modules already
# ---------------------------------------------------------------------------------------------
#: the BLAS/OpenMP threads the fork server's workers run with (None: no server started here)
_FORKSERVER_THREADS: list = []


def _threads_now() -> int | None:
    """The most threads any BLAS/OpenMP pool loaded now uses (threadpoolctl, not cached: the
    pools of libraries loaded later count when :func:`pool_threads` is first asked)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [int(m["num_threads"]) for m in threadpool_info()]
    except Exception:  # pragma: no cover - threadpoolctl missing or unusable
        counts = []
    return max(counts) if counts else None


def _worker_thread_env(threads: int) -> dict | None:
    """The variables joblib's loky backend sets in a worker given ``threads`` per pool (None
    where this joblib does not name them)."""
    try:
        from joblib._parallel_backends import ParallelBackendBase as B

        env = {var: str(threads) for var in B.MAX_NUM_THREADS_VARS}
    except (ImportError, AttributeError):  # pragma: no cover - another joblib
        return None
    if B.TBB_ENABLE_IPC_VAR not in os.environ:
        env[B.TBB_ENABLE_IPC_VAR] = "1"
    return env


def start_forkserver(preload: Sequence[str] = ()) -> bool:
    """Start, once per process, the server that ``backend="forkserver"`` forks workers from.

    The server is a fresh Python process that imports the modules named in ``preload`` (and
    numpy) as it starts, beside whatever this process does meanwhile; every worker forked from
    it later starts with them imported (a fork, no import). Its workers get this process's
    BLAS/OpenMP thread count, through the variables joblib sets in its loky workers. Call it
    early (``regulab explain`` calls it before importing the claims). Returns whether a server
    runs (False where the platform has no ``forkserver`` start method).
    """
    import multiprocessing as mp

    if _FORKSERVER_THREADS:
        return True
    if "forkserver" not in mp.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    threads = _threads_now()
    env = _worker_thread_env(threads) if threads is not None else None
    if env is None:  # the workers' thread count is unknown: never taken for this process's
        threads, env = None, {}
    mp.get_context("forkserver").set_forkserver_preload(["numpy", *preload])
    saved = {var: os.environ.get(var) for var in env}
    os.environ.update(env)  # the server, and each worker it forks, inherit this environment
    try:
        forkserver.ensure_running()  # returns at once; the server imports in the background
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    _FORKSERVER_THREADS.append(threads)
    return True


def _iter_forked(call, data, tasks: list, n_jobs: int | None) -> Iterator:
    """The results of ``call(data, t)`` in task order, from workers forked from the server of
    :func:`start_forkserver`; tasks are handed out in order as workers come free."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = (os.cpu_count() or 1) if n_jobs is None or n_jobs < 0 else int(n_jobs)
    pool = ProcessPoolExecutor(max_workers=max(1, min(n, len(tasks))),
                               mp_context=mp.get_context("forkserver"))
    futures = [pool.submit(call, data, t) for t in tasks]
    try:
        for f in futures:
            yield f.result()
    except BaseException:
        # interrupted (Ctrl-C), a task raised, or the caller stopped early: stop the workers
        # now, as joblib does with loky's, instead of waiting for the tasks they are running
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for w in workers:
            w.terminate()
        raise
    pool.shutdown(wait=True)


def _forkserver_usable(one_thread: bool) -> bool:
    """Whether ``backend="forkserver"`` can run here with the promised threads: a server
    started by :func:`start_forkserver` (started now if not) whose workers' thread count is
    this process's (``one_thread=False``; else each task sets one thread itself)."""
    if not start_forkserver():
        return False
    return one_thread or (_FORKSERVER_THREADS[0] is not None
                          and _FORKSERVER_THREADS[0] == pool_threads())


def run_tasks(fn: Callable, tasks: Sequence | Iterable, n_jobs: int | None = None,
              on_done: Callable[[int], None] | None = None, *, data=None, backend=None,
              timeout: float = DEFAULT_TIMEOUT, one_thread: bool = True) -> list:
    """``[fn(t) for t in tasks]`` (``[fn(data, t) ...]`` when ``data`` is given), possibly in
    parallel, results in task order; ``on_done(k)`` as task ``k``'s result arrives, in order.

    ``backend``: ``None`` runs locally with ``n_jobs`` processes (on the cluster activated by
    :func:`use_scheduler` / :func:`local_cluster` when there is one); ``'dask'``, a scheduler
    address or a ``distributed.Client`` run on Dask (``n_jobs`` is then ignored: every worker
    thread is used); a joblib backend name (``'loky'``, ``'threading'``, ...) runs locally with
    it; ``'forkserver'`` runs in ``n_jobs`` local processes forked from the server of
    :func:`start_forkserver` (started then if not yet; loky where the platform has none, or
    where its workers' thread count is not this process's). ``data`` (e.g. ``(X, y)``) is
    shipped to the workers once (with ``'forkserver'``: pickled with each task). ``timeout``
    bounds the wait for a scheduler given by address (:class:`SchedulerUnavailable` after it).

    ``one_thread`` (default): every task runs with one BLAS/OpenMP thread, so that every backend
    gives the same numbers. ``False``: a task runs with the pools of this process instead (local
    worker processes get this process's thread count, not joblib's share of the cores), for
    tasks whose numbers must match what they give when run here, outside any task.
    """
    out = []
    for k, r in enumerate(iter_tasks(fn, tasks, n_jobs, data=data, backend=backend,
                                     timeout=timeout, one_thread=one_thread)):
        out.append(r)
        if on_done:
            on_done(k)
    return out


def iter_tasks(fn: Callable, tasks: Sequence | Iterable, n_jobs: int | None = None, *,
               data=None, backend=None, timeout: float = DEFAULT_TIMEOUT,
               one_thread: bool = True) -> Iterator:
    """:func:`run_tasks` as a generator: results one by one, in task order, as they arrive, so a
    caller can reduce them on the fly instead of holding every task's result at once (consume
    it to the end, or close it, to release the workers)."""
    tasks = list(tasks)
    call = _Task(fn, data is not None, one_thread)
    if backend == "forkserver":
        if not tasks:
            return
        if _forkserver_usable(one_thread):
            yield from _iter_forked(call, data, tasks, n_jobs)
            return
        backend = "loky"  # no fork server here, or its workers' threads are not ours
    kind, target = _resolve(backend)
    if kind == "local" and (target == "sequential" or (target is None and n_jobs in (None, 1))):
        for t in tasks:
            yield call(data, t)
        return
    if not tasks:
        return
    # joblib here, not at the top: the sequential route above (every ``regulab fit`` without
    # ``--jobs``) never needs it (about 40 ms of the command's start-up)
    from joblib import Parallel, delayed, parallel_config

    with contextlib.ExitStack() as stack:
        if kind == "local":
            threads = None if one_thread else pool_threads()
            if threads is not None and target in (None, "loky"):
                # the workers' pools start with this process's threads (read by each library
                # as it loads, from the variables joblib sets), not cpu_count // n_jobs
                stack.enter_context(parallel_config(backend="loky",
                                                    inner_max_num_threads=threads))
                target = None  # Parallel(backend=...) would drop the configured thread count
            par = Parallel(n_jobs=-1 if n_jobs is None else n_jobs, backend=target,
                           return_as="generator")
        else:
            client = target
            if isinstance(target, str):
                client = connect(target, timeout)
                stack.callback(client.close, 5)
            if data is not None:
                _pause_memory_manager(client, stack)
            stack.enter_context(parallel_config(
                backend="dask", client=client, scatter=None if data is None else [data],
                wait_for_workers_timeout=timeout))
            par = Parallel(n_jobs=-1, return_as="generator")
        yield from par(delayed(call)(data, t) for t in tasks)
