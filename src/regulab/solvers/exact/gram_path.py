"""The squared-loss path of a small dense problem in one compiled call (no per-lam Python).

For ``l1_ratio = rho > 0`` and a decreasing grid of ``lams > 0`` it minimizes, at every lam,
regulab's objective (see :mod:`regulab.solvers.exact`)::

    sum_i s_i (y_i - x_i.w - b)**2 + lam * (rho ||w||_1 + (1 - rho) ||w||_2**2)

(``s`` the sample weights normalized to sum to 1, ``b`` unpenalized when ``fit_intercept``) by
coordinate descent on the centered Gram matrix of the informative features
(:func:`regulab.solvers._cd_kernels.cd_squared_gram`, O(p^2) per epoch), warm-started along the
grid, to ``MARGIN * tol`` times the null loss in the duality gap of
:func:`regulab.solvers._cd_kernels.duality_gap` taken in Gram form (``quad = null - b.w - w.(b -
G w)``, the same formula as from the residual in exact arithmetic; estimated after each epoch
from the running gradient in O(p), and recomputed in O(p^2) to confirm a gap at the target).

The Gram form loses digits to cancellation: against the gap recomputed from the residual
``r = y_c - X_c w`` we measured differences below 2e-13 times the null loss (diabetes, and a
100 x 50 design of condition number 1e4). So when the target ``MARGIN * tol`` is below
``RESIDUAL_BELOW`` the point is also certified from scratch, from the residual
(:func:`regulab.solvers._cd_kernels._residual_gap`, O(n p)); if that gap is above ``tol`` the
margin is cut a hundredfold and the descent goes on.

The loop over the grid is Python calling the compiled kernels once per lam (about 15
microseconds of dispatch each, 1.5 ms for 100 lams, measured on diabetes): compiling the loop
itself (it was a numba function) cost a first run about a second of compile, a tenth of it,
and the kernels do the same arithmetic either way (bit-identical paths, tested).

It applies to dense float64 X with at most ``MAX_FEATURES`` columns, a response that is not
constant, and no option beyond these; :func:`gram_path` returns None otherwise, or when a point
does not reach its tolerance within ``max_iter`` epochs, and the caller takes the general route
(:func:`regulab.solvers.exact.solve` per lam).
"""

from __future__ import annotations

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers.checks import check_y
from regulab.solvers.design import as_design
from regulab.solvers.exact.squared import centered_grad

#: the Gram route's size limit: its epochs cost O(p^2) and its Gram matrix O(n p^2) once
MAX_FEATURES = 128
#: Anderson extrapolation of the last iterates, as in the general route's default
ANDERSON = 5
#: the Gram-form descent stops at this fraction of the certified threshold
MARGIN = 0.5
#: a relative Gram-form target below this is re-certified from the residual
RESIDUAL_BELOW = 1e-10
#: re-certification rounds per lam (each with the margin cut a hundredfold)
ROUNDS = 4


def needs_residual(tol: float) -> bool:
    """Whether a path at this ``tol`` may re-certify from the residual (then
    :func:`_descend_path` needs ``yc``; otherwise None, and ``_residual_gap`` never compiles)."""
    return MARGIN * tol < RESIDUAL_BELOW


def gram_path(X, y, lams, rho, *, sample_weight=None, fit_intercept=True, tol=1e-6,
              max_iter=10_000):
    """The whole path, or None where the route does not apply (module docstring).

    Parameters
    ----------
    X : array of shape (n, p), y : array of shape (n,)
    lams : array, decreasing, every value > 0
    rho : float in (0, 1], the L1 share
    sample_weight, fit_intercept, tol, max_iter : as in :func:`regulab.solvers.exact.solve`
        (``max_iter`` bounds the epochs per lam).

    Returns
    -------
    (coefs [p, n_lams], intercepts, gaps, n_iter) or None. ``gaps`` are relative duality gaps
    (gap / null loss), each ``<= tol``.
    """
    if not 0.0 < rho <= 1.0 or lams.size == 0 or not lams[-1] > 0.0:
        return None
    D = as_design(X)
    if D.is_sparse or D.dtype != np.float64 or not 0 < D.p <= MAX_FEATURES:
        return None
    y = check_y(y, D.n)
    s = normalized_weights(D.n, sample_weight)
    fit_intercept = bool(fit_intercept)
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    null_loss = float(s @ (yc * yc))
    if not null_loss > 0.0:  # a constant response: the general route's closed answer
        return None
    xbar, L = D.stats(s, fit_intercept)
    ws = np.flatnonzero(L > 0).astype(np.int64)
    if ws.size == 0:
        return None
    G = D.cached("small_gram", (s.tobytes(), fit_intercept, ws.tobytes()),
                 lambda: CDK.centered_gram(D.data, D.n, s, xbar, ws))
    b = centered_grad(D, s, yc, xbar)[ws]
    coefs = np.zeros((D.p, lams.size))
    gaps = np.empty(lams.size)
    n_iter = np.zeros(lams.size, dtype=np.int64)
    _descend_path(D, s, xbar, ws, yc if needs_residual(tol) else None, G, b, null_loss,
                  np.asarray(lams, float), float(rho), float(tol), int(max_iter), coefs, gaps,
                  n_iter)
    if not np.all(gaps <= tol):
        return None
    intercepts = ybar - xbar @ coefs if fit_intercept else np.zeros(lams.size)
    return coefs, intercepts, gaps, n_iter


def _descend_path(D, s, xbar, ws, yc, G, b, null_loss, lams, rho, tol, max_epochs, W, gaps,
                  iters):
    """Solve the path of the module docstring for ``w`` supported on ``ws`` (``G``, ``b`` its
    centered Gram matrix and ``X_c^T S y_c``); writes coefficient column ``k`` of ``W``
    (``[p, n_lams]``, zero outside ``ws``), the relative gap ``gaps[k]`` (gap / null_loss) and
    the epochs ``iters[k]``. ``max_epochs`` bounds the epochs per lam. ``yc`` is None when no
    target can fall below ``RESIDUAL_BELOW`` (:func:`needs_residual` is False)."""
    wv = np.zeros(ws.size)
    if yc is not None:
        w = np.zeros(W.shape[0])
        q = np.empty(D.n)
    threshold = tol * null_loss
    for k in range(lams.size):
        lam = float(lams[k])
        l1 = rho * lam
        l2 = (1.0 - rho) * lam
        margin = MARGIN
        total = 0
        for _ in range(ROUNDS):
            ep, gap = CDK.cd_squared_gram(G, b, wv, null_loss, l1, l2, margin * threshold,
                                          max_epochs - total, ANDERSON)
            total += ep
            if yc is None or margin * tol >= RESIDUAL_BELOW:
                break
            w[ws] = wv
            gap, _, _ = CDK._residual_gap(*D.args, s, xbar, ws, w, yc, q, l1, l2)
            if gap <= threshold or total >= max_epochs:
                break
            margin *= 0.01
        W[ws, k] = wv
        gaps[k] = gap / null_loss
        iters[k] = total
