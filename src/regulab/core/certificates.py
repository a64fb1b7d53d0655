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
