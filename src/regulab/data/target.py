"""The target column: which task it makes and its values as the numbers a model fits.

The tasks and the family (glmnet's word) fitted to each::

    regression  gaussian     numbers
    binary      binomial     exactly 2 distinct values (numbers or text), the sorted labels
                             mapped to 0 and 1 ('benign' -> 0, 'malignant' -> 1; 0/1 stay)
    count       poisson      numbers >= 0 (counts; non-negative reals such as rates are
                             accepted when asked for, as glmnet's Poisson family does)
    multiclass  multinomial  3 or more labels, the sorted labels mapped to 0, 1, ..., K-1

``task='auto'`` decides from the values (:func:`auto_task`): 2 distinct values make a binary
task; numbers that are all whole, >= 0, with at least 3 distinct values and the smallest 0
(a count that can be 0: visits, claims, defects) make a count; other numbers a regression; text
with 3 or more labels a multiclass task. The choice is printed with its reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regulab.data.checks import check_magnitude
from regulab.data.errors import DataError
from regulab.data.messages import na_hint, plural, show, show_list, show_row
from regulab.data.values import (
    floats,
    fmt_num,
    level_text,
    numeric_tokens,
    texts,
    value_kind,
)


#: the task of each family name, and back
TASK_OF_FAMILY = {"gaussian": "regression", "binomial": "binary", "poisson": "count",
                  "multinomial": "multiclass"}
FAMILY_OF_TASK = {v: k for k, v in TASK_OF_FAMILY.items()}


def is_count(vals: np.ndarray) -> bool:
    """The auto rule for counts: whole numbers >= 0, at least 3 distinct, the smallest 0."""
    distinct = np.unique(vals)
    return bool(distinct.size >= 3 and distinct[0] == 0.0 and np.all(distinct == np.round(distinct)))


def target_task(t: pd.Series, na, target, task, src):
    """``(task, classes, report line)`` for the target column ``t`` (``na``: where it is
    missing; ``task``: 'auto', 'regression', 'binary', 'count' or 'multiclass'), or
    DataError."""
    kind = value_kind(t)
    tv = t[~na]
    if kind in ("datetime", "unsupported"):
        raise DataError(f"{src}: target {show(target)} holds {t.dtype} values; it must be numbers "
                        f"(regression) or two labels (binary)")
    if kind == "numeric":
        vals = floats(tv)
        check_magnitude(vals, f"target {show(target)}", src, np.flatnonzero(~na))
        distinct = np.unique(vals)
    else:
        distinct = pd.unique(texts(tv))
    k = len(distinct)
    if len(tv) == 1:  # one row says nothing about the target's spread: name the real problem
        raise DataError(f"{src}: only 1 row has a value of target {show(target)}; a fit needs at "
                        f"least 2 rows (and cross-validation more)")
    if k == 1:
        shown = fmt_num(distinct[0]) if kind == "numeric" else show(distinct[0])
        raise DataError(f"{src}: target {show(target)} is constant: all {len(tv):,} values are "
                        f"{shown}")
    _check_task(tv, kind, distinct, task, target, src)
    if task == "count" or (task == "auto" and kind == "numeric" and is_count(distinct)):
        return "count", None, _count_note(distinct, task, target)
    if task == "multiclass" or (task == "auto" and kind != "numeric" and k > 2):
        classes = _sorted_classes(tv, kind)
        return "multiclass", classes, (f"target {show(target)}: multiclass ({k:,} labels: "
                                       f"{show_list(classes[:6])}{', ...' if k > 6 else ''})")
    if task == "regression" or (task == "auto" and k > 2):
        two = " (--task regression on 2 values)" if k == 2 else ""
        return "regression", None, (f"target {show(target)}: regression ({k:,} distinct numeric "
                                    f"values){two}")
    classes = _sorted_classes(tv, kind)
    n1 = int(np.sum(texts(tv) == level_text(classes[1])))
    note = (f"target {show(target)}: binary, {show(classes[0])} -> 0 ({plural(len(tv) - n1)}), "
            f"{show(classes[1])} -> 1 ({plural(n1)}); the model gives P({target} = "
            f"{show(classes[1])})" + (" (2 distinct values; pass --task regression to fit it as a "
                                      "number)" if kind == "numeric" and task == "auto" else ""))
    return "binary", classes, note


def _count_note(distinct, task, target) -> str:
    whole = bool(np.all(distinct == np.round(distinct)))
    what = (f"whole numbers >= 0 from {fmt_num(distinct[0])} to {fmt_num(distinct[-1])}, "
            f"{len(distinct):,} distinct values" if whole else
            "values >= 0, not all whole: fitted as rates, as glmnet's Poisson family allows")
    hint = "; --family gaussian fits it as a number" if task == "auto" else ""
    return f"target {show(target)}: count ({what}{hint})"


def _check_count(tv, kind, distinct, target, src) -> None:
    """A Poisson target: numbers, all >= 0, not all 0."""
    if kind != "numeric":
        raise DataError(f"{src}: family poisson needs a numeric target >= 0 (counts); "
                        f"{show(target)} is text")
    if distinct[0] < 0:
        n_neg = int(np.sum(floats(tv) < 0))
        raise DataError(f"{src}: family poisson needs a target >= 0 (counts); {show(target)} has "
                        f"{plural(n_neg)} below 0 (smallest {fmt_num(distinct[0])})")


def _check_task(tv, kind, distinct, task, target, src) -> None:
    """Refuse a target that cannot make ``task``: not 2 values for binary, text for regression,
    a negative or text value for count, fewer than 3 labels for multiclass."""
    k = len(distinct)
    if kind == "numeric":
        few = ", ".join(fmt_num(v) for v in distinct[:5]) + (", ..." if k > 5 else "")
    else:
        few = show_list(sorted(distinct.tolist(), key=str)[:5]) + (", ..." if k > 5 else "")
    hint = numeric_tokens(texts(tv)) if kind != "numeric" else None
    if task == "binary" and k != 2:
        raise DataError(f"{src}: family binomial (--task binary) needs a target with 2 distinct "
                        f"values; {show(target)} has {k:,} ({few})")
    if task == "count":
        _check_count(tv, kind, distinct, target, src)
    if task == "multiclass" and k < 3:
        raise DataError(f"{src}: family multinomial needs a target with 3 or more labels; "
                        f"{show(target)} has {k:,} ({few}): use --family binomial")
    if task == "regression" and kind != "numeric":
        if hint:
            raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                            f"{show_list(hint[0])} ({plural(hint[1])}); pass --na-values "
                            f"{na_hint(hint[0])} to read them as missing")
        raise DataError(f"{src}: --task regression needs a numeric target; {show(target)} is text "
                        f"({few})")
    if task in ("auto", "multiclass") and kind != "numeric" and k > 2 and hint:
        raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                        f"{show_list(hint[0])} ({plural(hint[1])}), so it reads as text; pass "
                        f"--na-values {na_hint(hint[0])} to read them as missing")


def _sorted_classes(tv: pd.Series, kind: str) -> list:
    """The labels, sorted (numerically for numbers), each as first seen in the column."""
    raw = tv.to_numpy(dtype=object)
    firsts = {}
    if kind == "numeric":
        vals = floats(tv)
        for i in np.argsort(vals, kind="stable"):
            firsts.setdefault(vals[i], raw[i])
    else:
        for text, v in zip(texts(tv), raw):
            firsts.setdefault(text, v if isinstance(v, str) else text)
    classes = [firsts[key] for key in sorted(firsts)]
    return [c.item() if isinstance(c, np.generic) else c for c in classes]


def encode_target(s: pd.Series, task: str, classes, target: str, src: str) -> np.ndarray:
    """The target as float64: the numbers (regression, count) or ``k`` for ``classes[k]``
    (binary: 0/1; multiclass: 0..K-1); NaN where missing; DataError for a value that is
    neither."""
    miss = s.isna().to_numpy()
    if task in ("regression", "count"):
        vals = floats(s)
        bad = np.flatnonzero(np.isnan(vals) & ~miss)
        if bad.size:
            raise DataError(f"{src}: target {show(target)} holds {show(s.iloc[bad[0]])} at "
                            f"{show_row(bad[0])}, not a number")
        check_magnitude(vals, f"target {show(target)}", src)
        if task == "count" and np.any(vals < 0):
            bad = int(np.flatnonzero(vals < 0)[0])
            raise DataError(f"{src}: target {show(target)} holds {fmt_num(vals[bad])} at "
                            f"{show_row(bad)}; a count (family poisson) must be >= 0")
        return vals
    values = texts(s)
    labels = [level_text(c) for c in classes]
    y = np.full(len(s), np.nan)
    for k, label in enumerate(labels):
        y[values == label] = float(k)
    bad = np.flatnonzero(np.isnan(y) & ~miss)
    if bad.size:
        which = "two" if len(classes) == 2 else f"{len(classes)}"
        raise DataError(f"{src}: target {show(target)} holds {show(values[bad[0]])} at "
                        f"{show_row(bad[0])}, not one of the {which} classes "
                        f"{show_list(classes)}")
    return y
