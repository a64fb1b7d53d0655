"""Drawn problems and what is said about them: the settings of one draw, mean ± SE over draws,
and the sentence that names the predictions that failed. Shared by the claims that draw."""

from __future__ import annotations

import math

import numpy as np


def draw_problem(key, *, n, k, rho, snr) -> dict:
    """One drawn problem: ``n`` and ``k`` uniform integers, ``rho`` uniform, ``snr`` log-uniform,
    each over its ``(low, high)`` range, from ``np.random.default_rng(key)``."""
    rng = np.random.default_rng(key)
    return {"n": int(rng.integers(n[0], n[1] + 1)), "k": int(rng.integers(k[0], k[1] + 1)),
            "rho": float(rng.uniform(*rho)), "snr": float(np.exp(rng.uniform(*np.log(snr))))}


def mean_se(values) -> tuple[float | None, float | None]:
    """Mean and standard error (``std(ddof=1) / sqrt(m)``) of the finite values; None where
    undefined (no finite value; one value has no SE)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return None, None
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else None
    return float(v.mean()), se


def finite(x) -> float | None:
    """``x`` as a float, or None when it is NaN or infinite (metrics stay plain JSON)."""
    return float(x) if x is not None and math.isfinite(x) else None


def span(rows, key, fmt="{:g}") -> str:
    """``'lo to hi'`` of ``rows[*][key]`` (one value when they are all equal), for sentences."""
    lo, hi = min(r[key] for r in rows), max(r[key] for r in rows)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)} to {fmt.format(hi)}"


def missed_text(predictions) -> str:
    """``' Missed: <text> (measured <value> ± <se>); ...'`` for the counted predictions that
    failed, or ``''``."""
    out = []
    for p in predictions:
        if p.applies and not p.held:
            se = f" ± {p.se:.2g}" if p.se is not None else ""
            val = "undefined" if math.isnan(float(p.value)) else f"{float(p.value):.3g}"
            out.append(f"{p.text} (measured {val}{se}{' ' + p.unit if p.unit else ''})")
    return (" Missed: " + "; ".join(out) + ".") if out else ""


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
