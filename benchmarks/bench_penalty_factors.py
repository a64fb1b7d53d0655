"""Penalty factors and bounds: regulab's box route vs its default route (factors all 1) and vs
Fortran glmnet (relative_penalties, lower_limits), on a warm-started lasso path.

    PYTHONPATH=src python benchmarks/bench_penalty_factors.py [--n 1000 --p 500 --lams 50]

Prints median wall times over 3 repeats (after a warm-up for the numba compile) and the largest
objective difference between regulab's and glmnet's solutions along the path.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from regulab.selection.path import lam_grid, regularization_path


def _median_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=500)
    ap.add_argument("--lams", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    X = rng.standard_normal((a.n, a.p))
    beta = np.zeros(a.p)
    beta[:20] = rng.standard_normal(20)
    y = X @ beta + rng.standard_normal(a.n)
    v = np.ones(a.p)
    v[:5] = 0.0
    v[5:] = rng.uniform(0.5, 2.0, a.p - 5)
    lams = lam_grid(X, y, n_lams=a.lams, penalty_factor=v, lower=0.0)
    kw = dict(lams=lams, tol=1e-7)
    regularization_path(X, y, penalty_factor=v, lower=0.0, **kw)  # compile
    regularization_path(X, y, **kw)
    t_default, _ = _median_time(lambda: regularization_path(X, y, **kw))
    t_ones, _ = _median_time(lambda: regularization_path(X, y, penalty_factor=np.ones(a.p), **kw))
    t_box, path = _median_time(lambda: regularization_path(X, y, penalty_factor=v, lower=0.0,
                                                           **kw))
    print(f"n={a.n} p={a.p} lams={a.lams}: default {t_default:.3f}s, factors=1 (box route) "
          f"{t_ones:.3f}s, factors+lower=0 {t_box:.3f}s")
    try:
        import glmnet
    except ImportError:
        return
    g_lams = lams * v.sum() / (2 * a.p)
    m = glmnet.ElasticNet(alpha=1.0, lambda_path=g_lams, standardize=False, n_splits=0,
                          tol=1e-10, lower_limits=np.zeros(a.p))
    t_g, _ = _median_time(lambda: m.fit(X, y, relative_penalties=v))

    def obj(w, b, lam):
        e = y - X @ w - b
        return float(np.mean(e * e)) + lam * float(v @ np.abs(w))

    k = min(m.coef_path_.shape[1], lams.size)
    worst = max((obj(path.coefs[:, i], path.intercepts[i], lams[i])
                 - obj(m.coef_path_[:, i], m.intercept_path_[i], lams[i]))
                / obj(m.coef_path_[:, i], m.intercept_path_[i], lams[i]) for i in range(k))
    print(f"glmnet (relative_penalties, lower_limits=0): {t_g:.3f}s over {k} lams; "
          f"ratio regulab/glmnet {t_box / t_g:.2f}; largest (ours - glmnet) / glmnet "
          f"objective {worst:.1e}")


if __name__ == "__main__":
    main()
