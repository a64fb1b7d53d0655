"""The multinomial path in one compiled call (solvers/_mn_newton.py) and the Gram-form model solve
(solvers/_mn_gram.py), against oracles written here: the KKT conditions at every lam from the
returned coefficients, the objective of independent cold-started solves, Fortran glmnet on the
same path, and the Hessian of the Newton model built with numpy."""

import numpy as np
import pytest
from scipy import sparse
from scipy.special import softmax

from multinomial_oracles import kkt, objective
from regulab.selection.multinomial import multinomial_lam_max, multinomial_path
from regulab.solvers._mn_gram import gather, model_hessian
from regulab.solvers.exact.multinomial import solve_multinomial

glmnet_fortran = pytest.importorskip("glmnet._glmnet", reason="python-glmnet is not installed")


def _data(seed, p):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 160))
    K = int(rng.integers(3, 6))
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p)
    W = rng.standard_normal((p, K)) * (rng.random(p) < 0.5)[:, None]
    y = np.argmax(X @ W + rng.gumbel(size=(n, K)), axis=1)
    y[:K] = np.arange(K)
    s = rng.uniform(0.2, 2.0, n) if seed % 2 else None
    return X, y, K, s


# p = 3: the Gram-form model solve throughout; p = 25: the column form once the working set grows
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [3, 25])
@pytest.mark.parametrize("grouped", [False, True])
def test_path_certified_and_matches_cold_solves(seed, p, grouped):
    X, y, K, s = _data(seed, p)
    rng = np.random.default_rng(seed)
    rho = 1.0 if seed < 3 else 0.7
    fit_intercept = seed != 2
    Xin = sparse.csc_matrix(X) if seed == 4 else X
    top = multinomial_lam_max(X, y, grouped=grouped, sample_weight=s,
                              fit_intercept=fit_intercept)
    lams = top * np.geomspace(1.0, 10 ** rng.uniform(-3, -1.5), 12)
    path = multinomial_path(Xin, y, grouped=grouped, l1_ratio=rho, lams=lams, sample_weight=s,
                            fit_intercept=fit_intercept, tol=1e-9)
    assert np.all(path.converged)
    scale = top * rho
    for k in (0, 3, 7, 11):
        lam = path.lams[k]
        W, b = path.coefs[:, :, k], path.intercepts[:, k]
        l1, l2 = lam * rho, lam * (1 - rho)
        viol, grad_b = kkt(X, y, W, b, l1, l2, grouped, s)
        assert (max(viol, grad_b) if fit_intercept else viol) <= 1.5e-9 * scale
        cold = solve_multinomial(Xin, y, grouped=grouped, l1=l1, l2=l2, sample_weight=s,
                                 fit_intercept=fit_intercept, tol=1e-11)
        f_path = objective(X, y, W, b, l1, l2, grouped, s)
        f_cold = objective(X, y, cold.W, cold.intercept, l1, l2, grouped, s)
        assert abs(f_path - f_cold) <= 1e-8 * abs(f_cold)
        if l2 > 0:  # the optimum is unique
            np.testing.assert_allclose(W, cold.W, atol=1e-4 * max(1.0, np.abs(cold.W).max()))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("grouped", [False, True])
def test_path_objective_at_most_glmnets(seed, grouped):
    """Along a whole pure-L1 path (Gram route: 4 features) each objective is <= glmnet's."""
    X, y, K, _ = _data(seed, 4)
    n, p = X.shape
    top = multinomial_lam_max(X, y, grouped=grouped)
    lams = top * np.geomspace(1.0, 1e-2, 15)
    path = multinomial_path(X, y, grouped=grouped, lams=lams, tol=1e-10)
    bounds = np.asfortranarray(np.vstack([np.full(p, -np.inf), np.full(p, np.inf)]))
    out = glmnet_fortran.lognet(1.0, K, np.asfortranarray(X.copy()),
                                np.asfortranarray(np.eye(K)[y]), np.zeros((n, K), order="F"), 0,
                                np.ones(p), bounds, p + 1, 1.0, lams, 1e-14, p, lams.size, 0, 1,
                                10_000_000, 2 if grouped else 0)
    lmu, a0, ca, ia, nin, *_, jerr = out
    assert lmu >= 1
    C = glmnet_fortran.lsolns(p, ca[:, :, :lmu], ia, nin[:lmu])
    for k in range(lmu):
        ours = objective(X, y, path.coefs[:, :, k], path.intercepts[:, k], lams[k], 0.0,
                         grouped)
        theirs = objective(X, y, C[:, :, k], a0[:, k], lams[k], 0.0, grouped)
        assert ours <= theirs + 1e-9 * abs(theirs)


@pytest.mark.parametrize("seed", range(3))
def test_model_hessian_matches_numpy(seed):
    """The Gram-form model's Hessian: sum_i s_i x_ia x_ic p_ki ([k = l] - p_li), flat index
    k * mm + a, with the intercept as a last column of ones."""
    rng = np.random.default_rng(seed)
    n, p, K = 40, 6, 4
    X = np.asfortranarray(rng.standard_normal((n, p)))
    ws = np.sort(rng.choice(p, 3, replace=False)).astype(np.int64)
    P = softmax(rng.standard_normal((K, n)), axis=0)
    s = rng.uniform(0.1, 1.0, n)
    no_index = np.zeros(1, np.uint32)  # a dense design's placeholders (Design.args)
    Xw = gather(X.ravel(order="F"), no_index, no_index, n, False, ws, True)
    H = model_hessian(Xw, np.ascontiguousarray(P), s)
    F = np.column_stack([X[:, ws], np.ones(n)])
    mm = F.shape[1]
    ref = np.zeros((K * mm, K * mm))
    for k in range(K):
        for l in range(K):
            v = s * P[k] * ((k == l) - P[l])
            ref[k * mm:(k + 1) * mm, l * mm:(l + 1) * mm] = F.T @ (v[:, None] * F)
    np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-14)
