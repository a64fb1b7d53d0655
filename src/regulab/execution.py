"""One execution layer for every many-fit workload (CV folds, resamples, Monte Carlo trials).

Tasks are independent, carry their own seeds (derived from the caller's seed with
:class:`numpy.random.SeedSequence`, never from execution order) and run through joblib: in this
process (``n_jobs=None`` or 1), in local processes (``n_jobs=k`` or -1), or on any joblib backend the
caller has activated (e.g. Dask). Results come back in task order, so every backend gives the same
numbers.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
from joblib import Parallel, delayed


def task_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds derived from ``seed`` (stable whatever runs them)."""
    children = np.random.SeedSequence(int(seed)).spawn(int(n))
    return [int(c.generate_state(1)[0]) for c in children]


def run_tasks(fn: Callable, tasks: Sequence | Iterable, n_jobs: int | None = None,
              on_done: Callable[[int], None] | None = None) -> list:
    """``[fn(t) for t in tasks]``, possibly in parallel; ``on_done(k)`` after each finished task
    (only called when running in this process: a progress bar for the sequential case)."""
    tasks = list(tasks)
    if n_jobs in (None, 1):
        out = []
        for k, t in enumerate(tasks):
            out.append(fn(t))
            if on_done:
                on_done(k)
        return out
    results = Parallel(n_jobs=n_jobs)(delayed(fn)(t) for t in tasks)
    if on_done:
        for k in range(len(tasks)):
            on_done(k)
    return list(results)
