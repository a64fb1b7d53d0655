"""The Poisson family under --stream (count targets, exposure/offset columns) against the rows.

Oracles: regulab's in-memory Poisson path and CV on the same hash folds (a different solver:
damped proximal Newton on the rows), the KKT conditions and held-out deviances of the streamed
coefficients computed here from the rows, and glum on the same objective at one lam.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_streaming import WAIT, _cli, _close

from regulab.commands.streamed import stream_fit
from regulab.core.losses import poisson_deviance
from regulab.data.prepare import prepare
from regulab.data.streaming import hash_folds
from regulab.selection.cv import cross_validate_path
from regulab.selection.path import lam_grid, regularization_path

TOL = 1e-13


def _counts(seed, n, p, kind="exposure"):
    """A count target ``y ~ Poisson(exposure * exp(x.beta + level effect))``, a categorical
    column, sample weights ``w`` and the exposure ``e`` (``kind='offset'``: ``e`` is the log)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + rng.uniform(-4, 4, p)
    beta = np.where(rng.random(p) < 0.6, 0.4 * rng.standard_normal(p), 0.0)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["c"] = rng.choice(["lo", "mid", "hi"], n, p=[0.5, 0.3, 0.2])
    expo = rng.uniform(0.3, 4.0, n)
    eta = (X - X.mean(0)) @ beta + df["c"].map({"lo": 0.0, "mid": 0.6, "hi": -0.5}).to_numpy()
    df["y"] = rng.poisson(expo * np.exp(eta))
    df["w"] = rng.uniform(0.2, 2.5, n)
    df["e"] = np.log(expo) if kind == "offset" else expo
    return df


def _kkt(X, y, s, o, w, b, lam, rho):
    """Largest KKT violation of ``sum s (mu - y eta) / sum s + l1|w|_1 + l2|w|^2`` at ``(w, b)``
    from the rows, relative to the null model's largest gradient entry."""
    s = s / s.sum()
    mu = np.exp(X @ w + b + o)
    g = X.T @ (s * (mu - y)) + 2.0 * lam * (1.0 - rho) * w
    l1 = lam * rho
    on = w != 0
    viol = np.concatenate([np.abs(g[on] + l1 * np.sign(w[on])),
                           np.maximum(np.abs(g[~on]) - l1, 0.0), [abs(s @ (mu - y))]])
    mu0 = np.exp(np.log(s @ y / (s @ np.exp(o))) + o)
    return viol.max() / np.abs(X.T @ (s * (mu0 - y))).max()


@pytest.mark.parametrize("seed", range(3))
def test_streamed_poisson_equals_in_memory_and_the_rows(tmp_path, seed):
    """Weights, exposure (or offset), a categorical column: the grid, coefficients (all rows and
    every fold), intercepts and held-out deviances at every lam to 1e-10 against the in-memory
    route on the same hash folds; every streamed model's KKT violation and held-out deviance
    from the rows; the same preparation report."""
    rng = np.random.default_rng(seed)
    kind = ["exposure", "offset", "exposure"][seed]
    rho = [1.0, 0.7, 0.4][seed]
    df = _counts(seed, 1200, 5, kind)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(rng.integers(250, 700)))
    K = 3 + seed
    sf = stream_fit(f, "y", folds=K, seed=seed + 5, batch_rows=int(rng.integers(150, 400)),
                    tol=TOL, n_lams=8, rho=rho, weights="w", offset="e",
                    exposure=kind == "exposure")
    assert sf.loss == "poisson" and sf.cv.scoring == "deviance"
    prep = prepare(df, "y", exclude=["w", "e"])
    assert sf.prep.report == prep.report and sf.prep.feature_names == prep.feature_names
    X, y = prep.X, prep.y
    sw = df["w"].to_numpy()[prep.rows]
    o = df["e"].to_numpy()[prep.rows]
    o = np.log(o) if kind == "exposure" else o
    lams = sf.path.lams
    np.testing.assert_allclose(lams, lam_grid(X, y, loss="poisson", l1_ratio=rho, n_lams=8,
                                              sample_weight=sw, offset=o), rtol=1e-12)
    folds = hash_folds(prep.rows, K, seed + 5)
    cv = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(K)]
    res = cross_validate_path(X, y, loss="poisson", lams=lams, cv=cv, tol=TOL,
                              sample_weight=sw, l1_ratio=rho, offset=o)
    path = regularization_path(X, y, loss="poisson", lams=lams, tol=TOL, sample_weight=sw,
                               l1_ratio=rho, offset=o)
    _close(sf.path.coefs, path.coefs)
    _close(sf.path.intercepts[None, :], path.intercepts[None, :])
    p = X.shape[1]
    _close(sf.cv.fold_coefs.transpose(1, 0, 2).reshape(p, -1),
           res.fold_coefs.transpose(1, 0, 2).reshape(p, -1))
    np.testing.assert_allclose(sf.cv.fold_errors, res.fold_errors, rtol=1e-10)
    assert (sf.cv.idx_min, sf.cv.idx_1se) == (res.idx_min, res.idx_1se)
    assert sf.path.converged.all() and sf.cv.fold_converged.all()
    assert sf.info["irls_passes"] <= sf.info["pass_bound"]
    # the oracle from the rows: KKT of every streamed model, held-out deviances
    for i, lam in enumerate(lams):
        assert _kkt(X, y, sw, o, sf.path.coefs[:, i], sf.path.intercepts[i], lam, rho) < 1e-11
        for k, (tr, te) in enumerate(cv):
            wk, bk = sf.cv.fold_coefs[k][:, i], sf.cv.fold_intercepts[k][i]
            assert _kkt(X[tr], y[tr], sw[tr], o[tr], wk, bk, lam, rho) < 1e-11
            dev = sw[te] @ poisson_deviance(y[te], np.exp(X[te] @ wk + bk + o[te])) / sw[te].sum()
            assert sf.cv.fold_errors[k, i] == pytest.approx(dev, rel=1e-10)


@pytest.mark.parametrize("seed", range(2))
def test_streamed_poisson_against_glum(tmp_path, seed):
    """glum (its own IRLS with coordinate descent, objective ``deviance / (2 sum s)`` plus its
    penalty, converted by :mod:`regulab.core.conventions`) at one lam of the streamed path:
    our objective, computed here from the rows, is not above glum's, and the coefficients agree
    to glum's precision."""
    glum = pytest.importorskip("glum")
    from regulab.core.conventions import convert

    rho = [1.0, 0.5][seed]
    df = _counts(seed + 10, 1000, 4)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=300)
    sf = stream_fit(f, "y", folds=3, seed=seed, batch_rows=256, tol=TOL, n_lams=6, rho=rho,
                    weights="w", offset="e", exposure=True)
    prep = prepare(df, "y", exclude=["w", "e"])
    X, y = prep.X, prep.y
    s = df["w"].to_numpy()[prep.rows]
    o = np.log(df["e"].to_numpy()[prep.rows])
    i = 3
    lam = float(sf.path.lams[i])
    params = {r.name: r.params for r in convert("regulab-poisson", {"lam": lam, "l1_ratio": rho})
              if r.params is not None}["glum-poisson"]
    m = glum.GeneralizedLinearRegressor(alpha=params["alpha"], l1_ratio=params["l1_ratio"],
                                        family="poisson", gradient_tol=1e-12, max_iter=10_000)
    m.fit(X, y, sample_weight=s, offset=o)

    def objective(w, b):
        eta = X @ w + b + o
        return (s @ (np.exp(eta) - y * eta) / s.sum() + lam * rho * np.abs(w).sum()
                + lam * (1 - rho) * w @ w)

    ours = objective(sf.path.coefs[:, i], sf.path.intercepts[i])
    theirs = objective(np.asarray(m.coef_, dtype=float), float(m.intercept_))
    assert ours <= theirs + 1e-14 * abs(theirs)
    np.testing.assert_allclose(sf.path.coefs[:, i], m.coef_, atol=1e-6)
    assert sf.path.intercepts[i] == pytest.approx(float(m.intercept_), abs=1e-6)


def test_poisson_same_bits_with_1_and_2_workers(tmp_path):
    """The passes on a LocalCluster of 1 and of 2 workers give the bits of one process: folds
    (hash of the row position), coefficients, CV deviances and the pass count."""
    from regulab.core.execution import dask_available

    if not dask_available():
        pytest.skip("dask.distributed not installed")
    from distributed import Client, LocalCluster

    df = _counts(21, 1500, 4)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=400)
    opts = dict(folds=4, seed=2, batch_rows=300, tol=1e-10, n_lams=6, weights="w",
                offset="e", exposure=True)
    ref = stream_fit(f, "y", **opts)
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, \
                Client(cluster, timeout=WAIT, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=WAIT)
            got = stream_fit(f, "y", client=c, **opts)
        for a, b in [(got.path.coefs, ref.path.coefs), (got.path.intercepts,
                     ref.path.intercepts), (got.cv.fold_coefs, ref.cv.fold_coefs),
                     (got.cv.fold_errors, ref.cv.fold_errors), (got.path.lams, ref.path.lams)]:
            assert np.array_equal(a, b)
        assert got.info["irls_passes"] == ref.info["irls_passes"]


def test_cli_poisson_stream_documents_and_refusals(tmp_path, capsys):
    """``--family auto`` picks poisson on a count target as in memory; ``fit`` / ``path`` /
    ``compare --stream`` give the in-memory documents' family, scoring and preparation; bad
    targets and exposures are refused in one line."""
    df = _counts(30, 900, 4)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=300)
    base = ["--target", "y", "--exposure", "e", "--json", "--n-lams", "6", "--cv", "3"]
    code, out, err = _cli(["fit", str(f), *base, "--stream"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    code, out, err = _cli(["fit", str(f), *base], capsys)
    mem = json.loads(out)
    assert doc["family"] == mem["family"] and doc["family"]["family"] == "poisson"
    assert doc["preparation"] == mem["preparation"]
    assert doc["lam_choice"]["scoring"] == mem["lam_choice"]["scoring"] == "mean Poisson deviance"
    assert doc["stream"]["irls_passes"] <= doc["stream"]["pass_bound"]
    code, out, err = _cli(["path", str(f), *base, "--stream"], capsys)
    assert code == 0, err
    assert json.loads(out)["family"]["family"] == "poisson"
    code, out, err = _cli(["compare", str(f), *base, "--stream"], capsys)
    assert code == 0, err
    cmp_doc = json.loads(out)
    assert cmp_doc["family"]["family"] == "poisson" and cmp_doc["relaxed"] is None
    assert "count target" in cmp_doc["relaxed_left_out"]
    # no exposure: auto decides from the values (counts from 0), as in memory
    code, out, err = _cli(["fit", str(f), "--target", "y", "--features", "x0,x1,c",
                           "--stream", "--json", "--n-lams", "4", "--cv", "3"], capsys)
    assert code == 0, err
    assert json.loads(out)["family"]["family"] == "poisson"
    bad = df.copy()
    bad.loc[[3, 10], "y"] = [-1, -4]
    bad.loc[7, "e"] = 0.0
    g = tmp_path / "bad.parquet"
    bad.to_parquet(g, row_group_size=300)
    for args, word in [(["--family", "poisson"], "has 2 rows below 0"),
                       (["--exposure", "nope"], "no column 'nope'"),
                       (["--exposure", "e", "--offset", "e"], "not both"),
                       (["--exposure", "e", "--family", "gaussian"], "poisson only"),
                       (["--family", "multinomial"], "multinomial")]:
        code, out, err = _cli(["fit", str(g), "--target", "y", "--stream", *args], capsys)
        assert code != 0 and word in err and len(err.strip().splitlines()) == 1, (args, err)
        if word == "has 2 rows below 0":   # the in-memory route's words
            _, _, err_mem = _cli(["fit", str(g), "--target", "y", *args], capsys)
            assert err_mem == err
    bad.loc[[3, 10], "y"] = [1, 4]
    bad.to_parquet(g, row_group_size=300)
    code, out, err = _cli(["fit", str(g), "--target", "y", "--exposure", "e", "--stream"],
                          capsys)
    assert code != 0 and "must be > 0" in err and "data row 8" in err
    assert len(err.strip().splitlines()) == 1


def _glm_slope_rows(y, z, s, family):
    """The 2-parameter GLM ``y ~ a + c z`` fitted here on the rows by Newton's method with
    step halving (weights ``s``; the logistic one with the in-memory slope's ``1e-10 c^2``)."""
    l2 = 1e-10 if family == "logistic" else 0.0
    s = s / s.sum()
    Z = np.column_stack([np.ones_like(z), z])

    def parts(th):
        eta = Z @ th
        if family == "poisson":
            mu = np.exp(eta)
            return s @ (mu - y * eta) + l2 * th[1] ** 2, mu - y, mu
        pr = 1 / (1 + np.exp(-eta))
        return s @ np.logaddexp(0, -(2 * y - 1) * eta) + l2 * th[1] ** 2, pr - y, pr * (1 - pr)

    th = np.array([0.0, 1.0])
    for _ in range(100):
        f, r, h = parts(th)
        g = Z.T @ (s * r) + [0, 2 * l2 * th[1]]
        d = -np.linalg.solve(Z.T @ (Z * (s * h)[:, None]) + np.diag([0, 2 * l2]), g)
        t = 1.0
        while parts(th + t * d)[0] > f and t > 1e-10:
            t /= 2
        th = th + t * d
        if np.abs(d).max() < 1e-15:
            break
    return th[1]


@pytest.mark.parametrize("seed", range(2))
def test_streamed_poisson_compare_calibration(tmp_path, seed):
    """``compare --stream`` on a count target with an exposure: each penalty's out-of-fold
    Poisson calibration slope (the offset included in the log-means) equals the slope fitted
    here on the rows from the streamed fold models (1e-8), and the in-memory route's slope
    function on the same predictions (its own tolerance, 1e-6); the passes are reported."""
    from regulab.commands import compare, compare_stream
    from regulab.commands.common import DataOptions
    from regulab.commands.fitting import _poisson_calibration_slope

    df = _counts(seed + 40, 900, 4).drop(columns="w")
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=250)
    K = 3 + seed
    doc = compare_stream.run(f, DataOptions(target="y", seed=seed, exposure="e"), folds=K,
                             rule="min", n_lams=6, batch_rows=200, tol=1e-10)
    assert doc["stream"]["calibration_passes"] <= doc["stream"]["calibration_pass_bound"]
    prep = prepare(df, "y", exclude=["e"])
    o = np.log(df["e"].to_numpy()[prep.rows])
    folds = hash_folds(prep.rows, K, seed)
    for m, rho in compare.METHODS.items():
        sf = stream_fit(f, "y", folds=K, seed=seed, batch_rows=200, tol=1e-10, n_lams=6,
                        rho=rho, rule="min", offset="e", exposure=True)
        i = sf.index
        z = np.empty(prep.y.size)
        for k in range(K):
            te = folds == k
            z[te] = prep.X[te] @ sf.cv.fold_coefs[k][:, i] + sf.cv.fold_intercepts[k][i] + o[te]
        got = doc["methods"][m]["calibration_slope"]
        assert got == pytest.approx(_glm_slope_rows(prep.y, z, np.ones(z.size), "poisson"),
                                    rel=1e-8)
        assert got == pytest.approx(_poisson_calibration_slope(prep.y, z), rel=1e-6)
