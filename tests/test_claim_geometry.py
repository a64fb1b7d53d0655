"""Claim geometry: the 2-D optima against brute force and KKT, the Monte Carlo's exact zeros, the
verdict fed by hand-made numbers for every outcome, and the falsifying setting lam = 0.1 lam_max."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.core import geometry as gm
from regulab.report.claims import REGISTRY, geometry
from regulab.report.claims.base import FAILS, HOLDS, PART, ExplainConfig, outcome_of
from regulab.report.plots.geometry import plot_geometry


def _run(**kw):
    return REGISTRY["geometry"].run(ExplainConfig(**kw))


@pytest.fixture(scope="module")
def results():
    return {seed: _run(seed=seed) for seed in (0, 1, 2)}


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
def test_result_shape(results, seed):
    r = results[seed]
    assert r.id == "geometry" and r.verdict and r.nuance and r.tables
    assert r.outcome == outcome_of(r.predictions)
    assert all(v.passed for v in r.verifications), [v.name for v in r.verifications
                                                    if not v.passed]


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
    # a corner (one coordinate exactly 0.0) exactly when the brute force lands on one, and
    # exactly when the budget is below the knot of the budget sweep; the constraint binds
    assert (int(np.sum(w1 == 0.0)) == 1) == (np.min(np.abs(best)) <= 1e-4 * t)
    assert (int(np.sum(w1 == 0.0)) == 1) == (t <= m["l1_on_axis_for_budgets_up_to"])
    assert bool(m["l1_zero_coordinates"]) == bool(np.any(w1 == 0.0))
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
    if not m["circle_binds"]:                          # t >= ||b||: the optimum is b itself
        assert np.linalg.norm(b) <= t and np.array_equal(w2, b)
        return
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
    """The shares against the per-trial indicators; L2 has no exact zero (a theorem)."""
    for r in results.values():
        m, d = r.metrics, r.data
        assert set(m["l2_fraction_with_zero"]) == {"2", "5", "20"}
        assert all(v == 0.0 for v in m["l2_fraction_with_zero"].values())
        assert all(v == 0.0 for v in m["l2_mean_zero_coords"].values())
        assert m["mc_l2_exact_zero_coordinates_total"] == 0
        assert m["mc_l1_uncertified"] == 0 and m["mc_l1_all_zero_solutions"] == 0
        for q in ("2", "5", "20"):
            z = d["mc_zero_l1"][q]
            assert m["l1_fraction_with_zero"][q] == pytest.approx(np.mean(z))
            assert m["l1_fraction_with_zero_se"][q] == pytest.approx(
                np.sqrt(np.mean(z) * (1 - np.mean(z)) / len(z)))
            assert len(z) == int(m["mc_trials"][q])


def test_drawn_problems_against_brute_force(results):
    """The 2-D shares recount the per-draw optima, and a sample of the draws is checked by brute
    force on the diamond (on an axis exactly when the best boundary point is a corner)."""
    m, d = results[0].metrics, results[0].data
    on1, on2 = d["draws_on_axis_l1"], d["draws_on_axis_l2"]
    assert len(on1) == m["n_draws_2d"] and not on2.any()
    assert m["draws_l1_on_axis_share"] == pytest.approx(np.mean(on1))
    assert m["draws_l1_on_axis_se"] == pytest.approx(np.sqrt(np.mean(on1) * (1 - np.mean(on1))
                                                             / len(on1)))
    assert np.all(d["draws_t"] < np.abs(d["draws_b"]).sum(axis=1))   # the diamond always binds
    for i in range(0, m["n_draws_2d"], 16):
        H, b, t, w1 = d["draws_H"][i], d["draws_b"][i], d["draws_t"][i], d["draws_w1"][i]
        pts = _diamond_boundary(t, 40_000)
        f = _loss(pts, H, b)
        best = pts[np.argmin(f)]
        assert _loss(w1, H, b) <= f.min() + 1e-12
        assert np.max(np.abs(best - w1)) <= 1e-3 * max(t, 1e-3)
        if np.min(np.abs(best)) > 1e-3 * t:                # clearly on an edge
            assert not on1[i]
        if on1[i]:
            assert np.min(np.abs(best)) <= 1e-3 * t        # the brute force found the corner


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


@pytest.mark.parametrize("share", [0.15, 0.5, 0.9])
def test_l1_constrained_other_budgets(results, share):
    """Below the knot the optimum is on an axis, above it on an edge (both non-zero)."""
    m = results[0].metrics
    H, b = np.array(m["H"]), np.array(m["beta_hat"])
    t = share * np.abs(b).sum()
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


def test_ridge_matching_zero_target_and_monte_carlo_ends():
    rng = np.random.default_rng(8)
    H, b = gm.random_quadratics(rng, 3, 20)
    W, mu, matched = gm.ridge_matching_norm(H, b, np.zeros(20))
    assert np.all(W == 0.0) and np.all(np.isinf(mu)) and matched.all()
    res = gm.monte_carlo(np.random.default_rng(1), 3, 30, (0.0, 0.5, 1.0, 7.0))
    assert np.all(res[0.0]["W1"] != 0.0) and np.allclose(res[0.0]["W2"], res[0.0]["W1"])
    for f in (1.0, 7.0):                 # lam >= lam_max: 0 by definition, the ridge match too
        assert np.all(res[f]["W1"] == 0.0) and np.all(res[f]["W2"] == 0.0)
    # the batched solver agrees at the edge: at exactly lam_max the lasso solution is 0
    H, b = gm.random_quadratics(np.random.default_rng(1), 3, 30)
    lam_max = 2.0 * np.abs(np.einsum("tij,tj->ti", H, b)).max(axis=1)
    assert np.all(gm.lasso_quadratic(H, b, lam_max)[0] == 0.0)


def test_seed_respected_and_lam_is_the_fraction(results):
    again = _run(seed=0)
    assert again.metrics == results[0].metrics
    assert results[1].metrics["H"] != results[0].metrics["H"]
    assert results[1].metrics["beta_hat"] != results[0].metrics["beta_hat"]
    assert results[0].metrics["lam_fraction"] == geometry.DEFAULTS["lam_fraction"]


def test_lam_a_tenth_of_lam_max_falsifies():
    """The review's falsifying setting: at lam = 0.1 lam_max the p = 2 lasso solutions rarely have
    a zero; the run completes and the verdict says so with the numbers."""
    r = _run(seed=0, lam=0.1)
    m = r.metrics
    assert m["lam_fraction"] == 0.1 and r.outcome in (PART, FAILS)
    by = {p.name: p for p in r.predictions}
    assert not by["mc_p2_l1_zero_majority"].held
    share = m["l1_fraction_with_zero"]["2"]
    assert share < 0.5 and by["mc_p2_l1_zero_majority"].value == share
    assert "Monte Carlo at lam = 0.1 lam_max" in r.verdict
    assert f"p = 2: {100 * share:.1f}%" in r.verdict and "Missed: " in r.verdict
    assert "As the seed says" not in r.verdict


@pytest.mark.parametrize("lam", [0.0, 1e6])
def test_lam_ends_run_with_true_sentences(monkeypatch, lam):
    monkeypatch.setitem(geometry.DEFAULTS, "mc_trials", {2: 100, 5: 40, 20: 10})
    monkeypatch.setitem(geometry.DEFAULTS, "n_draws_2d", 40)
    r = _run(seed=0, lam=lam)
    m = r.metrics
    assert r.outcome in (PART, FAILS)
    if lam == 0:
        assert all(v == 0.0 for v in m["l1_fraction_with_zero"].values())
        assert "no penalty" in r.verdict
    else:
        assert all(v == 1.0 for v in m["l2_fraction_with_zero"].values())
        assert "every L1 solution is 0 by the definition of lam_max" in r.verdict
    assert all(isinstance(f, Figure) for f, _ in plot_geometry(r).values())


def _geo_metrics(**over):
    m = {"n_draws_2d": 400, "draws_l1_on_axis_share": 0.7, "draws_l1_on_axis_se": 0.023,
         "draws_l2_on_axis_share": 0.0, "draws_l2_on_axis_se": 0.0,
         "beta_norm_range": [0.5, 2.0], "rho_range": [-0.9, 0.9], "beta_hat": [0.68, 0.38],
         "budget_t": 0.2, "feature_correlation": -0.5, "w_l1_constrained": [0.2, 0.0],
         "w_l2_constrained": [0.17, 0.1], "l1_zero_coordinates": ["w2"],
         "l2_zero_coordinates": [], "circle_binds": True, "mc_p": [2, 5, 20],
         "mc_trials": {"2": 2000, "5": 600, "20": 200}, "lam_fraction": 0.5,
         "lam_fractions": [0.1, 0.25, 0.5, 0.75],
         "l1_fraction_with_zero": {"2": 0.6, "5": 0.99, "20": 1.0},
         "l1_fraction_with_zero_se": {"2": 0.011, "5": 0.004, "20": 0.0},
         "l2_fraction_with_zero": {"2": 0.0, "5": 0.0, "20": 0.0},
         "l2_fraction_with_zero_se": {"2": 0.0, "5": 0.0, "20": 0.0},
         "l1_fraction_with_zero_by_lam_fraction": {
             str(f): {"2": 0.2, "5": 0.7, "20": 1.0} for f in (0.1, 0.25, 0.5, 0.75)},
         "l1_on_axis_for_budgets_up_to": 0.3, "l1_on_axis_budget_fraction": 0.285,
         "beta_hat_l1_norm": 1.06}
    m.update(over)
    return m


def _geo_verdict(m):
    preds = geometry.predict(m, ExplainConfig())
    outcome = outcome_of(preds)
    return outcome, *geometry.words(m, preds, outcome)


def test_words_for_each_outcome():
    outcome, verdict, _ = _geo_verdict(_geo_metrics())
    assert outcome == HOLDS and "As the seed says" in verdict
    assert "on an axis in 70.0% +/- 2.3%" in verdict and "w2 exactly 0.0, a corner" in verdict
    outcome, verdict, _ = _geo_verdict(_geo_metrics(
        draws_l1_on_axis_share=0.44, w_l1_constrained=[0.3, 0.1], l1_zero_coordinates=[],
        l1_fraction_with_zero={"2": 0.166, "5": 0.7, "20": 1.0}))
    assert outcome == PART and "4 of 6 predictions held" in verdict
    assert "in 44.0% +/- 2.3%" in verdict and "p = 2: 16.6%" in verdict
    assert "both weights non-zero, on an edge of the diamond" in verdict
    assert "exactly 0.0, a corner" not in verdict
    outcome, verdict, _ = _geo_verdict(_geo_metrics(
        draws_l1_on_axis_share=0.3, draws_l2_on_axis_share=0.6, lam_fraction=7.0,
        l1_fraction_with_zero={"2": 0.0, "5": 0.0, "20": 0.0},
        l2_fraction_with_zero={"2": 1.0, "5": 1.0, "20": 1.0}))
    assert outcome == FAILS and "contradict the seed: 0 of 6" in verdict
    assert "lam >= lam_max" in verdict and "L2 in 100% (p = 2)" in verdict


def test_figures(results):
    figs = plot_geometry(results[0])
    assert set(figs) == {"geometry_contours", "geometry_monte_carlo"}
    for fig, caption in figs.values():
        assert isinstance(fig, Figure) and fig.axes
        assert isinstance(caption, str) and caption
    assert figs["geometry_contours"][0].axes[0].get_aspect() == 1.0
