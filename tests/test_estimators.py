"""The scikit-learn compatible estimators, against scikit-learn itself and against the maths.

Oracles, not echoes: objectives computed here from the formula of README, "The objective, and other tools' lambdas" and compared
at scikit-learn's solutions (Lasso, Ridge, ElasticNet, LogisticRegression, one-vs-rest), weighting
compared with repeating rows, the CV refit compared with a plain fit.
"""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from regulab.estimators import (
    RegulabClassifier,
    RegulabClassifierCV,
    RegulabRegressor,
    RegulabRegressorCV,
)

TIGHT = dict(tol=1e-13, max_iter=200_000)   # squared loss: relative duality gap
LOGIT = dict(tol=1e-9, max_iter=10_000)     # logistic loss: relative KKT violation (rounding
                                            # floor ~1e-12..1e-10 on these problems)

# -- scikit-learn's own estimator checks ------------------------------------------------------

_CV_SPLITS_REASON = (
    # The check passes explicit (train, test) splits as `cv`, indexed on the original rows, and
    # gives some rows zero weight. The CV estimators remove zero-weight rows before cross-
    # validating (zero weight == removal, tested below), so the given indices no longer match the
    # rows left. Integer weight == repetition is tested below for the plain estimators and zero
    # weight == removal for the CV ones.
    "explicit cv splits index rows that zero-weight removal has dropped"
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, (RegulabRegressorCV, RegulabClassifierCV)):
        return {
            "check_sample_weight_equivalence_on_dense_data": _CV_SPLITS_REASON,
            "check_sample_weight_equivalence_on_sparse_data": _CV_SPLITS_REASON,
        }
    return {}


@parametrize_with_checks(
    [
        # small lam: lam = 1 on the mean loss is strong enough to fail the accuracy checks
        RegulabRegressor(lam=0.01, max_iter=1000),
        RegulabClassifier(lam=0.01, max_iter=1000),
        RegulabRegressorCV(n_lams=5, cv=3, max_iter=1000),
        RegulabClassifierCV(n_lams=5, cv=3, max_iter=1000),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- data and the objective, written out ------------------------------------------------------

def _regression(seed=0, n=40, p=8, rho_corr=0.0, k=3, noise=0.5):
    rng = np.random.default_rng(seed)
    cov = rho_corr ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=n)
    w = np.zeros(p)
    w[:k] = rng.choice([-1.0, 1.0], k) * rng.uniform(1, 2, k)
    return X, X @ w + 0.7 + noise * rng.standard_normal(n)


def _classification(seed=0, n=60, p=5, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, n_classes))
    y = np.argmax(X @ W + 0.8 * rng.standard_normal((n, n_classes)), axis=1)
    return X, y


def _objective(X, y, w, b, l1, l2):
    """regulab's objective, from its definition: MSE + l1*|w|_1 + l2*|w|_2^2."""
    r = y - X @ w - b
    return np.mean(r * r) + l1 * np.sum(np.abs(w)) + l2 * np.sum(w * w)


REGRESSION_DATA = {
    "n>p": dict(seed=0, n=40, p=8),
    "correlated": dict(seed=1, n=50, p=10, rho_corr=0.9),
    "p>>n": dict(seed=2, n=20, p=60, rho_corr=0.5),
}


@pytest.mark.parametrize("data", list(REGRESSION_DATA))
@pytest.mark.parametrize("alpha", [0.02, 0.2])
def test_l1_matches_sklearn_lasso_objective(data, alpha):
    X, y = _regression(**REGRESSION_DATA[data])
    ours = RegulabRegressor(penalty="l1", lam=2 * alpha, **TIGHT).fit(X, y)
    theirs = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    l1 = 2 * alpha
    p_ours = _objective(X, y, ours.coef_, ours.intercept_, l1, 0.0)
    p_theirs = _objective(X, y, theirs.coef_, theirs.intercept_, l1, 0.0)
    assert p_ours == pytest.approx(p_theirs, rel=1e-8)
    assert ours.converged_ and ours.dual_gap_ <= 1e-13


@pytest.mark.parametrize("data", list(REGRESSION_DATA))
@pytest.mark.parametrize("lam", [1e-3, 0.3])
def test_l2_matches_sklearn_ridge_objective(data, lam):
    X, y = _regression(**REGRESSION_DATA[data])
    n = X.shape[0]
    ours = RegulabRegressor(penalty="l2", lam=lam, **TIGHT).fit(X, y)
    theirs = Ridge(alpha=lam * n, tol=1e-14).fit(X, y)
    p_ours = _objective(X, y, ours.coef_, ours.intercept_, 0.0, lam)
    p_theirs = _objective(X, y, theirs.coef_, theirs.intercept_, 0.0, lam)
    assert p_ours == pytest.approx(p_theirs, rel=1e-8)


def test_l2_with_weights_matches_ridge_alpha_lam_times_weight_sum():
    X, y = _regression(seed=3)
    sw = np.random.default_rng(3).uniform(0.5, 3.0, X.shape[0])
    lam = 0.05
    ours = RegulabRegressor(penalty="l2", lam=lam, **TIGHT).fit(X, y, sample_weight=sw)
    theirs = Ridge(alpha=lam * sw.sum(), tol=1e-14).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("data", list(REGRESSION_DATA))
@pytest.mark.parametrize("r", [0.2, 0.7])
def test_elasticnet_matches_sklearn_elasticnet_objective(data, r):
    X, y = _regression(**REGRESSION_DATA[data])
    alpha = 0.1
    lam, rho = alpha * (1 + r), 2 * r / (1 + r)       # the conversion of the docstring
    l1, l2 = 2 * alpha * r, alpha * (1 - r)           # DESIGN's table, independently
    assert (lam * rho, lam * (1 - rho)) == pytest.approx((l1, l2))
    ours = RegulabRegressor(penalty="elasticnet", lam=lam, l1_ratio=rho, **TIGHT).fit(X, y)
    theirs = ElasticNet(alpha=alpha, l1_ratio=r, tol=1e-14, max_iter=1_000_000).fit(X, y)
    p_ours = _objective(X, y, ours.coef_, ours.intercept_, l1, l2)
    p_theirs = _objective(X, y, theirs.coef_, theirs.intercept_, l1, l2)
    assert p_ours == pytest.approx(p_theirs, rel=1e-8)


def test_no_penalty_is_least_squares():
    X, y = _regression(seed=4)
    ours = RegulabRegressor(penalty=None, **TIGHT).fit(X, y)
    theirs = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8)


@pytest.mark.parametrize("lam", [1e-3, 0.05])
def test_l2_classifier_matches_sklearn_logistic_regression(lam):
    X, y = _classification(seed=5, n=80)
    n = X.shape[0]
    ours = RegulabClassifier(penalty="l2", lam=lam, **LOGIT).fit(X, y)
    theirs = LogisticRegression(C=1 / (2 * lam * n), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-7)


def test_multiclass_is_one_vs_rest():
    X, y = _classification(seed=6, n=90, n_classes=3)
    lam, n = 0.01, X.shape[0]
    ours = RegulabClassifier(penalty="l2", lam=lam, multi_class="ovr", **LOGIT).fit(X, y)
    theirs = OneVsRestClassifier(
        LogisticRegression(C=1 / (2 * lam * n), tol=1e-12, max_iter=10_000)).fit(X, y)
    sk_coef = np.vstack([e.coef_ for e in theirs.estimators_])
    np.testing.assert_allclose(ours.coef_, sk_coef, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert ours.coef_.shape == (3, X.shape[1]) and ours.n_iter_.shape == (3,)
    # predict is the argmax of the scores and of the probabilities
    assert np.array_equal(ours.predict(X), ours.classes_[np.argmax(ours.decision_function(X), 1)])
    assert np.array_equal(ours.predict(X), ours.classes_[np.argmax(ours.predict_proba(X), 1)])


def test_binary_probabilities_are_the_sigmoid_of_the_score():
    X, y = _classification(seed=7)
    labels = np.array(["no", "yes"])[y]
    m = RegulabClassifier(penalty="l1", lam=0.01).fit(X, labels)
    z = X @ m.coef_[0] + m.intercept_[0]
    np.testing.assert_allclose(m.decision_function(X), z, rtol=1e-12)
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert set(m.predict(X)) <= {"no", "yes"} and list(m.classes_) == ["no", "yes"]
    assert m.coef_.shape == (1, X.shape[1]) and m.intercept_.shape == (1,)


# -- sample weights ---------------------------------------------------------------------------

def _weights_and_repeats(n, seed):
    rng = np.random.default_rng(seed)
    sw = rng.integers(1, 4, n)
    return sw, np.repeat(np.arange(n), sw)


@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet"])
def test_regressor_integer_weights_equal_repeated_rows(penalty):
    X, y = _regression(seed=8)
    sw, rows = _weights_and_repeats(len(y), 8)
    est = RegulabRegressor(penalty=penalty, lam=0.05, **TIGHT)
    a = est.fit(X, y, sample_weight=sw)
    coef, b = a.coef_.copy(), a.intercept_
    rep = RegulabRegressor(penalty=penalty, lam=0.05, **TIGHT).fit(X[rows], y[rows])
    np.testing.assert_allclose(coef, rep.coef_, rtol=1e-8, atol=1e-10)
    assert b == pytest.approx(rep.intercept_, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_integer_weights_equal_repeated_rows(n_classes):
    X, y = _classification(seed=9, n_classes=n_classes)
    sw, rows = _weights_and_repeats(len(y), 9)
    a = RegulabClassifier(penalty="elasticnet", lam=0.02, **LOGIT).fit(X, y, sample_weight=sw)
    rep = RegulabClassifier(penalty="elasticnet", lam=0.02, **LOGIT).fit(X[rows], y[rows])
    np.testing.assert_allclose(a.coef_, rep.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, rep.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("make", [
    lambda: RegulabRegressor(penalty="l1", lam=0.05, **TIGHT),
    lambda: RegulabRegressorCV(penalty="elasticnet", n_lams=6, cv=3, **TIGHT),
])
def test_regressor_zero_weight_equals_removal(make):
    X, y = _regression(seed=10, n=45)
    sw = np.ones(len(y))
    sw[::4] = 0.0
    a = make().fit(X, y, sample_weight=sw)
    b = make().fit(X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("make", [
    lambda: RegulabClassifier(penalty="l1", lam=0.02, **LOGIT),
    lambda: RegulabClassifierCV(penalty="l2", n_lams=6, cv=3, **LOGIT),
])
def test_classifier_zero_weight_equals_removal(make):
    X, y = _classification(seed=11, n=60, n_classes=3)
    sw = np.ones(len(y))
    sw[::5] = 0.0
    a = make().fit(X, y, sample_weight=sw)
    b = make().fit(X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-8, atol=1e-10)


# -- cross-validation -------------------------------------------------------------------------

def test_regressor_cv_rules_and_refit():
    X, y = _regression(seed=12, n=60, p=12)
    fits = {rule: RegulabRegressorCV(penalty="l1", n_lams=10, cv=4, rule=rule, **TIGHT)
            .fit(X, y) for rule in ("min", "1se")}
    assert fits["1se"].lam_ >= fits["min"].lam_
    for rule, m in fits.items():
        assert m.lam_ in m.path_.lams
        assert m.lam_ == (m.path_.lam_min if rule == "min" else m.path_.lam_1se)
        plain = RegulabRegressor(penalty="l1", lam=m.lam_, **TIGHT).fit(X, y)
        np.testing.assert_allclose(m.coef_, plain.coef_, rtol=1e-9, atol=1e-12)
        assert m.intercept_ == pytest.approx(plain.intercept_, rel=1e-9)
    # the 1se model is the simpler one
    assert np.count_nonzero(fits["1se"].coef_) <= np.count_nonzero(fits["min"].coef_)


def test_regressor_cv_with_given_lams():
    X, y = _regression(seed=13)
    lams = [0.5, 0.001, 0.05, 0.01]
    m = RegulabRegressorCV(penalty="l2", lams=lams, cv=3).fit(X, y)
    assert m.lam_ in lams and sorted(m.path_.lams) == sorted(lams)
    assert m.lams == [0.5, 0.001, 0.05, 0.01]  # the parameter is left alone


def test_classifier_cv_binary_rules_and_refit():
    X, y = _classification(seed=14, n=80, p=6)
    fits = {rule: RegulabClassifierCV(penalty="elasticnet", l1_ratio=0.7, n_lams=8, cv=3,
                                      rule=rule, **LOGIT).fit(X, y) for rule in ("min", "1se")}
    assert fits["1se"].lam_ >= fits["min"].lam_
    for m in fits.values():
        assert isinstance(m.lam_, float) and m.lam_ in m.path_.lams
        plain = RegulabClassifier(penalty="elasticnet", l1_ratio=0.7, lam=m.lam_,
                                  **LOGIT).fit(X, y)
        np.testing.assert_allclose(m.coef_, plain.coef_, rtol=1e-9, atol=1e-12)


def test_classifier_cv_multiclass_chooses_a_lam_per_class():
    X, y = _classification(seed=15, n=90, n_classes=3)
    m = RegulabClassifierCV(penalty="l1", n_lams=6, cv=3, multi_class="ovr", **LOGIT).fit(X, y)
    assert m.lam_.shape == (3,) and len(m.path_) == 3
    for k, c in enumerate(m.classes_):
        assert m.lam_[k] in m.path_[k].lams
        plain = RegulabClassifier(penalty="l1", lam=m.lam_[k], **LOGIT).fit(X, y == c)
        np.testing.assert_allclose(m.coef_[k], plain.coef_[0], rtol=1e-9, atol=1e-12)


# -- convergence warning ----------------------------------------------------------------------

_NOT_CONVERGED = re.compile(
    r"regulab did not converge.*: (relative duality gap|largest KKT violation) "
    r"(\S+) > tol 1e-13 after 1 iterations")


@pytest.mark.parametrize("make, data", [
    (lambda: RegulabRegressor(penalty="l1", lam=0.01, tol=1e-13, max_iter=1),
     lambda: _regression(seed=16, rho_corr=0.9)),
    (lambda: RegulabClassifier(penalty="l2", lam=0.01, tol=1e-13, max_iter=1),
     lambda: _classification(seed=16)),
])
def test_convergence_warning_states_gap_and_tol(make, data):
    X, y = data()
    with pytest.warns(ConvergenceWarning, match=_NOT_CONVERGED) as rec:
        m = make().fit(X, y)
    assert not np.all(m.converged_)
    message = str(rec[0].message)
    gap = float(np.ravel(m.dual_gap_)[0])
    assert f"{gap:.1e}" in message and gap > 1e-13
    assert "increase max_iter or tol" in message


def test_no_warning_when_converged():
    X, y = _regression(seed=17)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = RegulabRegressor(lam=0.1).fit(X, y)
    assert m.converged_ and m.dual_gap_ <= 1e-6 and m.n_iter_ >= 1


# -- bad hyperparameters ----------------------------------------------------------------------

BAD = [
    (RegulabRegressor, {"penalty": "l3"}, "'l1', 'l2', 'elasticnet', None"),
    (RegulabClassifier, {"penalty": "L1"}, "'l1', 'l2', 'elasticnet', None"),
    (RegulabRegressor, {"lam": -1.0}, "lam must lie in [0, inf)"),
    (RegulabClassifier, {"lam": float("nan")}, "lam must be a finite real number"),
    (RegulabRegressor, {"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio must lie in [0, 1]"),
    (RegulabClassifier, {"l1_ratio": -0.1}, "l1_ratio must lie in [0, 1]"),
    (RegulabRegressor, {"max_iter": 0}, "max_iter must be an integer >= 1"),
    (RegulabRegressor, {"tol": -1e-3}, "tol must lie in [0, inf)"),
    (RegulabRegressor, {"fit_intercept": "yes"}, "fit_intercept must be True or False"),
    (RegulabRegressorCV, {"rule": "max"}, "rule must be one of 'min', '1se'"),
    (RegulabClassifierCV, {"rule": "1SE"}, "rule must be one of 'min', '1se'"),
    (RegulabRegressorCV, {"penalty": None}, "penalty must be one of 'l1', 'l2', 'elasticnet'"),
    (RegulabRegressorCV, {"cv": 1}, "cv must be an integer >= 2"),
    (RegulabClassifierCV, {"n_lams": 0}, "n_lams must be an integer >= 1"),
    (RegulabRegressorCV, {"eps": 2.0}, "eps must lie in (0, 1)"),
    (RegulabRegressorCV, {"lams": [0.1, -1.0]}, "every lam in lams must be a finite number >= 0"),
    (RegulabRegressorCV, {"n_repeats": 0}, "n_repeats must be an integer >= 1"),
]


@pytest.mark.parametrize("cls, params, message", BAD,
                         ids=[f"{c.__name__}-{next(iter(p))}" for c, p, _ in BAD])
def test_bad_hyperparameters_raise_in_fit_naming_valid_choices(cls, params, message):
    est = cls(**params)  # __init__ only stores
    X, y = _classification(seed=18, n=30)
    with pytest.raises(ValueError, match=re.escape(message)):
        est.fit(X, y)


# -- inputs -----------------------------------------------------------------------------------

def test_sparse_equals_dense():
    X, y = _regression(seed=19, n=40, p=10)
    X[np.abs(X) < 0.8] = 0.0
    dense = RegulabRegressor(penalty="elasticnet", lam=0.05, **TIGHT).fit(X, y)
    for container in (sparse.csr_matrix, sparse.csc_matrix, sparse.coo_array):
        sp = RegulabRegressor(penalty="elasticnet", lam=0.05, **TIGHT).fit(container(X), y)
        np.testing.assert_allclose(sp.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(sp.predict(sparse.csr_matrix(X)), dense.predict(X), rtol=1e-8)


def test_nan_is_rejected_with_sklearns_message():
    X, y = _regression(seed=20)
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        RegulabRegressor().fit(X, y)
    Xc, yc = _classification(seed=20)
    m = RegulabClassifier(lam=0.01).fit(Xc, yc)
    Xc[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        m.predict(Xc)


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = _regression(seed=21, p=4)
    df = pd.DataFrame(X, columns=["age", "bmi", "bp", "s1"])
    m = RegulabRegressorCV(n_lams=5, cv=3).fit(df, y)
    assert list(m.feature_names_in_) == ["age", "bmi", "bp", "s1"] and m.n_features_in_ == 4
    assert not hasattr(RegulabRegressor(lam=0.1).fit(X, y), "feature_names_in_")
