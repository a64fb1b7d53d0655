"""regulab ``--stream`` against scikit-learn's ``LassoCV`` on the SAME rows, lams and folds.

For each ``--rows N``: the first ``N`` rows of ``--file`` (a file of
``bench_streaming.py --keep``) are written to ``--out-dir`` (kept), then in this process

* regulab's streamed pipeline (:func:`regulab.commands.streamed.stream_fit`, float32 batches,
  ``--n-lams`` lams, ``--folds`` hash folds): seconds, peak resident memory above the start;
* ``LassoCV`` on the same rows read into one float64 array (Fortran order, standardized in
  place with the means and population sds regulab measured, as its coordinate descent wants),
  ``alphas = lams / 2`` (``(1/2n) RSS + alpha ||w||_1`` = half of regulab's
  ``(1/n) RSS + lam ||w||_1``: the same minimizer), ``cv`` = regulab's folds, ``tol``
  ``--sk-tol``: seconds, peak resident memory above the start (its read included);
* the agreement: largest relative difference of the per-fold held-out MSEs, and of the
  coefficients at the lam both pick (``idx_min``), and each objective at that lam computed
  here from each answer's coefficients.

One JSON line per ``N`` on stdout. The peak per row of scikit-learn at two sizes gives the
slope of the rule "largest ``N`` this machine holds" (docs/scaling.md). Never a timed test::

    python benchmarks/bench_sklearn_same.py --file /work/bench5e7/data.parquet \\
        --rows 100000 200000 --out-dir /work/bench5e7
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_streaming import _status_mib, peak_rss_mib, reset_peak_rss  # noqa: E402


def subsample(src: str, n: int, out_dir: str) -> str:
    """The first ``n`` rows of ``src``, written once (row groups as in ``src``)."""
    import pyarrow.parquet as pq

    f = os.path.join(out_dir, f"sub_{n}.parquet")
    if os.path.exists(f):
        return f
    pf, got = pq.ParquetFile(src), 0
    with pq.ParquetWriter(f + ".part", pf.schema_arrow, compression="none",
                          use_dictionary=False) as w:
        for g in range(pf.metadata.num_row_groups):
            if got >= n:
                break
            t = pf.read_row_group(g)
            t = t.slice(0, n - got)
            w.write_table(t)
            got += t.num_rows
    os.replace(f + ".part", f)
    return f


def read_standardized(f: str, target: str, means, scales):
    """``(X [n, p] float64 Fortran order, standardized in place, y)``, column by column."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(f)
    names = [c for c in pf.schema_arrow.names if c != target]
    n = pf.metadata.num_rows
    X = np.empty((n, len(names)), order="F")
    for j, c in enumerate(names):
        X[:, j] = pq.read_table(f, columns=[c]).column(0).to_numpy()
        X[:, j] -= means[j]
        X[:, j] /= scales[j]
    y = pq.read_table(f, columns=[target]).column(0).to_numpy().astype(np.float64)
    return X, y


def lasso_objective(X, y, w, b, lam):
    """regulab's objective: mean squared error + lam ||w||_1."""
    r = y - X @ w - b
    return float(r @ r / len(y) + lam * np.abs(w).sum())


def one(args, n: int) -> dict:
    import inspect

    from sklearn.linear_model import LassoCV

    from regulab.commands.streamed import stream_fit
    from regulab.data.streaming import hash_folds

    f = subsample(args.file, n, args.out_dir)
    out = {"rows": n, "folds": args.folds, "n_lams": args.n_lams, "sk_tol": args.sk_tol,
           "load_average_start": os.getloadavg()}
    base = _status_mib("VmRSS")
    reset_peak_rss()
    t0 = time.perf_counter()
    sf = stream_fit(f, "y", folds=args.folds, n_lams=args.n_lams, float32=True,
                    batch_rows=args.batch_rows)
    out["regulab_seconds"] = time.perf_counter() - t0
    out["regulab_peak_above_start_mib"] = peak_rss_mib() - base
    out["regulab_passes"] = sf.info["passes"]
    prep, lams = sf.prep, sf.cv.lams
    base = _status_mib("VmRSS")
    reset_peak_rss()
    t0 = time.perf_counter()
    X, y = read_standardized(f, "y", prep.means, prep.scales)
    fold = hash_folds(np.arange(n), args.folds, 0)
    splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(args.folds)]
    kw = {"alphas": lams / 2}
    if "n_alphas" not in inspect.signature(LassoCV).parameters:
        kw = {"alphas": list(lams / 2)}
    sk = LassoCV(cv=splits, n_jobs=1, tol=args.sk_tol, max_iter=100_000, **kw).fit(X, y)
    out["sklearn_seconds"] = time.perf_counter() - t0
    out["sklearn_peak_above_start_mib"] = peak_rss_mib() - base
    out["sklearn_peak_bytes_per_row"] = out["sklearn_peak_above_start_mib"] * 2**20 / n
    out["seconds_ratio_sklearn_over_regulab"] = out["sklearn_seconds"] / out["regulab_seconds"]
    # agreement: same alphas order (decreasing), mse_path_ [n_alphas, n_folds]
    assert np.allclose(sk.alphas_ * 2, lams, rtol=1e-12)
    mse_sk = sk.mse_path_.T
    out["max_rel_diff_fold_mse"] = float(np.max(np.abs(mse_sk - sf.cv.fold_errors)
                                                / sf.cv.fold_errors))
    out["idx_min_regulab"] = int(sf.cv.idx_min)
    out["idx_min_sklearn"] = int(np.flatnonzero(np.isclose(sk.alphas_, sk.alpha_))[0])
    k = out["idx_min_regulab"]
    w_r, b_r = sf.path.coefs[:, k], float(sf.path.intercepts[k])
    if out["idx_min_sklearn"] == k:
        out["max_abs_diff_coef_at_min"] = float(np.max(np.abs(sk.coef_ - w_r)))
        out["objective_regulab"] = lasso_objective(X, y, w_r, b_r, lams[k])
        out["objective_sklearn"] = lasso_objective(X, y, sk.coef_, sk.intercept_, lams[k])
    out["load_average_end"] = os.getloadavg()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", required=True)
    ap.add_argument("--rows", type=int, nargs="+", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--n-lams", type=int, default=100)
    ap.add_argument("--batch-rows", type=int, default=50_000)
    ap.add_argument("--sk-tol", type=float, default=1e-4, help="LassoCV's tol (its default)")
    ap.add_argument("--warm-rows", type=int, default=20_000,
                    help="a first, untimed regulab fit on this many rows (imports and numba "
                         "compiles out of the timings; 0: none)")
    args = ap.parse_args()
    if args.warm_rows:
        from regulab.commands.streamed import stream_fit

        stream_fit(subsample(args.file, args.warm_rows, args.out_dir), "y", folds=args.folds,
                   n_lams=args.n_lams, float32=True, batch_rows=args.batch_rows)
    for n in args.rows:
        print(json.dumps(one(args, n)), flush=True)


if __name__ == "__main__":
    main()
