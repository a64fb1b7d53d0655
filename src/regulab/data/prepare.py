"""From a user's table to ``X`` and ``y``, with every step recorded and reproducible.

:func:`prepare` turns a DataFrame and a target column into a
:class:`~regulab.data.prepared.Prepared`: the float64 design ``X``, the response ``y``, the feature
names and a ``report`` of every step with its counts. The steps, each in its own module:

1. **Target** (:mod:`regulab.data.target`): the task (regression or binary) and the classes.
2. **Rows** (:mod:`regulab.data.missing`): rows with a missing target are always dropped; missing
   feature values follow ``missing='drop'``, ``'mean'`` or ``'error'``.
3. **Columns** (:mod:`regulab.data.columns`): numbers used as they are, text with at most
   ``max_categories`` levels one-hot encoded with k-1 indicators against a reference level (the
   most frequent; :mod:`regulab.data.encoding`), other text refused,
   constant, all-missing and date/time columns dropped with the reason.
4. **Standardization** (:mod:`regulab.data.standardize`, default): every column of ``X``,
   indicators included, centred and divided by its population standard deviation.

The same preparation is applied to new tables by :meth:`Prepared.apply` and stored as plain JSON
by :meth:`Prepared.to_dict` (no pickle). The report is :mod:`regulab.data.prep_report`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regulab.data.checks import check_rows_for_cv, check_unique_names
from regulab.data.columns import (
    classify_columns,
    final_specs,
    find_target,
    select_features,
)
from regulab.data.encoding import ColumnSpec, encode_design, one_hot_line
from regulab.data.errors import DataError
from regulab.data.messages import plural, show, table_name
from regulab.data.missing import rows_with_features, rows_with_target
from regulab.data.prep_report import PrepReport
from regulab.data.prepared import (
    FORMAT,
    FORMAT_VERSION,
    MISSING,
    TASKS,
    Applied,
    Prepared,
)
from regulab.data.standardize import column_scales, standardize_in_place
from regulab.data.target import encode_target, target_task

# The old import path ``regulab.prepare`` (regulab._aliases) is this module: user code that took
# these names from it keeps working.
__all__ = ["prepare", "Prepared", "Applied", "ColumnSpec", "check_rows_for_cv", "TASKS",
           "MISSING", "FORMAT", "FORMAT_VERSION"]


def prepare(df: pd.DataFrame, target: str, *, features=None, exclude=None, task: str = "auto",
            missing: str = "drop", standardize: bool = True, max_categories: int = 50,
            source_name: str | None = None) -> Prepared:
    """Prepare ``df`` for a penalized linear model of ``target`` (see the module docstring).

    ``features``: the columns to use (default: every column but the target); ``exclude``: columns
    to leave out. ``task``: 'auto', 'regression' or 'binary'. ``missing``: 'drop', 'mean' or
    'error'. ``source_name``: the name used in messages (default: the file the frame was read
    from, else 'data')."""
    src = table_name(df, source_name)
    _check_arguments(df, task, missing, max_categories)
    check_unique_names([str(c) for c in df.columns], src)
    lookup = {str(c): c for c in df.columns}
    target = str(target)
    find_target(lookup, target, src)
    names = select_features(lookup, target, features, exclude, src)
    report = PrepReport()

    t = df[lookup[target]]
    t_na = t.isna().to_numpy()
    if t_na.all():
        raise DataError(f"{src}: target {show(target)} has no values (all {plural(len(df))} "
                        f"missing)")
    task_, classes, note = target_task(t, t_na, target, task, src)
    report.note(note)
    rows = rows_with_target(t_na, target, missing, report, src)
    dfa = df.iloc[rows]
    candidates = classify_columns(dfa, lookup, names, rows, max_categories, report, src)
    rows = rows_with_features(dfa, lookup, rows, missing, report, src)
    dfb = df.iloc[rows]
    specs = final_specs(dfb, lookup, candidates, report)
    report.list_dropped_columns()
    if not specs:
        _no_feature(names, features, exclude, target, report, src)

    y = encode_target(dfb[lookup[target]], task_, classes, target, src)
    _check_target_varies(y, dfb[lookup[target]], target, report, src)
    for spec in specs:
        if spec.kind == "categorical":
            report.note(one_hot_line(spec))
    raw, _, _ = encode_design(dfb, lookup, specs, missing, src)
    means, scales = column_scales(raw, standardize)
    report.standardization(raw.shape[1], standardize)
    X = standardize_in_place(raw, means, scales, standardize)
    report.result(rows.size, len(df), X.shape[1], len(specs))
    return Prepared(X=X, y=y, feature_names=[n for s in specs for n in s.output_names()],
                    task=task_, target=target, classes=classes, means=means, scales=scales,
                    standardize=bool(standardize), missing=missing, columns=specs,
                    report=report.lines, rows=rows, dropped_columns=report.dropped_columns,
                    dropped_rows=report.dropped_rows, missing_counts=report.missing_counts,
                    max_categories=int(max_categories), source_name=src, n_rows=int(rows.size))


def _check_arguments(df, task, missing, max_categories) -> None:
    """ValueError / TypeError for arguments no table could satisfy."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
    if isinstance(max_categories, bool) or int(max_categories) != max_categories \
            or max_categories < 2:
        raise ValueError(f"max_categories must be a whole number >= 2, got {max_categories!r}")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")


def _no_feature(names, features, exclude, target, report: PrepReport, src) -> None:
    """The DataError for a preparation left without a feature column."""
    if not names:
        raise DataError(f"{src}: no feature column: the table has only the target "
                        f"{show(target)}" + (" once --features/--exclude are applied"
                                             if features is not None or exclude else ""))
    reasons = "; ".join(f"{show(k)}: {v}" for k, v in list(report.dropped_columns.items())[:5])
    raise DataError(f"{src}: no usable feature column ({reasons})")


def _check_target_varies(y, y_src, target, report: PrepReport, src) -> None:
    """DataError when the target has one value on the rows kept."""
    if np.unique(y).size < 2:
        raise DataError(f"{src}: target {show(target)} is constant{report.after_drop} (every "
                        f"value is {show(y_src.iloc[0])})")
