"""Claim geometry: the 2-D optima against brute force and KKT, the Monte Carlo's exact zeros."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.core import geometry as gm
from regulab.report.claims import geometry
from regulab.report.claims.base import ExplainConfig
from regulab.report.plots.geometry import plot_geometry


@pytest.fixture(scope="module")
def results():
    return {seed: geometry.run(ExplainConfig(seed=seed)) for seed in (0, 1, 2)}


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def _diamond_boundary(t, n=100_000):
    """``n`` points evenly spaced along the perimeter of ``|w1| + |w2| = t`` (corners included)."""
    s = np.arange(n) * 4.0 / n                     # position along the 4 edges, in [0, 4)
    edge, u = np.floor(s).astype(int), s - np.floor(s)
    corners = np.array([[t, 0.0], [0.0, t], [-t, 0.0], [0.0, -t], [t, 0.0]])
    return corners[edge] + u[:, None] * (corners[edge + 1] - corners[edge])


def _loss(W, H, b):
    D = W - b
    return np.einsum("...i,ij,...j->...", D, H, D)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim_holds(results, seed):
    r = results[seed]
    assert r.holds, {k: v for k, v in r.checks.items() if not v}
    assert r.checks and all(r.checks.values())
    assert r.id == "geometry" and r.verdict and r.nuance and r.tables


def test_metrics_finite_and_json_ready(results):
    for r in results.values():
        nums = list(_numbers(r.metrics))
        assert nums and all(math.isfinite(x) for x in nums)
        assert all(not isinstance(v, np.ndarray) for v in r.metrics.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l1_optimum_against_brute_force_on_diamond(results, seed):
    m = results[seed].metrics
    H, b, t = np.array(m["H"]), np.array(m["beta_hat"]), m["budget_t"]
    w1 = np.array(m["w_l1_constrained"])
    pts = _diamond_boundary(t)
    f = _loss(pts, H, b)
    best = pts[np.argmin(f)]
    assert np.max(np.abs(best - w1)) <= 1e-4
    assert _loss(w1, H, b) <= f.min() + 1e-12
    # exactly one coordinate is 0.0 (a corner), and the constraint binds
    assert int(np.sum(w1 == 0.0)) == 1 and m["l1_zero_coordinates"]
    assert abs(np.abs(w1).sum() - t) <= 1e-9
    # the Lagrangian lam: the penalized lasso's KKT hold at w1
    g = 2 * H @ (b - w1)
    lam = m["lam_equivalent_l1"]
    on = w1 != 0.0
    assert np.allclose(g[on], lam * np.sign(w1[on]), rtol=1e-10, atol=1e-12)
    assert np.all(np.abs(g[~on]) <= lam)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l2_optimum_satisfies_circle_kkt(results, seed):
    m = results[seed].metrics
    H, b, t = np.array(m["H"]), np.array(m["beta_hat"]), m["budget_t"]
    w2 = np.array(m["w_l2_constrained"])
    g = 2 * H @ (w2 - b)                               # gradient of the loss
    assert np.all(w2 != 0.0)
    assert abs(np.linalg.norm(w2) - t) <= 1e-9         # on the circle
    cos = -(g @ w2) / (np.linalg.norm(g) * np.linalg.norm(w2))
    assert cos == pytest.approx(1.0, abs=1e-12)        # -gradient parallel to w, pointing out
    mu = m["lam_equivalent_l2"]
    assert np.allclose(g + 2 * mu * w2, 0.0, atol=1e-10)
    # and nothing on a dense circle does better
    phi = np.linspace(0, 2 * np.pi, 100_000, endpoint=False)
    pts = t * np.column_stack([np.cos(phi), np.sin(phi)])
    assert _loss(w2, H, b) <= _loss(pts, H, b).min() + 1e-12


def test_monte_carlo_zero_fractions(results):
    for r in results.values():
        m = r.metrics
        assert set(m["l2_fraction_with_zero"]) == {"2", "5", "20"}
        assert all(v == 0.0 for v in m["l2_fraction_with_zero"].values())
        assert all(v == 0.0 for v in m["l2_mean_zero_coords"].values())
        assert m["mc_l2_exact_zero_coordinates_total"] == 0
        assert all(v > 0.5 for v in m["l1_fraction_with_zero"].values())
        assert m["mc_l1_uncertified"] == 0 and m["mc_l1_all_zero_solutions"] == 0
        # more dimensions, more corners: the share of zero weights grows with p
        z = m["l1_mean_zero_coords"]
        assert z["2"] < z["5"] < z["20"]


def test_batched_lasso_matches_active_set_enumeration():
    rng = np.random.default_rng(123)
    H, b = gm.random_quadratics(rng, 5, 40)
    lam = 0.3 * 2 * np.abs(np.einsum("tij,tj->ti", H, b)).max(axis=1)
    W, cert, viol, _ = gm.lasso_quadratic(H, b, lam)
    assert cert.all() and viol.max() <= 1e-10
    for i in range(len(b)):
        w_ref = gm.lasso_small(H[i], b[i], lam[i])
        assert np.array_equal(W[i] == 0.0, w_ref == 0.0)
        assert np.max(np.abs(W[i] - w_ref)) <= 1e-10


@pytest.mark.parametrize("t", [0.3, 1.5, 2.0])
def test_l1_constrained_other_budgets(results, t):
    """Below the knot the optimum is on an axis, above it on an edge (both non-zero)."""
    m = results[0].metrics
    H, b = np.array(m["H"]), np.array(m["beta_hat"])
    w, _ = gm.l1_constrained(H, b, t)
    pts = _diamond_boundary(t)
    assert np.max(np.abs(pts[np.argmin(_loss(pts, H, b))] - w)) <= 1e-4
    assert (np.sum(w == 0.0) == 1) == (t <= m["l1_on_axis_for_budgets_up_to"])


def test_ridge_matching_norm():
    rng = np.random.default_rng(5)
    H, b = gm.random_quadratics(rng, 4, 50)
    target = 0.5 * np.linalg.norm(b, axis=1)
    W, mu, matched = gm.ridge_matching_norm(H, b, target)
    assert matched.all() and np.all(mu > 0)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), target, rtol=1e-12)
    assert not np.any(W == 0.0)


def test_seed_respected_and_lam_ignored(results):
    again = geometry.run(ExplainConfig(seed=0, lam=0.2))
    assert again.metrics == results[0].metrics
    assert results[1].metrics["H"] != results[0].metrics["H"]


def test_figures(results):
    figs = plot_geometry(results[0])
    assert set(figs) == {"geometry_contours", "geometry_monte_carlo"}
    for fig, caption in figs.values():
        assert isinstance(fig, Figure) and fig.axes
        assert isinstance(caption, str) and caption
    assert figs["geometry_contours"][0].axes[0].get_aspect() == 1.0
