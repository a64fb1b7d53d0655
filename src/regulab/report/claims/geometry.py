"""Claim geometry: seed 001's picture of the L1 diamond and the L2 circle (ESL Fig. 3.11 style).

Every least-squares loss is, up to a constant, a quadratic around the least-squares weights::

    MSE(w) - MSE(beta_hat) = (w - beta_hat)^T H (w - beta_hat),     H = X^T X / n.

Its level sets are ellipses. Minimizing it over the L1 ball ``|w1| + |w2| <= t`` (a diamond, corners
on the axes) or the L2 ball ``w1^2 + w2^2 <= t^2`` (a circle) gives the constrained optima; by
Lagrange duality each equals the penalized optimum ``MSE + lam * Complexity`` for one lam. All
optima come from solvers whose zeros are exact (:mod:`regulab.core.geometry`: a zero is a
structural ``0.0`` certified by the optimality conditions, never a small number rounded away).

Where the ellipse touches the diamond depends on the problem: for small budgets it touches a
corner, for larger ones an edge. So nothing about the problem is chosen; it is drawn from the
seed (``np.random.default_rng([seed, k])``):

1. **Drawn 2-D problems** (``n_draws_2d`` of them). ``beta_hat`` has a uniformly random
   direction (every orientation of the ellipses relative to the axes, from on an axis to the
   diagonal) and a length uniform in ``beta_norm_range`` (it only sets the scale: the budget is
   drawn relative to it); the feature correlation is uniform in ``rho_range`` (from strongly
   negative to strongly positive, i.e. from round to long thin ellipses); the budget ``t`` is
   uniform in ``(0, ||beta_hat||_1)``: every budget at which the diamond constrains the fit (at
   ``t >= ||beta_hat||_1`` the L1 optimum is ``beta_hat`` itself). The circle may then not bind
   (``t >= ||beta_hat||_2``): its optimum is ``beta_hat``, which is off the axes too. Measured:
   the share of problems whose L1 optimum is on an axis, and whose L2 optimum is, with standard
   errors. The figure shows the first draw whose budget is 25-75 % of ||beta_hat||_1 (a readable
   diamond; chosen on the budget alone), with the path of both optima over every budget.
2. **Monte Carlo** over random quadratics (``H`` the correlation matrix of a random correlated
   design, ``beta_hat ~ N(0, I)``) for p = 2, 5, 20. L1 uses ``lam = f * lam_max`` with
   ``lam_max = ||2 H beta_hat||_inf`` (the smallest lam giving all zeros); L2's lam is chosen per
   trial so that the ridge solution has the same Euclidean length as the lasso solution (equally
   shrunk). ``f`` is 0.5 (``lam_fraction``: half way from no penalty to all zeros) unless the
   run gives ``ExplainConfig.lam``, which this claim reads as the fraction ``f`` of lam_max
   (``regulab explain --only geometry --lam 0.1`` runs it at ``lam = 0.1 lam_max``; 0 means no
   penalty, 1 or more all-zero lasso solutions). The sweep over ``lam_fractions`` is reported.

Predictions: in the drawn 2-D problems the L1 optimum is on an axis in more than half of them
and the L2 optimum in fewer than half; at ``f``, for each p, the L1 solution has an exact zero in
more than half of the trials (``min_l1_zero_fraction``, a majority: not tuned), and the equally
shrunk L2 solution in fewer than half at every p. Verifications: the pictured optima against
10,000 random boundary points, the Lagrangian lam, the circle's KKT, the L2 optimum off the axes
for every budget, the Monte Carlo's KKT certificates and matched lengths.
"""

from __future__ import annotations

import math

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
from regulab.report.claims.base import (
    ExplainConfig,
    Measured,
    Prediction,
    Table,
    Verification,
    headline,
    missed_text,
)

ID = "geometry"
TITLE = "Geometry: the L1 diamond's corners sit on the axes, the L2 circle has none"
SOURCE = "seed 001 (the geometric interpretation; ESL Fig. 3.11)"
STATEMENT = ("Geometrically, L1's constraint region is a diamond whose corners lie on the "
             "coordinate axes - exactly where some coefficients are zero; L2's is a circle with "
             "no corners, so its solution typically has all weights non-zero.")

#: ``beta_hat``, ``rho``, ``budget``: the picture the app opens with (the claim draws its own);
#: ``n``, ``noise``: rows and noise of every 2-D data set; the drawn problems' ranges; the Monte
#: Carlo; ``lam_fraction``: the Monte Carlo's f unless ``ExplainConfig.lam`` gives it
DEFAULTS = {"beta_hat": (1.6, 0.6), "rho": 0.5, "n": 100, "noise": 0.5, "budget": 0.8,
            "n_oracle": 10_000, "n_budgets": 200,
            "n_draws_2d": 400, "beta_norm_range": (0.5, 2.0), "rho_range": (-0.9, 0.9),
            "mc_p": (2, 5, 20), "mc_trials": {2: 2000, 5: 600, 20: 200}, "mc_extra_rows": 20,
            "lam_fraction": 0.5, "lam_fractions": (0.1, 0.25, 0.5, 0.75),
            "min_l1_zero_fraction": 0.5}

_NAMES = ["w1", "w2"]


def _draw_settings(rng, p: dict):
    """``(beta_hat, rho, budget share s)`` of each drawn 2-D problem; ``t = s ||b||_1``."""
    k = p["n_draws_2d"]
    phi = rng.uniform(0.0, 2.0 * np.pi, k)
    r = rng.uniform(*p["beta_norm_range"], k)
    rho = rng.uniform(*p["rho_range"], k)
    s = rng.uniform(0.0, 1.0, k)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi)]), rho, s


#: the pictured draw is the first whose budget share lies here, so the diamond is drawn at a
#: readable size; the rule looks at the drawn budget only, never at where the optimum landed
PICTURE_SHARE = (0.25, 0.75)


def _pictured_index(shares) -> int:
    """Index of the first draw whose budget share is in :data:`PICTURE_SHARE` (else 0)."""
    ok = np.flatnonzero((shares >= PICTURE_SHARE[0]) & (shares <= PICTURE_SHARE[1]))
    return int(ok[0]) if ok.size else 0


def _draws_2d(config: ExplainConfig, p: dict) -> tuple[dict, dict]:
    """Every drawn 2-D problem's constrained optima; ``(per-draw arrays, the pictured one)``."""
    betas, rhos, shares = _draw_settings(np.random.default_rng([config.seed, 2]), p)
    rng = np.random.default_rng([config.seed, 3])
    out = {k: [] for k in ("H", "b", "t", "w1", "w2")}
    first, pictured = None, _pictured_index(shares)
    for i, (beta, rho, s) in enumerate(zip(betas, rhos, shares)):
        X, y, H, b = make_2d_problem(rng, beta, rho, p["n"], p["noise"])
        t = float(s * np.abs(b).sum())
        (w1, lam1), (w2, lam2) = l1_constrained(H, b, t), l2_constrained(H, b, t)
        if i == pictured:
            first = {"X": X, "y": y, "H": H, "b": b, "t": t, "w1": w1, "w2": w2,
                     "lam1": lam1, "lam2": lam2, "rho": float(rho)}
        for k, v in zip(out, (H, b, t, w1, w2)):
            out[k].append(v)
    out = {k: np.array(v) for k, v in out.items()}
    out.update({"on_axis_l1": np.any(out["w1"] == 0.0, axis=1),
                "on_axis_l2": np.any(out["w2"] == 0.0, axis=1),
                "l2_binds": out["t"] < np.linalg.norm(out["b"], axis=1)})
    return out, first


def _share(x) -> tuple[float, float]:
    """A share and its standard error ``sqrt(s (1 - s) / n)``."""
    s = float(np.mean(x))
    return s, math.sqrt(s * (1.0 - s) / len(x))


def _picture(first: dict, p: dict, rng) -> tuple[dict, dict]:
    """The pictured draw in detail: oracle checks and the optima over every budget."""
    X, y, H, b, t = first["X"], first["y"], first["H"], first["b"], first["t"]
    w1, w2 = first["w1"], first["w2"]
    loss1, loss2 = float(quad_loss(w1, H, b)), float(quad_loss(w2, H, b))
    mse_min = float(np.mean((y - X @ b) ** 2))
    offset_err = max(abs(np.mean((y - X @ w) ** 2) - mse_min - quad_loss(w, H, b))
                     for w in (w1, w2))
    w1_pen = lasso_quadratic(H[None], b[None], first["lam1"])[0][0]
    g2 = 2.0 * H @ (b - w2)   # circle KKT: -grad = 2 mu w, parallel to w and pointing outwards
    n2 = np.linalg.norm(g2) * np.linalg.norm(w2)
    cross2 = float(abs(g2[0] * w2[1] - g2[1] * w2[0]) / n2) if n2 > 0 else 0.0
    diamond_pts, circle_pts = _boundary_points(rng, p["n_oracle"], t)
    budgets = np.linspace(0.0, np.abs(b).sum(), p["n_budgets"] + 2)[1:-1]
    path1 = np.array([l1_constrained(H, b, s)[0] for s in budgets])
    path2 = np.array([l2_constrained(H, b, s)[0] for s in budgets])
    on1, on2 = np.any(path1 == 0.0, axis=1), np.any(path2 == 0.0, axis=1)
    t_knot = _knot(H, b, budgets, on1)
    zero_idx = [int(j) for j in np.flatnonzero(w1 == 0.0)]
    m = {"beta_hat": b.tolist(), "H": H.tolist(), "feature_correlation": float(H[0, 1]),
         "n": p["n"], "budget_t": t, "beta_hat_l1_norm": float(np.abs(b).sum()),
         "beta_hat_l2_norm": float(np.linalg.norm(b)), "circle_binds": bool(t < np.linalg.norm(b)),
         "w_l1_constrained": w1.tolist(), "w_l2_constrained": w2.tolist(),
         "l1_zero_coordinates": [_NAMES[j] for j in zero_idx],
         "l2_zero_coordinates": [_NAMES[j] for j in np.flatnonzero(w2 == 0.0)],
         "lam_equivalent_l1": first["lam1"], "lam_equivalent_l2": first["lam2"],
         "w_l1_penalized_at_lam_equivalent": w1_pen.tolist(),
         "l1_norm_of_w_l1": float(np.abs(w1).sum()), "l2_norm_of_w_l2": float(np.linalg.norm(w2)),
         "loss_at_w_l1": loss1, "loss_at_w_l2": loss2, "n_oracle": p["n_oracle"],
         "oracle_best_loss_diamond": float(quad_loss(diamond_pts, H, b).min()),
         "oracle_best_loss_circle": float(quad_loss(circle_pts, H, b).min()),
         "mse_offset_error": float(offset_err), "l2_kkt_sin_angle_gradient_w": cross2,
         "l2_kkt_outward": bool(g2 @ w2 >= 0), "n_budgets": len(budgets),
         "l1_on_axis_budget_fraction": float(on1.mean()),
         "l2_on_axis_budget_fraction": float(on2.mean()),
         "l1_on_axis_for_budgets_up_to": t_knot,
         "l1_on_axis_iff_budget_below_knot": bool(np.array_equal(on1, budgets <= t_knot))}
    lim = float(max(abs(b[0]), abs(b[1]), t) * 1.15 + 0.35)
    xs = np.linspace(-lim, lim, 301)
    G1, G2 = np.meshgrid(xs, xs)
    data = {"grid_x": xs, "grid_y": xs, "loss": quad_loss(np.stack([G1, G2], axis=-1), H, b),
            "path_l1": path1, "path_l2": path2, "budgets": budgets}
    return m, data


def _knot(H, b, budgets, on_axis) -> float:
    """The largest budget with an L1 optimum on an axis (bisection between grid neighbours)."""
    if on_axis.all() or not on_axis.any():
        return float(budgets[-1]) if on_axis.all() else 0.0
    k = int(np.flatnonzero(on_axis)[-1])
    lo, hi = budgets[k], budgets[k + 1]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.any(l1_constrained(H, b, mid)[0] == 0.0) else (lo, mid)
    return float(lo)


def _monte_carlo(config: ExplainConfig, p: dict, f0: float) -> tuple[dict, dict]:
    """The p-dimensional Monte Carlo at every fraction: ``(metrics, figure data)``."""
    fracs = tuple(sorted(set(p["lam_fractions"]) | {f0}))
    mc = {q: monte_carlo(np.random.default_rng([config.seed, 4, q]), q, p["mc_trials"][q],
                         fracs, p["mc_extra_rows"]) for q in p["mc_p"]}

    def zeros(q, f, key):          # per trial: has a coordinate exactly 0.0
        return np.any(mc[q][f][key] == 0.0, axis=1)

    def coords(q, f, key):
        return float(np.mean(mc[q][f][key] == 0.0))

    ps = [str(q) for q in p["mc_p"]]
    share = {k: {str(q): _share(zeros(q, f0, w)) for q in p["mc_p"]} for k, w in
             (("l1", "W1"), ("l2", "W2"))}
    every = [(q, f) for q in mc for f in fracs]
    m = {"mc_p": list(p["mc_p"]), "mc_trials": {str(k): v for k, v in p["mc_trials"].items()},
         "mc_lam_rule": "L1: lam = f * ||2 H beta_hat||_inf; L2: lam such that ||w_L2||_2 = "
                        "||w_L1||_2 (same Euclidean length)",
         "lam_fraction": f0, "lam_fractions": list(fracs),
         "l1_fraction_with_zero": {q: share["l1"][q][0] for q in ps},
         "l1_fraction_with_zero_se": {q: share["l1"][q][1] for q in ps},
         "l2_fraction_with_zero": {q: share["l2"][q][0] for q in ps},
         "l2_fraction_with_zero_se": {q: share["l2"][q][1] for q in ps},
         "l1_mean_zero_coords": {str(q): coords(q, f0, "W1") for q in p["mc_p"]},
         "l2_mean_zero_coords": {str(q): coords(q, f0, "W2") for q in p["mc_p"]},
         "l1_fraction_with_zero_by_lam_fraction": {str(f): {str(q): _share(zeros(q, f, "W1"))[0]
                                                            for q in mc} for f in fracs},
         "l1_mean_zero_coords_by_lam_fraction": {str(f): {str(q): coords(q, f, "W1") for q in mc}
                                                 for f in fracs},
         "mc_l2_exact_zero_coordinates_total": int(sum(np.sum(mc[q][f]["W2"] == 0.0)
                                                       for q, f in every)),
         "mc_l1_all_zero_solutions": int(sum(np.sum(np.all(mc[q][f]["W1"] == 0.0, axis=1))
                                             for q, f in every)),
         "mc_solves_per_penalty": int(sum(p["mc_trials"][q] for q in mc) * len(fracs)),
         "mc_l1_uncertified": int(sum(np.sum(~mc[q][f]["certified"]) for q, f in every)),
         "mc_l1_max_relative_kkt_violation": float(max(np.max(mc[q][f]["violation"])
                                                       for q, f in every)),
         "mc_l2_norm_match_max_relative_error": float(max(mc[q][f]["norm_match"]
                                                          for q, f in every)),
         "mc_l2_unmatchable_trials": int(sum(mc[q][f]["unmatched"] for q, f in every))}
    data = {"fractions": list(fracs),
            "sweep_l1_any": m["l1_fraction_with_zero_by_lam_fraction"],
            "sweep_l1_mean": m["l1_mean_zero_coords_by_lam_fraction"],
            "sweep_l2_any": {str(f): {str(q): _share(zeros(q, f, "W2"))[0] for q in mc}
                             for f in fracs},
            "mc_zero_l1": {str(q): zeros(q, f0, "W1") for q in mc},
            "mc_zero_l2": {str(q): zeros(q, f0, "W2") for q in mc}}
    return m, data


def measure(config: ExplainConfig) -> Measured:
    """Draw the 2-D problems, picture one, run the Monte Carlo; see the module docstring."""
    p = dict(DEFAULTS)
    f0 = float(config.lam if config.lam is not None else p["lam_fraction"])
    draws, first = _draws_2d(config, p)
    m, data = _picture(first, p, np.random.default_rng([config.seed, 5]))
    s1, s2 = _share(draws["on_axis_l1"]), _share(draws["on_axis_l2"])
    m.update({"n_draws_2d": p["n_draws_2d"], "beta_norm_range": list(p["beta_norm_range"]),
              "rho_range": list(p["rho_range"]), "pictured_draw_correlation_setting": first["rho"],
              "draws_l1_on_axis_share": s1[0], "draws_l1_on_axis_se": s1[1],
              "draws_l2_on_axis_share": s2[0], "draws_l2_on_axis_se": s2[1],
              "draws_circle_binds_share": float(np.mean(draws["l2_binds"]))})
    mc_m, mc_data = _monte_carlo(config, p, f0)
    m.update(mc_m)
    data.update(mc_data)
    data.update({f"draws_{k}": v for k, v in draws.items()})
    return Measured(m, data, _tables(m))


def _tables(m: dict) -> list[Table]:
    t, ps = m["budget_t"], [str(q) for q in m["mc_p"]]
    w1s, w2s = _pair(m["w_l1_constrained"]), _pair(m["w_l2_constrained"])
    f0 = m["lam_fraction"]
    return [
        Table(caption=(f"{m['n_draws_2d']} drawn 2-D problems: share whose constrained optimum "
                       "lies on an axis (a coordinate exactly 0.0)"),
              columns=["region", "on an axis", "standard error"],
              rows=[["L1 diamond", _pct(m["draws_l1_on_axis_share"]),
                     f"{100 * m['draws_l1_on_axis_se']:.1f}%"],
                    ["L2 circle", _pct(m["draws_l2_on_axis_share"]),
                     f"{100 * m['draws_l2_on_axis_se']:.1f}%"]]),
        Table(caption=f"The pictured draw: constrained optima for budget t = {t:.4g}",
              columns=["region", "constrained optimum", "coordinates exactly 0",
                       "Lagrangian lam", "loss", f"best of {m['n_oracle']:,} boundary points"],
              rows=[["L1 diamond |w1|+|w2| <= t", w1s, ", ".join(m["l1_zero_coordinates"])
                     or "none", f"{m['lam_equivalent_l1']:.6g}", f"{m['loss_at_w_l1']:.6g}",
                     f"{m['oracle_best_loss_diamond']:.6g}"],
                    ["L2 circle w1^2+w2^2 <= t^2", w2s, ", ".join(m["l2_zero_coordinates"])
                     or "none", f"{m['lam_equivalent_l2']:.6g}", f"{m['loss_at_w_l2']:.6g}",
                     f"{m['oracle_best_loss_circle']:.6g}"]]),
        Table(caption=(f"Monte Carlo at lam = {f0:g} lam_max (L2 matched to the same Euclidean "
                       "length): share of trials with a coordinate exactly 0.0 (+/- SE), and "
                       "mean share of coordinates exactly 0.0"),
              columns=["p", "trials", "L1: trials with a 0", "L1: coords 0",
                       "L2: trials with a 0", "L2: coords 0"],
              rows=[[q, str(m["mc_trials"][q]), _pm(m, "l1", q), _pct(m["l1_mean_zero_coords"][q]),
                     _pm(m, "l2", q), _pct(m["l2_mean_zero_coords"][q])] for q in ps]),
        Table(caption="L1: share of trials with an exact zero, by lam / lam_max",
              columns=["lam / lam_max"] + [f"p = {q}" for q in ps],
              rows=[[f"{f:g}"] + [_pct(m["l1_fraction_with_zero_by_lam_fraction"][str(f)][q])
                                  for q in ps] for f in m["lam_fractions"]]),
    ]


def _pm(m: dict, pen: str, q: str) -> str:
    """``'61% +/- 1.1%'``: a Monte Carlo share and its standard error."""
    return (f"{_pct(m[f'{pen}_fraction_with_zero'][q])} +/- "
            f"{100 * m[f'{pen}_fraction_with_zero_se'][q]:.1f}%")


def _pair(w) -> str:
    return "(" + ", ".join("0.0" if v == 0.0 else f"{v:.4g}" for v in w) + ")"


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """Shares of problems whose optimum has an exact zero, against a majority."""
    f0, cut = m["lam_fraction"], DEFAULTS["min_l1_zero_fraction"]
    n2 = m["n_draws_2d"]
    out = [
        Prediction("draws_l1_on_axis_majority", f"in the {n2} drawn 2-D problems the L1 optimum "
                   "lies on an axis (a corner of the diamond) in more than half",
                   m["draws_l1_on_axis_share"], ">", 0.5, unit="of problems",
                   se=m["draws_l1_on_axis_se"]),
        Prediction("draws_l2_on_axis_minority", f"in the {n2} drawn 2-D problems the L2 optimum "
                   "lies on an axis in fewer than half", m["draws_l2_on_axis_share"], "<", 0.5,
                   unit="of problems", se=m["draws_l2_on_axis_se"]),
    ]
    for q in (str(q) for q in m["mc_p"]):
        out.append(Prediction(f"mc_p{q}_l1_zero_majority", f"p = {q}, lam = {f0:g} lam_max: the "
                              f"L1 solution has an exact zero in more than {cut:.0%} of the "
                              f"{m['mc_trials'][q]} trials", m["l1_fraction_with_zero"][q], ">",
                              cut, unit="of trials", se=m["l1_fraction_with_zero_se"][q]))
    worst = max(m["l2_fraction_with_zero"], key=m["l2_fraction_with_zero"].get)
    out.append(Prediction("mc_l2_zero_minority", f"lam = {f0:g} lam_max: the equally shrunk L2 "
                          "solution has an exact zero in fewer than half of the trials at every "
                          f"p (largest share: p = {worst})", m["l2_fraction_with_zero"][worst],
                          "<", 0.5, unit="of trials", se=m["l2_fraction_with_zero_se"][worst]))
    return out


def verify(m: dict) -> list[Verification]:
    """The exact solvers against brute force and the optimality conditions (not evidence)."""
    t = m["budget_t"]
    circle_ok = (abs(m["l2_norm_of_w_l2"] - t) <= 1e-9 if m["circle_binds"] else
                 m["w_l2_constrained"] == m["beta_hat"])
    return [
        Verification("constrained_optima_on_boundary", "the pictured L1 optimum is on the "
                     "diamond; the L2 optimum on the circle (or beta_hat, if the circle does not "
                     "bind)", bool(abs(m["l1_norm_of_w_l1"] - t) <= 1e-9 and circle_ok)),
        Verification("loss_is_mse_minus_its_minimum", "(w - b)^T H (w - b) equals MSE(w) - "
                     "MSE(b) on the data", m["mse_offset_error"] <= 1e-9,
                     f"largest error {m['mse_offset_error']:.1e}"),
        Verification("lagrangian_lam_gives_same_l1_optimum", "the penalized lasso at the "
                     "Lagrangian lam (an independent solver) gives the same L1 optimum and zeros",
                     bool(np.max(np.abs(np.subtract(m["w_l1_penalized_at_lam_equivalent"],
                                                    m["w_l1_constrained"]))) <= 1e-12 and
                          [v == 0.0 for v in m["w_l1_penalized_at_lam_equivalent"]] ==
                          [v == 0.0 for v in m["w_l1_constrained"]])),
        Verification("l2_kkt_gradient_parallel_to_w", "at the L2 optimum minus the loss "
                     "gradient is parallel to w and points outwards",
                     m["l2_kkt_sin_angle_gradient_w"] <= 1e-9 and m["l2_kkt_outward"],
                     f"sin(angle) {m['l2_kkt_sin_angle_gradient_w']:.1e}"),
        Verification("optima_beat_random_boundary_points", f"no one of {m['n_oracle']:,} random "
                     "boundary points does better", m["loss_at_w_l1"] <= m[
                         "oracle_best_loss_diamond"] + 1e-12 and m["loss_at_w_l2"] <= m[
                         "oracle_best_loss_circle"] + 1e-12),
        Verification("l2_never_on_axis_for_any_budget", f"over {m['n_budgets']} budgets the "
                     "pictured L2 optimum never has an exact zero",
                     m["l2_on_axis_budget_fraction"] == 0.0),
        Verification("mc_l1_solutions_kkt_certified", "every Monte Carlo lasso solution is "
                     "certified by its KKT conditions", m["mc_l1_uncertified"] == 0,
                     f"largest relative violation {m['mc_l1_max_relative_kkt_violation']:.1e}"),
        Verification("mc_l2_lengths_matched", "each ridge solution has its lasso solution's "
                     "length", m["mc_l2_norm_match_max_relative_error"] <= 1e-9,
                     f"largest relative error {m['mc_l2_norm_match_max_relative_error']:.1e}"),
    ]


def _picture_text(m: dict) -> str:
    b, t = m["beta_hat"], m["budget_t"]
    z1 = m["l1_zero_coordinates"]
    where = (f"{' and '.join(z1)} exactly 0.0, a corner of the diamond" if z1 else
             "both weights non-zero, on an edge of the diamond")
    circle = (f"the L2-constrained optimum is {_pair(m['w_l2_constrained'])}"
              + (" (the circle does not bind: t >= ||beta_hat||_2, so it is beta_hat)"
                 if not m["circle_binds"] else "")
              + (", both non-zero" if not m["l2_zero_coordinates"] else
                 f", {' and '.join(m['l2_zero_coordinates'])} exactly 0.0"))
    return (f"In the pictured draw (beta_hat = ({b[0]:.3f}, {b[1]:.3f}), feature correlation "
            f"{m['feature_correlation']:.2f}, t = {t:.3f}) the L1-constrained optimum is "
            f"{_pair(m['w_l1_constrained'])} - {where}; {circle}.")


def _mc_text(m: dict) -> str:
    f0, ps = m["lam_fraction"], [str(q) for q in m["mc_p"]]
    if f0 <= 0:
        note = " (lam = 0: no penalty, both solutions are the least-squares beta_hat)"
    elif f0 >= 1:
        note = (" (lam >= lam_max: every L1 solution is 0 by the definition of lam_max, and so "
                "is the ridge solution of the same length)")
    else:
        note = ""
    l1 = "; ".join(f"p = {q}: {_pm(m, 'l1', q)} of {m['mc_trials'][q]}" for q in ps)
    l2 = ", ".join(f"{_pct(m['l2_fraction_with_zero'][q])} (p = {q})" for q in ps)
    return (f"Monte Carlo at lam = {f0:g} lam_max{note}, L2 equally shrunk (same Euclidean "
            f"length): L1 had an exact zero in {l1} trials; L2 in {l2}.")


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    head = headline(outcome, predictions, holds="As the seed says: L1's optimum lands on an axis in most problems, L2's "
                   "rarely.")
    lo, hi = m["beta_norm_range"]
    r0, r1 = m["rho_range"]
    draws = (f"Over {m['n_draws_2d']} drawn 2-D least-squares problems (beta_hat in a random "
             f"direction, length in [{lo:g}, {hi:g}]; feature correlation in [{r0:g}, {r1:g}]; "
             "budget t uniform in (0, ||beta_hat||_1)) the L1-constrained optimum lay on an axis "
             f"in {_pct(m['draws_l1_on_axis_share'])} +/- {100 * m['draws_l1_on_axis_se']:.1f}% "
             f"of them, the L2-constrained one in {_pct(m['draws_l2_on_axis_share'])}.")
    verdict = " ".join([head, draws, _picture_text(m), _mc_text(m)])
    verdict += missed_text(predictions)
    by = m["l1_fraction_with_zero_by_lam_fraction"]
    fr = [f for f in m["lam_fractions"] if 0 < f < 1]
    sweep = "; ".join(f"p = {q}: " + ", ".join(_pct(by[str(f)][str(q)]) for f in fr)
                      for q in m["mc_p"])
    nuance = (
        f"A corner is touched only for some budgets: in the picture L1 sits on an axis for "
        f"t <= {m['l1_on_axis_for_budgets_up_to']:.3f} ({_pct(m['l1_on_axis_budget_fraction'])} "
        f"of the budgets between 0 and ||beta_hat||_1 = {m['beta_hat_l1_norm']:.2f}); above it "
        "the ellipse touches an edge and both weights are non-zero. In the Monte Carlo the share "
        f"of L1 solutions with a zero depends on lam: at lam / lam_max = "
        f"{', '.join(f'{f:g}' for f in fr)} it was {sweep}. A ridge solution "
        "(H + lam I)^-1 H beta_hat with finite lam has a zero coordinate only on a measure-zero "
        "set of problems.")
    return verdict, nuance
