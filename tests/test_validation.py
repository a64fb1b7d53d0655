"""The one validation module: every check, good and bad values, and an error that names the
parameter as the caller knows it (library argument, command-line flag, estimator parameter)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from regulab.commands import common
from regulab.core.validation import (
    InvalidValue,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_nonneg,
    check_positive,
    check_real,
    interval,
    issparse,
    parse_number,
)

NAN, INF = float("nan"), float("inf")
#: values no number check accepts: bools, non-finite floats, text, containers, None
NOT_NUMBERS = [True, False, np.bool_(True), NAN, INF, -INF, np.float64(NAN), "1", "x", None,
               [1.0], np.array(1.0), 1 + 0j]

# validator -> (call with a value and a name, [(good value, what it returns)], [bad values])
VALIDATORS = {
    "check_real": (lambda v, n: check_real(v, n, low=-1.0, high=2.0, high_open=True),
                   [(-1, -1.0), (0, 0.0), (1.999, 1.999), (np.float32(0.5), 0.5),
                    (np.int8(1), 1.0)],
                   [-1.0001, 2.0, 5, *NOT_NUMBERS]),
    "check_nonneg": (check_nonneg,
                     [(0, 0.0), (0.0, 0.0), (3, 3.0), (1e300, 1e300), (np.float64(2.5), 2.5),
                      (np.int64(7), 7.0)],
                     [-1e-300, -1, np.float32(-0.5), *NOT_NUMBERS]),
    "check_positive": (check_positive,
                       [(1e-300, 1e-300), (2, 2.0), (np.float16(0.5), 0.5)],
                       [0, 0.0, -0.0, -3, *NOT_NUMBERS]),
    "check_fraction": (check_fraction,
                       [(0, 0.0), (1, 1.0), (0.25, 0.25), (np.float32(0.75), 0.75)],
                       [-0.1, 1.0000001, 2, *NOT_NUMBERS]),
    "check_int": (lambda v, n: check_int(v, n, 2),
                  [(2, 2), (10**20, 10**20), (np.int32(5), 5), (np.uint8(3), 3)],
                  [1, -5, np.int64(0), 2.0, 3.5, np.float64(4.0), *NOT_NUMBERS]),
    "check_choice": (lambda v, n: check_choice(v, ("min", "1se"), n),
                     [("min", "min"), ("1se", "1se"), (np.str_("min"), "min")],
                     ["max", "1SE", "", " min", 1, None, True, NAN, ["min"]]),
    "check_bool": (check_bool,
                   [(True, True), (False, False), (np.bool_(False), False)],
                   [0, 1, 1.0, "True", "yes", None, NAN, np.int64(1)]),
}

#: a parameter as three callers know it
NAMES = ["l1_ratio", "--l1-ratio", "RegulabRegressor: l1_ratio"]

GOOD = [pytest.param(v, value, expected, id=f"{v}-ok-{value!r}")
        for v, (_, good, _) in VALIDATORS.items() for value, expected in good]
BAD = [pytest.param(v, value, name, id=f"{v}-bad-{value!r}-{name}")
       for v, (_, _, bad) in VALIDATORS.items() for value in bad for name in NAMES]


@pytest.mark.parametrize("validator, value, expected", GOOD)
def test_validators_accept_and_convert(validator, value, expected):
    check = VALIDATORS[validator][0]
    out = check(value, "p")
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize("validator, value, name", BAD)
def test_validators_refuse_naming_the_parameter(validator, value, name):
    check = VALIDATORS[validator][0]
    with pytest.raises(InvalidValue) as info:
        check(value, name)
    err = info.value
    assert isinstance(err, ValueError) and err.name == name
    msg = str(err)
    assert msg.startswith(f"{name} must ") and ", got " in msg and "\n" not in msg
    assert "np." not in msg.split(", got ")[-1]  # NumPy scalars are shown as numbers


def test_messages_state_the_rule():
    with pytest.raises(InvalidValue, match=r"^lam must lie in \[0, inf\), got -1\.0$"):
        check_nonneg(np.float64(-1.0), "lam")
    with pytest.raises(InvalidValue, match=r"^eps must lie in \(0, 1\), got 1$"):
        check_real(1, "eps", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(InvalidValue, match=r"^--cv must be an integer >= 2, got 1$"):
        check_int(1, "--cv", 2)
    with pytest.raises(InvalidValue, match=r"^k must be an integer in \[1, 3\], got 4$"):
        check_int(4, "k", 1, 3)
    with pytest.raises(InvalidValue, match=r"^rule must be one of 'min', '1se', got 'max'$"):
        check_choice("max", ("min", "1se"), "rule")
    with pytest.raises(InvalidValue, match=r"^x must be a finite real number, got nan$"):
        check_real(math.nan, "x")
    long = "y" * 500
    with pytest.raises(InvalidValue) as info:
        check_choice(long, ("a",), "--task")
    assert len(str(info.value)) < 120  # long text is cut in the message
    assert interval(None, 2.0, high_open=True) == "(-inf, 2)"


@pytest.mark.parametrize("text, value", [("2.5", 2.5), ("-1", -1.0), ("1e-3", 1e-3),
                                         ("x", "x"), (3, 3), (None, None)])
def test_parse_number_turns_numeric_text_into_floats(text, value):
    assert parse_number(text) == value


# -- the command line: the same checks, the flag in the message, an OptionError ----------------


@pytest.mark.parametrize("call, flag", [
    (lambda: common.check_float(-1.0, "--lam", 0.0), "--lam"),
    (lambda: common.check_float(NAN, "--lam", 0.0), "--lam"),
    (lambda: common.check_float(0.0, "--step", 0.0, low_open=True), "--step"),
    (lambda: common.check_float(1.5, "--l1-ratio", 0.0, 1.0), "--l1-ratio"),
    (lambda: common.check_int(0, "--n-lams", 3), "--n-lams"),
    (lambda: common.check_int(True, "--seed", 0), "--seed"),
    (lambda: common.check_choice("maybe", ("auto", "binary"), "--task"), "--task"),
    (lambda: common.penalty_ratio("lasso", None), "--penalty"),
    (lambda: common.penalty_ratio("l1", 0.5), "--l1-ratio"),
    (lambda: common.penalty_ratio("elasticnet", 2.0), "--l1-ratio"),
])
def test_cli_checks_raise_option_errors_naming_the_flag(call, flag):
    with pytest.raises(common.OptionError) as info:
        call()
    assert str(info.value).startswith(f"{flag} ")


def test_cli_checks_return_the_value():
    assert common.check_float(0.5, "--lam", 0.0) == 0.5
    assert common.check_int(np.int64(4), "--cv", 2) == 4
    assert common.check_choice("1se", common.RULES, "--rule") == "1se"
    assert common.penalty_ratio("elasticnet", None) == 0.5


def test_issparse_agrees_with_scipy_and_imports_nothing():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from scipy import sparse

    dense = np.arange(6.0).reshape(2, 3)
    for x in [dense, dense.tolist(), 3.0, None, np.matrix(dense)]:
        assert issparse(x) is False == sparse.issparse(x)
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        for x in (sparse.csr_matrix(dense).asformat(fmt), sparse.csr_array(dense).asformat(fmt)):
            assert issparse(x) is True == sparse.issparse(x), fmt
    # in a fresh process, asking does not import scipy.sparse (a dense fit never needs it)
    code = ("import sys, numpy as np; from regulab.core.validation import issparse; "
            "print(issparse(np.ones((2, 2))), 'scipy.sparse' in sys.modules)")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
