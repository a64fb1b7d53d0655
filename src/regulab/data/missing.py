"""Missing values in the preparation: rows whose target is missing are always dropped; missing
feature values follow the policy (``'drop'`` the row, fill the training ``'mean'``, or
``'error'``), every count reported."""

from __future__ import annotations

import numpy as np

from regulab.data.errors import DataError
from regulab.data.messages import plural, show, show_row
from regulab.data.prep_report import PrepReport


def rows_with_target(t_na: np.ndarray, target: str, missing: str, report: PrepReport,
                     src: str) -> np.ndarray:
    """Positions of the rows whose target is present (``t_na``: where it is missing); the others
    are dropped and reported, or refused with ``missing='error'``."""
    if t_na.any():
        n_na = int(t_na.sum())
        if missing == "error":
            raise DataError(f"{src}: target {show(target)} is missing on {plural(n_na)} "
                            f"(first at {show_row(np.flatnonzero(t_na)[0])}) and --missing error "
                            f"refuses them")
        report.drop_rows("target missing", n_na,
                         f"dropped {plural(n_na)} whose target {show(target)} is missing")
    return np.flatnonzero(~t_na)


def rows_with_features(dfa, lookup, rows: np.ndarray, missing: str, report: PrepReport,
                       src: str) -> np.ndarray:
    """Apply the policy to the feature columns counted in ``report.missing_counts`` (``dfa``: the
    table at ``rows``): report the counts, refuse (``'error'``), or keep the rows with no
    missing value (``'drop'``); return the positions of the rows kept."""
    counts = report.missing_counts
    if not counts:
        return rows
    if missing == "error":
        name = next(iter(counts))
        first = np.flatnonzero(dfa[lookup[name]].isna().to_numpy())[0]
        raise DataError(f"{src}: column {show(name)} has {counts[name]:,} missing values "
                        f"(first at {show_row(rows[first])}) and --missing error refuses them; "
                        f"use --missing drop or --missing mean")
    listed = ", ".join(f"{show(k)} {v:,}" for k, v in counts.items())
    report.note(f"missing values per column: {listed}"
                + ("; filled with the training mean (--missing mean)" if missing == "mean" else ""))
    if missing != "drop":
        return rows
    any_na = np.zeros(len(rows), dtype=bool)
    for name in counts:
        any_na |= dfa[lookup[name]].isna().to_numpy()
    kept = rows[~any_na]
    report.drop_rows("missing feature value", int(any_na.sum()),
                     f"dropped {plural(int(any_na.sum()))} with a missing feature value "
                     f"(--missing drop)")
    if kept.size == 0:
        worst = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        raise DataError(f"{src}: no rows left: every row misses some feature value; use "
                        f"--missing mean, or leave out the columns missing most: "
                        + ", ".join(f"{show(k)} ({v:,})" for k, v in worst))
    return kept
