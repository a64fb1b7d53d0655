"""The execution layer on a real Dask cluster (2 worker processes on 127.0.0.1, started here and
torn down). The memory estimate and guard are tested in test_memory.py.

Dask tests skip when ``dask.distributed`` is not installed (extra ``distributed``).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import numpy as np
import pytest
from scipy import sparse

from regulab.core.execution import (
    SchedulerUnavailable,
    broadcast_config,
    connect,
    dask_available,
    run_tasks,
    use_scheduler,
)
from regulab.selection.cv import cross_validate_path
from regulab.selection.stability import stability_selection

needs_dask = pytest.mark.skipif(not dask_available(), reason="dask.distributed not installed")

STAB = dict(n_pairs=16, n_lams=10, seed=5)
#: deadline (s) for waits on the cluster: generous, since CI machines are shared and loaded (a
#: nanny restarting a worker took tens of seconds at load 8-10 on 2 cores); never a fixed sleep
WAIT = 180
CV = dict(n_lams=10, cv=5, n_repeats=4, seed=2)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n, p = 500, 2000
    X = sparse.random(n, p, density=0.02, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[:20] = 1.0
    y = X @ w + 0.3 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def reference(data):
    """The sequential runs (in this process)."""
    X, y = data
    return (stability_selection(X, y, backend="sequential", **STAB),
            cross_validate_path(X, y, backend="sequential", **CV))


@pytest.fixture(scope="module")
def client():
    if not dask_available():
        pytest.skip("dask.distributed not installed")
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(broadcast_config()):  # the scheduler's settings, read as it starts
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    c = Client(cluster, timeout=WAIT, set_as_default=False)
    try:
        c.wait_for_workers(2, timeout=WAIT)
        yield c
    finally:
        c.close(timeout=30)
        cluster.close(timeout=WAIT)


def assert_same_stability(a, b):
    assert np.array_equal(a.frequencies, b.frequencies)
    assert a.q == b.q and np.array_equal(a.lams, b.lams)


def assert_same_cv(a, b):
    for name in ("lams", "mean_error", "se_error", "fold_errors", "fold_coefs",
                 "fold_intercepts", "fold_converged"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.idx_min, a.idx_1se) == (b.idx_min, b.idx_1se)


@needs_dask
def test_stability_and_cv_identical_on_dask(data, reference, client):
    X, y = data
    stab, cv = reference
    assert_same_stability(stability_selection(X, y, backend=client, **STAB), stab)
    assert_same_cv(cross_validate_path(X, y, backend=client, **CV), cv)


@needs_dask
def test_use_scheduler_routes_every_workload(data, reference, client):
    """Inside use_scheduler (the CLI's --scheduler) no argument is needed; outside, local."""
    X, y = data
    stab, cv = reference
    with use_scheduler(client.scheduler.address, timeout=WAIT):
        assert_same_stability(stability_selection(X, y, **STAB), stab)
        where = run_tasks(_pid, range(4))
    assert os.getpid() not in where
    assert run_tasks(_pid, range(2)) == [os.getpid()] * 2


def _pid(_):
    return os.getpid()


def _where(data, k):
    time.sleep(0.02)  # some work, so that both workers get tasks
    X = data[0]
    return os.getpid(), id(X), sparse.issparse(X) and X.format, X.dtype.name


def _transfers_in(dask_worker):
    """(pid, number of data transfers this worker has received from other workers)."""
    return os.getpid(), len(dask_worker.transfer_incoming_log)


@needs_dask
def test_data_shipped_once_per_worker_sparse_and_float32_kept(data, client):
    """X goes to every worker once per workload, not once per task (nor per batch): every task a
    worker runs sees the same deserialized X, except after a re-fetch from a peer worker. (Dask's
    Active Memory Manager drops a broadcast replica from a worker that has no task waiting for it
    at that moment, every 2 s; under load, between two batches, that happens, and the worker's next
    task fetches X again from the other worker: a new object, one per transfer, never one per
    task.) X stays sparse CSC, and float32 stays float32."""
    X32 = data[0].astype(np.float32)
    before = dict(client.run(_transfers_in).values())
    out = run_tasks(_where, range(60), data=(X32,), backend=client)
    refetched = {pid: n - before.get(pid, 0) for pid, n in client.run(_transfers_in).values()}
    ids = {}
    for pid, ident, fmt, dtype in out:
        ids.setdefault(pid, set()).add(ident)
        assert (fmt, dtype) == ("csc", "float32")
    assert len(ids) == 2, "both workers should have run tasks"
    # one X per worker, plus one per worker-to-worker re-fetch (0 when no replica was dropped);
    # a closure over X would give one per batch with no transfer at all
    assert all(len(v) <= 1 + refetched.get(pid, 0) for pid, v in ids.items()), (ids, refetched)


@needs_dask
@pytest.mark.parametrize("workload", ["stability", "cv"])
def test_worker_killed_mid_run_is_survived(data, reference, client, workload):
    X, y = data
    stab, cv = reference
    pids = client.run(os.getpid)
    box = {}

    def work():
        try:
            if workload == "stability":
                box["res"] = stability_selection(X, y, backend=client, **STAB)
            else:
                box["res"] = cross_validate_path(X, y, backend=client, **CV)
        except BaseException as exc:  # noqa: BLE001 - reported below
            box["err"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    victim, deadline = None, time.monotonic() + WAIT
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        victim = busy[0] if busy else None
        time.sleep(0.02)
    assert victim is not None, "no task was seen running"
    os.kill(pids[victim], signal.SIGKILL)  # the worker process dies with its running task
    thread.join(WAIT)
    assert not thread.is_alive(), "the run did not finish after a worker was killed"
    assert "err" not in box, box.get("err")
    if workload == "stability":
        assert_same_stability(box["res"], stab)
    else:
        assert_same_cv(box["res"], cv)
    # the nanny restarts the worker: wait until the scheduler has dropped the dead one AND
    # registered its replacement (wait_for_workers(2) alone can return while the dead worker is
    # still listed, and client.run would then wait on it)
    deadline = time.monotonic() + WAIT
    while True:
        now = list(client.run(os.getpid, on_error="return").values())
        if len(now) == 2 and all(isinstance(p, int) for p in now):
            break
        assert time.monotonic() < deadline, f"the killed worker was not replaced: {now}"
        time.sleep(0.2)
    assert pids[victim] not in now


def _page_faults(_):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(200):
        a = np.ones(50_000)  # 400 KB: an mmap of its own under Dask's default malloc setting
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@needs_dask
@pytest.mark.skipif(not os.uname().sysname == "Linux", reason="glibc malloc setting")
def test_worker_arrays_reuse_the_heap(client):
    """Dask's MALLOC_TRIM_THRESHOLD_=65536 made every 400 KB array fault its pages in again
    (~100 faults each); a regulab task undoes it in the worker (the numbers do not change)."""
    faults = run_tasks(_page_faults, range(2), backend=client)
    assert max(faults) < 5000, faults


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_dask
def test_scheduler_that_does_not_answer_fails_fast():
    # nothing listens on the port
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnavailable, match="no Dask scheduler answers at tcp://127"):
        with use_scheduler(address, timeout=3):
            pass  # pragma: no cover
    assert time.monotonic() - t0 < 15
    # a port that accepts connections and stays silent (Client alone would hang there)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        address = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(SchedulerUnavailable) as info:
            connect(address, timeout=3)
        assert time.monotonic() - t0 < 15
        assert "\n" not in str(info.value) and isinstance(info.value, OSError)
    # a workload given the address directly
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnavailable):
        run_tasks(abs, [1, 2], backend=f"127.0.0.1:{_free_port()}", timeout=2)
    assert time.monotonic() - t0 < 15


def test_bad_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be"):
        run_tasks(abs, [1], backend="spark")
    if dask_available():
        with pytest.raises(ValueError, match="needs a Dask cluster"):
            run_tasks(abs, [1], backend="dask")


@needs_dask
def test_broadcast_clusters_run_without_the_active_memory_manager(client):
    """The broadcast of run_tasks' data and Dask's AMM can undo each other forever
    (execution.broadcast_config): the clusters regulab starts, and this module's, have it off."""
    from regulab.core.execution import local_cluster

    assert client.amm.running() is False
    with local_cluster(n_workers=1, threads_per_worker=1) as c:
        assert c.amm.running() is False


def _amm_running(dask_scheduler):
    return dask_scheduler.extensions["amm"].running


@needs_dask
def test_a_scheduler_with_the_memory_manager_on_has_it_paused_for_a_broadcast(data):
    """A scheduler started without broadcast_config (the AMM on, Dask's default): run_tasks
    stops the AMM while its data is broadcast and used, starts it again after, and gives the
    sequential bits; a workload without data leaves it alone."""
    from distributed import Client, LocalCluster

    X, y = data
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    c = Client(cluster, timeout=WAIT, set_as_default=False)
    try:
        c.wait_for_workers(2, timeout=WAIT)
        assert c.amm.running() is True
        seen = []

        def note(*_):
            seen.append(c.run_on_scheduler(_amm_running))

        ref = run_tasks(_where, range(6), data=(X,), backend="sequential")
        got = run_tasks(_where, range(6), data=(X,), backend=c, on_done=note)
        assert seen and not any(seen), seen  # off while the tasks ran
        assert c.amm.running() is True  # and on again after
        assert [r[2:] for r in got] == [r[2:] for r in ref]
        run_tasks(_pid, range(4), backend=c, on_done=note)
        assert seen[-1] is True  # no data: nothing to broadcast, nothing paused
    finally:
        c.close(timeout=30)
        cluster.close(timeout=WAIT)
