"""The lab's pure result functions, one per view, against oracles from the library: the closed
forms of :mod:`regulab.core.onedim`, the exact constrained optima of :mod:`regulab.core.geometry`
(and their Lagrange duals), :func:`regulab.selection.cv.fit_cv`, Nielsen's lam conversions. Also
the page's routing, the state's compute-once cache and the upload cap, all without Dash."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from regulab.app import state as st
from regulab.app import uploads as up
from regulab.app.layout import route
from regulab.app.views import geometry as geo
from regulab.app.views import gradient as gd
from regulab.app.views import neural_net as nn
from regulab.app.views import one_weight as ow
from regulab.app.views import your_data as yd
from regulab.core import onedim
from regulab.core.geometry import (
    l1_constrained,
    l2_constrained,
    lasso_small,
    make_2d_problem,
    quad_loss,
)
from regulab.core.penalties import KINDS, L1, L2, penalty_label, penalty_rho

HAS_TORCH = importlib.util.find_spec("torch") is not None
SETTINGS = [(0.5, 0.5, 1.0), (0.2, 0.5, 1.0), (1.3, -0.75, 1.5), (0.0, 1.0, 0.2),
            (2.0, 0.05, 2.0), (0.7, 0.0, 1.0)]


# ----------------------------------------------------------------------------- one weight

@pytest.mark.parametrize("lam, w_true, spread", SETTINGS)
def test_one_weight_result_is_the_closed_form(lam, w_true, spread):
    r = ow.one_weight_result(lam, w_true, spread)
    d = onedim.make_one_weight_data(100, w_true, spread, 0.0, 0)
    assert (r["a"], r["w_hat"]) == (d.a, d.w_hat)
    assert r["w_l1"] == onedim.w_l1(d.a, d.w_hat, lam)
    assert r["w_l2"] == onedim.w_l2(d.a, d.w_hat, lam)
    assert r["lam_star"] == onedim.lam_threshold(d.a, d.w_hat)
    assert (r["w_l1"] == 0.0) == (lam >= r["lam_star"])
    grid = np.array(r["grid"])
    assert 0.0 in r["grid"]                              # the grid holds w = 0 exactly
    # noise-free data: MSE(w) = a (w - w_hat)^2, the parabola of the closed forms
    np.testing.assert_allclose(r["mse"], d.a * (grid - d.w_hat) ** 2, atol=1e-12)
    np.testing.assert_allclose(r["pen_l1"], lam * np.abs(grid), atol=1e-15)
    np.testing.assert_allclose(r["pen_l2"], lam * grid**2, atol=1e-15)
    np.testing.assert_allclose(r["reg_l1"], np.add(r["mse"], r["pen_l1"]), atol=0)
    # the closed forms beat every grid point, and the grid's argmin is next to them
    step = grid[1] - grid[0]
    for kind in ("l1", "l2"):
        reg = np.array(r[f"reg_{kind}"])
        assert r[f"reg_{kind}_at_min"] <= reg.min() + 1e-12
        assert abs(grid[np.argmin(reg)] - r[f"w_{kind}"]) <= step
    np.testing.assert_array_equal(r["sweep_l1"], onedim.w_l1(d.a, d.w_hat, np.array(r["lams"])))
    np.testing.assert_array_equal(r["sweep_l2"], onedim.w_l2(d.a, d.w_hat, np.array(r["lams"])))
    assert r["lams"][0] == 0.0 and r["lams"][-1] == ow.SLIDERS["ow-lam"]["max"]


# ----------------------------------------------------------------------------- gradient descent

@pytest.mark.parametrize("method, lam, step", [("ista", 0.5, 0.1), ("ista", 0.2, 0.3),
                                               ("subgradient", 0.5, 0.1), ("l2", 0.5, 0.1),
                                               ("l2", 1.2, 0.4)])
def test_gd_result_reaches_the_closed_form(method, lam, step):
    r = gd.gd_result(method, lam, step)
    d = onedim.make_one_weight_data(100, gd.GD["w_true"], 1.0, 0.0, 0)
    closed = onedim.w_l2 if method == "l2" else onedim.w_l1
    assert r["error"] is None and r["target"] == closed(d.a, d.w_hat, lam)
    w = np.array(r["w"])
    assert w[0] == gd.GD["w0"] and len(w) == gd.GD["n_iter"] + 1
    penalty = L2(lam) if method == "l2" else L1(lam)
    # the recorded objective is MSE + penalty at each iterate
    ref = onedim.mse_curve(d, w) + lam * (w**2 if method == "l2" else np.abs(w))
    np.testing.assert_allclose(r["objective"], ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r["curve"], onedim.mse_curve(d, r["grid"])
                               + ow.penalty_curve(penalty, r["grid"]), rtol=1e-12)
    assert r["target_objective"] <= min(r["curve"]) + 1e-12      # the minimum of the curve
    if method == "subgradient":
        # lam > lam*: the minimizer is 0, and the constant push lam overshoots it for ever, by
        # at most one step of the largest subgradient near 0 (lam + lam*)
        lam_star = onedim.lam_threshold(d.a, d.w_hat)
        assert r["target"] == 0.0 and not np.any(w[-50:] == 0.0)
        assert np.max(np.abs(w[-50:])) <= step * (lam + lam_star)
        assert np.max(np.abs(w[-50:])) > 0.1 * step * lam
    else:
        assert abs(w[-1] - r["target"]) < 1e-9
        if r["target"] == 0.0 and method == "ista":
            assert w[-1] == 0.0                       # prox: exactly zero, not nearly


def test_gd_result_reports_divergence_and_refuses_unknown_methods():
    r = gd.gd_result("l2", 1.5, 1.0)              # step * 2 (a + lam) > 2: runs away
    assert r["error"] and "w" not in r
    with pytest.raises(ValueError):
        gd.gd_result("newton", 0.5, 0.1)


def test_gd_clock_matches_its_javascript_twin():
    js = gd.gd_clock_js(gd.GD["n_iter"])
    assert f"n = {gd.GD['n_iter']}" in js
    for trigger in ("gd-reset", "gd-play", "gd-next", "gd-timer"):
        assert f'"{trigger}"' in js


# ----------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("b1, b2, rho, t", [(1.6, 0.6, 0.5, 0.8), (-1.0, 1.5, -0.4, 0.5),
                                           (0.3, 0.2, 0.0, 2.0), (2.0, -2.0, 0.9, 1.0)])
def test_geometry_result_is_the_exact_constrained_optimum(b1, b2, rho, t):
    r = geo.geometry_result(b1, b2, rho, t)
    _, _, H, b = make_2d_problem(np.random.default_rng(0), (b1, b2), rho, 100, 0.5)
    w1, lam1 = l1_constrained(H, b, t)
    w2, lam2 = l2_constrained(H, b, t)
    assert r["w_l1"] == w1.tolist() and r["w_l2"] == w2.tolist()
    assert (r["lam_l1"], r["lam_l2"]) == (lam1, lam2)
    np.testing.assert_allclose(r["beta_hat"], b, rtol=1e-12)
    assert r["corr"] == H[0, 1] and r["loss_l1"] == quad_loss(w1, H, b)
    # feasible, and on the boundary exactly when the multiplier is positive
    assert np.abs(w1).sum() <= t * (1 + 1e-9) and np.linalg.norm(w2) <= t * (1 + 1e-9)
    if lam1 > 0:
        assert np.abs(w1).sum() == pytest.approx(t, rel=1e-9)
    if lam2 > 0:
        assert np.linalg.norm(w2) == pytest.approx(t, rel=1e-9)
    # Lagrange duality: the penalized optima at the multipliers are the constrained ones
    np.testing.assert_allclose(lasso_small(H, b, lam1), w1, atol=1e-10)
    ridge = np.linalg.solve(H + lam2 * np.eye(2), H @ b)     # argmin quad_loss + lam ||w||^2
    np.testing.assert_allclose(ridge, w2, atol=1e-8)
    assert r["zero_l1"] == [n for n, v in zip(["w₁", "w₂"], w1) if v == 0.0]
    assert r["zero_l2"] == []
    # the contour drawn through each optimum is the loss's level set at that optimum
    for kind, level in (("l1", r["loss_l1"]), ("l2", r["loss_l2"])):
        x, y = r["contours"][kind]
        pts = np.array([(a, c) for a, c in zip(x, y) if a is not None])
        if level > 0:
            np.testing.assert_allclose(quad_loss(pts, H, b), level, rtol=0.03, atol=1e-4)
        else:
            assert pts.size == 0


def test_geometry_at_the_claim_setting_has_an_exact_zero():
    r = geo.geometry_result(1.6, 0.6, 0.5, 0.8)
    assert r["zero_l1"] == ["w₂"] and r["w_l1"][1] == 0.0 and 0.0 not in r["w_l2"]


# ----------------------------------------------------------------------------- your data

def _table(n=80, p=6, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ np.r_[2.0, -1.5, np.zeros(p - 2)] + 0.5 * rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    return df


@pytest.mark.parametrize("kind", list(KINDS))
def test_path_view_is_fit_cv_in_increasing_lam(kind):
    from regulab.data.prepare import prepare
    from regulab.selection.cv import fit_cv
    from regulab.selection.path import lam_grid

    df = _table()
    v = yd.compute_path_view(df, "mine", "y", "y", kind)
    rho = penalty_rho(kind)
    prep = prepare(df, "y", task="auto", missing="drop", standardize=True)
    ref = fit_cv(prep.X, prep.y, loss="squared", l1_ratio=rho, rule="1se", cv=yd.FOLDS, seed=0,
                 lams=lam_grid(prep.X, prep.y, loss="squared", l1_ratio=rho, n_lams=yd.N_LAMS))
    order = np.argsort(ref.cv.lams)
    assert v["lams"] == ref.cv.lams[order].tolist() == sorted(v["lams"])
    np.testing.assert_array_equal(v["coefs"], ref.path.coefs[:, order])
    np.testing.assert_array_equal(v["cv_mean"], ref.cv.mean_error[order])
    assert v["lams"][v["idx_min"]] == ref.cv.lam_min and v["lams"][v["idx_1se"]] == ref.cv.lam_1se
    assert v["nnz"] == [int(np.sum(np.array(c) != 0.0)) for c in zip(*v["coefs"])]
    assert v["penalty_name"] == penalty_label(kind, rho) and v["names"] == list(df.columns[:-1])
    # the grid starts at lam_max: with an L1 part every coefficient is 0 there, L2 keeps them all
    at_top = np.array(v["coefs"])[:, -1]
    assert (np.all(at_top == 0.0) if rho > 0 else np.all(at_top != 0.0))
    lam, kept, zeros, cv_text, _ = yd.data_readout(v, v["idx_1se"])
    assert lam == f"{ref.cv.lam_1se:.4g}" and int(zeros) == 6 - v["nnz"][v["idx_1se"]]
    assert kept == f"{v['nnz'][v['idx_1se']]} of 6"
    assert cv_text.startswith(f"{ref.cv.mean_error[ref.cv.idx_1se]:.4g} ± ")


def test_path_view_refuses_too_many_features():
    from regulab.data.errors import DataError

    with pytest.raises(DataError, match="at most 200"):
        yd.compute_path_view(_table(n=30, p=yd.MAX_FEATURES + 1), "wide", "y", "y", "l1")


def test_penalty_choices_are_the_core_vocabulary():
    assert [yd.penalty_name(k) for k in KINDS] == ["L1 (lasso)", "L2 (ridge)",
                                                   "elastic net (l1_ratio 0.5)"]


# ----------------------------------------------------------------------------- neural net

@pytest.mark.parametrize("lam", [0.0, 1.0, 3.7])
def test_nn_scale_is_nielsens_conversion(lam):
    n = nn.nn_n_train()
    assert n == 1200
    for kind in ("l1-prox", "l1-sub"):
        l1, l2 = nn.nn_scale(kind, lam, n)
        assert l1 == pytest.approx(lam / n, rel=1e-12, abs=0) and l2 == 0.0
    l1, l2 = nn.nn_scale("l2", lam, n)
    assert l1 == 0.0 and l2 == pytest.approx(lam / (2 * n), rel=1e-12, abs=0)
    assert nn.nn_scale("none", lam, n) == (0.0, 0.0)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_nn_penalty_trains_on_the_shown_scale():
    n = 1200
    assert st.nn_penalty("none", 2.0, n) == (None, None)
    assert st.nn_penalty("l2", 0.0, n) == (None, None)
    none, prox = st.nn_penalty("l1-prox", 2.0, n)
    pen, no_prox = st.nn_penalty("l1-sub", 2.0, n)
    assert none is None and no_prox is None
    for p in (prox, pen):
        assert (p.l1, p.l2) == pytest.approx(nn.nn_scale("l1-prox", 2.0, n))
    pen, _ = st.nn_penalty("l2", 2.0, n)
    assert (pen.l1, pen.l2) == pytest.approx(nn.nn_scale("l2", 2.0, n))


# ----------------------------------------------------------------------------- page, state, uploads

class _View:
    def __init__(self, id_, path):
        self.ID, self.PATH = id_, path


def test_route_keeps_tabs_and_url_in_step():
    views = [_View("a", "/"), _View("b", "/b")]
    assert route("/b", "a", "url", views) == ("b", None)        # a URL picks its tab
    assert route("/b/", "b", "url", views) == (None, None)      # already there
    assert route("/nowhere", "b", "url", views) == ("a", None)  # unknown: home
    assert route("/", "b", "tabs", views) == (None, "/b")       # a tab moves the URL
    assert route("/b", "b", "tabs", views) == (None, None)
    assert route(None, ["x"], "url", views) == ("a", None)      # forged values


def test_state_computes_once_and_stays_bounded():
    state = st.LabState(max_paths=2)
    calls = []
    for key in ("a", "a", "b", "a", "c", "b"):
        state.once(key, lambda k=key: calls.append(k) or k.upper())
    assert calls == ["a", "b", "c", "b"] and list(state.paths) == ["c", "b"]


def test_upload_cap_is_exact():
    import base64

    for size, ok in ((1000, True), (1001, False)):
        url = "data:text/csv;base64," + base64.b64encode(b"x" * size).decode()
        if ok:
            assert up.decode_upload(url, "f.csv", 1000) == b"x" * size
        else:
            with pytest.raises(up.UploadRefused, match="limit of uploads: refused"):
                up.decode_upload(url, "f.csv", 1000)
    assert up.display_name("../../etc/passwd\x00.csv") == "passwd?.csv"
    assert up.cap_text(5 * 2**20) == "5 MiB" and up.cap_text(64 * 1024) == "64 KiB"


def _count_table(seed, n=120):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    region = rng.choice(["north", "south", "east", "west"], n)
    y = rng.poisson(np.exp(0.3 + 0.6 * X[:, 0]))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["region"] = region
    df["y"] = y
    return df


@pytest.mark.parametrize("seed", range(3))
def test_path_view_poisson_is_regularization_path(seed):
    from regulab.data.prepare import prepare
    from regulab.selection.path import lam_grid, regularization_path

    df = _count_table(seed)
    v = yd.compute_path_view(df, "counts", "y", "y", "l1", family="poisson")
    prep = prepare(df, "y", task="count", missing="drop", standardize=True)
    grid = lam_grid(prep.X, prep.y, loss="poisson", l1_ratio=1.0, n_lams=yd.N_LAMS)
    ref = regularization_path(prep.X, prep.y, loss="poisson", l1_ratio=1.0, lams=grid)
    order = np.argsort(ref.lams)
    assert v["loss"] == "poisson" and v["family"] == "poisson"
    np.testing.assert_allclose(v["lams"], ref.lams[order], rtol=1e-12)
    np.testing.assert_allclose(v["coefs"], ref.coefs[:, order], atol=1e-8)
    # auto picks poisson for this count target, with the CLI's words
    auto = yd.compute_path_view(df, "counts", "y", "y", "l1")
    assert auto["family_line"].startswith("family: poisson (target 'y': count (whole numbers")
    gauss = yd.compute_path_view(df, "counts", "y", "y", "l1", family="gaussian")
    assert gauss["loss"] == "squared" and gauss["family_line"].startswith("family: gaussian")


@pytest.mark.parametrize("seed", range(3))
def test_path_view_grouped_keeps_columns_whole(seed):
    df = _count_table(seed)
    v = yd.compute_path_view(df, "t", "y", "y", "l1", family="gaussian", grouped=True)
    assert v["groups"] and v["grouped_hint"] == ""
    idx = [i for i, g in enumerate(v["groups"]) if g == "region"]
    assert len(idx) >= 2
    coefs = np.array(v["coefs"])
    for k in range(len(v["lams"])):
        zero = coefs[idx, k] == 0.0
        assert zero.all() or not zero.any()         # region kept or dropped whole
        text = yd.data_readout(v, k)[4]
        assert ("region dropped" if zero.all() else "region kept") in text
    # the largest lam drops everything, the smallest keeps region
    assert "region dropped" in yd.data_readout(v, len(v["lams"]) - 1)[4]


def test_grouped_disabled_states():
    df = _count_table(0)
    l2 = yd.compute_path_view(df, "t", "y", "y", "l2", family="gaussian", grouped=True)
    assert l2["groups"] is None and "L1 part" in l2["grouped_hint"]
    pois = yd.compute_path_view(df, "t", "y", "y", "l1", family="poisson", grouped=True)
    assert pois["groups"] is None and "poisson" in pois["grouped_hint"]
    num = yd.compute_path_view(_table(), "t", "y", "y", "l1", grouped=True)
    assert num["groups"] is None and "no categorical column" in num["grouped_hint"]
    state = st.LabState()
    out = yd.update_fit(state, "diabetes", "progression", "l2", "auto", True)
    assert "L1 part" in out[0]["grouped_hint"] and "family: gaussian" in out[4]
    assert out[0]["key"] == ["diabetes", "progression", "l2", "auto", True]
