"""Source columns into columns of the design: numbers as they are, text one-hot encoded.

Text columns are one-hot encoded with **one reference level dropped**: a column with k levels
gives k-1 indicators (``color=green``, ``color=red`` with reference ``blue``). The reference is
the most frequent level on the rows kept for the fit, ties broken by the sorted order. Why: with
one indicator per level the indicators sum to 1 on every row, so after standardization they are
exactly collinear (for two levels, one is minus the other); the lasso solution is then not unique
and a level can come out "kept" with a coefficient of rounding size (-2.5e-13). With k-1
indicators the support is well defined: an indicator's coefficient is the shift of its level
against the reference level. Levels are sorted (numerically when they all look like numbers).
A level unseen in training gives all zeros in that column's indicators, i.e. it is read as the
reference level (reported).

Preparations stored before this rule (format version 1) keep their one-indicator-per-level
encoding (``reference`` is None): their models predict as they were fitted.

Missing values follow the policy: ``'drop'`` leaves the row out, ``'mean'`` fills the training
mean (for a categorical column, its indicators get the training level frequencies, i.e. 0 after
standardization), ``'error'`` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regulab.data.checks import check_design_memory, check_magnitude
from regulab.data.errors import DataError
from regulab.data.messages import plural, show, show_list, show_row
from regulab.data.values import floats, fmt_num, sort_levels, texts


@dataclass
class ColumnSpec:
    """How one source column becomes columns of X."""

    name: str
    kind: str                       # "numeric" or "categorical"
    levels: list | None = None      # categorical: every level text, sorted
    fill: list = field(default_factory=list)   # raw values used for missing ('mean' policy)
    reference: str | None = None    # categorical: the level without an indicator (None: every
    #                                 level has one, as in format-1 preparations)

    @property
    def indicator_levels(self) -> list[str]:
        """The levels with an indicator column, in order (every level but the reference)."""
        return [lv for lv in self.levels if lv != self.reference]

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.indicator_levels)

    def output_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={lv}" for lv in self.indicator_levels]


def feature_groups(specs) -> list[str]:
    """The source column of each column of X, in order: a categorical column's indicators share
    its name (one group of the group lasso, :mod:`regulab.core.groups`), a numeric column is a
    group of its own."""
    return [spec.name for spec in specs for _ in range(spec.width)]


def column_spec(s: pd.Series, name: str, kind: str, after_drop: str):
    """``(ColumnSpec, None)`` for a column of the rows kept, or ``(None, why it is dropped)`` when
    it is constant there. Its fill: the mean (numeric) or the level frequencies (categorical)."""
    na = s.isna().to_numpy()
    if kind == "numeric":
        vals = floats(s)[~na]
        if vals.size == 0 or vals.min() == vals.max():
            return None, (f"constant{after_drop} (every value is {fmt_num(vals[0])})"
                          if vals.size else "no values left")
        return ColumnSpec(name, "numeric", None, [float(np.mean(vals))]), None
    values = texts(s)[~na]
    levels = sort_levels(pd.unique(values).tolist())
    if len(levels) <= 1:
        return None, (f"constant{after_drop} (every value is {show(levels[0])})"
                      if levels else "no values left")
    codes = pd.Index(levels).get_indexer(values)
    counts = np.bincount(codes, minlength=len(levels))
    reference = levels[int(np.argmax(counts))]  # the most frequent; argmax takes the first tie
    freq = [float(c / len(codes)) for lv, c in zip(levels, counts) if lv != reference]
    return ColumnSpec(name, "categorical", levels, freq, reference), None


def one_hot_line(spec: ColumnSpec) -> str:
    """The report line of a one-hot encoded column."""
    if spec.reference is None:
        return (f"column {show(spec.name)}: one-hot encoded into {spec.width} indicator columns, "
                f"one per level, no reference level ({show_list(spec.levels, 8)})")
    return (f"column {show(spec.name)}: one-hot encoded into {spec.width} indicator column"
            f"{'s' if spec.width != 1 else ''} ({show_list(spec.indicator_levels, 8)}) against "
            f"the reference level {show(spec.reference)} (the most frequent, ties by sorted "
            f"order), which has none")


def _numeric_into(X, off, s, na, spec, missing, src) -> None:
    vals = floats(s)
    bad = np.flatnonzero(np.isnan(vals) & ~na)
    if bad.size:
        raise DataError(f"{src}: column {show(spec.name)} holds {show(s.iloc[bad[0]])} at "
                        f"{show_row(bad[0])}, but the model reads it as a number")
    check_magnitude(vals, f"column {show(spec.name)}", src)
    if missing == "mean" and na.any():
        vals = np.where(na, spec.fill[0], vals)
    X[:, off] = vals


def _indicators_into(X, off, s, na, spec, missing, notes) -> None:
    values = texts(s)
    codes = pd.Index(spec.indicator_levels).get_indexer(values)
    unseen = (pd.Index(spec.levels).get_indexer(values) < 0) & ~na
    rows = np.flatnonzero(codes >= 0)
    X[rows, off + codes[rows]] = 1.0
    if unseen.any():
        new = list(dict.fromkeys(values[unseen].tolist()))
        as_ref = (f", as for the reference level {show(spec.reference)}"
                  if spec.reference is not None else "")
        notes.append(f"column {show(spec.name)}: {plural(int(unseen.sum()))} hold levels "
                     f"unseen in training ({show_list(new, 4)}): all its indicators are 0{as_ref}")
    if missing == "mean" and na.any():
        X[np.ix_(na, np.arange(off, off + spec.width))] = np.asarray(spec.fill)


def encode_design(df, lookup, specs, missing, src):
    """Raw (unstandardized) design of ``df`` under ``specs``: ``(X, kept row positions, notes)``."""
    n = len(df)
    width = sum(s.width for s in specs)
    check_design_memory(n, width, src)
    X = np.zeros((n, width))
    miss_any = np.zeros(n, dtype=bool)
    notes = []
    off = 0
    for spec in specs:
        s = df[lookup[spec.name]]
        na = s.isna().to_numpy()
        if spec.kind == "numeric":
            _numeric_into(X, off, s, na, spec, missing, src)
        else:
            _indicators_into(X, off, s, na, spec, missing, notes)
        if na.any():
            if missing == "error":
                first = np.flatnonzero(na)[0]
                raise DataError(f"{src}: column {show(spec.name)} has {int(na.sum()):,} missing "
                                f"values (first at {show_row(first)}) and --missing error refuses "
                                f"them; use --missing drop or --missing mean")
            miss_any |= na
            if missing == "mean":
                notes.append(f"column {show(spec.name)}: {int(na.sum()):,} missing values filled "
                             f"with the training mean (--missing mean)")
        off += spec.width
    keep = np.arange(n)
    if missing == "drop" and miss_any.any():
        keep = np.flatnonzero(~miss_any)
        notes.append(f"left out {plural(int(miss_any.sum()))} with a missing feature value "
                     f"(--missing drop)")
        X = X[keep]
    return X, keep, notes
