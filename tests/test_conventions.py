"""Tests of regulab.core.conventions against independent oracles.

The oracles are (i) each tool's objective written out from its documentation, checked as an exact
identity ``regulab objective = factor * tool objective`` at random points; (ii) scikit-learn's own
fitted solutions, which must satisfy the optimality (KKT) conditions of regulab's objective with the
converted ``(l1, l2)``, and must fail them with the naive conversion (negative controls); (iii) a
closed-form ridge solution; (iv) optimizer update rules simulated step by step in numpy.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

import regulab.core.conventions as conv_mod
from regulab.core.conventions import (
    CONVENTIONS,
    ConversionRow,
    NotRepresentable,
    Setting,
    convert,
    get_convention,
)
from regulab.core.penalties import L1, L2
from regulab.core.penalties import ElasticNet as EN

# ---------------------------------------------------------------------------------------------
# helpers: regulab's objective and every tool's documented objective, written out independently
# ---------------------------------------------------------------------------------------------


#: sd(y) given to the conventions that need it (glmnet gaussian); any value > 0 works
SD_Y = 2.5


def mse(X, y, w):
    r = y - X @ w
    return float(r @ r) / len(y)


def mean_logloss(X, y, w):
    return float(np.mean(np.logaddexp(0.0, -(2.0 * y - 1.0) * (X @ w))))


def regulab_objective(X, y, w, s: Setting):
    loss = mse(X, y, w) if s.loss == "squared" else mean_logloss(X, y, w)
    return loss + s.l1 * float(np.abs(w).sum()) + s.l2 * float(w @ w)


def rss(X, y, w):
    r = y - X @ w
    return float(r @ r)


def l1n(w):
    return float(np.abs(w).sum())


def l2sq(w):
    return float(w @ w)


def _logistic_r(p):
    return {"l1": 1.0, "l2": 0.0}.get(p.get("penalty"), p.get("l1_ratio", 0.0))


# id -> (tool objective f(X, y, w, p, mean_loss), factor(p, n), example params).
# ``mean_loss`` is the mean loss of the any_loss conventions (their C0 / L(w)).
TOOL = {
    "regulab": (
        lambda X, y, w, p, L: (
            mse(X, y, w)
            + p["lam"] * p["l1_ratio"] * l1n(w)
            + p["lam"] * (1 - p["l1_ratio"]) * l2sq(w)
        ),
        lambda p, n: 1.0,
        {"lam": 0.3, "l1_ratio": 0.25},
    ),
    "regulab-logistic": (
        lambda X, y, w, p, L: (
            mean_logloss(X, y, w)
            + p["lam"] * p["l1_ratio"] * l1n(w)
            + p["lam"] * (1 - p["l1_ratio"]) * l2sq(w)
        ),
        lambda p, n: 1.0,
        {"lam": 0.3, "l1_ratio": 0.25},
    ),
    "sklearn-lasso": (
        lambda X, y, w, p, L: rss(X, y, w) / (2 * len(y)) + p["alpha"] * l1n(w),
        lambda p, n: 2.0,
        {"alpha": 0.07},
    ),
    "sklearn-ridge": (
        lambda X, y, w, p, L: rss(X, y, w) + p["alpha"] * l2sq(w),
        lambda p, n: 1.0 / n,
        {"alpha": 4.5},
    ),
    "sklearn-elasticnet": (
        lambda X, y, w, p, L: (
            rss(X, y, w) / (2 * len(y))
            + p["alpha"] * p["l1_ratio"] * l1n(w)
            + p["alpha"] * (1 - p["l1_ratio"]) / 2 * l2sq(w)
        ),
        lambda p, n: 2.0,
        {"alpha": 0.2, "l1_ratio": 0.3},
    ),
    "sklearn-logistic": (
        lambda X, y, w, p, L: (
            p["C"] * len(y) * mean_logloss(X, y, w)
            + _logistic_r(p) * l1n(w)
            + (1 - _logistic_r(p)) / 2 * l2sq(w)
        ),
        lambda p, n: 1.0 / (p["C"] * n),
        {"C": 0.8, "penalty": "elasticnet", "l1_ratio": 0.4},
    ),
    "glmnet": (  # in y's units: glmnet fits y / sd(y), so its L2 term is divided by sd(y)
        lambda X, y, w, p, L: (
            rss(X, y, w) / (2 * len(y))
            + p["lambda"] * ((1 - p["alpha"]) / (2 * SD_Y) * l2sq(w) + p["alpha"] * l1n(w))
        ),
        lambda p, n: 2.0,
        {"lambda": 0.15, "alpha": 0.6},
    ),
    "glmnet-binomial": (
        lambda X, y, w, p, L: (
            mean_logloss(X, y, w)
            + p["lambda"] * ((1 - p["alpha"]) / 2 * l2sq(w) + p["alpha"] * l1n(w))
        ),
        lambda p, n: 1.0,
        {"lambda": 0.15, "alpha": 0.6},
    ),
    "glum-normal": (
        lambda X, y, w, p, L: (
            rss(X, y, w) / (2 * len(y))
            + p["alpha"] * p["l1_ratio"] * l1n(w) + p["alpha"] * (1 - p["l1_ratio"]) / 2 * l2sq(w)
        ),
        lambda p, n: 2.0,
        {"alpha": 0.2, "l1_ratio": 0.3},
    ),
    "glum-binomial": (  # 1/(2n) * deviance, the binomial deviance being 2 * log-loss
        lambda X, y, w, p, L: (
            2 * len(y) * mean_logloss(X, y, w) / (2 * len(y))
            + p["alpha"] * p["l1_ratio"] * l1n(w) + p["alpha"] * (1 - p["l1_ratio"]) / 2 * l2sq(w)
        ),
        lambda p, n: 1.0,
        {"alpha": 0.2, "l1_ratio": 0.3},
    ),
    "nielsen-l1": (
        lambda X, y, w, p, L: L + p["lam"] / len(y) * l1n(w),
        lambda p, n: 1.0,
        {"lam": 5.0},
    ),
    "nielsen-l2": (
        lambda X, y, w, p, L: L + p["lam"] / (2 * len(y)) * l2sq(w),
        lambda p, n: 1.0,
        {"lam": 5.0},
    ),
    "torch-sgd": (
        lambda X, y, w, p, L: (
            L + p["weight_decay"] / 2 * l2sq(w)
        ),  # the loss whose gradient SGD follows
        lambda p, n: 1.0,
        {"weight_decay": 0.01},
    ),
    "torch-adam": (
        lambda X, y, w, p, L: L + p["weight_decay"] / 2 * l2sq(w),
        lambda p, n: 1.0,
        {"weight_decay": 0.01},
    ),
    "keras-l1": (lambda X, y, w, p, L: L + p["l1"] * l1n(w), lambda p, n: 1.0, {"l1": 0.01}),
    "keras-l2": (lambda X, y, w, p, L: L + p["l2"] * l2sq(w), lambda p, n: 1.0, {"l2": 0.01}),
    "keras-l1l2": (
        lambda X, y, w, p, L: L + p["l1"] * l1n(w) + p["l2"] * l2sq(w),
        lambda p, n: 1.0,
        {"l1": 0.01, "l2": 0.02},
    ),
}

# What each tool can express: which parts of (l1, l2) it has.
CAN = {
    "regulab": "both",
    "regulab-logistic": "both",
    "regulab-poisson": "both",
    "sklearn-lasso": "l1",
    "sklearn-ridge": "l2",
    "sklearn-elasticnet": "both",
    "sklearn-logistic": "both",
    "glmnet": "both",
    "glmnet-binomial": "both",
    "glmnet-poisson": "both",
    "glum-normal": "both",
    "glum-binomial": "both",
    "glum-poisson": "both",
    "nielsen-l1": "l1",
    "nielsen-l2": "l2",
    "torch-sgd": "l2",
    "torch-adam": "l2",
    "keras-l1": "l1",
    "keras-l2": "l2",
    "keras-l1l2": "both",
}
REPRESENTABLE = sorted(CAN)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    n, p = 60, 8
    Z = rng.normal(size=(n, p))
    X = Z + 0.6 * Z[:, [0]]  # correlated columns
    w_true = np.array([2.0, -1.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5])
    y = X @ w_true + 0.5 * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def classification():
    rng = np.random.default_rng(0)
    n, p = 60, 8
    Z = rng.normal(size=(n, p))
    X = Z + 0.6 * Z[:, [0]]
    w_true = np.array([1.5, -1.0, 0.0, 0.0, 0.8, 0.0, 0.0, 0.4])
    y = (rng.random(n) < expit(X @ w_true)).astype(float)
    return X, y


def kkt_violation(X, y, w, s: Setting, zero_tol=1e-10):
    """Largest violation of 0 in grad(smooth part) + l1 * d|w|_1 of regulab's objective."""
    n = len(y)
    if s.loss == "squared":
        g = -2.0 / n * X.T @ (y - X @ w)
    else:
        g = X.T @ (expit(X @ w) - y) / n
    g = g + 2.0 * s.l2 * w
    on = np.abs(w) > zero_tol
    viol_on = np.abs(g[on] + s.l1 * np.sign(w[on]))
    viol_off = np.maximum(np.abs(g[~on]) - s.l1, 0.0)
    return float(np.max(np.concatenate([viol_on, viol_off, [0.0]])))


# ---------------------------------------------------------------------------------------------
# the registry itself
# ---------------------------------------------------------------------------------------------


def test_registry_has_every_row_of_the_design_table():
    required = {
        "regulab",
        "regulab-logistic",
        "sklearn-lasso",
        "sklearn-ridge",
        "sklearn-elasticnet",
        "sklearn-logistic",
        "glmnet",
        "nielsen-l1",
        "nielsen-l2",
        "torch-sgd",
        "torch-adamw",
        "keras-l1",
        "keras-l2",
        "keras-l1l2",
    }
    assert required <= set(CONVENTIONS)
    for name, c in CONVENTIONS.items():
        assert c.name == name
        assert c.objective and c.scale_note and c.tool and c.params
        assert c.loss in ("squared", "logistic", "poisson")
        assert re.search(rf"^{re.escape(name)}\s", conv_mod.__doc__, re.M), (
            f"{name} not in the module table"
        )
    assert {k for k, c in CONVENTIONS.items() if c.any_loss} >= {
        "nielsen-l1",
        "nielsen-l2",
        "torch-sgd",
        "keras-l1",
        "keras-l2",
        "keras-l1l2",
    }
    assert CONVENTIONS["sklearn-ridge"].needs_n and CONVENTIONS["sklearn-logistic"].needs_n
    assert not CONVENTIONS["sklearn-lasso"].needs_n
    assert "half an MSE" in CONVENTIONS["nielsen-l2"].scale_note


def test_setting_properties_and_penalty():
    s = Setting(0.3, 0.1, "squared")
    assert s.lam == pytest.approx(0.4) and s.l1_ratio == pytest.approx(0.75)
    assert Setting(0.0, 0.0).l1_ratio == 1.0 and Setting(0.0, 0.0).penalty() is None
    assert isinstance(Setting(0.2, 0.0).penalty(), L1) and isinstance(
        Setting(0.0, 0.2).penalty(), L2
    )
    w = np.random.default_rng(1).normal(size=5)
    pen = s.penalty()
    assert isinstance(pen, EN)
    assert pen.value(w) == pytest.approx(0.3 * l1n(w) + 0.1 * l2sq(w), rel=1e-12)
    with pytest.raises(ValueError, match="l1"):
        Setting(-1.0, 0.0)
    with pytest.raises(ValueError, match="loss"):
        Setting(0.1, 0.1, "hinge")


@settings(max_examples=200, deadline=None)
@given(l1=st.floats(0.0, 1e3), l2=st.floats(0.0, 1e3),
       loss=st.sampled_from(["squared", "logistic"]))
def test_setting_from_its_penalty_round_trips(l1, l2, loss):
    """Setting -> Penalty -> Setting gives the same point (up to rounding of lam * rho), and the
    kind names the penalty object's class."""
    s = Setting(l1, l2, loss)
    back = Setting.from_penalty(s.penalty(), loss=loss)
    tol = 1e-12 * s.lam + 1e-300  # lam * rho rounds relative to lam, not to each part
    assert back.l1 == pytest.approx(l1, rel=1e-12, abs=tol)
    assert back.l2 == pytest.approx(l2, rel=1e-12, abs=tol) and back.loss == loss
    kind = {L1: "l1", L2: "l2", EN: "elasticnet", type(None): None}[type(s.penalty())]
    assert s.kind == kind


def test_setting_from_a_kind_name():
    assert Setting.from_penalty("l1", 0.4) == Setting(0.4, 0.0)
    assert Setting.from_penalty("l2", 0.4, loss="logistic") == Setting(0.0, 0.4, "logistic")
    en = Setting.from_penalty("elasticnet", 0.4, 0.25)
    assert en.l1 == pytest.approx(0.1) and en.l2 == pytest.approx(0.3)
    assert Setting.from_penalty("elasticnet", 0.4) == Setting(0.2, 0.2)  # default l1_ratio 0.5
    assert Setting.from_penalty(None) == Setting(0.0, 0.0)
    assert Setting.from_penalty(EN(2.0, 0.25)) == Setting(0.5, 1.5)
    with pytest.raises(ValueError, match="l1_ratio 0.3 disagrees with penalty 'l1'"):
        Setting.from_penalty("l1", 0.4, 0.3)
    with pytest.raises(ValueError, match="needs lam"):
        Setting.from_penalty("l2")
    with pytest.raises(ValueError, match="lam must lie in"):
        Setting.from_penalty("l2", -1.0)
    with pytest.raises(ValueError, match="own lam"):
        Setting.from_penalty(L1(1.0), lam=2.0)
    with pytest.raises(ValueError, match="penalty must be one of"):
        Setting.from_penalty("lasso", 1.0)


# ---------------------------------------------------------------------------------------------
# round trips (hypothesis)
# ---------------------------------------------------------------------------------------------

pos = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
frac = st.floats(min_value=1e-3, max_value=1 - 1e-3)
ns = st.integers(min_value=1, max_value=10**6)


def _params_strategy(name):
    """Canonical parameters of a convention (the form from_regulab returns)."""
    if name in ("regulab", "regulab-logistic", "regulab-poisson"):
        return st.fixed_dictionaries(
            {"lam": pos, "l1_ratio": st.one_of(frac, st.sampled_from([0.0, 1.0]))}
        )
    if name == "sklearn-elasticnet":
        return st.fixed_dictionaries(
            {"alpha": pos, "l1_ratio": st.one_of(frac, st.sampled_from([0.0, 1.0]))}
        )
    if name in ("glum-normal", "glum-binomial", "glum-poisson"):
        return st.fixed_dictionaries(
            {"alpha": pos, "l1_ratio": st.one_of(frac, st.sampled_from([0.0, 1.0]))}
        )
    if name in ("glmnet", "glmnet-binomial", "glmnet-poisson"):
        return st.fixed_dictionaries(
            {"lambda": pos, "alpha": st.one_of(frac, st.sampled_from([0.0, 1.0]))}
        )
    if name == "sklearn-logistic":
        en = st.fixed_dictionaries({"C": pos, "penalty": st.just("elasticnet"), "l1_ratio": frac})
        l1 = st.fixed_dictionaries({"C": pos, "penalty": st.just("l1"), "l1_ratio": st.just(1.0)})
        l2 = st.fixed_dictionaries({"C": pos, "penalty": st.just("l2"), "l1_ratio": st.just(0.0)})
        return st.one_of(en, l1, l2)
    return st.fixed_dictionaries({k: pos for k in CONVENTIONS[name].params})


def _close(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


@pytest.mark.parametrize("name", REPRESENTABLE)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=ns)
def test_round_trip_params(name, data, n):
    c = CONVENTIONS[name]
    p = data.draw(_params_strategy(name))
    back = c.from_regulab(c.to_regulab(p, n, sd_y=SD_Y), n, sd_y=SD_Y)
    assert set(back) == set(p)
    assert all(_close(back[k], p[k]) for k in p), (p, back)


@pytest.mark.parametrize("name", REPRESENTABLE)
@settings(max_examples=40, deadline=None)
@given(l1=pos, l2=pos, n=ns)
def test_round_trip_setting(name, l1, l2, n):
    c = CONVENTIONS[name]
    l1 = 0.0 if CAN[name] == "l2" else l1
    l2 = 0.0 if CAN[name] == "l1" else l2
    s = Setting(l1, l2, c.loss)
    back = c.to_regulab(c.from_regulab(s, n, sd_y=SD_Y), n, sd_y=SD_Y)
    assert back.loss == s.loss
    # a (strength, ratio) pair carries the smaller part only to within rounding of the total
    tol = 1e-12 * s.lam
    assert abs(back.l1 - s.l1) <= tol and abs(back.l2 - s.l2) <= tol, (s, back)
    if CAN[name] != "both":  # a single number: exact up to rounding of that number
        assert _close(back.lam, s.lam)


@pytest.mark.parametrize("name", [k for k, v in CAN.items() if v != "both"])
@given(x=pos)
@settings(max_examples=10, deadline=None)
def test_missing_part_is_not_representable(name, x):
    c = CONVENTIONS[name]
    s = Setting(x, 0.0, c.loss) if CAN[name] == "l2" else Setting(0.0, x, c.loss)
    with pytest.raises(NotRepresentable, match="no L1 term" if CAN[name] == "l2" else "no L2 term"):
        c.from_regulab(s, 10)


# ---------------------------------------------------------------------------------------------
# objective identities: regulab objective == factor * tool's documented objective
# ---------------------------------------------------------------------------------------------


IDENTITY_CASES = [
    (name, scale)
    for name in sorted(TOOL)
    for scale in ("squared", "logistic")
    if CONVENTIONS[name].any_loss or CONVENTIONS[name].loss == scale
]


@pytest.mark.parametrize("name,scale", IDENTITY_CASES)
def test_objective_identity(name, scale, regression, classification):
    c = CONVENTIONS[name]
    X, y = regression if scale == "squared" else classification
    n = len(y)
    tool_obj, factor, p = TOOL[name]
    s = c.to_regulab(p, n, loss=scale if c.any_loss else None, sd_y=SD_Y)
    rng = np.random.default_rng(7)
    for _ in range(20):
        w = rng.normal(size=X.shape[1]) * rng.uniform(0.1, 3.0)
        mean_loss = mse(X, y, w) if scale == "squared" else mean_logloss(X, y, w)
        lhs = regulab_objective(X, y, w, s)
        rhs = factor(p, n) * tool_obj(X, y, w, p, mean_loss)
        assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_logistic_identity_per_penalty(penalty, classification):
    X, y = classification
    n, C = len(y), 0.37
    p = {"C": C, "penalty": penalty}
    s = CONVENTIONS["sklearn-logistic"].to_regulab(p, n)
    assert s.loss == "logistic"
    rng = np.random.default_rng(3)
    for _ in range(20):
        w = rng.normal(size=X.shape[1])
        z = X @ w
        sk = C * float(np.sum(np.log1p(np.exp(-(2 * y - 1) * z))))
        sk += l1n(w) if penalty == "l1" else 0.5 * l2sq(w)
        assert regulab_objective(X, y, w, s) * C * n == pytest.approx(sk, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# scikit-learn's fitted solutions minimize regulab's objective with the converted (l1, l2)
# ---------------------------------------------------------------------------------------------


def _fit(name, p, X, y):
    kw = dict(fit_intercept=False)
    if name == "sklearn-lasso":
        return Lasso(alpha=p["alpha"], tol=1e-14, max_iter=200_000, **kw).fit(X, y).coef_
    if name == "sklearn-elasticnet":
        return (
            ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], tol=1e-14, max_iter=200_000, **kw)
            .fit(X, y)
            .coef_
        )
    return Ridge(alpha=p["alpha"], solver="cholesky", **kw).fit(X, y).coef_


SK_CASES = [
    ("sklearn-lasso", {"alpha": 0.3}),
    ("sklearn-ridge", {"alpha": 4.5}),
    ("sklearn-elasticnet", {"alpha": 0.4, "l1_ratio": 0.6}),
]


@pytest.mark.parametrize("name,p", SK_CASES)
def test_sklearn_solution_minimizes_regulab_objective(name, p, regression):
    X, y = regression
    n = len(y)
    s = CONVENTIONS[name].to_regulab(p, n)
    w = _fit(name, p, X, y)
    # (c) KKT of regulab's objective at sklearn's solution
    assert kkt_violation(X, y, w, s) < 1e-6
    # (a) no small perturbation does better
    rng = np.random.default_rng(11)
    f0 = regulab_objective(X, y, w, s)
    for eps in (1e-4, 1e-3, 1e-2):
        for _ in range(30):
            assert f0 <= regulab_objective(X, y, w + eps * rng.normal(size=w.size), s) + 1e-12
    if name != "sklearn-ridge":  # the L1 part produced exact zeros, and kept some weights
        assert 0 < np.count_nonzero(w) < w.size


def test_sklearn_ridge_matches_closed_form(regression):
    X, y = regression
    n = len(y)
    s = CONVENTIONS["sklearn-ridge"].to_regulab({"alpha": 4.5}, n)
    # minimizer of (1/n)||y - Xw||^2 + l2||w||^2 solves (X'X/n + l2 I) w = X'y/n
    w_closed = np.linalg.solve(X.T @ X / n + s.l2 * np.eye(X.shape[1]), X.T @ y / n)
    np.testing.assert_allclose(_fit("sklearn-ridge", {"alpha": 4.5}, X, y), w_closed, rtol=1e-10)


@pytest.mark.parametrize(
    "name,p,naive",
    [
        ("sklearn-lasso", {"alpha": 0.3}, Setting(0.3, 0.0)),  # forgetting the factor 2
        ("sklearn-ridge", {"alpha": 4.5}, Setting(0.0, 4.5)),  # forgetting the 1/n
        (
            "sklearn-elasticnet",
            {"alpha": 0.4, "l1_ratio": 0.6},
            Setting(0.24, 0.16),
        ),  # sklearn's r, no rescale
    ],
)
def test_naive_conversions_fail_kkt(name, p, naive, regression):
    """Negative control: the KKT check is sharp enough to reject a wrong conversion."""
    X, y = regression
    assert kkt_violation(X, y, _fit(name, p, X, y), naive) > 1e-2


def test_logistic_regression_solution_satisfies_regulab_kkt(classification):
    X, y = classification
    n, C = len(y), 0.5
    s = CONVENTIONS["sklearn-logistic"].to_regulab({"C": C, "penalty": "l2"}, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = (
            LogisticRegression(C=C, fit_intercept=False, tol=1e-12, max_iter=10_000)
            .fit(X, y)
            .coef_.ravel()
        )
    assert kkt_violation(X, y, w, s) < 1e-6
    assert kkt_violation(X, y, w, Setting(0.0, 1.0 / C, "logistic")) > 1e-2  # naive: l2 = 1/C


@pytest.mark.skipif(
    tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8), reason="l1_ratio API"
)
def test_logistic_regression_l1_solution_satisfies_regulab_kkt(classification):
    X, y = classification
    n, C = len(y), 0.2
    s = CONVENTIONS["sklearn-logistic"].to_regulab({"C": C, "l1_ratio": 1.0}, n)
    assert s.l2 == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(
            C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=1e-12, max_iter=100_000
        ).fit(X, y)
    w = m.coef_.ravel()
    assert kkt_violation(X, y, w, s, zero_tol=0.0) < 1e-5
    assert 0 < np.count_nonzero(w) < w.size


# ---------------------------------------------------------------------------------------------
# PyTorch optimizers, simulated in numpy from their documented update rules
# ---------------------------------------------------------------------------------------------


def _grad_mse(X, y, w):
    return -2.0 / len(y) * X.T @ (y - X @ w)


def test_torch_sgd_weight_decay_is_l2_penalty(regression):
    X, y = regression
    d, lr, mom = 0.3, 0.01, 0.9
    l2 = CONVENTIONS["torch-sgd"].to_regulab({"weight_decay": d}).l2
    w_a = w_b = np.ones(X.shape[1])
    buf_a = buf_b = np.zeros(X.shape[1])
    for _ in range(25):  # torch.optim.SGD: g = grad + d*w; buf = mom*buf + g; w -= lr*buf
        g_a = _grad_mse(X, y, w_a) + d * w_a
        buf_a = mom * buf_a + g_a
        w_a = w_a - lr * buf_a
        g_b = _grad_mse(X, y, w_b) + 2.0 * l2 * w_b  # gradient of MSE + l2*||w||^2, no weight decay
        buf_b = mom * buf_b + g_b
        w_b = w_b - lr * buf_b
    np.testing.assert_allclose(w_a, w_b, rtol=1e-13, atol=1e-15)


def _adam_steps(g_of, w, lr, steps, decoupled=0.0, b1=0.9, b2=0.999, eps=1e-8):
    m = v = np.zeros_like(w)
    for t in range(1, steps + 1):
        w = w * (1.0 - lr * decoupled)  # AdamW: decay first, outside the adaptive scaling
        g = g_of(w)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_torch_adam_coupled_decay_is_l2_but_adamw_is_not(regression):
    X, y = regression
    d, lr = 0.5, 0.05
    w0 = np.linspace(-2.0, 3.0, X.shape[1])
    l2 = CONVENTIONS["torch-adam"].to_regulab({"weight_decay": d}).l2
    coupled = _adam_steps(lambda w: _grad_mse(X, y, w) + d * w, w0, lr, 20)
    penalized = _adam_steps(lambda w: _grad_mse(X, y, w) + 2.0 * l2 * w, w0, lr, 20)
    np.testing.assert_allclose(coupled, penalized, rtol=1e-13)
    # AdamW's decoupled decay: no L2 strength reproduces even its first step
    adamw = _adam_steps(lambda w: _grad_mse(X, y, w), w0, lr, 1, decoupled=d)
    for lam in np.concatenate([[d / 2.0], np.logspace(-4, 3, 200)]):
        adam_l2 = _adam_steps(lambda w, lam=lam: _grad_mse(X, y, w) + 2.0 * lam * w, w0, lr, 1)
        assert np.max(np.abs(adam_l2 - adamw)) > 1e-3


def test_torch_adamw_not_representable():
    c = CONVENTIONS["torch-adamw"]
    with pytest.raises(NotRepresentable, match="decoupled"):
        c.to_regulab({"weight_decay": 0.01})
    with pytest.raises(NotRepresentable, match="decoupled"):
        c.from_regulab(Setting(0.0, 0.01))
    assert isinstance(NotRepresentable("x"), ValueError)
    assert c.to_regulab({"weight_decay": 0.0}) == Setting(0.0, 0.0)  # no decay is no penalty


# ---------------------------------------------------------------------------------------------
# convert()
# ---------------------------------------------------------------------------------------------


def test_convert_rows_in_registry_order():
    rows = convert("sklearn-lasso", {"alpha": 0.1}, n_samples=100)
    assert [r.name for r in rows] == list(CONVENTIONS)
    assert all(isinstance(r, ConversionRow) and r.objective for r in rows)
    assert all((r.params is None) != (r.reason is None) for r in rows)
    by = {r.name: r for r in rows}
    assert by["regulab"].params == pytest.approx({"lam": 0.2, "l1_ratio": 1.0})
    assert by["sklearn-lasso"].params == pytest.approx({"alpha": 0.1})
    assert by["nielsen-l1"].params == pytest.approx({"lam": 20.0})
    assert by["glmnet"].params == pytest.approx({"lambda": 0.1, "alpha": 1.0})
    assert by["sklearn-ridge"].params is None and "no L1 term" in by["sklearn-ridge"].reason
    assert by["sklearn-logistic"].params is None and "scale" in by["sklearn-logistic"].reason
    assert "decoupled" in by["torch-adamw"].reason


def test_convert_any_loss_source_reaches_both_scales():
    rows = {r.name: r for r in convert("keras-l2", {"l2": 0.01}, n_samples=50)}
    assert rows["sklearn-ridge"].params == pytest.approx({"alpha": 0.5})
    assert rows["sklearn-logistic"].params == pytest.approx(
        {"C": 1.0, "penalty": "l2", "l1_ratio": 0.0}
    )
    assert rows["torch-sgd"].params == pytest.approx({"weight_decay": 0.02})
    pinned = {r.name: r for r in convert("keras-l2", {"l2": 0.01}, 50, loss="logistic")}
    assert pinned["sklearn-ridge"].params is None and "scale" in pinned["sklearn-ridge"].reason


def test_convert_target_needing_n_gives_reason_not_error():
    rows = convert("sklearn-lasso", {"alpha": 0.1}, to=["sklearn-elasticnet", "nielsen-l1"])
    assert [r.name for r in rows] == ["sklearn-elasticnet", "nielsen-l1"]
    assert rows[0].params == pytest.approx({"alpha": 0.1, "l1_ratio": 1.0})
    assert rows[1].params is None and "--n-samples" in rows[1].reason


def test_sklearn_logistic_parameter_forms():
    c = CONVENTIONS["sklearn-logistic"]
    assert c.to_regulab({"C": 2.0}, 10) == Setting(0.0, 1.0 / 40, "logistic")  # l1_ratio default 0
    assert c.to_regulab({"C": 2.0, "penalty": "l1"}, 10) == Setting(1.0 / 20, 0.0, "logistic")
    assert c.to_regulab({"C": 2.0, "penalty": "none"}, 10) == Setting(0.0, 0.0, "logistic")
    assert c.to_regulab({"C": math.inf, "penalty": "l2"}, 10) == Setting(0.0, 0.0, "logistic")
    assert c.from_regulab(Setting(0.0, 0.0, "logistic"), 10)["C"] == math.inf
    with pytest.raises(ValueError, match="contradicts"):
        c.to_regulab({"C": 1.0, "penalty": "l1", "l1_ratio": 0.5}, 10)
    with pytest.raises(ValueError, match="l1_ratio"):
        c.to_regulab({"C": 1.0, "penalty": "elasticnet"}, 10)
    with pytest.raises(ValueError, match="penalty"):
        c.to_regulab({"C": 1.0, "penalty": "l3"}, 10)
    with pytest.raises(ValueError, match="C must be a number > 0"):
        c.to_regulab({"C": 0.0}, 10)


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,words",
    [
        (
            lambda: convert("sklearn-lasoo", {"alpha": 1.0}),
            ["sklearn-lasoo", "valid ids", "sklearn-lasso"],
        ),
        (lambda: get_convention("nope"), ["nope", "glmnet"]),
        (lambda: convert("sklearn-lasso", {"alpha": 1.0}, to=["nope"]), ["nope", "valid ids"]),
        (lambda: convert("sklearn-elasticnet", {"l1_ratio": 0.5}), ["alpha", "sklearn-elasticnet"]),
        (
            lambda: convert("sklearn-lasso", {"alpha": 1.0, "beta": 2}),
            ["unexpected", "beta", "sklearn-lasso"],
        ),
        (lambda: convert("sklearn-lasso", {"alpha": -1.0}), ["alpha", "-1.0"]),
        (lambda: convert("sklearn-lasso", {"alpha": float("nan")}), ["alpha", "nan"]),
        (lambda: convert("keras-l2", {"l2": float("inf")}), ["l2", "inf"]),
        (lambda: convert("sklearn-lasso", {"alpha": "abc"}), ["alpha", "abc"]),
        (
            lambda: convert("sklearn-ridge", {"alpha": 1.0}),
            ["sklearn-ridge", "number of training samples", "--n-samples"],
        ),
        (lambda: convert("sklearn-ridge", {"alpha": 1.0}, n_samples=0), ["n_samples", "0"]),
        (lambda: convert("nielsen-l2", {"lam": 1.0}, n_samples=2.5), ["n_samples", "2.5"]),
        (lambda: convert("regulab", {"lam": 1.0, "l1_ratio": 1.5}), ["l1_ratio", "1.5"]),
        (lambda: convert("glmnet", {"lambda": 1.0, "alpha": 2.0}), ["alpha", "2.0"]),
        (
            lambda: CONVENTIONS["sklearn-lasso"].to_regulab({"alpha": 1.0}, loss="logistic"),
            ["squared"],
        ),
    ],
)
def test_errors_name_the_problem(call, words):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg


def test_numeric_strings_from_command_line_are_accepted():
    assert CONVENTIONS["sklearn-ridge"].to_regulab({"alpha": "6"}, "3") == Setting(0.0, 2.0)


def test_lasso_to_ridge_is_a_reason_not_params():
    (row,) = convert("sklearn-lasso", {"alpha": 0.5}, n_samples=10, to=["sklearn-ridge"])
    assert row.params is None and "no L1 term" in row.reason and "sklearn-elasticnet" in row.reason
    (row,) = convert("sklearn-ridge", {"alpha": 0.5}, n_samples=10, to=["sklearn-lasso"])
    assert row.params is None and "no L2 term" in row.reason


# ---------------------------------------------------------------------------------------------
# convert, then fit with the other tool (Fortran glmnet, glum, scikit-learn): the objectives
# computed here from each answer's coefficients agree with regulab's fit
# ---------------------------------------------------------------------------------------------


def _random_problem(seed, binary=False, counts=False):
    """Random sizes, correlated columns, a response on a random scale (so sd(y) != 1)."""
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(80, 200)), int(rng.integers(3, 12))
    Z = rng.normal(size=(n, p))
    X = Z + rng.uniform(0, 0.7) * Z[:, [0]]
    X = (X - X.mean(0)) / X.std(0)  # regulab's commands fit standardized X; glmnet's default
    w = rng.normal(0, 1, p) * (rng.uniform(size=p) < 0.6)
    z = X @ w
    if binary:
        y = (rng.random(n) < expit(z)).astype(float)
    elif counts:
        y = rng.poisson(np.exp(0.3 * z + 0.5)).astype(float)
    else:
        y = rng.uniform(0.2, 30.0) * (z + rng.normal(size=n)) + rng.normal(0, 10)
    lam_frac, rho = rng.uniform(0.02, 0.4), float(rng.choice([0.5, rng.uniform(0.05, 0.95)]))
    return X, y, lam_frac, rho


def _regulab_fit(X, y, loss, s: Setting):
    from regulab.solvers.exact import solve

    res = solve(X, y, loss=loss, l1=s.l1, l2=s.l2, tol=1e-14 if loss == "squared" else 1e-12)
    return res.w, res.intercept


def _objective(X, y, w, b, s: Setting):
    z = X @ w + b
    emp = np.mean((y - z) ** 2) if s.loss == "squared" else np.mean(np.logaddexp(0, -(2 * y - 1) * z))
    return emp + s.l1 * np.abs(w).sum() + s.l2 * w @ w


def _lam(X, y, rho, frac, loss):
    from regulab.selection.path import lam_max

    return frac * lam_max(X, y, loss=loss, l1_ratio=rho)


@pytest.mark.parametrize("seed", range(5))
def test_glmnet_gaussian_with_sd_y_matches_regulab(seed):
    glmnet = pytest.importorskip("glmnet")
    X, y, frac, rho = _random_problem(seed)
    lam = _lam(X, y, rho, frac, "squared")
    s = Setting.from_penalty("elasticnet", lam, rho)
    sd = float(np.std(y))
    (row,) = convert("regulab", {"lam": lam, "l1_ratio": rho}, to=["glmnet"], sd_y=sd)
    g = row.params
    m = glmnet.ElasticNet(alpha=g["alpha"], lambda_path=np.array([2 * g["lambda"], g["lambda"]]),
                          standardize=False, tol=1e-13, n_splits=0).fit(X, y)
    wg, bg = m.coef_path_[:, -1], float(m.intercept_path_[-1])
    wr, br = _regulab_fit(X, y, "squared", s)
    ours, peer = _objective(X, y, wr, br, s), _objective(X, y, wg, bg, s)
    assert ours <= peer * (1 + 1e-12)
    assert abs(ours - peer) <= 1e-8 * ours
    # y standardized first (sd 1): the same conversion with sd_y = 1 on y / sd gives the same
    # model, coefficients scaled by sd
    (row1,) = convert("regulab", {"lam": lam / sd, "l1_ratio": rho}, to=["glmnet"], sd_y=1.0)
    s1 = CONVENTIONS["glmnet"].to_regulab(row1.params, sd_y=1.0)
    m1 = glmnet.ElasticNet(alpha=row1.params["alpha"],
                           lambda_path=np.array([2 * row1.params["lambda"], row1.params["lambda"]]),
                           standardize=False, tol=1e-13, n_splits=0).fit(X, y / sd)
    w1r, b1r = _regulab_fit(X, y / sd, "squared", s1)
    o1, p1 = (_objective(X, y / sd, w1r, b1r, s1),
              _objective(X, y / sd, m1.coef_path_[:, -1], float(m1.intercept_path_[-1]), s1))
    assert abs(o1 - p1) <= 1e-8 * o1
    # the conversion that forgets sd(y) (the old one, sd_y = 1 on raw y) is another objective
    wrong = CONVENTIONS["glmnet"].to_regulab(g, sd_y=1.0)
    if abs(sd - 1) > 0.1:
        ww, bw = _regulab_fit(X, y, "squared", wrong)
        assert _objective(X, y, ww, bw, s) > ours * (1 + 1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_glmnet_binomial_matches_regulab(seed):
    glmnet = pytest.importorskip("glmnet")
    X, y, frac, rho = _random_problem(seed, binary=True)
    lam = _lam(X, y, rho, frac, "logistic")
    s = Setting.from_penalty("elasticnet", lam, rho, loss="logistic")
    (row,) = convert("regulab-logistic", {"lam": lam, "l1_ratio": rho}, to=["glmnet-binomial"])
    g = row.params
    m = glmnet.LogitNet(alpha=g["alpha"], lambda_path=np.array([2 * g["lambda"], g["lambda"]]),
                        standardize=False, tol=1e-13, n_splits=0).fit(X, y)
    wg, bg = m.coef_path_[0, :, -1], float(m.intercept_path_[0, -1])
    wr, br = _regulab_fit(X, y, "logistic", s)
    ours, peer = _objective(X, y, wr, br, s), _objective(X, y, wg, bg, s)
    assert ours <= peer * (1 + 1e-12)
    assert abs(ours - peer) <= 1e-8 * ours


def _glum(X, y, params, family):
    glum = pytest.importorskip("glum")
    m = glum.GeneralizedLinearRegressor(alpha=params["alpha"], l1_ratio=params["l1_ratio"],
                                        family=family, gradient_tol=1e-12, max_iter=10_000)
    m.fit(X, y)
    return np.asarray(m.coef_, dtype=float), float(m.intercept_)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("family", ["normal", "binomial"])
def test_glum_matches_regulab(seed, family):
    loss = "squared" if family == "normal" else "logistic"
    X, y, frac, rho = _random_problem(seed, binary=family == "binomial")
    lam = _lam(X, y, rho, frac, loss)
    s = Setting.from_penalty("elasticnet", lam, rho, loss=loss)
    src = "regulab" if loss == "squared" else "regulab-logistic"
    (row,) = convert(src, {"lam": lam, "l1_ratio": rho}, to=[f"glum-{family}"])
    wg, bg = _glum(X, y, row.params, family)
    wr, br = _regulab_fit(X, y, loss, s)
    ours, peer = _objective(X, y, wr, br, s), _objective(X, y, wg, bg, s)
    assert ours <= peer * (1 + 1e-12)
    assert abs(ours - peer) <= 1e-8 * ours


@pytest.mark.parametrize("seed", range(5))
def test_glum_poisson_solution_satisfies_the_converted_kkt(seed):
    """No regulab Poisson solver here: glum's answer must satisfy the KKT conditions, written
    here, of mean(mu - y log mu) + l1 |w|_1 + l2 |w|^2 with the converted (l1, l2)."""
    X, y, frac, rho = _random_problem(seed, counts=True)
    rng = np.random.default_rng(seed)
    params = {"alpha": rng.uniform(0.01, 0.2), "l1_ratio": rho / (2 - rho)}
    s = CONVENTIONS["glum-poisson"].to_regulab(params)
    assert s.loss == "poisson" and s.l1_ratio == pytest.approx(rho, rel=1e-12)
    w, b = _glum(X, y, params, "poisson")
    mu = np.exp(X @ w + b)
    g = X.T @ (mu - y) / len(y) + 2 * s.l2 * w
    on = w != 0
    viol = np.concatenate([np.abs(g[on] + s.l1 * np.sign(w[on])),
                           np.maximum(np.abs(g[~on]) - s.l1, 0), [abs(np.mean(mu - y))]])
    assert viol.max() <= 1e-7 * max(1.0, np.abs(X.T @ (y.mean() - y)).max() / len(y))
    # the naive reading (glum's alpha as regulab's lam, l1_ratio as rho) violates them
    naive = Setting.from_penalty("elasticnet", params["alpha"], params["l1_ratio"], loss="poisson")
    g2 = X.T @ (mu - y) / len(y) + 2 * naive.l2 * w
    assert np.abs(g2[on] + naive.l1 * np.sign(w[on])).max() > 1e-4 or not on.any()


@pytest.mark.parametrize("seed", range(5))
def test_sklearn_elasticnet_matches_regulab(seed):
    X, y, frac, rho = _random_problem(seed)
    lam = _lam(X, y, rho, frac, "squared")
    s = Setting.from_penalty("elasticnet", lam, rho)
    (row,) = convert("regulab", {"lam": lam, "l1_ratio": rho}, to=["sklearn-elasticnet"])
    m = ElasticNet(alpha=row.params["alpha"], l1_ratio=row.params["l1_ratio"], tol=1e-15,
                   max_iter=1_000_000).fit(X, y)
    wr, br = _regulab_fit(X, y, "squared", s)
    ours, peer = _objective(X, y, wr, br, s), _objective(X, y, m.coef_, m.intercept_, s)
    assert ours <= peer * (1 + 1e-12)
    assert abs(ours - peer) <= 1e-8 * ours


def test_mixing_parameter_in_every_tool():
    """regulab's l1_ratio 0.5 is glmnet's alpha 1/3 (sd(y) = 1, and binomial), and scikit-learn's
    and glum's l1_ratio 1/3 (DESIGN.md: these tools halve their L2 term)."""
    sq = {r.name: r.params for r in convert("regulab", {"lam": 0.3, "l1_ratio": 0.5}, sd_y=1.0)}
    lg = {r.name: r.params for r in convert("regulab-logistic", {"lam": 0.3, "l1_ratio": 0.5},
                                            n_samples=10)}
    third = pytest.approx(1 / 3, rel=1e-12)
    assert sq["glmnet"]["alpha"] == third and sq["sklearn-elasticnet"]["l1_ratio"] == third
    assert sq["glum-normal"]["l1_ratio"] == third
    assert lg["glmnet-binomial"]["alpha"] == third and lg["glum-binomial"]["l1_ratio"] == third
    assert lg["sklearn-logistic"]["l1_ratio"] == third
    po = {r.name: r.params for r in convert("regulab-poisson", {"lam": 0.3, "l1_ratio": 0.5})
          if r.params is not None}
    assert set(po) >= {"glmnet-poisson", "glum-poisson", "regulab-poisson"}
    assert po["glmnet-poisson"]["alpha"] == third and po["glum-poisson"]["l1_ratio"] == third
    sd = 4.0  # with sd(y) = 4, glmnet's alpha moves: rho / (rho + 2 sd (1 - rho))
    (row,) = convert("regulab", {"lam": 0.3, "l1_ratio": 0.5}, to=["glmnet"], sd_y=sd)
    assert row.params["alpha"] == pytest.approx(0.5 / (0.5 + 2 * sd * 0.5), rel=1e-12)
    for c in CONVENTIONS.values():
        if set(c.params) & {"l1_ratio", "alpha"} and c.name not in (
                "sklearn-lasso", "sklearn-ridge"):
            assert c.mixing, c.name


def test_glmnet_elastic_net_without_sd_y_says_why():
    (row,) = convert("regulab", {"lam": 0.3, "l1_ratio": 0.5}, to=["glmnet"])
    assert row.params is None and "sd(y)" in row.reason and "--sd-y" in row.reason
    (row,) = convert("regulab", {"lam": 0.3, "l1_ratio": 1.0}, to=["glmnet"])  # lasso: cancels
    assert row.params == pytest.approx({"lambda": 0.15, "alpha": 1.0})
    with pytest.raises(ValueError, match="sd\\(y\\)") as info:
        convert("glmnet", {"lambda": 0.1, "alpha": 0.5})
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="sd_y"):
        convert("glmnet", {"lambda": 0.1, "alpha": 0.5}, sd_y=0.0)


def _cli(args, capsys):
    from regulab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_convert_cli_sd_y_from_option_or_data(tmp_path, capsys):
    import json

    rng = np.random.default_rng(0)
    y = rng.normal(5, 3, 50)
    f = tmp_path / "d.csv"
    f.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(rng.normal(size=50), y)))
    base = ["convert", "--from", "regulab", "--lam", "0.3", "--l1-ratio", "0.5", "--to", "glmnet",
            "--json"]
    code, out, err = _cli(base + ["--sd-y", str(np.std(y))], capsys)
    assert code == 0, err
    a = json.loads(out)
    code, out, err = _cli(base + ["--data", str(f), "--target", "y"], capsys)
    assert code == 0, err
    b = json.loads(out)
    assert b["sd_y"] == pytest.approx(np.std(y), rel=1e-12)
    assert a["to"][0]["params"] == pytest.approx(b["to"][0]["params"], rel=1e-12)
    code, out, err = _cli(base[:-1], capsys)  # no sd(y): the row says why, in one line
    assert code == 0 and "sd(y)" in out


@pytest.mark.parametrize("extra,words", [
    (["--sd-y", "-1"], ["--sd-y", "> 0"]),
    (["--sd-y", "2", "--data", "diabetes", "--target", "progression"], ["once"]),
    (["--target", "y"], ["--data"]),
])
def test_convert_cli_refuses_bad_sd_y_in_one_line(capsys, extra, words):
    code, out, err = _cli(["convert", "--from", "regulab", "--lam", "0.3", "--l1-ratio", "0.5",
                           *extra], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    for w in words:
        assert w in err


def _poisson_nll(X, y, w, b, offset):
    """regulab's mean Poisson negative log-likelihood (no log(y!) term), written here."""
    eta = X @ w + b + offset
    return float(np.mean(np.exp(eta) - y * eta))


def _glmnet_poisson_objective(X, y, w, b, offset, p):
    """glmnet's documented poisson objective: -(1/n) loglik + lambda * ((1-a)/2 ||w||^2 +
    a ||w||_1), with the full log-likelihood including -log(y!)."""
    from scipy.special import gammaln

    eta = X @ w + b + offset
    loglik = np.sum(y * eta - np.exp(eta) - gammaln(y + 1))
    return float(-loglik / len(y) + p["lambda"] * ((1 - p["alpha"]) / 2 * (w @ w)
                                                  + p["alpha"] * np.abs(w).sum()))


@pytest.mark.parametrize("seed", range(5))
def test_glmnet_poisson_objective_is_regulab_plus_a_constant(seed):
    """glmnet-poisson -> regulab's (l1, l2): regulab's objective minus glmnet's documented one is
    the same constant (mean log(y!)) at every coefficient vector, so the minimizers agree."""
    from scipy.special import gammaln

    X, y, frac, rho = _random_problem(seed, counts=True)
    rng = np.random.default_rng(seed)
    off = rng.normal(0, 0.3, len(y))
    p = {"lambda": rng.uniform(0.01, 0.3), "alpha": rng.uniform(0.05, 1.0)}
    s = CONVENTIONS["glmnet-poisson"].to_regulab(p)
    assert s.loss == "poisson"
    const = float(np.mean(gammaln(y + 1)))
    for _ in range(10):
        w, b = rng.normal(0, 0.4, X.shape[1]), rng.normal(0, 0.5)
        ours = _poisson_nll(X, y, w, b, off) + s.l1 * np.abs(w).sum() + s.l2 * (w @ w)
        assert ours + const == pytest.approx(_glmnet_poisson_objective(X, y, w, b, off, p),
                                             rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_regulab_poisson_fit_at_converted_glmnet_setting_matches_glum(seed):
    """python-glmnet has no poisson family: a glmnet-poisson setting converted to regulab's and
    to glum's scales; regulab's fit and glum's fit give the same glmnet objective (computed
    here from each answer's coefficients), regulab's no larger."""
    from regulab.solvers.exact import solve

    X, y, frac, rho = _random_problem(seed, counts=True)
    rng = np.random.default_rng(seed)
    p = {"lambda": rng.uniform(0.01, 0.2), "alpha": rng.uniform(0.1, 1.0)}
    s = CONVENTIONS["glmnet-poisson"].to_regulab(p)
    (row,) = convert("glmnet-poisson", p, to=["glum-poisson"])
    wg, bg = _glum(X, y, row.params, "poisson")
    res = solve(X, y, loss="poisson", l1=s.l1, l2=s.l2, tol=1e-12)
    zero = np.zeros(len(y))
    ours = _glmnet_poisson_objective(X, y, res.w, res.intercept, zero, p)
    peer = _glmnet_poisson_objective(X, y, wg, bg, zero, p)
    assert ours <= peer + 1e-10 * abs(peer)
    assert abs(ours - peer) <= 1e-7 * abs(peer)


def test_conventions_cli_lists_the_poisson_rows(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # ids unfolded
    code, out, _ = _cli(["conventions"], capsys)
    assert code == 0
    for name in ("regulab-poisson", "glmnet-poisson", "glum-poisson"):
        assert name in out
