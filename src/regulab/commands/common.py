"""What the user-data commands share: checks of options, loading and preparing the table,
cross-validated fits with progress bars, number formatting, JSON output and output-path guards.

Conventions used by every command:

* **Loss.** A regression is fitted on the mean squared error, a binary task on the mean log-loss;
  the CV error is the held-out mean squared error or mean log-loss.
* **lam grid.** :func:`regulab.selection.path.lam_grid` with its defaults: ``n_lams`` values, geometric,
  from the penalty's ``lam_max`` down (for L2, anchored on the spectrum of the design), the same
  grid for the CV folds and the fit on all rows.
* **Numbers** are printed with 4 significant digits (:func:`fmt`); ``--json`` gives the same
  numbers at full precision.
* **Outputs** never replace an input file (:func:`guard_outputs`) and are written atomically.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from regulab.commands import console as _consoles
from regulab.core import validation
from regulab.core.losses import ERROR_NAME, LOSS_OF_TASK  # noqa: F401  (re-exported to commands)
from regulab.core.penalties import penalty_label, penalty_rho  # noqa: F401
from regulab.core.validation import InvalidValue
from regulab.data.reading import (
    DEFAULT_MAX_ROWS,
    DataError,
    LoadedTable,
    load_input,
    show_list,
)
from regulab.selection.cv import RULES  # noqa: F401  (re-exported to commands)

DEFAULT_FOLDS = 5
DEFAULT_N_LAMS = 100


class OptionError(ValueError):
    """A bad option value (exit status 2, one line)."""


# ----------------------------------------------------------------------------- consoles

def console() -> Console:
    """The standard-output console of every command (and of :mod:`regulab.cli`)."""
    return _consoles.console


def err_console() -> Console:
    """The standard-error console: progress bars, warnings and errors."""
    return _consoles.err_console


# ----------------------------------------------------------------------------- option checks

def split_list(values) -> list[str] | None:
    """``--features a,b --features c`` -> ``['a', 'b', 'c']`` (None when not given)."""
    if not values:
        return None
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        out.extend(part.strip() for part in str(v).split(",") if part.strip() != "")
    return out


def _option(check, *args, **kwargs):
    """Run a :mod:`regulab.core.validation` check; its error, which names the flag, becomes an
    :class:`OptionError` (exit status 2, one line)."""
    try:
        return check(*args, **kwargs)
    except InvalidValue as exc:
        raise OptionError(str(exc)) from None


def check_choice(value, choices, flag) -> str:
    """``value`` if it is one of ``choices``; OptionError naming ``flag`` otherwise."""
    return _option(validation.check_choice, value, choices, flag)


def check_int(value, flag, low) -> int:
    """``value`` as an int ``>= low``; OptionError naming ``flag`` otherwise."""
    return _option(validation.check_int, value, flag, low)


def check_float(value, flag, low=0.0, high=None, low_open=False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, ...`` with ``low_open``)."""
    return _option(validation.check_real, value, flag, low=low, high=high, low_open=low_open)


def penalty_ratio(penalty: str, l1_ratio: float | None) -> float:
    """``l1_ratio`` of a penalty name: 1 (L1), 0 (L2), ``--l1-ratio`` (elastic net, default 0.5)."""
    return _option(penalty_rho, penalty, l1_ratio, kind_name="--penalty", ratio_name="--l1-ratio")


# ----------------------------------------------------------------------------- loading

@dataclass
class DataOptions:
    """The options every data-reading command takes."""

    target: str | None = None
    features: list | None = None
    task: str = "auto"
    missing: str = "drop"
    standardize: bool = True
    sep: str | None = None
    encoding: str | None = None
    na_values: list | None = None
    max_rows: int | None = DEFAULT_MAX_ROWS
    seed: int = 0


@dataclass
class Loaded:
    """A loaded table, its preparation, and where it came from."""

    table: LoadedTable
    prep: object            # regulab.data.prepare.Prepared
    path: Path | None       # the input file (None for a built-in dataset)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def loss(self) -> str:
        return LOSS_OF_TASK[self.prep.task]

    def truth(self) -> dict | None:
        """True coefficient per feature for a built-in dataset with a known truth, else None."""
        tc = self.table.true_coef
        if not tc:
            return None
        return {n: float(tc.get(n, 0.0)) for n in self.prep.feature_names}


def input_path(source) -> Path | None:
    p = Path(str(source))
    return p if p.exists() else None


def load(source, opts: DataOptions) -> Loaded:
    """Read ``source`` (file or built-in name) and prepare it; DataError with one line if not."""
    from regulab.data.prepare import prepare

    check_choice(opts.task, ("auto", "regression", "binary"), "--task")
    check_choice(opts.missing, ("drop", "mean", "error"), "--missing")
    if opts.max_rows is not None:
        check_int(opts.max_rows, "--max-rows", 1)
    check_int(opts.seed, "--seed", 0)
    path = input_path(source)
    table = load_input(source, sep=opts.sep, encoding=opts.encoding, na_values=opts.na_values,
                       max_rows=opts.max_rows, seed=opts.seed)
    target = opts.target or table.target
    if target is None:
        cols = [str(c) for c in table.frame.columns]
        raise OptionError(f"{table.name}: --target is required: name the column to predict "
                          f"(the columns are {show_list(cols, 8)})")
    prep = prepare(table.frame, target, features=opts.features, task=opts.task,
                   missing=opts.missing, standardize=opts.standardize, source_name=table.name)
    from regulab.core.memory import guard_path

    guard_path(prep.X, loss="logistic" if prep.task == "binary" else "squared")
    return Loaded(table, prep, path)


def check_folds(loaded: Loaded, folds: int) -> int:
    from regulab.data.prepare import check_rows_for_cv

    folds = check_int(folds, "--cv", 2)
    p = loaded.prep
    check_rows_for_cv(p.X.shape[0], folds, y=p.y, task=p.task, classes=p.classes,
                      source_name=loaded.name)
    return folds


# ----------------------------------------------------------------------------- output guards

def same_file(a: Path, b: Path) -> bool:
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def guard_outputs(inputs, outputs, flag: str, what: str = "the input file") -> None:
    """Refuse (DataError) any output path that is one of the input files."""
    for out in outputs:
        for inp in inputs:
            if inp is not None and out is not None and same_file(out, inp):
                raise DataError(f"{out}: {flag} would overwrite {what} {str(inp)!r}; "
                                f"choose another path")


def guard_out_dir(inputs, out_dir, files) -> None:
    """``--out DIR``: DIR itself and every file written in it must not be an input file."""
    if out_dir is None:
        return
    out_dir = Path(out_dir)
    for inp in inputs:
        if inp is not None and same_file(out_dir, inp):
            raise DataError(f"{out_dir}: --out names the input file {str(inp)!r}; --out is a "
                            f"folder for the report")
    guard_outputs(inputs, [out_dir / f for f in files], "--out")


# ----------------------------------------------------------------------------- numbers

def fmt(value, digits: int = 4) -> str:
    """A number as printed in the tables (``digits`` significant digits); '-' for None/NaN."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if not math.isfinite(v):
        return "-"
    if v == 0.0:
        return "0"
    return f"{v:.{digits}g}"


def pm(mean, se) -> str:
    return f"{fmt(mean)} ± {fmt(se)}"


def emit_json(doc: dict) -> None:
    """Print one JSON document on standard output (NaN/inf as null)."""
    from regulab.core.io import jsonable

    sys.stdout.write(json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- progress

class Bars:
    """Rich progress bars on standard error, shown only on a terminal (never in pipes or
    captured output), removed when done."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and err_console().is_terminal
        self.progress = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=err_console(), transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def callback(self, description: str, total: int):
        """A callback ``f(k)`` that advances a new bar of ``total`` steps (None without bars)."""
        if self.progress is None:
            return None
        task = self.progress.add_task(description, total=total)
        return lambda k: self.progress.advance(task)


# ----------------------------------------------------------------------------- fitting

def grid_for(X, y, loss: str, rho: float, n_lams: int) -> np.ndarray:
    """The lam grid of every command: :func:`regulab.selection.path.lam_grid` with its defaults."""
    from regulab.selection.path import lam_grid

    return lam_grid(X, y, loss=loss, l1_ratio=rho, n_lams=n_lams)


@dataclass
class Fit:
    """A fit on all the prepared rows and how its lam was chosen."""

    coef: np.ndarray               # standardized units
    intercept: float
    lam: float
    rho: float
    loss: str
    how: str                       # "cv" or "given"
    rule: str | None
    folds: int
    cv: object                     # CVResult (over the grid, or at the given lam only)
    index: int                     # index of lam in cv.lams
    path: object | None            # PathResult on all the data over cv.lams (CV only)
    seed: int = 0

    @property
    def n_kept(self) -> int:
        return int(np.count_nonzero(self.coef))

    @property
    def cv_error(self) -> float:
        return float(self.cv.mean_error[self.index])

    @property
    def cv_se(self) -> float:
        return float(self.cv.se_error[self.index])

    def at_edge(self) -> str | None:
        """A warning when the CV minimum sits at an end of the grid (the best lam may lie
        beyond it)."""
        if self.how != "cv" or self.cv.lams.size < 3:
            return None
        i = self.cv.idx_min
        if i == self.cv.lams.size - 1:
            return (f"the CV error is smallest at the smallest lam of the grid "
                    f"({fmt(self.cv.lams[i])}): a weaker penalty might do as well or better; the "
                    f"penalty barely helps on these data")
        if i == 0:
            return (f"the CV error is smallest at the largest lam of the grid "
                    f"({fmt(self.cv.lams[i])}), where every coefficient is 0 (L1) or nearly "
                    f"0: the features predict no better than the mean")
        return None

    def lam_choice(self) -> dict:
        """How lam was chosen, as written to JSON and to the model file."""
        d = {"how": self.how, "lam": self.lam, "folds": self.folds, "seed": self.seed,
             "scoring": ERROR_NAME[self.loss], "cv_error": self.cv_error, "cv_se": self.cv_se}
        if self.how == "cv":
            cv, nnz = self.cv, self.path.nnz
            d.update({
                "rule": self.rule, "n_lams": int(cv.lams.size),
                "lam_min": cv.lam_min, "lam_1se": cv.lam_1se,
                "cv_error_min": float(cv.mean_error[cv.idx_min]),
                "cv_se_min": float(cv.se_error[cv.idx_min]),
                "cv_error_1se": float(cv.mean_error[cv.idx_1se]),
                "cv_se_1se": float(cv.se_error[cv.idx_1se]),
                "n_kept_min": int(nnz[cv.idx_min]), "n_kept_1se": int(nnz[cv.idx_1se]),
                "why": self.why()})
        else:
            d["why"] = self.why()
        return d

    def why(self) -> str:
        if self.how == "given":
            return (f"lam {fmt(self.lam)} given with --lam; its {self.folds}-fold CV "
                    f"{ERROR_NAME[self.loss]} is {pm(self.cv_error, self.cv_se)}")
        cv, nnz = self.cv, self.path.nnz
        i0, i1 = cv.idx_min, cv.idx_1se
        base = (f"{self.folds}-fold CV over {cv.lams.size} lams: lam_min = {fmt(cv.lam_min)} "
                f"(CV error {pm(cv.mean_error[i0], cv.se_error[i0])}, {int(nnz[i0])} kept), "
                f"lam_1se = {fmt(cv.lam_1se)} (CV error {pm(cv.mean_error[i1], cv.se_error[i1])}"
                f", {int(nnz[i1])} kept)")
        if self.rule == "1se":
            return (base + "; rule 1se: the largest lam whose CV error is within one standard "
                    "error of the minimum (the simplest model as good as the best)")
        return base + "; rule min: the lam of smallest CV error"


def fit_with_cv(X, y, *, loss, rho, folds, rule, n_lams, seed, lams=None, on_fold=None) -> Fit:
    from regulab.selection.cv import fit_cv

    grid = grid_for(X, y, loss, rho, n_lams) if lams is None else lams
    res = fit_cv(X, y, loss=loss, l1_ratio=rho, rule=rule, lams=grid, cv=folds, seed=seed,
                 on_fold=on_fold)
    return Fit(coef=res.coef, intercept=res.intercept, lam=res.lam, rho=rho, loss=loss, how="cv",
               rule=rule, folds=folds, cv=res.cv, index=res.index, path=res.path, seed=seed)


def fit_at_lam(X, y, *, loss, rho, lam, folds, seed, on_fold=None) -> Fit:
    """Fit at a given lam; its CV error is measured at that lam with ``folds`` folds."""
    from regulab.selection.cv import cross_validate_path
    from regulab.selection.path import regularization_path

    cvres = cross_validate_path(X, y, loss=loss, l1_ratio=rho, lams=[lam], cv=folds, seed=seed,
                                on_fold=on_fold)
    path = regularization_path(X, y, loss=loss, l1_ratio=rho, lams=[lam])
    return Fit(coef=path.coefs[:, 0].copy(), intercept=float(path.intercepts[0]), lam=float(lam),
               rho=rho, loss=loss, how="given", rule=None, folds=folds, cv=cvres, index=0,
               path=None, seed=seed)


def cv_folds(n: int, y, loss: str, folds: int, seed: int, n_repeats: int = 1):
    """The folds :func:`regulab.selection.cv.cross_validate_path` used (same splitter, same seed)."""
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    splitter = (RepeatedStratifiedKFold if loss == "logistic" else RepeatedKFold)(
        n_splits=int(folds), n_repeats=int(n_repeats), random_state=int(seed))
    return list(splitter.split(np.zeros((n, 1)), np.asarray(y, dtype=float)))


def out_of_fold(X, y, fit: Fit) -> np.ndarray | None:
    """Out-of-fold linear predictions at the chosen lam: every row predicted by the fold model
    that did not see it. None if the folds cannot be rebuilt exactly (checked against the
    stored fold errors)."""
    from regulab.selection.cv import held_out_error

    cv = fit.cv
    if cv.n_repeats != 1:
        return None
    folds = cv_folds(X.shape[0], y, fit.loss, cv.n_splits, fit.seed)
    if len(folds) != cv.fold_coefs.shape[0]:
        return None
    z = np.full(X.shape[0], np.nan)
    k = fit.index
    for f, (_, test) in enumerate(folds):
        zf = X[test] @ cv.fold_coefs[f][:, k] + cv.fold_intercepts[f, k]
        err = held_out_error(fit.loss, cv.scoring, y[test], zf[:, None])[0]
        if not np.isclose(err, cv.fold_errors[f, k], rtol=1e-8, atol=1e-12):
            return None
        z[test] = zf
    return None if np.isnan(z).any() else z


def calibration_slope_oof(X, y, fit: Fit) -> float | None:
    """Held-out calibration slope from the out-of-fold predictions at the chosen lam (1 is
    ideal; < 1 predictions too extreme, > 1 too timid): least squares of y on the prediction
    (regression), logistic regression of y on the predicted log-odds (binary)."""
    from regulab.selection.calibration import (
        calibration_slope,
        logistic_calibration_slope,
    )

    z = out_of_fold(X, y, fit)
    if z is None:
        return None
    slope = (calibration_slope(y, z) if fit.loss == "squared"
             else logistic_calibration_slope(y, z))
    return None if not math.isfinite(slope) else float(slope)


def training_error(X, y, loss: str, coefs, intercepts) -> np.ndarray:
    """Error on the rows the path was fitted on, per lam (for the CV-curve figure)."""
    from regulab.selection.cv import SCORINGS, held_out_error

    z = np.asarray(X @ coefs) + np.asarray(intercepts)[None, :]
    return held_out_error(loss, SCORINGS[loss][0], y, z)


def truth_summary(truth: dict | None, names, coef) -> dict | None:
    """Precision and recall of the kept set against the true non-zero coefficients."""
    if not truth:
        return None
    true_nz = [n for n in names if truth.get(n, 0.0) != 0.0]
    kept = [n for n, c in zip(names, coef) if c != 0.0]
    hit = [n for n in kept if n in true_nz]
    return {"true_nonzero": true_nz, "n_true_nonzero": len(true_nz), "n_kept": len(kept),
            "kept_and_true": len(hit),
            "missed": [n for n in true_nz if n not in kept],
            "false_kept": [n for n in kept if n not in true_nz],
            "recall": len(hit) / len(true_nz) if true_nz else None,
            "precision": len(hit) / len(kept) if kept else None}


def source_doc(loaded: Loaded) -> dict:
    src = dict(loaded.table.frame.attrs.get("regulab_source", {}))
    return {"name": loaded.name, "builtin": loaded.table.builtin, **{
        k: v for k, v in src.items() if k in ("format", "delimiter", "encoding", "rows",
                                               "columns", "seed")}}


def preparation_doc(prep) -> dict:
    return {"rows": int(prep.X.shape[0]), "features": int(prep.n_features),
            "target": prep.target, "task": prep.task, "classes": prep.to_dict()["classes"],
            "standardized": bool(prep.standardize), "missing": prep.missing,
            "steps": list(prep.report), "dropped_columns": dict(prep.dropped_columns),
            "dropped_rows": dict(prep.dropped_rows), "missing_counts": dict(prep.missing_counts)}
