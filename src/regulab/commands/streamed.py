"""Fits on data bigger than memory: the streamed route of ``regulab fit / path / compare``.

:func:`stream_fit` runs the whole pipeline on a Parquet file or folder, or a CSV file, never
holding more than ``batch_rows`` rows:

1. two preparation passes (:mod:`regulab.data.stream_prep`): task, columns, levels, rows kept;
2. the memory guard for the ``p x p`` work (:func:`regulab.core.memory.guard_gram`);
3. one statistics pass (:mod:`regulab.data.stream_pass`): every fold's moments of ``[x, y]``,
   folds by the seeded hash of the row position (:func:`regulab.data.streaming.hash_folds`);
   the standardization from the same pass;
4. squared loss: the path, every fold's path and held-out error from the moments alone
   (:func:`regulab.selection.streamed.cv_from_moments`); logistic loss: IRLS passes
   (:func:`regulab.selection.streamed.cv_logistic`).

With ``client`` (a ``distributed.Client``; the CLI's ``--scheduler``) each pass runs one task
per Parquet row group on the cluster; the results are the same bits as in one process.

``--stream`` on the command line chooses this route; without it, a Parquet/CSV source whose
size on disk exceeds :data:`AUTO_FRACTION` of the available memory (``core/memory``) takes it
too (a decoded table is larger than its file, so this is a lower bound on the need).
"""

from __future__ import annotations

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
from regulab.selection.streamed import cv_from_moments, cv_logistic, stream_grid

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


def stream_fit(path, target, *, rho=1.0, lams=None, n_lams=100, folds=10, seed=0, rule="1se",
               features=None, exclude=None, task="auto", missing="drop", standardize=True,
               max_categories=50, weights=None, batch_rows=DEFAULT_BATCH_ROWS, client=None,
               tol=1e-6, max_newton=50, float32=False, sep=None, na_values=()) -> StreamedFit:
    """The streamed pipeline of the module docstring. Returns a :class:`StreamedFit`."""
    source = StreamSource(str(path), int(batch_rows), sep, tuple(na_values or ()))
    sp = scan_prepare(source, target, features=features, exclude=exclude, task=task,
                      missing=missing, standardize=standardize, max_categories=max_categories,
                      weights=weights)
    log = PassLog(passes=3 if sp.task == "binary" else 2, rows=2 * sp.n_in)
    guard_gram(sp.width, n_folds=int(folds), batch_rows=int(batch_rows))
    raw = moments_pass(source, sp, int(folds), int(seed), client, log,
                       dtype=np.float32 if float32 else np.float64)
    means, scales = standardization(raw, sp.standardize)
    prep = finish(sp, means, scales)

    def std(t):
        return standardized(*t, prep.means, prep.scales)

    total = std(raw.total())
    training = [std(t) for t in raw.training()]
    tests = [std(raw.fold(k)) for k in range(int(folds))]
    loss = "logistic" if sp.task == "binary" else "squared"
    if lams is None:
        lams = stream_grid(total, rho, sp.n_kept, loss, n_lams)
    info = {}
    if loss == "squared":
        path_res, cv = cv_from_moments(total, training, tests, lams, rho, tol=tol,
                                       feature_names=prep.feature_names)
    else:
        def irls(models):
            return irls_pass(source, sp, int(folds), int(seed), prep.means, prep.scales, models,
                             client, log)

        path_res, cv, info = cv_logistic(irls, total, training, lams, rho, tol=tol,
                                         max_newton=max_newton,
                                         feature_names=prep.feature_names)
    info.update({"passes": log.passes, "rows_per_second": log.rows_per_second,
                 "batch_rows": int(batch_rows), "partitions": len(source.partitions())})
    return StreamedFit(prep, path_res, cv, cv.chosen(rule), rho, loss, log, info)
