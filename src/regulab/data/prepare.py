"""From a user's table to ``X`` and ``y``, with every step recorded and reproducible.

:func:`prepare` turns a DataFrame and a target column into a :class:`Prepared`: the float64 design
``X``, the response ``y``, the feature names and a ``report`` of every step with its counts. The
same preparation is applied to new tables by :meth:`Prepared.apply` and stored as plain JSON by
:meth:`Prepared.to_dict` (no pickle). The choices:

* **Task.** A numeric target with more than 2 distinct values is a regression; exactly 2 distinct
  values (numbers or text) make a binary task, the sorted labels mapped to 0 and 1 (``'benign'`` ->
  0, ``'malignant'`` -> 1; ``0/1`` stay as they are). Text with more than 2 values is refused
  (multiclass is not supported).
* **Rows.** Rows with a missing target are always dropped (reported). Missing feature values:
  ``missing='drop'`` drops the row, ``'mean'`` fills the training mean (for a categorical column,
  its indicators get the training level frequencies, i.e. 0 after standardization), ``'error'``
  refuses. Counts per column are reported.
* **Columns.** Numbers (and booleans, as 0/1) are used as they are. Text columns with at most
  ``max_categories`` distinct values are one-hot encoded with **one indicator per level and no
  reference level** (``color=blue``, ``color=red``, ...; glmnet's convention for penalized models:
  the penalty, not an arbitrary reference, decides which levels matter, and the result does not
  depend on the order of the levels). Levels are sorted (numerically when they all look like
  numbers). A text column with more distinct values is **refused** (DataError), not dropped: the
  user excludes it with ``features`` / ``exclude`` or raises ``max_categories``; when most of its
  values are numbers the message names the text tokens (``'NA'``) and suggests ``--na-values``.
  Constant columns, all-missing columns and date/time columns are dropped, with the reason.
* **Standardization** (default): every column of ``X``, indicators included, is centred on its mean
  and divided by its population standard deviation (``ddof=0``, as glmnet), so penalties treat
  features alike; :meth:`Prepared.to_original_units` maps coefficients back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from regulab.data.errors import DataError
from regulab.data.reading import check_memory, close_matches, show, show_list

TASKS = ("auto", "regression", "binary")
MISSING = ("drop", "mean", "error")
FORMAT = "regulab-preparation"
FORMAT_VERSION = 1


# ----------------------------------------------------------------------------- small helpers

def _level_text(v) -> str:
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


def _texts(s: pd.Series) -> np.ndarray:
    """Object array of level texts, None where missing."""
    miss = s.isna().to_numpy()
    if ptypes.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        out = s.to_numpy(dtype=object, na_value=None)
        if all(isinstance(v, str) for v in out[~miss][:1000]):
            return out
    vals = s.to_numpy(dtype=object)
    return np.array([None if m else _level_text(v) for v, m in zip(vals, miss)], dtype=object)


def _kind(s: pd.Series) -> str:
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


def _floats(s: pd.Series) -> np.ndarray:
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype) or s.dtype == object:
        try:
            return s.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            pass
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _fmt_num(v) -> str:
    return _level_text(v) if isinstance(v, (int, np.integer, bool, np.bool_)) else f"{v:.6g}"


def _sort_levels(levels) -> list[str]:
    def key(t):
        try:
            f = float(t)
            if math.isfinite(f):
                return (0, f, t)
        except ValueError:
            pass
        return (1, 0.0, t)
    return sorted(levels, key=key)


def _numeric_tokens(texts: np.ndarray):
    """For text values that are mostly numbers: (non-numeric tokens, their row count), else None."""
    counts = pd.Series(texts, dtype=object).value_counts(sort=False)
    nums = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce").to_numpy()
    bad = np.isnan(nums.astype(float))
    n_bad = int(counts.to_numpy()[bad].sum())
    if n_bad == 0 or n_bad > 0.5 * len(texts) or bad.sum() > 5:
        return None
    return [str(t) for t in counts.index[bad]], n_bad


def _na_hint(tokens) -> str:
    return ",".join(tokens) if all(t and "," not in t and " " not in t for t in tokens) else \
        " ".join(repr(t) for t in tokens)


def _source(df, source_name):
    if source_name:
        return str(source_name)
    src = getattr(df, "attrs", {}).get("regulab_source", {})
    return str(src.get("path") or "data")


def _row(i) -> str:
    return f"data row {int(i) + 1:,}"


def check_rows_for_cv(n_rows: int, folds: int, *, y=None, task: str | None = None,
                      classes=None, source_name: str | None = None) -> None:
    """Refuse fewer rows than CV folds (and, for a binary task with ``y``, a class with fewer rows
    than folds, which stratified folds cannot spread)."""
    if isinstance(folds, bool) or int(folds) != folds or folds < 2:
        raise ValueError(f"the number of CV folds must be a whole number >= 2, got {folds!r}")
    where = f"{source_name}: " if source_name else ""
    if n_rows < folds:
        raise DataError(f"{where}only {n_rows} row{'s' if n_rows != 1 else ''} after preparation, "
                        f"fewer than the {folds} CV folds")
    if task == "binary" and y is not None:
        y = np.asarray(y)
        for k in (0, 1):
            count = int(np.sum(y == k))
            if count < folds:
                label = show(classes[k]) if classes is not None else str(k)
                raise DataError(f"{where}class {label} of the target has only {count} "
                                f"row{'s' if count != 1 else ''}, fewer than the {folds} CV folds")


# ----------------------------------------------------------------------------- data classes

@dataclass
class ColumnSpec:
    """How one source column becomes columns of X."""

    name: str
    kind: str                       # "numeric" or "categorical"
    levels: list | None = None      # categorical: sorted level texts, one indicator each
    fill: list = field(default_factory=list)   # raw values used for missing ('mean' policy)

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.levels)

    def output_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={lv}" for lv in self.levels]


@dataclass
class Applied:
    """:meth:`Prepared.apply`'s result: rows of ``X`` are the source rows ``rows`` (positions)."""

    X: np.ndarray
    rows: np.ndarray
    y: np.ndarray | None
    report: list[str]


@dataclass
class Prepared:
    """A prepared design and everything needed to reproduce it on new data."""

    X: np.ndarray | None
    y: np.ndarray | None
    feature_names: list[str]
    task: str
    target: str
    classes: list | None
    means: np.ndarray
    scales: np.ndarray
    standardize: bool
    missing: str
    columns: list[ColumnSpec]
    report: list[str]
    rows: np.ndarray | None = None
    dropped_columns: dict = field(default_factory=dict)
    dropped_rows: dict = field(default_factory=dict)
    missing_counts: dict = field(default_factory=dict)
    max_categories: int = 50
    source_name: str = "data"
    n_rows: int = 0

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def class_mapping(self) -> dict | None:
        """``{original label: 0 or 1}`` for a binary task."""
        return None if self.classes is None else {self.classes[0]: 0, self.classes[1]: 1}

    # -- units -------------------------------------------------------------------------
    def to_original_units(self, coef_std, intercept_std=0.0):
        """Coefficients fitted on the standardized X -> ``(coef, intercept)`` on the raw columns
        (numbers in their own units, indicators per 0/1): ``coef = c / scale`` and
        ``intercept = b - sum(c * mean / scale)``. ``coef_std`` may be ``[p]`` or ``[p, k]`` (a
        path), ``intercept_std`` a scalar or ``[k]``."""
        c = np.asarray(coef_std, dtype=float)
        if c.shape[:1] != (self.n_features,):
            raise ValueError(f"expected {self.n_features} coefficients, got shape {c.shape}")
        s = self.scales.reshape((-1,) + (1,) * (c.ndim - 1))
        m = self.means.reshape((-1,) + (1,) * (c.ndim - 1))
        coef = c / s
        intercept = np.asarray(intercept_std, dtype=float) - np.sum(coef * m, axis=0)
        return coef, (float(intercept) if np.ndim(intercept) == 0 else intercept)

    def to_standardized_units(self, coef, intercept=0.0):
        """The inverse of :meth:`to_original_units`."""
        c = np.asarray(coef, dtype=float)
        if c.shape[:1] != (self.n_features,):
            raise ValueError(f"expected {self.n_features} coefficients, got shape {c.shape}")
        s = self.scales.reshape((-1,) + (1,) * (c.ndim - 1))
        m = self.means.reshape((-1,) + (1,) * (c.ndim - 1))
        intercept = np.asarray(intercept, dtype=float) + np.sum(c * m, axis=0)
        return c * s, (float(intercept) if np.ndim(intercept) == 0 else intercept)

    # -- new data ------------------------------------------------------------------------
    def apply(self, df: pd.DataFrame, *, source_name: str | None = None) -> Applied:
        """The same preparation on a new table: same columns, levels, fill values, means and scales.

        A column the preparation needs and ``df`` lacks is a DataError naming it. A level unseen in
        training gives all zeros in that column's indicators (before standardization), reported.
        Missing values follow the training policy (``drop``: the row is left out, see
        ``Applied.rows``). ``y`` is the encoded target when ``df`` has the target column (NaN where
        missing), else None."""
        src = _source(df, source_name)
        _check_unique_columns(df, src)
        lookup = {str(c): c for c in df.columns}
        need = [c.name for c in self.columns if c.name not in lookup]
        if need:
            near = close_matches(need[0], lookup)
            hint = f" (did you mean {show(near[0])}?)" if near else ""
            raise DataError(f"{src}: column {show(need[0])} is needed by the model but missing"
                            f"{hint}" + (f"; also missing: {show_list(need[1:])}" if need[1:] else ""))
        raw, keep, notes = _encode(df, lookup, self.columns, self.missing, src)
        X = self._standardize(raw)
        y = None
        if self.target in lookup:
            y = self._encode_target(df[lookup[self.target]], src)[keep]
        report = list(notes)
        report.append(f"prepared {len(keep):,} of {len(df):,} rows x {X.shape[1]} features")
        return Applied(X, keep, y, report)

    def _standardize(self, raw):
        if self.standardize:
            raw -= self.means
            raw /= self.scales
        return raw

    def _encode_target(self, s: pd.Series, src: str) -> np.ndarray:
        miss = s.isna().to_numpy()
        if self.task == "regression":
            vals = _floats(s)
            bad = np.flatnonzero(np.isnan(vals) & ~miss)
            if bad.size:
                raise DataError(f"{src}: target {show(self.target)} holds {show(s.iloc[bad[0]])} at "
                                f"{_row(bad[0])}, not a number")
            return vals
        texts = _texts(s)
        labels = [_level_text(c) for c in self.classes]
        y = np.full(len(s), np.nan)
        y[texts == labels[0]] = 0.0
        y[texts == labels[1]] = 1.0
        bad = np.flatnonzero(np.isnan(y) & ~miss)
        if bad.size:
            raise DataError(f"{src}: target {show(self.target)} holds {show(texts[bad[0]])} at "
                            f"{_row(bad[0])}, not one of the two classes {show_list(self.classes)}")
        return y

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-able description of the preparation (no data, no pickle)."""
        def py(v):
            return v.item() if isinstance(v, np.generic) else v
        return {
            "format": FORMAT, "version": FORMAT_VERSION,
            "target": self.target, "task": self.task,
            "classes": None if self.classes is None else [py(c) for c in self.classes],
            "standardize": bool(self.standardize), "missing": self.missing,
            "max_categories": int(self.max_categories),
            "columns": [{"name": c.name, "kind": c.kind, "levels": c.levels,
                         "fill": [float(f) for f in c.fill]} for c in self.columns],
            "feature_names": list(self.feature_names),
            "means": [float(v) for v in self.means], "scales": [float(v) for v in self.scales],
            "n_rows": int(self.n_rows), "source_name": self.source_name,
            "report": list(self.report), "dropped_columns": dict(self.dropped_columns),
            "dropped_rows": {k: int(v) for k, v in self.dropped_rows.items()},
            "missing_counts": {k: int(v) for k, v in self.missing_counts.items()},
        }

    @classmethod
    def from_dict(cls, doc: dict, *, source_name: str = "model") -> "Prepared":
        """Rebuild from :meth:`to_dict`'s output (``X``/``y`` are None); DataError if malformed."""
        def bad(why):
            return DataError(f"{source_name}: not a regulab preparation ({why})")
        if not isinstance(doc, dict):
            raise bad("expected a JSON object")
        if doc.get("format") != FORMAT:
            raise bad(f"'format' is {show(doc.get('format'))}, expected {FORMAT!r}")
        if doc.get("version") != FORMAT_VERSION:
            raise bad(f"version {show(doc.get('version'))}; this regulab reads version "
                      f"{FORMAT_VERSION}")
        for key in ("target", "task", "standardize", "missing", "columns", "feature_names",
                    "means", "scales"):
            if key not in doc:
                raise bad(f"no {key!r}")
        if doc["task"] not in ("regression", "binary"):
            raise bad(f"task {show(doc['task'])}")
        if doc["missing"] not in MISSING:
            raise bad(f"missing {show(doc['missing'])}")
        classes = doc.get("classes")
        if doc["task"] == "binary" and (not isinstance(classes, list) or len(classes) != 2):
            raise bad("a binary task needs two classes")
        columns = []
        for c in doc["columns"]:
            if not isinstance(c, dict) or c.get("kind") not in ("numeric", "categorical") \
                    or not isinstance(c.get("name"), str):
                raise bad(f"column entry {show(c)}")
            levels = c.get("levels")
            if c["kind"] == "categorical" and (not isinstance(levels, list) or not levels):
                raise bad(f"column {show(c['name'])} has no levels")
            spec = ColumnSpec(c["name"], c["kind"], [str(v) for v in levels] if levels else None,
                              [float(f) for f in c.get("fill") or []])
            if len(spec.fill) not in (0, spec.width):
                raise bad(f"column {show(c['name'])} has {len(spec.fill)} fill values")
            columns.append(spec)
        names = [n for c in columns for n in c.output_names()]
        try:
            means = np.asarray(doc["means"], dtype=float)
            scales = np.asarray(doc["scales"], dtype=float)
        except (TypeError, ValueError):
            raise bad("means/scales are not numbers") from None
        if list(doc["feature_names"]) != names or means.shape != (len(names),) \
                or scales.shape != (len(names),):
            raise bad("feature names, means and scales do not match the columns")
        if not (np.all(np.isfinite(means)) and np.all(np.isfinite(scales)) and np.all(scales > 0)):
            raise bad("means/scales must be finite and scales > 0")
        return cls(X=None, y=None, feature_names=names, task=doc["task"], target=doc["target"],
                   classes=classes, means=means, scales=scales,
                   standardize=bool(doc["standardize"]), missing=doc["missing"], columns=columns,
                   report=list(doc.get("report", [])), rows=None,
                   dropped_columns=dict(doc.get("dropped_columns", {})),
                   dropped_rows=dict(doc.get("dropped_rows", {})),
                   missing_counts=dict(doc.get("missing_counts", {})),
                   max_categories=int(doc.get("max_categories", 50)),
                   source_name=str(doc.get("source_name", source_name)),
                   n_rows=int(doc.get("n_rows", 0)))


# ----------------------------------------------------------------------------- encoding

def _check_unique_columns(df, src):
    seen = {}
    for i, c in enumerate(df.columns, start=1):
        key = str(c)
        if key in seen:
            raise DataError(f"{src}: duplicate column name {show(key)} (columns {seen[key]} and {i})")
        seen[key] = i


def _encode(df, lookup, specs, missing, src):
    """Raw (unstandardized) design of ``df`` under ``specs``: ``(X, kept row positions, notes)``."""
    n = len(df)
    width = sum(s.width for s in specs)
    check_memory(8.0 * n * width, f"the {n:,} x {width} design matrix", src, factor=3.0)
    X = np.zeros((n, width))
    miss_any = np.zeros(n, dtype=bool)
    notes = []
    off = 0
    for spec in specs:
        s = df[lookup[spec.name]]
        na = s.isna().to_numpy()
        if spec.kind == "numeric":
            vals = _floats(s)
            bad = np.flatnonzero(np.isnan(vals) & ~na)
            if bad.size:
                raise DataError(f"{src}: column {show(spec.name)} holds {show(s.iloc[bad[0]])} at "
                                f"{_row(bad[0])}, but the model reads it as a number")
            inf = np.flatnonzero(np.isinf(vals))
            if inf.size:
                raise DataError(f"{src}: column {show(spec.name)} holds {vals[inf[0]]} at "
                                f"{_row(inf[0])}; infinite values are not usable")
            if missing == "mean" and na.any():
                vals = np.where(na, spec.fill[0], vals)
            X[:, off] = vals
        else:
            texts = _texts(s)
            codes = pd.Index(spec.levels).get_indexer(texts)
            unseen = (codes < 0) & ~na
            rows = np.flatnonzero(codes >= 0)
            X[rows, off + codes[rows]] = 1.0
            if unseen.any():
                new = list(dict.fromkeys(texts[unseen].tolist()))
                notes.append(f"column {show(spec.name)}: {int(unseen.sum()):,} rows hold levels "
                             f"unseen in training ({show_list(new, 4)}): all its indicators are 0")
            if missing == "mean" and na.any():
                X[np.ix_(na, np.arange(off, off + spec.width))] = np.asarray(spec.fill)
        if na.any():
            if missing == "error":
                first = np.flatnonzero(na)[0]
                raise DataError(f"{src}: column {show(spec.name)} has {int(na.sum()):,} missing "
                                f"values (first at {_row(first)}) and --missing error refuses them; "
                                f"use --missing drop or --missing mean")
            miss_any |= na
            if missing == "mean":
                notes.append(f"column {show(spec.name)}: {int(na.sum()):,} missing values filled "
                             f"with the training mean (--missing mean)")
        off += spec.width
    keep = np.arange(n)
    if missing == "drop" and miss_any.any():
        keep = np.flatnonzero(~miss_any)
        notes.append(f"left out {int(miss_any.sum()):,} rows with a missing feature value "
                     f"(--missing drop)")
        X = X[keep]
    return X, keep, notes


# ----------------------------------------------------------------------------- prepare

def prepare(df: pd.DataFrame, target: str, *, features=None, exclude=None, task: str = "auto",
            missing: str = "drop", standardize: bool = True, max_categories: int = 50,
            source_name: str | None = None) -> Prepared:
    """Prepare ``df`` for a penalized linear model of ``target`` (see the module docstring).

    ``features``: the columns to use (default: every column but the target); ``exclude``: columns
    to leave out. ``task``: 'auto', 'regression' or 'binary'. ``missing``: 'drop', 'mean' or
    'error'. ``source_name``: the name used in messages (default: the file the frame was read
    from, else 'data')."""
    src = _source(df, source_name)
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
    if isinstance(max_categories, bool) or int(max_categories) != max_categories \
            or max_categories < 2:
        raise ValueError(f"max_categories must be a whole number >= 2, got {max_categories!r}")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    _check_unique_columns(df, src)
    lookup = {str(c): c for c in df.columns}
    target = str(target)
    if target not in lookup:
        near = close_matches(target, lookup)
        hint = f" (did you mean {show_list(near)}?)" if near else ""
        raise DataError(f"{src}: no column {show(target)}{hint}; the columns are "
                        f"{show_list(lookup, 8)}")

    # feature columns
    names = _select_features(lookup, target, features, exclude, src)
    report: list[str] = []
    dropped_rows: dict[str, int] = {}
    dropped_cols: dict[str, str] = {}
    n_in = len(df)

    # target
    t = df[lookup[target]]
    t_na = t.isna().to_numpy()
    if t_na.all():
        raise DataError(f"{src}: target {show(target)} has no values (all {n_in:,} rows missing)")
    task_, classes, t_note = _target_task(t, t_na, target, task, src)
    report.append(t_note)
    if t_na.any():
        if missing == "error":
            raise DataError(f"{src}: target {show(target)} is missing on {int(t_na.sum()):,} rows "
                            f"(first at {_row(np.flatnonzero(t_na)[0])}) and --missing error "
                            f"refuses them")
        dropped_rows["target missing"] = int(t_na.sum())
        report.append(f"dropped {int(t_na.sum()):,} rows whose target {show(target)} is missing")
    rows_a = np.flatnonzero(~t_na)
    dfa = df.iloc[rows_a]

    # classify the feature columns on the rows with a target
    cand: list[tuple[str, str]] = []
    missing_counts: dict[str, int] = {}
    for name in names:
        s = dfa[lookup[name]]
        kind = _kind(s)
        na = s.isna().to_numpy()
        if kind == "datetime":
            dropped_cols[name] = "a date/time column (convert it to a number to use it)"
            continue
        if kind == "unsupported":
            dropped_cols[name] = f"values of type {s.dtype} are not usable"
            continue
        if na.all():
            dropped_cols[name] = f"all {len(s):,} values missing"
            continue
        if kind == "numeric":
            vals = _floats(s)
            inf = np.flatnonzero(np.isinf(vals))
            if inf.size:
                raise DataError(f"{src}: column {show(name)} holds {vals[inf[0]]} at "
                                f"{_row(rows_a[inf[0]])}; infinite values are not usable (leave "
                                f"the column out with --features)")
            present = vals[~na]
            if present.min() == present.max():
                dropped_cols[name] = f"constant (every value is {_fmt_num(present[0])})"
                continue
            if present.size >= 20 and np.all(present == np.round(present)) \
                    and np.unique(present).size == present.size:
                report.append(f"column {show(name)}: a different whole number on every row (an "
                              f"identifier?); kept as a number, leave it out with --features")
            cand.append((name, "numeric"))
        else:
            texts = _texts(s)
            levels = pd.unique(texts[~na])
            if len(levels) == 1:
                dropped_cols[name] = f"constant (every value is {show(levels[0])})"
                continue
            hint = _numeric_tokens(texts[~na])
            if len(levels) > max_categories:
                if hint:
                    tokens, count = hint
                    raise DataError(
                        f"{src}: column {show(name)} holds numbers and the text "
                        f"{show_list(tokens)} ({count:,} rows), so it reads as text with "
                        f"{len(levels):,} distinct values; pass --na-values {_na_hint(tokens)} to "
                        f"read them as missing, or leave the column out with --features")
                raise DataError(
                    f"{src}: column {show(name)} is text with {len(levels):,} distinct values, more "
                    f"than --max-categories {max_categories}, too many to one-hot encode; leave it "
                    f"out with --features or raise --max-categories")
            if hint:
                tokens, count = hint
                report.append(f"column {show(name)}: numbers and the text {show_list(tokens)} "
                              f"({count:,} rows), so its values are categories; pass --na-values "
                              f"{_na_hint(tokens)} if that text means missing")
            cand.append((name, "categorical"))
        if na.any():
            missing_counts[name] = int(na.sum())

    # missing values
    if missing_counts:
        counts = ", ".join(f"{show(k)} {v:,}" for k, v in missing_counts.items())
        if missing == "error":
            name = next(iter(missing_counts))
            first = np.flatnonzero(dfa[lookup[name]].isna().to_numpy())[0]
            raise DataError(f"{src}: column {show(name)} has {missing_counts[name]:,} missing values "
                            f"(first at {_row(rows_a[first])}) and --missing error refuses them; "
                            f"use --missing drop or --missing mean")
        report.append(f"missing values per column: {counts}"
                      + ("; filled with the training mean (--missing mean)" if missing == "mean"
                         else ""))
    rows_b = rows_a
    if missing == "drop" and missing_counts:
        any_na = np.zeros(len(rows_a), dtype=bool)
        for name in missing_counts:
            any_na |= dfa[lookup[name]].isna().to_numpy()
        rows_b = rows_a[~any_na]
        dropped_rows["missing feature value"] = int(any_na.sum())
        report.append(f"dropped {int(any_na.sum()):,} rows with a missing feature value "
                      f"(--missing drop)")
        if rows_b.size == 0:
            worst = sorted(missing_counts.items(), key=lambda kv: -kv[1])[:3]
            raise DataError(f"{src}: no rows left: every row misses some feature value; use "
                            f"--missing mean, or leave out the columns missing most: "
                            + ", ".join(f"{show(k)} ({v:,})" for k, v in worst))
    dfb = df.iloc[rows_b]

    # final specs on the rows kept
    specs: list[ColumnSpec] = []
    after_drop = (" once rows with missing values were dropped"
                  if dropped_rows.get("missing feature value") else "")
    for name, kind in cand:
        s = dfb[lookup[name]]
        na = s.isna().to_numpy()
        if kind == "numeric":
            vals = _floats(s)[~na]
            if vals.size == 0 or vals.min() == vals.max():
                dropped_cols[name] = (f"constant{after_drop} (every value is "
                                      f"{_fmt_num(vals[0])})" if vals.size else "no values left")
                continue
            specs.append(ColumnSpec(name, "numeric", None, [float(np.mean(vals))]))
        else:
            texts = _texts(s)[~na]
            levels = _sort_levels(pd.unique(texts).tolist())
            if len(levels) <= 1:
                dropped_cols[name] = (f"constant{after_drop} (every value is {show(levels[0])})"
                                      if levels else "no values left")
                continue
            codes = pd.Index(levels).get_indexer(texts)
            freq = np.bincount(codes, minlength=len(levels)) / len(codes)
            specs.append(ColumnSpec(name, "categorical", levels, [float(f) for f in freq]))
    for name, why in dropped_cols.items():
        report.append(f"column {show(name)}: dropped: {why}")
    if not specs:
        if not names:
            raise DataError(f"{src}: no feature column: the table has only the target "
                            f"{show(target)}" + (" once --features/--exclude are applied"
                                                 if features is not None or exclude else ""))
        reasons = "; ".join(f"{show(k)}: {v}" for k, v in list(dropped_cols.items())[:5])
        raise DataError(f"{src}: no usable feature column ({reasons})")

    # target on the kept rows
    y_src = dfb[lookup[target]]
    prep = Prepared(X=None, y=None, feature_names=[n for s in specs for n in s.output_names()],
                    task=task_, target=target, classes=classes,
                    means=np.zeros(0), scales=np.zeros(0), standardize=bool(standardize),
                    missing=missing, columns=specs, report=report,
                    dropped_columns=dropped_cols, dropped_rows=dropped_rows,
                    missing_counts=missing_counts, max_categories=int(max_categories),
                    source_name=src)
    y = prep._encode_target(y_src, src)
    distinct_y = np.unique(y)
    if distinct_y.size < 2:
        raise DataError(f"{src}: target {show(target)} is constant{after_drop} (every value is "
                        f"{show(y_src.iloc[0])})")

    for spec in specs:
        if spec.kind == "categorical":
            report.append(f"column {show(spec.name)}: one-hot encoded into {spec.width} indicator "
                          f"columns, one per level, no reference level ({show_list(spec.levels, 8)})")
    raw, keep, _ = _encode(dfb, lookup, specs, missing, src)
    p = raw.shape[1]
    if standardize:
        means = raw.mean(axis=0)
        scales = raw.std(axis=0)
        scales[~(scales > 0)] = 1.0  # cannot happen after the constant checks; kept as a guard
        report.append(f"standardized the {p} columns of X to mean 0 and standard deviation 1 "
                      f"(population sd); coefficients are reported in both scales")
    else:
        means, scales = np.zeros(p), np.ones(p)
        report.append("no standardization: X is used in original units")
    prep.means, prep.scales = means, scales
    prep.X = prep._standardize(raw)
    prep.y = y
    prep.rows = rows_b
    prep.n_rows = int(rows_b.size)
    report.append(f"result: {rows_b.size:,} rows (of {n_in:,}) x {p} features from "
                  f"{len(specs)} columns")
    return prep


def _select_features(lookup, target, features, exclude, src):
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


def _target_task(t: pd.Series, na, target, task, src):
    """(task, classes, report line) for the target column, or DataError."""
    kind = _kind(t)
    tv = t[~na]
    if kind in ("datetime", "unsupported"):
        raise DataError(f"{src}: target {show(target)} holds {t.dtype} values; it must be numbers "
                        f"(regression) or two labels (binary)")
    if kind == "numeric":
        vals = _floats(tv)
        inf = np.flatnonzero(np.isinf(vals))
        if inf.size:
            raise DataError(f"{src}: target {show(target)} holds {vals[inf[0]]} at "
                            f"{_row(np.flatnonzero(~na)[inf[0]])}; infinite values are not usable")
        distinct = np.unique(vals)
        labels = None
    else:
        texts = _texts(tv)
        distinct = pd.unique(texts)
        labels = distinct
    k = len(distinct)
    if k == 1:
        shown = _fmt_num(distinct[0]) if kind == "numeric" else show(distinct[0])
        raise DataError(f"{src}: target {show(target)} is constant: all {len(tv):,} values are "
                        f"{shown}")
    if kind == "numeric":
        few = ", ".join(_fmt_num(v) for v in distinct[:5]) + (", ..." if k > 5 else "")
    else:
        few = show_list(sorted(distinct.tolist(), key=str)[:5]) + (", ..." if k > 5 else "")
    hint = _numeric_tokens(texts) if kind != "numeric" else None
    if task == "binary" and k != 2:
        raise DataError(f"{src}: --task binary needs a target with 2 distinct values; "
                        f"{show(target)} has {k:,} ({few})")
    if task == "regression" and kind != "numeric":
        if hint:
            raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                            f"{show_list(hint[0])} ({hint[1]:,} rows); pass --na-values "
                            f"{_na_hint(hint[0])} to read them as missing")
        raise DataError(f"{src}: --task regression needs a numeric target; {show(target)} is text "
                        f"({few})")
    if task == "auto" and kind != "numeric" and k > 2:
        if hint:
            raise DataError(f"{src}: target {show(target)} holds numbers and the text "
                            f"{show_list(hint[0])} ({hint[1]:,} rows), so it reads as text; pass "
                            f"--na-values {_na_hint(hint[0])} to read them as missing")
        raise DataError(f"{src}: target {show(target)} is text with {k:,} distinct values ({few}); "
                        f"multiclass classification is not supported: regulab fits a regression "
                        f"(numeric target) or a binary classification (2 values)")
    if task == "regression" or (task == "auto" and k > 2):
        return "regression", None, (f"target {show(target)}: regression ({k:,} distinct numeric "
                                    f"values)" + (" (--task regression on 2 values)" if k == 2 else ""))
    # binary
    raw = tv.to_numpy(dtype=object)
    if kind == "numeric":
        vals = _floats(tv)
        order = np.argsort(vals, kind="stable")
        firsts = {}
        for i in order:
            firsts.setdefault(vals[i], raw[i])
        classes = [firsts[v] for v in sorted(firsts)]
    else:
        firsts = {}
        for text, v in zip(_texts(tv), raw):
            firsts.setdefault(text, v if isinstance(v, str) else text)
        classes = [firsts[k_] for k_ in sorted(firsts)]
    classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    y_text = _texts(tv)
    n1 = int(np.sum(y_text == _level_text(classes[1])))
    note = (f"target {show(target)}: binary, {show(classes[0])} -> 0 ({len(tv) - n1:,} rows), "
            f"{show(classes[1])} -> 1 ({n1:,} rows); the model gives P({target} = "
            f"{show(classes[1])})" + (" (2 distinct values; pass --task regression to fit it as a "
                                      "number)" if kind == "numeric" and task == "auto" else ""))
    return "binary", classes, note
