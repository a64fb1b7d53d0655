"""Anderson extrapolation in coordinate descent reaches the same certified optimum as plain CD.

Squared loss (:func:`regulab.solvers.exact.solve`, ``anderson=5`` against ``anderson=0``): the
relative duality gap of :func:`regulab.core.certificates.duality_gap_squared` is computed here
from each answer, and the two objectives, computed here too, agree within the gaps. The
proximal Newton model solve (:func:`regulab.solvers._pn_kernels._model_cd`, ``K=3`` and ``5``
against ``K=0``): the model's KKT conditions and its value are computed here. Ill-conditioned
designs (strongly correlated columns), where extrapolation is actually tried, dense and sparse.
"""

import numpy as np
import pytest
from scipy import sparse

from regulab.core.certificates import duality_gap_squared
from regulab.solvers import _pn_kernels as PNK
from regulab.solvers.design import as_design
from regulab.solvers.exact import solve


def _correlated(seed, n, p, rho=0.9, density=1.0):
    """AR(1) columns (corr rho**|j-k|), a tenth of them true; entries kept with ``density``."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    if density < 1.0:
        X[rng.random((n, p)) >= density] = 0.0
    w = np.zeros(p)
    k = max(1, p // 10)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X, y


def _objective(X, y, w, b, l1):
    r = y - X @ w - b
    return float(np.mean(r * r) + l1 * np.abs(w).sum())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("frac", [0.05, 0.01])
def test_squared_anderson_reaches_the_plain_cd_optimum(seed, sparse_X, frac):
    X, y = _correlated(seed, 120, 300, density=0.3 if sparse_X else 1.0)
    Xin = sparse.csc_matrix(X) if sparse_X else X
    yc = y - y.mean()
    l1 = frac * 2.0 * float(np.abs((X - X.mean(0)).T @ yc).max()) / len(y)
    null = float(np.mean(yc * yc))
    tol = 1e-8
    out = {}
    for K in (0, 5):
        res = solve(Xin, y, l1=l1, tol=tol, max_iter=100_000, anderson=K)
        gap = duality_gap_squared(X, y, res.w, res.intercept, l1, 0.0) / null
        assert res.converged and gap <= tol
        out[K] = (_objective(X, y, res.w, res.intercept, l1), gap, res.n_iter)
    (f0, g0, _), (f5, g5, _) = out[0], out[5]
    # both are within their gap of the same minimum
    assert abs(f5 - f0) <= (g0 + g5) * null + 1e-14 * abs(f0)


def _model(seed, n, p, density):
    """A proximal Newton model on all ``p`` features at a random ``w``: ``(X, ws, w, gl, gb, h,
    l1)``."""
    X, y = _correlated(seed, n, p, density=density)
    y = (y > np.median(y)).astype(float)
    rng = np.random.default_rng(seed + 100)
    w = np.where(rng.random(p) < 0.2, 0.1 * rng.standard_normal(p), 0.0)
    z = X @ w
    s = np.full(n, 1.0 / n)
    d, h = np.empty(n), np.empty(n)
    PNK.logistic_derivs(z, y, s, d, h)
    gl = X.T @ d
    return X, w, gl, float(d.sum()), h, 0.05 * float(np.abs(gl).max())


def _model_kkt(X, w, gl, gb, h, l1, v, db, fit_intercept):
    """Largest KKT violation of ``Q`` at ``(v, db)``, from scratch."""
    u = X @ (v - w) + (db if fit_intercept else 0.0)
    g = gl + X.T @ (h * u)
    viol = np.where(v == 0, np.maximum(np.abs(g) - l1, 0), np.abs(g + l1 * np.sign(v)))
    return max(float(viol.max()), abs(gb + float(h @ u)) if fit_intercept else 0.0), u


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_model_cd_anderson_reaches_the_plain_cd_minimizer(seed, sparse_X, fit_intercept):
    n, p = 150, 80
    X, w, gl, gb, h, l1 = _model(seed, n, p, 0.3 if sparse_X else 1.0)
    D = as_design(sparse.csc_matrix(X) if sparse_X else X)
    ws = np.arange(p, dtype=np.int64)
    H = np.array([float(h @ (X[:, j] ** 2)) for j in range(p)])
    Hb = float(h.sum())
    tol = 1e-12 * float(np.abs(gl).max())
    vals = {}
    for K in (0, 3, 5):  # 3: the logistic solver's ANDERSON
        v, u = w.copy(), np.empty(n)
        db, epochs = PNK._model_cd(*D.args, ws, gl, H, v, w.copy(), h, u, gb, Hb, fit_intercept,
                                   l1, 0.0, tol, 100_000, K)
        assert epochs < 100_000
        kkt, u_test = _model_kkt(X, w, gl, gb, h, l1, v, db, fit_intercept)
        assert kkt <= 10 * tol
        np.testing.assert_allclose(u, u_test, atol=1e-10)
        dv = v - w
        vals[K] = float(gl @ dv + (gb * db if fit_intercept else 0.0) + 0.5 * h @ (u_test**2)
                        + l1 * np.abs(v).sum())
    for K in (3, 5):
        assert vals[K] == pytest.approx(vals[0], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("K", [1, 2, 3, 5])
@pytest.mark.parametrize("conditioning", ["random", "correlated"])
def test_anderson_weights_solve_their_system(seed, K, conditioning):
    """``anderson_weights`` (the hand-written elimination) against numpy's LAPACK solve of
    ``(U U^T + eps I) z = 1``, ``c = z / sum z``, eps = 1e-10 * trace / K, ``U`` the successive
    differences of the iterates; for nearly collinear differences the residual of the system is
    checked (the coefficients themselves are then ill-determined)."""
    from regulab.solvers._cd_kernels import anderson_weights

    rng = np.random.default_rng(seed)
    m = int(rng.integers(K, 40))
    hist = np.cumsum(rng.standard_normal((K + 1, m)), axis=0)
    if conditioning == "correlated":  # iterates converging along almost one direction
        d = rng.standard_normal(m)
        hist = np.outer(0.5 ** np.arange(K + 1), d) + 1e-6 * rng.standard_normal((K + 1, m))
    U = np.diff(hist, axis=0)
    A = U @ U.T
    A += 1e-10 * np.trace(A) / K * np.eye(K)
    c = np.full(max(K, 1), np.nan)
    assert anderson_weights(hist, c)
    assert abs(c[:K].sum() - 1.0) < 1e-12
    z = np.linalg.solve(A, np.ones(K))
    want = z / z.sum()
    if np.linalg.cond(A) < 1e6:
        np.testing.assert_allclose(c[:K], want, rtol=1e-8, atol=1e-10)
    # c solves A c = t 1 for some scalar t (= 1 / sum z): A c has equal entries, up to the
    # rounding of a backward-stable solve
    r = A @ c[:K]
    assert np.abs(r - r.mean()).max() <= 1e-8 * np.linalg.norm(A) * np.linalg.norm(c[:K])


def test_anderson_weights_refuse_a_degenerate_history():
    from regulab.solvers._cd_kernels import anderson_weights

    hist = np.ones((4, 6))  # no movement: U = 0
    assert not anderson_weights(hist, np.empty(3))
