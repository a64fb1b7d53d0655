"""The gradient by bounds (:mod:`regulab.solvers.exact.gradient_bound`) gives the duality gap and
KKT violation of the full gradient exactly, and skips only features that cannot matter.

The oracle is the full centered gradient ``X_c^T (r / n)`` computed here with numpy (sparse X,
equal weights, with and without intercept), at a residual near a reference one, as along a path.
"""

import numpy as np
import pytest
from scipy import sparse

from regulab.core.losses import normalized_weights
from regulab.solvers.design import as_design
from regulab.solvers.exact.gradient_bound import GradientBound
from regulab.solvers.exact.squared import SquaredProblem, kkt_squared


def _problem(seed, fit_intercept, l1_frac, l2):
    rng = np.random.default_rng(seed)
    n, p = 200, 600
    X = sparse.random(n, p, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0)
    y = y + 0.3 * rng.standard_normal(n) + (2.0 if fit_intercept else 0.0)
    D = as_design(X)
    s = normalized_weights(n, None)
    xbar, L = D.stats(s, fit_intercept)
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    A = X.toarray() - (xbar if fit_intercept else 0.0)
    l1 = l1_frac * 2.0 * float(np.abs(A.T @ yc).max()) / n
    P = SquaredProblem(D, y, yc, s, False, fit_intercept, ybar, xbar, L, L > 0,
                       float(s @ (yc * yc)), n - int(fit_intercept), l1, l2)
    return P, A, yc, rng


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_bounded_gradient_gives_the_full_gap_and_kkt(seed, fit_intercept, l2):
    P, A, yc, rng = _problem(seed, fit_intercept, 0.3, l2)
    n, p = A.shape
    w0 = np.where(rng.random(p) < 0.03, 0.1 * rng.standard_normal(p), 0.0)
    r0 = yc - A @ w0
    bound = GradientBound(P)
    bound.grad(r0, w0)  # the reference (a full pass)
    skipped_any = False
    for step in (1e-3, 1e-2):  # a nearby iterate, as the next outer iteration of a path
        w = w0 + step * np.where(w0 != 0, rng.standard_normal(p), 0.0)
        r = yc - A @ w
        g = bound.grad(r, w)
        full = P.masked_grad(r)  # the full pass
        g_full = A.T @ r / n  # the oracle's values
        differs = g != full
        skipped_any |= bool(differs.any())
        # a skipped entry: w_j = 0 and the true |g_j| within l1/2
        assert np.all(w[differs] == 0.0)
        assert np.all(np.abs(g_full[differs]) <= 0.5 * P.l1 * (1 + 1e-12))
        assert np.all(np.abs(g[differs]) <= 0.5 * P.l1 * (1 + 1e-12))
        assert np.abs(full - np.where(P.active, g_full, 0.0)).max() <= 1e-12 * np.abs(g_full).max()
        assert P.gap(r, g, w) == P.gap(r, full, w)
        assert kkt_squared(g, w, P.l1, l2) == kkt_squared(full, w, P.l1, l2)
    assert skipped_any, "nothing was skipped: the test proves nothing"


@pytest.mark.parametrize("seed", range(3))
def test_a_far_residual_refreshes_the_reference(seed):
    P, A, yc, rng = _problem(seed, False, 0.3, 0.0)
    n, p = A.shape
    bound = GradientBound(P)
    bound.grad(yc, np.zeros(p))
    r_far = rng.standard_normal(n) * np.abs(yc).max()
    g = bound.grad(r_far, np.zeros(p))
    np.testing.assert_array_equal(g, P.masked_grad(r_far))
    np.testing.assert_array_equal(bound.ref[0], r_far)
