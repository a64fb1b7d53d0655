"""The one-weight closed forms against independent answers: grid search and iterative solvers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from regulab.core.onedim import (
    lam_threshold,
    make_one_weight_data,
    mse_curve,
    symmetric_grid,
    w_l1,
    w_l2,
)
from regulab.core.penalties import L1, L2
from regulab.solvers import gradient_descent, ista


def _brute(obj, lo=-5.0, hi=5.0):
    """A bounded scalar minimizer, refined on a fine grid around it (handles the kink)."""
    res = minimize_scalar(obj, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    grid = np.linspace(res.x - 1e-3, res.x + 1e-3, 20001)
    grid = np.append(grid, 0.0)
    return grid[np.argmin([obj(g) for g in grid])]


@settings(max_examples=150, deadline=None)
@given(a=st.floats(0.05, 5.0), w_hat=st.floats(-2.0, 2.0), lam=st.floats(0.0, 10.0))
def test_closed_forms_minimize_the_parabola(a, w_hat, lam):
    l1 = w_l1(a, w_hat, lam)
    l2 = w_l2(a, w_hat, lam)
    f1 = lambda w: a * (w - w_hat) ** 2 + lam * abs(w)  # noqa: E731
    f2 = lambda w: a * (w - w_hat) ** 2 + lam * w * w  # noqa: E731
    assert f1(l1) <= f1(_brute(f1)) + 1e-12
    assert f2(l2) <= f2(_brute(f2)) + 1e-12
    # the threshold: exactly zero iff lam >= lam*
    assert (l1 == 0.0) == (lam >= lam_threshold(a, w_hat))
    if abs(w_hat) > 1e-150:  # not a subnormal that underflows in the product
        assert l2 != 0.0


@pytest.mark.parametrize("seed", range(8))
def test_closed_forms_match_solvers_and_grid(seed):
    rng = np.random.default_rng(seed)
    w_true = rng.uniform(-1.5, 1.5)
    data = make_one_weight_data(n=int(rng.integers(5, 200)), w_true=w_true,
                                x_spread=rng.uniform(0.2, 3.0), noise=rng.uniform(0, 0.5),
                                seed=seed)
    a, w_hat = data.a, data.w_hat
    # w_hat is the least-squares solution
    assert w_hat == pytest.approx(np.linalg.lstsq(data.X, data.y, rcond=None)[0][0], rel=1e-10)
    for lam in [0.0, 0.3 * lam_threshold(a, w_hat), 0.999 * lam_threshold(a, w_hat),
                lam_threshold(a, w_hat) * 1.001, 2.0 * lam_threshold(a, w_hat) + 0.1]:
        r1 = ista(data.X, data.y, penalty=L1(lam), max_iter=20_000, tol=1e-15)
        r2 = gradient_descent(data.X, data.y, penalty=L2(lam), max_iter=20_000, tol=1e-15)
        assert r1.w[0] == pytest.approx(w_l1(a, w_hat, lam), abs=1e-9)
        assert r2.w[0] == pytest.approx(w_l2(a, w_hat, lam), abs=1e-9)
        if w_l1(a, w_hat, lam) == 0.0:
            assert r1.w[0] == 0.0  # ISTA lands on exactly 0, not near it
        grid = symmetric_grid(-3.0, 3.0, 1e-4)
        mse = mse_curve(data, grid)
        assert abs(grid[np.argmin(mse + lam * np.abs(grid))] - w_l1(a, w_hat, lam)) <= 1e-4
        assert abs(grid[np.argmin(mse + lam * grid**2)] - w_l2(a, w_hat, lam)) <= 1e-4


def test_mse_curve_is_the_parabola():
    data = make_one_weight_data(n=50, w_true=0.5, noise=0.2, seed=3)
    w = np.linspace(-1, 2, 31)
    c = np.mean(data.y**2) - data.a * data.w_hat**2
    assert np.allclose(mse_curve(data, w), data.a * (w - data.w_hat) ** 2 + c, atol=1e-12)


def test_symmetric_grid_holds_zero_exactly():
    g = symmetric_grid(-0.5, 1.0, 5e-4)
    assert 0.0 in g and g[0] <= -0.5 and g[-1] >= 1.0


@pytest.mark.parametrize("kw, word", [({"n": 0}, "n"), ({"x_spread": -1.0}, "x_spread"),
                                      ({"noise": float("nan")}, "noise")])
def test_bad_data_parameters(kw, word):
    with pytest.raises(ValueError, match=word):
        make_one_weight_data(**kw)


@pytest.mark.parametrize("a, w_hat", [(0.25, 5e-324), (3.0, -1e-320), (1.0, 0.7), (0.2, -2.0)])
def test_exact_zero_follows_the_threshold_even_at_rounding_edges(a, w_hat):
    # found by hypothesis: a subnormal w_hat makes lam* = 2a|w_hat| underflow to 0, while the
    # soft-threshold formula kept w_hat at lam = 0; the minimizer is 0 iff lam >= lam*
    t = lam_threshold(a, w_hat)
    for lam in (0.0, t, np.nextafter(t, np.inf), 2 * t + 1e-300):
        assert (w_l1(a, w_hat, lam) == 0.0) == (lam >= t)
