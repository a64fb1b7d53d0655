"""Which columns become features: the user's selection, then a verdict per column.

Numbers (and booleans, as 0/1) are used as they are. Text columns with at most ``max_categories``
distinct values are categorical (one-hot encoded by :mod:`regulab.data.encoding`). A text column
with more distinct values is **refused** (DataError), not dropped: the user excludes it with
``features`` / ``exclude`` or raises ``max_categories``; when most of its values are numbers the
message names the text tokens (``'NA'``) and suggests ``--na-values``. Constant columns,
all-missing columns and date/time columns are dropped, with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regulab.data.checks import check_magnitude
from regulab.data.encoding import column_spec
from regulab.data.errors import DataError
from regulab.data.messages import close_matches, na_hint, plural, show, show_list
from regulab.data.prep_report import PrepReport
from regulab.data.values import floats, fmt_num, numeric_tokens, texts, value_kind


def find_target(lookup, target: str, src: str) -> None:
    """DataError naming close column names when ``target`` is not a column."""
    if target not in lookup:
        near = close_matches(target, lookup)
        hint = f" (did you mean {show_list(near)}?)" if near else ""
        raise DataError(f"{src}: no column {show(target)}{hint}; the columns are "
                        f"{show_list(lookup, 8)}")


def select_features(lookup, target, features, exclude, src) -> list[str]:
    """The candidate feature names: ``features`` (default: every column but the target) less
    ``exclude``; DataError for a name that is not a column, or the target among the features."""
    if isinstance(features, str):
        features = [features]
    if isinstance(exclude, str):
        exclude = [exclude]
    for group, flag in ((features, "--features"), (exclude, "--exclude")):
        for name in group or ():
            if str(name) not in lookup:
                near = close_matches(str(name), lookup)
                hint = f" (did you mean {show_list(near)}?)" if near else ""
                raise DataError(f"{src}: {flag} names {show(str(name))}, which is not a column{hint}")
    if features is None:
        names = [c for c in lookup if c != target]
    else:
        names = list(dict.fromkeys(str(f) for f in features))
        if target in names:
            raise DataError(f"{src}: the target {show(target)} is also listed in --features")
    drop = {str(e) for e in exclude or ()}
    return [n for n in names if n not in drop]


def classify_columns(dfa, lookup, names, rows, max_categories, report: PrepReport,
                     src) -> list[tuple[str, str]]:
    """``[(name, 'numeric' or 'categorical')]`` for the usable columns of ``dfa`` (the table at
    positions ``rows``); the others are dropped in ``report``, whose ``missing_counts`` get the
    missing values of the usable ones."""
    candidates = []
    for name in names:
        s = dfa[lookup[name]]
        kind = value_kind(s)
        na = s.isna().to_numpy()
        if kind == "datetime":
            report.drop_column(name, "a date/time column (convert it to a number to use it)")
            continue
        if kind == "unsupported":
            report.drop_column(name, f"values of type {s.dtype} are not usable")
            continue
        if na.all():
            report.drop_column(name, f"all {len(s):,} values missing")
            continue
        verdict = (_numeric_verdict(name, s, na, rows, report, src) if kind == "numeric"
                   else _text_verdict(name, s, na, max_categories, report, src))
        if verdict is None:
            continue
        candidates.append((name, verdict))
        if na.any():
            report.missing_counts[name] = int(na.sum())
    return candidates


def _numeric_verdict(name, s, na, rows, report: PrepReport, src) -> str | None:
    vals = floats(s)
    check_magnitude(vals, f"column {show(name)}", src, rows,
                    " (leave the column out with --features)")
    present = vals[~na]
    if present.min() == present.max():
        report.drop_column(name, f"constant (every value is {fmt_num(present[0])})")
        return None
    if present.size >= 20 and np.all(present == np.round(present)) \
            and np.unique(present).size == present.size:
        report.note(f"column {show(name)}: a different whole number on every row (an "
                    f"identifier?); kept as a number, leave it out with --features")
    return "numeric"


def _text_verdict(name, s, na, max_categories, report: PrepReport, src) -> str | None:
    values = texts(s)
    levels = pd.unique(values[~na])
    if len(levels) == 1:
        report.drop_column(name, f"constant (every value is {show(levels[0])})")
        return None
    hint = numeric_tokens(values[~na])
    if len(levels) > max_categories:
        if hint:
            tokens, count = hint
            raise DataError(
                f"{src}: column {show(name)} holds numbers and the text "
                f"{show_list(tokens)} ({plural(count)}), so it reads as text with "
                f"{len(levels):,} distinct values; pass --na-values {na_hint(tokens)} to "
                f"read them as missing, or leave the column out with --features")
        raise DataError(
            f"{src}: column {show(name)} is text with {len(levels):,} distinct values, more "
            f"than --max-categories {max_categories}, too many to one-hot encode; leave it "
            f"out with --features or raise --max-categories")
    if hint:
        tokens, count = hint
        report.note(f"column {show(name)}: numbers and the text {show_list(tokens)} "
                    f"({plural(count)}), so its values are categories; pass --na-values "
                    f"{na_hint(tokens)} if that text means missing")
    return "categorical"


def final_specs(dfb, lookup, candidates, report: PrepReport):
    """The :class:`~regulab.data.encoding.ColumnSpec` of every candidate still varying on the
    rows kept (``dfb``); a column constant there is dropped in ``report``."""
    specs = []
    for name, kind in candidates:
        spec, why = column_spec(dfb[lookup[name]], name, kind, report.after_drop)
        if spec is None:
            report.drop_column(name, why)
        else:
            specs.append(spec)
    return specs
