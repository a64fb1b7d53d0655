"""regulab's command line: the typer wiring of every command (options, then one call into
:mod:`regulab.commands`, or into :mod:`regulab.app` for ``regulab app``), and :func:`main`.

Errors are one line on stderr and a non-zero exit: 2 for bad usage or bad values, 1 when the
work itself cannot be done (e.g. an unwritable output folder). Two global flags are read by
:func:`main` before typer parses the rest, so that they work anywhere on the command line:
``--debug`` shows the full traceback instead, and ``--scheduler ADDRESS`` runs the command's
cross-validation and resampling on a Dask cluster.

Start-up stays light: the command bodies, and with them pandas, scikit-learn and matplotlib,
are imported only when a command runs, never for ``--help`` or ``--version``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, List, Optional  # List, Optional: explain's signature

import typer

from regulab.commands import console as _consoles
from regulab.commands.options import (
    DEFAULT_MAX_CATEGORIES,
    DEFAULT_MAX_ROWS,
    REPORT_HELP,
    Adaptive,
    BatchRows,
    Encoding,
    Exclude,
    Exposure,
    Family,
    Features,
    Grouped,
    GroupedClasses,
    Json,
    L1Ratio,
    MaxCategories,
    MaxRows,
    Missing,
    NaValues,
    NLams,
    Nonnegative,
    Offset,
    Penalty,
    PenaltyFactorFile,
    ReportOut,
    Seed,
    Sep,
    Source,
    Standardize,
    Stream,
    Target,
    Task,
    Unpenalized,
    data_options_of,
)

# read by main(), not typer (pop_global_flags); "\\[": typer renders help as rich markup
GLOBAL_FLAGS_HELP = (
    "Anywhere on the command line: --debug shows full tracebacks instead of one-line errors; "
    "--scheduler ADDRESS runs cross-validation and resampling on the Dask cluster at ADDRESS "
    "(e.g. tcp://127.0.0.1:8786; needs regulab\\[distributed]).")

app = typer.Typer(
    name="regulab",
    help="Shows, measures and applies L1 and L2 regularization: every statement is a number "
         "measured on the run, with a figure beside it.",
    epilog=GLOBAL_FLAGS_HELP,
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
        from regulab import __version__

        console.print(f"regulab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True,
        help="Print the version and exit.")] = False,
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

    _start_claim_workers(split_list(only), seeds)
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

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("claims", total=len(claims))
        running: list[str] = []  # claims measured (or drawn) now, in this process or in workers
        runs = f" x {len(seed_list)} seeds" if len(seed_list) > 1 else ""

        def on_step(claim_id, phase):
            if phase == "run":
                running.append(claim_id)
            elif phase == "done":
                if claim_id in running:
                    running.remove(claim_id)
                progress.advance(task)
            verb = "drawing" if phase == "plot" else "measuring"
            progress.update(task, description=f"{verb} {', '.join(running)}{runs}"
                            if running else "done")

        results = run_explain(out, only=[c.id for c in claims], config=config, on_step=on_step,
                              seeds=seed_list, timings=timings)
        progress.update(task, completed=len(claims), description="done")

    _print_explain_table(results, timings, seed_list)
    console.print(f"report: {(out / 'index.html').resolve()}  "
                  f"({time.perf_counter() - t0:.1f} s)")


#: what the claims' worker processes import before they fork: the claims (so every module
#: they import), and scikit-learn's datasets, the first thing both long claims (neural-net,
#: calibration) import
CLAIM_WORKER_PRELOAD = ("regulab.report.explain", "sklearn.datasets")


def _start_claim_workers(only: list, seeds: str | None) -> None:
    """Where the claims will run in worker processes (more than one claim run, more than one
    core, no Dask cluster), start the server they fork from now: it imports the claims beside
    this process's own imports, instead of each worker after the claims are handed out."""
    import os

    from regulab.core.execution import active_client, start_forkserver

    if (os.cpu_count() or 1) > 1 and active_client() is None and \
            (seeds is not None or not only or len(only) > 1):
        start_forkserver(list(CLAIM_WORKER_PRELOAD))


_OUTCOME_STYLE = {"holds": "green", "holds in part": "yellow", "does not hold": "red",
                  "error": "bold red", "skipped": "dim", "not tested": "dim"}


def _print_explain_table(results, timings, seed_list) -> None:
    from rich.markup import escape
    from rich.table import Table

    from regulab.report.writer import summary

    per_claim = summary(results, seed_list)["per_claim"]  # the counts the report shows

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
        s = per_claim.get(r.id) or {}
        tight = s.get("tightest")
        row = [r.id, f"[{_OUTCOME_STYLE.get(r.outcome, 'white')}]{r.outcome}[/]",
               f"{s['held']} of {s['predictions']}" if s.get("predictions") else "-",
               f"{tight['name']} {tight['margin']:+.3g}" if tight else "-"]
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



@app.command()
def convert(
    src: Annotated[str, typer.Option(
        "--from", help="Convention of the given setting, e.g. sklearn-lasso (see `regulab "
        "conventions`).", show_default=False)],
    to: Annotated[list[str] | None, typer.Option(
        "--to", help="Target convention (repeatable; default: all).")] = None,
    lam: Annotated[float | None, typer.Option("--lam", help="regulab's or Nielsen's lam.")] = None,
    alpha: Annotated[float | None, typer.Option(
        "--alpha", help="scikit-learn's alpha, or glmnet's alpha (the L1 mix).")] = None,
    l1_ratio: Annotated[float | None, typer.Option(
        "--l1-ratio", help="l1_ratio (regulab, scikit-learn).")] = None,
    lambda_: Annotated[float | None, typer.Option("--lambda", help="glmnet's lambda.")] = None,
    c: Annotated[float | None, typer.Option("--C", help="LogisticRegression's C.")] = None,
    penalty: Annotated[str | None, typer.Option(
        "--penalty", help="LogisticRegression's penalty.")] = None,
    weight_decay: Annotated[float | None, typer.Option(
        "--weight-decay", help="PyTorch's weight_decay.")] = None,
    l1: Annotated[float | None, typer.Option("--l1", help="Keras l1.")] = None,
    l2: Annotated[float | None, typer.Option("--l2", help="Keras l2.")] = None,
    n_samples: Annotated[int | None, typer.Option(
        "--n-samples", help="Number of training samples (needed where an objective sums over "
        "rows).")] = None,
    loss: Annotated[str | None, typer.Option(
        "--loss", help="Loss scale of a 'loss + penalty' source (Nielsen, PyTorch, Keras): "
        "squared or logistic.")] = None,
    sd_y: Annotated[float | None, typer.Option(
        "--sd-y", help="sd(y) (1/n variance) of the response: glmnet's gaussian family scales "
        "y by it, which changes its elastic net's L2 term.", show_default=False)] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="A data file whose --target column gives sd(y) (instead of --sd-y).",
        show_default=False)] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help="The response column of --data.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
):
    """Print the same regularization setting in every tool's convention (lam, alpha, C, ...)."""
    from regulab.commands import convert as command

    command.run(src, {"lam": lam, "alpha": alpha, "l1_ratio": l1_ratio, "lambda": lambda_, "C": c,
                      "penalty": penalty, "weight_decay": weight_decay, "l1": l1, "l2": l2},
                to=to, n_samples=n_samples, loss=loss, as_json=as_json, sd_y=sd_y,
                data=None if data is None else str(data), target=target)


@app.command()
def conventions():
    """List the conventions `regulab convert` knows: each tool's objective and parameters."""
    from regulab.commands import conventions as command

    command.run()


@app.command("claims")
def list_claims():
    """List the claims `regulab explain` checks."""
    from regulab.commands import claims

    claims.run()


# ----------------------------------------------------------------------------- user data

@app.command("datasets")
def datasets_cmd(as_json: Json = False):
    """List the built-in datasets (usable wherever a FILE is expected)."""
    from regulab.commands import datasets

    datasets.run(as_json=as_json)


@app.command("fit")
def fit_cmd(
    source: Source,
    target: Target = None,
    features: Features = None,
    exclude: Exclude = None,
    task: Task = "auto",
    family: Family = "auto",
    exposure: Exposure = None,
    offset: Offset = None,
    penalty: Penalty = "l1",
    l1_ratio: L1Ratio = None,
    lam: Annotated[float | None, typer.Option(
        "--lam", help="Fit at this lam instead of choosing it by CV (its CV error is still "
        "measured).", show_default=False)] = None,
    cv: Annotated[int | None, typer.Option(
        "--cv", help="CV folds (default 5).", show_default=False)] = None,
    rule: Annotated[str | None, typer.Option(
        "--rule", help="min or 1se (default 1se: the largest lam within one SE of the best).",
        show_default=False)] = None,
    n_lams: NLams = 100,
    grouped: Grouped = False,
    grouped_classes: GroupedClasses = False,
    seed: Seed = 0,
    stability: Annotated[bool, typer.Option(
        "--stability", help="Selection frequency of each feature over complementary "
        "half-samples.")] = False,
    n_pairs: Annotated[int, typer.Option(
        "--n-pairs", help="Half-sample pairs for --stability.")] = 50,
    missing: Missing = "drop",
    standardize: Standardize = True,
    sep: Sep = None,
    encoding: Encoding = None,
    na_values: NaValues = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    max_categories: MaxCategories = DEFAULT_MAX_CATEGORIES,
    save: Annotated[Path | None, typer.Option(
        "--save", help="Write the model as plain JSON (for regulab predict).",
        show_default=False)] = None,
    as_json: Json = False,
    out: ReportOut = None,
    unpenalized: Unpenalized = None,
    penalty_factor: PenaltyFactorFile = None,
    nonnegative: Nonnegative = False,
    adaptive: Adaptive = False,
    stream: Stream = False,
    batch_rows: BatchRows = None,
):
    """Fit one penalized model: every coefficient, kept or exactly 0, and how lam was chosen.

    Default: --penalty l1, lam by 5-fold CV with the 1se rule. A target with 3 or more classes
    gets the multinomial model: one coefficient column per class."""
    from regulab.commands.output import compile_notice

    # entered first: on the first run after an install a helper process starts compiling
    # while the command imports its libraries
    with compile_notice():  # the first run after install compiles the kernels
        from regulab.commands import fit

        fit.run(source, data_options_of(locals()),
                penalty=penalty, l1_ratio=l1_ratio, lam=lam, folds=cv, rule=rule, n_lams=n_lams,
                stability=stability, n_pairs=n_pairs, save=save, as_json=as_json, out=out,
                unpenalized=unpenalized, penalty_factor=penalty_factor,
                nonnegative=nonnegative, adaptive=adaptive, grouped=grouped, stream=stream,
                batch_rows=batch_rows, grouped_classes=grouped_classes)


@app.command("predict")
def predict_cmd(
    model: Annotated[Path, typer.Argument(
        metavar="MODEL.json", help="A model written by `regulab fit --save`.")],
    source: Source,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the predictions as CSV (never over an input file).",
        show_default=False)] = None,
    sep: Sep = None,
    encoding: Encoding = None,
    na_values: NaValues = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    as_json: Json = False,
):
    """Apply a saved model (same preparation) to a table: one prediction per input row."""
    from regulab.commands import predict
    from regulab.commands.common import split_list

    predict.run(model, source, out=out, sep=sep, encoding=encoding,
                na_values=split_list(na_values), max_rows=max_rows, as_json=as_json)


@app.command("path")
def path_cmd(
    source: Source,
    target: Target = None,
    features: Features = None,
    exclude: Exclude = None,
    task: Task = "auto",
    family: Family = "auto",
    exposure: Exposure = None,
    offset: Offset = None,
    penalty: Penalty = "l1",
    l1_ratio: L1Ratio = None,
    n_lams: NLams = 100,
    cv: Annotated[int, typer.Option("--cv", help="CV folds for the CV curve.")] = 5,
    grouped: Grouped = False,
    grouped_classes: GroupedClasses = False,
    seed: Seed = 0,
    missing: Missing = "drop",
    standardize: Standardize = True,
    sep: Sep = None,
    encoding: Encoding = None,
    na_values: NaValues = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    max_categories: MaxCategories = DEFAULT_MAX_CATEGORIES,
    as_json: Json = False,
    stream: Stream = False,
    batch_rows: BatchRows = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help=f"{REPORT_HELP}, plus path.csv: one row per lam.",
        show_default=False)] = None,
    unpenalized: Unpenalized = None,
    penalty_factor: PenaltyFactorFile = None,
    nonnegative: Nonnegative = False,
    adaptive: Adaptive = False,
):
    """The coefficient path and the CV curve over a lam grid (figures and path.csv with --out).

    A target with 3 or more classes gets the multinomial paths: one panel per class."""
    from regulab.commands.output import compile_notice

    # entered first: on the first run after an install a helper process starts compiling
    # while the command imports its libraries
    with compile_notice():  # the first run after install compiles the kernels
        from regulab.commands import path

        path.run(source, data_options_of(locals()),
                 penalty=penalty, l1_ratio=l1_ratio, n_lams=n_lams, folds=cv, as_json=as_json,
                 out=out, unpenalized=unpenalized, penalty_factor=penalty_factor,
                 nonnegative=nonnegative, adaptive=adaptive, grouped=grouped, stream=stream,
                 batch_rows=batch_rows, grouped_classes=grouped_classes)


@app.command("compare")
def compare_cmd(
    source: Source,
    target: Target = None,
    features: Features = None,
    exclude: Exclude = None,
    task: Task = "auto",
    family: Family = "auto",
    exposure: Exposure = None,
    offset: Offset = None,
    cv: Annotated[int, typer.Option("--cv", help="CV folds.")] = 5,
    rule: Annotated[str, typer.Option(
        "--rule", help="min or 1se: how each penalty's lam is chosen (1se, as in fit: the "
        "largest lam within one SE of the best).")] = "1se",
    n_boot: Annotated[int | None, typer.Option(
        "--n-boot", help="Bootstrap resamples for the stability of the kept set [default: 30; "
        "not with --stream, where stability is over the K CV training sets].",
        show_default=False)] = None,
    n_lams: NLams = 100,
    grouped: Grouped = False,
    seed: Seed = 0,
    missing: Missing = "drop",
    standardize: Standardize = True,
    sep: Sep = None,
    encoding: Encoding = None,
    na_values: NaValues = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    max_categories: MaxCategories = DEFAULT_MAX_CATEGORIES,
    as_json: Json = False,
    out: ReportOut = None,
    unpenalized: Unpenalized = None,
    penalty_factor: PenaltyFactorFile = None,
    nonnegative: Nonnegative = False,
    adaptive: Adaptive = False,
    stream: Stream = False,
    batch_rows: BatchRows = None,
):
    """L1, L2 and elastic net side by side, and which to use, with the measured reasons.

    lam by CV for each: CV error ± SE, features kept, stability of the kept set over bootstrap
    resamples, out-of-fold calibration slope; then the recommendation of docs/recommendation.md.
    --adaptive adds the adaptive lasso's row; 3 or more classes: the multinomial rows, with L1
    grouped across classes."""
    from regulab.commands.output import compile_notice

    # entered first: on the first run after an install a helper process starts compiling
    # while the command imports its libraries
    with compile_notice():  # the first run after install compiles the kernels
        from regulab.commands import compare

        compare.run(source, data_options_of(locals()),
                    folds=cv, rule=rule, n_boot=n_boot, n_lams=n_lams, as_json=as_json, out=out,
                    unpenalized=unpenalized, penalty_factor=penalty_factor,
                    nonnegative=nonnegative, grouped=grouped, stream=stream,
                    batch_rows=batch_rows, adaptive=adaptive)


@app.command("app")
def app_cmd(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")]
    = 8050,
    host: Annotated[str, typer.Option(
        "--host", help="Address to bind (default: this machine only; another host is reachable "
        "from the network and prints a warning).")] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option(
        "--open", help="Open the app in the web browser.")] = False,
):
    """The interactive lab: a local web app (sliders, live figures) for the seed's story and
    your own data. Needs dash and plotly (regulab's app extra)."""
    # regulab.app is a sibling of regulab.commands (neither imports the other), so this command
    # calls it from here
    import importlib.util

    from rich.markup import escape

    if importlib.util.find_spec("dash") is None or importlib.util.find_spec("plotly") is None:
        _fail(escape("regulab app needs dash and plotly: pip install 'regulab[app]'"), 1)
    from regulab.app.server import run

    run(host=host, port=port, open_browser=open_browser,
        echo=lambda m: console.print(m, markup=False, highlight=False, soft_wrap=True),
        warn=lambda m: err_console.print(f"[yellow]warning:[/] {escape(m)}", highlight=False,
                                         soft_wrap=True))


# ----------------------------------------------------------------------------- entry point

def _fail(message: str, code: int) -> None:
    err_console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def pop_global_flags(args: list[str]) -> tuple[list[str], str | None]:
    """``(args, scheduler)``: the command line without the global flags ``--debug`` and
    ``--scheduler ADDRESS`` (or ``--scheduler=ADDRESS``), and the scheduler address (None when
    not given; the last one wins).

    They are read here rather than declared on typer's root callback because a root option is
    accepted only before the command name, and because ``--debug`` must also govern the errors
    typer raises while parsing the rest. Raises :class:`UsageProblem` for ``--scheduler``
    without an address.
    """
    args = [a for a in args if a != "--debug"]  # first: "--scheduler --debug" lacks an address
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
            if not address:
                raise UsageProblem("--scheduler needs an address, e.g. tcp://127.0.0.1:8786")
        else:
            out.append(a)
        i += 1
    return out, address


#: the commands whose first run after an install compiles the solver kernels (each runs in
#: :func:`regulab.commands.output.compile_notice`)
COMPILING = ("fit", "path", "compare")


def _start_compile_ahead(args: list[str]) -> bool:
    """For a command of :data:`COMPILING` (not its help), start the first run's compile-ahead
    helper (:func:`regulab.solvers.ahead.start`: only on an empty kernel cache) now, before
    typer builds and parses the command line (0.1 s of CPU the helper would wait for), and
    compile here at once what the helper will load (:func:`regulab.solvers.ahead.compile_here`:
    done before the helper needs it, with a margin); True when one started. The command's
    :func:`compile_notice` block finds it running and says so."""
    if not args or args[0] not in COMPILING or "--help" in args:
        return False
    from regulab.solvers import ahead

    if not ahead.start():
        return False
    ahead.compile_here()
    return True


def _run(args: list[str], scheduler: str | None):
    """Run the command line, on the Dask cluster at ``scheduler`` when one is given."""
    if scheduler is None:
        return app(args=args, prog_name="regulab", standalone_mode=False)
    from regulab.core.execution import use_scheduler

    with use_scheduler(scheduler):
        return app(args=args, prog_name="regulab", standalone_mode=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``regulab`` command: one-line errors unless ``--debug``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    helper = False
    try:
        rest, scheduler = pop_global_flags(args)
        helper = _start_compile_ahead(rest)
        code = _run(rest, scheduler)
    except (typer.Exit, typer.Abort) as exc:  # raised by our own callbacks
        code = getattr(exc, "exit_code", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (UsageProblem, ValueError) as exc:
        if debug:
            raise
        _fail(str(exc), 2)
    except (OSError, FloatingPointError) as exc:  # OSError includes report.writer.ReportError
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
    finally:
        if helper:  # the command's own block stops it; this, when typer refused the line
            from regulab.solvers import ahead

            ahead.stop()
    sys.exit(code if isinstance(code, int) else 0)
