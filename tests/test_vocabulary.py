"""One penalty vocabulary: the library takes a kind name wherever it takes an ``l1_ratio``, and a
kind added to the table (:data:`regulab.core.penalties.KINDS`) is accepted by every face."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regulab.cli import main
from regulab.commands.common import penalty_ratio
from regulab.core.penalties import KINDS, PenaltyKind, penalty_label
from regulab.core.validation import InvalidValue
from regulab.estimators import RegulabClassifierCV, RegulabRegressor
from regulab.selection.cv import cross_validate_path, fit_cv
from regulab.selection.path import regularization_path
from regulab.selection.stability import stability_selection


def _data(seed=0, n=60, p=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.standard_normal(n)
    return X, y


# -- a kind name instead of an l1_ratio -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_path_takes_a_kind_name(kind):
    X, y = _data()
    rho = KINDS[kind].share()
    by_name = regularization_path(X, y, penalty=kind, n_lams=6)
    by_ratio = regularization_path(X, y, l1_ratio=rho, n_lams=6)
    assert by_name.l1_ratio == rho
    np.testing.assert_array_equal(by_name.lams, by_ratio.lams)
    np.testing.assert_array_equal(by_name.coefs, by_ratio.coefs)


def test_cv_and_fit_cv_take_a_kind_name():
    X, y = _data(1)
    a = cross_validate_path(X, y, penalty="l2", n_lams=5, cv=3)
    b = cross_validate_path(X, y, l1_ratio=0.0, n_lams=5, cv=3)
    np.testing.assert_array_equal(a.mean_error, b.mean_error)
    c = fit_cv(X, y, penalty="elasticnet", l1_ratio=0.3, n_lams=5, cv=3, rule="1se")
    d = fit_cv(X, y, l1_ratio=0.3, n_lams=5, cv=3, rule="1se")
    assert c.lam == d.lam and c.path.l1_ratio == 0.3
    np.testing.assert_array_equal(c.coef, d.coef)
    # neither given: L1, as before
    assert regularization_path(X, y, n_lams=3).l1_ratio == 1.0


@pytest.mark.parametrize("fn", [regularization_path, cross_validate_path, fit_cv,
                                stability_selection])
def test_a_kind_and_a_disagreeing_l1_ratio_raise(fn):
    X, y = _data(2)
    with pytest.raises(InvalidValue, match="l1_ratio 0.5 disagrees with penalty 'l1'"):
        fn(X, y, penalty="l1", l1_ratio=0.5)
    with pytest.raises(InvalidValue, match="penalty must be one of 'l1', 'l2', 'elasticnet'"):
        fn(X, y, penalty="lasso")


def test_stability_selection_refuses_the_l2_kind():
    X, y = _data(3)
    with pytest.raises(ValueError, match="L1 part"):
        stability_selection(X, y, penalty="l2")


def test_estimators_refuse_a_disagreeing_l1_ratio():
    X, y = _data(4)
    with pytest.raises(InvalidValue, match="RegulabRegressor: l1_ratio 0.3 disagrees"):
        RegulabRegressor(penalty="l1", l1_ratio=0.3).fit(X, y)
    with pytest.raises(InvalidValue, match="RegulabRegressor: l1_ratio .*penalty=None"):
        RegulabRegressor(penalty=None, l1_ratio=0.3).fit(X, y)
    agreed = RegulabRegressor(penalty="l2", l1_ratio=0.0, lam=0.1).fit(X, y)
    np.testing.assert_array_equal(agreed.coef_, RegulabRegressor(penalty="l2", lam=0.1)
                                  .fit(X, y).coef_)


# -- a new kind is one entry ------------------------------------------------------------------------


@pytest.fixture
def new_kind(monkeypatch):
    """A kind added to the table for the length of one test: L1 share 0.8."""
    kind = PenaltyKind("l1heavy", 0.8, "mostly L1", "mostly L1", "L1+")
    monkeypatch.setitem(KINDS, kind.name, kind)
    return kind


def test_a_new_kind_is_accepted_by_the_estimators(new_kind):
    X, y = _data(5)
    ours = RegulabRegressor(penalty="l1heavy", lam=0.05).fit(X, y)
    same = RegulabRegressor(penalty="elasticnet", l1_ratio=0.8, lam=0.05).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, same.coef_)
    cv = RegulabClassifierCV(penalty="l1heavy", n_lams=4, cv=3).fit(X, (y > 0).astype(int))
    assert cv.path_.lams.size == 4
    with pytest.raises(InvalidValue, match="'elasticnet', 'l1heavy', None, got 'nope'"):
        RegulabRegressor(penalty="nope").fit(X, y)
    with pytest.raises(InvalidValue, match="disagrees with penalty 'l1heavy'"):
        RegulabRegressor(penalty="l1heavy", l1_ratio=0.5).fit(X, y)
    assert regularization_path(X, y, penalty="l1heavy", n_lams=3).l1_ratio == 0.8


def test_a_new_kind_is_accepted_by_the_command_line(new_kind, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert penalty_ratio("l1heavy", None) == 0.8
    with pytest.raises(SystemExit) as exc:
        main(["path", "diabetes", "--penalty", "l1heavy", "--n-lams", "5", "--cv", "3",
              "--json"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    doc = json.loads(out)
    assert doc["penalty"] == "l1heavy" and doc["l1_ratio"] == 0.8
    assert penalty_label("l1heavy") == "mostly L1"
    with pytest.raises(SystemExit) as exc:
        main(["path", "diabetes", "--penalty", "l3"])
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    assert "--penalty must be one of 'l1', 'l2', 'elasticnet', 'l1heavy', got 'l3'" in err
