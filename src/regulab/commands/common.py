"""What the user-data commands share: checks of options, loading and preparing the table, and the
names every command imports from here (re-exported from the modules that hold them).

* :mod:`regulab.commands.fitting`: the lam grid, cross-validated fits (:class:`Fit`), out-of-fold
  calibration, training error, the kept set against a known truth;
* :mod:`regulab.commands.output`: the consoles, progress bars, number formatting, JSON output;
* :mod:`regulab.commands.guards`: output paths, checked before any data is read: writable, and
  never an input.

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

from dataclasses import dataclass
from pathlib import Path

from regulab.commands.fitting import (  # noqa: F401  (re-exported to commands)
    Fit,
    calibration_slope_oof,
    column_verdicts,
    cv_folds,
    fit_at_lam,
    fit_with_cv,
    grid_for,
    out_of_fold,
    training_error,
    truth_summary,
    verdict_line,
)
from regulab.commands.guards import (  # noqa: F401  (re-exported to commands)
    check_output_dir,
    check_output_file,
    guard_out_dir,
    guard_outputs,
    same_file,
)
from regulab.commands.output import Bars, console, emit_json, err_console, fmt, pm  # noqa: F401
from regulab.core import validation
from regulab.core.losses import ERROR_NAME, LOSS_OF_TASK  # noqa: F401  (re-exported to commands)
from regulab.core.penalties import penalty_label, penalty_rho  # noqa: F401
from regulab.core.validation import InvalidValue
from regulab.data.errors import DataError  # noqa: F401  (re-exported to commands)
from regulab.data.messages import show_list
from regulab.data.reading import DEFAULT_MAX_ROWS, LoadedTable, load_input
from regulab.selection.cv import RULES  # noqa: F401  (re-exported to commands)

DEFAULT_FOLDS = 5
DEFAULT_N_LAMS = 100


class OptionError(ValueError):
    """A bad option value (exit status 2, one line)."""


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


def check_grouped(grouped: bool, rho: float) -> bool:
    """``--grouped`` needs an L1 part (the group penalty replaces it); OptionError otherwise."""
    if grouped and rho == 0.0:
        raise OptionError("--grouped makes the L1 part a group penalty (a categorical column kept "
                          "or dropped whole): it needs --penalty l1 or elasticnet, not l2")
    return bool(grouped)


def check_grouped_box(grouped: bool, box) -> None:
    """``--grouped`` has no per-feature factors or bounds (the group solver takes neither)."""
    if grouped and box:
        raise OptionError("--grouped cannot go with --unpenalized, --penalty-factor, "
                          "--nonnegative or --adaptive (the group lasso here has no per-feature "
                          "factors or bounds)")


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
    exclude: list | None = None
    max_categories: int | None = None   # None: prepare()'s default


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
    """``source`` as a path when it names an existing file (None for a built-in name)."""
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
    categories = {} if opts.max_categories is None else {
        "max_categories": check_int(opts.max_categories, "--max-categories", 2)}
    path = input_path(source)
    table = load_input(source, sep=opts.sep, encoding=opts.encoding, na_values=opts.na_values,
                       max_rows=opts.max_rows, seed=opts.seed)
    target = opts.target or table.target
    if target is None:
        cols = [str(c) for c in table.frame.columns]
        raise OptionError(f"{table.name}: --target is required: name the column to predict "
                          f"(the columns are {show_list(cols, 8)})")
    prep = prepare(table.frame, target, features=opts.features, exclude=opts.exclude,
                   task=opts.task, missing=opts.missing, standardize=opts.standardize,
                   source_name=table.name, **categories)
    from regulab.core.memory import guard_path

    guard_path(prep.X, loss="logistic" if prep.task == "binary" else "squared")
    return Loaded(table, prep, path)


def check_folds(loaded: Loaded, folds: int) -> int:
    """``--cv``: a whole number >= 2 that the prepared rows (and classes) can be split into."""
    from regulab.data.checks import check_rows_for_cv

    folds = check_int(folds, "--cv", 2)
    p = loaded.prep
    check_rows_for_cv(p.X.shape[0], folds, y=p.y, task=p.task, classes=p.classes,
                      source_name=loaded.name)
    return folds


# ----------------------------------------------------------------------------- documents

def source_doc(loaded: Loaded) -> dict:
    """Where the table came from, as written to ``--json`` and ``results.json``."""
    src = dict(loaded.table.frame.attrs.get("regulab_source", {}))
    return {"name": loaded.name, "builtin": loaded.table.builtin, **{
        k: v for k, v in src.items() if k in ("format", "delimiter", "encoding", "rows",
                                               "columns", "seed")}}


def preparation_doc(prep) -> dict:
    """What the preparation did (rows, features, task, every drop and fill), for the same."""
    return {"rows": int(prep.X.shape[0]), "features": int(prep.n_features),
            "target": prep.target, "task": prep.task, "classes": prep.to_dict()["classes"],
            "standardized": bool(prep.standardize), "missing": prep.missing,
            "steps": list(prep.report), "dropped_columns": dict(prep.dropped_columns),
            "dropped_rows": dict(prep.dropped_rows), "missing_counts": dict(prep.missing_counts)}
