"""The streamed preparation in one pass: where pass 1's counts on the rows with a target answer
pass 2 (module docstring of :mod:`regulab.data.stream_prep`), the StreamPrep is the very one the
two passes give (same specs to the bit, same report), on Parquet and CSV, with categoricals,
missing values (target and features), weights, dropped columns; elsewhere pass 2 is read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from regulab.data import stream_prep
from regulab.data.streaming import StreamSource


def _frame(seed, n, feature_na, target_na):
    """Numbers, a categorical, a weight column, a constant column with missing values and an
    all-missing column (both dropped in pass 1); ``feature_na``: NaN in a numeric and in the
    categorical column; ``target_na``: rows without a target."""
    rng = np.random.default_rng(seed)
    p = int(rng.integers(2, 5))
    df = pd.DataFrame(rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-5, 5, p),
                      columns=[f"x{j}" for j in range(p)])
    df["c"] = rng.choice(["lo", "mid", "hi", "top"], n, p=[0.4, 0.3, 0.2, 0.1])
    df["const"] = np.where(rng.random(n) < 0.1, np.nan, 2.5)
    df["gone"] = np.nan
    df["w"] = rng.uniform(0.1, 3.0, n)
    df["y"] = df["x0"] + rng.standard_normal(n)
    if feature_na:
        df.loc[rng.choice(n, n // 30, replace=False), "x1"] = np.nan
        df.loc[rng.choice(n, n // 25, replace=False), "c"] = None
    if target_na:
        df.loc[rng.choice(n, n // 20, replace=False), "y"] = np.nan
    return df


def _source(df, tmp_path, fmt, rng):
    if fmt == "csv":
        f = tmp_path / "d.csv"
        df.to_csv(f, index=False)
        return StreamSource(str(f), batch_rows=int(rng.integers(60, 400)),
                            csv_block=int(rng.integers(3_000, 20_000)))
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(rng.integers(150, 700)))
    return StreamSource(str(f), batch_rows=int(rng.integers(60, 400)))


def _two_passes(monkeypatch, src, **kw):
    """The preparation with pass 2 always read."""
    with monkeypatch.context() as m:
        m.setattr(stream_prep, "_speculation_holds", lambda *a: False)
        return stream_prep.scan_prepare(src, "y", **kw)


def _same(a, b):
    """The same StreamPrep but for the pass count, to the bit (repr round-trips floats)."""
    assert dataclasses.replace(a, prep_passes=b.prep_passes) == b
    assert repr(a.specs) == repr(b.specs)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("missing", ["drop", "mean"])
def test_one_pass_gives_the_two_pass_prep(tmp_path, monkeypatch, seed, fmt, missing):
    rng = np.random.default_rng(seed + 100)
    for feature_na in (False, True):
        df = _frame(seed, int(rng.integers(1500, 4000)), feature_na, target_na=bool(seed % 2))
        src = _source(df, tmp_path, fmt, rng)
        kw = dict(missing=missing, weights="w")
        one = stream_prep.scan_prepare(src, "y", **kw)
        two = _two_passes(monkeypatch, src, **kw)
        _same(one, two)
        assert two.prep_passes == 2
        # pass 2 is skipped exactly when the rows kept are the rows with a target
        assert one.prep_passes == (2 if missing == "drop" and feature_na else 1)
        assert {"const", "gone"} <= set(one.report.dropped_columns)
        assert "w" not in [n for n, _ in one.candidates]


def test_level_counts_stopped_fall_back_to_pass_two(tmp_path, monkeypatch):
    """A text column whose pass-1 counts stopped (beyond MAX_LEVELS_SEEN levels) but which is
    still a candidate (--max-categories above that cap) is counted by pass 2."""
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame({"x": rng.standard_normal(n),
                       "many": rng.choice([f"L{i}" for i in range(40)], n),
                       "y": rng.standard_normal(n)})
    src = _source(df, tmp_path, "parquet", rng)
    monkeypatch.setattr(stream_prep, "MAX_LEVELS_SEEN", 30)
    one = stream_prep.scan_prepare(src, "y", max_categories=100)
    two = _two_passes(monkeypatch, src, max_categories=100)
    _same(one, two)
    assert one.prep_passes == 2
    spec = next(s for s in one.specs if s.name == "many")
    assert len(spec.levels) == 40


def test_one_pass_reads_the_data_once(tmp_path, monkeypatch):
    """The batches read: one pass over the rows (not two), and never the weight column."""
    rng = np.random.default_rng(3)
    df = _frame(3, 2500, feature_na=False, target_na=True)
    src = _source(df, tmp_path, "parquet", rng)
    seen = []
    frames = StreamSource.frames

    def counting(self, part, columns=None):
        for off, b in frames(self, part, columns):
            seen.append((len(b), tuple(b.columns)))
            yield off, b

    monkeypatch.setattr(StreamSource, "frames", counting)
    sp = stream_prep.scan_prepare(src, "y", weights="w")
    assert sum(k for k, _ in seen) == len(df)
    assert all("w" not in cols for _, cols in seen)
    assert sp.prep_passes == 1 and sp.n_kept == int(df["y"].notna().sum())


def _distinct_reference(src, cap):
    """The target's distinct values as counted value by value (per partition up to ``cap``
    at a batch's start, merged in partition order up to ``cap`` at each value)."""
    merged = {}
    for part in src.partitions():
        d = {}
        for _, df in src.frames(part, ["y"]):
            t = df["y"]
            if len(d) <= cap:
                for v, k in t[t.notna()].value_counts(sort=False).items():
                    d[v] = d.get(v, 0) + int(k)
        for v, k in d.items():
            if v in merged:
                merged[v] += k
            elif len(merged) <= cap:
                merged[v] = k
    return list(merged.items())


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("target", ["continuous", "integer", "text", "bool"])
def test_distinct_target_values_as_counted_one_by_one(tmp_path, monkeypatch, seed, target):
    """The distinct target values (kept in order of first sight, capped at DISTINCT_CAP) are
    those a value-by-value count gives, and the overflow shows in the report."""
    rng = np.random.default_rng(seed + 40)
    n = int(rng.integers(2000, 5000))
    cap = int(rng.integers(20, 200))
    y = {"continuous": np.round(rng.standard_normal(n), int(rng.integers(1, 4))),
         "integer": rng.integers(0, int(rng.integers(3, 400)), n),
         "text": rng.choice(["a", "b", "c"], n),
         "bool": rng.random(n) < 0.3}[target]
    df = pd.DataFrame({"x": rng.standard_normal(n), "y": y})
    if target == "continuous":
        df.loc[rng.choice(n, n // 20, replace=False), "y"] = np.nan
    src = _source(df, tmp_path, "parquet" if seed % 2 == 0 else "csv", rng)
    monkeypatch.setattr(stream_prep, "DISTINCT_CAP", cap)
    _, distinct, overflow, *_ = stream_prep._scan_all(src, "y", ["x"], src.name, None)
    ref = _distinct_reference(src, cap)
    assert list(distinct.items()) == ref
    assert [type(v) for v, _ in distinct.items()] == [type(v) for v, _ in ref]
    assert overflow == (len(ref) > cap)
