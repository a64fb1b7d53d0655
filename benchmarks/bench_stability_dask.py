"""Stability selection on the sparse case: one process, two local processes, a two-worker Dask
LocalCluster; then Dask's per-task overhead, measured with no-op tasks.

Run by hand (needs the ``distributed`` extra; psutil comes with it)::

    python benchmarks/bench_stability_dask.py [--resamples 200] [--n-lams 30] [--noop 400]

The problem is case (b) of ``bench_paths.py``: sparse X, n=20000, p=50000, density 1e-3, seeded.
A *resample* is one half-sample path; stability selection draws them in complementary pairs, so
``--resamples 200`` is ``n_pairs=100`` tasks of two paths each, over one shared grid of
``--n-lams`` lams. Every configuration must give the same frequencies, bit for bit (checked).

Per configuration: wall time of the workload (workers already started and warmed with a small
problem: the start-up is printed apart), CPU seconds used by this process and the workers
(robust to other load on the machine, whose 1-minute load average is printed), peak resident
memory of this process and of its worker processes (psutil, sampled every 50 ms; the sum over
workers), and the speed-up over one process. Dask: time to start the cluster and to broadcast
X. Overhead: ``--noop`` tasks that do nothing, through regulab's layer (joblib's Dask backend,
batching) and as single Dask futures; and tasks that do nothing but return a result the size of
a real pair's, reduced in this process as stability selection does.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_paths import case_b  # noqa: E402  (the same seeded sparse case)

from regulab.core.execution import local_cluster, run_tasks  # noqa: E402
from regulab.core.memory import format_bytes, resample_memory  # noqa: E402
from regulab.selection.path import lam_grid  # noqa: E402
from regulab.selection.stability import stability_selection  # noqa: E402


class PeakRSS:
    """Peak resident memory of this process and (summed) of its child processes."""

    def __init__(self, pids=None, period=0.05):
        import psutil

        self.proc = psutil.Process()
        self.pids = pids  # the worker processes (default: every Python child process)
        self.period = period
        self.main = 0
        self.workers = 0
        self.cpu = 0.0  # CPU seconds used by this process and the workers while running
        self._cpu0 = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        import psutil

        try:
            self.main = max(self.main, self.proc.memory_info().rss)
            total = 0
            procs = ([psutil.Process(q) for q in self.pids] if self.pids is not None
                     else self.proc.children(recursive=True))
            for c in procs:
                try:
                    if self.pids is not None or "python" in c.name().lower():
                        total += c.memory_info().rss
                except psutil.Error:
                    pass
            self.workers = max(self.workers, total)
        except psutil.Error:
            pass

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period)

    def _cpu(self):
        import psutil

        out = {}
        procs = [self.proc] + ([psutil.Process(q) for q in self.pids] if self.pids is not None
                               else self.proc.children(recursive=True))
        for q in procs:
            try:
                t = q.cpu_times()
                out[q.pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    def __enter__(self):
        self._cpu0 = self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        end = self._cpu()
        self.cpu = sum(v - self._cpu0.get(k, 0.0) for k, v in end.items())


def warm(n_jobs=None, backend=None):
    """Start the workers and load regulab (and its compiled kernels) in each."""
    from scipy import sparse

    rng = np.random.default_rng(1)
    X = sparse.random(200, 300, density=0.05, format="csc", random_state=rng)
    y = X[:, 0].toarray().ravel() + 0.1 * rng.standard_normal(200)
    stability_selection(X, y, n_pairs=8, n_lams=5, n_jobs=n_jobs, backend=backend)


def run_config(name, X, y, lams, n_pairs, seed, pids=None, **kw):
    t0 = time.perf_counter()
    warm(**kw)
    start = time.perf_counter() - t0
    with PeakRSS(pids) as mem:
        t0 = time.perf_counter()
        res = stability_selection(X, y, lams=lams, n_pairs=n_pairs, seed=seed, **kw)
        wall = time.perf_counter() - t0
    load = os.getloadavg()[0]
    print(f"  {name:<28} {wall:8.1f} s  CPU {mem.cpu:7.1f} s   peak RSS main "
          f"{format_bytes(mem.main):>10}, workers {format_bytes(mem.workers):>10}   (start-up "
          f"{start:.1f} s, load {load:.1f})", flush=True)
    return dict(name=name, wall=wall, main=mem.main, workers=mem.workers, start=start,
                cpu=mem.cpu, load=load, freq=res.frequencies, selected=res.selected)


def _noop(t):
    return t


def _result_sized(shape, t):
    """No work, but a result the size of a real pair's (uint8 counts [p, n_lams])."""
    return np.zeros(shape, dtype=np.uint8), [t, t]


def overhead(client, n, shape):
    """Seconds per task: no-op tasks through run_tasks (joblib's Dask backend) and as bare
    futures; and tasks returning a real-sized result, reduced in this process as stability
    selection does."""
    from functools import partial

    from regulab.core.execution import iter_tasks

    run_tasks(_noop, range(8), backend=client)  # warm
    t0 = time.perf_counter()
    out = run_tasks(_noop, range(n), backend=client)
    via_joblib = (time.perf_counter() - t0) / n
    assert out == list(range(n))
    t0 = time.perf_counter()
    futs = [client.submit(_noop, k, pure=False) for k in range(n)]
    client.gather(futs)
    bare = (time.perf_counter() - t0) / n
    m = max(1, n // 4)
    counts = np.zeros(shape, dtype=np.int64)
    t0 = time.perf_counter()
    for c, _ in iter_tasks(partial(_result_sized, shape), range(m), backend=client):
        counts += c
    sized = (time.perf_counter() - t0) / m
    return via_joblib, bare, sized, m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resamples", type=int, default=200,
                    help="half-sample paths (2 per pair; default 200 = 100 pairs)")
    ap.add_argument("--n-lams", type=int, default=30, help="lams per path (default 30)")
    ap.add_argument("--noop", type=int, default=400, help="no-op tasks for the overhead")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="+", default=["1", "2", "dask"],
                    help="which to run: 1 (one process), 2 (two local processes), dask; "
                         "overhead (the overhead measurements alone)")
    args = ap.parse_args(argv)
    n_pairs = max(1, args.resamples // 2)

    t0 = time.perf_counter()
    label, X, y = case_b(args.seed)
    lams = lam_grid(X, y, n_lams=args.n_lams)
    n, p = X.shape
    per_worker, main_mem = resample_memory(n, p, density=X.nnz / (n * p), n_lams=args.n_lams,
                                           fraction=0.5)
    print(f"case {label}; nnz {X.nnz}; built in {time.perf_counter() - t0:.1f} s")
    print(f"stability selection: {2 * n_pairs} resamples ({n_pairs} pairs), {args.n_lams} lams; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.2f}")
    print(f"memory estimate (regulab.core.memory): per worker {format_bytes(per_worker)}, main "
          f"{format_bytes(main_mem)}")

    rows = []
    if "1" in args.configs:
        rows.append(run_config("1 process (in-process)", X, y, lams, n_pairs, args.seed,
                               n_jobs=1))
    if "2" in args.configs:
        rows.append(run_config("2 local processes (loky)", X, y, lams, n_pairs, args.seed,
                               n_jobs=2))
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # idle loky workers would count below
    over = None
    if "dask" in args.configs or "overhead" in args.configs:
        t0 = time.perf_counter()
        with local_cluster(n_workers=2, threads_per_worker=1) as client:
            up = time.perf_counter() - t0
            t0 = time.perf_counter()
            fut = client.scatter((X, y), broadcast=True)
            scatter = time.perf_counter() - t0
            del fut
            pids = list(client.run(os.getpid).values())
            if "dask" in args.configs:
                rows.append(run_config("Dask LocalCluster 2x1", X, y, lams, n_pairs,
                                       args.seed, pids=pids, backend=client))
            print(f"  cluster start {up:.1f} s; broadcast of X to 2 workers {scatter:.2f} s")
            over = overhead(client, args.noop, (p, args.n_lams))
    base = next((r["wall"] for r in rows if r["name"].startswith("1 ")), None)
    print()
    print("| configuration | wall (s) | per pair (s) | speed-up | CPU (s) | CPU per pair (s) | "
          "peak RSS main | peak RSS workers | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        sp = f"{base / r['wall']:.2f}" if base else "-"
        print(f"| {r['name']} | {r['wall']:.1f} | {r['wall'] / n_pairs:.2f} | {sp} | "
              f"{r['cpu']:.1f} | {r['cpu'] / n_pairs:.2f} | {format_bytes(r['main'])} | "
              f"{format_bytes(r['workers'])} | {r['load']:.1f} |")
    same = all(np.array_equal(r["freq"], rows[0]["freq"]) for r in rows)
    if rows:
        print(f"\nidentical frequencies across configurations: {'yes' if same else 'NO'}; "
              f"{rows[0]['selected'].size} features selected")
    if over:
        print(f"Dask overhead per no-op task: {1e3 * over[0]:.2f} ms through run_tasks "
              f"(joblib batching), {1e3 * over[1]:.2f} ms as single futures ({args.noop} "
              f"tasks); per task returning a {format_bytes(p * args.n_lams)} result reduced "
              f"here: {1e3 * over[2]:.2f} ms ({over[3]} tasks)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
