"""regulab's command line (typer + rich).

Errors are one line on stderr and a non-zero exit: 2 for bad usage or bad values, 1 when the
work itself cannot be done (e.g. an unwritable output folder). ``--debug`` anywhere on the command
line shows the full traceback instead.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from regulab import __version__
from regulab.commands import console as _consoles

app = typer.Typer(
    name="regulab",
    help="Shows, measures and applies L1 and L2 regularization: every statement is a number "
         "measured on the run, with a figure beside it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = _consoles.console
err_console = _consoles.err_console


class UsageProblem(ValueError):
    """Bad input from the user: exit status 2."""


def _version_callback(value: bool):
    if value:
        console.print(f"regulab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors "
                               "(accepted anywhere on the command line)."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Run cross-validation and resampling on the Dask cluster at "
        "this address (e.g. tcp://127.0.0.1:8786; needs regulab[distributed]). Accepted anywhere "
        "on the command line."),
):
    """regulab: why does L1 give exact zeros while L2 only shrinks? Measured, with figures."""


@app.command()
def explain(
    out: Path = typer.Option(Path("regulab-report"), "--out", "-o",
                             help="Folder for index.html, results.json and figures/."),
    only: Optional[List[str]] = typer.Option(
        None, "--only", help="Run only these claim ids (repeat the option, or separate ids by "
                             "commas: --only one-weight,geometry)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw (same seed, same numbers)."),
    seeds: Optional[str] = typer.Option(
        None, "--seeds", help="Run every claim once per seed (e.g. 0-9 or 0,3,7) and report, per "
                              "prediction, the share of seeds where it held and its tightest "
                              "margin. Replaces --seed."),
    lam: Optional[float] = typer.Option(None, "--lam",
                                        help="Penalty strength for the one-weight claims "
                                             "(default: each claim's own, 0.5)."),
    step: Optional[float] = typer.Option(None, "--step",
                                         help="Step size for the gradient-view trajectories "
                                              "(default 0.1)."),
):
    """Run every claim of the seeds on built-in data and write the report."""
    from regulab.commands.common import split_list
    from regulab.report.claims import ExplainConfig, select
    from regulab.report.explain import parse_seeds

    try:
        claims = select(split_list(only))
    except KeyError as exc:
        raise UsageProblem(exc.args[0]) from None
    try:
        seed_list = parse_seeds(seeds) if seeds is not None else [seed]
    except ValueError as exc:
        raise UsageProblem(f"--seeds: {exc}") from None
    config = ExplainConfig(seed=seed_list[0], lam=lam, step=step)
    from regulab.report.explain import explain as run_explain

    t0 = time.perf_counter()
    timings = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("claims", total=2 * len(claims))
        started = {}
        ids = [c.id for c in claims]
        runs = f" x {len(seed_list)} seeds" if len(seed_list) > 1 else ""

        def on_step(claim_id, phase):
            if phase == "run":
                started[claim_id] = time.perf_counter()
                progress.update(task, description=f"measuring {claim_id}{runs}")
            elif phase == "plot":
                progress.advance(task)
                progress.update(task, description=f"drawing {claim_id}")
            else:
                timings[claim_id] = time.perf_counter() - started.get(claim_id, time.perf_counter())
                progress.update(task, completed=2 * (ids.index(claim_id) + 1))

        results = run_explain(out, only=ids, config=config, on_step=on_step, seeds=seed_list)
        progress.update(task, completed=2 * len(claims), description="done")

    _print_explain_table(results, timings, seed_list)
    console.print(f"report: {(out / 'index.html').resolve()}  "
                  f"({time.perf_counter() - t0:.1f} s)")


_OUTCOME_STYLE = {"holds": "green", "holds in part": "yellow", "does not hold": "red",
                  "error": "bold red", "skipped": "dim", "not tested": "dim"}


def _print_explain_table(results, timings, seed_list) -> None:
    from rich.markup import escape

    title = "regulab explain: what was measured"
    if len(seed_list) > 1:
        title += f" (seeds {seed_list[0]}..{seed_list[-1]}, {len(seed_list)} runs per claim)"
    table = Table(title=title)
    table.add_column("claim")
    table.add_column("verdict")
    table.add_column("predictions held", justify="right")
    table.add_column("tightest margin")
    if len(seed_list) > 1:
        table.add_column("outcomes over seeds")
    table.add_column("s", justify="right")
    for r in results:
        counted = [p for p in r.predictions if p.applies]
        tight = min(counted, key=lambda p: p.margin) if counted else None
        row = [r.id, f"[{_OUTCOME_STYLE.get(r.outcome, 'white')}]{r.outcome}[/]",
               f"{sum(p.held for p in counted)} of {len(counted)}" if counted else "-",
               f"{tight.name} {tight.margin:+.3g}" if tight else "-"]
        if len(seed_list) > 1:
            row.append(", ".join(f"{o} {n}" for o, n in (r.robustness or {}).get("outcomes", {}).items())
                       or "-")
        row.append(f"{timings.get(r.id, 0.0):.2f}")
        table.add_row(*row)
    console.print(table)
    for r in results:
        if r.skipped:
            console.print(f"[dim]{r.id}: {escape(r.skipped)}[/]")
        elif r.error:
            err_console.print(f"[red]{r.id}: error:[/] {escape(r.error)}", highlight=False)


_CONVERT_PARAMS = ("lam", "alpha", "l1_ratio", "lambda", "C", "penalty", "weight_decay", "l1", "l2")


@app.command()
def convert(
    src: str = typer.Option(..., "--from", help="Convention of the given setting, e.g. "
                            "sklearn-lasso (see `regulab conventions`).", show_default=False),
    to: Optional[List[str]] = typer.Option(None, "--to", help="Target convention (repeatable; "
                                           "default: all)."),
    lam: Optional[float] = typer.Option(None, "--lam", help="regulab's or Nielsen's lam."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="scikit-learn's alpha, or "
                                          "glmnet's alpha (the L1 mix)."),
    l1_ratio: Optional[float] = typer.Option(None, "--l1-ratio", help="l1_ratio (regulab, "
                                             "scikit-learn)."),
    lambda_: Optional[float] = typer.Option(None, "--lambda", help="glmnet's lambda."),
    c: Optional[float] = typer.Option(None, "--C", help="LogisticRegression's C."),
    penalty: Optional[str] = typer.Option(None, "--penalty", help="LogisticRegression's penalty."),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="PyTorch's "
                                                 "weight_decay."),
    l1: Optional[float] = typer.Option(None, "--l1", help="Keras l1."),
    l2: Optional[float] = typer.Option(None, "--l2", help="Keras l2."),
    n_samples: Optional[int] = typer.Option(None, "--n-samples", help="Number of training "
                                            "samples (needed where an objective sums over rows)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="Loss scale of a 'loss + penalty' "
                                       "source (Nielsen, PyTorch, Keras): squared or logistic."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
):
    """Print the same regularization setting in every tool's convention (lam, alpha, C, ...)."""
    import json

    from regulab.core.conventions import convert as run_convert
    from regulab.core.conventions import get_convention

    given = dict(zip(_CONVERT_PARAMS, (lam, alpha, l1_ratio, lambda_, c, penalty, weight_decay,
                                       l1, l2)))
    params = {k: v for k, v in given.items() if v is not None}
    source = get_convention(src)
    setting = source.to_regulab(params, n_samples, loss)
    rows = run_convert(src, params, n_samples=n_samples, to=to, loss=loss)
    if as_json:
        doc = {"from": src, "params": params, "n_samples": n_samples,
               "regulab": {"l1": setting.l1, "l2": setting.l2, "loss": setting.loss},
               "to": [{"id": r.name, "tool": r.tool, "params": r.params, "reason": r.reason,
                       "objective": r.objective, "note": r.note} for r in rows]}
        console.print_json(json.dumps(doc))
        return
    given_txt = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in params.items())
    console.print(f"[bold]{source.tool}[/] with {given_txt}"
                  + (f" (n = {n_samples})" if n_samples else "") + f"\n  objective: {source.objective}"
                  + f"\n  on regulab's scale: {_loss_words(setting.loss)} + {setting.l1:.6g}·Σ|w|"
                  + f" + {setting.l2:.6g}·Σw²", highlight=False)
    table = Table(show_lines=True)
    table.add_column("to")
    table.add_column("setting")
    table.add_column("objective / why not", overflow="fold")
    for r in rows:
        if r.params is not None:
            cell = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in r.params.items()) or "(no penalty)"
            table.add_row(r.name, f"[green]{cell}[/]", r.objective)
        else:
            table.add_row(r.name, "[dim]-[/]", f"[dim]{r.reason}[/]")
    console.print(table)


@app.command()
def conventions():
    """List the conventions `regulab convert` knows: each tool's objective and parameters."""
    from regulab.core.conventions import CONVENTIONS

    table = Table(show_lines=True)
    for col in ("id", "tool", "parameters", "objective"):
        table.add_column(col, overflow="fold")
    for c in CONVENTIONS.values():
        params = ", ".join(c.params) + (" (needs --n-samples)" if c.needs_n else "")
        table.add_row(c.name, c.tool, params, c.objective)
    console.print(table)


def _loss_words(loss: str) -> str:
    return "mean squared error" if loss == "squared" else "mean log-loss"


@app.command("claims")
def list_claims():
    """List the claims `regulab explain` checks."""
    from regulab.report.claims import REGISTRY

    table = Table(title="claims")
    for col in ("id", "title", "source"):
        table.add_column(col)
    for c in REGISTRY.values():
        table.add_row(c.id, c.title, c.source)
    console.print(table)


# ----------------------------------------------------------------------------- user data
# Thin wrappers: the options are declared here, the bodies live in regulab.commands.

_DATA_HELP = "A CSV/TSV or Parquet file, or a built-in dataset name (see `regulab datasets`)."


def _data_options(target, features, task, missing, standardize, sep, encoding, na_values,
                  max_rows, seed):
    from regulab.commands.common import DataOptions, split_list

    return DataOptions(target=target, features=split_list(features), task=task, missing=missing,
                       standardize=standardize, sep=sep, encoding=encoding,
                       na_values=split_list(na_values), max_rows=max_rows, seed=seed)


def _opt_target():
    return typer.Option(None, "--target", "-t", help="Column to predict (default for a built-in "
                        "dataset: its target).", show_default=False)


def _opt_features():
    return typer.Option(None, "--features", help="Feature columns, comma-separated (repeatable; "
                        "default: every column but the target).", show_default=False)


def _opt_task():
    return typer.Option("auto", "--task", help="auto, regression or binary (auto: 2 distinct "
                        "values = binary, more numbers = regression).")


def _opt_missing():
    return typer.Option("drop", "--missing", help="Missing feature values: drop the row, fill "
                        "the training mean, or error.")


def _opt_standardize():
    return typer.Option(True, "--standardize/--no-standardize", help="Standardize every feature "
                        "to mean 0, sd 1 before the penalty.")


def _opt_sep():
    return typer.Option(None, "--sep", help="Delimiter of a text file (default: sniffed; 'tab' "
                        "accepted).", show_default=False)


def _opt_encoding():
    return typer.Option(None, "--encoding", help="Text encoding (default UTF-8, with or without "
                        "BOM).", show_default=False)


def _opt_na_values():
    return typer.Option(None, "--na-values", help="Strings read as missing, comma-separated "
                        "(only the empty field is missing by default).", show_default=False)


def _opt_max_rows():
    from regulab.data.reading import DEFAULT_MAX_ROWS

    return typer.Option(DEFAULT_MAX_ROWS, "--max-rows", help="Refuse files with more data rows.")


def _opt_seed():
    return typer.Option(0, "--seed", help="Seed of the CV folds, resamples and synthetic data.")


def _opt_json():
    return typer.Option(False, "--json", help="Print one JSON document instead of tables.")


def _opt_out(what):
    return typer.Option(None, "--out", "-o", help=f"Folder for an HTML report (index.html, "
                        f"figures/, results.json){what}.", show_default=False)


def _opt_n_lams(default=100):
    return typer.Option(default, "--n-lams", help="Number of lams on the grid.")


@app.command("datasets")
def datasets_cmd(as_json: bool = _opt_json()):
    """List the built-in datasets (usable wherever a FILE is expected)."""
    from regulab.commands import datasets

    datasets.run(as_json=as_json)


@app.command("fit")
def fit_cmd(
    source: str = typer.Argument(..., metavar="FILE|BUILTIN", help=_DATA_HELP),
    target: Optional[str] = _opt_target(),
    features: Optional[List[str]] = _opt_features(),
    task: str = _opt_task(),
    penalty: str = typer.Option("l1", "--penalty", help="l1, l2 or elasticnet."),
    l1_ratio: Optional[float] = typer.Option(None, "--l1-ratio", help="Elastic net's L1 share "
                                             "(default 0.5).", show_default=False),
    lam: Optional[float] = typer.Option(None, "--lam", help="Fit at this lam instead of choosing "
                                        "it by CV (its CV error is still measured).",
                                        show_default=False),
    cv: Optional[int] = typer.Option(None, "--cv", help="CV folds (default 5).",
                                     show_default=False),
    rule: Optional[str] = typer.Option(None, "--rule", help="min or 1se (default 1se: the "
                                       "largest lam within one SE of the best).",
                                       show_default=False),
    n_lams: int = _opt_n_lams(),
    seed: int = _opt_seed(),
    stability: bool = typer.Option(False, "--stability", help="Selection frequency of each "
                                   "feature over complementary half-samples."),
    n_pairs: int = typer.Option(50, "--n-pairs", help="Half-sample pairs for --stability."),
    missing: str = _opt_missing(),
    standardize: bool = _opt_standardize(),
    sep: Optional[str] = _opt_sep(),
    encoding: Optional[str] = _opt_encoding(),
    na_values: Optional[List[str]] = _opt_na_values(),
    max_rows: int = _opt_max_rows(),
    save: Optional[Path] = typer.Option(None, "--save", help="Write the model as plain JSON "
                                        "(for regulab predict).", show_default=False),
    as_json: bool = _opt_json(),
    out: Optional[Path] = _opt_out(""),
):
    """Fit one penalized model: every coefficient, kept or exactly 0, and how lam was chosen.

    Default: --penalty l1, lam by 5-fold CV with the 1se rule."""
    from regulab.commands import fit

    opts = _data_options(target, features, task, missing, standardize, sep, encoding, na_values,
                         max_rows, seed)
    fit.run(source, opts, penalty=penalty, l1_ratio=l1_ratio, lam=lam, folds=cv, rule=rule,
            n_lams=n_lams, stability=stability, n_pairs=n_pairs, save=save, as_json=as_json,
            out=out)


@app.command("predict")
def predict_cmd(
    model: Path = typer.Argument(..., metavar="MODEL.json", help="A model written by "
                                 "`regulab fit --save`."),
    source: str = typer.Argument(..., metavar="FILE|BUILTIN", help=_DATA_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the predictions as CSV "
                                       "(never over an input file).", show_default=False),
    sep: Optional[str] = _opt_sep(),
    encoding: Optional[str] = _opt_encoding(),
    na_values: Optional[List[str]] = _opt_na_values(),
    max_rows: int = _opt_max_rows(),
    as_json: bool = _opt_json(),
):
    """Apply a saved model (same preparation) to a table: one prediction per input row."""
    from regulab.commands import predict
    from regulab.commands.common import split_list

    predict.run(model, source, out=out, sep=sep, encoding=encoding,
                na_values=split_list(na_values), max_rows=max_rows, as_json=as_json)


@app.command("path")
def path_cmd(
    source: str = typer.Argument(..., metavar="FILE|BUILTIN", help=_DATA_HELP),
    target: Optional[str] = _opt_target(),
    features: Optional[List[str]] = _opt_features(),
    task: str = _opt_task(),
    penalty: str = typer.Option("l1", "--penalty", help="l1, l2 or elasticnet."),
    l1_ratio: Optional[float] = typer.Option(None, "--l1-ratio", help="Elastic net's L1 share "
                                             "(default 0.5).", show_default=False),
    n_lams: int = _opt_n_lams(),
    cv: int = typer.Option(5, "--cv", help="CV folds for the CV curve."),
    seed: int = _opt_seed(),
    missing: str = _opt_missing(),
    standardize: bool = _opt_standardize(),
    sep: Optional[str] = _opt_sep(),
    encoding: Optional[str] = _opt_encoding(),
    na_values: Optional[List[str]] = _opt_na_values(),
    max_rows: int = _opt_max_rows(),
    as_json: bool = _opt_json(),
    out: Optional[Path] = _opt_out(", plus path.csv: one row per lam"),
):
    """The coefficient path and the CV curve over a lam grid (figures and path.csv with --out)."""
    from regulab.commands import path

    opts = _data_options(target, features, task, missing, standardize, sep, encoding, na_values,
                         max_rows, seed)
    path.run(source, opts, penalty=penalty, l1_ratio=l1_ratio, n_lams=n_lams, folds=cv,
             as_json=as_json, out=out)


@app.command("compare")
def compare_cmd(
    source: str = typer.Argument(..., metavar="FILE|BUILTIN", help=_DATA_HELP),
    target: Optional[str] = _opt_target(),
    features: Optional[List[str]] = _opt_features(),
    task: str = _opt_task(),
    cv: int = typer.Option(5, "--cv", help="CV folds."),
    rule: str = typer.Option("min", "--rule", help="min or 1se: how each penalty's lam is "
                             "chosen."),
    n_boot: int = typer.Option(30, "--n-boot", help="Bootstrap resamples for the stability of "
                               "the kept set."),
    n_lams: int = _opt_n_lams(),
    seed: int = _opt_seed(),
    missing: str = _opt_missing(),
    standardize: bool = _opt_standardize(),
    sep: Optional[str] = _opt_sep(),
    encoding: Optional[str] = _opt_encoding(),
    na_values: Optional[List[str]] = _opt_na_values(),
    max_rows: int = _opt_max_rows(),
    as_json: bool = _opt_json(),
    out: Optional[Path] = _opt_out(""),
):
    """L1, L2 and elastic net side by side, and which to use, with the measured reasons.

    lam by CV for each: CV error ± SE, features kept, stability of the kept set over bootstrap
    resamples, out-of-fold calibration slope; then the recommendation of docs/recommendation.md."""
    from regulab.commands import compare

    opts = _data_options(target, features, task, missing, standardize, sep, encoding, na_values,
                         max_rows, seed)
    compare.run(source, opts, folds=cv, rule=rule, n_boot=n_boot, n_lams=n_lams,
                as_json=as_json, out=out)


@app.command("app")
def app_cmd(
    port: int = typer.Option(8050, "--port", help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this "
                             "machine only; another host is reachable from the network and "
                             "prints a warning)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the app in the web browser."),
):
    """The interactive lab: a local web app (sliders, live figures) for the seed's story and
    your own data. Needs dash and plotly (regulab's app extra)."""
    import importlib.util

    from rich.markup import escape

    if importlib.util.find_spec("dash") is None or importlib.util.find_spec("plotly") is None:
        _fail(escape("regulab app needs dash and plotly: pip install 'regulab[app]'"), 1)
    from regulab.app.server import run

    run(host=host, port=port, open_browser=open_browser,
        echo=lambda m: console.print(m, markup=False, highlight=False, soft_wrap=True),
        warn=lambda m: err_console.print(f"[yellow]warning:[/] {escape(m)}", highlight=False,
                                         soft_wrap=True))


def _fail(message: str, code: int) -> None:
    err_console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _pop_scheduler(args: List[str]):
    """Take ``--scheduler ADDRESS`` (or ``--scheduler=ADDRESS``) out of the arguments."""
    out, address, i = [], None, 0
    while i < len(args):
        a = args[i]
        if a == "--scheduler":
            if i + 1 >= len(args):
                raise UsageProblem("--scheduler needs an address, e.g. tcp://127.0.0.1:8786")
            address, i = args[i + 1], i + 2
            continue
        if a.startswith("--scheduler="):
            address = a.split("=", 1)[1]
        else:
            out.append(a)
        i += 1
    return out, address


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of the ``regulab`` command: one-line errors unless ``--debug``."""
    from regulab.report.writer import ReportError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        args, scheduler = _pop_scheduler(args)
        if scheduler:
            from regulab.core.execution import use_scheduler

            with use_scheduler(scheduler):
                code = app(args=args, prog_name="regulab", standalone_mode=False)
        else:
            code = app(args=args, prog_name="regulab", standalone_mode=False)
    except (typer.Exit, typer.Abort) as exc:  # raised by our own callbacks
        code = getattr(exc, "exit_code", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (UsageProblem, ValueError) as exc:
        if debug:
            raise
        _fail(str(exc), 2)
    except (ReportError, OSError, FloatingPointError) as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    except Exception as exc:
        # the command-line parser's own errors (bad option, bad value): typer vendors click in
        # recent versions and uses click in older ones, so they are recognised by their shape
        if debug or not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "Abort":
            _fail("aborted", 130)
        _fail(exc.format_message().replace("\n", " "), exc.exit_code or 2)
    sys.exit(code if isinstance(code, int) else 0)
