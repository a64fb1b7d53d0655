"""Claim one-weight: seed 000's ``y = w x`` (true w = 0.5), made an experiment.

The seed says: MSE is 0 at w = 0.5; adding ``lam |w|`` moves the minimum to exactly 0, while adding
``lam w**2`` for the same lam only shrinks it. The closed forms (:mod:`regulab.core.onedim`) say
more precisely that L1's minimizer is exactly 0 **only when lam >= lam* = 2 mean(x^2) |w_hat|**.

The experiment measures the minimizers with iterative solvers (ISTA for L1, gradient descent for
L2) and on the plotted grid, never by the closed forms it is compared with:

* predictions (could fail, count toward the verdict):
  - at the chosen lam: ISTA's L1 minimizer is exactly 0.0 (fails below lam*, as the closed form
    says it must: then the claim holds in part, and the sentence says why);
  - at the chosen lam: the L2 minimizer is not 0 and smaller than w_hat (fails at lam = 0);
  - over a sweep of lams from 0.5 lam* to 1.5 lam* (ISTA at each): L1 is exactly 0 at the lams
    >= lam* and at none below (count of lams where that fails);
  - L2 (gradient descent) at 100 lam* is still not 0;
* verifications (checks of the code, not evidence): the MSE's grid minimum is at the true w; the
  grid argmins and the solvers agree with the closed forms.
"""

from __future__ import annotations

import numpy as np

from regulab.core.onedim import (
    lam_threshold,
    make_one_weight_data,
    mse_curve,
    symmetric_grid,
    w_l1,
    w_l2,
)
from regulab.core.penalties import L1, L2
from regulab.report.claims.base import (
    ExplainConfig,
    Measured,
    Prediction,
    Table,
    Verification,
    headline,
    missed_text,
)
from regulab.solvers import gradient_descent, ista

ID = "one-weight"
TITLE = "One weight: L1 lands on exactly 0, L2 only shrinks"
SOURCE = "seed 000 (blog post: y = w*x with true w = 0.5, MSE, |w|, w^2 and their sums)"
STATEMENT = ("With y = w*x and true w = 0.5, the mean squared error is 0 at w = 0.5. Adding "
             "lam*|w| moves the minimum to exactly w = 0 (for lam at least lam* = "
             "2*mean(x^2)*|w_hat|), while adding lam*w^2 for the same lam only shrinks it towards 0.")

#: the seed's data: n points, true weight, x ~ U(-1, 1), no noise, and a lam above lam*
DEFAULTS = {"n": 100, "w_true": 0.5, "x_spread": 1.0, "noise": 0.0, "lam": 0.5,
            "grid_spacing": 5e-4, "n_sweep": 121, "n_sweep_ista": 21}
_SOLVER = {"max_iter": 10_000, "tol": 1e-14}


def _ista_w(data, lam: float) -> tuple[float, int]:
    sol = ista(data.X, data.y, penalty=L1(lam), **_SOLVER)
    return float(sol.w[0]), sol.n_iter


def measure(config: ExplainConfig) -> Measured:
    """Solve the one-weight problem at the chosen lam and over a sweep of lams."""
    p = dict(DEFAULTS)
    if config.lam is not None:
        p["lam"] = config.lam
    lam = float(p["lam"])
    data = make_one_weight_data(p["n"], p["w_true"], p["x_spread"], p["noise"], config.seed)
    a, w_hat = data.a, data.w_hat
    lam_star = lam_threshold(a, w_hat)

    # the seed's pictures: MSE, penalties and regularized losses on a grid holding 0 exactly
    h = p["grid_spacing"]
    grid = symmetric_grid(-0.5, 1.0, h)
    mse = mse_curve(data, grid)
    reg_l1, reg_l2 = mse + lam * np.abs(grid), mse + lam * grid**2

    w_ista, n_ista = _ista_w(data, lam)
    sol_l2 = gradient_descent(data.X, data.y, penalty=L2(lam), **_SOLVER)
    # ISTA across lam*: where is the L1 minimizer exactly 0? (the solver, not the closed form).
    # The lams are drawn, so none sits on lam* itself, where rounding alone decides.
    rng = np.random.default_rng([config.seed, 1])
    ista_lams = lam_star * np.sort(rng.uniform(0.5, 1.5, p["n_sweep_ista"]))
    ista_ws = np.array([_ista_w(data, float(v))[0] for v in ista_lams])
    zero_wrong = (ista_ws == 0.0) != (ista_lams >= lam_star)
    l2_far = float(gradient_descent(data.X, data.y, penalty=L2(100.0 * lam_star),
                                    **_SOLVER).w[0])

    lams = np.linspace(0.0, max(3.0 * lam_star, 1.5 * lam), p["n_sweep"])  # the figure's sweep
    metrics = {
        "n": p["n"], "w_true": data.w_true, "w_hat": w_hat, "mean_x2": a, "lam": lam,
        "lam_threshold": lam_star, "lam_over_threshold": lam / lam_star,
        "w_l1": w_l1(a, w_hat, lam), "w_l2": w_l2(a, w_hat, lam),
        "w_l1_grid": float(grid[np.argmin(reg_l1)]), "w_l2_grid": float(grid[np.argmin(reg_l2)]),
        "grid_spacing": h, "w_l1_ista": w_ista, "w_l2_gd": float(sol_l2.w[0]),
        "ista_iterations": n_ista, "gd_iterations": sol_l2.n_iter,
        "mse_argmin_grid": float(grid[np.argmin(mse)]), "mse_min": float(np.min(mse)),
        "l2_shrink_factor": a / (a + lam),
        "ista_sweep_lams": len(ista_lams), "ista_sweep_zeros": int(np.sum(ista_ws == 0.0)),
        "ista_sweep_wrong": int(zero_wrong.sum()),
        "ista_sweep_lam_range": [float(ista_lams[0]), float(ista_lams[-1])],
        "w_l1_ista_just_below_threshold": (float(ista_ws[ista_lams < lam_star][-1])
                                           if np.any(ista_lams < lam_star) else None),
        "lam_just_below_threshold": (float(ista_lams[ista_lams < lam_star][-1])
                                     if np.any(ista_lams < lam_star) else None),
        "w_l2_at_100x_threshold": l2_far,
    }
    tables = [Table(
        caption="Minimizers at the chosen lam, three ways",
        columns=["objective", "closed form", "grid argmin", "iterative solver"],
        rows=[["MSE", f"{w_hat:.6g}", f"{metrics['mse_argmin_grid']:.6g}", "-"],
              ["MSE + lam|w|", f"{metrics['w_l1']:.6g}", f"{metrics['w_l1_grid']:.6g}",
               f"{w_ista:.6g} (ISTA)"],
              ["MSE + lam w^2", f"{metrics['w_l2']:.6g}", f"{metrics['w_l2_grid']:.6g}",
               f"{metrics['w_l2_gd']:.6g} (GD)"]])]
    data_out = {"grid": grid, "mse": mse, "reg_l1": reg_l1, "reg_l2": reg_l2, "lams": lams,
                "sweep_l1": w_l1(a, w_hat, lams), "sweep_l2": w_l2(a, w_hat, lams),
                "ista_lams": ista_lams, "ista_ws": ista_ws}
    return Measured(metrics, data_out, tables)


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """The seed's statements as measurable predictions at the measured lam and lam*."""
    lam, lam_star = m["lam"], m["lam_threshold"]
    above = lam >= lam_star
    cond = "needs lam >= lam*" if above else f"lam = {lam:g} is below lam* = {lam_star:.4g}"
    return [
        Prediction("l1_exactly_zero_at_lam", f"L1's minimizer (ISTA) is exactly 0 at the chosen "
                   f"lam = {lam:g} ({cond})", abs(m["w_l1_ista"]), "<=", 0.0),
        Prediction("l2_not_zero_at_lam", f"L2's minimizer (gradient descent) is not 0 at lam = "
                   f"{lam:g}", abs(m["w_l2_gd"]), ">", 0.0),
        Prediction("l2_shrinks_at_lam", f"L2 shrinks: its minimizer at lam = {lam:g} is smaller "
                   "than the least-squares w_hat", abs(m["w_l2_gd"]), "<", abs(m["w_hat"])),
        Prediction("l1_zero_exactly_from_threshold",
                   f"ISTA at {m['ista_sweep_lams']} random lams in [0.5, 1.5] lam*: exactly 0 at each "
                   "lam >= lam* and at none below (lams where that fails)",
                   m["ista_sweep_wrong"], "<=", 0, unit="lams"),
        Prediction("l2_not_zero_at_100_lam_star", "L2's minimizer is still not 0 at lam = 100 lam*",
                   abs(m["w_l2_at_100x_threshold"]), ">", 0.0),
    ]


def verify(m: dict) -> list[Verification]:
    """The closed forms and the code agree (identities, not evidence)."""
    h = m["grid_spacing"]
    return [
        Verification("mse_minimum_at_true_w", "the MSE's grid minimum is at the true w",
                     abs(m["mse_argmin_grid"] - m["w_true"]) <= h,
                     f"argmin {m['mse_argmin_grid']:g}, true w {m['w_true']:g}"),
        Verification("grid_matches_closed_forms", "grid argmins equal the closed forms (to the "
                     "grid step)", abs(m["w_l1_grid"] - m["w_l1"]) <= h
                     and abs(m["w_l2_grid"] - m["w_l2"]) <= h, f"grid step {h:g}"),
        Verification("solvers_match_closed_forms", "ISTA and gradient descent equal the closed "
                     "forms to 1e-9", abs(m["w_l1_ista"] - m["w_l1"]) <= 1e-9
                     and abs(m["w_l2_gd"] - m["w_l2"]) <= 1e-9,
                     f"ISTA {m['w_l1_ista']:.3g} vs {m['w_l1']:.3g}; GD {m['w_l2_gd']:.6g} vs "
                     f"{m['w_l2']:.6g}"),
    ]


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    lam, lam_star, w_hat = m["lam"], m["lam_threshold"], m["w_hat"]
    by = {p.name: p for p in predictions}
    if lam == 0:
        at_lam = (f"At lam = 0 neither penalty acts: both minimizers are w_hat = {w_hat:.4g} "
                  f"(ISTA {m['w_l1_ista']:.4g}, gradient descent {m['w_l2_gd']:.4g}).")
    else:
        l1_txt = ("exactly 0" if m["w_l1_ista"] == 0.0 else f"{m['w_l1_ista']:.4g}, not 0")
        cond = ("at or above" if lam >= lam_star else "below")
        at_lam = (f"At lam = {lam:g} ({cond} lam* = 2 mean(x^2) |w_hat| = {lam_star:.4f}): "
                  f"L1's minimizer is {l1_txt} (ISTA, {m['ista_iterations']} "
                  f"iteration{'s' if m['ista_iterations'] != 1 else ''}); L2's is {m['w_l2_gd']:.4g} = "
                  f"w_hat x {m['l2_shrink_factor']:.4g} (gradient descent).")
        if lam < lam_star:
            at_lam += (f" Below lam* the seed's 'exactly 0' does not apply: L1 subtracts "
                       f"lam/(2a) = {lam / (2 * m['mean_x2']):.4f} from w_hat and stops short of 0.")
    sweep = by["l1_zero_exactly_from_threshold"]
    span = f"{m['ista_sweep_lams']} random lams in [0.5, 1.5] lam*"
    sweep_txt = (f"Across {span}, ISTA was exactly 0 at the {m['ista_sweep_zeros']} lams >= lam* "
                 "and at none below" if sweep.held else
                 f"Across {span}, ISTA's zeros disagreed with the threshold law at "
                 f"{m['ista_sweep_wrong']} of them")
    far = (f"L2 was still {m['w_l2_at_100x_threshold']:.2e} at lam = 100 lam*"
           if by["l2_not_zero_at_100_lam_star"].held else "L2 reached exactly 0 at lam = 100 lam*")
    head = headline(outcome, predictions, holds="As the seed says (with its condition lam >= lam*).")
    verdict = f"{head} {at_lam} {sweep_txt}; {far}."
    verdict += missed_text(predictions)
    below = m.get("lam_just_below_threshold")
    below_txt = ("" if below is None else
                 f" At the largest drawn lam below it ({below / lam_star:.3f} lam*) ISTA gives "
                 f"w = {m['w_l1_ista_just_below_threshold']:.2e}, not 0.")
    nuance = (f"L1's zero is not automatic: it needs lam >= lam* = {lam_star:.4f}.{below_txt} L2 "
              "multiplies by a/(a+lam), which tends to 0 only as lam goes to infinity.")
    return verdict, nuance
