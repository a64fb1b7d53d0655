"""Streamed fits (data bigger than memory): pass throughput, memory, a 100-lam 10-fold CV path.

Writes a Parquet file of ``--rows`` x ``--features`` float64 (a sparse linear truth plus noise)
in row groups of ``--row-group`` rows, without ever holding more than one row group, then:

* the statistics pass (:func:`regulab.data.stream_pass.moments_pass`) in this process and, with
  ``--workers k``, on a LocalCluster of ``k`` single-threaded workers (``--worker-memory`` each):
  seconds, rows per second, rows per second per core, and the peak resident memory of the
  process / of each worker;
* the whole ``regulab fit --stream`` pipeline (two preparation passes + the statistics pass + a
  ``--n-lams`` path with ``--folds``-fold CV from the moments), its wall time split by stage;
* scikit-learn's ``LassoCV`` (``n_alphas=--n-lams``, ``cv=--folds``) on the largest subsample
  this machine holds comfortably (``--sk-rows``), and its time.

Run::

    python benchmarks/bench_streaming.py --rows 2000000 --features 50 --workers 2 --json

Workers far below the data (3 GiB of Parquet through 4 workers of 400 MiB, one killed)::

    python benchmarks/bench_streaming.py --rows 7900000 --features 50 --workers 4 \
        --worker-memory 400MiB --batch-rows 10000 --row-group 50000 --kill --no-fit --json

Measurements and the extrapolation to 5e7 and 1e9 rows are in docs/scaling.md
("Data bigger than memory"). Never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np


def peak_rss_mib() -> float:
    """This process's resident high-water mark (VmHWM; ru_maxrss of a Dask worker reports its
    parent's peak), MiB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_parquet(path, rows, p, row_group, seed=0):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    beta = np.where(np.arange(p) < 10, 1.0, 0.0)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(p)] + [("y", pa.float64())])
    t0 = time.perf_counter()
    with pq.ParquetWriter(path, schema) as w:
        left = rows
        while left > 0:
            m = min(row_group, left)
            X = rng.standard_normal((m, p))
            y = X @ beta + rng.standard_normal(m)
            w.write_table(pa.table({**{f"x{j}": X[:, j] for j in range(p)}, "y": y}),
                          row_group_size=row_group)
            left -= m
    return time.perf_counter() - t0


def bench(args) -> dict:
    from regulab.commands.streamed import stream_fit
    from regulab.data.stream_pass import moments_pass
    from regulab.data.stream_prep import scan_prepare
    from regulab.data.streaming import StreamSource

    out = {"rows": args.rows, "features": args.features, "folds": args.folds,
           "n_lams": args.n_lams, "batch_rows": args.batch_rows, "cpus": os.cpu_count(),
           "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory(dir=args.tmp) as d:
        f = os.path.join(d, "data.parquet")
        out["write_seconds"] = write_parquet(f, args.rows, args.features, args.row_group)
        out["file_mib"] = os.path.getsize(f) / 2**20
        src = StreamSource(f, args.batch_rows)
        t0 = time.perf_counter()
        sp = scan_prepare(src, "y")
        out["prep_passes_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = moments_pass(src, sp, args.folds, 0)
        dt = time.perf_counter() - t0
        out["pass_seconds_1proc"] = dt
        out["pass_rows_per_second_per_core"] = args.rows / dt
        out["peak_rss_mib_1proc"] = peak_rss_mib()
        if args.workers:
            out.update(_cluster(src, sp, args, ref))
        if args.no_fit:
            return out
        t0 = time.perf_counter()
        sf = stream_fit(f, "y", folds=args.folds, n_lams=args.n_lams,
                        batch_rows=args.batch_rows)
        out["stream_fit_seconds"] = time.perf_counter() - t0
        out["stream_fit_pass_seconds"] = sf.log.seconds
        out["path_cv_from_moments_seconds"] = sf.info["solve_seconds"]
        out["lam_1se"] = sf.lam
        out["n_kept"] = int(np.count_nonzero(sf.coef))
        print(json.dumps(out), file=sys.stderr, flush=True)   # partial results, in case
        if args.sk_rows:
            out.update(_sklearn(f, args))
    return out


def same_bits(a, b) -> bool:
    """The statistics of two passes are the same bits."""
    return all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("W", "n", "mean", "M", "raw_mean", "raw_m2"))


def _killed_pass(c, src, sp, args):
    """A statistics pass during which one busy worker is SIGKILLed; returns its result."""
    import signal
    import threading

    from regulab.data.stream_pass import moments_pass

    pids, box = c.run(os.getpid), {}
    thread = threading.Thread(target=lambda: box.setdefault(
        "res", moments_pass(src, sp, args.folds, 0, client=c)), daemon=True)
    thread.start()
    while thread.is_alive():
        busy = [w for w, keys in c.processing().items() if keys and w in pids]
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)
            break
        time.sleep(0.02)
    thread.join()
    return box.get("res")


def _cluster(src, sp, args, ref) -> dict:
    """The statistics pass on ``--workers`` workers of ``--worker-memory``: time, each worker's
    peak memory (read on the worker), the same bits as in one process, also with ``--kill``
    (a worker SIGKILLed mid-pass)."""
    from distributed import Client, LocalCluster

    from regulab.data.stream_pass import moments_pass

    import dask

    res = {"workers": args.workers, "worker_memory": args.worker_memory}
    # no pausing at 80 % (a pass holds one batch; the nanny still kills at 95 %)
    with dask.config.set({"distributed.worker.memory.pause": False}), LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      memory_limit=args.worker_memory) as cl, Client(cl) as c:
        c.wait_for_workers(args.workers)
        res["worker_rss_before_mib"] = sorted(c.run(peak_rss_mib).values())
        t0 = time.perf_counter()
        got = moments_pass(src, sp, args.folds, 0, client=c)
        dt = time.perf_counter() - t0
        res["pass_seconds_cluster"] = dt
        res["pass_rows_per_second_per_core_cluster"] = args.rows / dt / args.workers
        res["worker_peak_rss_mib"] = sorted(c.run(peak_rss_mib).values())
        res["cluster_same_bits"] = same_bits(got, ref)
        if args.kill:
            res["killed_pass_same_bits"] = same_bits(_killed_pass(c, src, sp, args), ref)
    return res


def _sklearn(f, args) -> dict:
    import pyarrow.parquet as pq
    from sklearn.linear_model import LassoCV

    table = pq.read_table(f).slice(0, args.sk_rows)
    df = table.to_pandas()
    y = df.pop("y").to_numpy()
    X = df.to_numpy()
    X = (X - X.mean(0)) / X.std(0)
    import inspect

    # scikit-learn >= 1.7 takes the number of alphas as ``alphas=int``
    grid = ({"n_alphas": args.n_lams} if "n_alphas" in inspect.signature(LassoCV).parameters
            else {"alphas": args.n_lams})
    t0 = time.perf_counter()
    LassoCV(cv=args.folds, n_jobs=1, **grid).fit(X, y)
    return {"sklearn_rows": args.sk_rows, "sklearn_lassocv_seconds": time.perf_counter() - t0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--n-lams", type=int, default=100)
    ap.add_argument("--row-group", type=int, default=100_000)
    ap.add_argument("--batch-rows", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--worker-memory", default="400MiB")
    ap.add_argument("--sk-rows", type=int, default=200_000)
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--kill", action="store_true",
                    help="also a cluster pass with one worker SIGKILLed mid-pass")
    ap.add_argument("--no-fit", action="store_true",
                    help="stop after the statistics passes (no stream_fit, no scikit-learn)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = bench(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:40s} {v}")


if __name__ == "__main__":
    main()
