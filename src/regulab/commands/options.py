"""The command-line options several commands share, declared once as ``Annotated`` aliases for
the typer wrappers of :mod:`regulab.cli` (``target: Target = None``; the default stays beside
each parameter, as typer requires).

Only typer is imported here: ``regulab --help`` and ``regulab --version`` read these
declarations and must not load pandas or scikit-learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: ``--max-rows``'s default. The same value as :data:`regulab.data.reading.DEFAULT_MAX_ROWS`,
#: written out because importing that module loads pandas; tests/test_cli.py checks they agree.
DEFAULT_MAX_ROWS = 5_000_000
#: ``--max-categories``'s default: :func:`regulab.data.prepare.prepare`'s ``max_categories``
#: (tests/test_cli_outputs.py checks they agree).
DEFAULT_MAX_CATEGORIES = 50

DATA_HELP = "A CSV/TSV or Parquet file, or a built-in dataset name (see `regulab datasets`)."

# ----------------------------------------------------------------------------- reading the data

Source = Annotated[str, typer.Argument(metavar="FILE|BUILTIN", help=DATA_HELP)]
Target = Annotated[str | None, typer.Option(
    "--target", "-t", help="Column to predict (default for a built-in dataset: its target).",
    show_default=False)]
Features = Annotated[list[str] | None, typer.Option(
    "--features", help="Feature columns, comma-separated (repeatable; default: every column but "
    "the target).", show_default=False)]
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", help="Columns to leave out, comma-separated (repeatable).", show_default=False)]
MaxCategories = Annotated[int, typer.Option(
    "--max-categories", help="Most distinct values of a text column that is one-hot encoded "
    "(a text column with more is refused).")]
Task = Annotated[str, typer.Option(
    "--task", help="auto, regression or binary (auto: 2 distinct values = binary, more numbers "
    "= regression).")]
Family = Annotated[str, typer.Option(
    "--family", help="auto, gaussian, binomial, poisson or multinomial (auto: 2 values = "
    "binomial; whole numbers >= 0 with a 0 and 3+ values = poisson; other numbers = gaussian; "
    "3+ text labels = multinomial; the choice is printed).")]
Exposure = Annotated[str | None, typer.Option(
    "--exposure", help="Poisson: a column > 0 (time at risk, population); its log is the "
    "offset, so the model fits the rate per unit of it.", show_default=False)]
Offset = Annotated[str | None, typer.Option(
    "--offset", help="Poisson: a column added to the linear predictor as it is (glmnet's "
    "offset).", show_default=False)]
Missing = Annotated[str, typer.Option(
    "--missing", help="Missing feature values: drop the row, fill the training mean, or error.")]
Standardize = Annotated[bool, typer.Option(
    "--standardize/--no-standardize", help="Standardize every feature to mean 0, sd 1 before the "
    "penalty.")]
Sep = Annotated[str | None, typer.Option(
    "--sep", help="Delimiter of a text file (default: sniffed; 'tab' accepted).",
    show_default=False)]
Encoding = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding (default UTF-8, with or without BOM).", show_default=False)]
NaValues = Annotated[list[str] | None, typer.Option(
    "--na-values", help="Strings read as missing, comma-separated (only the empty field is "
    "missing by default).", show_default=False)]
MaxRows = Annotated[int, typer.Option("--max-rows", help="Refuse files with more data rows.")]
Seed = Annotated[int, typer.Option(
    "--seed", help="Seed of the CV folds, resamples and synthetic data.")]

# ----------------------------------------------------------------------------- the model and output

Penalty = Annotated[str, typer.Option("--penalty", help="l1, l2 or elasticnet.")]
L1Ratio = Annotated[float | None, typer.Option(
    "--l1-ratio", help="Elastic net's L1 share (default 0.5).", show_default=False)]
Grouped = Annotated[bool, typer.Option(
    "--grouped", help="Penalize each categorical column's indicators as one group (group lasso, "
    "weight sqrt of the group size): a column is kept or dropped whole. (Not a multinomial "
    "model's grouping across classes: that is --grouped-classes.)")]
GroupedClasses = Annotated[bool, typer.Option(
    "--grouped-classes", help="Multinomial family (3+ classes): penalize each feature's "
    "coefficients across classes as one group, so a feature is kept or dropped for all classes "
    "(glmnet's type.multinomial = \"grouped\").")]
NLams = Annotated[int, typer.Option("--n-lams", help="Number of lams on the grid.")]
Unpenalized = Annotated[list[str] | None, typer.Option(
    "--unpenalized", help="Features (or categorical columns: all their indicators) left "
    "unpenalized, always kept; comma-separated (repeatable).", show_default=False)]
PenaltyFactorFile = Annotated[Path | None, typer.Option(
    "--penalty-factor", help="CSV with header feature,factor (optionally ,lower,upper): a "
    "factor per feature multiplying its penalty (0 = unpenalized; others 1; not rescaled).",
    show_default=False)]
Nonnegative = Annotated[bool, typer.Option(
    "--nonnegative", help="Every coefficient >= 0 (glmnet's lower.limits = 0).")]
Adaptive = Annotated[bool, typer.Option(
    "--adaptive", help="Adaptive lasso (Zou 2006): factors 1/|w_ridge| from a ridge fit with "
    "lam by CV.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
REPORT_HELP = "Folder for an HTML report (index.html, figures/, results.json)"
ReportOut = Annotated[Path | None, typer.Option(
    "--out", "-o", help=f"{REPORT_HELP}.", show_default=False)]
Stream = Annotated[bool, typer.Option(
    "--stream", help="Stream a Parquet file/folder or CSV in bounded batches (data bigger than "
    "memory): path and CV from per-fold Gram statistics, folds by row hash. Automatic when the "
    "file is larger than half the available memory.")]
BatchRows = Annotated[int | None, typer.Option(
    "--batch-rows", help="Rows decoded at once with --stream (default 50000).",
    show_default=False)]


def data_options(*, target, features, task, missing, standardize, sep, encoding, na_values,
                 max_rows, seed, exclude=None, max_categories=DEFAULT_MAX_CATEGORIES,
                 family="auto", exposure=None, offset=None):
    """The shared data options as :class:`regulab.commands.common.DataOptions` (the
    comma-separated lists split)."""
    from regulab.commands.common import DataOptions, split_list

    return DataOptions(target=target, features=split_list(features), task=task, missing=missing,
                       standardize=standardize, sep=sep, encoding=encoding,
                       na_values=split_list(na_values), max_rows=max_rows, seed=seed,
                       exclude=split_list(exclude), max_categories=max_categories,
                       family=family, exposure=exposure, offset=offset)


#: the names of :func:`data_options`' parameters, as every data command declares them
DATA_OPTION_NAMES = ("target", "features", "task", "missing", "standardize", "sep", "encoding",
                     "na_values", "max_rows", "seed", "exclude", "max_categories", "family",
                     "exposure", "offset")


def data_options_of(args) -> object:
    """:func:`data_options` from a command's arguments (its ``locals()``): the command
    declares the shared data options once, in its signature, and passes them on here."""
    return data_options(**{name: args[name] for name in DATA_OPTION_NAMES})
