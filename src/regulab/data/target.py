"""The target column: which task it makes and its values as the numbers a model fits.

A numeric target with more than 2 distinct values is a regression; exactly 2 distinct values
(numbers or text) make a binary task, the sorted labels mapped to 0 and 1 (``'benign'`` -> 0,
``'malignant'`` -> 1; ``0/1`` stay as they are). Text with more than 2 values is refused
(multiclass is not supported).
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


def target_task(t: pd.Series, na, target, task, src):
    """``(task, classes, report line)`` for the target column ``t`` (``na``: where it is
    missing; ``task``: 'auto', 'regression' or 'binary'), or DataError."""
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
    if task == "regression" or (task == "auto" and k > 2):
        two = " (--task regression on 2 values)" if k == 2 else ""
        return "regression", None, (f"target {show(target)}: regression ({k:,} distinct numeric "
                                    f"values){two}")
    classes = _binary_classes(tv, kind)
    n1 = int(np.sum(texts(tv) == level_text(classes[1])))
    note = (f"target {show(target)}: binary, {show(classes[0])} -> 0 ({plural(len(tv) - n1)}), "
            f"{show(classes[1])} -> 1 ({plural(n1)}); the model gives P({target} = "
            f"{show(classes[1])})" + (" (2 distinct values; pass --task regression to fit it as a "
                                      "number)" if kind == "numeric" and task == "auto" else ""))
    return "binary", classes, note


def _check_task(tv, kind, distinct, task, target, src) -> None:
    """Refuse a target that cannot make ``task``: not 2 values for binary, text for regression,
    text with more than 2 values (multiclass) for auto."""
    k = len(distinct)
    if kind == "numeric":
        few = ", ".join(fmt_num(v) for v in distinct[:5]) + (", ..." if k > 5 else "")
    else:
        few = show_list(sorted(distinct.tolist(), key=str)[:5]) + (", ..." if k > 5 else "")
    hint = numeric_tokens(texts(tv)) if kind != "numeric" else None
    if task == "binary" and k != 2:
        raise DataError(f"{src}: --task binary needs a target with 2 distinct values; "
                        f"{show(target)} has {k:,} ({few})")
    if task == "regression" and kind != "numeric":
        if hint:
            raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                            f"{show_list(hint[0])} ({plural(hint[1])}); pass --na-values "
                            f"{na_hint(hint[0])} to read them as missing")
        raise DataError(f"{src}: --task regression needs a numeric target; {show(target)} is text "
                        f"({few})")
    if task == "auto" and kind != "numeric" and k > 2:
        if hint:
            raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                            f"{show_list(hint[0])} ({plural(hint[1])}), so it reads as text; pass "
                            f"--na-values {na_hint(hint[0])} to read them as missing")
        raise DataError(f"{src}: target {show(target)} is text with {k:,} distinct values ({few}); "
                        f"multiclass classification is not supported: regulab fits a regression "
                        f"(numeric target) or a binary classification (2 values)")


def _binary_classes(tv: pd.Series, kind: str) -> list:
    """The two labels, sorted (numerically for numbers), each as first seen in the column."""
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
    """The target as float64: the numbers (regression) or 0/1 for ``classes[0]``/``classes[1]``
    (binary); NaN where missing; DataError for a value that is neither."""
    miss = s.isna().to_numpy()
    if task == "regression":
        vals = floats(s)
        bad = np.flatnonzero(np.isnan(vals) & ~miss)
        if bad.size:
            raise DataError(f"{src}: target {show(target)} holds {show(s.iloc[bad[0]])} at "
                            f"{show_row(bad[0])}, not a number")
        check_magnitude(vals, f"target {show(target)}", src)
        return vals
    values = texts(s)
    labels = [level_text(c) for c in classes]
    y = np.full(len(s), np.nan)
    y[values == labels[0]] = 0.0
    y[values == labels[1]] = 1.0
    bad = np.flatnonzero(np.isnan(y) & ~miss)
    if bad.size:
        raise DataError(f"{src}: target {show(target)} holds {show(values[bad[0]])} at "
                        f"{show_row(bad[0])}, not one of the two classes {show_list(classes)}")
    return y
