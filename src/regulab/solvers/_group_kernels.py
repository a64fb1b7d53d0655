"""Numba kernels of the group-lasso solver (:mod:`regulab.solvers.exact.group`).

Block coordinate descent with block soft-thresholding on a centered dense design ``Xc`` (Fortran
order). The smooth part's gradient in ``w`` is ``Xc^T d + 2 l2 w`` with ``d`` the loss derivative
per row, weighted:

* squared (``kind = 0``): ``d_i = -2 s_i (yc_i - z_i)``, ``z = Xc w`` (the intercept is
  eliminated by centering);
* logistic (``kind = 1``): ``d_i = s_i (sigmoid(z_i + b) - y_i)``, ``b`` the intercept of the
  centered parametrization.

A block step minimizes the quadratic upper bound of the smooth part in ``w_g`` (curvature
``L_g + 2 l2``, ``L_g`` the largest eigenvalue of the block of the loss's Hessian bound) plus
``l1 c_g ||w_g||``, whose minimizer is the block soft-thresholding
``u * max(0, 1 - l1 c_g / (L ||u||))`` of the gradient step ``u``. For a singleton group this is
the exact coordinate minimization of the lasso. Every step decreases the objective.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, fastmath=False)
def _deriv(kind, y, s, z, b, i):
    if kind == 0:
        return -2.0 * s[i] * (y[i] - z[i])
    t = z[i] + b
    if t >= 0.0:
        e = math.exp(-t)
        return s[i] * (1.0 / (1.0 + e) - y[i])
    e = math.exp(t)
    return s[i] * (e / (1.0 + e) - y[i])


@njit(cache=True, fastmath=False)
def _block_grad(X, y, s, z, b, w, ptr, idx, g, l2, kind, out):
    """``out[:|g|] = Xc_g^T d + 2 l2 w_g``."""
    n = X.shape[0]
    m = ptr[g + 1] - ptr[g]
    for k in range(m):
        out[k] = 2.0 * l2 * w[idx[ptr[g] + k]]
    for i in range(n):
        d = _deriv(kind, y, s, z, b, i)
        if d != 0.0:
            for k in range(m):
                out[k] += X[i, idx[ptr[g] + k]] * d


@njit(cache=True, fastmath=False)
def bcd_epochs(X, y, s, z, w, b_arr, ptr, idx, cw, Lg, ws, l1, l2, kind, fit_intercept,
               n_epochs):
    """``n_epochs`` passes of block steps over the groups ``ws`` (``z``, ``w``, ``b_arr[0]``
    updated in place); the logistic intercept takes a safe gradient step (curvature 1/4) after
    each pass. Returns the largest block change of the last pass."""
    n = X.shape[0]
    gmax = 0
    for q in range(ws.size):
        gmax = max(gmax, ptr[ws[q] + 1] - ptr[ws[q]])
    grad = np.empty(gmax)
    new = np.empty(gmax)
    change = 0.0
    for _ in range(n_epochs):
        change = 0.0
        for q in range(ws.size):
            g = ws[q]
            m = ptr[g + 1] - ptr[g]
            if Lg[g] <= 0.0:
                continue
            _block_grad(X, y, s, z, b_arr[0], w, ptr, idx, g, l2, kind, grad)
            L = Lg[g] + 2.0 * l2
            nrm = 0.0
            for k in range(m):
                new[k] = w[idx[ptr[g] + k]] - grad[k] / L
                nrm += new[k] * new[k]
            nrm = math.sqrt(nrm)
            thr = l1 * cw[g] / L
            scale = 0.0 if nrm <= thr else 1.0 - thr / nrm
            for k in range(m):
                j = idx[ptr[g] + k]
                delta = new[k] * scale - w[j]
                if delta != 0.0:
                    w[j] += delta
                    change = max(change, abs(delta))
                    for i in range(n):
                        z[i] += X[i, j] * delta
        if kind == 1 and fit_intercept:
            gb = 0.0
            for i in range(n):
                gb += _deriv(kind, y, s, z, b_arr[0], i)
            b_arr[0] -= 4.0 * gb
            change = max(change, abs(4.0 * gb))
    return change


@njit(cache=True, fastmath=False)
def group_violations(X, y, s, z, b, w, ptr, idx, cw, groups, l1, l2, kind, out):
    """``out[q]``: the KKT violation of group ``groups[q]``: ``max(||grad_g|| - l1 c_g, 0)`` for
    ``w_g = 0``, else ``||grad_g + l1 c_g w_g / ||w_g|| ||``; also ``||grad_g|| / c_g`` when
    ``w_g = 0`` goes in ``score[q]`` (returned as the second half of ``out``)."""
    nq = groups.size
    gmax = 0
    for q in range(nq):
        gmax = max(gmax, ptr[groups[q] + 1] - ptr[groups[q]])
    grad = np.empty(gmax)
    for q in range(nq):
        g = groups[q]
        m = ptr[g + 1] - ptr[g]
        _block_grad(X, y, s, z, b, w, ptr, idx, g, l2, kind, grad)
        wn = 0.0
        gn = 0.0
        for k in range(m):
            wn += w[idx[ptr[g] + k]] ** 2
            gn += grad[k] ** 2
        wn = math.sqrt(wn)
        gn = math.sqrt(gn)
        if wn == 0.0:
            out[q] = max(gn - l1 * cw[g], 0.0)
        else:
            v = 0.0
            for k in range(m):
                t = grad[k] + l1 * cw[g] * w[idx[ptr[g] + k]] / wn
                v += t * t
            out[q] = math.sqrt(v)
        out[nq + q] = gn / cw[g]


@njit(cache=True, fastmath=False)
def gram_bcd(A, gq, v, gptr, cw, Lb, l1, tol, max_epochs):
    """Block coordinate descent on the quadratic model of a proximal Newton step, in Gram form::

        min_v  gq0^T (v - v0) + 1/2 (v - v0)^T A (v - v0) + l1 sum_g cw_g ||v_g||_2

    over the working set's features (local group ``g`` holds ``v[gptr[g]:gptr[g + 1]]``), from
    ``v = v0``; ``gq`` is the model's gradient ``gq0 + A (v - v0)``, kept up to date (both
    changed in place). ``Lb[g] >= lambda_max(A_gg)``: each block step minimizes the model's
    upper bound in ``v_g`` (block soft-thresholding; exact for a singleton). Stops when the
    largest block KKT violation is ``<= tol`` or after ``max_epochs``; returns the epochs."""
    ng = gptr.size - 1
    gmax = 0
    for g in range(ng):
        gmax = max(gmax, gptr[g + 1] - gptr[g])
    new = np.empty(gmax)
    for ep in range(max_epochs):
        vmax = 0.0
        for g in range(ng):
            a, e = gptr[g], gptr[g + 1]
            wn = 0.0
            gn = 0.0
            for j in range(a, e):
                wn += v[j] * v[j]
                gn += gq[j] * gq[j]
            wn = math.sqrt(wn)
            thr = l1 * cw[g]
            if wn == 0.0:
                viol = max(math.sqrt(gn) - thr, 0.0)
            else:
                viol = 0.0
                for j in range(a, e):
                    t = gq[j] + thr * v[j] / wn
                    viol += t * t
                viol = math.sqrt(viol)
            vmax = max(vmax, viol)
            L = Lb[g]
            if viol == 0.0 or not L > 0.0:
                continue
            nrm = 0.0
            for j in range(a, e):
                new[j - a] = v[j] - gq[j] / L
                nrm += new[j - a] ** 2
            nrm = math.sqrt(nrm)
            scale = 0.0 if nrm <= thr / L else 1.0 - thr / (L * nrm)
            for j in range(a, e):
                delta = new[j - a] * scale - v[j]
                if delta != 0.0:
                    v[j] += delta
                    for i in range(gq.size):
                        gq[i] += A[j, i] * delta  # A symmetric: row j, contiguous
        if vmax <= tol:
            return ep
    return max_epochs
