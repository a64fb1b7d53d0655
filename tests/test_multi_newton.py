"""selection.multi_newton.newton_many: damped Newton for many small GLMs sharing each pass.

Oracles: scipy's BFGS on the same penalized mean logistic loss (computed here from the rows), and
the closed form of a ridge-penalized least squares; the pass count and the singular-Hessian
rules (stop without converging, or the minimum-norm step)."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import minimize

from regulab.selection.multi_newton import newton_many


def logistic_sums(X, y, s, th):
    eta = th[0] + X @ th[1:]
    p = 1.0 / (1.0 + np.exp(-eta))
    A = np.column_stack([np.ones(len(y)), X])
    loss = float(s @ (np.logaddexp(0.0, eta) - y * eta))
    return SimpleNamespace(loss=loss, S=float(s.sum()), grad=A.T @ (s * (p - y)),
                           hess=(A * (s * p * (1 - p))[:, None]).T @ A)


def problems(seed, m):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(m):
        n, q = int(rng.integers(40, 200)), int(rng.integers(1, 5))
        X = rng.normal(size=(n, q))
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.normal(size=q) + rng.normal())))) * 1.0
        out.append((X, y, rng.uniform(0.5, 2.0, n)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_logistic_models_reach_the_minimizer_and_share_passes(seed):
    probs = problems(seed, 4)
    l2 = 0.05
    calls = []

    def one_pass(idx, thetas):
        calls.append(list(idx))
        return [logistic_sums(*probs[m], th) for m, th in zip(idx, thetas)]

    theta0 = [np.zeros(X.shape[1] + 1) for X, _, _ in probs]
    theta, stats, conv, passes = newton_many(one_pass, theta0, l2, tol=1e-12, max_passes=60)
    assert all(conv) and passes == len(calls) and passes < 60
    for (X, y, s), th in zip(probs, theta):
        def f(t, X=X, y=y, s=s):
            st = logistic_sums(X, y, s, t)
            return st.loss / st.S + l2 * t[1:] @ t[1:]
        ref = minimize(f, np.zeros(X.shape[1] + 1), method="BFGS", options={"gtol": 1e-10})
        assert f(th) <= ref.fun + 1e-12
        np.testing.assert_allclose(th, ref.x, atol=1e-5)


def test_quadratic_loss_converges_in_one_newton_step():
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(30, 3)), rng.normal(size=30)
    l2 = 0.3

    def one_pass(idx, thetas):
        return [SimpleNamespace(loss=float(((A @ th - b) ** 2).sum()) / 2, S=30.0,
                                grad=A.T @ (A @ th - b), hess=A.T @ A) for th in thetas]

    theta, _, conv, passes = newton_many(one_pass, [np.zeros(3)], l2, tol=1e-10, max_passes=10)
    reg = np.diag([0.0, 2 * l2, 2 * l2])
    exact = np.linalg.solve(A.T @ A / 30 + reg, A.T @ b / 30)
    np.testing.assert_allclose(theta[0], exact, rtol=1e-12, atol=1e-14)
    assert conv == [True] and passes == 2   # the start, and the step (whose sums certify it)


@pytest.mark.parametrize("min_norm", [False, True])
def test_singular_hessian(min_norm):
    # the second coordinate has no curvature and no penalty pull at l2 = 0, but a gradient
    def one_pass(idx, thetas):
        return [SimpleNamespace(loss=float((th[0] - 1) ** 2 + th[1]), S=1.0,
                                grad=np.array([2 * (th[0] - 1), 1.0]),
                                hess=np.array([[2.0, 0.0], [0.0, 0.0]])) for th in thetas]

    theta, _, conv, passes = newton_many(one_pass, [np.zeros(2)], 0.0, tol=1e-12, max_passes=8,
                                         min_norm=min_norm)
    if min_norm:   # the minimum-norm step fixes theta[0], leaves theta[1]; the next step is
        # 0, which the step rule counts as converged (the caller's separability check
        # handles such directions, e.g. streamed_relaxed's ridge fallback)
        np.testing.assert_allclose(theta[0], [1.0, 0.0])
        assert conv == [True] and passes == 2
    else:          # stops at once, at the start, not converged
        np.testing.assert_array_equal(theta[0], [0.0, 0.0])
        assert conv == [False] and passes == 1
