"""A whole squared-loss path of a small dense problem in one compiled (numba) call.

For every ``lam`` of a decreasing grid, with ``l1 = rho * lam`` and ``l2 = (1 - rho) * lam``, it
minimizes (the objective of :mod:`regulab.solvers.exact`, intercept at its optimum)::

    sum_i s_i (y_c,i - x_c,i . w)**2 + l1 ||w||_1 + l2 ||w||_2**2

by coordinate descent on the centered Gram matrix of the informative features
(:func:`regulab.solvers._cd_kernels.cd_squared_gram`, O(p^2) per epoch), warm-started from the
previous lam, to ``MARGIN * tol`` times the null loss in the duality gap of
:func:`regulab.solvers._cd_kernels.duality_gap` taken in Gram form (``quad = null - b.w - w.(b -
G w)``, the same formula as from the residual in exact arithmetic; estimated after each epoch
from the running gradient in O(p), and recomputed in O(p^2) to confirm a gap at the target).

The Gram form loses digits to cancellation: against the gap recomputed from the residual
``r = y_c - X_c w`` we measured differences below 2e-13 times the null loss (diabetes, and a
100 x 50 design of condition number 1e4). So when the target ``MARGIN * tol`` is below
``RESIDUAL_BELOW`` the point is also certified from scratch, from the residual
(:func:`regulab.solvers._cd_kernels._residual_gap`, O(n p)); if that gap is above ``tol`` the
margin is cut a hundredfold and the descent goes on.

No per-lam Python (validation, allocation, dispatch): on problems of 10-100 features that
overhead, not the arithmetic, was the cost of a path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._cd_kernels import _residual_gap, cd_squared_gram

#: the Gram-form descent stops at this fraction of the certified threshold
MARGIN = 0.5
#: a relative Gram-form target below this is re-certified from the residual
RESIDUAL_BELOW = 1e-10
#: re-certification rounds per lam (each with the margin cut a hundredfold)
ROUNDS = 4


def needs_residual(tol: float) -> bool:
    """Whether :func:`gram_path` at this ``tol`` may re-certify from the residual (then it
    needs ``yc``; otherwise pass None)."""
    return MARGIN * tol < RESIDUAL_BELOW


@njit(cache=True, fastmath=False)
def gram_path(data, indices, indptr, n, is_sparse, s, xbar, ws, yc, G, b, null_loss, lams,
              rho, tol, max_epochs, K, W, gaps, iters):
    """Solve the path of the module docstring for ``w`` supported on ``ws`` (``G``, ``b`` its
    centered Gram matrix and ``X_c^T S y_c``); writes coefficient column ``k`` of ``W``
    (``[p, n_lams]``, zero outside ``ws``), the relative gap ``gaps[k]`` (gap / null_loss) and
    the epochs ``iters[k]``. ``max_epochs`` bounds the epochs per lam. ``yc`` is None when no
    target can fall below ``RESIDUAL_BELOW`` (:func:`needs_residual` is False): numba's
    specialization for None then leaves out the residual re-certification (``_residual_gap``,
    a quarter of the compile time of a first ``regulab fit``)."""
    m = ws.size
    wv = np.zeros(m)
    w = np.zeros(W.shape[0])
    q = np.empty(n)
    threshold = tol * null_loss
    for k in range(lams.size):
        l1 = rho * lams[k]
        l2 = (1.0 - rho) * lams[k]
        margin = MARGIN
        total = 0
        gap = np.inf
        for _ in range(ROUNDS):
            ep, gap = cd_squared_gram(G, b, wv, null_loss, l1, l2, margin * threshold,
                                      max_epochs - total, K)
            total += ep
            if yc is None:  # no re-certification: numba prunes (never compiles) the residual route
                break
            if margin * tol >= RESIDUAL_BELOW:
                break
            for a in range(m):
                w[ws[a]] = wv[a]
            gap, _, _ = _residual_gap(data, indices, indptr, n, is_sparse, s, xbar, ws, w, yc, q,
                                      l1, l2)
            if gap <= threshold or total >= max_epochs:
                break
            margin *= 0.01
        for a in range(m):
            W[ws[a], k] = wv[a]
        gaps[k] = gap / null_loss
        iters[k] = total
