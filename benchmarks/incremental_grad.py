"""The incremental gradient of :mod:`regulab.solvers.exact.gradient_bound`: its cost per call and
its rounding drift along a path.

    python benchmarks/incremental_grad.py cost sparse-few
    python benchmarks/incremental_grad.py drift sparse-few [--intercept]

Not a test. ``cost``: one call of ``_design_kernels.centered_grad_update`` with a random share
of the rows changed (0.1 / 0.3 / 0.6 / 0.9 of them), against one full pass
(``xt_dot_sparse``), median wall time of 10 calls, the caches flushed (a 64 MB array written)
before each. ``drift``: the table row's path with the chain of incremental updates left
unbounded (``MAX_CHAIN`` huge, every update allowed); at each update, the largest entry-wise
difference from the direct product relative to ``max_j |g_j|``, by chain length.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402

import regulab.solvers.exact.gradient_bound as GB  # noqa: E402
from regulab.selection.path import lam_grid, regularization_path  # noqa: E402
from regulab.solvers import _design_kernels as DK  # noqa: E402
from regulab.solvers.design import as_design  # noqa: E402


def cost(X):
    D = as_design(X)
    n, p = D.n, D.p
    rdata, rcols, rptr = D.csr_arrays()
    s, xbar, active = np.full(n, 1.0 / n), np.zeros(p), np.ones(p, dtype=bool)
    rng = np.random.default_rng(0)
    q0 = rng.standard_normal(n)
    nnz = int(D.indptr[-1])
    junk = np.ones(8 << 20)
    for share in (0.1, 0.3, 0.6, 0.9):
        q = q0.copy()
        rows = rng.choice(n, int(share * n), replace=False)
        q[rows] += 1e-3
        sq = s * q
        inc, full = [], []
        for _ in range(10):
            junk += 1.0
            g = np.zeros(p)
            t0 = time.perf_counter()
            DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, nnz, g, g)
            inc.append(time.perf_counter() - t0)
            junk += 1.0
            t0 = time.perf_counter()
            DK.xt_dot_sparse(D.data, D.indices, D.indptr, p, sq)
            full.append(time.perf_counter() - t0)
        entries = np.diff(rptr)[rows].sum() / nnz
        print(f"rows {share:.1f} (stored entries {entries:.2f}): incremental "
              f"{np.median(inc) * 1e3:.2f} ms, full pass {np.median(full) * 1e3:.2f} ms, "
              f"load {os.getloadavg()[0]:.1f}")


def drift(X, y, fit_intercept):
    GB.MAX_CHAIN, GB.INCREMENTAL = 10**9, 1.0
    seen = []
    update = GB.GradientBound._incremental

    def checked(self, r, q):
        g = update(self, r, q)
        if g is not None:
            direct = self.P.masked_grad(r)
            seen.append((self.ref.chain, np.abs(g - direct).max() / np.abs(direct).max()))
        return g

    GB.GradientBound._incremental = checked
    lams = lam_grid(X, y, n_lams=100, fit_intercept=fit_intercept)
    regularization_path(X, y, lams=lams, fit_intercept=fit_intercept, tol=1e-6)
    chain, err = np.array(seen).T
    for upto in sorted({k for k in (4, 8, 16, 32, 64) if k < chain.max()} | {int(chain.max())}):
        print(f"chains <= {upto}: worst relative difference {err[chain <= upto].max():.1e}")
    print(f"{len(seen)} updates, longest chain {int(chain.max())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["cost", "drift"])
    parser.add_argument("row", choices=[k for k in T.CASES if "sparse" in k])
    parser.add_argument("--intercept", action="store_true")
    args = parser.parse_args()
    X, y = T.prepare(*T.CASES[args.row].make(), "lasso")
    cost(X) if args.what == "cost" else drift(X, y, args.intercept)


if __name__ == "__main__":
    main()
