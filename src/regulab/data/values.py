"""The values of one column: its kind (numeric, text, date/time), as floats or as level texts.

A categorical value has one text whatever type it arrives as (``1``, ``1.0`` and ``'1'`` are the
level ``'1'``), so a preparation fitted on a CSV column applies to the same column read from
Parquet or typed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pandas.api import types as ptypes


def level_text(v) -> str:
    """The text of a categorical value, the same whether it arrives as 1, 1.0 or '1'."""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    return str(v)


def texts(s: pd.Series) -> np.ndarray:
    """Object array of level texts, None where missing."""
    miss = s.isna().to_numpy()
    if ptypes.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        out = s.to_numpy(dtype=object, na_value=None)
        if all(isinstance(v, str) for v in out[~miss][:1000]):
            return out
    vals = s.to_numpy(dtype=object)
    return np.array([None if m else level_text(v) for v, m in zip(vals, miss)], dtype=object)


def value_kind(s: pd.Series) -> str:
    """``'numeric'`` (numbers, booleans), ``'text'``, ``'datetime'`` or ``'unsupported'``."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return "text"
    if ptypes.is_bool_dtype(dt):
        return "numeric"
    if ptypes.is_complex_dtype(dt):
        return "unsupported"
    if ptypes.is_numeric_dtype(dt):
        return "numeric"
    if ptypes.is_datetime64_any_dtype(dt) or ptypes.is_timedelta64_dtype(dt) or isinstance(
            dt, pd.PeriodDtype):
        return "datetime"
    if dt == object:
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "boolean"):
            return "numeric"
        if inferred in ("datetime", "datetime64", "date", "time", "timedelta", "period"):
            return "datetime"
    return "text"


def floats(s: pd.Series) -> np.ndarray:
    """float64 values, NaN where missing or not a number."""
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype) or s.dtype == object:
        try:
            return s.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            pass
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def fmt_num(v) -> str:
    """A number in a message: integers whole, others with 6 significant digits."""
    return level_text(v) if isinstance(v, (int, np.integer, bool, np.bool_)) else f"{v:.6g}"


def sort_levels(levels) -> list[str]:
    """Level texts sorted: numerically those that read as finite numbers, then the others."""
    def key(t):
        try:
            f = float(t)
            if math.isfinite(f):
                return (0, f, t)
        except ValueError:
            pass
        return (1, 0.0, t)
    return sorted(levels, key=key)


def numeric_tokens(values: np.ndarray):
    """For text values that are mostly numbers: (non-numeric tokens, their row count), else None."""
    counts = pd.Series(values, dtype=object).value_counts(sort=False)
    nums = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce").to_numpy()
    bad = np.isnan(nums.astype(float))
    n_bad = int(counts.to_numpy()[bad].sum())
    if n_bad == 0 or n_bad > 0.5 * len(values) or bad.sum() > 5:
        return None
    return [str(t) for t in counts.index[bad]], n_bad
