"""Two-feature (and p-feature) quadratic losses, their L1- and L2-constrained optima, exactly.

Every least-squares loss is, up to a constant, a quadratic around the least-squares weights::

    MSE(w) - MSE(beta_hat) = (w - beta_hat)^T H (w - beta_hat),     H = X^T X / n.

Its level sets are ellipses. Minimizing it over the L1 ball ``|w1| + |w2| <= t`` (a diamond) or the
L2 ball ``||w||_2 <= t`` (a circle) gives the constrained optima; by Lagrange duality each equals the
penalized optimum ``MSE + lam * Complexity`` for one lam. The solvers here give structural zeros
(``0.0`` certified by the optimality conditions), never small numbers rounded away. Used by the
geometry claim and the app's geometry view.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import brentq

_KKT_TOL = 1e-10   # relative slack allowed in |gradient_j| <= lam for a coordinate at 0


# ----------------------------------------------------------------------------------------------
# the quadratic loss and its exact constrained / penalized optima
# ----------------------------------------------------------------------------------------------

def make_2d_problem(rng, beta_hat=(1.6, 0.6), rho=0.5, n=100, noise=0.5):
    """A least-squares problem with two standardized features of correlation about ``rho`` whose
    least-squares solution is ``beta_hat`` (the noise is made orthogonal to the columns).

    Returns ``(X, y, H, beta_hat)`` with ``H = X^T X / n`` and ``beta_hat`` recomputed from the data.
    """
    cov = np.array([[1.0, rho], [rho, 1.0]])
    X = rng.standard_normal((n, 2)) @ np.linalg.cholesky(cov).T
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    e = noise * rng.standard_normal(n)
    e -= X @ np.linalg.lstsq(X, e, rcond=None)[0]
    y = X @ np.asarray(beta_hat, dtype=float) + e
    H = X.T @ X / n
    b = np.linalg.solve(H, X.T @ y / n)
    return X, y, H, b


def quad_loss(W, H, b):
    """``(w - b)^T H (w - b)`` for each row ``w`` of ``W`` (or a single vector)."""
    D = np.asarray(W, dtype=float) - b
    return np.einsum("...i,ij,...j->...", D, H, D)


def _active_set_solution(H, b, *, lam=None, t=None):
    """Exact minimizer of ``quad_loss + lam ||w||_1`` (``lam`` given) or of ``quad_loss`` over
    ``||w||_1 <= t`` (``t`` given), by trying every support and sign pattern (small p only).

    On a pattern (support S, signs s) the stationarity ``2 [H (w - b)]_S + lam s = 0`` gives
    ``w_S = u - (lam / 2) v`` with ``u = H_SS^{-1} (H b)_S`` and ``v = H_SS^{-1} s``; for a budget,
    ``||w||_1 = s.w_S`` is linear in lam and is solved for lam. The pattern is accepted when the
    signs agree and every coordinate outside S satisfies ``|2 [H (b - w)]_j| <= lam``: those are the
    KKT conditions, sufficient for this convex problem. Returns ``(w, lam)``; off-support
    coordinates are exactly ``0.0``.
    """
    H, b = np.asarray(H, float), np.asarray(b, float)
    p = b.size
    c = H @ b
    if t is not None and np.abs(b).sum() <= t:
        return b.copy(), 0.0
    if lam is not None and lam >= 2 * np.abs(c).max():
        return np.zeros(p), float(lam)
    for k in range(1, p + 1):
        for S in itertools.combinations(range(p), k):
            S = list(S)
            A = H[np.ix_(S, S)]
            for signs in itertools.product((1.0, -1.0), repeat=k):
                s = np.array(signs)
                u, v = np.linalg.solve(A, c[S]), np.linalg.solve(A, s)
                lam_k = float(lam) if t is None else 2.0 * (s @ u - t) / (s @ v)
                if lam_k < 0:
                    continue
                w = np.zeros(p)
                w[S] = u - 0.5 * lam_k * v
                if np.any(np.sign(w[S]) != s):
                    continue
                g = 2.0 * (c - H @ w)
                off = np.setdiff1d(np.arange(p), S)
                if off.size == 0 or np.max(np.abs(g[off])) <= lam_k * (1 + _KKT_TOL) + 1e-15:
                    return w, lam_k
    raise RuntimeError("no support/sign pattern satisfies the KKT conditions")


def l1_constrained(H, b, t):
    """Exact ``argmin (w - b)^T H (w - b)`` s.t. ``||w||_1 <= t``, and the lam of its Lagrangian."""
    return _active_set_solution(H, b, t=t)


def lasso_small(H, b, lam):
    """Exact ``argmin (w - b)^T H (w - b) + lam ||w||_1`` by enumeration (small p)."""
    return _active_set_solution(H, b, lam=lam)[0]


def l2_constrained(H, b, t):
    """Exact ``argmin (w - b)^T H (w - b)`` s.t. ``||w||_2 <= t``, and the lam of its Lagrangian.

    Stationarity ``2 H (w - b) + 2 mu w = 0`` gives ``w(mu) = (H + mu I)^{-1} H b``, whose length
    falls monotonically in mu; mu solves ``||w(mu)|| = t`` (and is the ridge lam: penalty
    ``mu ||w||^2``).
    """
    H, b = np.asarray(H, float), np.asarray(b, float)
    if np.linalg.norm(b) <= t:
        return b.copy(), 0.0
    e, Q = np.linalg.eigh(H)
    q = Q.T @ b

    def excess(mu):
        return np.sqrt(np.sum((e * q / (e + mu)) ** 2)) - t

    hi = np.linalg.norm(H @ b) / t
    mu = brentq(excess, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    w = np.linalg.solve(H + mu * np.eye(b.size), H @ b)
    return w, float(mu)


# ----------------------------------------------------------------------------------------------
# Monte Carlo: many random quadratics at once
# ----------------------------------------------------------------------------------------------

def random_quadratics(rng, p, trials, extra_rows=20):
    """``trials`` random problems ``(H, b)``: ``H`` the sample correlation matrix of ``2p + extra``
    rows from a random correlated Gaussian design, ``b ~ N(0, I_p)``."""
    n = 2 * p + extra_rows
    G = rng.standard_normal((trials, p, p))
    cov = G @ G.transpose(0, 2, 1) / p + 0.2 * np.eye(p)
    Z = rng.standard_normal((trials, n, p)) @ np.linalg.cholesky(cov).transpose(0, 2, 1)
    Z -= Z.mean(axis=1, keepdims=True)
    H = Z.transpose(0, 2, 1) @ Z / n
    d = np.sqrt(np.einsum("tii->ti", H))
    H = H / d[:, :, None] / d[:, None, :]
    b = rng.standard_normal((trials, p))
    return H, b


def _polish(H, c, lam, w):
    """Solve the stationarity equations exactly on the support of ``w`` and check the KKT
    conditions; returns ``(w_polished, certified, relative KKT violation)``."""
    S = np.flatnonzero(w)
    s = np.sign(w[S])
    wp = np.zeros_like(w)
    if S.size:
        wp[S] = np.linalg.solve(H[np.ix_(S, S)], c[S] - 0.5 * lam * s)
        if np.any(np.sign(wp[S]) != s):
            return wp, False, np.inf
    g = 2.0 * (c - H @ wp)            # minus the gradient of the quadratic
    viol = np.abs(g[S] - lam * s).max(initial=0.0) / lam
    off = np.abs(np.delete(g, S))
    viol = max(viol, (off.max(initial=0.0) - lam) / lam)
    return wp, bool(viol <= _KKT_TOL), float(max(viol, 0.0))


def lasso_quadratic(H, b, lam, *, sweeps_per_round=50, max_sweeps=50_000):
    """Exact ``argmin (w - b)^T H (w - b) + lam ||w||_1`` for a batch of problems.

    Cyclic coordinate descent, vectorized over the batch (``w_j <- soft(z_j, lam / 2) / H_jj``:
    soft-thresholding sets coordinates to exactly 0.0). Every ``sweeps_per_round`` sweeps each
    unfinished problem is polished on its current support and certified by the KKT conditions;
    certified problems leave the batch. Returns ``(W, certified, kkt_violation, sweeps)``.
    """
    H, b = np.asarray(H, float), np.asarray(b, float)
    lam = np.broadcast_to(np.asarray(lam, float), b.shape[:1]).copy()
    T, p = b.shape
    c = np.einsum("tij,tj->ti", H, b)
    diag = np.einsum("tii->ti", H)
    W = np.zeros((T, p))
    R = c.copy()                                  # c - H w, kept up to date
    out = np.zeros((T, p))
    certified = np.zeros(T, bool)
    violation = np.full(T, np.inf)
    sweeps = np.zeros(T, int)
    active = np.arange(T)
    done = 0
    while active.size and done < max_sweeps:
        Ha, Wa, Ra, da, la = H[active], W[active], R[active], diag[active], lam[active]
        for _ in range(sweeps_per_round):
            for j in range(p):
                z = Ra[:, j] + da[:, j] * Wa[:, j]
                new = np.sign(z) * np.maximum(np.abs(z) - 0.5 * la, 0.0) / da[:, j]
                delta = new - Wa[:, j]
                Ra -= Ha[:, :, j] * delta[:, None]
                Wa[:, j] = new
        done += sweeps_per_round
        W[active], R[active] = Wa, Ra
        keep = []
        for i in active:
            wp, ok, v = _polish(H[i], c[i], lam[i], W[i])
            violation[i] = v
            if ok:
                out[i], certified[i], sweeps[i] = wp, True, done
            else:
                keep.append(i)
        active = np.array(keep, dtype=int)
    for i in active:
        out[i], sweeps[i] = W[i], done
    return out, certified, violation, sweeps


def ridge_matching_norm(H, b, target):
    """Per problem, the ridge solution ``(H + mu I)^{-1} H b`` whose Euclidean length equals
    ``target`` (bisection on mu, vectorized). Returns ``(W, mu, matched)``.

    The length falls from ``||b||`` (mu = 0) to 0, so a target ``>= ||b||`` cannot be matched
    (a lasso solution can be longer than ``b`` when features are correlated): there ``mu = 0``,
    ``W = b`` and ``matched`` is False. A target of 0 (an all-zero lasso solution) is the limit
    ``mu = inf``: ``W = 0`` exactly.
    """
    target = np.asarray(target, dtype=float)
    matched = target < np.linalg.norm(b, axis=1)
    zero = target <= 0.0
    e, Q = np.linalg.eigh(H)
    q = np.einsum("tji,tj->ti", Q, b)
    c = np.einsum("tij,tj->ti", H, b)
    lo = np.zeros(len(b))
    hi = np.linalg.norm(c, axis=1) / np.where(zero, 1.0, target)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        norm = np.sqrt(np.sum((e * q / (e + mid[:, None])) ** 2, axis=1))
        too_long = norm > target
        lo = np.where(too_long, mid, lo)
        hi = np.where(too_long, hi, mid)
    mu = np.where(matched & ~zero, 0.5 * (lo + hi), 0.0)
    W = np.linalg.solve(H + mu[:, None, None] * np.eye(b.shape[1]), c[:, :, None])[:, :, 0]
    W[zero] = 0.0
    return W, np.where(zero, np.inf, mu), matched


def monte_carlo(rng, p, trials, fractions, extra_rows=20):
    """L1 vs equally-shrunk L2 on ``trials`` random quadratics of dimension ``p``, for each lam
    fraction ``f`` (L1's lam is ``f * lam_max``). Returns a dict of per-fraction arrays
    (fraction keys as given).

    The ends need no solver: at ``f <= 0`` there is no penalty (both solutions are ``b``), at
    ``f >= 1`` the lasso solution is 0 by the definition of ``lam_max`` (and so is the ridge
    solution of the same length).
    """
    H, b = random_quadratics(rng, p, trials, extra_rows)
    lam_max = 2.0 * np.abs(np.einsum("tij,tj->ti", H, b)).max(axis=1)
    res = {}
    for f in fractions:
        if 0.0 < f < 1.0:
            W1, cert, viol, sweeps = lasso_quadratic(H, b, f * lam_max)
        else:
            W1 = b.copy() if f <= 0.0 else np.zeros_like(b)
            cert, viol, sweeps = np.ones(trials, bool), np.zeros(trials), np.zeros(trials, int)
        target = np.linalg.norm(W1, axis=1)
        W2, mu, matched = ridge_matching_norm(H, b, target)
        rel = np.abs(np.linalg.norm(W2, axis=1) - target) / np.where(target > 0, target, 1.0)
        res[f] = {"W1": W1, "W2": W2, "certified": cert, "violation": viol, "sweeps": sweeps,
                  "norm_match": float(np.max(rel[matched], initial=0.0)),
                  "unmatched": int(np.sum(~matched)), "lam_l1": f * lam_max, "lam_l2": mu}
    return res


# ----------------------------------------------------------------------------------------------
# the claim
# ----------------------------------------------------------------------------------------------

def _boundary_points(rng, n, t):
    """``n`` random points on the diamond ``|w1|+|w2| = t`` and on the circle ``||w|| = t``."""
    u = rng.uniform(0.0, 1.0, n)
    sg = rng.choice([-1.0, 1.0], size=(n, 2))
    diamond = sg * np.column_stack([t * u, t * (1.0 - u)])
    phi = rng.uniform(0.0, 2 * np.pi, n)
    circle = t * np.column_stack([np.cos(phi), np.sin(phi)])
    return diamond, circle


def _pct(x):
    return f"{100 * x:.0f}%" if x in (0.0, 1.0) else f"{100 * x:.1f}%"
