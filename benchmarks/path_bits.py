"""Bit-for-bit comparison of certified L1 paths between two checkouts:

    PYTHONPATH=/old/src python benchmarks/path_bits.py save /tmp/old.npz
    PYTHONPATH=$PWD/src python benchmarks/path_bits.py save /tmp/new.npz
    python benchmarks/path_bits.py compare /tmp/old.npz /tmp/new.npz

Not a test. ``save`` runs ``regularization_path`` on every sparse row of ``benchmarks/table.py``
(sparse-few, sparse-tall, sparse-many, sparse-lowsnr; table.py's grid and tolerance, no
intercept) and on two variants of a smaller sparse problem (5,000 x 12,500, density 4e-3, 300
true non-zeros): with sample weights, and with an intercept (and weights), and stores the
coefficients, intercepts, gaps and iteration counts; ``compare`` says which arrays differ
(``np.array_equal``, NaN-free). ``--rows`` picks a subset.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (one BLAS/OpenMP thread before numpy)

import numpy as np  # noqa: E402

ROWS = ["sparse-few", "sparse-tall", "sparse-many", "sparse-lowsnr"]
VARIANTS = ["weighted", "intercept"]


def _variant(name):
    from scipy import sparse

    rng = np.random.default_rng(7)
    n, p = 5000, 12500
    X = sparse.random(n, p, density=4e-3, format="csc", random_state=rng)
    beta = np.zeros(p)
    beta[rng.choice(p, 300, replace=False)] = rng.standard_normal(300)
    y = X @ beta
    y = y + rng.standard_normal(n) * np.std(y) / 3.0 + 1.5
    s = rng.uniform(0.2, 2.0, n)
    return X, y, s, name == "intercept"


def save(path, rows):
    from regulab.selection.path import lam_grid, regularization_path

    out = {}
    for row in rows:
        if row in VARIANTS:
            X, y, s, icpt = _variant(row)
            lams = lam_grid(X, y, n_lams=60, fit_intercept=icpt, sample_weight=s)
            res = regularization_path(X, y, lams=lams, fit_intercept=icpt, sample_weight=s,
                                      tol=1e-8)
        else:
            case = T.CASES[row]
            X, y = T.prepare(*case.make(), case.kind)
            lams = lam_grid(X, y, loss="squared", n_lams=case.n_lams, fit_intercept=False)
            res = regularization_path(X, y, lams=lams, fit_intercept=False, tol=case.target,
                                      max_iter=100_000)
        for name in ("coefs", "intercepts", "gaps", "n_iter"):
            out[f"{row}:{name}"] = np.asarray(getattr(res, name))
        print(row, "worst gap", float(res.gaps.max()), "epochs", int(res.n_iter.sum()),
              flush=True)
    np.savez(path, **out)


def compare(a, b):
    A, B = np.load(a), np.load(b)
    bad = 0
    for k in sorted(set(A.files) | set(B.files)):
        same = k in A.files and k in B.files and np.array_equal(A[k], B[k])
        bad += not same
        print(("same " if same else "DIFF ") + k)
    print("all equal" if bad == 0 else f"{bad} differ")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["save", "compare"])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--rows", nargs="+", default=ROWS + VARIANTS)
    args = ap.parse_args()
    if args.mode == "save":
        save(args.files[0], args.rows)
    else:
        sys.exit(1 if compare(*args.files[:2]) else 0)


if __name__ == "__main__":
    main()
