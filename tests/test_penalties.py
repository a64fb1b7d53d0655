"""Penalties checked against oracles: brute-force minimizers, optimality conditions, the Moreau
identity with independently written conjugate proxes, finite differences and scikit-learn.

Nothing here restates the code's own formulas as the expectation: every expected number comes
from a definition (argmin, subdifferential, conjugate) or from another tool. The tests of the
penalties' three faces run over the table of kinds (:data:`regulab.core.penalties.KINDS`), as
skglm's tests run over its list of penalties: a kind added to the table is tested by them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso

from regulab.core.losses import SquaredLoss
from regulab.core.penalties import (
    DEFAULT_L1_RATIO,
    KINDS,
    L1,
    L2,
    ElasticNet,
    kind_of,
    make_penalty,
    parse_kind,
    penalty_label,
    penalty_rho,
    resolve_l1_ratio,
    sparsest_first,
)
from regulab.core.validation import InvalidValue
from regulab.solvers.exact import solve

SETTINGS = settings(max_examples=200, deadline=None)

# -- strategies -----------------------------------------------------------------------------

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False,
                   allow_subnormal=False)
# step and lam in (0, 1e2]
positive = st.floats(min_value=0.0, max_value=1e2, exclude_min=True, allow_subnormal=False)
# for brute-force minimization the objective has a 1/step factor: keep it representable
moderate_positive = st.floats(min_value=1e-4, max_value=1e2, allow_subnormal=False)
ratio = st.floats(min_value=0.0, max_value=1.0, allow_subnormal=False)
vectors = arrays(np.float64, st.integers(1, 8), elements=finite)


@st.composite
def penalties(draw, lam_strategy=positive, kinds=None):
    """The penalty of a kind of the table (any kind unless ``kinds`` names them) at a random lam,
    with a random l1_ratio where the kind leaves it to the user."""
    lam = draw(lam_strategy)
    kind = KINDS[draw(st.sampled_from(sorted(KINDS) if kinds is None else kinds))]
    return kind.penalty(lam, draw(ratio) if kind.rho is None else None)


def parts(pen):
    """(a, c) with P(w) = a * sum|w| + c * sum w**2, written from the class definitions."""
    if isinstance(pen, L1):
        return pen.lam, 0.0
    if isinstance(pen, L2):
        return 0.0, pen.lam
    return pen.lam * pen.l1_ratio, pen.lam * (1.0 - pen.l1_ratio)


def complexity_value(pen, w):
    """P(w) computed from the definition in README, "The objective, and other tools' lambdas" (independent of pen.value)."""
    a, c = parts(pen)
    w = np.atleast_1d(np.asarray(w, dtype=float))
    return a * math.fsum(abs(x) for x in w) + c * math.fsum(x * x for x in w)


# -- the prox is the argmin -------------------------------------------------------------------


def brute_force_prox_1d(pen, v, step):
    """Numeric argmin of u -> (u - v)^2 / (2 step) + P(u), by bounded Brent plus a grid.

    The minimizer lies between 0 and v (the penalty only shrinks), so search a bracket slightly
    wider than [min(0, v), max(0, v)]; refine around the best grid point, and also try u = 0
    (the kink) explicitly.
    """

    def f(u):
        return (u - v) ** 2 / (2.0 * step) + complexity_value(pen, [u])

    lo, hi = min(0.0, v), max(0.0, v)
    pad = 1e-6 + 1e-3 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    grid = np.linspace(lo, hi, 401)
    vals = np.array([f(u) for u in grid])
    k = int(np.argmin(vals))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    candidates = [grid[k], 0.0]
    if b > a:
        res = optimize.minimize_scalar(f, bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-14 * (1 + abs(v))})
        candidates.append(float(res.x))
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-14 * (1 + abs(v))})
    candidates.append(float(res.x))
    best = min(candidates, key=f)
    return best, f


PER_KIND = settings(max_examples=100, deadline=None)


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(data=st.data(), v=finite, step=moderate_positive)
def test_prox_1d_is_the_argmin(kind, data, v, step):
    pen = data.draw(penalties(moderate_positive, kinds=[kind]))
    u_star, f = brute_force_prox_1d(pen, v, step)
    p = pen.prox_1d(v, step)
    f_num = f(u_star)
    tol = 1e-10 * (1.0 + abs(f_num))
    assert f(p) <= f_num + tol
    # and the prox beats its own small perturbations (a local check that does not depend on Brent)
    for eps in (1e-7, 1e-4, 1e-1):
        d = eps * (1 + abs(v))
        assert f(p) <= f(p + d) + tol
        assert f(p) <= f(p - d) + tol


@SETTINGS
@given(pen=penalties(moderate_positive), v=vectors, step=moderate_positive)
def test_vector_prox_is_the_argmin(pen, v, step):
    """For the vector prox, random competitors never give a smaller objective."""
    p = pen.prox(v, step)
    assert p.shape == v.shape

    def f(u):
        return math.fsum((u - v) ** 2) / (2.0 * step) + complexity_value(pen, u)

    rng = np.random.default_rng(0)
    fp = f(p)
    tol = 1e-10 * (1.0 + abs(fp))
    for scale in (1e-6, 1e-3, 1.0):
        for _ in range(5):
            q = p + scale * (1 + np.abs(v)) * rng.standard_normal(v.shape)
            assert fp <= f(q) + tol
    # the candidates 0 and v themselves
    assert fp <= f(np.zeros_like(v)) + tol
    assert fp <= f(v) + tol


# -- optimality condition: (v - prox(v)) / step in the subdifferential of P at prox(v) -----------


@SETTINGS
@given(pen=penalties(), v=vectors, step=positive)
def test_prox_optimality_condition(pen, v, step):
    p = pen.prox(v, step)
    a, c = parts(pen)
    g_step = v - p  # = step * g, compared multiplied by step to avoid dividing rounding by step
    scale = 1e-12 * (1.0 + np.abs(v))
    nz = p != 0
    # where prox != 0: g = a * sign(p) + 2 c p  (the subdifferential is a single point)
    np.testing.assert_array_less(
        np.abs(g_step[nz] - step * (a * np.sign(p[nz]) + 2.0 * c * p[nz])), scale[nz] + 1e-300
    )
    # sign(p) == sign(v): the prox never flips a sign
    assert np.all(np.sign(p[nz]) == np.sign(v[nz]))
    # where prox == 0: g = v / step lies in [-a, a], i.e. |v| / step <= a
    z = ~nz
    assert np.all(np.abs(v[z]) <= step * a * (1 + 1e-12))
    if c > 0 and a == 0:
        # pure ridge: zero only when v is zero
        assert np.all(v[z] == 0)


# -- Moreau identity with independent conjugate proxes -------------------------------------------


def conj_prox(pen, y, t):
    """prox of P*/t at y, i.e. argmin_u P*(u)/t + ||u - y||^2/2, written from P* in closed form.

    P = a|.| + c(.)^2 per coordinate. Its conjugate is P*(u) = max(|u| - a, 0)^2 / (4c)
    (for c > 0), and for c = 0 the indicator of |u| <= a:
      - c = 0 (L1): projection onto [-a, a], i.e. clipping;
      - a = 0 (L2): P*(u) = u^2/(4c), argmin gives u = y * 2ct / (1 + 2ct);
      - both: inside [-a, a] u = y; outside u = sign(y) (a + (|y| - a) 2ct / (1 + 2ct)).
    """
    a, c = parts(pen)
    y = np.asarray(y, dtype=float)
    if c == 0:
        return np.clip(y, -a, a)
    k = 2 * c * t / (1 + 2 * c * t)
    out = y.copy()
    outside = np.abs(y) > a
    out[outside] = np.sign(y[outside]) * (a + (np.abs(y[outside]) - a) * k)
    return out


@SETTINGS
@given(pen=penalties(), v=vectors, step=moderate_positive)  # v/step must not overflow
def test_moreau_identity(pen, v, step):
    lhs = pen.prox(v, step) + step * conj_prox(pen, v / step, step)
    np.testing.assert_allclose(lhs, v, rtol=1e-10, atol=1e-10 * (1 + np.max(np.abs(v))))


def test_conj_prox_oracle_is_right():
    """Sanity of the test's own oracle: conj_prox is the numeric argmin of P*(u)/t + (u-y)^2/2."""
    rng = np.random.default_rng(1)
    for pen in (L2(0.7), ElasticNet(1.3, 0.4)):
        a, c = parts(pen)
        t = 0.8
        for y in rng.uniform(-5, 5, size=10):
            res = optimize.minimize_scalar(
                lambda u: max(abs(u) - a, 0.0) ** 2 / (4 * c) / t + (u - y) ** 2 / 2,
                bounds=(-10, 10), method="bounded", options={"xatol": 1e-12})
            assert conj_prox(pen, np.array([y]), t)[0] == pytest.approx(res.x, abs=1e-7)


# -- firm non-expansiveness -----------------------------------------------------------------


@SETTINGS
@given(pen=penalties(), data=st.data(), step=positive)
def test_prox_firmly_nonexpansive(pen, data, step):
    n = data.draw(st.integers(1, 8))
    x = data.draw(arrays(np.float64, n, elements=finite))
    y = data.draw(arrays(np.float64, n, elements=finite))
    d = pen.prox(x, step) - pen.prox(y, step)
    lhs = float(np.dot(d, d))
    rhs = float(np.dot(d, x - y))
    assert lhs <= rhs + 1e-9 * (1 + float(np.dot(x - y, x - y)))


# -- the L1 / L2 contrast, exactly ---------------------------------------------------------------


@SETTINGS
@given(lam=positive, v=vectors, step=positive)
def test_l1_prox_zero_iff_below_threshold(lam, v, step):
    t = step * lam
    p = L1(lam).prox(v, step)
    small = np.abs(v) <= t
    assert np.all(p[small] == 0.0)
    assert np.all(p[~small] != 0.0)
    expected = v[~small] - t * np.sign(v[~small])
    np.testing.assert_allclose(p[~small], expected, rtol=1e-12, atol=1e-12 * t)


@SETTINGS
@given(lam=positive, step=positive, factor=st.floats(0.5, 1.5), sign=st.sampled_from([-1, 1]))
def test_l1_prox_near_and_at_threshold(lam, step, factor, sign):
    t = step * lam
    assert L1(lam).prox_1d(sign * t, step) == 0.0  # exactly at the threshold: 0
    v = sign * factor * t
    p = L1(lam).prox_1d(v, step)
    if abs(v) <= t:
        assert p == 0.0
    else:
        assert p != 0.0 and np.sign(p) == sign


@SETTINGS
@given(lam=positive, v=vectors, step=positive)
def test_l2_prox_is_ridge_shrinkage_never_zero(lam, v, step):
    p = L2(lam).prox(v, step)
    np.testing.assert_allclose(p, v / (1 + 2 * step * lam), rtol=1e-14, atol=0)
    assert np.all((p != 0) == (v != 0))


@SETTINGS
@given(lam=positive, v=vectors, step=positive)
def test_elasticnet_endpoints(lam, v, step):
    np.testing.assert_allclose(ElasticNet(lam, 1.0).prox(v, step), L1(lam).prox(v, step),
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(ElasticNet(lam, 0.0).prox(v, step), L2(lam).prox(v, step),
                               rtol=1e-14, atol=0)
    w = v
    assert ElasticNet(lam, 1.0).value(w) == pytest.approx(L1(lam).value(w), rel=1e-14)
    assert ElasticNet(lam, 0.0).value(w) == pytest.approx(L2(lam).value(w), rel=1e-14)


@SETTINGS
@given(pen=penalties(), v=finite, step=positive)
def test_prox_1d_equals_vector_prox(pen, v, step):
    p1 = pen.prox_1d(v, step)
    assert isinstance(p1, float)
    assert p1 == pen.prox(np.array([v]), step)[0]


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(data=st.data(), w=vectors)
def test_value_matches_definition(kind, data, w):
    pen = data.draw(penalties(kinds=[kind]))
    assert pen.value(w) == pytest.approx(complexity_value(pen, w), rel=1e-12, abs=1e-300)


# -- gradient table (seed 001): L1 is +-lam, L2 is 2 lam w, by finite differences --------------


def central_diff(f, w, h=1e-6):
    g = np.empty_like(w)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        g[j] = (f(w + e) - f(w - e)) / (2 * h)
    return g


def random_nonzero_w(rng, p):
    """Random w with every |w_j| in (2e-3, 3): w +- h (h = 1e-6) never crosses the kink at 0."""
    return rng.choice([-1.0, 1.0], size=p) * rng.uniform(2e-3, 3.0, size=p)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("kind", KINDS)
def test_subgradient_matches_finite_differences(kind, seed):
    rng = np.random.default_rng(seed)
    lam = float(rng.uniform(0.01, 5))
    pen = KINDS[kind].penalty(lam, 0.3)
    w = random_nonzero_w(rng, 6)
    assert np.all(np.abs(w) > 1e-3)
    fd = central_diff(pen.value, w)
    np.testing.assert_allclose(pen.subgradient(w), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_l1_gradient_has_constant_magnitude_lam(seed):
    rng = np.random.default_rng(seed)
    lam = float(rng.uniform(0.01, 5))
    w = random_nonzero_w(rng, 20) * rng.choice([1e-2, 1, 1e2], size=20)
    g = L1(lam).subgradient(w)
    np.testing.assert_allclose(np.abs(g), lam, rtol=1e-15)
    np.testing.assert_array_equal(np.sign(g), np.sign(w))
    # L2's fades with |w|: ratio to w is constant 2 lam
    np.testing.assert_allclose(L2(lam).subgradient(w) / w, 2 * lam, rtol=1e-14)


@pytest.mark.parametrize("lam", [0.1, 1.0, 7.5])
def test_l1_at_zero_min_norm_subgradient_and_one_sided_derivatives(lam):
    pen = L1(lam)
    w = np.array([0.0, 1.5, 0.0, -2.0])
    g = pen.subgradient(w)
    assert g[0] == 0.0 and g[2] == 0.0  # minimum-norm element of [-lam, lam]
    h = 1e-7
    for j in (0, 2):
        e = np.zeros_like(w)
        e[j] = h
        right = (pen.value(w + e) - pen.value(w)) / h
        left = (pen.value(w) - pen.value(w - e)) / h
        assert right == pytest.approx(lam, rel=1e-5)
        assert left == pytest.approx(-lam, rel=1e-5)
        assert left <= g[j] <= right  # the returned element is in the subdifferential
    # L2 at 0 is smooth: gradient 0 equals the two-sided derivative
    assert L2(lam).subgradient(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


# -- lam_max against scikit-learn ------------------------------------------------------------


def _regression_data(seed, n=60, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, size=p)  # uncentered on purpose
    w = np.zeros(p)
    w[:3] = rng.uniform(-2, 2, size=3)
    y = X @ w + 3.0 + 0.5 * rng.standard_normal(n)
    return X, y


def _sk_coef(model_cls, lam, X, y, sample_weight=None, **kw):
    # regulab lam = 2 * sklearn alpha (README, "The objective, and other tools' lambdas")
    m = model_cls(alpha=lam / 2, fit_intercept=True, tol=1e-14, max_iter=100_000, **kw)
    m.fit(X, y, sample_weight=sample_weight)
    return m.coef_


@pytest.mark.parametrize("seed", range(4))
def test_l1_lam_max_matches_sklearn_lasso(seed):
    X, y = _regression_data(seed)
    lam_max = L1(1.0).lam_max(X, y)
    assert np.all(_sk_coef(Lasso, lam_max * (1 + 1e-6), X, y) == 0.0)
    assert np.count_nonzero(_sk_coef(Lasso, lam_max * (1 - 1e-3), X, y)) >= 1


@pytest.mark.parametrize("seed", range(3))
def test_l1_lam_max_with_sample_weight_matches_sklearn(seed):
    X, y = _regression_data(seed)
    sw = np.random.default_rng(100 + seed).uniform(0.1, 3.0, size=len(y))
    lam_max = L1(1.0).lam_max(X, y, sample_weight=sw)
    assert np.all(_sk_coef(Lasso, lam_max * (1 + 1e-6), X, y, sw) == 0.0)
    assert np.count_nonzero(_sk_coef(Lasso, lam_max * (1 - 1e-3), X, y, sw)) >= 1
    assert lam_max != pytest.approx(L1(1.0).lam_max(X, y), rel=1e-6)  # weights do matter


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_elasticnet_lam_max_scales_as_one_over_l1_ratio_and_matches_sklearn(rho):
    X, y = _regression_data(7)
    l1_max = L1(1.0).lam_max(X, y)
    en_max = ElasticNet(1.0, rho).lam_max(X, y)
    assert en_max == pytest.approx(l1_max / rho, rel=1e-12)
    # sklearn ElasticNet(alpha, l1_ratio=r) is regulab ElasticNet(lam=2 alpha, l1_ratio=r)
    assert np.all(_sk_coef(SkElasticNet, en_max * (1 + 1e-6), X, y, l1_ratio=rho) == 0.0)
    assert np.count_nonzero(_sk_coef(SkElasticNet, en_max * (1 - 1e-3), X, y, l1_ratio=rho)) >= 1


def test_l2_lam_max_is_infinite():
    X, y = _regression_data(3)
    assert L2(1.0).lam_max(X, y) == float("inf")
    assert ElasticNet(1.0, 0.0).lam_max(X, y) == float("inf")


def test_lam_max_doubled_weights_equal_duplicated_rows():
    X, y = _regression_data(11)
    sw = np.ones(len(y))
    sw[[2, 5, 9]] = 2.0
    Xd = np.vstack([X, X[[2, 5, 9]]])
    yd = np.concatenate([y, y[[2, 5, 9]]])
    for pen in (L1(1.0), ElasticNet(2.0, 0.3)):
        a = pen.lam_max(X, y, sample_weight=sw)
        b = pen.lam_max(Xd, yd)
        assert a == pytest.approx(b, rel=1e-12)
        # and the weighted lam_max is a genuine boundary for the duplicated problem in sklearn
    lam_max = L1(1.0).lam_max(X, y, sample_weight=sw)
    assert np.all(_sk_coef(Lasso, lam_max * (1 + 1e-6), Xd, yd) == 0.0)
    assert np.count_nonzero(_sk_coef(Lasso, lam_max * (1 - 1e-3), Xd, yd)) >= 1


def test_lam_max_scale_free_of_penalty_lam():
    X, y = _regression_data(12)
    assert L1(0.01).lam_max(X, y) == L1(50.0).lam_max(X, y)


def test_lam_max_of_l1_is_zero_when_w0_is_already_optimal():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))
    y = np.full(20, 4.2)  # the null model fits exactly
    assert L1(1.0).lam_max(X, y) == pytest.approx(0.0, abs=1e-12)


def test_lam_max_without_intercept_oracle():
    """Without intercept, w = 0 optimal for the Lasso iff lam >= 2 max|X^T y| / n (sklearn)."""
    X, y = _regression_data(13)
    lam_max = L1(1.0).lam_max(X, y, loss=SquaredLoss(), fit_intercept=False)
    m = Lasso(alpha=lam_max * (1 + 1e-6) / 2, fit_intercept=False, tol=1e-14, max_iter=100_000)
    assert np.all(m.fit(X, y).coef_ == 0.0)
    m = Lasso(alpha=lam_max * (1 - 1e-3) / 2, fit_intercept=False, tol=1e-14, max_iter=100_000)
    assert np.count_nonzero(m.fit(X, y).coef_) >= 1


# -- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [L1, L2, ElasticNet])
@pytest.mark.parametrize("bad", [-1.0, float("nan"), "0.5", float("inf"), None, True])
def test_bad_lam_raises_naming_lam(cls, bad):
    with pytest.raises(ValueError, match="lam"):
        cls(bad)


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "half"])
def test_bad_l1_ratio_raises_naming_it(bad):
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNet(1.0, bad)


@pytest.mark.parametrize("pen", [L1(1.0), L2(1.0), ElasticNet(1.0, 0.5)], ids=repr)
@pytest.mark.parametrize("bad", [-1e-3, float("nan"), "1"])
def test_bad_step_raises_naming_step(pen, bad):
    with pytest.raises(ValueError, match="step"):
        pen.prox(np.ones(3), bad)
    with pytest.raises(ValueError, match="step"):
        pen.prox_1d(1.0, bad)


def test_make_penalty_unknown_lists_valid_choices():
    with pytest.raises(ValueError) as info:
        make_penalty("l3")
    msg = str(info.value)
    assert "l3" in msg
    for name in ("l1", "l2", "elasticnet"):
        assert name in msg


def test_make_penalty_builds_the_right_penalty():
    assert make_penalty("l1", 0.3) == L1(0.3)
    assert make_penalty("L2", 0.3) == L2(0.3)
    assert make_penalty("elastic_net", 0.3, 0.2) == ElasticNet(0.3, 0.2)
    assert make_penalty(None) is None


# -- lam_max of every kind: the boundary of the optimality condition at w = 0 --------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", KINDS)
def test_lam_max_gives_all_zeros_by_kkt(kind, seed):
    """At ``w = 0`` (intercept at the mean of y) the optimality condition of
    ``MSE + lam * (a|w|_1 + c|w|_2^2)`` (a, c the shares) is ``max_j |g_j| <= lam * a`` with
    ``g = -(2/n) X^T (y - mean(y))``, the MSE's gradient written here from its definition.
    lam_max is its boundary: the condition holds just above it, where the solver returns exact
    zeros, and fails just below. A kind without an L1 part has no boundary (lam_max = inf):
    shrinkage alone never reaches 0."""
    X, y = _regression_data(20 + seed)
    pen = KINDS[kind].penalty(1.0, 0.3)
    a, c = parts(pen)  # the shares at lam = 1
    g = -(2.0 / len(y)) * X.T @ (y - y.mean())

    def kkt_at_zero(lam):
        return np.max(np.abs(g)) <= lam * a * (1 + 1e-12)

    lam_max = pen.lam_max(X, y)
    if a == 0:
        assert lam_max == math.inf and not kkt_at_zero(1e12)
        res = solve(X, y, loss="squared", l1=0.0, l2=1e3 * c, tol=1e-12)
        assert np.all(res.w != 0.0)
        return
    assert kkt_at_zero(lam_max * (1 + 1e-9)) and not kkt_at_zero(lam_max * (1 - 1e-6))
    above, below = lam_max * (1 + 1e-6), lam_max * (1 - 1e-3)
    assert np.all(solve(X, y, loss="squared", l1=above * a, l2=above * c, tol=1e-12).w == 0.0)
    res = solve(X, y, loss="squared", l1=below * a, l2=below * c, tol=1e-12, max_iter=100_000)
    assert np.count_nonzero(res.w) >= 1


# -- the vocabulary: one table of kinds, parsed at the edge ----------------------------------------


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_builds_the_penalty_of_its_share(name):
    kind = KINDS[name]
    rho = kind.share()
    assert rho == (DEFAULT_L1_RATIO if kind.rho is None else kind.rho)
    pen = kind.penalty(2.0)
    a, c = parts(pen)
    assert a == pytest.approx(2.0 * rho, rel=1e-15) and c == pytest.approx(2.0 * (1 - rho))
    assert make_penalty(name, 2.0) == pen and make_penalty(name.upper(), 2.0) == pen
    assert parse_kind(name) is kind and kind_of(rho) is kind
    assert penalty_label(name) == kind.label and kind.short and kind.abbrev


def test_kind_order_and_shares():
    assert sparsest_first() == ["l1", "elasticnet", "l2"]
    assert kind_of(1.0).name == "l1" and kind_of(0.0).name == "l2"
    assert kind_of(0.3).name == kind_of(None).name == "elasticnet"
    assert penalty_label("elasticnet", 0.25) == "elastic net (l1_ratio 0.25)"


@pytest.mark.parametrize("penalty, l1_ratio, rho", [
    (None, None, 1.0), (None, 0.3, 0.3), ("l1", None, 1.0), ("l1", 1, 1.0), ("l2", None, 0.0),
    ("l2", 0.0, 0.0), ("elasticnet", None, DEFAULT_L1_RATIO), ("elasticnet", 0.3, 0.3),
    ("elasticnet", np.float32(0.25), 0.25), ("elasticnet", 1.0, 1.0)])
def test_resolve_l1_ratio(penalty, l1_ratio, rho):
    assert resolve_l1_ratio(penalty, l1_ratio) == rho


@pytest.mark.parametrize("penalty, l1_ratio, words", [
    ("l1", 0.3, ["l1_ratio 0.3 disagrees with penalty 'l1'", "is 1", "'elasticnet'"]),
    ("l2", 1.0, ["l1_ratio 1 disagrees with penalty 'l2'", "is 0"]),
    ("lasso", None, ["penalty must be one of 'l1', 'l2', 'elasticnet', got 'lasso'"]),
    ("elasticnet", 1.5, ["l1_ratio must lie in [0, 1], got 1.5"]),
    (None, "half", ["l1_ratio must be a finite real number, got 'half'"])])
def test_resolve_l1_ratio_errors_name_both_parameters(penalty, l1_ratio, words):
    with pytest.raises(InvalidValue) as info:
        resolve_l1_ratio(penalty, l1_ratio)
    for w in words:
        assert w in str(info.value)


def test_penalty_rho_is_the_user_faces_strict_form():
    flags = {"kind_name": "--penalty", "ratio_name": "--l1-ratio"}
    assert penalty_rho("l1", **flags) == 1.0 and penalty_rho("elasticnet", 0.2, **flags) == 0.2
    with pytest.raises(InvalidValue, match="--l1-ratio applies to --penalty elasticnet only"):
        penalty_rho("l1", 1.0, **flags)
    with pytest.raises(InvalidValue, match="--l1-ratio 1 is not an elastic net; use --penalty l1"):
        penalty_rho("elasticnet", 1.0, **flags)
    with pytest.raises(InvalidValue, match="--penalty must be one of"):
        penalty_rho("ridge", **flags)
