"""The recommendation follows its documented rules on hand-built measurements."""

import pytest

from regulab.selection.recommend import MethodSummary, recommend


def S(err, se, kept, p=50, stab=None, slope=None):
    return MethodSummary(cv_error=err, cv_se=se, n_kept=kept, n_features=p, stability=stab,
                         calibration_slope=slope)


def test_sparse_truth_picks_l1():
    rec = recommend({"l1": S(1.00, 0.05, 6, stab=0.9), "elasticnet": S(1.02, 0.05, 9, stab=0.9),
                     "l2": S(1.30, 0.06, 50)})
    assert rec.penalty == "l1"
    assert any("L2 is clearly worse" in r and "1.3" in r for r in rec.reasons)
    assert any("6 of 50" in r for r in rec.reasons)


def test_dense_truth_picks_l2():
    rec = recommend({"l1": S(1.20, 0.05, 40), "elasticnet": S(1.12, 0.05, 45),
                     "l2": S(1.00, 0.05, 50)})
    assert rec.penalty == "l2" and rec.rules == ["1-accuracy"]


def test_tie_without_selection_prefers_l2():
    rec = recommend({"l1": S(1.00, 0.05, 48, stab=0.95), "l2": S(1.01, 0.05, 50)})
    assert rec.penalty == "l2" and "4-no-selection" in rec.rules
    assert any("48 of 50" in r for r in rec.reasons)


def test_unstable_l1_prefers_elasticnet():
    rec = recommend({"l1": S(1.00, 0.05, 5, stab=0.4), "elasticnet": S(1.03, 0.05, 12, stab=0.85),
                     "l2": S(1.2, 0.05, 50)})
    assert rec.penalty == "elasticnet" and "3-unstable-l1" in rec.rules
    assert any("0.40" in r for r in rec.reasons)


def test_l1_within_one_se_beats_more_accurate_l2():
    rec = recommend({"l1": S(1.04, 0.05, 8, stab=0.8), "l2": S(1.00, 0.05, 50)})
    assert rec.penalty == "l1"


def test_calibration_warning():
    rec = recommend({"l1": S(1.0, 0.1, 5, stab=0.9, slope=0.6), "l2": S(2.0, 0.1, 50)})
    assert rec.penalty == "l1" and rec.warnings and "0.60" in rec.warnings[0]


def test_bad_keys():
    with pytest.raises(ValueError, match="l1"):
        recommend({"lasso": S(1, 0.1, 3)})
