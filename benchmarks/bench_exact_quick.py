"""Quick timing of regulab's exact solver on warm-started L1 paths.

Run by hand:  python benchmarks/bench_exact_quick.py [--case a|diabetes|all] [--n-lams 100]

Case (a) of issue 3: dense n=1000, p=5000, Toeplitz correlation 0.6 (AR(1) columns, so
X = Z chol(Sigma)^T is built in O(np)), 5% true non-zeros, seeded. Case diabetes: scikit-learn's
diabetes (n=442, p=10). For each: a 100-lam path from lam_max down to lam_max*1e-3 (geometric),
each lam warm-started from the previous solution and solved to relative duality gap 1e-6; prints
the first-call time (includes numba compilation or loading its on-disk cache), and the path time.
The gap of every lam is re-checked with regulab.core.certificates (one common formula).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def case_a(seed=0, n=1000, p=5000, rho=0.6, frac=0.05, snr=3.0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    # AR(1): x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j has corr(x_j, x_k) = rho^|j-k|
    X[:, 0] = Z[:, 0]
    a = np.sqrt(1.0 - rho * rho)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + a * Z[:, j]
    k = int(frac * p)
    w = np.zeros(p)
    idx = rng.choice(p, k, replace=False)
    w[idx] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 2.0, k)
    signal = X @ w
    y = signal + rng.standard_normal(n) * np.std(signal) / snr
    return X, y


def case_diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X, y


def run_path(X, y, n_lams=100, eps=1e-3, tol=1e-6):
    from regulab.core.penalties import L1
    from regulab.solvers.exact import solve

    lam_max = L1().lam_max(X, y)
    lams = lam_max * np.geomspace(1.0, eps, n_lams)
    p = X.shape[1]
    w, b = np.zeros(p), None
    coefs = np.empty((p, n_lams))
    gaps = np.empty(n_lams)
    iters = np.empty(n_lams, dtype=int)
    t0 = time.perf_counter()
    for k, lam in enumerate(lams):
        r = solve(X, y, loss="squared", l1=lam, l2=0.0, fit_intercept=True, w0=w, b0=b, tol=tol)
        w, b = r.w, r.intercept
        coefs[:, k], gaps[k], iters[k] = w, r.gap, r.n_iter
        if not r.converged:
            print(f"  lam[{k}] not converged: gap {r.gap:.2e}")
    elapsed = time.perf_counter() - t0
    return elapsed, lams, coefs, gaps, iters


def check_gaps(X, y, lams, coefs, tol):
    from regulab.core.certificates import duality_gap_squared

    yc = y - y.mean()
    null = float(np.mean(yc * yc))
    worst = 0.0
    for k in range(0, len(lams), max(1, len(lams) // 10)):
        w = coefs[:, k]
        b = float(np.mean(y - X @ w))
        worst = max(worst, duality_gap_squared(X, y, w, b, lams[k], 0.0) / null)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", default="all", choices=["a", "diabetes", "all"])
    parser.add_argument("--n-lams", type=int, default=100)
    parser.add_argument("--tol", type=float, default=1e-6)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from regulab.solvers.exact import solve

    print(f"import regulab.solvers.exact: {time.perf_counter() - t0:.2f} s")
    Xd, yd = case_diabetes()
    t0 = time.perf_counter()
    solve(Xd, yd, l1=1.0, tol=1e-6)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    solve(Xd, yd, l1=1.0, tol=1e-6)
    second = time.perf_counter() - t0
    print(f"first call {first:.3f} s (compile or cache load), second call {second * 1e3:.2f} ms")

    cases = {"diabetes": (Xd, yd)} if args.case in ("diabetes", "all") else {}
    if args.case in ("a", "all"):
        t0 = time.perf_counter()
        cases["a"] = case_a()
        print(f"case (a) built in {time.perf_counter() - t0:.2f} s")
    for name, (X, y) in cases.items():
        elapsed, lams, coefs, gaps, iters = run_path(X, y, args.n_lams, tol=args.tol)
        worst = check_gaps(X, y, lams, coefs, args.tol)
        nnz = (coefs != 0).sum(axis=0)
        print(f"case {name}: n={X.shape[0]} p={X.shape[1]}: {args.n_lams}-lam L1 path "
              f"{elapsed:.2f} s, max rel gap {gaps.max():.1e} (certificates: {worst:.1e}), "
              f"epochs {iters.sum()}, final nnz {nnz[-1]}")


if __name__ == "__main__":
    main()
