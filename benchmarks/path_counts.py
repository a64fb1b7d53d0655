"""Deterministic work counts of a certified L1 path on the sparse benchmark generators.

    python benchmarks/path_counts.py quarter --seed 0
    python benchmarks/path_counts.py sparse-many

Not a test. Counts what the squared-loss CD of :mod:`regulab.solvers.exact.squared_cd` does on
``benchmarks/table.py``'s sparse generator (``quarter``: 5000 x 12500, density 4e-3, 625 true,
SNR 3, the structure of ``sparse-many`` at a quarter of its size; or any sparse row of the
table): CD epochs, column visits per stored entry of X (epochs x stored entries of the columns
visited), full-gradient passes and partial ones (:mod:`regulab.solvers.exact.gradient_bound`;
their stored entries in units of nnz(X)), incremental ones (the stored entries of the changed
rows, same units), and the worst relative duality gap over the 100 lams (table.py's
formula). Times are printed with the load average but are not the evidence on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402

import numpy as np  # noqa: E402

import regulab.solvers.exact.squared as SQ  # noqa: E402
from regulab.selection.path import lam_grid, regularization_path  # noqa: E402
from regulab.solvers import _cd_kernels as CDK  # noqa: E402
from regulab.solvers import _cd_sparse as CDS  # noqa: E402
from regulab.solvers import _design_kernels as DK  # noqa: E402


def case_parser(doc):
    """The command line of this script and ``path_trace.py``: a sparse row of the table or
    ``quarter``, and ``--seed`` (quarter only)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=["quarter"] + [k for k in T.CASES if "sparse" in k])
    parser.add_argument("--seed", type=int, default=0)
    return parser


def case_problem(args):
    """``(X, y, lams)`` of the parsed case: the table's preparation and 100 lams."""
    if args.case == "quarter":
        X, y = T.sparse_case(5000, 12500, 625, 3.0, density=4e-3, seed=args.seed)
    else:
        if args.seed:
            raise SystemExit("--seed applies to the quarter case only (the table rows use 0)")
        X, y = T.CASES[args.case].make()
    X, y = T.prepare(X, y, "lasso")
    return X, y, lam_grid(X, y, loss="squared", n_lams=100, fit_intercept=False)


def main():
    args = case_parser(__doc__).parse_args()
    X, y, lams = case_problem(args)
    nnz_col = np.diff(X.indptr)
    count = {"epochs": 0, "visits": 0, "grad": 0, "partial": 0, "partial_entries": 0,
             "inc": 0, "inc_entries": 0}
    cd_ws, cd_sparse, grad = CDK.cd_squared_ws, CDS.cd_sparse_ws, SQ.centered_grad
    # the partial gradient's kernel: in _design_kernels since the seventh round
    cols_mod = DK if hasattr(DK, "bounded_grad") else CDS
    cols_grad = cols_mod.bounded_grad
    inc_grad = getattr(DK, "centered_grad_update", None)  # absent before the seventh round

    def counter(kernel, at):  # ``at``: the position of the working set among the arguments
        def counted(*a):
            out = kernel(*a)
            count["epochs"] += int(out[0])
            count["visits"] += int(out[0]) * int(nnz_col[a[at]].sum())
            return out
        return counted

    def counted_grad(*a):
        count["grad"] += 1
        return grad(*a)

    regularization_path(X[:50], y[:50], lams=lams[:2], fit_intercept=False)  # compile first
    def counted_cols(data, indices, indptr, g0, sqrtL, delta, half, w, active, *rest):
        # the gradient on the features that can matter (gradient_bound), when it is partial
        out = cols_grad(data, indices, indptr, g0, sqrtL, delta, half, w, active, *rest)
        if out >= 0:
            need = active & ((w != 0.0) | (np.abs(g0) + sqrtL * delta > half))
            count["partial"] += 1
            count["partial_entries"] += int(nnz_col[need].sum())
        return out

    def counted_inc(*a):
        # an incremental gradient (gradient_bound): the stored entries of the changed rows
        out = inc_grad(*a)
        if out >= 0:
            count["inc"] += 1
            count["inc_entries"] += int(out)
        return out

    CDK.cd_squared_ws, CDS.cd_sparse_ws = counter(cd_ws, 10), counter(cd_sparse, 6)
    if inc_grad is not None:
        DK.centered_grad_update = counted_inc
    cols_mod.bounded_grad = counted_cols
    SQ.centered_grad = counted_grad
    t0 = time.perf_counter()
    res = regularization_path(X, y, lams=lams, fit_intercept=False, tol=1e-6, max_iter=100_000)
    secs = time.perf_counter() - t0
    print(f"{args.case} seed {args.seed}: worst gap {T.worst_gap(X, y, res.coefs, lams):.1e}, "
          f"CD epochs {count['epochs']}, visits per stored entry {count['visits'] / X.nnz:.0f}, "
          f"gradient passes {count['grad']} full + {count['partial']} partial "
          f"(= {count['partial_entries'] / X.nnz:.1f} full) + {count['inc']} incremental "
          f"(= {count['inc_entries'] / X.nnz:.1f} full), last support "
          f"{np.count_nonzero(res.coefs[:, -1])}; {secs:.2f} s at load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
