"""Optimality certificates: the duality gap of regulab's squared-loss objective.

For ``P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + l1 * ||w||_1 + l2 * ||w||_2**2`` (weights
``s_i`` summing to 1) the Fenchel dual is::

    D(theta) = sum_i theta_i y_i - sum_i theta_i**2 / (4 s_i) - g*(X^T theta),
    g*(v)    = sum_j max(|v_j| - l1, 0)**2 / (4 l2)            (l2 > 0)
             = 0 if max_j |v_j| <= l1 else +inf                 (l2 = 0)

with the constraint ``sum_i theta_i = 0`` when the intercept is fitted. From the residual
``r = y - X w - b*`` (``b*`` the best intercept for ``w``) the point ``theta_i = 2 s_i r_i``,
rescaled into the feasible set when ``l2 = 0``, gives ``gap = P(w, b) - D(theta) >= P - P*``.
"""

from __future__ import annotations

import numpy as np

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
