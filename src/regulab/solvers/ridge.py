"""Ridge regression in closed form by one thin SVD, reused across every lam.

For regulab's squared-loss objective with an L2 penalty
(README, "The objective, and other tools' lambdas")::

    P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + lam * ||w||_2**2

(``s`` the sample weights normalized to sum 1), let ``Xc = diag(sqrt(s)) (X - 1 xbar^T)`` and
``yc = sqrt(s) * (y - ybar)`` with the weighted means ``xbar``, ``ybar`` (both 0 without an
intercept). The optimality condition is ``(Xc^T Xc + lam I) w = Xc^T yc`` and, with the thin SVD
``Xc = U diag(d) V^T``::

    w(lam) = V diag(d / (d**2 + lam)) U^T yc,        b(lam) = ybar - xbar.w(lam)

so one factorization ``O(n p min(n, p))`` gives every lam for ``O(p min(n, p))`` each. At
``lam = 0`` the formula is the minimum-norm least-squares solution (singular values below
``max(n, p) * eps * d_max`` are treated as 0, as :func:`numpy.linalg.lstsq` does).

Rows of zero weight are dropped before the factorization. Dense X only (float32 X is factored in
float64); for sparse X, :func:`regulab.solvers.exact.solve` uses coordinate descent.
"""

from __future__ import annotations

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.core.validation import issparse
from regulab.solvers.checks import check_finite_columns, check_y


class RidgeSVD:
    """The SVD of the weighted, centered design, ready to solve ridge for any lams.

    >>> fac = RidgeSVD(X, sample_weight=None, fit_intercept=True)   # doctest: +SKIP
    >>> coefs, intercepts = fac.solve(y, [0.1, 1.0])                # doctest: +SKIP
    """

    def __init__(self, X, sample_weight=None, fit_intercept: bool = True):
        if issparse(X):
            raise TypeError("RidgeSVD needs a dense X; for sparse X use regulab.solvers.exact."
                            "solve (coordinate descent), which never densifies X")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array with {X.ndim} dimension(s)")
        check_finite_columns(X)
        n, p = X.shape
        s = normalized_weights(n, sample_weight)
        self.n_samples, self.n_features = n, p
        self.fit_intercept = bool(fit_intercept)
        self.s = s
        keep = s > 0
        self._keep = None if keep.all() else keep
        Xk = X if self._keep is None else X[keep]
        sk = s if self._keep is None else s[keep]
        self.xbar = sk @ Xk if fit_intercept else np.zeros(p)
        self._sqrt_s = np.sqrt(sk)
        Xc = (Xk - self.xbar) * self._sqrt_s[:, None]
        # a column constant over the kept rows (with an intercept; all-zero without) carries
        # nothing: its coefficient is exactly 0
        const = np.all(Xk == Xk[:1], axis=0) if Xk.shape[0] else np.ones(p, dtype=bool)
        if not fit_intercept:
            const &= np.all(Xk == 0.0, axis=0)
        Xc[:, const] = 0.0
        self._const = const
        if min(Xc.shape) == 0:
            self.U = np.zeros((Xc.shape[0], 0))
            self.d = np.zeros(0)
            self.Vt = np.zeros((0, p))
        else:
            self.U, self.d, self.Vt = np.linalg.svd(Xc, full_matrices=False)
        dmax = float(self.d[0]) if self.d.size else 0.0
        self.rcond_cut = max(Xc.shape) * np.finfo(float).eps * dmax

    def _prepare_y(self, y):
        y = check_y(y, self.n_samples)
        yk = y if self._keep is None else y[self._keep]
        sk = self.s if self._keep is None else self.s[self._keep]
        ybar = float(sk @ yk) if self.fit_intercept else 0.0
        return ybar, (yk - ybar) * self._sqrt_s

    def solve(self, y, lams):
        """``(coefs [p, n_lams], intercepts [n_lams])`` for the ridge problems at ``lams``."""
        lams = np.atleast_1d(np.asarray(lams, dtype=np.float64))
        if lams.ndim != 1 or np.any(~np.isfinite(lams)) or np.any(lams < 0):
            raise ValueError("lams must be finite numbers >= 0")
        ybar, yc = self._prepare_y(y)
        uty = self.U.T @ yc
        d = self.d[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            filt = d / (d * d + lams[None, :])
        small = (self.d <= self.rcond_cut)[:, None] & (lams[None, :] == 0)
        filt = np.where(small | ~np.isfinite(filt), 0.0, filt)
        coefs = self.Vt.T @ (filt * uty[:, None])
        coefs[self._const] = 0.0
        intercepts = ybar - self.xbar @ coefs if self.fit_intercept else np.zeros(lams.size)
        return coefs, np.asarray(intercepts, dtype=np.float64)


def ridge_svd(X, y, lams, sample_weight=None, fit_intercept=True):
    """Ridge for several lams with one thin SVD: ``(coefs [p, n_lams], intercepts [n_lams])``.

    Minimizes ``sum_i s_i (y_i - x_i.w - b)**2 + lam ||w||**2`` for each ``lam`` in ``lams``
    (regulab's scale: scikit-learn's ``Ridge(alpha)`` is ``lam = alpha / n``). See
    :class:`RidgeSVD` to keep the factorization for later calls.
    """
    return RidgeSVD(X, sample_weight, fit_intercept).solve(y, lams)
