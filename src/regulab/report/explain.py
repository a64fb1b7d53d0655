"""``regulab explain``: run the claims, draw their figures, write the report.

With several seeds each claim's experiment is repeated once per seed; the report shows the first
seed's measurements and figures, and beside each prediction the share of seeds where it held and
its tightest margin (:func:`robustness`). A claim whose experiment raises becomes an ``error``
result with the reason; the other claims still run and the report is written.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # never open a window; the report is files

from regulab.core.execution import active_client, iter_tasks  # noqa: E402
from regulab.report.claims import BUILTIN, ClaimResult, ExplainConfig, select  # noqa: E402
from regulab.report.claims.base import ERROR, OUTCOMES  # noqa: E402
from regulab.report.writer import (  # noqa: E402
    prepare_out_dir,
    save_figure,
    write_html,
    write_results_json,
)

#: the most seeds one run takes (each seed repeats every claim's experiment)
MAX_SEEDS = 1000


def parse_seeds(text: str) -> list[int]:
    """``'0-9'`` -> 0..9, ``'0,3,7'`` -> [0, 3, 7], ``'5'`` -> [5]; ranges and lists mix.

    Raises ValueError naming what is wrong (negative, reversed range, duplicates, too many).
    """
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"seeds must look like 0-9 or 0,3,7 (whole numbers >= 0), got {text!r}")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"seed range {part} runs backwards; write {hi}-{lo}")
        if hi - lo + 1 + len(seeds) > MAX_SEEDS:
            raise ValueError(f"at most {MAX_SEEDS} seeds per run, got more in {text!r}")
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat in {text!r}")
    return seeds


def _run_one(claim, config: ExplainConfig) -> ClaimResult:
    try:
        return claim.run(config)
    except Exception as exc:  # noqa: BLE001 - a failed experiment is a result, not a crash
        return claim.error_result(exc)


def robustness(results: list[ClaimResult], seeds: list[int]) -> dict:
    """Per prediction across seeds: how often it applied and held, the tightest margin and the
    seed it came from; and how many seeds gave each outcome."""
    preds: dict[str, dict] = {}
    for seed, r in zip(seeds, results):
        for p in r.predictions:
            d = preds.setdefault(p.name, {"text": p.text, "applied": 0, "held": 0,
                                          "min_margin": None, "min_margin_seed": None,
                                          "values": []})
            d["values"].append(p.value if p.applies else None)
            if not p.applies:
                continue
            d["applied"] += 1
            d["held"] += int(p.held)
            if d["min_margin"] is None or p.margin < d["min_margin"]:
                d["min_margin"], d["min_margin_seed"] = p.margin, seed
    for d in preds.values():
        d["share_held"] = d["held"] / d["applied"] if d["applied"] else None
    outcomes = {o: sum(r.outcome == o for r in results) for o in OUTCOMES}
    errors = {seed: r.error for seed, r in zip(seeds, results) if r.outcome == ERROR}
    return {"seeds": list(seeds), "outcomes": {k: v for k, v in outcomes.items() if v},
            "predictions": preds, "errors": errors}


def explain(out_dir: str | Path = "regulab-report", only=None, config: ExplainConfig | None = None,
            on_step: Callable[[str, str], None] | None = None,
            seeds: list[int] | None = None, n_jobs: int | None = -1,
            timings: dict | None = None) -> list[ClaimResult]:
    """Run the selected claims (all by default) and write ``index.html``, ``results.json`` and
    ``figures/`` into ``out_dir``.

    ``seeds``: run every claim once per seed (the first seed's result is the one shown, with a
    robustness summary over all); default: ``config.seed`` alone. ``on_step(claim_id, phase)``
    is called as work proceeds (phases ``'run'``, ``'plot'``, ``'done'``; with worker processes
    ``'run'`` comes when the claim is handed out and ``'done'`` when its result is back), for
    progress bars. ``n_jobs``: worker processes for the registered claims (-1: one per core;
    ``None`` or 1: everything in this process, as also when a Dask cluster is active, so that
    the claims' own workloads go to it). A claim with ``parts`` (independent pieces of its
    experiment) may send each part to the workers as its own task, when that shortens the
    estimated run (:func:`_worth_splitting`); it is then assembled and drawn here when its
    last part is back. ``timings``, when given, receives each claim's seconds of measuring
    and drawing (summed over seeds and parts). Returns the results, one per claim.
    """
    config = config or ExplainConfig()
    seeds = list(seeds) if seeds else [config.seed]
    config = dataclasses.replace(config, seed=seeds[0])
    claims = select(only)
    out = prepare_out_dir(out_dir)
    timings = {} if timings is None else timings
    step = on_step or (lambda claim_id, phase: None)
    runs: dict[str, list] = {c.id: [None] * len(seeds) for c in claims if not c.missing()}
    jobs = [(c, k) for c in claims if c.id in runs for k in range(len(seeds))]
    workers = _n_workers(n_jobs, sum(len(c.parts) or 1 for c, _ in jobs if _shippable(c)))
    shipped = [(c, k) for c, k in jobs if workers > 1 and _shippable(c)]
    split = _worth_splitting(shipped, workers)
    # a claim sent in parts gives one task per part (part None: the whole claim)
    remote = [(c, k, part) for c, k in shipped for part in (c.parts if c.id in split else [None])]
    for c in sorted({c.id: c for c, _, _ in remote}.values(), key=lambda c: -c.cost_s):
        step(c.id, "run")
    # the longest first: the last to finish is short
    remote.sort(key=lambda job: -(job[0].parts[job[2]] if job[2] else job[0].cost_s))
    tasks = [(c.id, dataclasses.replace(config, seed=seeds[k]), k == 0, out, part)
             for c, k, part in remote]
    done = {c.id: 0 for c, _, _ in remote}
    pieces: dict[tuple[str, int], dict] = {}
    # one_thread=False: each claim runs with BLAS pools as in this process (a claim's own
    # workloads pin theirs), so its numbers are those of an in-process run. The workers fork
    # from a server that imported this module (so the claims) while this process started:
    # no worker imports after the tasks are handed out (loky where there is no such server)
    results_iter = iter_tasks(_measure_and_draw, tasks, n_jobs=workers, backend="forkserver",
                              one_thread=False)
    for (c, k, part), (result, seconds) in zip(remote, results_iter):
        timings[c.id] = timings.get(c.id, 0.0) + seconds
        if part is not None:
            got = pieces.setdefault((c.id, k), {})
            got[part] = result
            if len(got) < len(c.parts):
                continue
            t0 = time.perf_counter()  # every part is in: assemble (and draw) here
            result = _assemble(c, dataclasses.replace(config, seed=seeds[k]), got)
            if k == 0 and result.outcome != ERROR:
                _draw(c, result, out)
            timings[c.id] += time.perf_counter() - t0
        runs[c.id][k] = result
        done[c.id] += 1
        if done[c.id] == len(seeds):
            step(c.id, "done")
    results = []
    for claim in claims:
        if claim.missing():
            results.append(claim.skipped_result())
            step(claim.id, "done")
            continue
        if claim.id not in done:  # this process: measure, draw, as the steps go
            step(claim.id, "run")
            t0 = time.perf_counter()
            runs[claim.id] = [_run_one(claim, dataclasses.replace(config, seed=s)) for s in seeds]
            if runs[claim.id][0].outcome != ERROR:
                step(claim.id, "plot")
                _draw(claim, runs[claim.id][0], out)
            timings[claim.id] = time.perf_counter() - t0
            step(claim.id, "done")
        result = runs[claim.id][0]
        if len(seeds) > 1:
            result.robustness = robustness(runs[claim.id], seeds)
        results.append(result)
    write_results_json(results, out, config, seeds=seeds)
    write_html(results, out, config, seeds=seeds)
    return results


def _shippable(claim) -> bool:
    """Whether a fresh worker process builds the very same claim: a claim of the registry as
    imported (not one registered, or replaced, at run time)."""
    return BUILTIN.get(claim.id) is claim


def _n_workers(n_jobs: int | None, n_tasks: int) -> int:
    """Worker processes for ``n_tasks`` claim runs; 1 means this process."""
    if n_jobs is None or n_tasks < 2 or active_client() is not None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, min(n_jobs, n_tasks))


def _finish_time(costs, workers: int) -> float:
    """When ``costs`` end, handed out longest first, each to the worker that is free first."""
    free = [0.0] * workers
    for cost in sorted(costs, reverse=True):
        free[free.index(min(free))] += cost
    return max(free)


def _worth_splitting(jobs, workers: int) -> set[str]:
    """The ids of the claims to send in parts: those whose parts make the estimated finish
    time (:func:`_finish_time` of the registry's costs) shorter. A part's cost includes what
    each part repeats in its own process (importing torch, for the neural-net claim), so on
    few workers one piece can be the quicker choice."""
    def costs(ids):
        return [x for c, _ in jobs for x in (c.parts.values() if c.id in ids else [c.cost_s])]

    split: set[str] = set()
    for c in sorted({c.id: c for c, _ in jobs if c.parts}.values(), key=lambda c: -c.cost_s):
        if _finish_time(costs(split | {c.id}), workers) < _finish_time(costs(split), workers):
            split.add(c.id)
    return split


def _measure_and_draw(task) -> tuple:
    """In a worker: run one registered claim at one seed and, for the first seed, draw its
    figures into the report folder; ``(result, seconds)``. With a part named: measure that part
    of the claim only; ``(its result or the exception it raised, seconds)``."""
    from regulab.report.claims import REGISTRY

    claim_id, config, draw, out, part = task
    claim = REGISTRY[claim_id]
    t0 = time.perf_counter()
    if part is not None:
        try:
            return claim.measure_part(part, config), time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - the claim's error result, made where assembled
            return exc, time.perf_counter() - t0
    result = _run_one(claim, config)
    if draw and result.outcome != ERROR:
        _draw(claim, result, out)
    return result, time.perf_counter() - t0


def _assemble(claim, config: ExplainConfig, parts: dict) -> ClaimResult:
    """The claim's result from its parts' results (an error result if a part raised)."""
    failed = [v for v in parts.values() if isinstance(v, BaseException)]
    if failed:
        return claim.error_result(failed[0])
    try:
        return claim.run(config, parts=parts)
    except Exception as exc:  # noqa: BLE001 - a failed experiment is a result, not a crash
        return claim.error_result(exc)


def _draw(claim, result: ClaimResult, out: Path) -> None:
    """Save the claim's figures; a figure that fails to draw is noted, never fatal."""
    try:
        for name, (fig, caption) in claim.plot(result).items():
            result.figures.extend(save_figure(fig, out, name))
            result.figure_captions[name] = caption
    except Exception as exc:  # noqa: BLE001
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        result.nuance = (result.nuance + " " if result.nuance else "") + \
            f"(The figures could not be drawn: {reason}.)"
