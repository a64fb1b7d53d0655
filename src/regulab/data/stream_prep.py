"""The preparation of :mod:`regulab.data.prepare`, decided from one or two streamed passes.

The same rules, in the same order, with the same report lines, but from counts gathered batch by
batch instead of a table in memory (:mod:`regulab.data.streaming`):

* **pass 1** (every row): the target's kind and distinct values (task, classes), every column's
  kind, its missing values on the rows with a target, its range (numbers) or levels (text, at
  most ``max_categories + 1`` kept); columns dropped as in memory (date/time, all missing,
  constant), text with too many levels refused;
* **pass 2** (the rows kept: target present and, with ``missing='drop'``, no missing value in a
  candidate column): the rows dropped, each numeric column's range and mean (the ``'mean'``
  fill), each categorical column's level counts (reference level = the most frequent, ties by
  sorted order; indicator frequencies as fill), as :func:`regulab.data.encoding.column_spec`.
  Pass 1 also gathers these counts on the rows with a target; when those are the rows kept
  (``missing`` is ``'mean'``/``'error'``, or no candidate column misses a value on a row with
  a target: the common case) they are pass 2's answer, the same bits, and pass 2 is not read.
  Each pass reads only the target and the feature columns (never the weights).

Each pass counts per partition (one task per Parquet row group on a Dask ``client``) and the
counts are merged in partition order. Standardization moments come from the statistics pass itself (means and population sds of the
raw encoded design, merged as in :mod:`regulab.data.stream_stats`); :func:`finish` writes them and
the last report lines. A batch of rows becomes rows of the raw design with
:func:`encode_batch`, which is :func:`regulab.data.encoding.encode_design` on that batch.

Differences from memory, by necessity: the target of a regression counts its distinct values up
to :data:`DISTINCT_CAP` ("more than ..." beyond), and a CSV column's kind is the first batch's
(a later batch with text in a numeric column is refused, naming the column).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from regulab.data.columns import find_target, select_features
from regulab.data.encoding import ColumnSpec, encode_design, one_hot_line
from regulab.data.errors import DataError
from regulab.data.messages import plural, show
from regulab.data.prep_report import PrepReport
from regulab.data.prepared import MISSING, TASKS, Prepared
from regulab.data.streaming import run_partitions
from regulab.data.target import encode_target, target_task
from regulab.data.values import floats, fmt_num, sort_levels, texts, value_kind

#: distinct target values remembered (a regression target with more is reported as "more than")
DISTINCT_CAP = 100_000


@dataclass
class _Col:
    kind: str | None = None
    na: int = 0                      # missing on rows with a target
    lo: float = np.inf
    hi: float = -np.inf
    total: float = 0.0               # pass 2: sum of present values (numeric)
    count: int = 0                   # pass 2: present values
    levels: dict = field(default_factory=dict)   # level text -> count


@dataclass
class StreamPrep:
    """A streamed preparation before its statistics pass: ``specs``, the task, the report so
    far, the weight column and how many rows each pass saw."""

    target: str
    task: str
    classes: list | None
    specs: list
    missing: str
    standardize: bool
    max_categories: int
    report: PrepReport
    weights: str | None
    candidates: list
    n_in: int
    n_kept: int
    source_name: str
    offset: str | None = None        # the Poisson offset column (its log if ``exposure``)
    exposure: bool = False
    #: preparation passes read (1 when pass 1's counts answered pass 2, see the module docstring)
    prep_passes: int = 2

    @property
    def width(self) -> int:
        return sum(s.width for s in self.specs)

    @property
    def columns_read(self) -> list[str]:
        cols = [self.target] + [c for c, _ in self.candidates]
        return cols + [c for c in (self.weights, self.offset) if c]


def _kind_of(cols, name, s, src):
    kind = value_kind(s)
    c = cols[name]
    if c.kind is None or c.kind == kind or s.isna().all():
        c.kind = c.kind or kind
        return c.kind
    raise DataError(f"{src}: column {show(name)} reads as {c.kind} in the first rows and as "
                    f"{kind} later; fix its values or read it from Parquet")


def _scan(source, part, target, names, src):
    """Pass 1 on one partition: the target's distinct values and every column's kind, missing
    count and range or levels on the rows with a target; and, on those same rows, pass 2's
    counts of every numeric or text column (:func:`_count_kept`), which are pass 2's answer
    whenever the rows kept are the rows with a target (:func:`_speculation_holds`). A text
    column's pass-2 counts stop (its name in the returned set) beyond
    :data:`MAX_LEVELS_SEEN` levels, keeping memory bounded."""
    tcol = _Col()
    distinct: dict = {}
    cols = {n: _Col() for n in names}
    kept = {n: _Col() for n in names}
    stopped: set = set()
    n_in = 0
    for _, df in source.frames(part, [target] + names):
        n_in += len(df)
        t = df[target]
        _kind_of({target: tcol}, target, t, src)
        t_na = t.isna().to_numpy()
        tcol.na += int(t_na.sum())
        if len(distinct) <= DISTINCT_CAP:
            _count_values(distinct, t[~t_na].value_counts(sort=False))
        dfa = df[~t_na]
        for n in names:
            s = dfa[n]
            kind = _kind_of(cols, n, s, src)
            c = cols[n]
            na = s.isna().to_numpy()
            c.na += int(na.sum())
            vals = None
            if kind == "numeric":
                vals = floats(s)[~na]
                if vals.size:
                    c.lo, c.hi = min(c.lo, float(vals.min())), max(c.hi, float(vals.max()))
            elif kind == "text":
                vals = texts(s)[~na]
                if len(c.levels) <= MAX_LEVELS_SEEN:
                    for lv in pd.unique(vals):
                        c.levels.setdefault(lv, 0)
            if vals is not None and n not in stopped:
                k = kept[n]
                k.kind = k.kind or ("numeric" if kind == "numeric" else "categorical")
                _count_kept(k, vals)
                if len(k.levels) > MAX_LEVELS_SEEN:
                    stopped.add(n)
                    k.levels = {}
    return tcol, distinct, cols, n_in, kept, stopped


def _merge_col(a: _Col, b: _Col, name, src) -> _Col:
    """Two partitions' counts of one column, ``a`` first (levels in order of first sight)."""
    if a.kind is not None and b.kind is not None and a.kind != b.kind:
        raise DataError(f"{src}: column {show(name)} reads as {a.kind} in some rows and as "
                        f"{b.kind} in others; fix its values or read it from Parquet")
    levels = dict(a.levels)
    for lv, k in b.levels.items():
        levels[lv] = levels.get(lv, 0) + k
    return _Col(a.kind or b.kind, a.na + b.na, min(a.lo, b.lo), max(a.hi, b.hi),
                a.total + b.total, a.count + b.count, levels)


def _scan_all(source, target, names, src, client):
    """Pass 1 over every partition (on ``client`` when given), merged in partition order; its
    pass-2 counts merged as :func:`_second_pass` merges them."""
    parts = run_partitions(_scan, source, (target, names, src), client)
    tcol, distinct, cols, n_in = _Col(), {}, {n: _Col() for n in names}, 0
    kept, stopped = {n: _Col() for n in names}, set()
    for t, d, c, m, kc, st in parts:
        tcol = _merge_col(tcol, t, target, src)
        _merge_distinct(distinct, d)
        cols = {n: _merge_col(cols[n], c[n], n, src) for n in names}
        stopped |= st
        kept = {n: (kept[n] if n in stopped else _merge_col(kept[n], kc[n], n, src))
                for n in names}
        n_in += m
    overflow = len(distinct) > DISTINCT_CAP
    return tcol, distinct, overflow, cols, n_in, kept, stopped


MAX_LEVELS_SEEN = 10_000


def _count_values(distinct: dict, vc: pd.Series) -> None:
    """Adds one batch's value counts ``vc`` (unique values in order of first sight) to
    ``distinct``. Into an empty dict in one C-level update where pandas and Python agree on
    which values are equal (numbers and booleans; not objects, where ``1 == True``); else
    value by value."""
    counts = vc.to_numpy().tolist()
    if not distinct and vc.index.dtype.kind in "fiub":
        distinct.update(zip(vc.index, counts))
        return
    for v, k in zip(vc.index, counts):
        distinct[v] = distinct.get(v, 0) + k


def _merge_distinct(distinct: dict, d: dict) -> None:
    """Adds a partition's distinct values ``d`` to ``distinct``, capped as in a partition (a
    continuous target's values would otherwise all be kept, memory growing with the rows): a
    value already there adds its count, a new one enters while at most :data:`DISTINCT_CAP`
    are there. Once full, only the values in both are visited (a set intersection)."""
    if len(distinct) > DISTINCT_CAP:
        for v in d.keys() & distinct.keys():
            distinct[v] += d[v]
        return
    for v, k in d.items():
        if v in distinct:
            distinct[v] += k
        elif len(distinct) <= DISTINCT_CAP:
            distinct[v] = k


def _target_step(tcol, distinct, overflow, target, task, n_with, src, report):
    """The task and classes from the target's distinct values (the decision of
    :func:`regulab.data.target.target_task`, fed one row per distinct value)."""
    if n_with == 0:
        raise DataError(f"{src}: target {show(target)} has no values (all missing)")
    values = pd.Series(list(distinct)) if tcol.kind == "numeric" else pd.Series(
        list(distinct), dtype=object)
    if n_with == 1:
        raise DataError(f"{src}: only 1 row has a value of target {show(target)}; a fit needs at "
                        f"least 2 rows (and cross-validation more)")
    try:
        task_, classes, note = target_task(values, np.zeros(len(values), dtype=bool), target,
                                           task, src)
    except DataError as exc:   # a count below 0: the message counts rows, not distinct values
        neg = [v for v in distinct if tcol.kind == "numeric" and float(v) < 0]
        if not neg or task != "count":
            raise
        rows = sum(distinct[v] for v in neg)
        raise DataError(str(exc).replace(f"has {plural(len(neg))} below 0",
                                         f"has {plural(rows)} below 0")) from None
    if task_ == "regression" and overflow:
        note = note.replace(f"({len(values):,} distinct", f"(more than {DISTINCT_CAP:,} distinct")
    return task_, classes, note


def _classify(cols, names, max_categories, report, src):
    """Pass 1's verdicts, as :func:`regulab.data.columns.classify_columns`."""
    candidates = []
    for n in names:
        c = cols[n]
        if c.kind == "datetime":
            report.drop_column(n, "a date/time column (convert it to a number to use it)")
        elif c.kind == "unsupported":
            report.drop_column(n, "values of type not usable")
        elif c.kind == "numeric" and c.lo > c.hi:
            report.drop_column(n, "all values missing")
        elif c.kind == "text" and not c.levels:
            report.drop_column(n, "all values missing")
        elif c.kind == "numeric" and c.lo == c.hi:
            report.drop_column(n, f"constant (every value is {fmt_num(c.lo)})")
        elif c.kind == "text" and len(c.levels) == 1:
            report.drop_column(n, f"constant (every value is {show(next(iter(c.levels)))})")
        elif c.kind == "text" and len(c.levels) > max_categories:
            raise DataError(
                f"{src}: column {show(n)} is text with {len(c.levels):,} distinct values, more "
                f"than --max-categories {max_categories}, too many to one-hot encode; leave it "
                f"out with --features or raise --max-categories")
        else:
            candidates.append((n, "numeric" if c.kind == "numeric" else "categorical"))
            if c.na:
                report.missing_counts[n] = c.na
    return candidates


def kept_mask(df, target, candidates, missing) -> np.ndarray:
    """Rows of a batch the preparation keeps: a target, and no missing candidate value with
    ``missing='drop'``."""
    keep = ~df[target].isna().to_numpy()
    if missing == "drop":
        for n, _ in candidates:
            keep &= ~df[n].isna().to_numpy()
    return keep


def _count_kept(c: _Col, vals) -> None:
    """Pass 2's counts of one column on the present values ``vals`` of one batch's rows kept
    (``floats`` of a numeric column, ``texts`` of a categorical one): numeric range, sum and
    count, or categorical level counts, added to ``c``."""
    if c.kind == "numeric":
        if vals.size:
            c.lo, c.hi = min(c.lo, float(vals.min())), max(c.hi, float(vals.max()))
            c.total += float(vals.sum())
            c.count += vals.size
    else:
        vc = pd.Series(vals, dtype=object).value_counts(sort=False)
        for lv, cnt in vc.items():
            c.levels[lv] = c.levels.get(lv, 0) + int(cnt)


def _second(source, part, target, candidates, missing):
    """Pass 2 on one partition's rows kept: numeric range and sum, categorical level counts."""
    cols = {n: _Col(kind=k) for n, k in candidates}
    n_kept = 0
    for _, df in source.frames(part, [target] + [n for n, _ in candidates]):
        dfb = df[kept_mask(df, target, candidates, missing)]
        n_kept += len(dfb)
        for n, k in candidates:
            s = dfb[n]
            na = s.isna().to_numpy()
            _count_kept(cols[n], floats(s)[~na] if k == "numeric" else texts(s)[~na])
    return cols, n_kept


def _speculation_holds(report, candidates, missing, stopped) -> bool:
    """Pass 1's counts on the rows with a target are pass 2's answer (no second read) when
    those are the rows kept (``missing`` is not ``'drop'``, or no candidate misses a value on
    a row with a target) and every candidate's counts ran to the end."""
    if missing == "drop" and report.missing_counts:
        return False
    return not any(n in stopped for n, _ in candidates)


def _second_pass(source, target, candidates, missing, src, client):
    """Pass 2 over every partition (on ``client`` when given), merged in partition order."""
    parts = run_partitions(_second, source, (target, candidates, missing), client)
    cols = {n: _Col(kind=k) for n, k in candidates}
    n_kept = 0
    for c, m in parts:
        cols = {n: _merge_col(cols[n], c[n], n, src) for n, _ in candidates}
        n_kept += m
    return cols, n_kept


def _spec(name, c: _Col, after_drop):
    """:func:`regulab.data.encoding.column_spec` from pass 2's counts."""
    if c.kind == "numeric":
        if c.count == 0 or c.lo == c.hi:
            return None, (f"constant{after_drop} (every value is {fmt_num(c.lo)})" if c.count
                          else "no values left")
        return ColumnSpec(name, "numeric", None, [c.total / c.count]), None
    levels = sort_levels(list(c.levels))
    if len(levels) <= 1:
        return None, (f"constant{after_drop} (every value is {show(levels[0])})" if levels
                      else "no values left")
    counts = np.array([c.levels[lv] for lv in levels])
    reference = levels[int(np.argmax(counts))]
    tot = counts.sum()
    freq = [float(k / tot) for lv, k in zip(levels, counts) if lv != reference]
    return ColumnSpec(name, "categorical", levels, freq, reference), None


def scan_prepare(source, target: str, *, features=None, exclude=None, task: str = "auto",
                 missing: str = "drop", standardize: bool = True, max_categories: int = 50,
                 weights: str | None = None, client=None, offset: str | None = None,
                 exposure: bool = False) -> StreamPrep:
    """Passes 1 and 2 (module docstring): the preparation of ``source`` before its statistics
    pass. ``weights``: a column of sample weights (left out of the features). ``client``: a
    Dask client running one task per partition (counts merged in partition order).
    ``offset``: the Poisson offset column (``exposure``: its log is), left out of the
    features as in memory; its values are read and checked by the IRLS passes."""
    src = source.name
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
    lookup = {c: c for c in source.columns()}
    find_target(lookup, target, src)
    for col in (weights, offset):
        if col is not None:
            find_target(lookup, col, src)
    if offset is not None and offset == target:
        raise DataError(f"{src}: the exposure/offset column {show(offset)} is the target")
    names = [n for n in select_features(lookup, target, features, exclude, src)
             if n not in (weights, offset)]
    report = PrepReport()
    tcol, distinct, overflow, cols, n_in, kept, stopped = _scan_all(source, target, names, src,
                                                                     client)
    task_, classes, note = _target_step(tcol, distinct, overflow, target, task,
                                        n_in - tcol.na, src, report)
    if tcol.na:
        if missing == "error":
            raise DataError(f"{src}: target {show(target)} is missing on {plural(tcol.na)} and "
                            f"--missing error refuses them")
    candidates = _classify(cols, names, max_categories, report, src)
    if missing == "error" and report.missing_counts:
        name = next(iter(report.missing_counts))
        raise DataError(f"{src}: column {show(name)} has {report.missing_counts[name]:,} missing "
                        f"values and --missing error refuses them; use --missing drop or "
                        f"--missing mean")
    if _speculation_holds(report, candidates, missing, stopped):
        c2, n_kept, passes = {n: replace(kept[n], kind=k) for n, k in candidates}, n_in - tcol.na, 1
    else:
        c2, n_kept = _second_pass(source, target, candidates, missing, src, client)
        passes = 2
    _report_rows(report, note, tcol.na, target, n_in - tcol.na - n_kept, missing)
    specs = []
    for n, _ in candidates:
        spec, why = _spec(n, c2[n], report.after_drop)
        if spec is None:
            report.drop_column(n, why)
        else:
            specs.append(spec)
    report.list_dropped_columns()
    if not specs:
        raise DataError(f"{src}: no usable feature column")
    if task_ == "binary":
        report.lines[0] = _binary_note(distinct, classes, note)
    for spec in specs:
        if spec.kind == "categorical":
            report.note(one_hot_line(spec))
    return StreamPrep(target, task_, classes, specs, missing, bool(standardize),
                      int(max_categories), report, weights, candidates, n_in, n_kept, src,
                      offset, bool(exposure), passes)


def _report_rows(report, note, t_na, target, n_drop, missing):
    """The report lines of :mod:`regulab.data.missing`, in the same order and words."""
    report.note(note)
    if t_na:
        report.drop_rows("target missing", t_na,
                         f"dropped {plural(t_na)} whose target {show(target)} is missing")
    counts = report.missing_counts
    if counts:
        listed = ", ".join(f"{show(k)} {v:,}" for k, v in counts.items())
        report.note(f"missing values per column: {listed}"
                    + ("; filled with the training mean (--missing mean)"
                       if missing == "mean" else ""))
        if missing == "drop":
            report.drop_rows("missing feature value", n_drop,
                             f"dropped {plural(n_drop)} with a missing feature value "
                             f"(--missing drop)")


def _binary_note(distinct, classes, note):
    """The binary target's line with its true class counts (counted in pass 1)."""
    def count(c):
        return sum(k for v, k in distinct.items() if texts(pd.Series([v], dtype=object))[0]
                   == texts(pd.Series([c], dtype=object))[0])

    n0, n1 = count(classes[0]), count(classes[1])
    head, _, rest = note.partition(" -> 0 (")
    _, _, tail = rest.partition("); the model")
    return (f"{head} -> 0 ({plural(n0)}), {show(classes[1])} -> 1 ({plural(n1)}); the model"
            + tail)


def encode_batch(sp: StreamPrep, df: pd.DataFrame, src: str):
    """Rows of one batch -> ``(raw design [m, p], y [m], weights [m], kept positions in the
    batch)``: the rows :func:`kept_mask` keeps, encoded by
    :func:`regulab.data.encoding.encode_design` (raw, unstandardized) and
    :func:`regulab.data.target.encode_target`."""
    keep = np.flatnonzero(kept_mask(df, sp.target, sp.candidates, sp.missing))
    dfb = df.iloc[keep]
    lookup = {c: c for c in dfb.columns}
    X, rows, _ = encode_design(dfb, lookup, sp.specs, sp.missing, src)
    y = encode_target(dfb[sp.target], sp.task, sp.classes, sp.target, src)[rows]
    if sp.weights is None:
        w = np.ones(rows.size)
    else:
        w = floats(dfb[sp.weights])[rows]
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataError(f"{src}: weight column {show(sp.weights)} must hold finite numbers "
                            f">= 0 on every row kept")
    return X, y, w, keep[rows]


def finish(sp: StreamPrep, means, scales) -> Prepared:
    """The :class:`~regulab.data.prepared.Prepared` (``X = y = None``) with the standardization
    measured by the statistics pass, reported as in memory."""
    report = sp.report
    if not sp.standardize:
        means, scales = np.zeros(sp.width), np.ones(sp.width)
    report.standardization(sp.width, sp.standardize)
    report.result(sp.n_kept, sp.n_in, sp.width, len(sp.specs))
    return Prepared(X=None, y=None, feature_names=[n for s in sp.specs for n in s.output_names()],
                    task=sp.task, target=sp.target, classes=sp.classes, means=np.asarray(means),
                    scales=np.asarray(scales), standardize=sp.standardize, missing=sp.missing,
                    columns=sp.specs, report=report.lines, rows=None,
                    dropped_columns=report.dropped_columns, dropped_rows=report.dropped_rows,
                    missing_counts=report.missing_counts, max_categories=sp.max_categories,
                    source_name=sp.source_name, n_rows=int(sp.n_kept))
