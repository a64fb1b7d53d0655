"""The squared-loss path of a small dense problem in one compiled call (no per-lam Python).

For ``l1_ratio = rho > 0`` and a decreasing grid of ``lams > 0`` it minimizes, at every lam,
regulab's objective (see :mod:`regulab.solvers.exact`)::

    sum_i s_i (y_i - x_i.w - b)**2 + lam * (rho ||w||_1 + (1 - rho) ||w||_2**2)

(``s`` the sample weights normalized to sum to 1, ``b`` unpenalized when ``fit_intercept``) by
coordinate descent on the centered Gram matrix, warm-started along the grid, and certifies every
point by its duality gap (in Gram form, and recomputed from the residual when ``tol`` is so small
that the Gram form's rounding matters: :mod:`regulab.solvers._path_kernels`).

It applies to dense float64 X with at most ``MAX_FEATURES`` columns, a response that is not
constant, and no option beyond these; :func:`gram_path` returns None otherwise, or when a point
does not reach its tolerance within ``max_iter`` epochs, and the caller takes the general route
(:func:`regulab.solvers.exact.solve` per lam).
"""

from __future__ import annotations

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _path_kernels as PK
from regulab.solvers import ahead
from regulab.solvers.checks import check_y
from regulab.solvers.design import as_design
from regulab.solvers.exact.squared import centered_grad

#: the Gram route's size limit: its epochs cost O(p^2) and its Gram matrix O(n p^2) once
MAX_FEATURES = 128
#: Anderson extrapolation of the last iterates, as in the general route's default
ANDERSON = 5


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
    # yc only where the residual re-certification can run: numba then compiles less
    yc_kernel = yc if PK.needs_residual(tol) else None
    ahead.wait_for("gram_path")  # a first run: the helper compiling it has cached it
    PK.gram_path(*D.args, s, xbar, ws, yc_kernel, G, b, null_loss,
                 np.ascontiguousarray(lams, float), float(rho), float(tol), int(max_iter),
                 ANDERSON, coefs, gaps, n_iter)
    if not np.all(gaps <= tol):
        return None
    intercepts = ybar - xbar @ coefs if fit_intercept else np.zeros(lams.size)
    return coefs, intercepts, gaps, n_iter
