"""The sparse, equal-weight CD kernels (:mod:`regulab.solvers._cd_sparse`) against the general
ones (:mod:`regulab.solvers._cd_kernels`), and sparse paths certified by a duality gap computed
here from the returned coefficients.

The specialization claims the same iterates up to rounding: from one state, its epochs give the
general epochs' coefficients, residual and KKT violation to 1e-12 (relative). The oracle for the
paths is the duality gap of the objective ``mean((y - X w - b)**2) + l1 ||w||_1 + l2 ||w||_2**2``
at the best intercept, written out below with numpy.
"""

import numpy as np
import pytest
from scipy import sparse

from regulab.selection.path import lam_grid, regularization_path
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _cd_sparse as CDS
from regulab.solvers.exact.gradient_bound import NO_LIST


def _problem(seed, n, p, density, fit_intercept):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=density, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    w_true = np.zeros(p)
    k = max(1, p // 5)
    w_true[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ w_true + 0.5 * rng.standard_normal(n) + (3.0 if fit_intercept else 0.0)
    return X, y


def _gap(X, y, w, l1, l2, fit_intercept):
    """``(gap, null)``: the duality gap at ``w`` and its best intercept, and the null loss.

    With ``r`` the residual at the best intercept and ``theta = 2 r / n``, ``g = X_c^T theta``
    (``X_c`` centered if an intercept is fitted): ``D = lin - quad - sum(max(|g| - l1, 0)**2) /
    (4 l2)`` if ``l2 > 0``, else ``D = c lin - c**2 quad`` with ``c = min(1, l1 / max|g|)``;
    ``quad = mean(r**2)``, ``lin = 2 mean(r * y_c)``."""
    A = X.toarray()
    if fit_intercept:
        A = A - A.mean(0)
        yc = y - y.mean()
    else:
        yc = y
    r = yc - A @ w
    quad = float(np.mean(r * r))
    lin = 2.0 * float(np.mean(r * yc))
    g = np.abs(A.T @ (2.0 * r / len(y)))
    primal = quad + l1 * np.abs(w).sum() + l2 * float(w @ w)
    if l2 > 0.0:
        dual = lin - quad - float(np.sum(np.maximum(g - l1, 0.0) ** 2)) / (4.0 * l2)
    else:
        c = min(1.0, l1 / g.max()) if g.max() > 0 else 1.0
        dual = c * lin - c * c * quad
    return primal - dual, float(np.mean(yc * yc))


def _state(seed, fit_intercept):
    """A mid-solve state: ``(X, args, w, q, c, l1)`` with a random ``w`` and its residual."""
    X, y = _problem(seed, 150, 400, 0.05, fit_intercept)
    n, p = X.shape
    A = X.toarray()
    xbar = A.mean(0) if fit_intercept else np.zeros(p)
    yc = y - y.mean() if fit_intercept else y
    L = ((A - xbar) ** 2).mean(0)
    rng = np.random.default_rng(seed + 1)
    ws = np.flatnonzero(L > 0).astype(np.int64)
    ws = np.sort(rng.choice(ws, ws.size * 3 // 4, replace=False)).astype(np.int64)
    w = np.where(rng.random(p) < 0.3, rng.standard_normal(p), 0.0)
    w[L == 0] = 0.0
    q = yc - A @ w
    c = float(xbar @ w)
    l1 = 0.05 * 2.0 * float(np.abs((A - xbar).T @ yc).max()) / n
    return X, (xbar, L, ws), w, q, c, l1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_sparse_epochs_give_the_general_epochs(seed, fit_intercept, l2):
    X, (xbar, L, ws), w, q, c, l1 = _state(seed, fit_intercept)
    n = X.shape[0]
    s = np.full(n, 1.0 / n)
    w_a, q_a, c_a = w.copy(), q.copy(), c
    w_b, q_b, c_b = w.copy(), q.copy(), c
    for _ in range(3):
        c_a, k_a = CDS.epoch_sparse(X.data, X.indices, X.indptr, 1.0 / n, xbar, L, ws, w_a, q_a,
                                    c_a, l1, l2)
        c_b, k_b = CDK._cd_epoch(X.data, X.indices, X.indptr, n, True, s, False, 1.0 / n, xbar,
                                 L, ws, w_b, q_b, c_b, l1, l2)
        assert abs(k_a - k_b) <= 1e-12 * max(abs(k_b), 1e-300)
    assert np.abs(w_a - w_b).max() <= 1e-12 * np.abs(w_b).max()
    assert np.abs(q_a - q_b).max() <= 1e-12 * np.abs(q_b).max()
    assert abs(c_a - c_b) <= 1e-12 * (abs(c_b) + np.abs(q_b).max())
    assert not np.array_equal(w_a, w)  # the epochs moved


@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_the_column_dot_is_the_sum_for_every_length(itype):
    """Four accumulators and a remainder: every length 0..13 (each remainder mod 4, columns
    shorter than one round) and any start offset sum every entry once, to rounding
    (``fsum`` of the products; bound ``len * eps * sum |products|``)."""
    import math
    rng = np.random.default_rng(0)
    # entries of size 1-2: a dropped or doubled one is far outside the rounding bound
    q = rng.choice([-1.0, 1.0], 50) * (1.0 + rng.random(50))
    data = rng.choice([-1.0, 1.0], 40) * (1.0 + rng.random(40))
    indices = rng.integers(0, 50, 40).astype(itype)
    for a in (0, 1, 3):
        for length in range(14):
            b = a + length
            prods = data[a:b] * q[indices[a:b]]
            exact = math.fsum(prods.tolist())
            got = CDS._col_dot(data, indices, a, b, q)
            assert abs(got - exact) <= max(length, 1) * 2.3e-16 * np.abs(prods).sum()


@pytest.mark.parametrize("size", [1, 5, CDS.AHEAD, CDS.AHEAD + 1, None])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_epochs_on_short_sets_and_int64_indices_give_the_general_epochs(size, l2):
    """The prefetch ``AHEAD`` columns ahead is only a hint: working sets shorter or longer than
    it, empty columns and 8-byte row indices (a prefetch step of 8 per cache line, not 16) give
    the general epochs' iterates, and int32 and int64 indices the same bits. (Any ``w``, ``q``
    serve as a state: both kernels start from the same one.)"""
    X, (xbar, L, ws), w, q, c, l1 = _state(3, True)
    keep = np.ones(X.shape[1])
    keep[ws[: ws.size // 4]] = 0.0  # empty columns inside the working set
    X = (X @ sparse.diags(keep)).tocsc()
    X.eliminate_zeros()
    X.sort_indices()
    n = X.shape[0]
    A = X.toarray()
    xbar = A.mean(0)
    L = ((A - xbar) ** 2).mean(0)
    ws = ws if size is None else ws[-size:]
    s = np.full(n, 1.0 / n)
    runs = []
    for itype in (np.int32, np.int64):
        w_a, q_a = w.copy(), q.copy()
        c_a, k_a = CDS.epoch_sparse(X.data, X.indices.astype(itype), X.indptr.astype(itype),
                                    1.0 / n, xbar, L, ws, w_a, q_a, c, l1, l2)
        runs.append((w_a, q_a, c_a, k_a))
    (w_a, q_a, c_a, k_a), (w_6, q_6, c_6, k_6) = runs
    assert np.array_equal(w_a, w_6) and np.array_equal(q_a, q_6)
    assert c_a == c_6 and k_a == k_6
    w_b, q_b = w.copy(), q.copy()
    c_b, k_b = CDK._cd_epoch(X.data, X.indices, X.indptr, n, True, s, False, 1.0 / n, xbar, L,
                             ws, w_b, q_b, c, l1, l2)
    assert abs(k_a - k_b) <= 1e-12 * max(abs(k_b), 1e-300)
    assert np.abs(w_a - w_b).max() <= 1e-12 * max(np.abs(w_b).max(), 1e-300)
    assert np.abs(q_a - q_b).max() <= 1e-12 * np.abs(q_b).max()
    assert abs(c_a - c_b) <= 1e-12 * (abs(c_b) + np.abs(q_b).max())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_sparse_anderson_epochs_give_the_general_ones(seed, fit_intercept):
    """Twelve epochs with Anderson (5 iterates: two extrapolations tried) from one state."""
    X, (xbar, L, ws), w, q, c, l1 = _state(seed, fit_intercept)
    n = X.shape[0]
    s = np.full(n, 1.0 / n)
    w_a, q_a, w_b, q_b = w.copy(), q.copy(), w.copy(), q.copy()
    ep_a, c_a, _ = CDS.cd_sparse_ws(X.data, X.indices, X.indptr, 1.0 / n, xbar, L, ws, w_a, q_a,
                                    c, l1, 0.0, 0.0, 12, 5)
    ep_b, c_b, _ = CDK.cd_squared_ws(X.data, X.indices, X.indptr, n, True, s, False, 1.0 / n,
                                     xbar, L, ws, w_b, q_b, c, l1, 0.0, 0.0, 12, 5)
    assert ep_a == ep_b == 12
    assert np.abs(w_a - w_b).max() <= 1e-12 * np.abs(w_b).max()
    assert np.abs(q_a - q_b).max() <= 1e-12 * np.abs(q_b).max()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_every_lam_of_a_sparse_path_is_certified(seed, fit_intercept, l1_ratio, monkeypatch):
    X, y = _problem(seed, 300, 900, 0.04, fit_intercept)
    calls = []
    kernel = CDS.cd_sparse_ws

    def counted(*a):
        calls.append(a[6].size)
        return kernel(*a)

    monkeypatch.setattr(CDS, "cd_sparse_ws", counted)
    import regulab.selection.path as PATH

    steps = []
    step = PATH.path_step_ahead
    monkeypatch.setattr(PATH, "path_step_ahead", lambda *a: steps.append(1) or step(*a))
    tol = 1e-8
    lams = lam_grid(X, y, l1_ratio=l1_ratio, n_lams=30, eps=1e-3, fit_intercept=fit_intercept)
    res = regularization_path(X, y, lams=lams, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              tol=tol, max_iter=100_000)
    assert calls, "the sparse kernel was not used"
    assert len(steps) == lams.size - 2  # every lam after the first two started ahead
    assert res.converged.all()
    for k, lam in enumerate(lams):
        w = res.coefs[:, k]
        gap, null = _gap(X, y, w, lam * l1_ratio, lam * (1.0 - l1_ratio), fit_intercept)
        assert gap <= tol * null * (1.0 + 1e-6) + 1e-15 * null, (k, gap / null)
        if fit_intercept:  # the returned intercept is the best one for w
            assert abs(res.intercepts[k] - (y.mean() - X.mean(0).A1 @ w)) <= 1e-9 * abs(y).max()
    assert np.count_nonzero(res.coefs[:, -1]) > 100  # the path went deep into many non-zeros


@pytest.mark.parametrize("seed", range(5))
def test_the_step_ahead_is_exact_on_a_linear_piece_of_the_lasso_path(seed):
    """On a fixed support S with signs s the lasso solution is affine in lam (closed form
    ``X_S^T X_S w_S / n = X_S^T y / n - (lam / 2) s``); the step ahead from two solutions on
    such a piece lands on the third, and each of the three is checked to be the lasso solution
    by its optimality conditions on every feature."""
    from regulab.selection.path import path_step_ahead

    rng = np.random.default_rng(seed)
    n, p = 80, 30
    A = rng.standard_normal((n, p))
    y = A[:, :6] @ rng.standard_normal(6) + 0.3 * rng.standard_normal(n)
    lam_max = float(np.abs(2.0 * A.T @ y / n).max())
    lams = lam_max * np.array([0.2, 0.2 * 0.995, 0.2 * 0.995 ** 2])
    # the support and signs of the solution at the middle lam, by coordinate descent to 1e-14
    from regulab.solvers.exact import solve

    w_mid = solve(A, y, l1=lams[1], fit_intercept=False, tol=1e-14, max_iter=100_000).w
    S = np.flatnonzero(w_mid)
    sgn = np.sign(w_mid[S])
    G = A[:, S].T @ A[:, S] / n
    b = A[:, S].T @ y / n
    sols = []
    for lam in lams:
        w = np.zeros(p)
        w[S] = np.linalg.solve(G, b - 0.5 * lam * sgn)
        grad = -2.0 * A.T @ (y - A @ w) / n
        off = np.setdiff1d(np.arange(p), S)
        if not (np.all(np.sign(w[S]) == sgn) and np.all(np.abs(grad[off]) < lam)):
            pytest.skip("the three lams are not on one linear piece for this draw")
        assert np.abs(grad[S] + lam * sgn).max() <= 1e-10 * lam
        sols.append(w)
    ahead = path_step_ahead(sols[0], sols[1], *lams)
    assert np.abs(ahead - sols[2]).max() <= 1e-10 * np.abs(sols[2]).max()


def test_the_step_ahead_zeroes_a_coefficient_whose_line_crosses_zero():
    from regulab.selection.path import path_step_ahead

    w_a = np.array([1.0, 0.2, 0.0, -1.0, 0.0])
    w_b = np.array([2.0, 0.1, 0.0, -0.5, 0.3])
    # equal lam steps: the line goes on by w_b - w_a; feature 1 ends at 0, feature 3 crosses
    out = path_step_ahead(w_a, w_b, 3.0, 2.0, 1.0)
    assert np.array_equal(out, np.array([3.0, 0.0, 0.0, 0.0, 0.6]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_kkt_and_working_set_scores_match_their_numpy_definitions(seed, l2):
    """:func:`regulab.solvers._cd_kernels.kkt_ws_select` against ``kkt_squared`` and the score
    of ``select_ws`` (the working set it takes is ``select_ws``'s; no ties here)."""
    from regulab.solvers.exact.squared import kkt_squared
    from regulab.solvers.exact.working_set import select_ws

    rng = np.random.default_rng(seed)
    p = 500
    active = rng.random(p) < 0.9
    w = np.where(rng.random(p) < 0.3, rng.standard_normal(p), 0.0) * active
    g = rng.standard_normal(p) * active
    l1 = 1.2
    sqrtL = np.sqrt(np.where(active, rng.random(p) + 0.1, 1.0))
    nnz = int(np.count_nonzero(w))
    base = (np.abs(g - l2 * w) - 0.5 * l1) / sqrtL
    for size in (nnz + 10, int(active.sum()) - 1):
        kkt, ws = CDK.kkt_ws_select(g, w, l1, l2, sqrtL, active, nnz, size - nnz, -1.0,
                                     NO_LIST)[:2]
        assert kkt == pytest.approx(kkt_squared(g, w, l1, l2), rel=1e-14, abs=1e-15)
        assert np.array_equal(ws, select_ws(base, w, active, size))


def test_the_step_ahead_keeps_a_feature_that_left_the_support_at_zero():
    """A coefficient non-zero at ``lam_a`` and 0 at ``lam_b`` stays 0 (the line would move it
    off 0, against the sign of ``w_b``), and the result is a fresh array."""
    from regulab.selection.path import path_step_ahead

    w_a = np.array([0.5, -0.4, 1.0])
    w_b = np.array([0.0, 0.0, 1.5])
    out = path_step_ahead(w_a, w_b, 3.0, 2.0, 1.0)
    assert np.array_equal(out, np.array([0.0, 0.0, 2.0]))
    out[2] = 7.0
    assert w_b[2] == 1.5


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_drifted_kernel_residual_cannot_certify_a_lam(seed, fit_intercept, monkeypatch):
    """The outer iteration after a moved start tests its gap on the residual the CD kernel
    carried; here that residual is corrupted after every CD pass and any gap computed from a
    residual that is not ``y_c - X_c w`` claims 0. The path must still stop only on fresh
    residuals: every reported gap is the one computed here from the returned ``w``."""
    import regulab.solvers.exact.squared as SQ
    import regulab.solvers.exact.squared_cd as SCD

    X, y = _problem(seed, 600, 150, 0.1, fit_intercept)
    A = X.toarray()
    Ac = A - A.mean(0) if fit_intercept else A
    rng = np.random.default_rng(seed + 7)
    cd_pass, residual_gap = SCD._cd_pass, SQ.residual_gap
    faked = []

    def corrupted(P, w, q, *a):
        out = cd_pass(P, w, q, *a)
        q += 1e-3 * np.abs(q).max() * rng.standard_normal(q.size)
        return out

    def lying_gap(r, yc, s, g, w, l1, l2):
        primal, gap = residual_gap(r, yc, s, g, w, l1, l2)
        if np.abs(r - (yc - Ac @ w)).max() > 1e-8 * np.abs(yc).max():
            faked.append(gap)
            return primal, 0.0
        return primal, gap

    monkeypatch.setattr(SCD, "_cd_pass", corrupted)
    monkeypatch.setattr(SQ, "residual_gap", lying_gap)
    tol = 1e-8
    lams = lam_grid(X, y, n_lams=20, eps=1e-3, fit_intercept=fit_intercept)
    res = regularization_path(X, y, lams=lams, fit_intercept=fit_intercept, tol=tol,
                              max_iter=100_000)
    assert len(faked) >= lams.size // 2  # the carried residual was tested, and lied
    assert max(faked) > tol * float(np.mean((y - y.mean() if fit_intercept else y) ** 2))
    assert res.converged.all()
    for k, lam in enumerate(lams):
        gap, null = _gap(X, y, res.coefs[:, k], lam, 0.0, fit_intercept)
        assert gap <= tol * null * (1.0 + 1e-6) + 1e-15 * null, (k, gap / null)
        assert abs(res.gaps[k] - gap / null) <= 1e-3 * tol, (k, res.gaps[k], gap / null)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_moved_starts_pass_goes_on_to_the_gaps_support_bound(seed, fit_intercept):
    """``squared_cd._ahead_pass`` runs CD on its working set until the largest KKT violation is
    at most ``AHEAD_GAP * threshold / ||w||_1`` (``w`` as it gets it): checked on the gradient
    computed here with numpy, where the support part of the gap, ``sum_j w_j (l1 sign(w_j) - 2
    g_j)``, is then at most about ``AHEAD_GAP * threshold``; ``q`` stays ``y_c - X w``. The
    coefficients are large (``||w||_1`` in the hundreds), so a tolerance without the division
    would stop far above the bound."""
    import regulab.solvers.exact.squared_cd as SCD
    from test_gradient_bound import _centered_problem

    rng = np.random.default_rng(seed)
    n, p = 400, 120  # n > p, as the tall row
    X = sparse.random(n, p, density=0.1, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    w_true = np.where(rng.random(p) < 0.3, 10.0 * rng.standard_normal(p), 0.0)
    y = X @ w_true + rng.standard_normal(n) + (2.0 if fit_intercept else 0.0)
    P, A = _centered_problem(X, y, None, fit_intercept, 0.02, 0.0)
    w = np.where(w_true != 0.0, 0.9 * w_true, 0.0)  # a start near the solution, as a path's
    q = P.yc - X @ w
    threshold = 1e-6 * P.null_loss
    l1norm = np.abs(w).sum()
    tol = SCD.AHEAD_GAP * threshold / l1norm
    ws = np.flatnonzero(P.active).astype(np.int64)
    epochs, met = SCD._ahead_pass(P, w, q, ws, threshold, np.inf, 10_000, None)
    assert met and epochs > 0
    assert np.abs(q - (P.yc - X @ w)).max() <= 1e-9 * np.abs(P.yc).max()
    g = A.T @ (P.s * (P.yc - A @ w))
    on = w != 0.0
    viol = np.where(on, np.abs(2.0 * g - P.l1 * np.sign(w)),
                    np.maximum(2.0 * np.abs(g) - P.l1, 0.0))
    # the kernel measures each coordinate when it visits it; the last epoch's later steps move
    # the earlier gradients a little
    assert viol.max() <= 2.0 * tol, (viol.max(), tol)
    support_gap = float(np.sum(w[on] * (P.l1 * np.sign(w[on]) - 2.0 * g[on])))
    assert support_gap <= 2.0 * tol * np.abs(w).sum(), (support_gap, tol * l1norm)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_moved_starts_pass_gets_w_zero_off_its_working_set(weighted, fit_intercept,
                                                             monkeypatch):
    """``squared_cd._ahead_pass`` takes ``||w||_1`` over its working set alone: along sparse
    paths (a moved start on every lam) each call's ``w`` has every non-zero in ``ws``, and the
    pass's result is unchanged by the norm taken over all p (checked on a copy)."""
    import regulab.solvers.exact.squared_cd as SCD
    from regulab.selection.path import regularization_path
    from regulab.solvers import _design_kernels as DK

    X, y = _problem(11, 300, 900, 0.03, fit_intercept)
    sw = np.random.default_rng(12).uniform(0.5, 2.0, 300) if weighted else None
    ahead = SCD._ahead_pass
    seen = []

    def checked(P, w, q, ws, threshold, kin, budget, anderson):
        off = np.ones(w.size, dtype=bool)
        off[ws] = False
        seen.append(int(np.count_nonzero(w[off])))
        # the pass as before (the norm over all p) on copies: the same epochs and iterates
        l1norm = float(np.abs(w).sum())
        tol = SCD.AHEAD_GAP * threshold / l1norm if l1norm > 0.0 else np.inf
        w2, q2 = w.copy(), q.copy()
        want = (0, True) if kin <= tol else (0, False) if budget <= 0 else None
        if want is None:
            ep, k2 = SCD._cd_pass(P, w2, q2, float(DK.vdot(P.xbar, w2)), ws, tol, budget, anderson,
                                  False)
            want = (ep, k2 <= tol)
        got = ahead(P, w, q, ws, threshold, kin, budget, anderson)
        assert got == want
        assert np.array_equal(w, w2) and np.array_equal(q, q2)
        return got

    monkeypatch.setattr(SCD, "_ahead_pass", checked)
    regularization_path(X, y, n_lams=30, tol=1e-8, sample_weight=sw,
                        fit_intercept=fit_intercept)
    assert len(seen) >= 10, "too few moved starts: the test proves nothing"
    assert max(seen) == 0


@pytest.mark.parametrize("nnz", [0, 1, 5, 8, 9, 60, None])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_the_design_product_is_scipys_for_every_support(nnz, itype):
    """``_design_kernels.x_dot`` (its columns listed without a branch, prefetched
    ``COLS_AHEAD`` ahead) against scipy's ``X @ w`` to rounding, on supports shorter and
    longer than that distance, with empty columns among them, and the dense route on the
    same ``w``."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(7)
    n, p = 300, 200
    X = sparse.random(n, p, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    keep = np.ones(p)
    keep[rng.choice(p, 40, replace=False)] = 0.0  # empty columns
    X = (X @ sparse.diags(keep)).tocsc()
    X.eliminate_zeros()
    X.sort_indices()
    w = np.zeros(p)
    size = p if nnz is None else nnz
    w[rng.choice(p, size, replace=False)] = rng.standard_normal(size)
    want = X @ w
    scale = np.abs(X).max() * np.abs(w).sum() + 1e-300
    got = DK.x_dot(X.data, X.indices.astype(itype), X.indptr.astype(itype), n, p, True, w)
    assert np.abs(got - want).max() <= 1e-13 * scale
    A = np.asfortranarray(X.toarray())
    dense = DK.x_dot(A.ravel(order="F"), np.zeros(1, np.int32), np.zeros(1, np.int32), n, p,
                     False, w)
    assert np.abs(dense - want).max() <= 1e-13 * scale


@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_unsigned_indices_give_the_same_bits(itype):
    """``_design_kernels.unsigned`` (the views the CD epochs, ``Design.x_dot`` and ``xt_dot``
    take, so that numba drops its wrap-around test per index): three epochs, ``X w`` and ``X^T
    v`` through it give the signed kernels' bits, for 4-byte indices (viewed as ``uint32``, sharing the buffer) and
    8-byte ones (kept: the kernels must still compile for them)."""
    from regulab.solvers import _design_kernels as DK
    from regulab.solvers.design import as_design

    X, (xbar, L, ws), w, q, c, l1 = _state(2, True)
    n, p = X.shape
    indices, indptr = X.indices.astype(itype), X.indptr.astype(itype)
    u_ind, u_ptr = DK.unsigned(indices), DK.unsigned(indptr)
    assert u_ind.dtype == (np.uint32 if itype == np.int32 else np.int64)
    assert np.shares_memory(u_ind, indices) and np.array_equal(u_ind, indices)
    assert np.array_equal(u_ptr, indptr)
    runs = []
    for ind, ptr, cols in ((indices, indptr, ws), (u_ind, u_ptr, ws)):
        w_a, q_a = w.copy(), q.copy()
        out = CDS.cd_sparse_ws(X.data, ind, ptr, 1.0 / n, xbar, L, cols, w_a, q_a, c, l1, 0.1,
                               0.0, 3, 0)
        runs.append((w_a, q_a, out))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2] and runs[0][2][0] == 3
    assert not np.array_equal(runs[0][0], w)  # the epochs moved
    X = sparse.csc_matrix((X.data, indices, indptr), shape=X.shape)
    D = as_design(X)
    want = DK.x_dot(X.data, indices, indptr, n, p, True, w)
    assert np.array_equal(D.x_dot(w), want)
    assert np.abs(want - X @ w).max() <= 1e-13 * np.abs(X).max() * np.abs(w).sum()
    # X^T v, the full gradient pass: the signed kernel's bits, scipy's sums to rounding
    v = np.random.default_rng(3).standard_normal(n)
    want = DK.xt_dot_sparse(X.data, indices, indptr, p, v)
    assert np.array_equal(D.xt_dot(v), want)
    assert np.abs(want - X.T @ v).max() <= 1e-13 * np.abs(X).max() * np.abs(v).sum()


@pytest.mark.parametrize("p", [1, 63, 64, 65, 130])
def test_the_design_product_lists_every_column_across_the_block_edges(p):
    """``x_dot`` lists the support by masks of 64 columns: each column alone (``w = 2 e_j``,
    every ``j``, the edges of the blocks among them) gives twice that column exactly, and the
    first and last columns together their sum."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(p)
    n = 40
    X = sparse.random(n, p, density=0.3, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    A = X.toarray()
    A[0, :] = 1.0 + np.arange(p)  # no empty column
    X = sparse.csc_matrix(A)
    for j in range(p):
        w = np.zeros(p)
        w[j] = 2.0
        got = DK.x_dot(X.data, X.indices, X.indptr, n, p, True, w)
        assert np.array_equal(got, 2.0 * A[:, j]), j
    w = np.zeros(p)
    w[0] = w[-1] = 1.0
    got = DK.x_dot(X.data, X.indices, X.indptr, n, p, True, w)
    assert np.array_equal(got, A[:, 0] + A[:, -1] if p > 1 else A[:, 0])
