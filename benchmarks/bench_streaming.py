"""Streamed fits (data bigger than memory): pass throughput, memory, a 100-lam 10-fold CV path.

Writes a Parquet file of ``--rows`` x ``--features`` (``--dtype``, float32 by default; a sparse
linear truth plus noise, seeded) in row groups of ``--row-group`` rows, without ever holding more
than one row group, logging progress (stage, resident memory, load) every ``--log-every``
seconds to stderr, then:

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

    python benchmarks/bench_streaming.py --rows 7900000 --features 50 --dtype float64 --workers 4 \
        --worker-memory 400MiB --batch-rows 10000 --row-group 50000 --kill --no-fit --json

On a file already written (kept): the statistics pass and the path only::

    python benchmarks/bench_streaming.py --file DIR/data.parquet --batch-rows 50000 --json

Measurements (5e7 rows) and the extrapolation to 1e9 rows are in docs/scaling.md
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


def _status_mib(field: str) -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mib() -> float:
    """This process's resident high-water mark (VmHWM; ru_maxrss of a Dask worker reports its
    parent's peak), MiB."""
    got = _status_mib("VmHWM")
    return got if got == got else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: ``5`` to ``/proc/self/clear_refs``), so
    that each stage's peak is its own; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Progress:
    """Logs, every ``every`` seconds to stderr, the stage, the seconds since the start, the
    resident memory now and its high-water mark, and the load average (a long run survives in
    its log)."""

    def __init__(self, every: float):
        import threading

        self.stage, self.t0, self.every = "start", time.perf_counter(), every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if every > 0:
            self._thread.start()

    def set(self, stage: str) -> None:
        self.stage = stage
        self.log()

    def log(self) -> None:
        print(f"[{time.perf_counter() - self.t0:8.1f} s] {self.stage:24s} "
              f"rss {_status_mib('VmRSS'):8.1f} MiB  peak {_status_mib('VmHWM'):8.1f} MiB  "
              f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
              file=sys.stderr, flush=True)

    def _run(self):
        while not self._stop.wait(self.every):
            self.log()

    def stop(self):
        self._stop.set()


def write_parquet(path, rows, p, row_group, seed=0, dtype="float32", compression="none"):
    """A Parquet file of ``rows`` x ``p`` features and ``y`` (``dtype`` columns), generated row
    group by row group from ``seed`` (never more than one row group in memory).

    Fast: each row group is drawn as one ``[p, m]`` array (every column a contiguous row, no
    per-column copy), written without dictionary encoding (random floats have no repeated
    values: trying a dictionary first and falling back costs time for nothing) and without
    compression by default (random floats do not compress: snappy saves ~0 bytes and costs
    a pass); per-row-group statistics are kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    beta = np.where(np.arange(p) < 10, 1.0, 0.0).astype(dtype)
    typ = pa.float32() if dtype == "float32" else pa.float64()
    schema = pa.schema([(f"x{j}", typ) for j in range(p)] + [("y", typ)])
    t0 = time.perf_counter()
    with pq.ParquetWriter(path, schema, compression=compression, use_dictionary=False) as w:
        left = rows
        while left > 0:
            m = min(row_group, left)
            Xt = rng.standard_normal((p, m), dtype=dtype)   # column j = Xt[j], contiguous
            y = beta @ Xt + rng.standard_normal(m, dtype=dtype)
            w.write_table(pa.Table.from_arrays([pa.array(c) for c in Xt] + [pa.array(y)],
                                               schema=schema), row_group_size=row_group)
            left -= m
            del Xt, y
    pa.default_memory_pool().release_unused()
    return time.perf_counter() - t0


def pass_only(args, out, prog) -> dict:
    """``--file F --prep-rows N``: the statistics pass over all of ``F`` (an existing file,
    kept) and the path + CV from its moments, with the preparation decided on the first ``N``
    rows only (the two preparation passes are not run: their cost is measured by a full run at
    a smaller size). Valid for the benchmark's all-numeric files, whose preparation (columns,
    task, no missing value) does not depend on the rows."""
    import dataclasses

    import pyarrow.parquet as pq

    from regulab.commands.streamed import StreamStats, solve_streamed
    from regulab.data.stream_pass import PassLog, moments_pass, standardization
    from regulab.data.stream_prep import finish, scan_prepare
    from regulab.data.stream_stats import standardized
    from regulab.data.streaming import StreamSource

    f = args.file
    out["file_mib"] = os.path.getsize(f) / 2**20
    out["rows"] = pq.ParquetFile(f).metadata.num_rows
    with tempfile.TemporaryDirectory(dir=args.tmp) as d:
        head = os.path.join(d, "head.parquet")
        pq.write_table(pq.ParquetFile(f).read_row_group(0).slice(0, args.prep_rows), head)
        sp = scan_prepare(StreamSource(head, args.batch_rows), "y")
    src = StreamSource(f, args.batch_rows)
    reset_peak_rss()
    out["rss_before_pass_mib"] = _status_mib("VmRSS")
    prog.set("statistics pass")
    log = PassLog()
    raw = moments_pass(src, sp, args.folds, 0, None, log,
                       dtype=np.float32 if args.dtype == "float32" else np.float64)
    sp = dataclasses.replace(sp, n_in=raw.raw_n, n_kept=raw.raw_n)
    out["pass_seconds_1proc"] = log.seconds
    out["pass_rows_per_second_per_core"] = raw.raw_n / log.seconds
    out["peak_rss_mib_pass"] = peak_rss_mib()
    out["load_average_after_pass"] = os.getloadavg()
    print(json.dumps(out), file=sys.stderr, flush=True)
    prog.set("path + CV from moments")
    means, scales = standardization(raw, sp.standardize)
    prep = finish(sp, means, scales)

    def std(t):
        return standardized(*t, prep.means, prep.scales)

    st = StreamStats(src, sp, prep, std(raw.total()), [std(t) for t in raw.training()],
                     [std(raw.fold(k)) for k in range(args.folds)], args.folds, 0, None, log,
                     args.batch_rows)
    sf = solve_streamed(st, n_lams=args.n_lams)
    out["path_cv_from_moments_seconds"] = sf.info["solve_seconds"]
    out["lam_1se"] = sf.lam
    out["n_kept"] = int(np.count_nonzero(sf.coef))
    out["peak_rss_mib_pass_and_path"] = peak_rss_mib()
    print(json.dumps(out), file=sys.stderr, flush=True)
    if args.sk_rows:
        prog.set("scikit-learn")
        reset_peak_rss()
        out.update(_sklearn(f, args))
        out["peak_rss_mib_sklearn"] = peak_rss_mib()
    out["load_average_end"] = os.getloadavg()
    prog.stop()
    return out


def bench(args) -> dict:
    from regulab.commands.streamed import solve_streamed, stream_statistics

    out = {"rows": args.rows, "features": args.features, "folds": args.folds,
           "n_lams": args.n_lams, "batch_rows": args.batch_rows, "row_group": args.row_group,
           "dtype": args.dtype, "cpus": os.cpu_count(), "load_average_start": os.getloadavg()}
    prog = Progress(args.log_every)
    if args.file:
        return pass_only(args, out, prog)
    with tempfile.TemporaryDirectory(dir=args.tmp) as d:
        f = args.keep or os.path.join(d, "data.parquet")
        if os.path.exists(f):   # --keep: written by an earlier run
            import pyarrow.parquet as pq

            out["rows"] = pq.ParquetFile(f).metadata.num_rows
        else:
            prog.set("writing")
            out["write_seconds"] = write_parquet(f + ".part", args.rows, args.features,
                                                 args.row_group, dtype=args.dtype)
            os.replace(f + ".part", f)
            out["peak_rss_mib_writing"] = peak_rss_mib()
        out["file_mib"] = os.path.getsize(f) / 2**20
        reset_peak_rss()
        out["rss_before_fit_mib"] = _status_mib("VmRSS")
        prog.set("prep + statistics pass")
        t0 = time.perf_counter()
        st = stream_statistics(f, "y", folds=args.folds, seed=0, batch_rows=args.batch_rows,
                               float32=args.dtype == "float32")
        total = time.perf_counter() - t0
        out["pass_seconds_1proc"] = st.log.seconds
        out["prep_passes_seconds"] = total - st.log.seconds
        out["prep_passes"] = st.scan.prep_passes
        out["prep_rows_per_second"] = out["rows"] * st.scan.prep_passes / out["prep_passes_seconds"]
        out["pass_rows_per_second_per_core"] = out["rows"] / st.log.seconds
        out["peak_rss_mib_1proc"] = peak_rss_mib()   # the preparation and statistics passes
        out["load_average_after_pass"] = os.getloadavg()
        print(json.dumps(out), file=sys.stderr, flush=True)   # partial results, in case
        if not args.no_fit:
            prog.set("path + CV from moments")
            sf = solve_streamed(st, n_lams=args.n_lams)
            out["path_cv_from_moments_seconds"] = sf.info["solve_seconds"]
            out["stream_fit_seconds"] = time.perf_counter() - t0   # prep + pass + path
            out["lam_1se"] = sf.lam
            out["n_kept"] = int(np.count_nonzero(sf.coef))
            out["peak_rss_mib_stream_fit"] = peak_rss_mib()
            print(json.dumps(out), file=sys.stderr, flush=True)
        if args.workers:
            prog.set("cluster passes")
            out.update(_cluster(st, args))
            print(json.dumps(out), file=sys.stderr, flush=True)
        if args.sk_rows and not args.no_fit:
            prog.set("scikit-learn")
            reset_peak_rss()
            out.update(_sklearn(f, args))
            out["peak_rss_mib_sklearn"] = peak_rss_mib()
        out["load_average_end"] = os.getloadavg()
        prog.set("deleting the file")
    prog.stop()
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
        "res", moments_pass(src, sp, args.folds, 0, client=c, dtype=_dtype(args))),
        daemon=True)
    thread.start()
    while thread.is_alive():
        busy = [w for w, keys in c.processing().items() if keys and w in pids]
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)
            break
        time.sleep(0.02)
    thread.join()
    return box.get("res")


def _dtype(args):
    """The statistics pass's batch type: the file's (``stream_statistics(float32=...)``)."""
    return np.float32 if args.dtype == "float32" else np.float64


def _same_as_one_process(got, st) -> bool:
    """The cluster pass's moments, standardized as the one-process pass's were, are the same
    bits as those (no second one-process pass needed)."""
    from regulab.data.stream_stats import standardized

    def std(t):
        return standardized(*t, st.prep.means, st.prep.scales)

    pairs = [(std(got.total()), st.total)] + list(zip([std(got.fold(k)) for k in
                                                       range(st.folds)], st.tests))
    return all(np.array_equal(np.asarray(a), np.asarray(b)) for x, y in pairs
               for a, b in zip(x, y))


def _cluster(st, args) -> dict:
    """The statistics pass on ``--workers`` workers of ``--worker-memory``: time, each worker's
    peak memory (read on the worker), the same bits as in one process, also with ``--kill``
    (a worker SIGKILLed mid-pass)."""
    from distributed import Client, LocalCluster

    from regulab.data.stream_pass import moments_pass

    import dask

    src, sp = st.source, st.scan
    rows = sum(p.n_rows for p in src.partitions())
    res = {"workers": args.workers, "worker_memory": args.worker_memory}
    # no pausing at 80 % (a pass holds one batch; the nanny still kills at 95 %)
    with dask.config.set({"distributed.worker.memory.pause": False}), LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      memory_limit=args.worker_memory) as cl, Client(cl) as c:
        c.wait_for_workers(args.workers)
        res["worker_rss_before_mib"] = sorted(c.run(peak_rss_mib).values())
        t0 = time.perf_counter()
        got = moments_pass(src, sp, args.folds, 0, client=c, dtype=_dtype(args))
        dt = time.perf_counter() - t0
        res["pass_seconds_cluster"] = dt
        res["pass_rows_per_second_per_core_cluster"] = rows / dt / args.workers
        res["worker_peak_rss_mib"] = sorted(c.run(peak_rss_mib).values())
        res["cluster_same_bits"] = _same_as_one_process(got, st)
        res["load_average_after_cluster"] = os.getloadavg()
        if args.kill:
            res["killed_pass_same_bits"] = same_bits(_killed_pass(c, src, sp, args), got)
    return res


def _sklearn(f, args) -> dict:
    """scikit-learn's ``LassoCV`` on the first ``--sk-rows`` rows (read row group by row group,
    never the whole file), standardized as regulab does, in float64."""
    import inspect

    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.linear_model import LassoCV

    pf, tables, got = pq.ParquetFile(f), [], 0
    for g in range(pf.metadata.num_row_groups):
        if got >= args.sk_rows:
            break
        t = pf.read_row_group(g)
        tables.append(t.slice(0, args.sk_rows - got))
        got += tables[-1].num_rows
    df = pa.concat_tables(tables).to_pandas()
    del tables
    y = df.pop("y").to_numpy(np.float64)
    X = df.to_numpy(np.float64)
    del df
    X = (X - X.mean(0)) / X.std(0)
    # scikit-learn >= 1.7 takes the number of alphas as ``alphas=int``
    grid = ({"n_alphas": args.n_lams} if "n_alphas" in inspect.signature(LassoCV).parameters
            else {"alphas": args.n_lams})
    t0 = time.perf_counter()
    LassoCV(cv=args.folds, n_jobs=1, **grid).fit(X, y)
    return {"sklearn_rows": got, "sklearn_lassocv_seconds": time.perf_counter() - t0}


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
    ap.add_argument("--keep", default=None,
                    help="the Parquet file's path, kept: written there unless it exists (then "
                         "read as written by an earlier run), then the whole pipeline")
    ap.add_argument("--kill", action="store_true",
                    help="also a cluster pass with one worker SIGKILLed mid-pass")
    ap.add_argument("--no-fit", action="store_true",
                    help="stop after the statistics passes (no stream_fit, no scikit-learn)")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                    help="the Parquet file's column type")
    ap.add_argument("--log-every", type=float, default=30.0,
                    help="seconds between progress lines on stderr (0: none)")
    ap.add_argument("--file", default=None,
                    help="an existing file written by this benchmark: the statistics pass and "
                         "the path only (see pass_only); the file is kept")
    ap.add_argument("--prep-rows", type=int, default=100_000,
                    help="with --file: rows the preparation is decided on")
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
