"""When the squared-loss solver takes active-set Newton after a stalled CD pass
(:func:`regulab.solvers.exact.newton.newton_pays`), and that the path stays certified either way.

The oracle of every answer is the weighted duality gap written out with numpy
(``test_cd_sparse_weighted._gap``), not the solver's own. The route is observed by spies on the
names ``squared_cd`` calls (``newton_pays``, ``active_set_newton``).

Mutations tried (each made a test here fail): ``newton_pays`` always True (the sparse row takes
Newton), always False (the dense row does not), ``NEWTON_EPOCHS = inf`` (the sparse row takes
it), the epochs spent left out of the bound (the rank-reaching path is not certified in
``max_iter``), the capacity clause removed (``test_the_capacity_clause_is_the_gram_caches``),
``epoch_work`` counting each column's entries once.
"""

import numpy as np
import pytest
from scipy import sparse

import regulab.solvers.exact.newton as NW
import regulab.solvers.exact.squared_cd as SQ
from regulab.data.simulate import _ar1_design
from regulab.selection.path import lam_grid, regularization_path
from regulab.solvers._active_set import GramCache
from regulab.solvers.design import as_design
from regulab.solvers.exact import _SquaredSolver
from test_cd_sparse_weighted import _centered, _gap


def _weights(n, seed):
    sw = np.random.default_rng([seed, 5]).uniform(0.5, 2.0, n)
    return sw / sw.sum()


def _sparse_wide(seed):
    """A weighted wide CSC problem (300 x 1500, ~3 stored entries a column) whose path ends
    near ``|S| = n``: CD stalls there on supports of ~240 features."""
    rng = np.random.default_rng(seed)
    n, p = 300, 1500
    X = sparse.random(n, p, density=0.01, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    beta = np.where(rng.random(p) < 0.02, rng.standard_normal(p), 0.0)
    y = X @ beta + 0.5 * rng.standard_normal(n)
    return X, y, _weights(n, seed)


def _dense_correlated(seed):
    """A weighted dense problem (100 x 400, AR(1) columns with correlation 0.9): CD stalls on
    an ill-conditioned support of ~40 features, where Newton is cheap."""
    rng = np.random.default_rng(seed)
    n, p = 100, 400
    X = _ar1_design(rng, n, p, 0.9)
    beta = np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0)
    y = X @ beta + rng.standard_normal(n)
    return sparse.csc_matrix(X), y, _weights(n, seed), X


def _spied_path(monkeypatch, X, y, s, tol, fit_intercept=True, asked=None):
    """The path of ``(X, y, s)`` with every decision of ``newton_pays`` and every
    ``active_set_newton`` outcome recorded; each lam checked against the numpy gap.
    ``asked``: a list that gets ``(work / epoch_work, spent, taken)`` of each decision."""
    decisions, outcomes = [], []
    pays, newton = NW.newton_pays, NW.active_set_newton

    def pays_spy(P, start, k_end, ws, spent=0):
        decisions.append(pays(P, start, k_end, ws, spent))
        if asked is not None:
            ratio = NW.newton_work(P, start, k_end) / NW.epoch_work(P, ws)
            asked.append((ratio, spent, decisions[-1]))
        return decisions[-1]

    def newton_spy(*a, **kw):
        outcomes.append(newton(*a, **kw))
        return outcomes[-1]

    monkeypatch.setattr(SQ, "newton_pays", pays_spy)
    monkeypatch.setattr(SQ, "active_set_newton", newton_spy)
    lams = lam_grid(X, y, n_lams=30, eps=1e-3, sample_weight=s, fit_intercept=fit_intercept)
    res = regularization_path(X, y, lams=lams, sample_weight=s, tol=tol, max_iter=100_000,
                              fit_intercept=fit_intercept)
    assert res.converged.all()
    A_c, yc = _centered(sparse.csc_matrix(X), y, s, fit_intercept)
    for k, lam in enumerate(lams):
        gap, null = _gap(A_c, yc, s, res.coefs[:, k], lam, 0.0)
        assert gap <= tol * null * (1.0 + 1e-6) + 1e-15 * null, (k, gap / null)
    return decisions, outcomes


@pytest.mark.parametrize("seed", range(2))
def test_newton_is_declined_on_a_wide_sparse_path_which_stays_certified(seed, monkeypatch):
    """CD stalls on a large support of a sparse X with few entries a column: Newton's Cholesky
    work is thousands of CD epochs there, the rule declines it, CD alone certifies every lam."""
    X, y, s = _sparse_wide(seed)
    decisions, outcomes = _spied_path(monkeypatch, X, y, s, 1e-8)
    assert decisions and not any(decisions)
    assert outcomes == []


@pytest.mark.parametrize("seed", range(2))
def test_newton_is_taken_on_a_correlated_dense_path_which_stays_certified(seed, monkeypatch):
    """CD stalls on an ill-conditioned support of a dense X: Newton is cheap against CD epochs
    over n rows, the rule takes it and it converges; every lam is certified."""
    X, y, s, Xd = _dense_correlated(seed)
    decisions, outcomes = _spied_path(monkeypatch, Xd, y, s, 1e-8)
    assert any(decisions)
    assert any(out is not None and out.converged for out in outcomes)


def test_newton_is_taken_once_cd_spent_what_it_would_cost(monkeypatch):
    """Rent or buy: on a path whose support reaches the rank (300 x 900 CSC, ~12 entries a
    column, no intercept: the last lams have ~300 non-zeros) Newton's work is ~1,000 CD epochs,
    declined at first; CD stalls again and again (it would need ~10^5 epochs at the end), and
    once it has spent that much Newton is taken and every lam is certified."""
    from test_cd_sparse import _problem as _plain_problem

    X, y = _plain_problem(1, 300, 900, 0.04, False)
    s = np.full(300, 1.0 / 300)
    asked = []
    _spied_path(monkeypatch, X, y, s, 1e-8, fit_intercept=False, asked=asked)
    assert any(not taken for _, _, taken in asked)
    bought = [(ratio, spent) for ratio, spent, taken in asked if taken]
    assert bought and all(ratio <= max(NW.NEWTON_EPOCHS, spent) for ratio, spent in bought)
    assert any(ratio > NW.NEWTON_EPOCHS for ratio, _ in bought)  # by the epochs spent


def test_epoch_work_counts_the_working_sets_entries():
    """Two operations per stored entry of the working set's columns (``n`` of each on dense X),
    counted here by scipy."""
    X, y, s = _sparse_wide(0)
    ws = np.array([0, 7, 400, 1499], dtype=np.int64)
    P_sparse = _problem_of(X, y, s)
    assert NW.epoch_work(P_sparse, ws) == 2.0 * X[:, ws].nnz
    _, y2, s2, Xd = _dense_correlated(0)
    assert NW.epoch_work(_problem_of(Xd, y2, s2), ws) == 2.0 * Xd.shape[0] * ws.size


def test_the_capacity_clause_is_the_gram_caches(monkeypatch):
    """A support the Gram cache cannot hold is declined whatever the work (Newton could not
    finish it), and that capacity is the cache's own."""
    _, y, s, Xd = _dense_correlated(0)
    P = _problem_of(Xd, y, s)
    assert NW.gram_capacity(P.D.n, P.D.p) == GramCache(P.D, P.s, True, P.xbar).cap
    start = np.zeros(P.D.p)
    start[:30] = 1.0
    ws = np.arange(P.D.p, dtype=np.int64)
    assert NW.newton_pays(P, start, 40, ws)  # cheap: 30^3 / 3 against epochs of n * p
    monkeypatch.setattr(NW, "gram_capacity", lambda n, p: 39)
    assert not NW.newton_pays(P, start, 40, ws)
    assert NW.newton_pays(P, start, 39, ws)


def _problem_of(X, y, s):
    """The :class:`~regulab.solvers.exact.squared.SquaredProblem` of a weighted L1 fit with an
    intercept, as the path's solver makes it (only its design and weights are read here)."""
    return _SquaredSolver(as_design(X), y, s, True, True).base
