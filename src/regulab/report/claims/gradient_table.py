"""Claim gradient-table: seed 001's table row "Gradient", tested where it matters - on descents.

The seed's row: the L1 gradient has constant magnitude ``lam`` (``±lam``) except at 0, the L2
gradient is ``2 lam w``, proportional to the weight. The formulas themselves are identities of
the code, shown as verifications (each penalty's gradient against central finite differences of
its value at random ``w``; the one-sided slopes at 0). What the row predicts about an
*optimization* is that, as gradient descent moves a weight towards 0, the push the L1 term adds
to each step keeps its size while the push of the L2 term fades with the weight.

The experiment draws ``n_draws`` one-weight problems ``a (w - w_hat)**2 + penalty`` (seed 000's
design: ``a = mean(x**2)`` of ``n`` points ``x ~ U(-1, 1)``) with the least-squares weight
``w_hat ~ U(-1, 1)``: from an irrelevant feature (0) to twice the seed's 0.5, either sign, so
neither "L1 reaches 0" nor "L2 stays large" is built in. Each descent starts at ``w_hat`` (the
unpenalized fit: the penalty is then what moves it) and runs ``n_iter`` steps of the chosen step
size and lam (``--lam``, ``--step``): plain gradient descent with the L1 gradient
(``lam sign(w)``, i.e. subgradient descent) and with the L2 gradient (``2 lam w``). The push of a
step is measured from the iterates, ``|(w_k - step g(w_k)) - w_{k+1}| / step`` with ``g`` the
loss gradient, i.e. what the penalty added to that step. Predictions (means over the draws, with
standard errors):

* the L2 push fades along its descent and the L1 push does not: the mean of ``F1 - F2`` is
  positive, where ``F = push at the last step / push at the first`` (0/0 counts as 1: no push,
  nothing fades; a diverged descent counts as infinite);
* where the descents end, an L1 step pushes harder than an L2 step: the mean of
  ``push_L2 / push_L1`` at the last step is below 1;
* the L1 descent gets closer to 0 than the L2 descent in more than half of the draws (a sign
  test: ties, e.g. at lam = 0, count against).
"""

from __future__ import annotations

import math

import numpy as np

from regulab.core.onedim import descend_parabola
from regulab.core.penalties import L1, L2, ElasticNet
from regulab.report.claims.base import (
    ExplainConfig,
    Measured,
    Prediction,
    Table,
    Verification,
    headline,
    missed_text,
)

ID = "gradient-table"
TITLE = "The gradient table: ±lam for L1, 2·lam·w for L2"
SOURCE = "seed 001 (Q&A note, 'Key Differences' table: Gradient row)"
STATEMENT = ("The L1 penalty lam*sum|w| has a gradient of constant magnitude (±lam) except at 0, "
             "where it is not differentiable; the L2 penalty lam*sum w^2 has gradient 2*lam*w, "
             "proportional to the weight.")

DEFAULTS = {"lam": 0.5, "n_points": 2000, "h": 1e-6, "l1_ratio": 0.5,
            "step": 0.1, "n_draws": 200, "n": 100, "n_iter": 300, "w_hat_range": (-1.0, 1.0),
            "runaway": 1e3}


def finite_difference(f, w, h):
    """Central differences ``(f(w + h e_j) - f(w - h e_j)) / 2h`` of a separable penalty, per
    entry."""
    w = np.asarray(w, dtype=float)
    return np.array([(f(np.array([wj + h])) - f(np.array([wj - h]))) / (2 * h) for wj in w])


def _formula_checks(lam: float, p: dict, rng) -> tuple[dict, dict, Table]:
    """The row's formulas against finite differences: ``(metrics, figure data, table)``."""
    h = p["h"]
    # random weights on every scale from 1e-4 to 10, both signs, away from the kink by >> h
    w = rng.choice([-1.0, 1.0], p["n_points"]) * 10.0 ** rng.uniform(-4, 1, p["n_points"])
    pens = {"l1": L1(lam), "l2": L2(lam), "elasticnet": ElasticNet(lam, p["l1_ratio"])}
    fd = {k: finite_difference(pen.value, w, h) for k, pen in pens.items()}
    an = {k: pen.subgradient(w) for k, pen in pens.items()}
    err = {k: float(np.max(np.abs(fd[k] - an[k]))) for k in pens}
    l1_mag, l2_ratio = np.abs(fd["l1"]), fd["l2"] / w
    zero = np.array([0.0])
    right = {k: (pen.value(np.array([h])) - pen.value(zero)) / h for k, pen in pens.items()}
    left = {k: (pen.value(zero) - pen.value(np.array([-h]))) / h for k, pen in pens.items()}
    m = {"lam": lam, "n_points": p["n_points"], "fd_step": h,
         "fd_tolerance": 1e-6 * max(1.0, lam) + 2e-8 * max(1.0, lam),
         "w_abs_range": [float(np.min(np.abs(w))), float(np.max(np.abs(w)))],
         "max_abs_error_l1": err["l1"], "max_abs_error_l2": err["l2"],
         "max_abs_error_elasticnet": err["elasticnet"],
         "l1_gradient_magnitude_min": float(l1_mag.min()),
         "l1_gradient_magnitude_max": float(l1_mag.max()),
         "l2_gradient_over_w_min": float(l2_ratio.min()) + 0.0,   # + 0.0: no "-0" at lam = 0
         "l2_gradient_over_w_max": float(l2_ratio.max()) + 0.0,
         "l1_right_derivative_at_0": right["l1"], "l1_left_derivative_at_0": left["l1"],
         "l2_right_derivative_at_0": right["l2"], "l2_left_derivative_at_0": left["l2"],
         "l1_gradient_at_1e-6": float(pens["l1"].subgradient(np.array([1e-6]))[0]),
         "l2_gradient_at_1e-6": float(pens["l2"].subgradient(np.array([1e-6]))[0]),
         "l1_min_norm_subgradient_at_0": float(pens["l1"].subgradient(zero)[0])}
    table = Table(
        caption="Verification: the row's formulas against finite differences of the penalties",
        columns=["penalty", "seed says", "measured |gradient| range (w != 0)",
                 "max |analytic - finite diff|", "slopes at w = 0 (right, left)"],
        rows=[["L1: lam·Σ|w|", "±lam except at 0", f"[{l1_mag.min():.6g}, {l1_mag.max():.6g}]",
               f"{err['l1']:.1e}", f"{right['l1']:+.6g}, {left['l1']:+.6g}"],
              ["L2: lam·Σw²", "2·lam·w",
               f"[{np.abs(fd['l2']).min():.3g}, {np.abs(fd['l2']).max():.3g}] = 2 lam |w|",
               f"{err['l2']:.1e}", f"{right['l2']:+.1e}, {left['l2']:+.1e}"],
              [f"elastic net (rho = {p['l1_ratio']:g})", "rho·lam·sign(w) + 2(1-rho)·lam·w",
               f"[{np.abs(fd['elasticnet']).min():.3g}, {np.abs(fd['elasticnet']).max():.3g}]",
               f"{err['elasticnet']:.1e}",
               f"{right['elasticnet']:+.6g}, {left['elasticnet']:+.6g}"]])
    order = np.argsort(np.abs(w))
    data = {"w": w[order], "fd_l1": fd["l1"][order], "fd_l2": fd["l2"][order],
            "an_l1": an["l1"][order], "an_l2": an["l2"][order]}
    return m, data, table


def _ratio(num, den):
    """``num / den`` elementwise with 0/0 = 1 (no push: nothing changed) and non-finite = inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 1.0))
    return np.where(np.isfinite(r), r, np.inf)


def _mean_se(x) -> tuple[float, float | None]:
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = float(np.mean(x))
        se = float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return mean, (se if math.isfinite(se) and math.isfinite(mean) else None)


def _descents(lam: float, step: float, p: dict, rng) -> tuple[dict, dict]:
    """Subgradient (L1) and gradient (L2) descents on the drawn parabolas, and their pushes."""
    x = rng.uniform(-1.0, 1.0, (p["n_draws"], p["n"]))
    a = np.mean(x * x, axis=1)
    w_hat = rng.uniform(*p["w_hat_range"], p["n_draws"])
    runs = {"l1": descend_parabola(a, w_hat, lam, step, w_hat, p["n_iter"], "subgradient_l1"),
            "l2": descend_parabola(a, w_hat, lam, step, w_hat, p["n_iter"], "gradient_l2")}
    push, diverged = {}, {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k, w in runs.items():
            plain = w[:-1] - step * 2.0 * a * (w[:-1] - w_hat)    # the loss's step alone
            push[k] = np.abs(plain - w[1:]) / step
            # overflowed, or ran away far beyond the problem's scale (as in gradient-view)
            scale = np.maximum(np.abs(w_hat), step * lam)
            diverged[k] = ~np.all(np.isfinite(w), axis=0) | (
                np.nanmax(np.abs(w), axis=0) > p["runaway"] * np.maximum(scale, 1e-300))
    fade = {k: _ratio(push[k][-1], push[k][0]) for k in runs}
    fade = {k: np.where(diverged[k], np.inf, v) for k, v in fade.items()}
    end_ratio = np.where(diverged["l2"] | diverged["l1"], np.inf,
                         _ratio(push["l2"][-1], push["l1"][-1]))
    closest = {k: np.where(diverged[k], np.inf, np.nanmin(np.abs(w), axis=0))
               for k, w in runs.items()}
    closer = closest["l1"] < closest["l2"]
    # the pushes the steps applied are the penalties' gradients at the iterates (a check)
    with np.errstate(over="ignore", invalid="ignore"):
        pen = {"l1": lam * np.abs(np.sign(runs["l1"][:-1])),
               "l2": 2 * lam * np.abs(runs["l2"][:-1])}
        ok = {k: np.isfinite(push[k]) & np.isfinite(pen[k]) for k in runs}
        gap = max(float(np.max(np.abs(push[k] - pen[k])[ok[k]] / np.maximum(1.0, pen[k][ok[k]]),
                            initial=0.0)) for k in runs)
    diff_mean, diff_se = _mean_se(fade["l1"] - fade["l2"]) if lam > 0 else (0.0, None)
    ratio_mean, ratio_se = _mean_se(end_ratio)
    share = float(np.mean(closer))
    m = {"descent_lam": lam, "descent_step": step, "n_draws": p["n_draws"],
         "descent_iterations": p["n_iter"], "w_hat_range": list(p["w_hat_range"]),
         "push_fade_l1_mean": _mean_se(fade["l1"])[0], "push_fade_l2_mean": _mean_se(fade["l2"])[0],
         "push_fade_difference_mean": diff_mean, "push_fade_difference_se": diff_se,
         "end_push_ratio_l2_over_l1_mean": ratio_mean, "end_push_ratio_se": ratio_se,
         "l1_closer_to_zero_share": share,
         "l1_closer_to_zero_se": math.sqrt(share * (1 - share) / p["n_draws"]),
         "diverged_l1": int(diverged["l1"].sum()), "diverged_l2": int(diverged["l2"].sum()),
         "closest_abs_w_l1_median": float(np.median(closest["l1"])),
         "closest_abs_w_l2_median": float(np.median(closest["l2"])),
         "draws_below_lam_threshold": int(np.sum(lam < 2 * a * np.abs(w_hat))),
         "push_minus_penalty_gradient_max": gap}
    data = {"push_l1": push["l1"], "push_l2": push["l2"], "w_hat_draws": w_hat, "a_draws": a}
    return m, data


def measure(config: ExplainConfig) -> Measured:
    """The formulas (verifications) and the descents on drawn problems (predictions)."""
    p = dict(DEFAULTS)
    lam = float(config.lam if config.lam is not None else p["lam"])
    step = float(config.step if config.step is not None else p["step"])
    m, data, table = _formula_checks(lam, p, np.random.default_rng(config.seed))
    dm, ddata = _descents(lam, step, p, np.random.default_rng([config.seed, 1]))
    m.update(dm)
    data.update(ddata)
    f = "{:.3g}".format
    descent = Table(
        caption=(f"The pushes on {p['n_draws']} drawn descents (lam = {lam:g}, step {step:g}, "
                 f"{p['n_iter']} steps from w_hat): mean over draws"),
        columns=["penalty", "push at the last step / at the first", "closest |w| to 0 (median)",
                 "diverged"],
        rows=[["L1 (subgradient descent)", f(m["push_fade_l1_mean"]),
               f(m["closest_abs_w_l1_median"]), str(m["diverged_l1"])],
              ["L2 (gradient descent)", f(m["push_fade_l2_mean"]),
               f(m["closest_abs_w_l2_median"]), str(m["diverged_l2"])]])
    return Measured(m, data, [table, descent])


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """The row's consequence for an optimization, measured on the drawn descents."""
    n = m["n_draws"]
    return [
        Prediction("l2_push_fades_l1_push_does_not", f"along the descents the L2 push fades and "
                   f"the L1 push does not: mean over {n} draws of (L1 push at the last step / "
                   "first) - (L2 push at the last step / first) is positive",
                   m["push_fade_difference_mean"], ">", 0.0, se=m["push_fade_difference_se"]),
        Prediction("l1_push_beats_l2_where_descents_end", "where the descents end, an L1 step "
                   "pushes harder than an L2 step: mean of push_L2 / push_L1 at the last step "
                   "is below 1", m["end_push_ratio_l2_over_l1_mean"], "<", 1.0,
                   se=m["end_push_ratio_se"]),
        Prediction("l1_descent_closer_to_zero", "the L1 descent gets closer to 0 than the L2 "
                   "descent in more than half of the draws", m["l1_closer_to_zero_share"], ">",
                   0.5, unit="of draws", se=m["l1_closer_to_zero_se"]),
    ]


def verify(m: dict) -> list[Verification]:
    """The formulas of the row (identities of the code, not evidence)."""
    lam, tol = m["lam"], m["fd_tolerance"]
    r, l_ = m["l1_right_derivative_at_0"], m["l1_left_derivative_at_0"]
    slopes = ("one-sided slopes of lam|w| at 0 are +lam and -lam (a kink of size 2 lam)"
              if lam > 0 else "at lam = 0 the penalties are 0: both one-sided slopes are 0")
    return [
        Verification("analytic_equals_finite_difference", "each penalty's (sub)gradient equals "
                     "central finite differences of its value", max(
                         m["max_abs_error_l1"], m["max_abs_error_l2"],
                         m["max_abs_error_elasticnet"]) <= tol,
                     f"max errors {m['max_abs_error_l1']:.1e} (L1), {m['max_abs_error_l2']:.1e} "
                     f"(L2), {m['max_abs_error_elasticnet']:.1e} (elastic net)"),
        Verification("l1_magnitude_constant_lam", "|L1 gradient| = lam at every sampled w != 0",
                     max(abs(m["l1_gradient_magnitude_min"] - lam),
                         abs(m["l1_gradient_magnitude_max"] - lam)) <= tol,
                     f"range [{m['l1_gradient_magnitude_min']:.9g}, "
                     f"{m['l1_gradient_magnitude_max']:.9g}]"),
        Verification("l2_gradient_is_2_lam_w", "L2 gradient / w = 2 lam at every sampled w",
                     max(abs(m["l2_gradient_over_w_min"] - 2 * lam),
                         abs(m["l2_gradient_over_w_max"] - 2 * lam)) <= 1e-4 * max(lam, 1),
                     f"range [{m['l2_gradient_over_w_min']:.6g}, "
                     f"{m['l2_gradient_over_w_max']:.6g}]"),
        Verification("l1_slopes_at_zero", slopes, abs(r - lam) <= tol and abs(l_ + lam) <= tol,
                     f"right {r:+.6g}, left {l_:+.6g}"),
        Verification("l2_smooth_at_zero", "L2's one-sided slopes at 0 agree (gradient 0)",
                     abs(m["l2_right_derivative_at_0"] - m["l2_left_derivative_at_0"])
                     <= 4 * lam * m["fd_step"] + 1e-15,
                     f"right {m['l2_right_derivative_at_0']:+.1e}, left "
                     f"{m['l2_left_derivative_at_0']:+.1e}"),
        Verification("min_norm_subgradient_at_zero_is_0", "the L1 subgradient the solvers use at "
                     "exactly 0 is 0", m["l1_min_norm_subgradient_at_0"] == 0.0),
        Verification("pushes_are_the_penalty_gradients", "the push measured from each descent "
                     "step equals the penalty's gradient at the iterate (to rounding)",
                     m["push_minus_penalty_gradient_max"] <= 1e-9,
                     f"largest gap {m['push_minus_penalty_gradient_max']:.1e}"),
    ]


def _descent_text(m: dict) -> str:
    n, lam = m["n_draws"], m["descent_lam"]
    s = (f"On {n} drawn one-weight problems (w_hat ~ U({m['w_hat_range'][0]:g}, "
         f"{m['w_hat_range'][1]:g}), {m['descent_iterations']} steps of {m['descent_step']:g} from "
         f"w_hat, lam = {lam:g}):")
    if lam == 0:
        return s + (" at lam = 0 neither penalty adds anything to a step - there is no push to "
                    "keep or to fade, and the two descents are the same.")
    div = [f"{m['diverged_' + k]} {k.upper()} descents diverged" for k in ("l1", "l2")
           if m["diverged_" + k]]
    fade2 = m["push_fade_l2_mean"]
    s += (f" the L1 push at the last step was on average {m['push_fade_l1_mean']:.3g} x its first, "
          f"the L2 push {fade2:.3g} x (difference {m['push_fade_difference_mean']:.3g}"
          + (f" +/- {m['push_fade_difference_se']:.2g}" if m["push_fade_difference_se"] else "")
          + f"); at the last step push_L2 / push_L1 averaged "
          f"{m['end_push_ratio_l2_over_l1_mean']:.3g}; the L1 descent came closer to 0 in "
          f"{m['l1_closer_to_zero_share']:.1%} of the draws (median closest |w|: "
          f"{m['closest_abs_w_l1_median']:.2g} for L1, {m['closest_abs_w_l2_median']:.2g} for L2)")
    return s + (" (" + "; ".join(div) + ")." if div else ".")


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    lam = m["lam"]
    head = headline(outcome, predictions,
                    holds="As the seed's row implies for an optimization: the L1 push keeps its "
                          "size along a descent, the L2 push fades with the weight.",
                    fails="The descents contradict what the row implies: {tally}.",
                    part="What the row implies holds only in part: {tally}.")
    formulas = (
        f"The formulas themselves are identities, checked on {m['n_points']} random w (|w| from "
        f"{m['w_abs_range'][0]:.1e} to {m['w_abs_range'][1]:.1f}, h = {m['fd_step']:g}): "
        f"|L1 gradient| in [{m['l1_gradient_magnitude_min']:.9f}, "
        f"{m['l1_gradient_magnitude_max']:.9f}], L2 gradient / w in "
        f"[{m['l2_gradient_over_w_min']:.6f}, {m['l2_gradient_over_w_max']:.6f}].")
    verdict = " ".join([head, _descent_text(m), formulas])
    verdict += missed_text(predictions)
    below = m["draws_below_lam_threshold"]
    if lam > 0:
        nuance = (f"'±lam except at 0' is exact: at w = 1e-6 the L1 gradient is still "
                  f"{m['l1_gradient_at_1e-6']:g}, L2's {m['l2_gradient_at_1e-6']:.1e}; at 0 "
                  "itself L1 has a whole interval [-lam, lam] of subgradients. A constant push "
                  f"does not mean the weight reaches 0: in {below} of the {m['n_draws']} draws "
                  "lam < lam* = 2 a |w_hat|, where the loss pulls harder than lam and the L1 "
                  "minimizer is not 0.")
    else:
        nuance = ("At lam = 0 there is no penalty: no kink at 0, no push, and the table's "
                  "contrast does not arise.")
    return verdict, nuance
