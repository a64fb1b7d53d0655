"""What each lam of a certified sparse L1 path does, in order (one line per lam):

    python benchmarks/path_trace.py sparse-tall
    python benchmarks/path_trace.py quarter --seed 1 --tol-in

Not a test. Wraps the squared-loss CD of :mod:`regulab.solvers.exact.squared_cd` on
``benchmarks/table.py``'s sparse generator (as ``path_counts.py``) and prints, per lam, the
support at the start and at the end, then its events: ``C e/m`` a call of the sparse CD kernel
(``e`` epochs on a set of ``m`` columns; with ``--tol-in`` also ``[tolerance > violation
reached]``), ``X`` a residual product ``y_c - X w``, ``Gb`` / ``Gi`` / ``Gf`` a gradient by
bounds, incremental (with the share of X's stored entries read) or full pass (``-``: the route
was refused), ``T`` a gap test as a multiple of the threshold (above 1: failed). The last lines
give the totals and the CD column visits per stored entry by blocks of 10 lams.
"""

from __future__ import annotations

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from path_counts import case_parser, case_problem  # noqa: E402  (imports table.py first)

import numpy as np  # noqa: E402

import regulab.solvers.exact as EX  # noqa: E402
import regulab.solvers.exact.squared as SQ  # noqa: E402
from regulab.selection.path import regularization_path  # noqa: E402
from regulab.solvers import _cd_sparse as CDS  # noqa: E402
from regulab.solvers import _design_kernels as DK  # noqa: E402
from regulab.solvers.design import Design  # noqa: E402


def main():
    parser = case_parser(__doc__)
    parser.add_argument("--tol-in", action="store_true", help="print each CD call's tolerance")
    args = parser.parse_args()
    X, y, lams = case_problem(args)
    nnz_col = np.diff(X.indptr)
    regularization_path(X[:50], y[:50], lams=lams[:2], fit_intercept=False)  # compile first
    lines = []  # per lam: [threshold, start support, events...]
    cd_squared, gap, cd_sparse = EX.cd_squared, SQ.SquaredProblem.gap, CDS.cd_sparse_ws
    x_dot, masked = Design.x_dot, SQ.SquaredProblem.masked_grad
    bounded, incremental = DK.bounded_grad, DK.centered_grad_update

    def traced_solve(P, w, opts, *a, **k):
        lines.append([opts.tol * P.null_loss, int(np.count_nonzero(w))])
        return cd_squared(P, w, opts, *a, **k)

    def traced_gap(self, r, g, w):
        out = gap(self, r, g, w)
        lines[-1].append(("T", out[1] / lines[-1][0]))
        return out

    def traced_cd(*a):
        out = cd_sparse(*a)
        ws = a[6]
        lines[-1].append(("C", int(out[0]), ws.size, int(out[0]) * int(nnz_col[ws].sum()),
                          a[12], float(out[2])))
        return out

    def traced_x_dot(self, w):
        lines[-1].append(("X",))
        return x_dot(self, w)

    def traced_masked(self, r):
        lines[-1].append(("Gf",))
        return masked(self, r)

    def traced_bounded(*a):
        out = bounded(*a)
        lines[-1].append(("Gb" if out >= 0 else "Gb-",))
        return out

    def traced_incremental(*a):
        out = incremental(*a)
        lines[-1].append(("Gi", out / X.nnz) if out >= 0 else ("Gi-",))
        return out

    EX.cd_squared, SQ.SquaredProblem.gap, CDS.cd_sparse_ws = traced_solve, traced_gap, traced_cd
    Design.x_dot, SQ.SquaredProblem.masked_grad = traced_x_dot, traced_masked
    DK.bounded_grad, DK.centered_grad_update = traced_bounded, traced_incremental
    res = regularization_path(X, y, lams=lams, fit_intercept=False, tol=1e-6, max_iter=100_000)
    total = collections.Counter()
    visits = []
    for k, (_, start, *events) in enumerate(lines):
        words = []
        for e in events:
            total[e[0]] += 1
            if e[0] == "C":
                words.append(f"C{e[1]}/{e[2]}" + (f"[{e[4]:.1e}>{e[5]:.1e}]" if args.tol_in
                                                  else ""))
                total["epochs"] += e[1]
            elif e[0] == "T":
                words.append(f"T{e[1]:.2g}")
            elif e[0] == "Gi":
                words.append(f"Gi{e[1]:.2f}")
            else:
                words.append(e[0])
        visits.append(sum(e[3] for e in events if e[0] == "C") / X.nnz)
        print(f"{k:3d} support {start:5d} -> {np.count_nonzero(res.coefs[:, k]):5d}: "
              + " ".join(words))
    v = np.array(visits)
    print(f"{args.case} seed {args.seed}: {dict(total)}, CD visits per stored entry {v.sum():.0f}")
    print("visits by blocks of 10 lams: " + " ".join(f"{v[i:i + 10].sum():.1f}"
                                                   for i in range(0, v.size, 10)))


if __name__ == "__main__":
    main()
