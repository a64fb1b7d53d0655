"""Thread CPU of regulab's certified path on one row of benchmarks/table.py, split by kernel:

    python benchmarks/path_split.py sparse-few --reps 5

Not a test. Wraps each compiled kernel the sparse squared-loss path calls (and numpy's
``argpartition``) with a thread-CPU timer and prints, per run, the whole path, the sum over the
kernels, the rest (Python and numpy over p) and each kernel's share, with the load. Used for the
fifth round in docs/benchmarks.md; compare checkouts by ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402

from regulab.selection.path import lam_grid, regularization_path  # noqa: E402
from regulab.solvers import _cd_kernels as CDK  # noqa: E402
from regulab.solvers import _cd_sparse as CDS  # noqa: E402
from regulab.solvers import _design_kernels as DK  # noqa: E402

# bounded_grad: in _cd_sparse before the seventh round, in _design_kernels since
KERNELS = [(DK, "xt_dot_sparse"), (DK, "bounded_grad"), (CDS, "bounded_grad"),
           (CDS, "cd_sparse_ws"), (DK, "x_dot"), (CDK, "kkt_ws_scores"), (CDK, "kkt_ws_select"),
           (CDK, "moved_residual"), (CDK, "gap_sums"), (np, "argpartition"),
           (DK, "centered_grad_update")]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("row", choices=[k for k, c in T.CASES.items() if c.kind == "lasso"])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    case = T.CASES[args.row]
    X, y = T.prepare(*case.make(), case.kind)
    lams = lam_grid(X, y, loss="squared", n_lams=case.n_lams, fit_intercept=False)
    regularization_path(X[:50], y[:50], lams=lams[:2], fit_intercept=False)  # cached kernels
    spent = {}

    def timed(mod, name):
        kernel = getattr(mod, name)

        def run(*a, **k):
            t0 = time.thread_time()
            out = kernel(*a, **k)
            spent[name] = spent.get(name, 0.0) + time.thread_time() - t0
            return out
        setattr(mod, name, run)

    for mod, name in KERNELS:
        if hasattr(mod, name):  # an older checkout may lack one
            timed(mod, name)
    for _ in range(args.reps):
        spent.clear()
        t0 = time.thread_time()
        regularization_path(X, y, lams=lams, fit_intercept=False, tol=case.target,
                            max_iter=100_000)
        total = time.thread_time() - t0
        inner = sum(spent.values())
        parts = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in spent.items())
        print(f"{args.row}: path {total * 1e3:.0f} ms, kernels {inner * 1e3:.0f} ms, rest "
              f"{(total - inner) * 1e3:.0f} ms ({parts}), load {os.getloadavg()[0]:.1f}",
              flush=True)


if __name__ == "__main__":
    main()
