"""Claim geometry: seed 001's picture of the L1 diamond and the L2 circle (ESL Fig. 3.11 style).

Every least-squares loss is, up to a constant, a quadratic around the least-squares weights::

    MSE(w) - MSE(beta_hat) = (w - beta_hat)^T H (w - beta_hat),     H = X^T X / n.

Its level sets are ellipses. Minimizing it over the L1 ball ``|w1| + |w2| <= t`` (a diamond, corners
on the axes) or the L2 ball ``w1^2 + w2^2 <= t^2`` (a circle) gives the constrained optima; by
Lagrange duality each equals the penalized optimum ``MSE + lam * Complexity`` for one lam.

Measured two ways, both with solvers whose zeros are exact (a zero is a structural ``0.0``, certified
by the optimality conditions, never a small number rounded away):

1. **The picture.** A seeded 2-feature least-squares problem (standardized, correlated features,
   ``beta_hat = (1.6, 0.6)`` exactly) and a binding budget ``t``. The L1-constrained optimum is
   found by the active-set form of the KKT conditions (every support and sign pattern is tried; on
   a pattern ``||w||_1`` is linear in lam, so the lam with ``||w||_1 = t`` is solved exactly), the
   L2-constrained one from ``w(mu) = (H + mu I)^{-1} H beta_hat`` with ``||w(mu)|| = t`` (root of a
   monotone scalar function). Checked against 10,000 random points on each region's boundary, and
   swept over all budgets ``0 < t < ||beta_hat||_1`` to show for which budgets L1 sits on an axis.
2. **Monte Carlo.** Random quadratics (``H`` the correlation matrix of a random correlated design,
   ``beta_hat ~ N(0, I)``) for p = 2, 5, 20. Matching rule: L1 uses ``lam = f * lam_max`` with
   ``lam_max = ||2 H beta_hat||_inf`` (the smallest lam giving all zeros), so the all-zero solution
   is excluded; L2's lam is then chosen per trial so that the ridge solution has the same Euclidean
   length as the lasso solution (equally shrunk). L1 is solved by batched coordinate descent, then
   polished on its support and certified by the KKT conditions; L2 in closed form.
"""

from __future__ import annotations

import numpy as np

from regulab.core.geometry import (
    _boundary_points,
    _pct,
    l1_constrained,
    l2_constrained,
    lasso_quadratic,
    make_2d_problem,
    monte_carlo,
    quad_loss,
)
from regulab.report.claims.base import ClaimResult, ExplainConfig, Table, verdict_from

ID = "geometry"
TITLE = "Geometry: the L1 diamond's corners sit on the axes, the L2 circle has none"
SOURCE = "seed 001 (the geometric interpretation; ESL Fig. 3.11)"
STATEMENT = ("Geometrically, L1's constraint region is a diamond whose corners lie on the "
             "coordinate axes - exactly where some coefficients are zero; L2's is a circle with "
             "no corners, so its solution typically has all weights non-zero.")

#: the 2-D picture (beta_hat, feature correlation, rows, budget) and the Monte Carlo
DEFAULTS = {"beta_hat": (1.6, 0.6), "rho": 0.5, "n": 100, "noise": 0.5, "budget": 0.8,
            "n_oracle": 10_000, "n_budgets": 200,
            "mc_p": (2, 5, 20), "mc_trials": {2: 2000, 5: 600, 20: 200}, "mc_extra_rows": 20,
            "lam_fraction": 0.5, "lam_fractions": (0.1, 0.25, 0.5, 0.75),
            "min_l1_zero_fraction": 0.5}

def run(config: ExplainConfig) -> ClaimResult:
    """Measure the geometry claim; see the module docstring."""
    p_ = dict(DEFAULTS)
    rng = np.random.default_rng(config.seed)

    # 1. the ESL picture
    X, y, H, b = make_2d_problem(rng, p_["beta_hat"], p_["rho"], p_["n"], p_["noise"])
    t = float(p_["budget"])
    w1, lam1 = l1_constrained(H, b, t)
    w2, lam2 = l2_constrained(H, b, t)
    loss1, loss2 = float(quad_loss(w1, H, b)), float(quad_loss(w2, H, b))
    mse_min = float(np.mean((y - X @ b) ** 2))
    mse_offset_err = max(abs(np.mean((y - X @ w) ** 2) - mse_min - quad_loss(w, H, b))
                         for w in (w1, w2))
    zero_idx = [int(j) for j in np.flatnonzero(w1 == 0.0)]
    # the penalized problem at the equivalent lam, solved by the (independent) batched solver
    w1_pen = lasso_quadratic(H[None], b[None], lam1)[0][0]
    # KKT of the circle: -grad = 2 H (b - w) = 2 mu w, i.e. parallel to w and pointing outwards
    g2 = 2.0 * H @ (b - w2)
    cross2 = float(abs(g2[0] * w2[1] - g2[1] * w2[0]) / (np.linalg.norm(g2) * np.linalg.norm(w2)))
    diamond_pts, circle_pts = _boundary_points(rng, p_["n_oracle"], t)
    best_diamond = float(quad_loss(diamond_pts, H, b).min())
    best_circle = float(quad_loss(circle_pts, H, b).min())

    # every budget: where do the two constrained optima lie?
    budgets = np.linspace(0.0, np.abs(b).sum(), p_["n_budgets"] + 2)[1:-1]
    path1 = np.array([l1_constrained(H, b, s)[0] for s in budgets])
    path2 = np.array([l2_constrained(H, b, s)[0] for s in budgets])
    on_axis1 = np.any(path1 == 0.0, axis=1)
    on_axis2 = np.any(path2 == 0.0, axis=1)
    # the largest budget with an L1 optimum on an axis (bisection between grid neighbours)
    if on_axis1.any() and not on_axis1.all():
        k = int(np.flatnonzero(on_axis1)[-1])
        lo, hi = budgets[k], budgets[k + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.any(l1_constrained(H, b, mid)[0] == 0.0) else (lo, mid)
        t_knot = float(lo)
    else:
        t_knot = float(budgets[-1]) if on_axis1.all() else 0.0
    axis_contiguous = bool(np.array_equal(on_axis1, budgets <= t_knot))

    # 2. Monte Carlo
    f0 = float(p_["lam_fraction"])
    fracs = tuple(sorted(set(p_["lam_fractions"]) | {f0}))
    mc = {p: monte_carlo(rng, p, p_["mc_trials"][p], fracs, p_["mc_extra_rows"])
          for p in p_["mc_p"]}

    def stat(p, f, key, kind):
        W = mc[p][f][key]
        return float(np.mean(np.any(W == 0.0, axis=1)) if kind == "any" else np.mean(W == 0.0))

    ps = [str(p) for p in p_["mc_p"]]
    l1_any = {str(p): stat(p, f0, "W1", "any") for p in p_["mc_p"]}
    l2_any = {str(p): stat(p, f0, "W2", "any") for p in p_["mc_p"]}
    l1_mean = {str(p): stat(p, f0, "W1", "mean") for p in p_["mc_p"]}
    l2_mean = {str(p): stat(p, f0, "W2", "mean") for p in p_["mc_p"]}
    sweep_l1_any = {str(f): {str(p): stat(p, f, "W1", "any") for p in p_["mc_p"]} for f in fracs}
    sweep_l1_mean = {str(f): {str(p): stat(p, f, "W1", "mean") for p in p_["mc_p"]}
                     for f in fracs}
    l2_zero_count = int(sum(np.sum(mc[p][f]["W2"] == 0.0) for p in mc for f in fracs))
    l1_all_zero = int(sum(np.sum(np.all(mc[p][f]["W1"] == 0.0, axis=1))
                          for p in mc for f in fracs))
    n_uncertified = int(sum(np.sum(~mc[p][f]["certified"]) for p in mc for f in fracs))
    max_violation = float(max(np.max(mc[p][f]["violation"]) for p in mc for f in fracs))
    norm_match = float(max(mc[p][f]["norm_match"] for p in mc for f in fracs))
    unmatched = int(sum(mc[p][f]["unmatched"] for p in mc for f in fracs))
    total_solves = int(sum(p_["mc_trials"][p] for p in mc) * len(fracs))

    checks = {
        "budget_binds": bool(t < np.abs(b).sum() and t < np.linalg.norm(b)),
        "l1_optimum_on_axis": len(zero_idx) == 1,
        "l2_optimum_off_axis": bool(np.all(w2 != 0.0)),
        "constrained_optima_on_boundary": bool(abs(np.abs(w1).sum() - t) <= 1e-9
                                               and abs(np.linalg.norm(w2) - t) <= 1e-9),
        "loss_is_mse_minus_its_minimum": bool(mse_offset_err <= 1e-9),
        "lagrangian_lam_gives_same_l1_optimum": bool(np.max(np.abs(w1_pen - w1)) <= 1e-12
                                                     and np.array_equal(w1_pen == 0.0,
                                                                        w1 == 0.0)),
        "l2_kkt_gradient_parallel_to_w": bool(cross2 <= 1e-9 and g2 @ w2 > 0 and lam2 > 0),
        "optima_beat_random_boundary_points": bool(loss1 <= best_diamond + 1e-12
                                                   and loss2 <= best_circle + 1e-12),
        "l2_never_on_axis_for_any_budget": not bool(on_axis2.any()),
        "mc_l1_solutions_kkt_certified": n_uncertified == 0,
        "mc_l2_lengths_matched": norm_match <= 1e-9,
        "mc_l1_zero_in_most_trials": all(l1_any[p] > p_["min_l1_zero_fraction"] for p in ps),
        "mc_l2_never_exactly_zero": l2_zero_count == 0,
    }

    names = ["w1", "w2"]
    zero_name = ", ".join(names[j] for j in zero_idx) or "none"
    metrics = {
        "beta_hat": b.tolist(), "H": H.tolist(), "feature_correlation": float(H[0, 1]), "n": p_["n"],
        "budget_t": t, "beta_hat_l1_norm": float(np.abs(b).sum()),
        "beta_hat_l2_norm": float(np.linalg.norm(b)),
        "w_l1_constrained": w1.tolist(), "w_l2_constrained": w2.tolist(),
        "l1_zero_coordinates": [names[j] for j in zero_idx],
        "lam_equivalent_l1": lam1, "lam_equivalent_l2": lam2,
        "w_l1_penalized_at_lam_equivalent": w1_pen.tolist(),
        "l1_norm_of_w_l1": float(np.abs(w1).sum()), "l2_norm_of_w_l2": float(np.linalg.norm(w2)),
        "loss_at_w_l1": loss1, "loss_at_w_l2": loss2,
        "n_oracle": p_["n_oracle"], "oracle_best_loss_diamond": best_diamond,
        "oracle_best_loss_circle": best_circle,
        "l2_kkt_sin_angle_gradient_w": cross2,
        "n_budgets": len(budgets),
        "l1_on_axis_budget_fraction": float(on_axis1.mean()),
        "l2_on_axis_budget_fraction": float(on_axis2.mean()),
        "l1_on_axis_for_budgets_up_to": t_knot,
        "l1_on_axis_iff_budget_below_knot": axis_contiguous,
        "mc_p": list(p_["mc_p"]), "mc_trials": {str(k): v for k, v in p_["mc_trials"].items()},
        "mc_lam_rule": "L1: lam = f * ||2 H beta_hat||_inf; L2: lam such that ||w_L2||_2 = "
                       "||w_L1||_2 (same Euclidean length)",
        "lam_fraction": f0, "lam_fractions": list(fracs),
        "l1_fraction_with_zero": l1_any, "l2_fraction_with_zero": l2_any,
        "l1_mean_zero_coords": l1_mean, "l2_mean_zero_coords": l2_mean,
        "l1_fraction_with_zero_by_lam_fraction": sweep_l1_any,
        "l1_mean_zero_coords_by_lam_fraction": sweep_l1_mean,
        "mc_l2_exact_zero_coordinates_total": l2_zero_count,
        "mc_l1_all_zero_solutions": l1_all_zero,
        "mc_solves_per_penalty": total_solves,
        "mc_l1_uncertified": n_uncertified, "mc_l1_max_relative_kkt_violation": max_violation,
        "mc_l2_norm_match_max_relative_error": norm_match,
        "mc_l2_unmatchable_trials": unmatched,
    }
    w1s = f"({w1[0]:.4g}, {w1[1]:.4g})"
    w2s = f"({w2[0]:.4f}, {w2[1]:.4f})"
    mc_txt = "; ".join(f"p = {p}: {_pct(l1_any[p])} of {p_['mc_trials'][int(p)]} trials "
                       f"(mean {_pct(l1_mean[p])} of coordinates)" for p in ps)
    verdict = (
        f"2-D least squares with beta_hat = ({b[0]:.3f}, {b[1]:.3f}), feature correlation "
        f"{H[0, 1]:.2f}, budget t = {t:g}: the L1-constrained optimum is {w1s} - "
        f"{zero_name} exactly 0.0, a corner of the diamond (Lagrangian lam = {lam1:.4f}); the "
        f"L2-constrained optimum is {w2s}, both non-zero (lam = {lam2:.4f}). Neither was beaten by "
        f"any of {p_['n_oracle']:,} random points on its region's boundary (best losses "
        f"{best_diamond:.6f} >= {loss1:.6f} and {best_circle:.6f} >= {loss2:.6f}). Monte Carlo at "
        f"lam = {f0:g} lam_max, L2 equally shrunk (same Euclidean length): L1 had an exact zero in "
        f"{mc_txt}; L2 in {_pct(l2_any[ps[0]])} of trials at every p ({l2_zero_count} exact zeros "
        f"in {total_solves:,} ridge solutions over all lams).")
    low = min(fracs)
    nuance = (
        f"A corner is where the ellipses touch only for some budgets: in the picture L1 sits on an "
        f"axis for t <= {t_knot:.3f} ({_pct(on_axis1.mean())} of the budgets between 0 and "
        f"||beta_hat||_1 = {np.abs(b).sum():.2f}); for larger t the ellipse touches an edge and "
        f"both weights are non-zero (the L2 circle: {int(on_axis2.sum())} of {len(budgets)} "
        f"budgets). Likewise in the Monte Carlo the share of L1 solutions with a zero grows with "
        f"lam and with p (p = 2: {_pct(sweep_l1_any[str(low)]['2'])} at lam = {low:g} lam_max, "
        f"{_pct(sweep_l1_any[str(max(fracs))]['2'])} at {max(fracs):g} lam_max): in higher "
        f"dimensions the L1 ball has many more corners and low-dimensional faces to be touched. "
        f"A ridge solution (H + lam I)^-1 H beta_hat has a zero coordinate only on a measure-zero "
        f"set of problems.")
    tables = [
        Table(caption=f"The 2-D picture: constrained optima for budget t = {t:g}",
              columns=["region", "constrained optimum", "coordinates exactly 0",
                       "Lagrangian lam", "loss", f"best of {p_['n_oracle']:,} boundary points"],
              rows=[["L1 diamond |w1|+|w2| <= t", w1s, zero_name, f"{lam1:.6g}",
                     f"{loss1:.6g}", f"{best_diamond:.6g}"],
                    ["L2 circle w1^2+w2^2 <= t^2", w2s, "none" if np.all(w2 != 0) else "some",
                     f"{lam2:.6g}", f"{loss2:.6g}", f"{best_circle:.6g}"]]),
        Table(caption=(f"Monte Carlo at lam = {f0:g} lam_max (L2 matched to the same Euclidean "
                       "length): share of trials with a coordinate exactly 0.0, and mean share of "
                       "coordinates exactly 0.0"),
              columns=["p", "trials", "L1: trials with a 0", "L1: coords 0",
                       "L2: trials with a 0", "L2: coords 0"],
              rows=[[p, str(p_["mc_trials"][int(p)]), _pct(l1_any[p]), _pct(l1_mean[p]),
                     _pct(l2_any[p]), _pct(l2_mean[p])] for p in ps]),
        Table(caption="L1: share of trials with an exact zero, by lam / lam_max (L2: 0% everywhere)",
              columns=["lam / lam_max"] + [f"p = {p}" for p in ps],
              rows=[[f"{f:g}"] + [_pct(sweep_l1_any[str(f)][p]) for p in ps] for f in fracs]),
    ]

    # figure data: a grid of the loss around the picture
    lim_lo = -1.15 * t
    xs = np.linspace(min(lim_lo, b[0] - 1.0), max(b[0], t) + 0.5, 301)
    ys = np.linspace(min(lim_lo, b[1] - 1.0), max(b[1], t) + 0.5, 301)
    G1, G2 = np.meshgrid(xs, ys)
    Z = quad_loss(np.stack([G1, G2], axis=-1), H, b)
    data = {"grid_x": xs, "grid_y": ys, "loss": Z, "path_l1": path1, "path_l2": path2,
            "budgets": budgets, "fractions": list(fracs),
            "sweep_l1_any": sweep_l1_any, "sweep_l1_mean": sweep_l1_mean,
            "sweep_l2_any": {str(f): {str(p): stat(p, f, "W2", "any") for p in p_["mc_p"]}
                             for f in fracs}}
    return ClaimResult(id=ID, title=TITLE, source=SOURCE, statement=STATEMENT,
                       holds=verdict_from(checks), verdict=verdict, metrics=metrics,
                       nuance=nuance, checks=checks, tables=tables, data=data)
