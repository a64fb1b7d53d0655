"""Fits on data bigger than memory: the streamed route of ``regulab fit / path / compare``.

:func:`stream_fit` runs the whole pipeline on a Parquet file or folder, or a CSV file, never
holding more than ``batch_rows`` rows:

1. one or two preparation passes (:mod:`regulab.data.stream_prep`): task, columns, levels, rows
   kept (counts per partition, merged in partition order; one pass unless rows are dropped);
2. the memory guard for the ``p x p`` work (:func:`regulab.core.memory.guard_gram`);
3. one statistics pass (:mod:`regulab.data.stream_pass`): every fold's moments of ``[x, y]``,
   folds by the seeded hash of the row position (:func:`regulab.data.streaming.hash_folds`);
   the standardization from the same pass;
4. squared loss: the path, every fold's path and held-out error from the moments alone
   (:func:`regulab.selection.streamed.cv_from_moments`); logistic loss: IRLS passes
   (:func:`regulab.selection.streamed.cv_logistic`); a count target (Poisson loss, log link,
   the offset of ``--exposure`` / ``--offset`` read from its column in every pass): the null
   models' pass (one more with an offset: the null intercepts need ``sum s exp(o)``), the lam
   grid from it, then IRLS passes with step halving
   (:func:`regulab.selection.streamed.cv_irls`).

With ``client`` (a ``distributed.Client``; the CLI's ``--scheduler``) each pass runs one task
per Parquet row group on the cluster; the results are the same bits as in one process.

``--stream`` on the command line chooses this route; without it, a Parquet/CSV source whose
size on disk exceeds :data:`AUTO_FRACTION` of the available memory (``core/memory``) takes it
too (a decoded table is larger than its file, so this is a lower bound on the need).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from regulab.core.memory import available_memory, guard_gram
from regulab.data.stream_pass import (
    PassLog,
    irls_pass,
    moments_pass,
    standardization,
)
from regulab.data.stream_prep import finish, scan_prepare
from regulab.data.stream_stats import standardized
from regulab.data.streaming import DEFAULT_BATCH_ROWS, StreamSource
from regulab.selection.streamed import (
    cv_from_moments,
    cv_irls,
    cv_logistic,
    irls_grid,
    poisson_start,
    stream_grid,
)
from regulab.solvers.gram import squared_held_out

#: a source larger on disk than this share of the available memory is streamed without --stream
AUTO_FRACTION = 0.5


@dataclass
class StreamedFit:
    """A streamed fit: the preparation (``X = None``), the all-rows path, the CV result, the
    chosen index, and what the passes cost."""

    prep: object
    path: object
    cv: object
    index: int
    rho: float
    loss: str
    log: PassLog
    info: dict = field(default_factory=dict)

    @property
    def coef(self) -> np.ndarray:
        return self.path.coefs[:, self.index]

    @property
    def intercept(self) -> float:
        return float(self.path.intercepts[self.index])

    @property
    def lam(self) -> float:
        return float(self.path.lams[self.index])


def should_stream(path, stream: bool) -> bool:
    """``--stream`` given, or a file larger than :data:`AUTO_FRACTION` of the memory free."""
    if stream:
        return True
    try:
        size = StreamSource(str(path)).nbytes()
    except Exception:  # not a file we can stream (a built-in dataset name): the memory route
        return False
    avail = available_memory()
    return avail is not None and size > AUTO_FRACTION * avail


@dataclass
class StreamStats:
    """What one statistics pass leaves: the preparation, the standardized moments of
    ``[x_std, y]`` (all rows, every fold's training rows, every fold's own rows) and what is
    needed for more passes (the logistic IRLS)."""

    source: StreamSource
    scan: object
    prep: object
    total: tuple
    training: list
    tests: list
    folds: int
    seed: int
    client: object
    log: PassLog
    batch_rows: int

    @property
    def loss(self) -> str:
        return {"binary": "logistic", "count": "poisson"}.get(self.scan.task, "squared")


def stream_statistics(path, target, *, folds=10, seed=0, features=None, exclude=None,
                      task="auto", missing="drop", standardize=True, max_categories=50,
                      weights=None, batch_rows=DEFAULT_BATCH_ROWS, client=None, float32=False,
                      sep=None, na_values=(), offset=None, exposure=False) -> StreamStats:
    """Steps 1-3 of the module docstring: the preparation passes, the memory guard and the
    statistics pass. ``offset``: the Poisson offset column (``exposure``: its log is the
    offset). Returns a :class:`StreamStats`."""
    source = StreamSource(str(path), int(batch_rows), sep, tuple(na_values or ()))
    sp = scan_prepare(source, target, features=features, exclude=exclude, task=task,
                      missing=missing, standardize=standardize, max_categories=max_categories,
                      weights=weights, client=client, offset=offset, exposure=exposure)
    if sp.task == "multiclass":  # the moments carry one coefficient per feature
        from regulab.commands.multinomial import check_options

        check_options(**{"--stream": True})
    log = PassLog(passes=sp.prep_passes, rows=sp.prep_passes * sp.n_in)   # 1 or 2 prep passes
    guard_gram(sp.width, n_folds=int(folds), batch_rows=int(batch_rows))
    raw = moments_pass(source, sp, int(folds), int(seed), client, log,
                       dtype=np.float32 if float32 else np.float64)
    means, scales = standardization(raw, sp.standardize)
    prep = finish(sp, means, scales)

    def std(t):
        return standardized(*t, prep.means, prep.scales)

    return StreamStats(source, sp, prep, std(raw.total()), [std(t) for t in raw.training()],
                       [std(raw.fold(k)) for k in range(int(folds))], int(folds), int(seed),
                       client, log, int(batch_rows))


def solve_streamed(st: StreamStats, *, rho=1.0, lams=None, n_lams=100, rule="1se", tol=1e-6,
                   max_newton=50) -> StreamedFit:
    """Step 4 of the module docstring on the statistics ``st`` for one penalty (``rho``, the
    L1 share): the path and CV over ``lams`` (default: :func:`stream_grid`)."""
    loss = st.loss
    info = {}
    t0 = time.perf_counter()
    seconds0 = st.log.seconds

    def irls(models):
        return irls_pass(st.source, st.scan, st.folds, st.seed, st.prep.means, st.prep.scales,
                         models, st.client, st.log)

    if loss == "poisson":
        state, stats, passes = poisson_start(irls, st.total, st.training,
                                             st.scan.offset is not None)
        if lams is None:
            lams = irls_grid(stats[0], rho, st.scan.n_kept, n_lams)
        path_res, cv, info = cv_irls(irls, state, stats, passes, lams, rho, loss, tol=tol,
                                     max_newton=max_newton,
                                     feature_names=st.prep.feature_names)
    elif lams is None:
        lams = stream_grid(st.total, rho, st.scan.n_kept, loss, n_lams)
    if loss == "squared":
        path_res, cv = cv_from_moments(st.total, st.training, st.tests, lams, rho, tol=tol,
                                       feature_names=st.prep.feature_names)
        info["train_error"] = squared_held_out(*st.total, path_res.coefs, path_res.intercepts)
    elif loss == "logistic":
        path_res, cv, info = cv_logistic(irls, st.total, st.training, lams, rho, tol=tol,
                                         max_newton=max_newton,
                                         feature_names=st.prep.feature_names)
    info["solve_seconds"] = time.perf_counter() - t0 - (st.log.seconds - seconds0)
    if "pass_bound" in info:   # this penalty's IRLS passes (``passes``: every pass so far)
        info["irls_passes"] = info["passes"]
    info.update({"passes": st.log.passes, "rows_per_second": st.log.rows_per_second,
                 "batch_rows": st.batch_rows, "partitions": len(st.source.partitions())})
    return StreamedFit(st.prep, path_res, cv, cv.chosen(rule), rho, loss, st.log, info)


def stream_fit(path, target, *, rho=1.0, lams=None, n_lams=100, folds=10, seed=0, rule="1se",
               tol=1e-6, max_newton=50, **options) -> StreamedFit:
    """The streamed pipeline of the module docstring (``options``: those of
    :func:`stream_statistics`). Returns a :class:`StreamedFit`."""
    st = stream_statistics(path, target, folds=folds, seed=seed, **options)
    return solve_streamed(st, rho=rho, lams=lams, n_lams=n_lams, rule=rule, tol=tol,
                          max_newton=max_newton)


# --------------------------------------------------------------------------------------------
# the command line: `regulab fit --stream`
# --------------------------------------------------------------------------------------------
def check_stream_options(batch_rows, *, lam=None, stability=False, out=None, opts=None,
                         extras=None) -> int:
    """``--batch-rows`` a whole number >= 100; the options the streamed route cannot honour are
    refused in one line each (OptionError, exit code 2): ``--lam``, ``--stability``, ``--out``,
    the multinomial family (``opts``), and
    ``extras`` (flag -> given: per-feature factors, bounds, ``--grouped``). The streamed route
    fits the gaussian, binomial and poisson families (``--exposure`` / ``--offset`` read from
    the file's column in every pass), not the multinomial."""
    from regulab.commands.common import OptionError, check_int

    batch_rows = check_int(DEFAULT_BATCH_ROWS if batch_rows is None else batch_rows,
                           "--batch-rows", 100)
    family = getattr(opts, "family", "auto")
    checks = [(lam is not None, "--lam"), (stability, "--stability"), (out is not None, "--out"),
              (family == "multinomial", f"--family {family}")]
    checks += [(bool(on), flag) for flag, on in (extras or {}).items()]
    for given, flag in checks:
        if given:
            raise OptionError(f"{flag} is not available with --stream (the streamed route fits "
                              f"the path and CV from statistics, without the rows)")
    return batch_rows


def loaded_of(source, prep, opts=None):
    """A :class:`regulab.commands.common.Loaded` for the fit command's document: the prepared
    rows are not in memory, so ``prep.X`` is a zero-width stand-in carrying the row count;
    ``opts``: the data options (the exposure/offset column and why the family)."""
    import copy

    import pandas as pd

    from regulab.commands.common import Loaded, input_path
    from regulab.data.reading import LoadedTable

    src = StreamSource(str(source))
    frame = pd.DataFrame()
    frame.attrs["regulab_source"] = {"format": "parquet" if src.is_parquet else "csv",
                                     "rows": int(prep.n_rows), "columns": len(src.columns())}
    prep = copy.copy(prep)
    prep.X = np.empty((int(prep.n_rows), 0))
    loaded = Loaded(LoadedTable(frame, src.name), prep, input_path(source))
    if opts is not None and (column := opts.exposure or opts.offset) is not None:
        kind = "exposure" if opts.exposure is not None else "offset"
        loaded.offset_doc = {"column": column, "kind": kind}
        if opts.family == "auto":
            loaded.family_reason = f"--{kind} {column} given with --family auto"
    return loaded


def as_fit(sf: StreamedFit, *, rule, folds, seed):
    """A :class:`regulab.commands.fitting.Fit` of the streamed fit ``sf``."""
    from regulab.commands.fitting import Fit

    return Fit(coef=sf.coef.copy(), intercept=sf.intercept, lam=sf.lam, rho=sf.rho,
               loss=sf.loss, how="cv", rule=rule, folds=folds, cv=sf.cv, index=sf.index,
               path=sf.path, seed=seed)


def statistics_of(source, opts, *, folds, batch_rows) -> StreamStats:
    """The statistics pass with the command's data options (``--target`` required; the task
    from ``--family`` / ``--task`` and the exposure/offset column checked as in memory)."""
    from types import SimpleNamespace

    import pandas as pd

    from regulab.commands.common import OptionError, check_offset_column, resolve_task
    from regulab.core.execution import active_client

    if opts.target is None:
        raise OptionError("--target is required with --stream: name the column to predict")
    task = resolve_task(opts)
    column = opts.exposure if opts.exposure is not None else opts.offset
    if column is not None:
        src = StreamSource(str(source))
        check_offset_column(SimpleNamespace(frame=pd.DataFrame(columns=src.columns()),
                                            name=src.name), column, opts.target)
    return stream_statistics(source, opts.target, folds=folds, seed=opts.seed,
                             features=opts.features, exclude=opts.exclude, task=task,
                             missing=opts.missing, standardize=opts.standardize,
                             max_categories=opts.max_categories or 50, batch_rows=batch_rows,
                             client=active_client(), sep=opts.sep, na_values=opts.na_values,
                             offset=column, exposure=opts.exposure is not None)


def workers_of(st: StreamStats) -> int:
    return 0 if st.client is None else len(st.client.scheduler_info()["workers"])


def fit_of(source, opts, *, rho, rule, folds, n_lams, batch_rows):
    """``(loaded, Fit, StreamedFit)``: the streamed pipeline as the commands' objects."""
    st = statistics_of(source, opts, folds=folds, batch_rows=batch_rows)
    sf = solve_streamed(st, rho=rho, n_lams=n_lams, rule=rule)
    sf.info["workers"] = workers_of(st)
    return (loaded_of(source, sf.prep, opts), as_fit(sf, rule=rule, folds=folds, seed=opts.seed),
            sf)


def stream_doc(sf: StreamedFit) -> dict:
    """The ``stream`` entry of a command's document: passes, rows/s, partitions, batch size."""
    return {k: v for k, v in sf.info.items() if k != "train_error"} | {
        "rows_read": sf.log.rows, "seconds": sf.log.seconds}


def print_stream_line(s: dict) -> None:
    from regulab.commands.common import console

    bound = f" (at most {s['pass_bound']:,} IRLS passes)" if "pass_bound" in s else ""
    if "calibration_passes" in s:
        bound += (f", {s['calibration_passes']} of them for the calibration slopes (at most "
                  f"{s['calibration_pass_bound']})")
    console().print(f"[bold]streamed[/] {s['passes']} passes over the data{bound}, "
                    f"{s['rows_per_second']:,.0f} rows/s in the statistics passes, "
                    f"{s['partitions']} partitions, batches of {s['batch_rows']:,} rows",
                    highlight=False, soft_wrap=True)


def path_inputs(source, opts, *, rho, folds, n_lams, batch_rows):
    """``regulab path --stream``: ``(loaded, fit, training error per lam, stream doc)``."""
    loaded, fit, sf = fit_of(source, opts, rho=rho, rule="1se", folds=folds, n_lams=n_lams,
                              batch_rows=batch_rows)
    return loaded, fit, np.asarray(sf.info["train_error"]), stream_doc(sf)
