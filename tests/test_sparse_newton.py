"""The sign-fixed Newton-CG step on large supports (solvers.exact.newton_cg): checked against a
closed form (the orthant's minimizer by a dense solve), the objective computed here, and the
duality gap computed here from the returned coefficients."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from regulab.core.certificates import duality_gap_squared
from regulab.core.losses import normalized_weights
from regulab.selection.path import regularization_path
from regulab.solvers.design import as_design
from regulab.solvers.exact.newton_cg import NewtonCGCount, newton_cg_step
from regulab.solvers.exact.squared import SquaredProblem


def _problem(seed, n=300, p=500, k=120, density=0.03, weights=False, intercept=True, l2=0.0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=density, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ w + 0.3 * rng.standard_normal(n) + 2.0
    sw = rng.uniform(0.5, 2.0, n) if weights else None
    return X, y, sw


def _squared_problem(X, y, sw, intercept, l1, l2):
    D = as_design(X)
    s = normalized_weights(D.n, sw)
    xbar, L = D.stats(s, intercept)
    ybar = float(s @ y) if intercept else 0.0
    yc = y - ybar
    return SquaredProblem(D, y, yc, s, sw is not None, intercept, ybar, xbar, L, L > 0,
                          float(s @ yc**2), D.n - int(intercept), l1, l2)


def _objective(X, y, w, sw, intercept, l1, l2):
    s = normalized_weights(len(y), sw)
    r = y - X @ w
    b = float(s @ r) if intercept else 0.0
    r = r - b
    return float(s @ r**2) + l1 * np.abs(w).sum() + l2 * float(w @ w)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weights,intercept,l2", [(False, True, 0.0), (True, True, 0.0),
                                                  (False, False, 0.01), (True, False, 0.0)])
def test_the_step_with_kept_signs_is_the_orthants_minimizer(seed, weights, intercept, l2):
    X, y, sw = _problem(seed, weights=weights)
    rng = np.random.default_rng(100 + seed)
    S = np.sort(rng.choice(X.shape[1], 60, replace=False)).astype(np.int64)
    sigma = rng.choice([-1.0, 1.0], S.size)
    l1 = 1e-4  # small: the orthant's minimizer keeps the signs of a least-squares fit
    P = _squared_problem(X, y, sw, intercept, l1, l2)
    # the orthant's minimizer, in closed form on the centered weighted design
    s = P.s
    Xc = X[:, S].toarray() - P.xbar[S]
    H = Xc.T @ (s[:, None] * Xc) + l2 * np.eye(S.size)
    for _ in range(20):  # signs that the orthant's minimizer keeps (a fixed point)
        w_star = np.linalg.solve(H, Xc.T @ (s * P.yc) - 0.5 * l1 * sigma)
        if np.array_equal(np.sign(w_star), sigma):
            break
        sigma = np.sign(w_star)
    assert np.array_equal(np.sign(w_star), sigma)
    w = np.zeros(X.shape[1])
    w[S] = sigma * rng.uniform(0.1, 1.0, S.size)
    q = P.yc - X @ w
    c = float(P.xbar @ w)
    count = NewtonCGCount()
    c = newton_cg_step(P, w, q, c, S, 1e-12, 1000, count)
    assert count.kept == 1 and count.steps == 1 and count.cg_iters > 0
    np.testing.assert_allclose(w[S], w_star, rtol=1e-6, atol=1e-8)
    # q and c were kept up to date with w
    np.testing.assert_allclose(q, P.yc - X @ w, atol=1e-9)
    assert c == pytest.approx(float(P.xbar @ w), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_a_step_that_flips_signs_is_projected_or_shortened_and_lowers_the_objective(seed):
    X, y, sw = _problem(seed)
    rng = np.random.default_rng(200 + seed)
    S = np.sort(rng.choice(X.shape[1], 60, replace=False)).astype(np.int64)
    l1 = 1e-3
    P = _squared_problem(X, y, sw, True, l1, 0.0)
    Xc = X[:, S].toarray() - P.xbar[S]
    w_ls = np.linalg.lstsq(Xc * np.sqrt(P.s)[:, None], np.sqrt(P.s) * P.yc, rcond=None)[0]
    w = np.zeros(X.shape[1])
    w[S] = -np.sign(w_ls) * rng.uniform(0.01, 0.1, S.size)  # the wrong signs everywhere
    before = _objective(X, y, w, sw, True, l1, 0.0)
    q = P.yc - X @ w
    c = float(P.xbar @ w)
    count = NewtonCGCount()
    newton_cg_step(P, w, q, c, S, 1e-10, 1000, count)
    assert count.kept == 0 and count.projected + count.segment == 1
    assert _objective(X, y, w, sw, True, l1, 0.0) < before
    np.testing.assert_allclose(q, P.yc - X @ w, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", ["many", "few", "n>p", "enet", "weights"])
def test_paths_with_the_step_are_certified_and_not_worse_than_scikit_learn(seed, case):
    from sklearn.linear_model import ElasticNet

    n, p, k = {"many": (400, 1200, 300), "few": (400, 1200, 20), "n>p": (1500, 400, 100),
               "enet": (400, 1200, 300), "weights": (400, 1200, 300)}[case]
    X, y, _ = _problem(seed, n=n, p=p, k=k, density=0.03)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, n) if case == "weights" else None
    l1_ratio = 0.7 if case == "enet" else None
    tol = 1e-6
    res = regularization_path(X, y, n_lams=30, eps=1e-3, l1_ratio=l1_ratio,
                              sample_weight=sw, tol=tol, max_iter=100_000)
    null = None
    for k_, lam in enumerate(res.lams):
        w, b = res.coefs[:, k_], res.intercepts[k_]
        l1, l2 = lam * res.l1_ratio, lam * (1.0 - res.l1_ratio)
        s = normalized_weights(n, sw)
        yc = y - float(s @ y)
        null = float(s @ yc**2)
        gap = duality_gap_squared(X, y, w, b, l1, l2, sample_weight=sw) / null
        assert gap <= tol * (1 + 1e-9), (k_, gap)
    # the last (densest) lam against scikit-learn at the converted penalty
    lam = res.lams[-1]
    l1, l2 = lam * res.l1_ratio, lam * (1.0 - res.l1_ratio)
    alpha = (l1 + 2 * l2) / 2
    ratio = l1 / (l1 + 2 * l2)
    sk = ElasticNet(alpha=alpha, l1_ratio=ratio, tol=1e-10, max_iter=200_000).fit(
        X, y, sample_weight=None if sw is None else sw * n / sw.sum())
    ours = _objective(X, y, res.coefs[:, -1], sw, True, l1, l2)
    theirs = _objective(X, y, sk.coef_, sw, True, l1, l2)
    assert ours <= theirs + tol * null
