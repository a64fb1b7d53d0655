"""Losses checked against oracles: scikit-learn metrics, finite differences, numpy eigenvalues,
scipy minimizers and the row-repetition meaning of sample weights."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, sparse
from scipy.special import expit, logit
from sklearn.metrics import log_loss, mean_squared_error

from regulab.core.losses import LogisticLoss, SquaredLoss, make_loss

LOSSES = [SquaredLoss(), LogisticLoss()]
IDS = ["squared", "logistic"]


def make_data(loss, seed, n=40, p=5, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * scale
    w = rng.standard_normal(p)
    b = float(rng.standard_normal())
    if isinstance(loss, LogisticLoss):
        y = (rng.uniform(size=n) < expit(X @ w + b)).astype(float)
        y[:2] = [0.0, 1.0]  # both classes present
    else:
        y = X @ w + b + rng.standard_normal(n)
    w_eval = rng.standard_normal(p)
    b_eval = float(rng.standard_normal())
    return X, y, w_eval, b_eval, rng


def sparse_version(X):
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.5] = 0.0  # make it genuinely sparse
    return Xs, sparse.csr_matrix(Xs)


# -- values against scikit-learn ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_squared_value_is_sklearn_mse(seed):
    loss = SquaredLoss()
    X, y, w, b, rng = make_data(loss, seed)
    assert loss.value(X, y, w, b) == pytest.approx(mean_squared_error(y, X @ w + b), rel=1e-12)
    sw = rng.uniform(0, 3, size=len(y))
    assert loss.value(X, y, w, b, sample_weight=sw) == pytest.approx(
        mean_squared_error(y, X @ w + b, sample_weight=sw), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_logistic_value_is_sklearn_log_loss(seed):
    loss = LogisticLoss()
    X, y, w, b, rng = make_data(loss, seed)
    prob = expit(X @ w + b)
    assert loss.value(X, y, w, b) == pytest.approx(log_loss(y, prob, labels=[0, 1]), rel=1e-12)
    sw = rng.uniform(0, 3, size=len(y))
    assert loss.value(X, y, w, b, sample_weight=sw) == pytest.approx(
        log_loss(y, prob, sample_weight=sw, labels=[0, 1]), rel=1e-12)


def _logloss_oracle(z, y):
    """log(1 + exp(-t z)) with t = 2y - 1, written as max(-tz, 0) + log1p(exp(-|z|))."""
    t = 2 * y - 1
    return max(-t * z, 0.0) + math.log1p(math.exp(-abs(z)))


@pytest.mark.parametrize("z", [50.0, -50.0, 700.0, -700.0, 1e4, -1e4])
def test_logistic_value_large_margin_no_overflow(z):
    loss = LogisticLoss()
    X = np.array([[1.0], [1.0]])
    y = np.array([1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / divide-by-zero RuntimeWarning
        with np.errstate(all="raise"):
            val = loss.value(X, y, np.array([z]))
            g, gb = loss.gradient(X, y, np.array([z]))
    expected = 0.5 * (_logloss_oracle(z, 1.0) + _logloss_oracle(z, 0.0))
    assert math.isfinite(val)
    assert val == pytest.approx(expected, rel=1e-12)
    # gradient: mean of sigmoid(z) - y, each bounded by 1 in size
    assert g[0] == pytest.approx(0.5 * ((expit(z) - 1) + expit(z)), abs=1e-15)
    assert gb == pytest.approx(g[0])
    # correctly classified points at |z| = 50: sklearn agrees (its clipping costs < 1e-15)
    if abs(z) == 50.0:
        yc = np.array([1.0 if z > 0 else 0.0] * 2)
        assert loss.value(X, yc, np.array([z])) == pytest.approx(
            log_loss(yc, expit(X @ np.array([z])), labels=[0, 1]), abs=1e-15)
        assert loss.value(X, yc, np.array([z])) == pytest.approx(math.log1p(math.exp(-50)), rel=1e-12)


# -- gradients against central finite differences, dense and sparse ----------------------------


def fd_gradient(f, w, b, h=1e-6):
    gw = np.empty_like(w)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        gw[j] = (f(w + e, b) - f(w - e, b)) / (2 * h)
    gb = (f(w, b + h) - f(w, b - h)) / (2 * h)
    return gw, gb


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_gradient_matches_finite_differences_dense_and_sparse(loss, seed, weighted):
    X, y, w, b, rng = make_data(loss, seed)
    sw = rng.uniform(0, 2, size=len(y)) if weighted else None
    Xd, Xs = sparse_version(X)
    for XX in (Xd, Xs):
        gw, gb = loss.gradient(XX, y, w, b, sw)
        fw, fb = fd_gradient(lambda w_, b_: loss.value(XX, y, w_, b_, sw), w, b)
        np.testing.assert_allclose(gw, fw, rtol=1e-6, atol=1e-7)
        assert gb == pytest.approx(fb, rel=1e-6, abs=1e-7)
    # dense and sparse give the same numbers
    gd, bd = loss.gradient(Xd, y, w, b, sw)
    gs, bs = loss.gradient(Xs, y, w, b, sw)
    np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-14)
    assert bs == pytest.approx(bd, rel=1e-12, abs=1e-14)
    assert loss.value(Xs, y, w, b, sw) == pytest.approx(loss.value(Xd, y, w, b, sw), rel=1e-12)
    assert loss.lipschitz(Xs, sw, True) == pytest.approx(loss.lipschitz(Xd, sw, True), rel=1e-8)


# -- Lipschitz constants ---------------------------------------------------------------------


def _aug(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("shape", [(40, 5), (7, 12), (30, 1), (1, 3)])
@pytest.mark.parametrize("seed", range(2))
def test_squared_lipschitz_is_twice_top_eigenvalue(seed, shape, fit_intercept):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape) + 1.0
    Xa = _aug(X) if fit_intercept else X
    n = X.shape[0]
    oracle = 2 * np.linalg.eigvalsh(Xa.T @ Xa / n).max()
    assert SquaredLoss().lipschitz(X, fit_intercept=fit_intercept) == pytest.approx(oracle, rel=1e-10)
    assert SquaredLoss().lipschitz(sparse.csr_matrix(X), fit_intercept=fit_intercept) == \
        pytest.approx(oracle, rel=1e-8)
    assert LogisticLoss().lipschitz(X, fit_intercept=fit_intercept) == pytest.approx(oracle / 8, rel=1e-10)
    # weighted: X^T diag(s) X with s normalized to sum to 1
    sw = rng.uniform(0.1, 2, size=n)
    s = sw / sw.sum()
    oracle_w = 2 * np.linalg.eigvalsh(Xa.T @ (s[:, None] * Xa)).max()
    assert SquaredLoss().lipschitz(X, sw, fit_intercept) == pytest.approx(oracle_w, rel=1e-10)


def test_squared_lipschitz_large_matrix_uses_same_oracle():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((620, 510))  # min(shape) > 500: a different code path
    oracle = 2 * np.linalg.eigvalsh(X.T @ X / X.shape[0]).max()
    assert SquaredLoss().lipschitz(X) == pytest.approx(oracle, rel=1e-8)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_gradient_is_lipschitz_along_random_directions(loss, fit_intercept):
    X, y, w, b, rng = make_data(loss, 4, scale=2.0)
    sw = rng.uniform(0, 2, size=len(y))
    for weights in (None, sw):
        L = loss.lipschitz(X, weights, fit_intercept)

        def grad(theta):
            """Gradient in the free variables: (w, b) with an intercept, w alone without."""
            g = np.append(*loss.gradient(X, y, theta[:-1], theta[-1], weights))
            return g if fit_intercept else g[:-1]

        for _ in range(200):
            u = rng.standard_normal(w.size + 1) * rng.choice([0.01, 1, 10])
            d = rng.standard_normal(w.size + 1) * rng.choice([1e-3, 1, 10])
            if not fit_intercept:
                u[-1] = d[-1] = 0.0
            v = u + d
            gu = grad(u)
            gv = grad(v)
            ratio = np.linalg.norm(gu - gv) / np.linalg.norm(d)
            assert ratio <= L * (1 + 1e-9)
        if isinstance(loss, SquaredLoss):
            # the bound is tight for a quadratic: the top eigenvector attains it
            Xa = _aug(X) if fit_intercept else X
            s = np.full(len(y), 1 / len(y)) if weights is None else weights / weights.sum()
            evals, evecs = np.linalg.eigh(Xa.T @ (s[:, None] * Xa))
            top = evecs[:, -1]
            if not fit_intercept:
                top = np.append(top, 0.0)
            g0 = grad(np.zeros(w.size + 1))
            g1 = grad(top)
            assert np.linalg.norm(g1 - g0) == pytest.approx(L, rel=1e-8)


# -- weights mean repetition -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_weight_two_equals_duplicated_row_and_zero_equals_removed(loss, seed):
    X, y, w, b, rng = make_data(loss, seed)
    n = len(y)
    k = int(rng.integers(2, n))  # keep rows 0, 1 (both classes) untouched
    sw = np.ones(n)
    sw[k] = 2.0
    Xd = np.vstack([X, X[k:k + 1]])
    yd = np.append(y, y[k])
    assert loss.value(X, y, w, b, sw) == pytest.approx(loss.value(Xd, yd, w, b), rel=1e-12)
    g1, b1 = loss.gradient(X, y, w, b, sw)
    g2, b2 = loss.gradient(Xd, yd, w, b)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    assert b1 == pytest.approx(b2, rel=1e-12, abs=1e-14)
    assert loss.lipschitz(X, sw, True) == pytest.approx(loss.lipschitz(Xd, None, True), rel=1e-10)
    assert loss.null_intercept(y, sw) == pytest.approx(loss.null_intercept(yd), rel=1e-12)

    sw0 = np.ones(n)
    sw0[k] = 0.0
    Xr = np.delete(X, k, axis=0)
    yr = np.delete(y, k)
    assert loss.value(X, y, w, b, sw0) == pytest.approx(loss.value(Xr, yr, w, b), rel=1e-12)
    g1, b1 = loss.gradient(X, y, w, b, sw0)
    g2, b2 = loss.gradient(Xr, yr, w, b)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    assert b1 == pytest.approx(b2, rel=1e-12, abs=1e-14)

    # integer weights in general: repetition counts
    counts = rng.integers(0, 4, size=n)
    counts[:2] = 1
    Xc = np.repeat(X, counts, axis=0)
    yc = np.repeat(y, counts)
    assert loss.value(X, y, w, b, counts) == pytest.approx(loss.value(Xc, yc, w, b), rel=1e-12)
    np.testing.assert_allclose(loss.gradient(X, y, w, b, counts)[0],
                               loss.gradient(Xc, yc, w, b)[0], rtol=1e-12, atol=1e-14)


def test_weights_are_scale_free():
    loss = SquaredLoss()
    X, y, w, b, rng = make_data(loss, 9)
    sw = rng.uniform(0.1, 2, size=len(y))
    assert loss.value(X, y, w, b, sw) == pytest.approx(loss.value(X, y, w, b, 1000 * sw), rel=1e-12)
    assert loss.value(X, y, w, b, np.ones(len(y))) == pytest.approx(loss.value(X, y, w, b), rel=1e-14)


# -- null intercepts ------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_squared_null_intercept_is_mean_and_minimizes(seed, weighted):
    loss = SquaredLoss()
    X, y, w, b, rng = make_data(loss, seed)
    sw = rng.uniform(0, 2, size=len(y)) if weighted else None
    b0 = loss.null_intercept(y, sw)
    assert b0 == pytest.approx(np.average(y, weights=sw), rel=1e-12)
    zero = np.zeros(X.shape[1])
    res = optimize.minimize_scalar(lambda c: loss.value(X, y, zero, c, sw), bracket=(-10, 10),
                                   tol=1e-12)
    assert b0 == pytest.approx(res.x, abs=1e-6)
    assert loss.value(X, y, zero, b0, sw) <= res.fun + 1e-12
    assert loss.gradient(X, y, zero, b0, sw)[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_logistic_null_intercept_is_logit_of_mean(seed, weighted):
    loss = LogisticLoss()
    X, y, w, b, rng = make_data(loss, seed)
    sw = rng.uniform(0, 2, size=len(y)) if weighted else None
    b0 = loss.null_intercept(y, sw)
    assert b0 == pytest.approx(logit(np.average(y, weights=sw)), rel=1e-12, abs=1e-14)
    zero = np.zeros(X.shape[1])
    assert loss.gradient(X, y, zero, b0, sw)[1] == pytest.approx(0.0, abs=1e-12)
    res = optimize.minimize_scalar(lambda c: loss.value(X, y, zero, c, sw), bracket=(-5, 5),
                                   tol=1e-12)
    assert b0 == pytest.approx(res.x, abs=1e-5)
    assert loss.value(X, y, zero, b0, sw) <= res.fun + 1e-12


def test_logistic_null_intercept_one_class_raises():
    with pytest.raises(ValueError, match="both classes"):
        LogisticLoss().null_intercept(np.ones(5))


# -- bad inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["value", "gradient"])
def test_logistic_bad_label_named(method):
    X = np.ones((3, 1))
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="2"):
        getattr(LogisticLoss(), method)(X, y, np.zeros(1))
    with pytest.raises(ValueError, match="-1"):
        getattr(LogisticLoss(), method)(X, np.array([-1.0, 1.0, 1.0]), np.zeros(1))


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
@pytest.mark.parametrize(
    "sw, pattern",
    [
        (np.ones(3), "3 entries for 4"),
        (np.array([1.0, -1.0, 1.0, 1.0]), ">= 0"),
        (np.zeros(4), "sums to 0"),
        (np.array([1.0, np.nan, 1.0, 1.0]), "finite"),
    ],
    ids=["length", "negative", "all-zero", "nan"],
)
def test_bad_sample_weight(loss, sw, pattern):
    X = np.arange(8.0).reshape(4, 2)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    for call in (
        lambda: loss.value(X, y, np.zeros(2), 0.0, sw),
        lambda: loss.gradient(X, y, np.zeros(2), 0.0, sw),
        lambda: loss.lipschitz(X, sw),
        lambda: loss.null_intercept(y, sw),
    ):
        with pytest.raises(ValueError, match=pattern):
            call()


def test_make_loss():
    assert isinstance(make_loss("squared"), SquaredLoss)
    assert isinstance(make_loss("logistic"), LogisticLoss)
    with pytest.raises(ValueError, match="squared, logistic"):
        make_loss("hinge")
