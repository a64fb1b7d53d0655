"""Streamed fits (data bigger than memory) against the in-memory pipeline, on the same hash folds.

Oracles: the in-memory preparation, path and CV (:mod:`regulab.data.prepare`,
:mod:`regulab.selection.cv` with the folds of :func:`hash_folds` passed explicitly), the
residual-based duality gap, exact rational arithmetic for the accumulation.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from regulab.commands.streamed import stream_fit
from regulab.core.certificates import duality_gap_gram, duality_gap_squared
from regulab.core.memory import (
    InsufficientMemoryError,
    gram_memory,
    guard_gram,
    largest_gram_p,
)
from regulab.data.prepare import prepare
from regulab.data.stream_stats import FoldMoments, batch_moments
from regulab.data.streaming import StreamSource, hash_folds
from regulab.selection.cv import cross_validate_path
from regulab.selection.path import regularization_path

TOL = 1e-13   # both pipelines solved far below the 1e-10 compared


def _frame(seed, n, p, binary=False, categorical=True, weights=False, missing=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-5, 5, p)
    beta = np.where(rng.random(p) < 0.5, rng.standard_normal(p), 0.0)
    z = (X - X.mean(0)) @ beta
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    if categorical:
        df["c"] = rng.choice(["lo", "mid", "hi", "top"], n, p=[0.4, 0.3, 0.2, 0.1])
        z = z + df["c"].map({"lo": 0.0, "mid": 1.0, "hi": -1.0, "top": 2.0}).to_numpy()
    if binary:
        df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "yes", "no")
    else:
        df["y"] = z + rng.standard_normal(n)
    if weights:
        df["w"] = rng.uniform(0.1, 3.0, n)
    if missing:
        df.loc[rng.choice(n, n // 40, replace=False), "x0"] = np.nan
    return df


def _in_memory(df, lams, K, seed, loss, rho, weights):
    prep = prepare(df, "y", exclude=["w"] if weights else None)
    f = hash_folds(prep.rows, K, seed)
    cv = [(np.flatnonzero(f != k), np.flatnonzero(f == k)) for k in range(K)]
    sw = df["w"].to_numpy()[prep.rows] if weights else None
    res = cross_validate_path(prep.X, prep.y, loss=loss, lams=lams, cv=cv, tol=TOL,
                              sample_weight=sw, l1_ratio=rho)
    path = regularization_path(prep.X, prep.y, loss=loss, lams=lams, tol=TOL, sample_weight=sw,
                               l1_ratio=rho)
    return prep, path, res


def _close(a, b, rel=1e-10):
    """``a`` equals ``b`` to ``rel`` relative at every lam (last axis), per lam's largest
    entry (a lam where every coefficient is 0 compares to 0 absolutely)."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(b).max(axis=tuple(range(b.ndim - 1)) or None, initial=0.0), 1.0)
    assert np.all(np.abs(a - b).max(axis=tuple(range(b.ndim - 1)) or None, initial=0.0)
                  <= rel * scale), np.abs(a - b).max()


def _exact_squared(X, y, s, w_ref, lam, rho):
    """The exact minimizer on the support and signs of ``w_ref`` (a certified solution): the
    linear system ``(G_SS + l2 I) w_S = c_S - (l1/2) sign_S`` from the rows, its optimality
    (signs kept, ``|g_j| <= l1/2`` off the support) checked here. Returns ``(w, b)``."""
    s = np.full(len(y), 1.0 / len(y)) if s is None else s / s.sum()
    l1, l2 = lam * rho, lam * (1.0 - rho)
    xbar, ybar = s @ X, s @ y
    Xc = X - xbar
    G, c = Xc.T @ (s[:, None] * Xc), Xc.T @ (s * (y - ybar))
    S = np.flatnonzero(w_ref)
    w = np.zeros(X.shape[1])
    if S.size:
        sg = np.sign(w_ref[S])
        w[S] = np.linalg.solve(G[np.ix_(S, S)] + l2 * np.eye(S.size), c[S] - 0.5 * l1 * sg)
        assert np.all(np.sign(w[S]) == sg)
    g = c - G @ w
    off = np.setdiff1d(np.arange(X.shape[1]), S)
    assert np.all(np.abs(g[off]) <= 0.5 * l1 * (1 + 1e-6) + 1e-12)
    return w, ybar - xbar @ w


def _squared_oracle(prep, sw, lams, rho, path, res, K, seed):
    """Exact coefficients (all rows and every fold) and held-out errors from the rows."""
    from regulab.selection.cv import held_out_error

    X, y = prep.X, prep.y
    full = [_exact_squared(X, y, sw, path.coefs[:, k], lam, rho) for k, lam in enumerate(lams)]
    f = hash_folds(prep.rows, K, seed)
    fold_coefs, errors = [], []
    for k in range(K):
        tr, te = f != k, f == k
        sol = [_exact_squared(X[tr], y[tr], None if sw is None else sw[tr],
                              res.fold_coefs[k][:, i], lam, rho) for i, lam in enumerate(lams)]
        W = np.array([w for w, _ in sol]).T
        b = np.array([b for _, b in sol])
        fold_coefs.append(W)
        errors.append(held_out_error("squared", "mse", y[te], X[te] @ W + b,
                                     None if sw is None else sw[te]))
    return (np.array([w for w, _ in full]).T, np.array([b for _, b in full]),
            np.array(fold_coefs), np.array(errors))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", ["squared", "squared-weights-missing", "logistic-weights"])
def test_streamed_equals_in_memory(tmp_path, seed, case):
    """Same preparation, same folds; coefficients and CV errors to 1e-10 relative at every lam.
    Squared loss: against the exact solutions on the in-memory solver's support (its own
    coefficients are certified by a gap whose rounding floor leaves ~1e-9); logistic: against
    the in-memory proximal Newton at KKT 1e-13."""
    binary = case.startswith("logistic")
    weights = "weights" in case
    rho = [1.0, 0.6, 0.8][seed]
    df = _frame(seed, 1500 if binary else 2500, 7, binary=binary, weights=weights,
                missing="missing" in case)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(np.random.default_rng(seed).integers(300, 900)))
    K = 4 + seed
    sf = stream_fit(f, "y", folds=K, seed=seed + 11, batch_rows=257, tol=TOL, n_lams=12,
                    rho=rho, weights="w" if weights else None)
    loss = "logistic" if binary else "squared"
    prep, path, res = _in_memory(df, sf.path.lams, K, seed + 11, loss, rho, weights)
    assert sf.prep.report == prep.report
    assert sf.prep.feature_names == prep.feature_names
    np.testing.assert_allclose(sf.prep.means, prep.means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sf.prep.scales, prep.scales, rtol=1e-12)
    if binary:
        coefs, ints, fold_coefs, errors = path.coefs, path.intercepts, res.fold_coefs, \
            res.fold_errors
    else:
        sw = df["w"].to_numpy()[prep.rows] if weights else None
        coefs, ints, fold_coefs, errors = _squared_oracle(prep, sw, sf.path.lams, rho, path,
                                                          res, K, seed + 11)
        np.testing.assert_allclose(res.fold_errors, errors, rtol=1e-7)  # the in-memory CV
    _close(sf.path.coefs, coefs)
    _close(sf.path.intercepts[None, :], ints[None, :])
    p = len(prep.feature_names)
    _close(sf.cv.fold_coefs.transpose(1, 0, 2).reshape(p, -1),
           fold_coefs.transpose(1, 0, 2).reshape(p, -1))
    np.testing.assert_allclose(sf.cv.fold_errors, errors, rtol=1e-10)
    assert (sf.cv.idx_min, sf.cv.idx_1se) == (res.idx_min, res.idx_1se)
    assert sf.path.converged.all() and sf.cv.fold_converged.all()
    if binary:
        assert sf.info["passes"] <= sf.info["pass_bound"]


@pytest.mark.parametrize("seed", range(5))
def test_gram_gap_equals_residual_gap(seed):
    rng = np.random.default_rng(seed)
    n, p = 60, 8
    X = rng.standard_normal((n, p)) + rng.uniform(-3, 3, p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n) + 4.0
    s = rng.uniform(0.1, 2, n)
    s /= s.sum()
    w = np.where(rng.random(p) < 0.5, rng.standard_normal(p), 0.0)
    xbar, ybar = s @ X, s @ y
    Xc, yc = X - xbar, y - ybar
    G, c, yty = Xc.T @ (s[:, None] * Xc), Xc.T @ (s * yc), float(s @ yc**2)
    b_star = ybar - xbar @ w
    for l1, l2 in [(0.3, 0.0), (0.05, 0.2), (0.0, 0.7), (1e-3, 1e-3)]:
        ref = duality_gap_squared(X, y, w, b_star, l1, l2, sample_weight=s)
        got = duality_gap_gram(G, c, yty, w, l1, l2)
        assert abs(got - ref) <= 1e-10 * max(1.0, abs(ref)), (l1, l2, got, ref)


def test_hash_folds_depend_on_position_only(tmp_path):
    pos = np.arange(10_000)
    whole = hash_folds(pos, 7, 3)
    parts = np.concatenate([hash_folds(c, 7, 3) for c in np.array_split(pos, 13)])
    assert np.array_equal(whole, parts)
    assert set(np.unique(whole)) == set(range(7))
    assert not np.array_equal(whole, hash_folds(pos, 7, 4))    # the seed matters
    counts = np.bincount(whole) / pos.size
    assert np.all(np.abs(counts - 1 / 7) < 5 * np.sqrt(1 / 7 / pos.size))
    # the same file in different row groups and batch sizes: same fold sums
    df = _frame(0, 3000, 4, categorical=False)
    res = []
    for rg, batch in [(3000, 3000), (700, 128), (111, 1000)]:
        f = tmp_path / f"d{rg}.parquet"
        df.to_parquet(f, row_group_size=rg)
        sf = stream_fit(f, "y", folds=5, seed=1, batch_rows=batch, n_lams=5)
        res.append(sf)
    for sf in res[1:]:
        np.testing.assert_allclose(sf.cv.fold_errors, res[0].cv.fold_errors, rtol=1e-12)


def _exact_moments(Z, w):
    """Weighted mean and centred co-moments in exact rational arithmetic."""
    W = sum(Fraction(x) for x in w)
    q = Z.shape[1]
    mean = [sum(Fraction(wi) * Fraction(z) for wi, z in zip(w, Z[:, j])) / W for j in range(q)]
    M = [[sum(Fraction(wi) * (Fraction(Z[i, a]) - mean[a]) * (Fraction(Z[i, b]) - mean[b])
              for i, wi in enumerate(w)) for b in range(q)] for a in range(q)]
    return W, mean, M


@pytest.mark.parametrize("seed", range(3))
def test_offsets_of_1e8_keep_their_digits(seed):
    """Columns ``1e8 + N(0, 1)``: merged centred moments against exact rationals; the raw sums
    of squares (the naive accumulation) lose the spread entirely."""
    rng = np.random.default_rng(seed)
    n, q = 400, 3
    Z = 1e8 + rng.standard_normal((n, q))
    w = rng.uniform(0.5, 2.0, n)
    W, mean, M = _exact_moments(Z, w)
    acc = FoldMoments.empty(1, q)
    for chunk in np.array_split(np.arange(n), 9):
        acc = acc.merged(batch_moments(Z[chunk], w[chunk], np.zeros(chunk.size, int), 1))
    Mx = np.array([[float(v) for v in row] for row in M])
    assert np.abs(acc.M[0] - Mx).max() <= 1e-8 * np.abs(Mx).max()
    assert np.abs(acc.mean[0] - np.array([float(v) for v in mean])).max() <= 1e-7 * 1e-8 * 1e8
    naive = (Z * w[:, None]).T @ Z - np.outer(w @ Z, w @ Z) / w.sum()
    assert np.abs(naive - Mx).max() > 1e-3 * np.abs(Mx).max()   # the check can fail


def test_float32_parquet_accepted(tmp_path):
    df = _frame(4, 2000, 5, categorical=False)
    for c in df.columns:
        df[c] = df[c].astype(np.float32)
    f = tmp_path / "f32.parquet"
    df.to_parquet(f, row_group_size=500)
    sf = stream_fit(f, "y", folds=5, seed=0, batch_rows=300, tol=TOL, n_lams=8)
    prep, path, res = _in_memory(df, sf.path.lams, 5, 0, "squared", 1.0, False)
    _close(sf.path.coefs, path.coefs)
    np.testing.assert_allclose(sf.cv.mean_error, res.mean_error, rtol=1e-10)


def test_csv_and_folder_sources(tmp_path):
    df = _frame(5, 1200, 4)
    df.to_csv(tmp_path / "d.csv", index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 3)):
        df.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", row_group_size=200)
    a = stream_fit(tmp_path / "d.csv", "y", folds=4, batch_rows=250, tol=TOL, n_lams=6)
    b = stream_fit(folder, "y", folds=4, batch_rows=250, tol=TOL, n_lams=6)
    assert len(StreamSource(str(folder)).partitions()) == 6
    np.testing.assert_allclose(a.cv.mean_error, b.cv.mean_error, rtol=1e-10)
    _close(a.path.coefs, b.path.coefs)


@pytest.mark.parametrize("seed", range(2))
def test_csv_blocks_global_positions_and_same_bits_on_a_cluster(tmp_path, seed):
    """A CSV cut in byte blocks (one partition each): the blocks' row offsets are global (the
    folds' row counts equal those of the file read as one block, the moments to 1e-10), and
    the preparation and statistics passes on a 2-worker LocalCluster give the same bits as in
    this process; a file with quotes or blank lines is read as one partition."""
    from regulab.core.execution import dask_available
    from regulab.data.stream_pass import moments_pass
    from regulab.data.stream_prep import scan_prepare

    rng = np.random.default_rng(seed)
    df = _frame(seed + 60, 3000, 4, missing=True)
    f = tmp_path / "d.csv"
    df.to_csv(f, index=False)
    src = StreamSource(str(f), batch_rows=int(rng.integers(50, 400)),
                       csv_block=int(rng.integers(5_000, 30_000)))
    parts = src.partitions()
    assert len(parts) > 3 and all(p.byte_range is not None for p in parts)
    assert [p.offset for p in parts] == list(np.cumsum([0] + [p.n_rows for p in parts[:-1]]))
    assert sum(p.n_rows for p in parts) == len(df)
    one = StreamSource(str(f), batch_rows=src.batch_rows, csv_block=2**40)
    assert len(one.partitions()) == 1
    sp = scan_prepare(src, "y")
    assert sp.report.lines == scan_prepare(one, "y").report.lines
    ref = moments_pass(src, sp, 5, seed)
    whole = moments_pass(one, sp, 5, seed)
    assert np.array_equal(ref.n, whole.n)
    for name in ("W", "mean", "M"):
        np.testing.assert_allclose(getattr(ref, name), getattr(whole, name), rtol=1e-10,
                                   atol=1e-10 * np.abs(getattr(whole, name)).max())
    for bad in ['a,"b, c",1\n', "a,b,1\n\n"]:   # a quoted field; a blank line
        g = tmp_path / "odd.csv"
        g.write_text("u,v,y\n" + "a,b,1\nc,d,2\n" * 50 + bad + "e,f,3\n" * 50)
        assert [p.group for p in StreamSource(str(g), csv_block=64).partitions()] == [-1]
    if not dask_available():
        pytest.skip("dask.distributed not installed")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, \
            Client(cluster, timeout=WAIT, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=WAIT)
        sp_c = scan_prepare(src, "y", client=c)
        assert sp_c.report.lines == sp.report.lines and sp_c.specs == sp.specs
        _same_bits(moments_pass(src, sp, 5, seed, client=c), ref)


def test_gram_memory_refusal_names_the_largest_p():
    avail = 50 * 2**20
    top = largest_gram_p(avail, 10, 50_000)
    assert gram_memory(top, 10, 50_000) <= avail < gram_memory(top + 1, 10, 50_000)
    with pytest.raises(InsufficientMemoryError) as e:
        guard_gram(5000, n_folds=10, available=avail)
    msg = str(e.value)
    assert "\n" not in msg and f"at most p = {top:,}" in msg and "in-memory" in msg
    assert guard_gram(top, n_folds=10, available=avail) <= avail


def _cli(args, capsys):
    from regulab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_cli_stream_document_and_refusals(tmp_path, capsys):
    df = _frame(6, 1500, 5)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=400)
    code, out, err = _cli(["fit", str(f), "--target", "y", "--stream", "--json", "--n-lams",
                           "10"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    code, out, err = _cli(["fit", str(f), "--target", "y", "--json", "--n-lams", "10"], capsys)
    mem = json.loads(out)
    assert set(doc) - set(mem) == {"stream"} and set(mem) <= set(doc)
    assert doc["preparation"] == mem["preparation"]
    assert doc["stream"]["passes"] == 2 and doc["stream"]["partitions"] == 4
    for bad, word in [(["--batch-rows", "5"], "--batch-rows"), (["--lam", "0.1"], "--lam"),
                      (["--stability"], "--stability")]:
        code, out, err = _cli(["fit", str(f), "--target", "y", "--stream", *bad], capsys)
        assert code == 2 and word in err, err
        assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------
# regulab compare --stream: the three penalties from one statistics pass
# ------------------------------------------------------------------------------------------
def _jaccard(sets):
    vals = [len(a & b) / len(a | b) if a | b else 1.0
            for i, a in enumerate(sets) for b in sets[i + 1:]]
    return float(np.mean(vals))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("binary", [False, True])
def test_streamed_compare_equals_in_memory(tmp_path, seed, binary):
    """Every penalty (L1, elastic net, L2): grid, CV errors and SEs, lam_min / lam_1se and the
    chosen lam, kept set, the fold-set stability and (squared loss) the out-of-fold calibration
    slope, against the in-memory pipeline on the same hash folds: squared loss against the
    exact solutions on the in-memory support (1e-10; the in-memory CV itself to 1e-7, its gap
    floor), logistic against the in-memory proximal Newton at KKT 1e-13."""
    from regulab.commands import compare, compare_stream
    from regulab.commands.common import DataOptions
    from regulab.commands.fitting import grid_for
    from regulab.selection.calibration import calibration_slope, logistic_calibration_slope

    df = _frame(seed + 20, 1200 if binary else 2000, 6, binary=binary)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(np.random.default_rng(seed).integers(300, 700)))
    K, rule = 4 + seed, ["1se", "min", "1se"][seed]
    doc = compare_stream.run(f, DataOptions(target="y", seed=seed + 3), folds=K, rule=rule,
                             n_lams=10, batch_rows=311, tol=TOL)
    loss = "logistic" if binary else "squared"
    prep = prepare(df, "y")
    folds = hash_folds(prep.rows, K, seed + 3)
    cvs = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(K)]
    assert doc["n_boot"] is None and doc["stream"]["workers"] == 0
    for m, rho in compare.METHODS.items():
        d = doc["methods"][m]
        lams = grid_for(prep.X, prep.y, loss, rho, 10)
        res = cross_validate_path(prep.X, prep.y, loss=loss, lams=lams, cv=cvs, tol=TOL,
                                  l1_ratio=rho)
        path = regularization_path(prep.X, prep.y, loss=loss, lams=lams, tol=TOL,
                                   l1_ratio=rho)
        if binary:
            coefs, fold_coefs, errors = path.coefs, res.fold_coefs, res.fold_errors
        else:
            coefs, _, fold_coefs, errors = _squared_oracle(prep, None, lams, rho, path, res, K,
                                                           seed + 3)
            # the in-memory CV, certified by its gap (1e-13 relative to the null loss, hence
            # ~1e-7 relative on the errors at the small-lam end, L2 above all)
            np.testing.assert_allclose(res.fold_errors, errors, rtol=1e-6)
        mean = errors.mean(axis=0)
        se = errors.std(axis=0, ddof=1) / np.sqrt(K)
        i = res.idx_min if rule == "min" else res.idx_1se
        np.testing.assert_allclose([d["lam_min"], d["lam_1se"], d["lam"]],
                                   [lams[res.idx_min], lams[res.idx_1se], lams[i]], rtol=1e-10)
        np.testing.assert_allclose([d["cv_error"], d["cv_se"]], [mean[i], se[i]], rtol=1e-10)
        assert d["kept"] == [n for n, c in zip(prep.feature_names, coefs[:, i]) if c != 0.0]
        assert d["n_kept"] == len(d["kept"])
        sets = [set(np.flatnonzero(fold_coefs[k][:, i]).tolist()) for k in range(K)]
        assert d["stability"] == pytest.approx(_jaccard(sets), abs=1e-12)
        if binary:   # the in-memory slope on the in-memory fold models' out-of-fold log-odds
            z = np.empty(prep.y.size)
            for k, (tr, te) in enumerate(cvs):
                z[te] = prep.X[te] @ fold_coefs[k][:, i] + res.fold_intercepts[k][i]
            assert d["calibration_slope"] == pytest.approx(
                logistic_calibration_slope(prep.y, z), rel=1e-8)
        else:   # the out-of-fold predictions of the exact fold models, from the rows
            z = np.empty(prep.y.size)
            for k, (tr, te) in enumerate(cvs):
                w, b = _exact_squared(prep.X[tr], prep.y[tr], None, fold_coefs[k][:, i],
                                      lams[i], rho)
                z[te] = prep.X[te] @ w + b
            assert d["calibration_slope"] == pytest.approx(calibration_slope(prep.y, z),
                                                           rel=1e-9)
    assert doc["recommendation"]["penalty"] in compare.METHODS
    assert doc["relaxed"] is not None and doc["relaxed_left_out"] is None


def _refit_rows(X, y, S):
    """Least squares with an intercept on the columns ``S``, from the rows (minimum norm)."""
    w = np.zeros(X.shape[1])
    if S.size:
        xm = X[:, S].mean(axis=0)
        w[S] = np.linalg.lstsq(X[:, S] - xm, y - y.mean(), rcond=None)[0]
    return w, y.mean() - X.mean(axis=0) @ w


@pytest.mark.parametrize("seed", range(3))
def test_streamed_relaxed_lasso_equals_the_rows(tmp_path, seed):
    """The relaxed lasso row of ``compare --stream`` (squared loss): every fold's lasso (exact,
    on the in-memory support), its refit on the support and every gamma's held-out MSE computed
    here from the rows; the chosen (gamma, lam), CV error and SE, kept set, fold-set stability
    and out-of-fold calibration slope to 1e-10; the choice equals the in-memory
    ``cv_relaxed`` on the same folds."""
    from regulab.commands import compare_stream
    from regulab.commands.common import DataOptions
    from regulab.commands.fitting import grid_for
    from regulab.selection.calibration import calibration_slope
    from regulab.selection.relaxed import GAMMAS, _choose, cv_relaxed

    df = _frame(seed + 40, 1500, 7)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(np.random.default_rng(seed).integers(300, 700)))
    K, rule = 3 + seed, ["min", "1se", "min"][seed]
    doc = compare_stream.run(f, DataOptions(target="y", seed=seed), folds=K, rule=rule,
                             n_lams=12, batch_rows=257, tol=TOL)
    r = doc["relaxed"]
    assert doc["relaxed_left_out"] is None and r["gammas"] == list(GAMMAS)
    prep = prepare(df, "y")
    X, y = prep.X, prep.y
    lams = grid_for(X, y, "squared", 1.0, 12)
    folds = hash_folds(prep.rows, K, seed)
    cvs = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(K)]
    res = cross_validate_path(X, y, loss="squared", lams=lams, cv=cvs, tol=TOL)
    errors = np.empty((K, len(GAMMAS), lams.size))
    models = {}
    for k, (tr, te) in enumerate(cvs):
        for i, lam in enumerate(lams):
            w, b = _exact_squared(X[tr], y[tr], None, res.fold_coefs[k][:, i], lam, 1.0)
            wr, br = _refit_rows(X[tr], y[tr], np.flatnonzero(w))
            for a, g in enumerate(GAMMAS):
                models[k, a, i] = (g * w + (1 - g) * wr, g * b + (1 - g) * br)
                z = X[te] @ models[k, a, i][0] + models[k, a, i][1]
                errors[k, a, i] = np.mean((y[te] - z) ** 2)
    mean, se = errors.mean(axis=0), errors.std(axis=0, ddof=1) / np.sqrt(K)
    a, i = _choose(mean, se, rule)
    assert r["gamma"] == GAMMAS[a] and r["lam"] == pytest.approx(lams[i], rel=1e-10)
    np.testing.assert_allclose([r["cv_error"], r["cv_se"]], [mean[a, i], se[a, i]], rtol=1e-10)
    path = regularization_path(X, y, loss="squared", lams=lams, tol=TOL)
    w, b = _exact_squared(X, y, None, path.coefs[:, i], lams[i], 1.0)
    wr, br = _refit_rows(X, y, np.flatnonzero(w))
    coef = GAMMAS[a] * w + (1 - GAMMAS[a]) * wr
    got = np.array([r["coef_standardized"][n] for n in prep.feature_names])
    _close(got[:, None], coef[:, None])
    assert r["intercept_standardized"] == pytest.approx(GAMMAS[a] * b + (1 - GAMMAS[a]) * br,
                                                        rel=1e-10, abs=1e-10)
    assert r["kept"] == [n for n, c in zip(prep.feature_names, coef) if c != 0.0]
    z = np.empty(y.size)
    for k, (_, te) in enumerate(cvs):
        z[te] = X[te] @ models[k, a, i][0] + models[k, a, i][1]
    assert r["calibration_slope"] == pytest.approx(calibration_slope(y, z), rel=1e-9)
    sets = [set(np.flatnonzero(models[k, a, i][0]).tolist()) for k in range(K)]
    assert r["stability"] == pytest.approx(_jaccard(sets), abs=1e-12)
    mem = cv_relaxed(X, y, lams=lams, cv=cvs, rule=rule, tol=TOL)
    assert (mem.gamma, mem.lam) == (r["gamma"], pytest.approx(r["lam"], rel=1e-10))
    assert mem.cv_error == pytest.approx(r["cv_error"], rel=1e-6)


def test_cli_compare_stream_document_and_refusals(tmp_path, capsys):
    df = _frame(7, 1500, 5)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=400)
    code, out, err = _cli(["compare", str(f), "--target", "y", "--stream", "--json",
                           "--n-lams", "8"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    code, out, err = _cli(["compare", str(f), "--target", "y", "--json", "--n-lams", "8",
                           "--n-boot", "2"], capsys)
    assert code == 0, err
    mem = json.loads(out)
    assert set(doc) - set(mem) == {"stream", "relaxed_left_out"} and set(mem) <= set(doc)
    assert set(doc["relaxed"]) == set(mem["relaxed"]) and doc["relaxed_left_out"] is None
    for m in mem["methods"]:
        assert set(doc["methods"][m]) == set(mem["methods"][m])
    assert doc["preparation"] == mem["preparation"]
    assert "K CV training sets" in doc["stability_method"]
    assert doc["stream"]["partitions"] == 4 and doc["stream"]["passes"] == 2
    code, out, err = _cli(["compare", str(f), "--target", "y", "--stream", "--n-lams", "8"],
                          capsys)
    assert code == 0 and "5 CV training sets" in out and "streamed 2 passes" in out, err
    for bad, word in [(["--n-boot", "30"], "--n-boot"), (["--batch-rows", "5"], "--batch-rows"),
                      (["--nonnegative"], "--nonnegative"), (["--grouped"], "--grouped"),
                      (["--family", "multinomial"], "multinomial")]:
        code, out, err = _cli(["compare", str(f), "--target", "y", "--stream", *bad], capsys)
        assert code == 2 and word in err, err
        assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------
# Dask: workers far smaller than the data (patterns of test_distributed.py: generous deadlines,
# waits on conditions, never fixed sleeps)
# ------------------------------------------------------------------------------------------
#: deadline (s) for waits on the cluster (shared, loaded CI machines)
WAIT = 300
#: the dataset written by the test (MiB on disk, uncompressed float64: the decoded size too) and
#: the cluster streaming it: the issue's case, 3 GiB through 4 workers of 400 MiB (the data 7.5
#: times a worker's limit, twice the workers' together); 4.1 min here at load < 3, 13 min at
#: load 7-13 on 2 shared cores, where the 800 MiB / 2-worker variant (``REGULAB_STREAM_SMALL=1``) took 7 min at load
#: 11-14 and 2 min when the machine was quieter (docs/scaling.md).
#: Measured here: a bare worker is ~62 MiB, ~170-220 MiB once a pass's modules are imported
#: (Python, Dask, pandas, pyarrow, numba), 280-316 MiB at its peak over the two preparation
#: passes and the statistics pass (allocator slack, not the data: the same with 5.6, 11 or 16 MiB
#: row groups), so 400 MiB leaves the margin below the nanny's 95 % that a loaded machine needs.
BIG = os.environ.get("REGULAB_STREAM_SMALL", "") != "1"
DATA_MIB = 3072 if BIG else 800
WORKER_MIB = 400
N_WORKERS = 4 if BIG else 2
#: partitions (Parquet row groups) of the test file: 16 MiB each (12.5 MiB in the small variant)
N_PARTS = 192 if BIG else 64


#: the process's resident high-water mark (VmHWM), MiB. A lambda: cloudpickle sends it by value,
#: so a worker reading its peak does not import this test module (and pytest, and the CLI)
_peak_mib = lambda: next(int(line.split()[1]) / 1024  # noqa: E731
                         for line in open("/proc/self/status") if line.startswith("VmHWM:"))


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = 40
    rows = DATA_MIB * 2**20 // (8 * (p + 1))
    f = tmp_path_factory.mktemp("big") / "big.parquet"
    rng = np.random.default_rng(7)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(p)] + [("y", pa.float64())])
    # uncompressed: random doubles do not compress, and encoding is the test's slowest step;
    # written two row groups at a time, never the whole table
    sizes = np.diff(np.linspace(0, rows, N_PARTS // 2 + 1).astype(np.int64))
    # no dictionary pages either: pyarrow's attempt on random doubles adds ~25 % to the file
    with pq.ParquetWriter(f, schema, compression="none", use_dictionary=False) as w:
        for m in sizes:
            X = rng.standard_normal((m, p)) + 1e3
            y = X[:, :8].sum(axis=1) + rng.standard_normal(m)
            w.write_table(pa.table({**{f"x{j}": X[:, j] for j in range(p)}, "y": y}),
                          row_group_size=m // 2 + 1)
            del X, y
    src = StreamSource(str(f), batch_rows=8192)
    from regulab.data.stream_prep import scan_prepare

    yield src, scan_prepare(src, "y")
    f.unlink()   # 3 GiB: not left behind in pytest's kept temporary folders


def _same_bits(a: FoldMoments, b: FoldMoments):
    for name in ("W", "n", "mean", "M", "raw_mean", "raw_m2"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_cluster_of_small_workers_gives_the_same_bits_and_survives_a_kill(big_parquet):
    import os
    import signal
    import threading
    import time

    from regulab.core.execution import dask_available
    from regulab.data.stream_pass import moments_pass

    if not dask_available():
        pytest.skip("dask.distributed not installed")
    from distributed import Client, LocalCluster

    import dask

    src, sp = big_parquet
    assert src.nbytes() > 0.9 * DATA_MIB * 2**20 and len(src.partitions()) == N_PARTS
    assert src.nbytes() > (7 if BIG else 1.9) * WORKER_MIB * 2**20
    ref = moments_pass(src, sp, 5, 3)
    # no pausing at 80 %: the pass never holds more than a batch, and a paused worker whose
    # allocator keeps freed pages would wait forever; the nanny still kills a worker at 95 %
    with dask.config.set({"distributed.worker.memory.pause": False}):
        cluster = LocalCluster(n_workers=N_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, memory_limit=f"{WORKER_MIB}MiB")
    c = Client(cluster, timeout=WAIT, set_as_default=False)
    try:
        c.wait_for_workers(N_WORKERS, timeout=WAIT)
        # warm-up: the modules a pass imports (pyarrow, pandas, regulab) before the baseline
        from regulab.data.stream_pass import partition_moments

        part = src.partitions()[0]
        c.run(partition_moments, src, part, sp, 5, 3)
        before = c.run(_peak_mib)
        from regulab.data.stream_prep import scan_prepare

        sp_cluster = scan_prepare(src, "y", client=c)   # the preparation passes on the cluster
        assert sp_cluster.report.lines == sp.report.lines and sp_cluster.specs == sp.specs
        _same_bits(moments_pass(src, sp, 5, 3, client=c), ref)
        after = c.run(_peak_mib)
        assert set(after) == set(before), "a worker was restarted during the passes (memory?)"
        # each worker's high-water mark, read on the worker: below its limit, and the pass
        # added a small share of the data (a row group and a batch), not the data
        assert max(after.values()) < WORKER_MIB, after
        assert max(after[w] - before[w] for w in after) < DATA_MIB / 8, (before, after)
        pids = c.run(os.getpid)
        box = {}

        def work():
            try:
                box["res"] = moments_pass(src, sp, 5, 3, client=c)
            except BaseException as exc:  # noqa: BLE001 - reported below
                box["err"] = exc

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        victim, deadline = None, time.monotonic() + WAIT
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            busy = [w for w, keys in c.processing().items() if keys and w in pids]
            victim = busy[0] if busy else None
            time.sleep(0.02)
        assert victim is not None, "no partition was seen running"
        os.kill(pids[victim], signal.SIGKILL)   # the worker dies with its partition half read
        thread.join(WAIT)
        assert not thread.is_alive(), "the pass did not finish after a worker was killed"
        assert "err" not in box, box.get("err")
        _same_bits(box["res"], ref)
    finally:
        c.close(timeout=30)
        cluster.close(timeout=WAIT)


def test_cli_path_stream(tmp_path, capsys):
    from regulab.commands.fitting import training_error

    df = _frame(8, 1200, 4, binary=True)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=300)
    code, out, err = _cli(["path", str(f), "--target", "y", "--stream", "--json", "--n-lams",
                           "8", "--cv", "3"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    code, out, err = _cli(["path", str(f), "--target", "y", "--json", "--n-lams", "8", "--cv",
                           "3"], capsys)
    mem = json.loads(out)
    assert set(doc) - set(mem) == {"stream"} and set(mem) <= set(doc)
    assert doc["preparation"] == mem["preparation"]
    np.testing.assert_allclose(doc["lams"], mem["lams"], rtol=1e-10)
    prep = prepare(df, "y")
    coefs = np.array([doc["coefs"][n] for n in prep.feature_names])
    # the intercepts are not in the document: the training error is checked through the
    # coefficients' in-memory fit at the same lams (the same certified solutions)
    path = regularization_path(prep.X, prep.y, loss="logistic", lams=doc["lams"], tol=1e-10)
    _close(coefs, path.coefs, rel=1e-6)
    terr = training_error(prep.X, prep.y, "logistic", path.coefs, path.intercepts)
    np.testing.assert_allclose(doc["train_error"], terr, rtol=1e-6)
    assert doc["stream"]["passes"] <= doc["stream"]["pass_bound"] + 3
