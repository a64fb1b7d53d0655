"""Two versions of the sparse CD kernel (``_cd_sparse.cd_sparse_ws``) compared inside one path:

    python benchmarks/cd_calls_ab.py sparse-many /work/main/src/regulab/solvers/_cd_sparse.py

Not a test. Runs regulab's certified path on one row of benchmarks/table.py ``--reps`` times
in one process; each CD call goes, at random, to this checkout's kernel ("new") or to the one
in the file given ("old", loaded from a temporary copy with numba's cache off), and the thread
CPU time and the column visits (epochs x stored entries of the working set) are summed per
kernel. Prints ns per stored entry per kernel and path, and pooled over all paths but the first.
The load of a shared machine then falls on both kernels alike, which alternating whole paths
or processes does not give (used for the seventh round in docs/benchmarks.md). Meant for
kernels with the same iterates (a prefetch, a copy); otherwise both still run the same path,
each on the states the other left.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402

from regulab.selection.path import lam_grid, regularization_path  # noqa: E402
from regulab.solvers import _cd_sparse as CDS  # noqa: E402


def _load_old(path):
    """The module in ``path``, compiled afresh (its copy with ``cache=False``: a cached kernel
    would be looked up under the checkout's own module)."""
    with open(path) as f:
        src = f.read().replace("cache=True", "cache=False")
    tmp = tempfile.mkdtemp()
    copy = os.path.join(tmp, "old_cd_sparse.py")
    with open(copy, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("old_cd_sparse", copy)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_cd_sparse"] = mod
    spec.loader.exec_module(mod)
    return mod


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("row", choices=[k for k, c in T.CASES.items() if c.kind == "lasso"])
    parser.add_argument("old", help="path of the other _cd_sparse.py")
    parser.add_argument("--reps", type=int, default=6)
    args = parser.parse_args()
    kernels = {"old": _load_old(args.old).cd_sparse_ws, "new": CDS.cd_sparse_ws}
    names = list(kernels)
    case = T.CASES[args.row]
    X, y = T.prepare(*case.make(), case.kind)
    lams = lam_grid(X, y, loss="squared", n_lams=case.n_lams, fit_intercept=False)
    rng = np.random.default_rng(1)
    spent = {k: [0.0, 0] for k in names}
    pooled = {k: [0.0, 0] for k in names}

    def either(data, indices, indptr, inv_n, xbar, L, ws, *rest):
        name = names[rng.integers(2)]
        t0 = time.thread_time()
        out = kernels[name](data, indices, indptr, inv_n, xbar, L, ws, *rest)
        spent[name][0] += time.thread_time() - t0
        spent[name][1] += int((indptr[ws + 1] - indptr[ws]).sum()) * int(out[0])
        return out

    CDS.cd_sparse_ws = either
    for rep in range(args.reps):  # the first path also compiles the old kernel
        regularization_path(X, y, lams=lams, fit_intercept=False, tol=case.target,
                            max_iter=100_000)
        line = ", ".join(f"{k} {v[0] / max(v[1], 1) * 1e9:.3f}" for k, v in spent.items())
        print(f"{args.row} path {rep}: ns per stored entry {line}, load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        for k, v in spent.items():
            if rep > 0:
                pooled[k][0] += v[0]
                pooled[k][1] += v[1]
            v[0], v[1] = 0.0, 0
    line = ", ".join(f"{k} {v[0] / max(v[1], 1) * 1e9:.3f}" for k, v in pooled.items())
    print(f"{args.row} pooled over paths 1..{args.reps - 1}: {line}")


if __name__ == "__main__":
    main()
