"""A 50-lam L1 Poisson path with an exposure offset, certified, against glum on the same problems.

Run by hand (glum is a dev extra, not a regulab dependency)::

    python benchmarks/bench_families.py [--cases a b c] [--repeat 1]

Every tool solves the same problems on the same grid: 50 lams geometric from lam_max (computed
with the offset) down to ``lam_max * eps`` (eps = 1e-3 when n > p, else 1e-2), on regulab's scale
``(1/n) sum_i (exp(eta_i) - y_i eta_i) + lam ||w||_1``, ``eta = X w + b + log(exposure)``, the
intercept fitted. glum's ``GeneralizedLinearRegressor(family='poisson', l1_ratio=1)`` minimizes
mean deviance / 2 + alpha ||w||_1, the same objective up to a constant, so ``alpha = lam``; it
runs its own warm-started path (``alpha_search=True`` with the alphas given). After each run ONE
formula, written here, measures every tool at every lam: the largest violation of the optimality
conditions divided by the largest gradient entry at the null model (regulab's ``kkt``
criterion). A tool whose worst violation exceeds 1e-6 is rerun with a 10x tighter tolerance (up to
4 times); the time of the run that met it is kept. Times are wall-clock seconds for the whole
path; the ratio is regulab / glum.

Fortran glmnet is not a peer here: the python-glmnet wheel wraps only the gaussian
(``ElasticNet``) and binomial (``LogitNet``) families, not Poisson.

Cases: (a) dense n=5000, p=200, AR(1) correlation 0.5, 10 true non-zeros;
       (b) dense n=10000, p=500, independent, 20 true non-zeros;
       (c) sparse n=10000, p=1000, density 2e-2 (0/1 indicators), 20 true non-zeros.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from scipy import sparse

from regulab.selection.path import lam_grid, regularization_path

TARGET = 1e-6
N_LAMS = 50


def _counts(X, w, rng):
    n = X.shape[0]
    exposure = rng.uniform(0.5, 2.0, n)
    eta = np.asarray(X @ w).ravel() + np.log(exposure) - 0.5
    return rng.poisson(np.exp(eta)).astype(float), np.log(exposure)


def case_a(seed=0):
    rng = np.random.default_rng(seed)
    n, p, rho = 5000, 200, 0.5
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    w = np.zeros(p)
    w[rng.choice(p, 10, replace=False)] = rng.uniform(-0.3, 0.3, 10)
    return ("a: dense 5000x200, AR(1) 0.5", np.asfortranarray(X), *_counts(X, w, rng))


def case_b(seed=0):
    rng = np.random.default_rng(seed)
    n, p = 10000, 500
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[rng.choice(p, 20, replace=False)] = rng.uniform(-0.2, 0.2, 20)
    return ("b: dense 10000x500", np.asfortranarray(X), *_counts(X, w, rng))


def case_c(seed=0):
    rng = np.random.default_rng(seed)
    n, p = 10000, 1000
    X = sparse.random(n, p, density=2e-2, format="csc", random_state=rng,
                      data_rvs=np.ones)
    w = np.zeros(p)
    w[rng.choice(p, 20, replace=False)] = rng.uniform(-0.5, 0.5, 20)
    return ("c: sparse 10000x1000, density 2e-2", X, *_counts(X, w, rng))


def worst_kkt(X, y, o, coefs, intercepts, lams):
    """max over lams of the relative KKT violation (the formula of the module docstring)."""
    n = y.size
    b0 = np.log(y.mean() / np.exp(o).mean())
    scale = np.abs(np.asarray(X.T @ (np.exp(b0 + o) - y)).ravel() / n).max()
    worst = 0.0
    for k, lam in enumerate(lams):
        w = coefs[:, k]
        mu = np.exp(np.asarray(X @ w).ravel() + intercepts[k] + o)
        g = np.asarray(X.T @ (mu - y)).ravel() / n
        viol = np.where(w == 0, np.maximum(np.abs(g) - lam, 0), np.abs(g + lam * np.sign(w)))
        worst = max(worst, viol.max() / scale, abs(np.mean(mu - y)) / scale)
    return worst


def run_regulab(X, y, o, lams, tol):
    path = regularization_path(X, y, loss="poisson", lams=lams, offset=o, tol=tol,
                               max_iter=100_000)
    return path.coefs, path.intercepts


def run_glum(X, y, o, lams, tol):
    from glum import GeneralizedLinearRegressor

    m = GeneralizedLinearRegressor(family="poisson", alpha=list(lams), alpha_search=True,
                                   l1_ratio=1.0, gradient_tol=tol, max_iter=10_000)
    m.fit(X, y, offset=o)
    return m.coef_path_.T, np.asarray(m.intercept_path_)


TOOLS = {"regulab": (run_regulab, TARGET), "glum": (run_glum, 1e-6)}


def bench(name, X, y, o, tools, repeat):
    lams = lam_grid(X, y, loss="poisson", n_lams=N_LAMS, offset=o)
    print(f"\n{name}: lam_max {lams[0]:.4g}, eps {lams[-1] / lams[0]:g}", flush=True)
    rows = {}
    for tool in tools:
        fn, tol = TOOLS[tool]
        fn(X[:200], y[:200], o[:200], lams[:2], tol)  # warm up compilers on a tiny problem
        for attempt in range(5):
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                coefs, intercepts = fn(X, y, o, lams, tol)
                times.append(time.perf_counter() - t0)
            viol = worst_kkt(X, y, o, coefs, intercepts, lams)
            if viol <= TARGET or attempt == 4:
                break
            tol /= 10
        rows[tool] = (min(times), viol, tol, int(np.count_nonzero(coefs[:, -1])))
        print(f"  {tool:>8}: {rows[tool][0]:8.2f} s   worst relative KKT {viol:.1e}   "
              f"(tool tol {tol:g}, nnz at the last lam {rows[tool][3]})", flush=True)
    if "regulab" in rows and "glum" in rows and rows["glum"][1] <= TARGET:
        print(f"  regulab / glum: {rows['regulab'][0] / rows['glum'][0]:.2f}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=["a", "b", "c"])
    parser.add_argument("--tools", nargs="*", default=list(TOOLS))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, numpy {np.__version__}")
    makers = {"a": case_a, "b": case_b, "c": case_c}
    for c in args.cases:
        bench(*makers[c](), args.tools, args.repeat)


if __name__ == "__main__":
    main()
