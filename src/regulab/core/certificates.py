"""Optimality certificates: the duality gap of regulab's squared-loss objective.

For ``P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + l1 * ||w||_1 + l2 * ||w||_2**2`` (weights
``s_i`` summing to 1) the Fenchel dual is::

    D(theta) = sum_i theta_i y_i - sum_i theta_i**2 / (4 s_i) - g*(X^T theta),
    g*(v)    = sum_j max(|v_j| - l1, 0)**2 / (4 l2)            (l2 > 0)
             = 0 if max_j |v_j| <= l1 else +inf                 (l2 = 0)

with the constraint ``sum_i theta_i = 0`` when the intercept is fitted. From the residual
``r = y - X w - b*`` (``b*`` the best intercept for ``w``) the point ``theta_i = 2 s_i r_i``,
rescaled into the feasible set when ``l2 = 0``, gives ``gap = P(w, b) - D(theta) >= P - P*``.

Group lasso (:func:`duality_gap_group_squared`). With the penalty
``g(w) = l1 * Omega(w) + l2 * ||w||_2**2``, ``Omega(w) = sum_g c_g ||w_g||_2``, ``c_g = sqrt(|g|)``
(:mod:`regulab.core.groups`), the dual keeps its form; only ``g*`` changes. ``g`` is a sum over
groups, so ``g*(v) = sum_g h_g*(v_g)`` with ``h_g(u) = l1 c_g ||u|| + l2 ||u||**2``. ``h_g``
depends on ``u`` only through ``||u||``, so the supremum in ``h_g*(v) = sup_u u.v - h_g(u)`` is
reached along ``u = t v / ||v||``, ``t >= 0``: ``h_g*(v) = sup_t t (||v|| - l1 c_g) - l2 t**2``::

    h_g*(v) = max(||v|| - l1 c_g, 0)**2 / (4 l2)                    (l2 > 0)
            = 0 if ||v|| <= l1 c_g else +inf                         (l2 = 0)

So for ``l2 = 0`` the dual is feasible iff ``Omega*(X^T theta) = max_g ||X_g^T theta|| / c_g
<= l1`` (the dual norm of ``Omega``), and ``theta = 2 s r`` is rescaled by
``min(1, l1 / Omega*(X^T theta))``. With every group a singleton both formulas are the lasso's.
"""

from __future__ import annotations

import numpy as np

from regulab.core.groups import as_groups
from regulab.core.losses import normalized_weights


def duality_gap_squared(X, y, w, b, l1: float, l2: float, sample_weight=None,
                        fit_intercept: bool = True) -> float:
    """Duality gap of ``(w, b)`` for the squared-loss objective above (``nan`` if l1 = l2 = 0).

    The gap bounds the suboptimality ``P(w, b) - min P`` from above and is 0 exactly at the
    optimum, so a solver that stops on ``gap <= tol`` has certified its answer.
    """
    y = np.asarray(y, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    s = normalized_weights(y.shape[0], sample_weight)
    Xw = np.asarray(X @ w, dtype=float).ravel()
    b_star = float(np.dot(s, y - Xw)) if fit_intercept else 0.0
    r_primal = y - Xw - b
    primal = float(np.dot(s, r_primal**2)) + l1 * float(np.abs(w).sum()) + l2 * float(w @ w)
    if l1 == 0.0 and l2 == 0.0:
        return float("nan")
    r = y - Xw - b_star
    theta = 2.0 * s * r
    v = np.asarray(X.T @ theta, dtype=float).ravel()
    quad = float(np.dot(s, r * r))  # sum theta_i**2 / (4 s_i)
    lin = float(np.dot(theta, y))
    if l2 > 0.0:
        conj = float(np.sum(np.maximum(np.abs(v) - l1, 0.0) ** 2)) / (4.0 * l2)
        dual = lin - quad - conj
    else:
        vmax = float(np.max(np.abs(v))) if v.size else 0.0
        c = 1.0 if vmax <= l1 else l1 / vmax
        dual = c * lin - c * c * quad
    return max(primal - dual, 0.0)


# ---------------------------------------------------------------------------------------------
# per-feature penalty factors and bounds
# ---------------------------------------------------------------------------------------------
def box_conjugate(u, a, c, lo, hi) -> np.ndarray:
    """``h_j*(u_j)`` for ``h_j(t) = a_j |t| + c_j t**2 + indicator(lo_j <= t <= hi_j)``
    (``inf`` where unbounded; ``a_j = inf`` holds ``t`` at 0: conjugate 0).

    ``h*(u) = sup_{lo <= t <= hi} u t - a |t| - c t**2``. The function of ``t`` is concave, so
    for ``c > 0`` the sup sits at the unconstrained peak ``sign(u) max(|u| - a, 0) / (2c)``
    clipped to ``[lo, hi]``; for ``c = 0`` it is piecewise linear with a kink at 0, so the sup is
    ``+inf`` when a slope points to an infinite end (``u > a`` with ``hi = inf``, ``u < -a``
    with ``lo = -inf``), else the largest value at ``t`` in ``{lo, hi}`` (the finite ones) and
    ``t = 0`` (if allowed)."""
    u, a, c, lo, hi = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (u, a, c, lo, hi)))
    out = np.zeros(u.shape)
    held = np.isinf(a)
    quad = (c > 0) & ~held
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.sign(u) * np.maximum(np.abs(u) - a, 0.0) / (2.0 * c), lo, hi)
    out[quad] = (u * t - a * np.abs(t) - c * t * t)[quad]
    lin = (c == 0) & ~held
    best = np.where((lo <= 0) & (hi >= 0), 0.0, -np.inf)
    for end in (lo, hi):
        fin = np.isfinite(end)
        with np.errstate(invalid="ignore"):
            val = np.where(fin, u * end - a * np.abs(end), -np.inf)
        best = np.maximum(best, val)
    best = np.where(((hi == np.inf) & (u > a)) | ((lo == -np.inf) & (u < -a)), np.inf, best)
    out[lin] = best[lin]
    return out


def duality_gap_box(X, y, w, b, l1: float, l2: float, penalty_factor, lower=None, upper=None,
                    sample_weight=None, fit_intercept: bool = True) -> float:
    """Duality gap of ``(w, b)`` with per-feature penalty factors ``v`` and bounds.

    The primal (``a_j = l1 v_j``, ``c_j = l2 v_j``; ``v_j = inf`` holds ``w_j`` at 0)::

        P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + sum_j h_j(w_j),
        h_j(t)  = a_j |t| + c_j t**2 + indicator(lower_j <= t <= upper_j)

    Derivation. Let ``F`` be the *free* features (``v_j = 0`` and no bound) and ``theta`` any
    vector with ``sum_i theta_i = 0`` (when the intercept is fitted) and ``x_j.theta = 0`` for
    ``j`` in ``F``. Fenchel-Young gives ``s_i e_i**2 >= theta_i e_i - theta_i**2 / (4 s_i)`` for
    ``e = y - X w - b`` and ``h_j(w_j) >= u_j w_j - h_j*(u_j)`` for ``u = X^T theta``; summed, the
    terms in ``b`` and ``w_F`` vanish by the constraints and ``sum_j u_j w_j`` cancels
    ``theta.X w``, so for every ``(w, b)``::

        P(w, b) >= D(theta) = theta.y - sum_i theta_i**2 / (4 s_i) - sum_{j not in F} h_j*(u_j)

    with ``h_j*`` of :func:`box_conjugate`. The point: ``r`` the residual at the best
    ``(b, w_F)`` for the other coefficients (weighted least squares of ``y - X_{-F} w_{-F}`` on
    ``[1, X_F]``), ``theta = 2 s r`` (feasible: ``r`` is orthogonal to ``1`` and ``X_F``), scaled
    by the largest ``t`` in ``[0, 1]`` that makes every ``h_j*(t u_j)`` finite: ``t a_j / |u_j|``
    caps over the ``j`` with ``c_j = 0`` whose slope points to an infinite bound. Then
    ``gap = P(w, b) - D(t theta) >= P(w, b) - min P``, 0 at the optimum (where ``t = 1``).

    Without factors and bounds this is :func:`duality_gap_squared`. The gap is useful only when
    every unpenalized feature is free: an unpenalized bounded feature whose ``u_j`` points to an
    infinite bound forces ``t = 0`` (``D = 0``, gap = primal); the solvers certify such problems
    by the KKT violation instead. Returns ``nan`` when nothing is penalized (``l1 = l2 = 0``).
    """
    y = np.asarray(y, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=float)
    p = w.size
    v = np.broadcast_to(np.asarray(penalty_factor, dtype=float), (p,))
    lo = np.full(p, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (p,))
    hi = np.full(p, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (p,))
    s = normalized_weights(y.shape[0], sample_weight)
    held = np.isinf(v)
    a = np.where(held, np.inf, l1 * np.where(held, 0.0, v))
    c = np.where(held, 0.0, l2 * np.where(held, 0.0, v))
    if l1 == 0.0 and l2 == 0.0:
        return float("nan")
    e = y - X @ w - b
    wp = np.where(held, 0.0, w)
    k = ~held
    primal = float(s @ (e * e)) + float(np.sum(a[k] * np.abs(wp[k]) + c[k] * wp[k] ** 2))
    if np.any(held & (w != 0)) or np.any((w < lo) | (w > hi)):
        return float("inf")  # infeasible point
    free = (v == 0) & np.isneginf(lo) & np.isposinf(hi)
    Z = X[:, free]
    if fit_intercept:
        Z = np.column_stack([np.ones(y.size), Z])
    rest = y - X[:, ~free] @ w[~free]
    r = rest
    if Z.shape[1]:
        sq = np.sqrt(s)
        coef = np.linalg.lstsq(sq[:, None] * Z, sq * rest, rcond=None)[0]
        r = rest - Z @ coef
    theta = 2.0 * s * r
    u = X.T @ theta
    keep = ~free
    uk, ak, ck, lok, hik = u[keep], a[keep], c[keep], lo[keep], hi[keep]
    t = 1.0
    lin_ = (ck == 0) & ~np.isinf(ak)
    up = lin_ & np.isposinf(hik) & (uk > ak)
    dn = lin_ & np.isneginf(lok) & (uk < -ak)
    for m in (up, dn):
        if np.any(m):
            t = min(t, float(np.min(ak[m] / np.abs(uk[m]))))
    tu = t * uk
    # t makes t |u_j| <= a_j on the sides with an infinite bound (c_j = 0); the clip only undoes
    # the rounding of t * u_j there
    tu = np.where(lin_ & np.isposinf(hik), np.minimum(tu, ak), tu)
    tu = np.where(lin_ & np.isneginf(lok), np.maximum(tu, -ak), tu)
    dual = (t * float(theta @ y) - t * t * float(s @ (r * r))
            - float(np.sum(box_conjugate(tu, ak, ck, lok, hik))))
    return max(primal - dual, 0.0)


def duality_gap_group_squared(X, y, w, b, groups, l1: float, l2: float, sample_weight=None,
                              fit_intercept: bool = True) -> float:
    """Duality gap of ``(w, b)`` for the group-lasso squared-loss objective (module docstring)::

        P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + l1 sum_g sqrt(|g|) ||w_g||_2 + l2 ||w||_2**2

    ``groups`` a partition of the features (:func:`regulab.core.groups.as_groups`); ``nan`` if
    l1 = l2 = 0. It bounds ``P(w, b) - min P`` and is 0 exactly at the optimum.
    """
    y = np.asarray(y, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    G = as_groups(groups, w.size)
    s = normalized_weights(y.shape[0], sample_weight)
    Xw = np.asarray(X @ w, dtype=float).ravel()
    b_star = float(np.dot(s, y - Xw)) if fit_intercept else 0.0
    r_primal = y - Xw - b
    primal = float(np.dot(s, r_primal**2)) + l1 * G.penalty(w) + l2 * float(w @ w)
    if l1 == 0.0 and l2 == 0.0:
        return float("nan")
    r = y - Xw - b_star
    theta = 2.0 * s * r
    norms = G.norms(np.asarray(X.T @ theta, dtype=float).ravel())
    quad = float(np.dot(s, r * r))  # sum theta_i**2 / (4 s_i)
    lin = float(np.dot(theta, y))
    if l2 > 0.0:
        conj = float(np.sum(np.maximum(norms - l1 * G.weights, 0.0) ** 2)) / (4.0 * l2)
        dual = lin - quad - conj
    else:
        vmax = float(np.max(norms / G.weights)) if norms.size else 0.0
        c = 1.0 if vmax <= l1 else l1 / vmax
        dual = c * lin - c * c * quad
    return max(primal - dual, 0.0)


def duality_gap_gram(G, Xty, yty, w, l1: float, l2: float) -> float:
    """The same duality gap as :func:`duality_gap_squared`, from second moments alone.

    With an intercept, pass the weighted *centred* moments (``s`` the weights summing to 1,
    ``xbar = sum_i s_i x_i``, ``ybar = sum_i s_i y_i``)::

        G   = sum_i s_i (x_i - xbar)(x_i - xbar)^T        (p x p)
        Xty = sum_i s_i (x_i - xbar)(y_i - ybar)          (p)
        yty = sum_i s_i (y_i - ybar)**2

    (without one, the raw moments ``X^T S X``, ``X^T S y``, ``y^T S y``). At the best intercept
    ``b* = ybar - xbar.w`` the residual ``r = y_c - X_c w`` never needs the rows::

        sum_i s_i r_i**2       = yty - 2 Xty.w + w^T G w          (quad)
        sum_i theta_i y_i      = 2 sum_i s_i r_i y_c,i = 2 (yty - Xty.w)   (lin)
        X^T theta              = 2 X_c^T S r = 2 (Xty - G w)

    and the gap is ``P - D`` with ``P = quad + l1 ||w||_1 + l2 ||w||_2**2`` and ``D`` as in the
    module docstring (``D = lin - quad - g*(X^T theta)``; with ``l2 = 0`` the dual point is
    scaled by ``c = min(1, l1 / ||X^T theta||_inf)``: ``D = c lin - c**2 quad``). It certifies
    ``(w, b*)``; ``nan`` when ``l1 = l2 = 0``.
    """
    G = np.asarray(G, dtype=float)
    c = np.asarray(Xty, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    if l1 == 0.0 and l2 == 0.0:
        return float("nan")
    g = c - G @ w
    cw = float(c @ w)
    quad = max(float(yty) - cw - float(w @ g), 0.0)  # yty - 2 c.w + w.G.w, rounded >= 0
    lin = 2.0 * (float(yty) - cw)
    primal = quad + l1 * float(np.abs(w).sum()) + l2 * float(w @ w)
    v = 2.0 * np.abs(g)
    if l2 > 0.0:
        dual = lin - quad - float(np.sum(np.maximum(v - l1, 0.0) ** 2)) / (4.0 * l2)
    else:
        vmax = float(v.max()) if v.size else 0.0
        cc = 1.0 if vmax <= l1 else l1 / vmax
        dual = cc * lin - cc * cc * quad
    return max(primal - dual, 0.0)
