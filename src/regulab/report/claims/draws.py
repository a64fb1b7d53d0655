"""Drawn problems and what is said about them: the settings of one draw, mean +/- SE over draws,
the rule that decides when one mean beats another, and the sentences that report them. Shared
by the claims that draw.

A claim that repeats its experiment over drawn settings reports each quantity as mean +/- SE over
the draws (``SE = sd / sqrt(k)``, ``ddof = 1``). Every method is measured on the same draws (same
data, same test rows), so two methods are compared by their per-draw differences ``d_i``: one
*beats* the other when ``mean(d) > WIN_SE * SE(d)``, i.e. the advantage is larger than the noise
of the draws. A difference the draws do not resolve is not a win. Draws where either value is
not finite (e.g. an undefined calibration slope) are left out of the comparison.
"""

from __future__ import annotations

import math

import numpy as np

from regulab.report.claims.base import Prediction

#: a win is a difference of means larger than this many standard errors of the difference
WIN_SE = 2.0


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error of the finite values (``nan`` mean when none, ``nan`` SE when
    fewer than two)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    se = float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
    return float(v.mean()), se


def gap(lower, higher) -> tuple[float, float]:
    """Mean and SE of the per-draw differences ``higher_i - lower_i`` (paired draws)."""
    return mean_se(np.asarray(higher, dtype=float) - np.asarray(lower, dtype=float))


def beats(name: str, text: str, lower, higher, unit: str = "") -> Prediction:
    """The prediction "``lower`` is below ``higher`` by more than WIN_SE standard errors", on
    paired draws: value the mean difference ``mean(higher_i - lower_i)``, threshold
    ``WIN_SE * SE`` of that difference."""
    diff, se = gap(lower, higher)
    return Prediction(name, text, diff, ">", WIN_SE * se, unit=unit, se=se)


def pm(mean: float, se: float, digits: int = 3) -> str:
    """``'0.163 +- 0.023'`` (the SE left out when it is not a number; a value too small for
    ``digits`` decimals in two significant digits, so it never reads 0.000 when it is not 0)."""
    def num(v):
        small = math.isfinite(v) and v != 0 and abs(v) < 0.5 * 10.0 ** -digits
        return f"{v:.2g}" if small else f"{v:.{digits}f}"
    return num(mean) if not math.isfinite(se) else f"{num(mean)} +- {num(se)}"


def in_se(value: float, se: float | None) -> str:
    """``value`` in standard errors, in words: ``'4.62 SE'``, ``'SE 0'``, ``'no SE'``."""
    if se is None or not math.isfinite(se):
        return "no SE: under 2 draws"
    return "SE 0" if se == 0 else f"{value / se:.2f} SE"


def gap_words(pred: Prediction, lower: str, higher: str) -> str:
    """How a :func:`beats` prediction came out, in words true for every outcome, e.g.
    ``"L1's error is below L2's by 0.212 +- 0.046 (4.6 SE: a win by the 2-SE rule)"``
    (``lower`` and ``higher`` are noun phrases)."""
    diff, se = float(pred.value), pred.se if pred.se is not None else float("nan")
    if math.isnan(diff):
        return f"{lower} vs {higher}: not measurable (no finite value)"
    size = pm(abs(diff), se)
    if diff <= 0:
        return (f"{lower} is not below {higher}: "
                f"{'they are equal' if diff == 0 else f'it is above by {size}'}")
    z_txt = in_se(diff, se)
    verdict = (f"a win by the {WIN_SE:g}-SE rule" if pred.held else
               f"within noise: not a win by the {WIN_SE:g}-SE rule")
    return f"{lower} is below {higher} by {size} ({z_txt}: {verdict})"


def draw_problem(key, *, n, k, rho, snr) -> dict:
    """One drawn problem: ``n`` and ``k`` uniform integers, ``rho`` uniform, ``snr`` log-uniform,
    each over its ``(low, high)`` range, from ``np.random.default_rng(key)``."""
    rng = np.random.default_rng(key)
    return {"n": int(rng.integers(n[0], n[1] + 1)), "k": int(rng.integers(k[0], k[1] + 1)),
            "rho": float(rng.uniform(*rho)), "snr": float(np.exp(rng.uniform(*np.log(snr))))}


def mean_se_or_none(values) -> tuple[float | None, float | None]:
    """:func:`mean_se` with None where it is undefined (no finite value; one value has no SE),
    for metrics that stay plain JSON."""
    mean, se = mean_se(values)
    return finite(mean), finite(se)


def finite(x) -> float | None:
    """``x`` as a float, or None when it is NaN or infinite (metrics stay plain JSON)."""
    return float(x) if x is not None and math.isfinite(x) else None


def span(rows, key, fmt="{:g}") -> str:
    """``'lo to hi'`` of ``rows[*][key]`` (one value when they are all equal), for sentences."""
    lo, hi = min(r[key] for r in rows), max(r[key] for r in rows)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)} to {fmt.format(hi)}"


def fixed_or_range(m: dict, key: str) -> str:
    """``'n = 200'`` when ``m[key + '_fixed']`` is set, else ``'n 50-400'`` from
    ``m[key + '_range']``: a draw's size as the verdicts write it."""
    fixed = m[f"{key}_fixed"]
    if fixed is not None:
        return f"{key} = {fixed}"
    return f"{key} {m[f'{key}_range'][0]}-{m[f'{key}_range'][1]}"


def pct(x) -> str:
    """``0.62`` -> ``'62 %'`` (``'undefined'`` for None)."""
    return "undefined" if x is None else f"{100 * x:.0f} %"


def mean_pct(stat: dict) -> str:
    """``'62 % ± 4 %'`` from ``{"mean", "se"}`` (``'undefined'`` without a mean)."""
    if stat["mean"] is None:
        return "undefined"
    return pct(stat["mean"]) + ("" if stat["se"] is None else f" ± {100 * stat['se']:.0f} %")


def fmt2(x) -> str:
    """Two decimals, ``'-'`` for None (table cells)."""
    return "-" if x is None else f"{x:.2f}"
