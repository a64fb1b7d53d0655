"""What the user-data commands share: checks of options, loading and preparing the table, and the
names every command imports from here (re-exported from the modules that hold them).

* :mod:`regulab.commands.fitting`: the lam grid, cross-validated fits (:class:`Fit`), out-of-fold
  calibration, training error, the kept set against a known truth;
* :mod:`regulab.commands.output`: the consoles, progress bars, number formatting, JSON output;
* :mod:`regulab.commands.guards`: output paths, checked before any data is read: writable, and
  never an input.

Conventions used by every command:

* **Family and loss.** ``--family`` (default ``auto``: chosen from the target by
  :func:`regulab.data.target.target_task`, the choice and its reason printed) picks the loss: a
  regression (gaussian) is fitted on the mean squared error, a binary task (binomial) on the mean
  log-loss, a count (poisson) on the mean Poisson negative log-likelihood with the offset
  ``log(exposure)`` of ``--exposure`` or the ``--offset`` column; the CV error is the held-out
  mean squared error, mean log-loss or mean Poisson deviance. A multiclass target (multinomial)
  is fitted by ``regulab fit`` (:mod:`regulab.commands.multinomial`), drawn by ``regulab path``
  (:mod:`regulab.commands.multinomial_path`) and compared by ``regulab compare``
  (:mod:`regulab.commands.compare_multinomial`); the other commands refuse it
  (:func:`multinomial_fitter`).
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
    shown_lams,
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
from regulab.data.messages import show_list, show_row
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


def check_family_extras(loss: str, grouped=False, unpenalized=None, penalty_factor=None,
                        nonnegative=False, adaptive=False) -> None:
    """The Poisson solver has no groups, per-feature factors or bounds: refuse them in one line
    before any work."""
    given = [flag for flag, on in (("--grouped", grouped), ("--unpenalized", unpenalized),
                                   ("--penalty-factor", penalty_factor),
                                   ("--nonnegative", nonnegative), ("--adaptive", adaptive))
             if on]
    if loss == "poisson" and given:
        raise OptionError(f"the poisson family takes no {', '.join(given)} (its solver has no "
                          "groups, per-feature factors or bounds); leave them out or choose "
                          "another --family")


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
    family: str = "auto"
    exposure: str | None = None         # a column > 0; its log is the Poisson offset
    offset: str | None = None           # a column used as the Poisson offset as it is


@dataclass
class Loaded:
    """A loaded table, its preparation, and where it came from."""

    table: LoadedTable
    prep: object            # regulab.data.prepare.Prepared
    path: Path | None       # the input file (None for a built-in dataset)
    offset: object = None   # np.ndarray: the Poisson offset per prepared row, or None
    offset_doc: dict | None = None  # where the offset came from (column, exposure or offset)
    family_reason: str = ""  # why the family, beyond the target's line (e.g. --exposure given)

    @property
    def family(self) -> str:
        """glmnet's name of the fitted family: gaussian, binomial, poisson or multinomial."""
        from regulab.data.target import FAMILY_OF_TASK

        return FAMILY_OF_TASK[self.prep.task]

    def family_doc(self) -> dict:
        """The family, the loss and why (the target's line of the preparation report)."""
        why = next((x for x in self.prep.report if x.startswith("target ")), "")
        why = f"{self.family_reason}; {why}" if self.family_reason else why
        return {"family": self.family, "loss": self.loss, "why": why,
                "offset": self.offset_doc}

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


FAMILIES = ("auto", "gaussian", "binomial", "poisson", "multinomial")


def resolve_task(opts: DataOptions) -> str:
    """The task ``prepare`` is asked for, from ``--family`` and ``--task`` (they must agree when
    both are given); an exposure or offset column makes ``auto`` mean poisson."""
    from regulab.data.target import FAMILY_OF_TASK, TASK_OF_FAMILY

    family = check_choice(opts.family, FAMILIES, "--family")
    task = check_choice(opts.task, ("auto", "regression", "binary"), "--task")
    if opts.exposure is not None and opts.offset is not None:
        raise OptionError("give --exposure (a column > 0, its log is taken) or --offset (a "
                          "column used as it is), not both")
    with_offset = opts.exposure is not None or opts.offset is not None
    if family == "auto":
        return "count" if with_offset and task == "auto" else task
    if task != "auto" and TASK_OF_FAMILY[family] != task:
        raise OptionError(f"--family {family} and --task {task} disagree ({task} is family "
                          f"{FAMILY_OF_TASK[task]}); give one of them")
    if with_offset and family != "poisson":
        flag = "--exposure" if opts.exposure is not None else "--offset"
        raise OptionError(f"{flag} is used by --family poisson only, not by {family}")
    return TASK_OF_FAMILY[family]


def load(source, opts: DataOptions, *, multiclass: bool = False) -> Loaded:
    """Read ``source`` (file or built-in name) and prepare it; DataError with one line if not.
    A target with 3 or more classes is refused (:func:`multinomial_fitter`) unless
    ``multiclass`` (``regulab fit`` and ``regulab path``, which fit it with
    :mod:`regulab.commands.multinomial`)."""
    from regulab.data.prepare import prepare

    task = resolve_task(opts)
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
    column = opts.exposure if opts.exposure is not None else opts.offset
    exclude = opts.exclude
    if column is not None:
        check_offset_column(table, column, target)
        exclude = [*(exclude or []), column]
    prep = prepare(table.frame, target, features=opts.features, exclude=exclude,
                   task=task, missing=opts.missing, standardize=opts.standardize,
                   source_name=table.name, **categories)
    from regulab.core.memory import guard_path

    guard_path(prep.X, loss="logistic" if prep.task == "binary" else "squared")
    loaded = Loaded(table, prep, path)
    if column is not None:
        loaded.offset = offset_values(table, prep, column, opts.exposure is not None)
        kind = "exposure" if opts.exposure is not None else "offset"
        loaded.offset_doc = {"column": column, "kind": kind}
        if opts.family == "auto":
            loaded.family_reason = f"--{kind} {column} given with --family auto"
    if prep.task == "multiclass" and not multiclass:
        multinomial_fitter()  # compare: one coefficient per feature, no classes
    return loaded


def check_offset_column(table, column: str, target: str) -> None:
    """The exposure/offset column exists and is not the target."""
    cols = [str(c) for c in table.frame.columns]
    if column not in cols:
        raise OptionError(f"{table.name}: no column {column!r} for the exposure/offset (the "
                          f"columns are {show_list(cols, 8)})")
    if column == target:
        raise OptionError(f"{table.name}: the exposure/offset column {column!r} is the target")


def offset_values(table, prep, column: str, exposure: bool):
    """The offset per prepared row: ``log(exposure)`` (every exposure > 0) or the column itself
    (finite); DataError naming the rows otherwise."""
    import numpy as np
    import pandas as pd

    raw = pd.to_numeric(table.frame[column].iloc[prep.rows], errors="coerce").to_numpy(float)
    what = f"{table.name}: {'exposure' if exposure else 'offset'} column {column!r}"
    bad = ~np.isfinite(raw)
    if bad.any():
        raise DataError(f"{what} is missing or not a number in {int(bad.sum()):,} of the "
                        f"{raw.size:,} rows fitted (first: {show_row(prep.rows[bad][0])})")
    if not exposure:
        return raw
    bad = raw <= 0
    if bad.any():
        raise DataError(f"{what} must be > 0 (its log is the offset): {int(bad.sum()):,} of the "
                        f"{raw.size:,} rows fitted are <= 0 (first: "
                        f"{show_row(prep.rows[bad][0])}, value {raw[bad][0]:g})")
    return np.log(raw)


def multinomial_fitter():
    """Only ``regulab fit`` fits the multinomial family (:mod:`regulab.commands.multinomial`);
    the other data commands draw one coefficient per feature: an OptionError in one line with
    the ways out."""
    raise OptionError("this command does not fit 3 or more classes (family multinomial): "
                      "`regulab fit` fits the multinomial model (in Python, "
                      "regulab.estimators.RegulabClassifierCV), or fit one label against the "
                      "rest with a 0/1 target and --family binomial")


def check_folds(loaded: Loaded, folds: int) -> int:
    """``--cv``: a whole number >= 2 that the prepared rows (and classes) can be split into."""
    from regulab.data.checks import check_rows_for_cv

    folds = check_int(folds, "--cv", 2)
    p = loaded.prep
    check_rows_for_cv(p.X.shape[0], folds, y=p.y, task=p.task, classes=p.classes,
                      source_name=loaded.name)
    return folds


# ----------------------------------------------------------------------------- documents

def family_line(doc) -> str:
    """``family: poisson (why)`` and the offset column, as printed by fit, path and compare."""
    fam = doc["family"]
    off = fam["offset"]
    extra = (f"; offset = log({off['column']!r})" if off and off["kind"] == "exposure" else
             f"; offset = {off['column']!r}" if off else "")
    return f"family: {fam['family']} ({fam['why']}){extra}"


def print_family_and_steps(con, doc, heading: bool = False) -> None:
    """The :func:`family_line`, then the preparation steps (under a bold "Preparation"
    heading when ``heading``), as fit and compare print them."""
    con.print(family_line(doc), highlight=False, soft_wrap=True, markup=False)
    if heading:
        con.print("[bold]Preparation[/]")
    for line in doc["preparation"]["steps"]:
        con.print(f"  - {line}", highlight=False, soft_wrap=True, markup=False)


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
