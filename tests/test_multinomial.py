"""The multinomial (softmax) model, ungrouped and grouped, against its oracles.

Oracles: the objective and the KKT conditions written out HERE from the returned coefficients;
Fortran glmnet (``lognet``: ``kopt = 0`` the ungrouped and ``kopt = 2`` the grouped multinomial,
``type.multinomial = "grouped"``; python-glmnet's LogitNet does not expose ``kopt``, so its
compiled ``lognet`` is called directly, ``standardize = FALSE``) with ``lambda * alpha = l1`` and
``lambda * (1 - alpha) / 2 = l2``; scikit-learn's LogisticRegression (multinomial; lbfgs for L2
with ``l2 = 1 / (2 C n)``, saga for L1 with ``l1 = 1 / (C n)``); the binary logistic solver for
K = 2 (``w = W_1 - W_0``, ``l2`` halved, grouped ``l1`` divided by sqrt(2)).

Where pure L1 leaves the optimum non-unique (a row may shift across the classes within its
median interval) objectives are compared, not coefficients.
"""

import numpy as np
import pytest
from scipy import sparse
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression

from multinomial_oracles import kkt, objective
from regulab.estimators import RegulabClassifier, RegulabClassifierCV
from regulab.selection.multinomial import (
    fit_multinomial_cv,
    multinomial_lam_max,
    multinomial_path,
)
from regulab.solvers.exact import solve
from regulab.solvers.exact.multinomial import solve_multinomial

glmnet_fortran = pytest.importorskip("glmnet._glmnet", reason="python-glmnet is not installed")

TIGHT = dict(tol=1e-11, max_iter=10_000)


def _data(seed, n=None, p=None, K=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(80, 200))
    p = p or int(rng.integers(4, 15))
    K = K or int(rng.integers(3, 6))
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p)
    W = rng.standard_normal((p, K)) * (rng.random(p) < 0.5)[:, None]
    y = np.argmax(X @ W + rng.gumbel(size=(n, K)), axis=1)
    y[:K] = np.arange(K)  # every class present
    return X, y, K


def _glmnet(X, y, K, lam, alpha, grouped, s=None):
    """Fortran glmnet's multinomial at one lambda (standardize off, intercept on)."""
    n, p = X.shape
    Y = np.eye(K)[y] * (1.0 if s is None else s[:, None])
    bounds = np.asfortranarray(np.vstack([np.full(p, -np.inf), np.full(p, np.inf)]))
    out = glmnet_fortran.lognet(alpha, K, np.asfortranarray(X.copy()), np.asfortranarray(Y),
                                np.zeros((n, K), order="F"), 0, np.ones(p), bounds, p + 1, 1.0,
                                np.array([lam]), 1e-13, p, 1, 0, 1, 1_000_000,
                                2 if grouped else 0)
    lmu, a0, ca, ia, nin, *_, jerr = out
    assert jerr == 0 and lmu == 1
    return glmnet_fortran.lsolns(p, ca[:, :, :1], ia, nin[:1])[:, :, 0], a0[:, 0]


# -- Fortran glmnet --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_matches_fortran_glmnet(seed, grouped, alpha):
    X, y, K = _data(seed)
    weighted = seed % 2 == 1
    s = np.random.default_rng(100 + seed).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    top = multinomial_lam_max(X, y, grouped=grouped, sample_weight=s)
    lam = top * np.random.default_rng(seed).uniform(0.02, 0.3)
    l1, l2 = lam * alpha, lam * (1 - alpha) / 2
    ours = solve_multinomial(X, y, grouped=grouped, l1=l1, l2=l2, sample_weight=s, **TIGHT)
    Wg, bg = _glmnet(X, y, K, lam, alpha, grouped, s)
    f_ours = objective(X, y, ours.W, ours.intercept, l1, l2, grouped, s)
    f_glm = objective(X, y, Wg, bg, l1, l2, grouped, s)
    assert f_ours <= f_glm * (1 + 1e-9)
    assert f_glm - f_ours <= 1e-7 * f_glm  # the same problem: glmnet gets there too
    assert ours.objective == pytest.approx(f_ours, rel=1e-12)
    if alpha < 1:  # unique optimum (the L2 part fixes each row's shift)
        np.testing.assert_allclose(ours.W, Wg, atol=5e-5)


# -- scikit-learn ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_l2_matches_sklearn_lbfgs(seed):
    X, y, K = _data(seed)
    n = X.shape[0]
    l2 = np.random.default_rng(seed).uniform(1e-3, 5e-2)
    ours = solve_multinomial(X, y, l2=l2, **TIGHT)
    sk = LogisticRegression(C=1 / (2 * n * l2), tol=1e-12, max_iter=100_000).fit(X, y)
    f_ours = objective(X, y, ours.W, ours.intercept, 0.0, l2, False)
    f_sk = objective(X, y, sk.coef_.T, sk.intercept_, 0.0, l2, False)
    assert f_ours <= f_sk * (1 + 1e-9) and f_sk - f_ours <= 1e-8 * f_sk
    np.testing.assert_allclose(ours.W, sk.coef_.T, atol=1e-5)
    np.testing.assert_allclose(ours.intercept, sk.intercept_ - sk.intercept_.mean(), atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_l1_matches_sklearn_saga(seed):
    X, y, K = _data(seed, n=120, p=5)
    n = X.shape[0]
    X = X / X.std(axis=0)  # saga converges in reasonable time on scaled columns
    l1 = multinomial_lam_max(X, y) * np.random.default_rng(seed).uniform(0.05, 0.3)
    ours = solve_multinomial(X, y, l1=l1, **TIGHT)
    sk = LogisticRegression(C=1 / (n * l1), l1_ratio=1.0, solver="saga", tol=1e-10,
                            max_iter=200_000).fit(X, y)
    f_ours = objective(X, y, ours.W, ours.intercept, l1, 0.0, False)
    f_sk = objective(X, y, sk.coef_.T, sk.intercept_, l1, 0.0, False)
    assert f_ours <= f_sk * (1 + 1e-9) and f_sk - f_ours <= 1e-6 * f_sk


# -- KKT, grouping, lam_max, K = 2 -----------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("grouped", [False, True])
def test_kkt_written_here(seed, grouped):
    X, y, K = _data(seed)
    rng = np.random.default_rng(seed)
    top = multinomial_lam_max(X, y, grouped=grouped)
    l1, l2 = top * rng.uniform(0.01, 0.5), rng.choice([0.0, rng.uniform(1e-3, 1e-1)])
    r = solve_multinomial(X, y, grouped=grouped, l1=l1, l2=l2, tol=1e-9)
    viol, grad_b = kkt(X, y, r.W, r.intercept, l1, l2, grouped)
    assert r.converged and max(viol, grad_b) <= 1e-9 * top * 1.0001
    assert r.gap == pytest.approx(max(viol, grad_b) / top, rel=1e-6, abs=1e-13)
    assert abs(r.intercept.sum()) <= 1e-12 * (1 + np.abs(r.intercept).max())  # centered
    if grouped:  # a feature is zero in all K classes or in none
        rows = r.W != 0
        assert np.all(rows.all(axis=1) | ~rows.any(axis=1))
        assert 0 < rows.any(axis=1).sum() or l1 >= top


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("grouped", [False, True])
def test_lam_max_is_where_every_coefficient_is_zero(seed, grouped):
    X, y, _ = _data(seed)
    top = multinomial_lam_max(X, y, grouped=grouped)
    at = solve_multinomial(X, y, grouped=grouped, l1=top, tol=1e-10)
    below = solve_multinomial(X, y, grouped=grouped, l1=0.98 * top, tol=1e-10)
    assert not at.W.any() and below.W.any()
    shares = np.bincount(y) / y.size
    np.testing.assert_allclose(softmax(at.intercept), shares, rtol=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("grouped", [False, True])
def test_two_classes_reduce_to_the_binary_fit(seed, grouped):
    X, y, _ = _data(seed, K=2)
    rng = np.random.default_rng(seed)
    l1, l2 = rng.uniform(0.005, 0.05), rng.uniform(1e-3, 5e-2)
    m = solve_multinomial(X, y, grouped=grouped, l1=l1, l2=l2, **TIGHT)
    b_l1 = l1 / np.sqrt(2) if grouped else l1
    bin_ = solve(X, y, loss="logistic", l1=b_l1, l2=l2 / 2, **TIGHT)
    np.testing.assert_allclose(m.W[:, 1] - m.W[:, 0], bin_.w, atol=1e-8)
    np.testing.assert_allclose(m.W[:, 1], -m.W[:, 0], atol=1e-10)  # symmetric
    assert m.intercept[1] - m.intercept[0] == pytest.approx(bin_.intercept, abs=1e-8)
    assert m.objective == pytest.approx(bin_.objective, rel=1e-10)


def test_sparse_equals_dense_and_solve_dispatches():
    X, y, K = _data(7)
    X[np.abs(X) < 0.8] = 0.0
    lam = 0.1 * multinomial_lam_max(X, y, grouped=True)
    d = solve(X, y, loss="multinomial", grouped=True, l1=lam, l2=0.01, **TIGHT)
    sp = solve(sparse.csc_matrix(X), y, loss="multinomial", grouped=True, l1=lam, l2=0.01, **TIGHT)
    np.testing.assert_allclose(d.W, sp.W, atol=1e-9)
    assert d.W.shape == (X.shape[1], K) and d.intercept.shape == (K,)


@pytest.mark.parametrize("bad, match", [
    (dict(y=np.array([0, 1, 2.5])), "class codes"),
    (dict(y=np.array([0, 0, 0])), "at least 2 classes"),
    (dict(y=np.array([0, 2, 2])), "class 1 has none"),
])
def test_bad_labels_are_refused(bad, match):
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=match):
        solve_multinomial(X, bad["y"], l1=0.1)


# -- paths, CV, estimators -------------------------------------------------------------------

@pytest.mark.parametrize("grouped", [False, True])
def test_path_and_cv(grouped):
    X, y, K = _data(11, n=150, p=8, K=3)
    path = multinomial_path(X, y, grouped=grouped, n_lams=12, tol=1e-8)
    assert path.nnz[0] == 0 and path.nnz[-1] > 0 and path.converged.all()
    for k in (3, 8):
        viol, gb = kkt(X, y, path.coefs[:, :, k], path.intercepts[:, k], path.lams[k], 0.0,
                        grouped)
        assert max(viol, gb) <= 1e-8 * path.lams[0] * 1.0001
    classes = np.array(["a", "b", "c"])
    fits = {rule: fit_multinomial_cv(X, y, classes, grouped=grouped, folds=4, rule=rule,
                                     n_lams=12, tol=1e-8) for rule in ("min", "1se")}
    assert fits["1se"].lam >= fits["min"].lam
    for f in fits.values():
        assert f.lam in path.lams and f.coef.shape == (X.shape[1], K)
        np.testing.assert_allclose(f.coef, path.coefs[:, :, f.index], atol=1e-9)
    cv = fits["min"].cv
    assert cv.fold_coefs.shape == (4, X.shape[1], K, 12) and cv.mean_error.shape == (12,)
    # the held-out log-loss at lam_max is the entropy of the training class shares, roughly
    assert cv.mean_error[0] == pytest.approx(-np.sum(np.bincount(y) / y.size
                                                     * np.log(np.bincount(y) / y.size)), rel=0.1)


@pytest.mark.parametrize("grouped", [False, True])
def test_classifier_is_multinomial_by_default(grouped):
    X, y, K = _data(12, n=150, p=6, K=4)
    labels = np.array(["w", "x", "y", "z"])[y]
    m = RegulabClassifier(penalty="elasticnet", l1_ratio=0.5, lam=0.02, grouped=grouped,
                          tol=1e-10).fit(X, labels)
    r = solve_multinomial(X, y, grouped=grouped, l1=0.01, l2=0.01, tol=1e-10)
    assert m.multi_class_ == "multinomial" and m.coef_.shape == (K, X.shape[1])
    np.testing.assert_allclose(m.coef_, r.W.T, atol=1e-10)
    proba = m.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(proba, softmax(m.decision_function(X), axis=1), rtol=1e-12)
    assert np.array_equal(m.predict(X), labels[np.argmax(proba, axis=1)])


def test_classifier_cv_multinomial_refits_at_the_chosen_lam():
    X, y, _ = _data(13, n=120, p=6, K=3)
    m = RegulabClassifierCV(n_lams=6, cv=3, grouped=True, tol=1e-9).fit(X, y)
    assert isinstance(m.lam_, float) and m.lam_ in m.path_.lams
    plain = RegulabClassifier(lam=m.lam_, grouped=True, tol=1e-9).fit(X, y)
    np.testing.assert_allclose(m.coef_, plain.coef_, atol=1e-9)


@pytest.mark.parametrize("param, value", [("multi_class", "auto"), ("grouped", "yes")])
def test_classifier_refuses_bad_multi_class_options(param, value):
    X, y, _ = _data(14, n=60, p=3, K=3)
    with pytest.raises(ValueError, match=param):
        RegulabClassifier(**{param: value}).fit(X, y)
