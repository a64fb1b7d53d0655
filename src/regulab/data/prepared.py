"""A prepared design and everything needed to reproduce it: :class:`Prepared`.

:func:`regulab.data.prepare.prepare` builds it; :meth:`Prepared.apply` applies the same preparation
(columns, levels, fill values, means and scales) to a new table, and :meth:`Prepared.to_dict` /
:meth:`Prepared.from_dict` store it as plain JSON (no data, no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regulab.data.checks import check_unique_names
from regulab.data.encoding import ColumnSpec, encode_design, feature_groups
from regulab.data.errors import DataError
from regulab.data.messages import close_matches, plural, show, show_list, table_name
from regulab.data.standardize import (
    standardize_in_place,
    to_original_units,
    to_standardized_units,
)
from regulab.data.target import encode_target

TASKS = ("auto", "regression", "binary", "count", "multiclass")
MISSING = ("drop", "mean", "error")
FORMAT = "regulab-preparation"
#: 2: a categorical column has a reference level without an indicator (``reference``).
#: 1 (read, never written): one indicator per level; such a file keeps that encoding.
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)


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
    def groups(self) -> list[str]:
        """The source column of each feature (:func:`regulab.data.encoding.feature_groups`):
        ``groups=`` of the group lasso, so a categorical column is kept or dropped whole."""
        return feature_groups(self.columns)

    @property
    def class_mapping(self) -> dict | None:
        """``{original label: its code}``: 0 or 1 for a binary task, 0..K-1 for a multiclass
        one."""
        return None if self.classes is None else {c: k for k, c in enumerate(self.classes)}

    # -- units -------------------------------------------------------------------------
    def to_original_units(self, coef_std, intercept_std=0.0):
        """Coefficients fitted on the standardized X -> ``(coef, intercept)`` on the raw columns
        (numbers in their own units, indicators per 0/1): ``coef = c / scale`` and
        ``intercept = b - sum(c * mean / scale)``. ``coef_std`` may be ``[p]`` or ``[p, k]`` (a
        path), ``intercept_std`` a scalar or ``[k]``."""
        return to_original_units(coef_std, intercept_std, self.means, self.scales)

    def to_standardized_units(self, coef, intercept=0.0):
        """The inverse of :meth:`to_original_units`."""
        return to_standardized_units(coef, intercept, self.means, self.scales)

    # -- new data ------------------------------------------------------------------------
    def apply(self, df: pd.DataFrame, *, source_name: str | None = None) -> Applied:
        """The same preparation on a new table: same columns, levels, fill values, means and scales.

        A column the preparation needs and ``df`` lacks is a DataError naming it. A level unseen in
        training gives all zeros in that column's indicators (before standardization), reported.
        Missing values follow the training policy (``drop``: the row is left out, see
        ``Applied.rows``). ``y`` is the encoded target when ``df`` has the target column (NaN where
        missing), else None."""
        src = table_name(df, source_name)
        check_unique_names([str(c) for c in df.columns], src)
        lookup = {str(c): c for c in df.columns}
        need = [c.name for c in self.columns if c.name not in lookup]
        if need:
            near = close_matches(need[0], lookup)
            hint = f" (did you mean {show(near[0])}?)" if near else ""
            raise DataError(f"{src}: column {show(need[0])} is needed by the model but missing"
                            f"{hint}" + (f"; also missing: {show_list(need[1:])}" if need[1:] else ""))
        raw, keep, notes = encode_design(df, lookup, self.columns, self.missing, src)
        X = standardize_in_place(raw, self.means, self.scales, self.standardize)
        y = None
        if self.target in lookup:
            y = encode_target(df[lookup[self.target]], self.task, self.classes, self.target,
                              src)[keep]
        report = list(notes)
        report.append(f"prepared {len(keep):,} of {plural(len(df))} x {X.shape[1]} features")
        return Applied(X, keep, y, report)

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
            "columns": [_column_doc(c) for c in self.columns],
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
        _check_header(doc, bad)
        columns = _columns_from_doc(doc["columns"], doc["version"], bad)
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
                   classes=doc.get("classes"), means=means, scales=scales,
                   standardize=bool(doc["standardize"]), missing=doc["missing"], columns=columns,
                   report=list(doc.get("report", [])), rows=None,
                   dropped_columns=dict(doc.get("dropped_columns", {})),
                   dropped_rows=dict(doc.get("dropped_rows", {})),
                   missing_counts=dict(doc.get("missing_counts", {})),
                   max_categories=int(doc.get("max_categories", 50)),
                   source_name=str(doc.get("source_name", source_name)),
                   n_rows=int(doc.get("n_rows", 0)))


def _check_header(doc, bad) -> None:
    """Format, version, the keys every preparation has, the task, the policy and the classes."""
    if not isinstance(doc, dict):
        raise bad("expected a JSON object")
    if doc.get("format") != FORMAT:
        raise bad(f"'format' is {show(doc.get('format'))}, expected {FORMAT!r}")
    version = doc.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        raise bad(f"version {show(version)}; this regulab reads versions "
                  f"{' and '.join(map(str, READ_VERSIONS))}")
    for key in ("target", "task", "standardize", "missing", "columns", "feature_names",
                "means", "scales"):
        if key not in doc:
            raise bad(f"no {key!r}")
    if doc["task"] not in TASKS[1:]:
        raise bad(f"task {show(doc['task'])}")
    if doc["missing"] not in MISSING:
        raise bad(f"missing {show(doc['missing'])}")
    classes = doc.get("classes")
    if doc["task"] == "binary" and (not isinstance(classes, list) or len(classes) != 2):
        raise bad("a binary task needs two classes")
    if doc["task"] == "multiclass" and (not isinstance(classes, list) or len(classes) < 3):
        raise bad("a multiclass task needs three or more classes")


def _column_doc(c: ColumnSpec) -> dict:
    doc = {"name": c.name, "kind": c.kind, "levels": c.levels,
           "fill": [float(f) for f in c.fill]}
    if c.kind == "categorical":
        doc["reference"] = c.reference
    return doc


def _columns_from_doc(entries, version, bad) -> list[ColumnSpec]:
    """The column entries of a stored preparation as :class:`ColumnSpec`; ``bad(why)`` if one is
    malformed. Version 1 has no reference level (one indicator per level); from version 2 a
    categorical column names its reference, one of its levels."""
    columns = []
    for c in entries:
        if not isinstance(c, dict) or c.get("kind") not in ("numeric", "categorical") \
                or not isinstance(c.get("name"), str):
            raise bad(f"column entry {show(c)}")
        levels = c.get("levels")
        if c["kind"] == "categorical" and (not isinstance(levels, list) or not levels):
            raise bad(f"column {show(c['name'])} has no levels")
        levels = [str(v) for v in levels] if levels else None
        reference = None
        if c["kind"] == "categorical" and version >= 2:
            reference = c.get("reference")
            if not isinstance(reference, str) or reference not in levels:
                raise bad(f"column {show(c['name'])}: reference level {show(reference)} is not "
                          f"one of its levels")
        spec = ColumnSpec(c["name"], c["kind"], levels, [float(f) for f in c.get("fill") or []],
                          reference)
        if len(spec.fill) not in (0, spec.width):
            raise bad(f"column {show(c['name'])} has {len(spec.fill)} fill values")
        columns.append(spec)
    return columns
