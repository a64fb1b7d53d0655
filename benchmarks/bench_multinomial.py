"""A multinomial L1 path (ungrouped and grouped): regulab vs Fortran glmnet.

    python benchmarks/bench_multinomial.py [--cases iris digits sim] [--forms ungrouped grouped]
        [--n-lams 100]

Same problem for both tools: the mean multinomial log-loss + lam * L1(W) (per coefficient, or
one L2 norm per feature across the classes: glmnet's ``type.multinomial = "grouped"``,
``kopt = 2`` of its ``lognet``), intercepts unpenalized, columns standardized beforehand and
glmnet's own standardization off; one grid of ``n_lams`` lams from regulab's ``lam_max`` down to
``lam_max * 1e-3`` given to both (glmnet's lambda = regulab's lam when alpha = 1). After each
run one formula (the relative KKT violation of ``regulab.solvers.exact.multinomial``, computed
from each tool's coefficients) checks every lam; glmnet is rerun with a 100x tighter ``thr``
until its worst violation is <= 1e-6 like regulab's (or its tightest setting is reached, which
the table then says). Times are CPU seconds of this process (``time.process_time``): the
machine is shared, and both tools run single-threaded (one BLAS thread, threadpoolctl). glum has no multinomial family
(3.4: normal, binomial, poisson, gamma, inverse Gaussian, Tweedie, negative binomial), so it is
not a peer here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits, load_iris

from regulab.selection.multinomial import multinomial_lam_grid, multinomial_path
from regulab.solvers.design import as_design
from regulab.solvers.exact.multinomial import kkt_of, loss_gradient

TOL = 1e-6


def _case(name):
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    elif name == "digits":
        X, y = load_digits(return_X_y=True)
        X = X[:, X.std(axis=0) > 0]
    else:  # sim: n=1000, p=100, K=4, 10 informative features
        rng = np.random.default_rng(0)
        X = rng.standard_normal((1000, 100))
        W = np.zeros((100, 4))
        W[:10] = rng.standard_normal((10, 4))
        y = np.argmax(X @ W + rng.gumbel(size=(1000, 4)), axis=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.asfortranarray(X), y.astype(np.int64)


def _worst_kkt(X, y, coefs, intercepts, lams, grouped):
    """Largest relative KKT violation (regulab's criterion) over the path."""
    D = as_design(X)
    n = X.shape[0]
    s = np.full(n, 1.0 / n)
    worst, scale = 0.0, lams[0]
    for k, lam in enumerate(lams):
        Z = np.ascontiguousarray((X @ coefs[:, :, k] + intercepts[:, k]).T)
        G, gb, _ = loss_gradient(D, y, s, Z)
        worst = max(worst, kkt_of(G, coefs[:, :, k], lam, grouped) / scale,
                    float(np.abs(gb).max()) / scale)
    return worst


def _glmnet(X, y, lams, grouped, thr):
    from glmnet._glmnet import lognet, lsolns

    n, p = X.shape
    K = int(y.max()) + 1
    Y = np.asfortranarray(np.eye(K)[y])
    bounds = np.asfortranarray(np.vstack([np.full(p, -np.inf), np.full(p, np.inf)]))
    t = time.process_time()
    out = lognet(1.0, K, np.asfortranarray(X.copy()), Y, np.zeros((n, K), order="F"), 0,
                 np.ones(p), bounds, p + 1, 1.0, lams, thr, p, lams.size, 0, 1, 10_000_000,
                 2 if grouped else 0)
    sec = time.process_time() - t
    lmu, a0, ca, ia, nin, *_, jerr = out
    if jerr > 0 or lmu == 0:
        raise RuntimeError(f"glmnet failed: jerr={jerr}")
    # jerr < 0: glmnet stopped the path early (no convergence, or all probabilities near 0/1)
    return sec, lsolns(p, ca[:, :, :lmu], ia, nin[:lmu]), a0[:, :lmu], int(jerr)


def run_case(name, grouped, n_lams):
    X, y = _case(name)
    lams = multinomial_lam_grid(X, y, grouped=grouped, n_lams=n_lams, eps=1e-3)
    for thr in (1e-7, 1e-9, 1e-11, 1e-13):
        theirs, C, A, jerr = _glmnet(X, y, lams, grouped, thr)
        their_kkt = _worst_kkt(X, y, C, A, lams[:C.shape[2]], grouped)
        if their_kkt <= TOL:
            break
    lams = lams[:C.shape[2]]  # where glmnet stopped early, both solve the lams it reached
    multinomial_path(X[::5], y[::5], grouped=grouped, lams=lams[:2], n_classes=int(y.max()) + 1)
    t = time.process_time()
    path = multinomial_path(X, y, grouped=grouped, lams=lams, tol=TOL)
    ours = time.process_time() - t
    ours_kkt = _worst_kkt(X, y, path.coefs, path.intercepts, lams, grouped)
    stop = "" if jerr == 0 else f" (glmnet stopped at lam {lams.size}, jerr {jerr})"
    return dict(case=f"{name} {X.shape[0]}x{X.shape[1]}, K={y.max() + 1}{stop}",
                form="grouped" if grouped else "ungrouped", ours=ours, theirs=theirs, thr=thr,
                ours_kkt=ours_kkt, their_kkt=their_kkt)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["iris", "digits", "sim"])
    ap.add_argument("--forms", nargs="+", default=["ungrouped", "grouped"],
                    choices=["ungrouped", "grouped"])
    ap.add_argument("--n-lams", type=int, default=100)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        _table(args)


def _table(args):
    print("| case | penalty | regulab | glmnet (thr) | regulab / glmnet | worst KKT regulab "
          "| worst KKT glmnet |")
    print("|---|---|---|---|---|---|---|")
    for name in args.cases:
        for grouped in [f == "grouped" for f in args.forms]:
            r = run_case(name, grouped, args.n_lams)
            print(f"| {r['case']} | {r['form']} | {r['ours']:.2f} s | {r['theirs']:.2f} s "
                  f"({r['thr']:.0e}) | {r['ours'] / r['theirs']:.2f} | {r['ours_kkt']:.1e} "
                  f"| {r['their_kkt']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
