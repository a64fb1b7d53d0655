"""Group lasso (solvers/exact/group.py): KKT and duality gap computed here, skglm's group lasso,
singletons == scikit-learn's Lasso, categorical columns kept or dropped whole along a path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from regulab.core.groups import as_groups
from regulab.core.validation import InvalidValue
from regulab.selection.cv import fit_cv
from regulab.selection.path import lam_max, regularization_path
from regulab.solvers.exact import solve

SEEDS = range(4)


def _problem(seed, loss="squared", weighted=False):
    """Random sizes, random groups (sizes 1..5), a few groups truly active."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 200))
    sizes = rng.integers(1, 6, size=int(rng.integers(4, 12)))
    p = int(sizes.sum())
    labels = np.repeat(np.arange(sizes.size), sizes)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.normal(0, 1, p)
    beta = np.zeros(p)
    for g in rng.choice(sizes.size, size=max(1, sizes.size // 3), replace=False):
        beta[labels == g] = rng.normal(0, 1, (labels == g).sum())
    z = X @ beta + rng.normal()
    y = z + rng.standard_normal(n) if loss == "squared" else \
        (rng.uniform(size=n) < expit(z)).astype(float)
    sw = rng.uniform(0.2, 2.0, n) if weighted else None
    return X, y, labels, sw


def _grad(X, y, w, b, s, loss, l2):
    """Gradient in (w, b) of sum_i s_i loss_i + l2 ||w||^2, written out here."""
    z = X @ w + b
    d = -2.0 * s * (y - z) if loss == "squared" else s * (expit(z) - y)
    return X.T @ d + 2.0 * l2 * w, float(d.sum())


def _kkt(X, y, res, labels, l1, l2, s, loss):
    """Largest violation of: ||grad_g|| <= l1 sqrt|g| (w_g = 0), grad_g + l1 sqrt|g| w_g/||w_g||
    = 0 (w_g != 0), grad_b = 0."""
    g, gb = _grad(X, y, res.w, res.intercept, s, loss, l2)
    worst = abs(gb)
    for lab in np.unique(labels):
        m = labels == lab
        c = np.sqrt(m.sum())
        wn = np.linalg.norm(res.w[m])
        if wn == 0:
            worst = max(worst, np.linalg.norm(g[m]) - l1 * c)
        else:
            worst = max(worst, np.linalg.norm(g[m] + l1 * c * res.w[m] / wn))
    return worst


def _lam_max_here(X, y, labels, s, loss):
    b0 = float(s @ y)
    if loss == "logistic":
        b0 = np.log(b0 / (1 - b0))
    g, _ = _grad(X, y, np.zeros(X.shape[1]), b0, s, loss, 0.0)
    return max(np.linalg.norm(g[labels == lab]) / np.sqrt((labels == lab).sum())
               for lab in np.unique(labels))


def _objective(X, y, w, b, labels, l1, l2, s, loss):
    z = X @ w + b
    lv = s @ (y - z) ** 2 if loss == "squared" else s @ np.logaddexp(0, -(2 * y - 1) * z)
    pen = sum(np.sqrt((labels == g).sum()) * np.linalg.norm(w[labels == g])
              for g in np.unique(labels))
    return lv + l1 * pen + l2 * w @ w


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_kkt_holds(seed, loss):
    X, y, labels, sw = _problem(seed, loss, weighted=seed % 2 == 1)
    s = np.ones(len(y)) / len(y) if sw is None else sw / sw.sum()
    rng = np.random.default_rng(100 + seed)
    top = _lam_max_here(X, y, labels, s, loss)
    for frac, l2 in [(rng.uniform(0.05, 0.5), 0.0), (rng.uniform(0.05, 0.5), rng.uniform(0, 0.3))]:
        l1 = frac * top
        # a relative gap eps leaves a KKT violation of order sqrt(eps): ask for a tiny gap
        tol = 1e-14 if loss == "squared" else 1e-9
        res = solve(X, y, loss=loss, l1=l1, l2=l2, groups=labels, sample_weight=sw, tol=tol)
        assert res.converged
        assert _kkt(X, y, res, labels, l1, l2, s, loss) <= 1e-6 * top
        # a group is all zero or has no zero coefficient at all (kept or dropped whole)
        for lab in np.unique(labels):
            wg = res.w[labels == lab]
            assert np.all(wg == 0) or np.all(wg != 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_duality_gap_written_here(seed):
    """The squared-loss dual: D(theta) = theta.y - sum theta^2/(4 s) - g*(X^T theta),
    g*(v) = sum_g max(||v_g|| - l1 sqrt|g|, 0)^2 / (4 l2), theta = 2 s r (sum theta = 0)."""
    X, y, labels, sw = _problem(seed, weighted=True)
    s = sw / sw.sum()
    top = _lam_max_here(X, y, labels, s, "squared")
    l1, l2 = 0.2 * top, 0.1 * top
    res = solve(X, y, l1=l1, l2=l2, groups=labels, sample_weight=sw, tol=1e-10)
    r = y - X @ res.w - res.intercept
    theta = 2 * s * r
    assert abs(theta.sum()) < 1e-10
    v = X.T @ theta
    conj = sum(max(np.linalg.norm(v[labels == g]) - l1 * np.sqrt((labels == g).sum()), 0) ** 2
               for g in np.unique(labels)) / (4 * l2)
    dual = theta @ y - np.sum(theta**2 / (4 * s)) - conj
    primal = _objective(X, y, res.w, res.intercept, labels, l1, l2, s, "squared")
    null = s @ (y - s @ y) ** 2
    assert -1e-12 <= (primal - dual) / null <= 1e-10
    assert res.gap <= 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_singletons_equal_sklearn_lasso(seed):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(40, 150)), int(rng.integers(5, 40))
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ rng.normal(0, 2, 3) + rng.standard_normal(n)
    s = np.full(n, 1 / n)
    l1 = rng.uniform(0.05, 0.5) * np.abs(X.T @ (2 * s * (y - y.mean()))).max()
    res = solve(X, y, l1=l1, groups=np.arange(p), tol=1e-12)
    # scikit-learn: (1/2n)||r||^2 + alpha ||w||_1 is ours / 2 with alpha = l1 / 2
    sk = Lasso(alpha=l1 / 2, tol=1e-14, max_iter=100_000).fit(X, y)
    labels = np.arange(p)
    ours = _objective(X, y, res.w, res.intercept, labels, l1, 0, s, "squared")
    peer = _objective(X, y, sk.coef_, sk.intercept_, labels, l1, 0, s, "squared")
    assert ours <= peer + 1e-12 * abs(peer)
    np.testing.assert_allclose(res.w, sk.coef_, atol=1e-6)
    lasso = solve(X, y, l1=l1, tol=1e-12)
    np.testing.assert_allclose(res.w, lasso.w, atol=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_skglm_group_lasso(seed):
    pytest.importorskip("skglm")
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupBCD

    X, y, labels, _ = _problem(seed)
    n = len(y)
    s = np.full(n, 1 / n)
    G = as_groups(labels, X.shape[1])
    top = _lam_max_here(X, y, labels, s, "squared")
    l1 = np.random.default_rng(seed).uniform(0.05, 0.5) * top
    res = solve(X, y, l1=l1, groups=labels, tol=1e-12)
    # skglm: ||y - Xw||^2 / (2n) + alpha sum_g weights_g ||w_g||: ours / 2 on centered data
    Xc, yc = X - X.mean(0), y - y.mean()
    ptr, idx = G.ptr.astype(np.int32), G.idx.astype(np.int32)
    solver = GroupBCD(tol=1e-12, max_iter=10_000, max_epochs=100_000, fit_intercept=False)
    w_sk = solver.solve(Xc, yc, QuadraticGroup(ptr, idx),
                        WeightedGroupL2(l1 / 2, G.weights, ptr, idx))[0]
    b_sk = y.mean() - X.mean(0) @ w_sk
    ours = _objective(X, y, res.w, res.intercept, labels, l1, 0, s, "squared")
    peer = _objective(X, y, w_sk, b_sk, labels, l1, 0, s, "squared")
    assert ours <= peer + 1e-12 * abs(peer)
    assert abs(ours - peer) <= 1e-8 * abs(peer)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_path_keeps_or_drops_categoricals_whole(seed, loss):
    """A table with categorical columns through the data layer: along the path every column's
    indicators enter together, and lam_max is the first lam with every group at zero."""
    from regulab.data.prepare import prepare

    rng = np.random.default_rng(seed)
    n = 300
    df = pd.DataFrame({
        "region": rng.choice(list("NSEW"), n),
        "color": rng.choice(["red", "green", "blue"], n),
        "x1": rng.standard_normal(n), "x2": rng.standard_normal(n)})
    z = df["region"].map({"N": 1.0, "S": -1.0, "E": 0.5, "W": 0.0}).to_numpy() + df["x1"]
    df["y"] = z + rng.standard_normal(n) if loss == "squared" else \
        np.where(rng.uniform(size=n) < expit(z), "yes", "no")
    prep = prepare(df, target="y")
    labels = np.asarray(prep.groups)
    assert sorted(set(labels)) == ["color", "region", "x1", "x2"]
    path = regularization_path(prep.X, prep.y, loss=loss, groups=labels, n_lams=30, tol=1e-8)
    assert np.all(path.converged)
    assert np.all(path.coefs[:, 0] == 0)
    for k in range(path.lams.size):
        for lab in ("region", "color"):
            wg = path.coefs[labels == lab, k]
            assert np.all(wg == 0) or np.all(wg != 0)
    s = np.full(n, 1 / n)
    assert lam_max(prep.X, prep.y, loss=loss, groups=labels) == pytest.approx(
        _lam_max_here(prep.X, prep.y, labels, s, loss), rel=1e-10)
    # just below lam_max some group enters
    res = solve(prep.X, prep.y, loss=loss, l1=0.999 * path.lams[0], groups=labels, tol=1e-10)
    assert np.any(res.w != 0)


def test_cv_with_groups_runs_and_keeps_groups_whole():
    rng = np.random.default_rng(0)
    X, y, labels, _ = _problem(3)
    fit = fit_cv(X, y, groups=labels, n_lams=20, cv=3, tol=1e-8)
    for lab in np.unique(labels):
        wg = fit.coef[labels == lab]
        assert np.all(wg == 0) or np.all(wg != 0)
    assert fit.cv.lams[0] == pytest.approx(lam_max(X, y, groups=labels))
    del rng


def test_groups_must_be_a_partition():
    with pytest.raises(InvalidValue, match="3 labels for 4 features"):
        as_groups([0, 0, 1], 4)
    with pytest.raises(InvalidValue, match="exactly once"):
        as_groups([[0, 1], [1, 2, 3]], 4)
    X, y, labels, _ = _problem(0)
    with pytest.raises(InvalidValue):
        solve(X, y, l1=0.1, groups=labels[:-1])


@pytest.mark.parametrize("seed", range(5))
def test_logistic_matches_skglm_group_prox_newton(seed):
    """The logistic group lasso with many groups kept (the working set doubles, the Newton model
    is solved on its Gram matrix) against skglm's GroupProxNewton on the same objective: mean
    log-loss + lam sum_g sqrt(|g|) ||w_g|| (LogisticGroup + WeightedGroupL2, alpha = lam)."""
    pytest.importorskip("skglm")
    from skglm.datafits import LogisticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupProxNewton

    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 400))
    sizes = rng.integers(1, 6, size=int(rng.integers(15, 35)))
    labels = np.repeat(np.arange(sizes.size), sizes)
    p = labels.size
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.normal(0, 1, p)
    beta = rng.normal(0, 0.3, p) * (rng.random(sizes.size) < 0.5)[labels]
    y = (rng.uniform(size=n) < expit(X @ beta + rng.normal())).astype(float)
    s = np.full(n, 1 / n)
    top = _lam_max_here(X, y, labels, s, "logistic")
    l1 = top * 10 ** rng.uniform(-2, -0.5)
    res = solve(X, y, loss="logistic", l1=l1, groups=labels, tol=1e-10)
    assert res.converged
    assert _kkt(X, y, res, labels, l1, 0.0, s, "logistic") <= 1e-9 * top
    G = as_groups(labels, p)
    ptr, idx = G.ptr.astype(np.int32), G.idx.astype(np.int32)
    w_sk = GroupProxNewton(tol=1e-12 * top, fit_intercept=True, max_iter=200).solve(
        X, 2 * y - 1, LogisticGroup(ptr, idx), WeightedGroupL2(l1, G.weights, ptr, idx))[0]
    ours = _objective(X, y, res.w, res.intercept, labels, l1, 0, s, "logistic")
    peer = _objective(X, y, w_sk[:p], w_sk[p], labels, l1, 0, s, "logistic")
    assert ours <= peer + 1e-12 * abs(peer)
    np.testing.assert_allclose(res.w, w_sk[:p], atol=1e-5 * max(1.0, np.abs(w_sk).max()))
