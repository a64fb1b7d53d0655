"""Per-feature penalties of the user-data commands: ``--unpenalized``, ``--penalty-factor``,
``--nonnegative``, ``--adaptive``.

The fit then minimizes (standardized features, :func:`regulab.solvers.exact.solve`)::

    mean loss + lam * (rho * sum_j v_j |w_j| + (1 - rho) * sum_j v_j w_j**2),
    lower_j <= w_j <= upper_j

with ``v_j`` 1 unless set: 0 for ``--unpenalized`` features, the file's factor for the ones it
lists, times ``1 / |w_ridge_j|`` with ``--adaptive`` (Zou 2006). Factors are used as given
(glmnet rescales its ``penalty.factor`` to sum to the number of features; regulab does not).

A name is a source column or a design column (``region=north``); a categorical source column
stands for all its indicators. The file is CSV with a header ``feature,factor`` and optional
``lower,upper`` columns (empty: no bound); every problem (an unknown feature, a factor < 0, a
bound that excludes 0 on a penalized feature, a malformed line) is refused in one line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from regulab.commands.common import OptionError
from regulab.core.validation import InvalidValue, check_bounds

FILE_FLAG = "--penalty-factor"


def feature_groups(prep) -> dict[str, list[int]]:
    """Every name a user may give -> the design columns it stands for: each design column by
    its own name, each source column by all of its columns (a categorical's indicators)."""
    groups = {name: [j] for j, name in enumerate(prep.feature_names)}
    if sum(spec.width for spec in prep.columns) != len(prep.feature_names):
        return groups  # a design not laid out column by column: its own names only
    off = 0
    for spec in prep.columns:
        groups.setdefault(spec.name, list(range(off, off + spec.width)))
        off += spec.width
    return groups


def _columns(groups, name, flag) -> list[int]:
    if name not in groups:
        known = ", ".join(list(groups)[:12]) + (", ..." if len(groups) > 12 else "")
        raise OptionError(f"{flag}: unknown feature {name!r}; the features are: {known}")
    return groups[name]


def _number(text, what, where):
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"{FILE_FLAG} {where}: {what} must be a number, got {text!r}") from None
    if math.isnan(value):
        raise OptionError(f"{FILE_FLAG} {where}: {what} must be a number, got {text!r}")
    return value


def read_factor_file(path) -> list[tuple[str, float, float | None, float | None]]:
    """``(feature, factor, lower, upper)`` per data line of the CSV file (module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"{FILE_FLAG}: cannot read {str(path)!r}: {exc}") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    head = [c.strip().lower() for c in rows[0]] if rows else []
    if head[:2] != ["feature", "factor"] or any(h not in ("lower", "upper") for h in head[2:]):
        raise OptionError(f"{FILE_FLAG} {str(path)!r}: the first line must be the header "
                          f"'feature,factor' (optionally ',lower,upper'), got {','.join(head)!r}")
    out = []
    for k, row in enumerate(rows[1:], start=2):
        where = f"{path.name} line {k}"
        if len(row) != len(head):
            raise OptionError(f"{FILE_FLAG} {where}: expected {len(head)} fields "
                              f"({','.join(head)}), got {len(row)}")
        name = row[0].strip()
        factor = _number(row[1].strip(), f"the factor of {name!r}", where)
        if factor < 0:
            raise OptionError(f"{FILE_FLAG} {where}: the factor of {name!r} must be >= 0, got "
                              f"{row[1].strip()}")
        extra = {h: (None if not c.strip() else _number(c.strip(), f"{h} of {name!r}", where))
                 for h, c in zip(head[2:], row[2:])}
        out.append((name, factor, extra.get("lower"), extra.get("upper")))
    return out


def box_options(prep, *, unpenalized=None, factor_file=None, nonnegative=False,
                adaptive=False, loss="squared", seed=0) -> dict:
    """The solver's ``penalty_factor`` / ``lower`` / ``upper`` for the prepared design (an empty
    dict when no option is given: the default problem)."""
    if not (unpenalized or factor_file is not None or nonnegative or adaptive):
        return {}
    groups = feature_groups(prep)
    p = prep.n_features
    v = np.ones(p)
    lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
    if factor_file is not None:
        for name, factor, lower, upper in read_factor_file(factor_file):
            cols = _columns(groups, name, f"{FILE_FLAG} {Path(factor_file).name}")
            v[cols] = factor
            if lower is not None:
                lo[cols] = lower
            if upper is not None:
                hi[cols] = upper
    for name in unpenalized or []:
        v[_columns(groups, name, "--unpenalized")] = 0.0
    if nonnegative:
        lo = np.maximum(lo, 0.0)
    try:
        lo, hi = check_bounds(lo, hi, p, v, prep.feature_names, "lower", "upper")
    except InvalidValue as exc:
        raise OptionError(f"{FILE_FLAG if factor_file else '--nonnegative'}: {exc}") from None
    bounded = np.isfinite(lo).any() or np.isfinite(hi).any()
    if adaptive:  # without bounds, the very call of selection.adaptive.adaptive_lasso
        from regulab.selection.adaptive import adaptive_weights, combine_factors

        v = combine_factors(v, adaptive_weights(prep.X, prep.y, loss=loss, seed=seed,
                                                lower=lo if bounded else None,
                                                upper=hi if bounded else None))
    return dict(penalty_factor=v, lower=lo if bounded else None, upper=hi if bounded else None)


def describe(box: dict, names) -> dict | None:
    """The per-feature penalty as written to JSON (None without options)."""
    if not box:
        return None
    v = box["penalty_factor"]
    lo, hi = box.get("lower"), box.get("upper")
    return {"unpenalized": [n for n, f in zip(names, v) if f == 0],
            "factors": {n: (None if math.isinf(f) else float(f)) for n, f in zip(names, v)},
            "lower": None if lo is None else [float(x) if np.isfinite(x) else None for x in lo],
            "upper": None if hi is None else [float(x) if np.isfinite(x) else None for x in hi]}
