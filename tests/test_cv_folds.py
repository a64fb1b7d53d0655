"""One fold assignment: selection.cv.make_folds is what cross_validate_path fits and what
commands.common.cv_folds rebuilds (for out-of-fold predictions), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold

from regulab.commands.common import cv_folds, fit_with_cv, out_of_fold
from regulab.selection.cv import cross_validate_path, make_folds


def same_folds(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(tr1, tr2) and np.array_equal(te1, te2)
                                    for (tr1, te1), (tr2, te2) in zip(a, b))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((61, 6))
    y = X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(61)
    labels = (y > 0.4).astype(float)           # unbalanced classes: stratification matters
    return X, y, labels


@pytest.mark.parametrize("loss, splitter", [("squared", RepeatedKFold),
                                            ("logistic", RepeatedStratifiedKFold)])
@pytest.mark.parametrize("folds, seed, repeats", [(5, 0, 1), (3, 7, 1), (4, 2, 3)])
def test_cv_folds_are_scikit_learns_repeated_kfold(data, loss, splitter, folds, seed, repeats):
    _, y, labels = data
    target = y if loss == "squared" else labels
    oracle = list(splitter(n_splits=folds, n_repeats=repeats, random_state=seed)
                  .split(np.zeros((61, 1)), target))
    assert same_folds(cv_folds(61, target, loss, folds, seed, repeats), oracle)
    got, n_splits = make_folds(folds, 61, repeats, seed, loss, target)
    assert same_folds(got, oracle) and n_splits == folds


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_cv_with_the_rebuilt_folds_is_the_same_cv(data, loss):
    """Passing cv_folds' pairs explicitly gives the very numbers of cv=K."""
    X, y, labels = data
    target = y if loss == "squared" else labels
    lams = np.geomspace(0.5, 0.005, 6)
    by_count = cross_validate_path(X, target, loss=loss, lams=lams, cv=4, seed=3)
    by_pairs = cross_validate_path(X, target, loss=loss, lams=lams,
                                   cv=cv_folds(61, target, loss, 4, 3), seed=99)
    assert np.array_equal(by_count.fold_errors, by_pairs.fold_errors)
    assert np.array_equal(by_count.fold_coefs, by_pairs.fold_coefs)


def test_out_of_fold_predictions_use_the_cv_folds(data):
    X, y, _ = data
    fit = fit_with_cv(X, y, loss="squared", rho=1.0, folds=4, rule="min", n_lams=8, seed=5)
    z = out_of_fold(X, y, fit)
    assert z is not None
    oracle = list(RepeatedKFold(n_splits=4, n_repeats=1, random_state=5)
                  .split(np.zeros((61, 1)), y))
    k = fit.index
    for f, (_, test) in enumerate(oracle):
        by_hand = X[test] @ fit.cv.fold_coefs[f][:, k] + fit.cv.fold_intercepts[f, k]
        assert np.array_equal(z[test], by_hand)


def test_make_folds_other_forms_and_refusals(data):
    _, y, _ = data
    kf = KFold(3)
    got, n_splits = make_folds(kf, 61, 1, 0, "squared", y)
    assert same_folds(got, list(kf.split(np.zeros((61, 1))))) and n_splits == 3
    pairs = [(np.arange(30, 61), np.arange(30)), (np.arange(30), np.arange(30, 61))]
    got, n_splits = make_folds(pairs, 61, 1, 0, "squared", y)
    assert same_folds(got, pairs) and n_splits == 2
    for bad in (1, 62, True):
        with pytest.raises(ValueError):
            make_folds(bad, 61, 1, 0, "squared", y)
    with pytest.raises(ValueError, match="cv must be a number of folds"):
        make_folds(2.5, 61, 1, 0, "squared", y)
