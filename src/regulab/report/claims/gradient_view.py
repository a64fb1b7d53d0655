"""Claim gradient-view: seed 000's gradient-descent argument, run on the one-weight problem.

L1 adds a push of constant size ``lam`` (``lam * sign(w)``); L2 adds ``2 lam w``, which fades as w
approaches 0. Four optimizers of the library (:mod:`regulab.solvers`) start from the same ``w0``
with the same step on seed 000's problem ``y = 0.5 x`` and are recorded for ``n_iter`` steps.

* predictions (could fail, count toward the verdict):
  - subgradient descent on MSE + lam|w| never produces an exact 0;
  - it oscillates around 0: at least 2 sign changes over the last ``tail`` iterations (fails
    below lam*, where the L1 minimizer is not 0, at lam = 0, and when the step is too small to
    get there);
  - its amplitude (half the peak-to-peak range over the tail) is within a factor 2 of
    ``step * lam`` (the size of the push; in the steady state the iterates stay in
    ``[-step (lam - lam*), step (lam + lam*)]``, whose half-width is ``step * lam``);
  - ISTA (proximal gradient) reaches exactly 0.0 within the run and stays there (fails below
    lam*, and when the step is too small to get there within the iteration budget);
  - gradient descent on MSE + lam w^2 never produces an exact 0;
  - it approaches its minimizer geometrically: ``|w_k - w_L2|`` shrinks by a constant factor
    below 1 per step (fails when the step is too large: then it diverges).
* verifications (checks of the code): the measured L2 rate equals ``|1 - 2 step (a + lam)|``;
  the closed-form minimizers are fixed points of one ISTA step and one L2 gradient step.

A run whose iterates overflow is a measured outcome, not an error: the solver raises, and the
trajectory is kept up to its last finite iterate (:func:`_trajectory`); a run that stays finite
but runs away (``|w|`` beyond ``runaway`` times the problem's scale) counts as diverged too.
"""

from __future__ import annotations

import math

import numpy as np

from regulab.core.onedim import lam_threshold, make_one_weight_data, w_l1, w_l2
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
from regulab.solvers import gradient_descent, ista, subgradient_descent

ID = "gradient-view"
TITLE = "Gradient view: L1's push stays constant, L2's fades near 0"
SOURCE = "seed 000 (the gradient-descent argument) and seed 001 (gradient column of the table)"
STATEMENT = ("L1 regularization adds a gradient of fixed size lam at every w other than 0, so it "
             "keeps pushing w towards 0; the gradient added by L2, 2*lam*w, decreases as w "
             "approaches 0, so gradient descent on L2 slows down and never gets there.")

#: seed 000's problem and the run; ``runaway``: |w| beyond this many times the problem's scale
#: max(|w0|, |w_hat|, step*lam) counts as diverged even while finite
DEFAULTS = {"n": 100, "w_true": 0.5, "lam": 0.5, "step": 0.1, "w0": 1.0, "n_iter": 300,
            "tail": 50, "runaway": 1e3}

_METHODS = {"subgradient": "Subgradient descent", "subgradient_sqrt": "Subgradient descent "
            "(step/sqrt(k))", "ista": "ISTA", "l2": "L2 gradient descent"}


def _trajectory(run, n_iter: int, w0: float) -> tuple[np.ndarray, int | None]:
    """``run(k)`` -> iterates of k steps. Returns the iterates and the iteration at which the
    solver overflowed (None if it did not); after an overflow, the longest run that finished."""
    try:
        return run(n_iter), None
    except FloatingPointError:
        lo, hi = 0, n_iter  # lo steps finish (0: just the start), hi steps overflow
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                run(mid)
                lo = mid
            except FloatingPointError:
                hi = mid
        return (run(lo) if lo else np.array([float(w0)])), hi


def _first(mask) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _runs(data, lam: float, p: dict) -> dict:
    """The four recorded runs: ``{name: (iterates, overflow iteration or None)}``."""
    common = {"step": p["step"], "tol": 0.0, "w0": [p["w0"]]}

    def solver(fn, pen, **kw):
        return lambda k: fn(data.X, data.y, penalty=pen, max_iter=k, **common,
                            **kw).trace.w[:, 0]

    fns = {"subgradient": solver(subgradient_descent, L1(lam)),
           "subgradient_sqrt": solver(subgradient_descent, L1(lam), step_rule="sqrt"),
           "ista": solver(ista, L1(lam)), "l2": solver(gradient_descent, L2(lam))}
    return {k: _trajectory(f, p["n_iter"], p["w0"]) for k, f in fns.items()}


def _run_metrics(name, w, overflow, scale, runaway, tail) -> dict:
    """What every run reports: end, extremes, exact zeros, divergence."""
    max_abs = float(np.max(np.abs(w)))
    return {f"{name}_final_w": float(w[-1]), f"{name}_max_abs_w": max_abs,
            f"{name}_exact_zeros": int(np.sum(w == 0.0)),
            f"{name}_iterations_run": int(len(w) - 1), f"{name}_overflow_at": overflow,
            f"{name}_diverged": bool(overflow is not None or max_abs > runaway * scale),
            f"{name}_tail_max_abs_w": float(np.max(np.abs(w[-tail:])))}


def _l2_rate(w, target) -> float:
    """Median of ``|w_{k+1} - w_L2| / |w_k - w_L2|`` over the steps above rounding level."""
    err = np.abs(w - target)
    ok = (err[:-1] > 1e-12 * max(err[0], 1e-300)) & np.isfinite(err[1:])
    return float(np.median(err[1:][ok] / err[:-1][ok])) if ok.any() else float("nan")


def measure(config: ExplainConfig) -> Measured:
    """Record the four runs; see the module docstring."""
    p = dict(DEFAULTS)
    if config.lam is not None:
        p["lam"] = config.lam
    if config.step is not None:
        p["step"] = config.step
    lam, step, n_iter, tail = float(p["lam"]), float(p["step"]), p["n_iter"], p["tail"]
    data = make_one_weight_data(p["n"], p["w_true"], seed=config.seed)
    a, w_hat = data.a, data.w_hat
    lam_star = lam_threshold(a, w_hat)
    runs = _runs(data, lam, p)
    sub, prox, ridge = runs["subgradient"][0], runs["ista"][0], runs["l2"][0]
    scale = max(abs(p["w0"]), abs(w_hat), step * lam)
    metrics = {"lam": lam, "step": step, "lipschitz": 2.0 * a, "w0": p["w0"], "n_iter": n_iter,
               "tail": tail, "lam_threshold": lam_star, "mean_x2": a, "w_hat": w_hat,
               "w_l1": w_l1(a, w_hat, lam), "l2_closed_form": w_l2(a, w_hat, lam)}
    for name, (w, overflow) in runs.items():
        metrics.update(_run_metrics(name, w, overflow, scale, p["runaway"], tail))

    sub_tail = sub[-tail:]
    band = float(sub_tail.max() - sub_tail.min())
    push = step * lam
    zero_at = _first(prox == 0.0)
    metrics.update({
        "subgradient_final_abs_w": float(np.min(np.abs(sub_tail))),
        "subgradient_band_width": band,
        "subgradient_band_over_step_lam": band / push if push > 0 else None,
        "subgradient_amplitude": band / 2.0,
        "subgradient_amplitude_over_step_lam": (band / 2.0 / push if push > 0 else
                                                math.inf if band > 0 else math.nan),
        "subgradient_sign_changes_in_tail": int(np.sum(np.diff(np.sign(sub_tail)) != 0)),
        "subgradient_sqrt_final_abs_w": float(np.min(np.abs(runs["subgradient_sqrt"][0][-tail:]))),
        "ista_iterations_to_zero": zero_at,
        "ista_stays_zero": zero_at is not None and bool(np.all(prox[zero_at:] == 0.0)),
        "l2_rate_measured": _l2_rate(ridge, metrics["l2_closed_form"]),
        "l2_rate_theory": 1.0 - 2.0 * step * (a + lam),
        "l2_min_abs_w": float(np.min(np.abs(ridge))),
        "l2_final_error": float(abs(ridge[-1] - metrics["l2_closed_form"])),
        "iterations_to_abs_w_below_1e-8": {k: _first(np.abs(w) < 1e-8)
                                           for k, (w, _) in runs.items()},
    })
    metrics.update(_fixed_points(data, lam, step, metrics))
    table = Table(
        caption="Each run (n = iterations run; first k with |w| < 1e-8; none = never)",
        columns=["method", "n", "first k with |w| < 1e-8", "exact zeros", "final w"],
        rows=[[_METHODS[k], str(metrics[f"{k}_iterations_run"]),
               str(metrics["iterations_to_abs_w_below_1e-8"][k]),
               str(metrics[f"{k}_exact_zeros"]), f"{metrics[f'{k}_final_w']:.3e}"]
              for k in runs])
    grads = np.linspace(-1.0, 1.0, 401)
    data_out = {"subgradient": sub, "subgradient_sqrt": runs["subgradient_sqrt"][0],
                "ista": prox, "l2": ridge, "w_axis": grads,
                "l1_push": L1(lam).subgradient(grads), "l2_push": L2(lam).subgradient(grads)}
    return Measured(metrics, data_out, [table])


def _fixed_points(data, lam: float, step: float, m: dict) -> dict:
    """One ISTA step from w_L1 and one L2 gradient step from w_L2 (the closed forms)."""
    out = {}
    for key, fn, pen, start in (("ista_step_from_w_l1", ista, L1(lam), m["w_l1"]),
                                ("l2_step_from_w_l2", gradient_descent, L2(lam),
                                 m["l2_closed_form"])):
        try:
            out[key] = float(fn(data.X, data.y, penalty=pen, step=step, max_iter=1, tol=0.0,
                                w0=[start]).w[0])
        except FloatingPointError:
            out[key] = math.inf
    return out


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """The seed's statements as predictions about the four recorded runs."""
    tail, n = m["tail"], m["n_iter"]
    ratio = m["subgradient_amplitude_over_step_lam"]
    off = abs(math.log2(ratio)) if ratio is not None and 0 < ratio < math.inf else math.inf
    return [
        Prediction("subgradient_never_exactly_zero", "subgradient descent on MSE + lam|w| never "
                   "produces an exact 0.0", m["subgradient_exact_zeros"], "<=", 0,
                   unit="iterates"),
        Prediction("subgradient_oscillates_around_zero", f"subgradient descent oscillates "
                   f"around 0: it changes sign at least twice over the last {tail} iterations",
                   m["subgradient_sign_changes_in_tail"], ">=", 2, unit="sign changes"),
        Prediction("subgradient_amplitude_about_step_lam", f"its amplitude over the last {tail} "
                   "iterations is within a factor 2 of step*lam (|log2(amplitude / "
                   "(step*lam))| <= 1)", off, "<=", 1.0, unit="log2"),
        Prediction("ista_exactly_zero_in_finite_steps", f"ISTA reaches exactly 0.0 within {n} "
                   f"iterations and stays there (largest |w| over its last {tail})",
                   m["ista_tail_max_abs_w"], "<=", 0.0),
        Prediction("l2_never_exactly_zero", "gradient descent on MSE + lam w^2 never produces "
                   "an exact 0.0", m["l2_exact_zeros"], "<=", 0, unit="iterates"),
        Prediction("l2_approaches_geometrically", "L2 gradient descent approaches its minimizer "
                   "geometrically: |w_k - w_L2| shrinks by a constant factor below 1 per step",
                   m["l2_rate_measured"], "<", 1.0, unit="per step"),
    ]


def verify(m: dict) -> list[Verification]:
    """The library's updates against the closed forms (identities, not evidence)."""
    theory = abs(m["l2_rate_theory"])
    rate = m["l2_rate_measured"]
    return [
        Verification("l2_rate_is_1_minus_2_step_a_lam", "the measured L2 rate equals "
                     "|1 - 2 step (a + lam)|", bool(abs(rate - theory) <= 1e-6 * max(1.0, theory)),
                     f"measured {rate:.6g}, theory {theory:.6g}"),
        Verification("closed_forms_are_fixed_points", "one ISTA step from w_L1 and one L2 "
                     "gradient step from w_L2 return them (to 1e-12)",
                     bool(abs(m["ista_step_from_w_l1"] - m["w_l1"]) <= 1e-12
                          and abs(m["l2_step_from_w_l2"] - m["l2_closed_form"]) <= 1e-12),
                     f"ISTA {m['ista_step_from_w_l1']:.3g} vs {m['w_l1']:.3g}; GD "
                     f"{m['l2_step_from_w_l2']:.6g} vs {m['l2_closed_form']:.6g}"),
    ]


def _diverged_text(m: dict, key: str) -> str:
    at = m[f"{key}_overflow_at"]
    end = (f"overflowed at iteration {at}" if at is not None else
           f"ran away to |w| = {m[f'{key}_max_abs_w']:.3g} within {m[f'{key}_iterations_run']} "
           "iterations")
    return f"{_METHODS[key]} diverged: it {end}"


def _rate(r: float) -> str:
    """A factor per step, with the digits that tell it from 1."""
    return f"1 - {1 - r:.3g}" if 0 < 1 - r < 1e-3 else f"{r:.4g}"


def _progress(m: dict, key: str) -> str:
    w0, end = m["w0"], m[f"{key}_final_w"]
    share = 1.0 - abs(end) / abs(w0) if w0 else float("nan")
    return (f"it ended at w = {end:.4g} after {m[f'{key}_iterations_run']} iterations, "
            f"{share:.1%} of the way from w0 = {w0:g} to 0")


def _why_not_zero(m: dict) -> str:
    """Why the L1 runs need not reach 0 at this lam, from the numbers."""
    if m["lam"] == 0:
        return f" (lam = 0: there is no L1 push; the minimizer is w_hat = {m['w_hat']:.4g})"
    if m["lam"] < m["lam_threshold"]:
        return (f" (lam < lam*: the L1 minimizer is w_L1 = {m['w_l1']:.4g}, not 0)")
    return " (lam >= lam*, so 0 is the L1 minimizer)"


def _subgradient_text(m: dict) -> str:
    if m["subgradient_diverged"]:
        return _diverged_text(m, "subgradient")
    z, c, tail = m["subgradient_exact_zeros"], m["subgradient_sign_changes_in_tail"], m["tail"]
    s = (f"Subgradient descent produced {z} exact zero{'s' if z != 1 else ''}; over the last "
         f"{tail} iterations it changed sign {c} time{'s' if c != 1 else ''}")
    if c >= 2:
        ratio = m["subgradient_amplitude_over_step_lam"]
        rel = f" = {ratio:.2f} x step*lam" if m["lam"] > 0 else " (step*lam = 0)"
        return s + f", with amplitude {m['subgradient_amplitude']:.3g}{rel}"
    return s + "; " + _progress(m, "subgradient") + _why_not_zero(m)


def _ista_text(m: dict) -> str:
    if m["ista_diverged"]:
        return _diverged_text(m, "ista")
    k = m["ista_iterations_to_zero"]
    if k is not None and m["ista_stays_zero"]:
        return f"ISTA hit exactly 0.0 at iteration {k} and stayed there"
    if k is not None:
        return f"ISTA touched exactly 0.0 at iteration {k} but left it; {_progress(m, 'ista')}"
    return f"ISTA never reached 0: {_progress(m, 'ista')}{_why_not_zero(m)}"


def _l2_text(m: dict) -> str:
    theory = abs(m["l2_rate_theory"])
    if m["l2_diverged"]:
        return (f"{_diverged_text(m, 'l2')}, |w - w_L2| growing by a factor "
                f"{_rate(m['l2_rate_measured'])} per step (|1 - 2 step (a + lam)| = "
                f"{_rate(theory)})")
    w2, end, err = m["l2_closed_form"], m["l2_final_w"], m["l2_final_error"]
    verb = "approached" if m["l2_rate_measured"] < 1 else "did not approach"
    s = (f"L2 gradient descent {verb} w_L2 = {w2:.6g} (factor {_rate(m['l2_rate_measured'])} "
         f"per step; theory {_rate(theory)}) and was at w = {end:.6g} after "
         f"{m['l2_iterations_run']} iterations")
    s += (", w_L2 to 1e-12" if err <= 1e-12 * max(1.0, abs(w2)) else f", {err:.3g} from w_L2")
    z = m["l2_exact_zeros"]
    return s + (f"; never exactly 0 (smallest |w| {m['l2_min_abs_w']:.3g})" if z == 0 else
                f"; exactly 0 at {z} iterates")


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    lam, lam_star = m["lam"], m["lam_threshold"]
    side = "at or above" if lam >= lam_star else "below"
    head = headline(outcome, predictions, holds="As the seed says: L1's constant push takes w to 0 (ISTA exactly, subgradient "
                   "descent around it), L2's fading push only approaches w_L2.")
    setting = (f"Same start w0 = {m['w0']:g}, same step {m['step']:g}, lam = {lam:g} ({side} "
               f"lam* = 2 a |w_hat| = {lam_star:.4f}), {m['n_iter']} iterations.")
    verdict = " ".join([head, setting, _subgradient_text(m) + ".", _ista_text(m) + ".",
                        _l2_text(m) + "."])
    verdict += missed_text(predictions)
    nuance = (
        "An exact zero comes from the prox step (soft-thresholding), not from the L1 gradient: "
        "plain subgradient descent on the same objective lands on 0.0 only by a floating-point "
        "accident. With steps step/sqrt(k) its smallest |w| over the last "
        f"{m['tail']} iterations was {m['subgradient_sqrt_final_abs_w']:.2e}, with "
        f"{m['subgradient_sqrt_exact_zeros']} exact zeros. This is why lasso solvers use "
        "proximal or coordinate-wise updates.")
    return verdict, nuance
