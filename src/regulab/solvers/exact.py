"""Exact solvers with optimality certificates: the engine every fit, path and CV goes through.

Minimizes regulab's objective (README, "The objective, and other tools' lambdas")::

    P(w, b) = sum_i s_i * loss(y_i, x_i.w + b) + l1 * ||w||_1 + l2 * ||w||_2**2

(``s`` the sample weights normalized to sum to 1; ``b`` unpenalized, fitted when
``fit_intercept``), and stops on a certificate. :func:`solve` dispatches:

===========================  ===============================================  ===============
problem                      method                                           ``criterion``
===========================  ===============================================  ===============
squared, l1 > 0 (L1, EN)     coordinate descent on working sets (numba,       duality_gap
                             Anderson extrapolation); when CD stalls on a
                             large ill-conditioned support (p >> n near the
                             end of a path): active-set Newton
                             (:mod:`._active_set`), kept along a warm path
squared, l1 = 0, l2 > 0      dense: closed form by SVD (:mod:`.ridge`),       duality_gap
                             cached per X; sparse: coordinate descent
squared, l1 = l2 = 0         minimum-norm least squares (SVD or LSQR)         kkt
logistic, any penalty        proximal Newton on working sets                  kkt
===========================  ===============================================  ===============

Certificates (``ExactResult.gap``):

* ``duality_gap``: ``gap / null_loss`` with ``gap`` the duality gap of
  :func:`regulab.core.certificates.duality_gap_squared` (dual point from the residual) and
  ``null_loss`` the loss of the null model (``w = 0``, ``b`` the weighted mean of ``y`` when the
  intercept is fitted, else ``b = 0``). It bounds the relative suboptimality
  ``(P(w, b) - min P) / null_loss``.
* ``kkt``: ``max(max_j dist(-grad_j, l1 * d|w_j|), |grad_b|) / scale`` with ``grad`` the gradient
  of the smooth part (loss + l2 term) and ``scale = max_j |grad_j|`` of the loss at the null model
  (the ``lam_max`` of the pure-L1 problem, so ``tol`` is relative to the largest penalty that
  matters). It is 0 exactly at the optimum.

``converged`` is ``gap <= tol`` for the iterative methods; the direct methods (SVD, dense least
squares) report ``converged=True`` and their gap (rounding level). Non-convergence is never an
error: ``converged=False`` with the gap reached (the estimators warn).

Working sets (celer/skglm style): each outer iteration recomputes the residual from scratch,
the full gradient and the duality gap (the stopping test, on the *whole* problem), then ranks the
features by their distance to the dual constraint ``(|g_j| - l1/2) / ||x_j||`` (the current
support always in), takes the top ``max(ws_start, 2 * nnz)`` (never shrinking within a call) and
runs CD epochs on them until their largest KKT violation is below 0.1 times the full one.

Problems with at most ``SMALL_WS`` informative features run that loop in one compiled call
(dense X with n > p: on the centered Gram matrix), to a gap ``SMALL_MARGIN`` times the threshold,
then are re-certified by the general loop. A call warm-started from the previous call's solution
on the same design (a path) reuses that call's last full gradient instead of recomputing it.

Repeated calls on the same X object (a path, a CV fold) reuse its validated Fortran/CSC copy,
column statistics, SVD and Gram columns (:mod:`._design`); an in-place edit of X is detected.

Degenerate inputs: a response constant over the rows of positive weight gives ``w = 0`` and
``b = y`` at once; a column constant over those rows (with an intercept; an all-zero column
without one) gets a coefficient exactly 0; zero-weight rows are removed.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.special import expit

from regulab.core.losses import normalized_weights
from regulab.core.validation import check_nonneg
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _pn_kernels as PNK
from regulab.solvers._active_set import ActiveSetSolver
from regulab.solvers._active_set import get_cache as get_gram_cache
from regulab.solvers.design import Design, as_design
from regulab.solvers.ridge import RidgeSVD

#: beyond this ``min(n, p)**2 * max(n, p)`` a ridge problem is solved by CD, not by SVD
SVD_MAX_FLOPS = 3e10
#: CD epochs on a working set without reaching its tolerance before Newton steps on the support
NEWTON_AFTER = 20
MAX_ASM_TRIES = 3
#: the CD pass on a working set stops when its largest KKT violation is below INNER times the
#: full problem's (tighter than 0.3: fewer full-gradient passes, which dominate on large sparse X)
INNER = 0.1
#: at most this many features with L > 0: the working-set loop runs compiled in one call ...
SMALL_WS = 64
#: ... for at most this many epochs before the general loop (active-set switch included) goes on
SMALL_MAX_EPOCHS = 200
#: ... to a gap this fraction of the threshold (the general loop's last CD pass usually lands far
#: below it too; solutions from equivalent inputs, e.g. weights vs repeated rows, then agree)
SMALL_MARGIN = 1e-4


@dataclass
class ExactResult:
    """A certified solution.

    ``gap`` is the stopping criterion's value at the solution: relative duality gap
    (``criterion='duality_gap'``, squared loss) or relative largest KKT violation
    (``criterion='kkt'``, logistic loss and unpenalized least squares); ``converged`` is
    ``gap <= tol`` (always True for the direct methods). ``n_iter`` counts coordinate-descent
    epochs (passes over the working set) plus active-set Newton steps for ``solver='cd'`` and
    ``'active_set'``, Newton steps for ``'prox_newton'``, LSQR iterations for ``'lsqr'`` and 0
    for the direct ``'svd'`` and ``'constant'`` (constant y or null model optimal).
    """

    w: np.ndarray
    intercept: float
    gap: float
    n_iter: int
    converged: bool
    tol: float
    criterion: str
    objective: float
    solver: str = "cd"


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------
def _check_y(y, n):
    y = np.asarray(y)
    if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    try:
        y = y.astype(np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be numeric: {exc}") from None
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]} values")
    if not np.all(np.isfinite(y)):
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y has a NaN or infinite value (at index {i})")
    return y


def _check_labels(y):
    bad = (y != 0.0) & (y != 1.0)
    if bad.any():
        raise ValueError(f"logistic loss needs labels 0 or 1, got {float(y[bad][0])!r}")


def _start(w0, b0, p):
    if w0 is None:
        w = np.zeros(p)
    else:
        w = np.array(w0, dtype=np.float64).ravel()
        if w.shape[0] != p:
            raise ValueError(f"w0 has {w.shape[0]} entries for {p} features")
        if not np.all(np.isfinite(w)):
            raise ValueError("w0 has a NaN or infinite value")
    b = None
    if b0 is not None:
        b = float(b0)
        if not math.isfinite(b):
            raise ValueError(f"b0 must be finite, got {b0!r}")
    return w, b


def _loss_name(loss):
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    if name not in ("squared", "logistic"):
        raise ValueError(f"unknown loss {loss!r}; valid choices: squared, logistic")
    return name


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------
def solve(X, y, *, loss="squared", l1=0.0, l2=0.0, fit_intercept=True, sample_weight=None,
          w0=None, b0=None, tol=1e-6, max_iter=10_000, anderson=5, ws_start=10) -> ExactResult:
    """Minimize ``P(w, b)`` above to ``gap <= tol``; see :class:`ExactResult`.

    ``X``: dense array (any order, float32 kept in float32) or scipy.sparse matrix (worked on as
    CSC, never densified). ``w0``/``b0`` warm-start the iterative methods. ``max_iter`` bounds
    the epochs (CD), Newton steps or LSQR iterations. ``anderson`` (0 = off) is the number of
    iterates combined by Anderson extrapolation in CD; ``ws_start`` the first working-set size.
    """
    l1 = check_nonneg(l1, "l1")
    l2 = check_nonneg(l2, "l2")
    tol = check_nonneg(tol, "tol")
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    max_iter = int(max_iter)
    name = _loss_name(loss)
    D = as_design(X)
    n, p = D.n, D.p
    if n == 0:
        raise ValueError("X has no rows")
    y = _check_y(y, n)
    s = normalized_weights(n, sample_weight)
    weighted = not bool(np.all(s == s[0]))
    w, b = _start(w0, b0, p)
    fit_intercept = bool(fit_intercept)
    if name == "logistic":
        _check_labels(y)
        return _solve_logistic(D, y, s, fit_intercept, l1, l2, w, b, tol, max_iter,
                               int(ws_start))
    return _solve_squared(D, y, s, weighted, fit_intercept, l1, l2, w, tol, max_iter,
                          int(anderson), int(ws_start))


def squared_gap(X, y, w, b, l1, l2, sample_weight=None, fit_intercept=True):
    """Relative duality gap and primal value of ``(w, b*)`` as :func:`solve` computes them.

    ``b`` is ignored: the intercept is taken at its optimum for ``w`` (as in
    :func:`regulab.core.certificates.duality_gap_squared`). Returns ``(gap / null_loss, gap, primal)``.
    """
    D = as_design(X)
    y = _check_y(y, D.n)
    s = normalized_weights(D.n, sample_weight)
    w = np.asarray(w, dtype=np.float64).ravel()
    xbar, _ = D.stats(s, bool(fit_intercept))
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    r = yc - D.x_dot(w) + float(xbar @ w)
    g = _centered_grad(D, s, r, xbar)
    primal, gap = _gap(r, yc, s, g, w, l1, l2)
    null = float(s @ (yc * yc))
    return (gap / null if null > 0 else 0.0), gap, primal


# ---------------------------------------------------------------------------------------------
# squared loss
# ---------------------------------------------------------------------------------------------
def _centered_grad(D: Design, s, r, xbar):
    """``X_c^T (s * r)`` with ``X_c`` the weighted-centered design (half the negative gradient)."""
    sr = s * r
    return D.xt_dot(sr) - xbar * float(sr.sum())


def _gap(r, yc, s, g, w, l1, l2):
    """``(primal, gap)`` from the residual ``r`` at the optimal intercept and ``g = X_c^T(s r)``.

    Same dual point and formula as :func:`regulab.core.certificates.duality_gap_squared`:
    ``theta = 2 s r`` (rescaled into ``|X^T theta|_inf <= l1`` when ``l2 = 0``).
    """
    quad = float(CDK.wdot(s, r, r))
    primal = quad + l1 * float(np.abs(w).sum()) + (l2 * float(CDK.vdot(w, w)) if l2 else 0.0)
    lin = 2.0 * float(CDK.wdot(s, r, yc))
    v = 2.0 * np.abs(g)
    if l2 > 0.0:
        conj = float(np.sum(np.maximum(v - l1, 0.0) ** 2)) / (4.0 * l2)
        dual = lin - quad - conj
    else:
        vmax = float(v.max()) if v.size else 0.0
        c = 1.0 if vmax <= l1 else l1 / vmax
        dual = c * lin - c * c * quad
    return primal, max(primal - dual, 0.0)


def _result_zero(p, b, criterion, tol, objective, solver):
    return ExactResult(w=np.zeros(p), intercept=float(b), gap=0.0, n_iter=0, converged=True,
                       tol=tol, criterion=criterion, objective=float(objective), solver=solver)


def _solve_squared(D, y, s, weighted, fit_intercept, l1, l2, w, tol, max_iter, anderson,
                   ws_start):
    p = D.p
    pos = s > 0
    ypos = y[pos]
    crit = "kkt" if l1 == 0.0 and l2 == 0.0 else "duality_gap"
    if fit_intercept and np.all(ypos == ypos[0]):
        return _result_zero(p, ypos[0], crit, tol, 0.0, "constant")
    if not fit_intercept and not np.any(ypos):
        return _result_zero(p, 0.0, crit, tol, 0.0, "constant")
    ybar = float(CDK.vdot(s, y)) if fit_intercept else 0.0
    yc = y - ybar
    null_loss = float(CDK.wdot(s, yc, yc))
    if p == 0:
        return _result_zero(0, ybar, crit, tol, null_loss, "constant")
    xbar, L = D.stats(s, fit_intercept)
    n_eff = int(pos.sum())
    small = min(n_eff, p) ** 2 * max(n_eff, p) <= SVD_MAX_FLOPS
    if l1 == 0.0 and l2 == 0.0:
        return _least_squares(D, y, yc, s, ybar, xbar, L, fit_intercept, tol, max_iter, small)
    if l1 == 0.0 and not D.is_sparse and small:
        fac = _ridge_factor(D, s, fit_intercept)
        coefs, _ = fac.solve(y, [l2])
        w = coefs[:, 0]
        r = yc - D.x_dot(w) + float(xbar @ w)
        g = _centered_grad(D, s, r, xbar)
        primal, gap = _gap(r, yc, s, g, w, l1, l2)
        return ExactResult(w=w, intercept=ybar - float(xbar @ w) if fit_intercept else 0.0,
                           gap=gap / null_loss, n_iter=0, converged=True, tol=tol,
                           criterion="duality_gap", objective=primal, solver="svd")
    return _cd_squared(D, y, yc, s, weighted, ybar, xbar, L, null_loss, fit_intercept, l1, l2, w,
                       tol, max_iter, anderson, ws_start)


_RIDGE_LOCK = threading.Lock()


def _ridge_factor(D: Design, s, fit_intercept) -> RidgeSVD:
    """The SVD of this design for these weights, computed once and kept on the design."""
    key = (s.tobytes(), fit_intercept)
    with _RIDGE_LOCK:
        cache = getattr(D, "_ridge", None)
        if cache is not None and cache[0] == key:
            return cache[1]
    X = D._keep  # the Fortran-order dense array
    fac = RidgeSVD(X, s, fit_intercept)
    with _RIDGE_LOCK:
        D._ridge = (key, fac)
    return fac


def _kkt_squared(g, w, l1, l2):
    """Largest ``dist(-grad_j, l1 d|w_j|)``, ``grad = -2 g + 2 l2 w`` (true gradient units)."""
    grad = -2.0 * g + 2.0 * l2 * w
    return _kkt_from_grad(grad, w, l1)


def _kkt_from_grad(grad, w, l1):
    if grad.size == 0:
        return 0.0
    a = np.abs(grad)
    viol = np.where(w == 0.0, np.maximum(a - l1, 0.0), np.abs(grad + l1 * np.sign(w)))
    return float(viol.max())


def _least_squares(D, y, yc, s, ybar, xbar, L, fit_intercept, tol, max_iter, small):
    g0 = _centered_grad(D, s, yc, xbar)
    g0[L == 0] = 0.0
    scale = 2.0 * float(np.abs(g0).max())
    null_loss = float(s @ (yc * yc))
    if scale == 0.0:
        return _result_zero(D.p, ybar, "kkt", tol, null_loss, "constant")
    n_iter = 0
    if not D.is_sparse and small:
        fac = _ridge_factor(D, s, fit_intercept)
        w = fac.solve(y, [0.0])[0][:, 0]
        solver = "svd"
    else:
        from scipy.sparse.linalg import LinearOperator, lsqr

        sq = np.sqrt(s)
        active = L > 0

        def mv(v):
            v = np.where(active, np.ravel(v), 0.0)
            return sq * (D.x_dot(v) - float(xbar @ v))

        def rmv(u):
            su = sq * np.ravel(u)
            out = D.xt_dot(su) - xbar * float(su.sum())
            out[~active] = 0.0
            return out

        A = LinearOperator((D.n, D.p), matvec=mv, rmatvec=rmv, dtype=np.float64)
        res = lsqr(A, sq * yc, atol=1e-16, btol=1e-16, conlim=1e16, iter_lim=max_iter)
        w, n_iter = np.asarray(res[0], dtype=float), int(res[2])
        solver = "lsqr"
    r = yc - D.x_dot(w) + float(xbar @ w)
    g = _centered_grad(D, s, r, xbar)
    g[L == 0] = 0.0
    gap = 2.0 * float(np.abs(g).max()) / scale
    return ExactResult(w=w, intercept=ybar - float(xbar @ w) if fit_intercept else 0.0, gap=gap,
                       n_iter=n_iter, converged=True if solver == "svd" else gap <= tol,
                       tol=tol, criterion="kkt", objective=float(s @ (r * r)), solver=solver)


def _select_ws(base, w, active, size):
    """The ``size`` active features of largest ``base`` score, the current support first."""
    n_act = int(active.sum())
    if size >= n_act:
        return np.flatnonzero(active).astype(np.int64)
    score = np.where(active, base, -np.inf)
    score[w != 0.0] = np.inf
    ws = np.argpartition(-score, size - 1)[:size]
    ws.sort()
    return ws.astype(np.int64)


def _cd_squared(D, y, yc, s, weighted, ybar, xbar, L, null_loss, fit_intercept, l1, l2, w, tol,
                max_iter, anderson, ws_start, newton=True):
    """Working-set CD (module docstring), switching to the active-set Newton method when CD
    stalls on a large ill-conditioned support; that switch sticks along a warm-started path."""
    active = L > 0
    w[~active] = 0.0
    inv_n = 1.0 / D.n
    n_eff = int(np.count_nonzero(s > 0)) - (1 if fit_intercept else 0)
    use_newton = newton and l1 > 0.0
    sqrtL = np.sqrt(np.where(active, L, 1.0))
    threshold = tol * null_loss
    n_iter = 0
    ws_size = max(1, ws_start)
    w_start = w.copy()
    asm_tries = 0  # active-set attempts (each after CD stalled for NEWTON_AFTER epochs)
    if use_newton:
        cache = getattr(D, "_gram", None)
        if (cache is not None and cache.key == (s.tobytes(), fit_intercept)
                and cache.active is not None and cache.active.l2 == l2 and cache.active.s > 0
                and np.count_nonzero(w) > 0):
            out = _active_set(D, yc, s, xbar, active, w, l1, l2, threshold, n_eff, fit_intercept,
                              max_iter)
            if out is not None:
                asm_tries += 1
                n_iter += out[0]
                if out[1]:
                    primal, gap = out[2], out[3]
                    return _cd_result(w, ybar, xbar, fit_intercept, gap, null_loss, n_iter, True,
                                      tol, primal, "active_set")
    n_act = int(np.count_nonzero(active))
    if n_act <= SMALL_WS and max_iter > 0:
        # small problem: the whole working-set loop in one compiled call (no per-iteration
        # Python), then the loop below re-certifies w with _gap (or goes on if it must)
        ws = np.flatnonzero(active).astype(np.int64)
        if not D.is_sparse and n_eff >= n_act and D.dtype == np.float64:
            # n > p: epochs on the Gram matrix cost O(p^2), not O(n p)
            G = _small_gram(D, s, fit_intercept, xbar, ws)
            b = _centered_grad(D, s, yc, xbar)[ws]
            wv = w[ws]
            ep, _ = CDK.cd_squared_gram(G, b, wv, null_loss, l1, l2, SMALL_MARGIN * threshold,
                                        min(max_iter, 20 * SMALL_MAX_EPOCHS), anderson)
            w[ws] = wv
        else:
            ep, _ = CDK.cd_squared_full(*D.args, s, weighted, inv_n, xbar, L, ws, w, yc, l1, l2,
                                    SMALL_MARGIN * threshold, min(max_iter, SMALL_MAX_EPOCHS),
                                    anderson)
        n_iter += int(ep)
    last = getattr(D, "_last_grad", None)  # (w, yc, s, fit_intercept, g) of the last CD exit
    reuse = (last is not None and last[3] == fit_intercept and np.array_equal(last[0], w)
             and np.array_equal(last[1], yc) and np.array_equal(last[2], s))
    while True:
        q = yc - D.x_dot(w)
        c = float(CDK.vdot(xbar, w))
        r = q + c
        if reuse:  # warm start from the previous solution on this design: same residual
            g = last[4].copy()
            reuse = False
        else:
            g = _centered_grad(D, s, r, xbar)
            g[~active] = 0.0
        primal, gap = _gap(r, yc, s, g, w, l1, l2)
        if gap <= threshold or n_iter >= max_iter:
            D._last_grad = (w.copy(), yc, s, fit_intercept, g.copy())
            break
        kkt = _kkt_squared(g, w, l1, l2)
        if l1 == 0.0:
            ws = np.flatnonzero(active).astype(np.int64)
        else:
            nnz = int(np.count_nonzero(w))
            ws_size = max(ws_size, 2 * nnz)
            base = (np.abs(g - l2 * w) - 0.5 * l1) / sqrtL
            ws = _select_ws(base, w, active, ws_size)
        budget = max_iter - n_iter
        if use_newton and asm_tries < MAX_ASM_TRIES:
            budget = min(budget, NEWTON_AFTER)
        ep, c, kin = CDK.cd_squared_ws(*D.args, s, weighted, inv_n, xbar, L, ws, w, q, c, l1,
                                       l2, INNER * kkt, budget, anderson)
        n_iter += int(ep)
        if use_newton and asm_tries < MAX_ASM_TRIES and ep >= NEWTON_AFTER and kin > INNER * kkt:
            # CD is slow here: active-set Newton, from the start point if its support is small
            asm_tries += 1
            cand = w_start if np.count_nonzero(w_start) < np.count_nonzero(w) else w
            w_try = cand.copy()
            out = _active_set(D, yc, s, xbar, active, w_try, l1, l2, threshold, n_eff,
                              fit_intercept, max_iter - n_iter)
            if out is not None:
                n_iter += out[0]
                if out[1] or out[2] < _objective_sq(D, yc, s, xbar, w, l1, l2):
                    w[:] = w_try
    b = ybar - float(xbar @ w) if fit_intercept else 0.0
    return _cd_result(w, ybar, xbar, fit_intercept, gap, null_loss, n_iter, gap <= threshold,
                      tol, primal, "cd")


def _small_gram(D, s, fit_intercept, xbar, ws):
    """Centered Gram matrix of the features ``ws`` (few), kept on the design."""
    key = (s.tobytes(), fit_intercept, ws.tobytes())
    hit = getattr(D, "_small_gram", None)
    if hit is not None and hit[0] == key:
        return hit[1]
    G = CDK.centered_gram(D.data, D.n, s, xbar, ws)
    D._small_gram = (key, G)
    return G


def _cd_result(w, ybar, xbar, fit_intercept, gap, null_loss, n_iter, converged, tol, primal,
               solver):
    b = ybar - float(xbar @ w) if fit_intercept else 0.0
    return ExactResult(w=w, intercept=b, gap=gap / null_loss, n_iter=n_iter,
                       converged=bool(converged), tol=tol, criterion="duality_gap",
                       objective=primal, solver=solver)


def _objective_sq(D, yc, s, xbar, w, l1, l2):
    r = yc - D.x_dot(w) + float(xbar @ w)
    return float(s @ (r * r)) + l1 * float(np.abs(w).sum()) + l2 * float(w @ w)


def _active_set(D, yc, s, xbar, active, w, l1, l2, threshold, n_eff, fit_intercept, max_rounds,
                add_max=10):
    """Active-set Newton (:mod:`._active_set`) from ``w`` (modified in place).

    Returns None if it cannot start, else ``(iterations, converged, primal, gap)``."""
    if np.count_nonzero(w) > n_eff:  # more features than the rank allows: G_S is singular
        return None
    cache = get_gram_cache(D, s, fit_intercept, xbar)
    if not cache.lock.acquire(blocking=False):  # another thread works on this design: use CD
        return None
    try:
        return _active_set_locked(cache, D, yc, s, xbar, active, w, l1, l2, threshold,
                                  max_rounds, add_max)
    finally:
        cache.lock.release()


def _active_set_locked(cache, D, yc, s, xbar, active, w, l1, l2, threshold, max_rounds,
                       add_max):
    key = yc.tobytes()
    if getattr(cache, "_c_key", None) != key:
        c_full = _centered_grad(D, s, yc, xbar)
        c_full[~active] = 0.0
        cache._c_key, cache._c_full = key, c_full
    solver = ActiveSetSolver(cache, cache._c_full, l1, l2)
    if not solver.start(w):
        cache.active = None
        return None
    sigma_new = {}
    it = 0
    refined = 0
    stall = 0
    last = float("inf")
    primal = gap = float("inf")
    while it < max_rounds:
        st = solver.newton(w, sigma_new)
        if st < 0:
            cache.active = None
            break
        it += max(st, 1)
        r = yc - D.x_dot(w) + float(xbar @ w)
        g = _centered_grad(D, s, r, xbar)
        g[~active] = 0.0
        primal, gap = _gap(r, yc, s, g, w, l1, l2)
        if gap <= threshold:
            return it, True, primal, gap
        S = solver.AS.features()
        h = g - l2 * w
        viol = np.where(active, np.abs(h) - 0.5 * l1, -np.inf)
        viol[S] = -np.inf
        n_viol = int(np.count_nonzero(viol > 0.0))
        if n_viol == 0:
            # the support is right: the gap is rounding error in the normal equations
            if refined >= 2 or not solver.AS.refactor():
                break
            refined += 1
            continue
        if primal >= last - 1e-15 * abs(last):
            stall += 1
            if stall > 3:
                break
        else:
            stall = 0
        last = primal
        k = min(n_viol, add_max)
        top = np.argpartition(-viol, k - 1)[:k]
        top = top[np.argsort(-viol[top])]
        if solver.add(top, np.sign(h[top]), sigma_new) == 0:
            break
    return it, False, primal, gap


# ---------------------------------------------------------------------------------------------
# logistic loss
# ---------------------------------------------------------------------------------------------
def _solve_logistic(D, y, s, fit_intercept, l1, l2, w, b, tol, max_iter, ws_start):
    n, p = D.n, D.p
    pmean = float(s @ y)
    if fit_intercept and (pmean <= 0.0 or pmean >= 1.0):
        raise ValueError("logistic loss with an intercept needs both classes 0 and 1 among the "
                         "samples of positive weight")
    b_null = math.log(pmean / (1.0 - pmean)) if fit_intercept else 0.0
    xbar, L = D.stats(s, fit_intercept)
    active = L > 0
    z0 = np.full(n, b_null)
    g_null = D.xt_dot(s * (expit(z0) - y))
    g_null[~active] = 0.0
    scale = float(np.abs(g_null).max()) if p else 0.0
    if scale == 0.0:
        val = float(PNK.logistic_value(z0, y, s))
        return _result_zero(p, b_null, "kkt", tol, val, "prox_newton")
    w[~active] = 0.0
    if not fit_intercept:
        b = 0.0
    elif b is None:
        b = b_null
    sqrtL = np.sqrt(np.where(active, L, 1.0))
    z = D.x_dot(w) + b
    n_newton = 0
    ws_size = max(1, ws_start)
    converged = False
    stalled = False
    unpenalized = l1 == 0.0 and l2 == 0.0
    while True:
        dvec = s * (expit(z) - y)
        grad = D.xt_dot(dvec) + 2.0 * l2 * w
        grad[~active] = 0.0
        kkt = _kkt_from_grad(grad, w, l1)
        if fit_intercept:
            kkt = max(kkt, abs(float(dvec.sum())))
        crit = kkt / scale
        if unpenalized and float(np.min(np.where(s > 0, (2.0 * y - 1.0) * z, np.inf))) > 0.0:
            break  # w separates the classes: no minimizer without a penalty (w grows forever)
        if crit <= tol:
            if not unpenalized:
                converged = True
                break
            # without a penalty the gradient also vanishes along a direction of separation
            # (no minimizer): converged only if a Newton step from here barely moves w
            w_before, b_before = w.copy(), b
            ws = np.flatnonzero(active).astype(np.int64)
            it, b, status, _ = PNK.prox_newton_ws(*D.args, s, y, ws, w, z, float(b),
                                                  fit_intercept, 0.0, 0.0, -1.0, 1, 50)
            n_newton += int(it)
            step = max(float(np.abs(w - w_before).max(initial=0.0)), abs(b - b_before))
            size = 1.0 + max(float(np.abs(w).max(initial=0.0)), abs(b))
            if step <= math.sqrt(tol) * size:
                converged = True
                break
            z = D.x_dot(w) + b
            if n_newton >= max_iter or status == 2:
                break
            continue
        if n_newton >= max_iter or stalled:
            break
        if l1 == 0.0:
            ws = np.flatnonzero(active).astype(np.int64)
        else:
            nnz = int(np.count_nonzero(w))
            ws_size = max(ws_size, 2 * nnz)
            ws = _select_ws((np.abs(grad) - l1) / sqrtL, w, active, ws_size)
        tol_in = max(0.3 * kkt, 0.5 * tol * scale)
        it, b, status, _ = PNK.prox_newton_ws(*D.args, s, y, ws, w, z, float(b), fit_intercept,
                                              l1, l2, tol_in, max_iter - n_newton, 50)
        n_newton += int(it)
        stalled = status == 2 or (it == 0 and status == 0 and ws.size == int(active.sum()))
        z = D.x_dot(w) + b
    pen = l1 * float(np.abs(w).sum()) + l2 * float(w @ w)
    obj = float(PNK.logistic_value(z, y, s)) + pen
    return ExactResult(w=w, intercept=float(b), gap=crit, n_iter=n_newton, converged=converged,
                       tol=tol, criterion="kkt", objective=obj, solver="prox_newton")
