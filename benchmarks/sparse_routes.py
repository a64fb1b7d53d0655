"""CPU seconds of certified paths on sparse X through the routes other than the equal-weight
squared one: sample weights, elastic net with weights, L1 logistic, L1 Poisson, penalty factors
and bounds (the box route), multinomial; X drawn like benchmarks/table.py's sparse rows, tall
(n > p) and wide (p > n). Not a test.

    python benchmarks/sparse_routes.py --before /tmp/r2v/src --pairs 3
    python benchmarks/sparse_routes.py --routes logistic poisson --shapes tall   # one tree

With ``--before OLD/src`` each pair runs one fresh process per tree (old first, then new, with
``PYTHONPATH`` set to each tree's ``src``) and prints every pair's ratio (new / old) per route
and shape, then the median and range. A child loads or compiles its kernels with a short path
first (not timed), then times ``--reps`` paths (``time.process_time``, one thread) and keeps
the least. Each answer is certified by the path result: every lam converged (its route's
criterion, the relative duality gap or KKT violation, at most ``tol``: else the child fails);
the worst gap the result holds is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402

ROUTES = ("weighted", "enet", "logistic", "poisson", "box", "multinomial")
#: (n, p, density): 2 10^5 and 10^5 stored entries, 100 and 5 a column
SHAPES = {"tall": (20000, 2000, 5e-3), "wide": (5000, 20000, 1e-3)}
#: left out unless ``--all``: a multinomial path on the wide X takes 15-27 CPU seconds
SLOW = {"multinomial/wide"}


def problem(route, shape, seed=0):
    """``(X, y, kwargs)`` of one route: X as table.py's ``sparse_case`` draws it, a response
    of the route's family from a linear predictor with 5 % true non-zeros."""
    n, p, density = SHAPES[shape]
    X, _ = T.sparse_case(n, p, 1, 3.0, density=density, seed=seed)
    rng = np.random.default_rng([seed, 1])
    beta = np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0)
    eta = np.asarray(X @ beta).ravel()
    eta *= 2.0 / max(float(np.std(eta)), 1e-12)
    sw = rng.uniform(0.5, 2.0, n)
    if route == "logistic":
        return X, (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float), {"loss": "logistic"}
    if route == "poisson":
        return X, rng.poisson(np.exp(0.5 * eta)).astype(float), {"loss": "poisson"}
    if route == "multinomial":
        return X, np.argmax(eta[:, None] + rng.gumbel(size=(n, 3)), axis=1), {}
    y = eta + rng.standard_normal(n)
    if route == "weighted":
        return X, y, {"sample_weight": sw}
    if route == "enet":
        return X, y, {"sample_weight": sw, "l1_ratio": 0.5}
    return X, y, {"penalty_factor": rng.uniform(0.5, 2.0, p), "lower": np.full(p, -1.0),
                  "upper": np.full(p, 1.0)}


def run_path(route, X, y, kw, n_lams, tol):
    from regulab.selection.multinomial import multinomial_path
    from regulab.selection.path import regularization_path

    if route == "multinomial":
        return multinomial_path(X, y, n_lams=n_lams, tol=tol, **kw)
    return regularization_path(X, y, n_lams=n_lams, tol=tol, **kw)


def child(routes, shapes, n_lams, tol, reps, every, save=None):
    import regulab

    out = {"tree": os.path.dirname(regulab.__file__), "rows": {}}
    for shape in shapes:
        for route in routes:
            if f"{route}/{shape}" in SLOW and not every:
                continue
            X, y, kw = problem(route, shape)
            small = {k: (v[:200] if k == "sample_weight" else v) for k, v in kw.items()}
            run_path(route, X[:200], y[:200], small, 3, tol)  # kernels loaded, not timed
            best = np.inf
            for _ in range(reps):
                t0 = time.process_time()
                res = run_path(route, X, y, kw, n_lams, tol)
                best = min(best, time.process_time() - t0)
            gap = float(np.max(res.gaps))
            if not np.all(res.converged):  # the route's own criterion (gap or KKT) met
                raise SystemExit(f"{route}/{shape}: not certified (worst gap {gap:.2e})")
            if save:  # the coefficients, to compare two trees' bits
                np.save(os.path.join(save, f"{route}-{shape}.npy"), res.coefs)
            out["rows"][f"{route}/{shape}"] = {"cpu": best, "gap": gap,
                                               "nnz": int(np.count_nonzero(res.coefs))}
    print(json.dumps(out))


def paired(before, after, routes, shapes, n_lams, tol, reps, pairs, every):
    here = os.path.abspath(__file__)
    ratios: dict[str, list] = {}
    for k in range(pairs):
        got = {}
        for name, src in (("old", before), ("new", after)):
            cmd = [sys.executable, here, "--child", "--n-lams", str(n_lams), "--tol", str(tol),
                   "--reps", str(reps), "--routes", *routes, "--shapes", *shapes]
            cmd += ["--all"] if every else []
            env = dict(os.environ, PYTHONPATH=src)
            got[name] = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True,
                                                  text=True).stdout.strip().splitlines()[-1])
        load = os.getloadavg()[0]
        for key, new in got["new"]["rows"].items():
            old = got["old"]["rows"][key]
            if old["nnz"] != new["nnz"]:
                print(f"  {key}: non-zeros differ (old {old['nnz']}, new {new['nnz']})")
            ratios.setdefault(key, []).append(new["cpu"] / old["cpu"])
            print(f"pair {k + 1} load {load:.2f} {key:22s} old {old['cpu']:.3f} s  "
                  f"new {new['cpu']:.3f} s  ratio {new['cpu'] / old['cpu']:.2f}  "
                  f"gap {old['gap']:.1e}/{new['gap']:.1e}", flush=True)
    print("median ratio (range), new / old:")
    for key, r in ratios.items():
        print(f"  {key:22s} {np.median(r):.2f} ({min(r):.2f}-{max(r):.2f}), {len(r)} pairs")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES))
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--n-lams", type=int, default=20)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--before", help="the old tree's src folder: paired runs")
    parser.add_argument("--after", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "src"), help="the new tree's src folder")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also the SLOW rows")
    parser.add_argument("--save", help="a folder: each row's coefficients as ROUTE-SHAPE.npy")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.before:
        paired(a.before, a.after, a.routes, a.shapes, a.n_lams, a.tol, a.reps, a.pairs, a.all)
    else:
        child(a.routes, a.shapes, a.n_lams, a.tol, a.reps, a.all, a.save)


if __name__ == "__main__":
    main()
