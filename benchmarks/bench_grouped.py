"""Grouped (group lasso) vs ungrouped (lasso) categoricals, measured on simulated tables.

Two scenarios, each over seeds: a 200-row table with 8 numeric columns (3 matter), one
categorical column ``region`` (6 levels) and three noise categorical columns (4, 5 and 8 levels).
``matters``: region's levels shift y (effects drawn N(0, 1) per level); ``noise``: region does not.
Both fits go through the same preparation (k-1 indicators, standardized) and 5-fold CV (rule
1se), and are scored on 5,000 fresh rows. Reported per method: test error relative to the
noise variance (regression; log-loss for the binary target), how often region is kept
(``matters``) or dropped (``noise``), how many noise categorical columns are kept (any indicator
non-zero), and indicators kept.

Run: PYTHONPATH=src python benchmarks/bench_grouped.py [--seeds 10]

Speed (``--speed``): a certified logistic group-lasso path, regulab vs skglm on the same
objective. skglm's ``LogisticGroup`` datafit is the mean ``log(1 + exp(-t_i z_i))`` (``t = 2y -
1``) and ``WeightedGroupL2(alpha, weights)`` is ``alpha sum_g weights_g ||w_g||``, so with
``alpha = lam`` and ``weights = sqrt(|g|)`` it is regulab's ``mean log-loss + lam sum_g
sqrt(|g|) ||w_g||`` exactly (intercept unpenalized, ``fit_intercept=True`` in both). 20 lams from
``lam_max`` down to ``lam_max / 100`` (every group kept at the end), warm-started in both. After
each run one formula written here (the relative KKT violation: per group ``max(||g_g|| - lam c_g,
0)`` at ``w_g = 0``, else ``||g_g + lam c_g w_g / ||w_g|| ||``, and ``|g_b|``, divided by
``lam_max``) checks every lam from each tool's coefficients; skglm's absolute ``tol`` starts at
``1e-6 lam_max`` and is tightened 10x at a time until its worst violation is <= 1e-6 like
regulab's. Objectives at every lam are computed here from each tool's coefficients. CPU seconds
of this process (``time.process_time``), one BLAS thread (threadpoolctl).

Run: PYTHONPATH=src python benchmarks/bench_grouped.py --speed
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.special import expit

from regulab.data.prepare import prepare
from regulab.selection.cv import fit_cv

LEVELS = {"region": 6, "c1": 4, "c2": 5, "c3": 8}


def table(rng, n, region_effect, binary):
    df = pd.DataFrame(rng.standard_normal((n, 8)), columns=[f"x{j}" for j in range(8)])
    for c, k in LEVELS.items():
        df[c] = rng.choice([f"{c}{i}" for i in range(k)], n)
    z = df["x0"] - 0.7 * df["x1"] + 0.5 * df["x2"]
    z = z + df["region"].map(region_effect).to_numpy()
    if binary:
        df["y"] = np.where(rng.uniform(size=n) < expit(z), "yes", "no")
    else:
        df["y"] = z + 1.5 * rng.standard_normal(n)
    return df


def one(seed, scenario, binary):
    rng = np.random.default_rng(seed)
    eff = {f"region{i}": (rng.normal(0, 1) if scenario == "matters" else 0.0) for i in range(6)}
    train, test = table(rng, 200, eff, binary), table(rng, 5000, eff, binary)
    prep = prepare(train, target="y")
    ap = prep.apply(test)
    loss = "logistic" if binary else "squared"
    out = {}
    for name, groups in (("lasso", None), ("grouped", prep.groups)):
        fit = fit_cv(prep.X, prep.y, loss=loss, rule="1se", n_lams=50, cv=5, seed=seed,
                     groups=groups)
        z = ap.X @ fit.coef + fit.intercept
        err = (np.mean((ap.y - z) ** 2) / 1.5**2 if not binary
               else np.mean(np.logaddexp(0, -(2 * ap.y - 1) * z)))
        kept = {c: bool(np.any(fit.coef[np.asarray(prep.groups) == c] != 0)) for c in LEVELS}
        out[name] = {"err": err, "region": kept["region"],
                     "noise_cats": sum(kept[c] for c in ("c1", "c2", "c3")),
                     "indicators": int(np.count_nonzero(
                         fit.coef[np.isin(prep.groups, list(LEVELS))]))}
    return out


def speed_problem(name, seed=0, n=3000):
    """``gauss``: 300 standard normal columns in 60 groups of 5, half the groups active;
    ``categorical``: 40 categorical columns of 2..14 levels (k - 1 indicators each, standardized)
    and 40 numeric columns (singletons), a third of the columns active."""
    rng = np.random.default_rng(seed)
    if name == "gauss":
        labels = np.repeat(np.arange(60), 5)
        X = rng.standard_normal((n, 300))
    else:
        cols, labels = [], []
        for c in range(40):
            lev = rng.integers(0, int(rng.integers(2, 15)), n)
            ind = (lev[:, None] == np.arange(1, lev.max() + 1)).astype(float)
            cols.append(ind)
            labels += [c] * ind.shape[1]
        cols.append(rng.standard_normal((n, 40)))
        labels += list(range(40, 80))
        X = np.hstack(cols)
        X = (X - X.mean(0)) / X.std(0)
        labels = np.asarray(labels)
    active = rng.random(labels.max() + 1) < (0.5 if name == "gauss" else 1 / 3)
    beta = rng.normal(0, 0.3, X.shape[1]) * active[labels]
    y = (rng.uniform(size=n) < expit(X @ beta)).astype(float)
    return np.asfortranarray(X), y, labels


def path_kkt(X, y, labels, lams, W, B, scale):
    """Worst relative KKT violation over the path (module docstring), written out here."""
    n = len(y)
    worst = 0.0
    for k, lam in enumerate(lams):
        r = (expit(X @ W[:, k] + B[k]) - y) / n
        g = X.T @ r
        v = abs(r.sum())
        for lab in np.unique(labels):
            m = labels == lab
            c, wn = np.sqrt(m.sum()), np.linalg.norm(W[m, k])
            v = max(v, (np.linalg.norm(g[m]) - lam * c) if wn == 0
                    else np.linalg.norm(g[m] + lam * c * W[m, k] / wn))
        worst = max(worst, v / scale)
    return worst


def path_objectives(X, y, labels, lams, W, B):
    z = X @ W + B
    loss = np.logaddexp(0, -(2 * y - 1)[:, None] * z).mean(axis=0)
    pen = sum(np.sqrt((labels == g).sum()) * np.linalg.norm(W[labels == g], axis=0)
              for g in np.unique(labels))
    return loss + lams * pen


def skglm_path(X, y, labels, lams, solver_name, tol):
    from skglm.datafits import LogisticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupBCD, GroupProxNewton

    from regulab.core.groups import as_groups

    G = as_groups(labels, X.shape[1])
    ptr, idx = G.ptr.astype(np.int32), G.idx.astype(np.int32)
    p = X.shape[1]
    solver = (GroupProxNewton(tol=tol, fit_intercept=True, max_iter=1000) if solver_name == "prox"
              else GroupBCD(tol=tol, fit_intercept=True, max_iter=1000, max_epochs=100_000))
    W, B = np.zeros((p, lams.size)), np.zeros(lams.size)
    w = np.zeros(p + 1)
    t = time.process_time()
    for k, lam in enumerate(lams):
        w = solver.solve(X, 2 * y - 1, LogisticGroup(ptr, idx),
                         WeightedGroupL2(lam, G.weights, ptr, idx), w.copy(),
                         X @ w[:p] + w[p])[0]
        W[:, k], B[k] = w[:p], w[p]
    return time.process_time() - t, W, B


def speed(cases):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # one BLAS thread for every tool (skglm: numba, 1 thread)
        for name in cases:
            _speed_case(name, first=name == cases[0])


def _speed_case(name, first):
    from regulab.selection.path import lam_max, regularization_path

    if first:
        print("| case | regulab | skglm GroupProxNewton (tol) | skglm GroupBCD (tol) | regulab / "
              "faster | worst KKT regulab / prox / bcd | max (ours - peer) / peer objective |")
        print("|---|---|---|---|---|---|---|")
    X, y, labels = speed_problem(name)
    top = lam_max(X, y, loss="logistic", groups=labels)
    lams = np.geomspace(top, top / 100, 20)
    regularization_path(X[:300], y[:300], loss="logistic", groups=labels, lams=lams[:3])
    skglm_path(X[:300], y[:300], labels, lams[:2], "prox", 1e-4)
    skglm_path(X[:300], y[:300], labels, lams[:2], "bcd", 1e-4)
    t = time.process_time()
    path = regularization_path(X, y, loss="logistic", groups=labels, lams=lams, tol=1e-6)
    ours = time.process_time() - t
    W, B = path.coefs, path.intercepts
    out = {"ours": (ours, path_kkt(X, y, labels, lams, W, B, top), None)}
    obj = path_objectives(X, y, labels, lams, W, B)
    gap = -np.inf
    for solver in ("prox", "bcd"):
        for tol in top * np.array([1e-6, 1e-7, 1e-8, 1e-9]):
            sec, Ws, Bs = skglm_path(X, y, labels, lams, solver, tol)
            kkt = path_kkt(X, y, labels, lams, Ws, Bs, top)
            if kkt <= 1e-6:
                break
        out[solver] = (sec, kkt, tol / top)
        peer = path_objectives(X, y, labels, lams, Ws, Bs)
        gap = max(gap, float(np.max((obj - peer) / np.abs(peer))))
    kept = len(np.unique(labels[W[:, -1] != 0]))
    faster = min(out["prox"][0], out["bcd"][0])
    print(f"| {name} {X.shape[0]}x{X.shape[1]}, {labels.max() + 1} groups ({kept} kept at "
          f"the last lam) | {ours:.2f} s | {out['prox'][0]:.2f} s ({out['prox'][2]:.0e} "
          f"lam_max) | {out['bcd'][0]:.2f} s ({out['bcd'][2]:.0e} lam_max) | "
          f"{ours / faster:.2f} | {out['ours'][1]:.1e} / {out['prox'][1]:.1e} / "
          f"{out['bcd'][1]:.1e} | {gap:.1e} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--speed", nargs="*", metavar="CASE",
                    help="time the logistic group-lasso path vs skglm instead (cases: gauss "
                         "categorical; default both)")
    args = ap.parse_args()
    if args.speed is not None:
        speed(args.speed or ["gauss", "categorical"])
        return
    for binary in (False, True):
        for scenario in ("matters", "noise"):
            res = [one(s, scenario, binary) for s in range(args.seeds)]
            print(f"{'binary' if binary else 'regression'}, region {scenario}, "
                  f"{args.seeds} seeds:")
            for m in ("lasso", "grouped"):
                e = np.array([r[m]["err"] for r in res])
                reg = np.mean([r[m]["region"] for r in res])
                print(f"  {m:8s} test {'MSE/sigma^2' if not binary else 'log-loss'} "
                      f"{e.mean():.4f} ± {e.std(ddof=1) / np.sqrt(e.size):.4f}; region kept "
                      f"{reg:.0%}; noise categoricals kept {np.mean([r[m]['noise_cats'] for r in res]):.2f}"
                      f" of 3; categorical indicators kept "
                      f"{np.mean([r[m]['indicators'] for r in res]):.1f} of 19")
            d = np.array([r["grouped"]["err"] - r["lasso"]["err"] for r in res])
            print(f"  grouped - lasso test error: {d.mean():+.4f} ± "
                  f"{d.std(ddof=1) / np.sqrt(d.size):.4f} (paired)")


if __name__ == "__main__":
    main()
