"""regulab app without a browser: callbacks give the library's numbers, figures are valid plotly,
requests with a foreign Host are refused, uploads are capped and never rendered as HTML."""

import base64
import importlib.util
import io
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dash", reason="the app extra is not installed: pip install 'regulab[app]'")
pytest.importorskip("plotly", reason="the app extra is not installed: pip install 'regulab[app]'")

import plotly.graph_objects as go  # noqa: E402

from regulab.app import figures as F  # noqa: E402
from regulab.app import state as st  # noqa: E402
from regulab.app import uploads as up  # noqa: E402
from regulab.app.server import (  # noqa: E402
    allowed_hosts,
    create_app,
    exposure_warning,
    host_name,
    is_loopback,
)
from regulab.app.views import geometry as geo  # noqa: E402
from regulab.app.views import gradient as gd  # noqa: E402
from regulab.app.views import neural_net as nn  # noqa: E402
from regulab.app.views import one_weight as ow  # noqa: E402
from regulab.app.views import your_data as yd  # noqa: E402
from regulab.app.widgets import clamp, figure_parts  # noqa: E402
from regulab.core.onedim import lam_threshold, make_one_weight_data, w_l1, w_l2  # noqa: E402
from regulab.core.penalties import KINDS  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None


def valid(fig):
    """A figure dict that plotly's own validators accept."""
    go.Figure(fig)
    return fig


@pytest.fixture(scope="module")
def app():
    return create_app(max_upload_bytes=50_000)


@pytest.fixture()
def client(app):
    return app.server.test_client()


def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def small_csv(header, n=60, seed=0) -> str:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(header) - 1))
    y = X @ np.linspace(1, 0.2, X.shape[1]) + 0.3 * rng.standard_normal(n)
    buf = io.StringIO()
    buf.write(",".join('"' + h.replace('"', '""') + '"' for h in header) + "\n")
    for row, t in zip(X, y):
        buf.write(",".join(f"{v:.6f}" for v in row) + f",{t:.6f}\n")
    return buf.getvalue()


# ----------------------------------------------------------------------------- one weight

@pytest.mark.parametrize("lam, w_true, spread", [(0.5, 0.5, 1.0), (0.2, 0.5, 1.0),
                                                 (1.3, -0.75, 1.5), (0.0, 1.0, 0.2)])
def test_one_weight_readout_is_the_closed_form(lam, w_true, spread):
    out = ow.update_one_weight(lam, w_true, spread)
    d = make_one_weight_data(100, w_true, spread, 0.0, 0)
    e1, e2, es = w_l1(d.a, d.w_hat, lam), w_l2(d.a, d.w_hat, lam), lam_threshold(d.a, d.w_hat)
    assert out[0] == ("0 (exactly)" if e1 == 0.0 else f"{e1:.4f}")
    assert out[2] == f"{e2:.4f}"
    assert out[4] == f"{es:.4f}"
    snapped = lam >= es
    assert ("snapped to exactly 0" in out[6]) == snapped
    assert ("status-zero" in out[7]) == snapped
    for fig in out[8:10]:
        valid(fig)


def test_one_weight_snap_is_at_lam_star():
    d = make_one_weight_data(100, 0.5, 1.0, 0.0, 0)
    star = lam_threshold(d.a, d.w_hat)           # 0.3768: between slider steps 0.37 and 0.38
    below, above = ow.update_one_weight(0.37, 0.5, 1.0), ow.update_one_weight(0.38, 0.5, 1.0)
    assert 0.37 < star < 0.38
    assert below[0] != "0 (exactly)" and above[0] == "0 (exactly)"
    r = ow.one_weight_result(0.38, 0.5, 1.0)
    assert r["w_l1"] == 0.0 and r["reg_l1_at_min"] == pytest.approx(min(r["reg_l1"]), abs=1e-12)


def test_slider_values_are_clamped():
    lam, step = ow.SLIDERS["ow-lam"], gd.SLIDERS["gd-step"]
    assert clamp(lam, 99) == lam["max"]
    assert clamp(lam, -3) == 0.0
    assert clamp(lam, "abc") == lam["value"]
    assert clamp(lam, float("nan")) == lam["value"]
    assert clamp(step, 0.0) == step["min"]
    assert ow.update_one_weight(1e9, 0.5, 1.0)[4] == ow.update_one_weight(2.0, 0.5, 1.0)[4]


# ----------------------------------------------------------------------------- gradient descent

def test_gd_runs_the_library_solvers():
    from regulab.core.penalties import L1, L2
    from regulab.solvers import gradient_descent, ista

    d = make_one_weight_data(100, 0.5, 1.0, 0.0, 0)
    r = gd.gd_result("ista", 0.5, 0.1)
    ref = ista(d.X, d.y, penalty=L1(0.5), step=0.1, max_iter=gd.GD["n_iter"], tol=0.0, w0=[1.0])
    assert r["w"] == ref.trace.w[:, 0].tolist()
    first = r["w"].index(0.0)
    assert first == 26 and all(w == 0.0 for w in r["w"][first:])   # the claim's numbers
    readout, f1, f2 = gd.update_gd_figures(gd.GD["n_iter"], "ista", 0.5, 0.1)
    assert readout[2].startswith("yes") and readout[4] == "0 (exactly)"
    assert "iteration 26" in readout[5]
    valid(f1), valid(f2)

    r2 = gd.gd_result("l2", 0.5, 0.1)
    ref2 = gradient_descent(d.X, d.y, penalty=L2(0.5), step=0.1, max_iter=gd.GD["n_iter"],
                            tol=0.0, w0=[1.0])
    assert r2["w"] == ref2.trace.w[:, 0].tolist()
    readout2 = gd.update_gd_figures(5, "l2", 0.5, 0.1)[0]
    assert readout2[4] == f"{w_l2(d.a, d.w_hat, 0.5):.4f}" and readout2[0] == "5 / 200"
    sub = gd.update_gd_figures(gd.GD["n_iter"], "subgradient", 0.5, 0.1)[0]
    assert sub[2] == "no" and "crossings of 0" in sub[5]


def test_gd_divergence_is_reported_not_raised():
    readout, f1, _ = gd.update_gd_figures(10, "l2", 1.5, 1.0)
    assert gd.gd_result("l2", 1.5, 1.0)["error"] and readout[5].startswith("diverged")
    assert "too large" in readout[5]
    valid(f1)


def test_gd_clock():
    n = gd.GD["n_iter"]
    assert gd.gd_next_k("gd-reset", 57, True) == (0, True, "Play")
    assert gd.gd_next_k("gd-next", 3, False) == (4, True, "Play")
    assert gd.gd_next_k("gd-play", 3, False) == (3, False, "Pause")
    assert gd.gd_next_k("gd-play", 3, True) == (3, True, "Play")
    assert gd.gd_next_k("gd-play", n, False) == (0, False, "Pause")   # replay from the start
    assert gd.gd_next_k("gd-timer", n - 1, True) == (n, True, "Play")  # stops at the end


# ----------------------------------------------------------------------------- geometry

def test_geometry_readout_is_the_exact_constrained_optimum():
    from regulab.core.geometry import l1_constrained, l2_constrained, make_2d_problem

    out = geo.update_geometry(1.6, 0.6, 0.5, 0.8)
    _, _, H, b = make_2d_problem(np.random.default_rng(0), (1.6, 0.6), 0.5, 100, 0.5)
    w1, lam1 = l1_constrained(H, b, 0.8)
    w2, lam2 = l2_constrained(H, b, 0.8)
    assert out[0] == "(" + ", ".join(F.fmt_w(v) for v in w1) + ")"
    assert w1[1] == 0.0 and out[1] == "w₂ exactly 0" and out[2] == "zero"
    assert out[3] == "(" + ", ".join(F.fmt_w(v) for v in w2) + ")"
    assert out[4] == "no coordinate is 0"
    assert out[6] == f"{lam1:.4f}" and out[7] == f"{lam2:.4f}"
    assert out[8] == f"{H[0, 1]:.3f}"
    valid(out[9])
    inside = geo.update_geometry(0.3, 0.2, 0.0, 2.0)     # budget not binding
    assert "not binding" in inside[1]


# ----------------------------------------------------------------------------- your data

def test_data_path_is_cached_and_matches_fit_cv(monkeypatch):
    import regulab.selection.cv
    from regulab.commands.common import grid_for
    from regulab.data.datasets import load_builtin
    from regulab.data.prepare import prepare

    state = st.LabState()
    calls = []
    real = regulab.selection.cv.fit_cv
    monkeypatch.setattr(regulab.selection.cv, "fit_cv", lambda *a, **k: calls.append(1) or real(*a, **k))
    v = yd.path_view(state, "diabetes", "progression", "l1")
    assert yd.path_view(state, "diabetes", "progression", "l1") is v and len(calls) == 1

    df, target, _ = load_builtin("diabetes")
    prep = prepare(df, target)
    ref = real(prep.X, prep.y, loss="squared", l1_ratio=1.0, rule="1se",
               lams=grid_for(prep.X, prep.y, "squared", 1.0, yd.N_LAMS), cv=yd.FOLDS, seed=0)
    assert v["lams"][v["idx_1se"]] == pytest.approx(ref.cv.lam_1se, rel=1e-12)
    k = v["idx_1se"]
    readout, f_path, f_cv, f_coef = yd.update_data_figures(v, k)
    assert readout[1] == f"{ref.n_kept} of {prep.X.shape[1]}"
    assert readout[2] == str(int(np.sum(ref.coef == 0.0)))
    for fig in (f_path, f_cv, f_coef):
        valid(fig)
    # the CV curve and its SE band, fit_cv's, over the lams in increasing order
    lower, upper, mean = f_cv["data"][:3]
    order = np.argsort(ref.cv.lams)
    np.testing.assert_allclose(mean["y"], ref.cv.mean_error[order], rtol=1e-12)
    np.testing.assert_allclose(upper["y"], (ref.cv.mean_error + ref.cv.se_error)[order],
                               rtol=1e-12)
    np.testing.assert_allclose(lower["y"], (ref.cv.mean_error - ref.cv.se_error)[order],
                               rtol=1e-12)
    assert mean["x"] == lower["x"] == upper["x"] == v["lams"] and upper["fill"] == "tonexty"
    assert f_cv["data"][3]["x"] == [v["lams"][k]] == f_cv["data"][4]["x"][:1]
    # the lollipops: a dot at each solver coefficient (in the feature order), a green ring
    # exactly where it is 0, a stem from 0 to it, all inside an x range that holds the path
    stems, dots = f_coef["data"]
    np.testing.assert_allclose(dots["x"], ref.coef, rtol=1e-9, atol=1e-12)
    assert dots["y"] == list(prep.feature_names)
    ring = [c == F.ZERO_COLOR for c in dots["marker"]["line"]["color"]]
    assert ring == list(ref.coef == 0.0) and sum(ring) == int(np.sum(ref.coef == 0.0)) > 0
    assert [c == "white" for c in dots["marker"]["color"]] == ring
    assert stems["x"][0::3] == [0.0] * len(ref.coef) and stems["x"][1::3] == dots["x"]
    assert stems["x"][2::3] == [None] * len(ref.coef)
    lo, hi = f_coef["layout"]["xaxis"]["range"]
    assert lo == -hi and hi >= np.abs(v["coefs"]).max() > 0
    # the slider's left end is the smallest lam
    assert v["lams"] == sorted(v["lams"])


def test_upload_is_parsed_in_memory_and_names_are_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = "<script>window.__pwned=1</script>"
    img = '<img src=x onerror="window.__pwned=2">'
    text = small_csv(["alpha", evil, img, "target"])
    state = st.LabState(max_upload_bytes=50_000)
    out = yd.handle_upload(state, {"contents": data_url(text),
                                   "filename": "../../etc/passwd.csv"}, [])
    options, key, msg, cls = out
    assert cls == "msg msg-ok" and key.startswith("upload:") and "60 rows" in msg
    assert options[-1]["label"] == "passwd.csv (uploaded)"
    assert list(tmp_path.iterdir()) == []              # nothing written where we are
    tgt_options, target = yd.target_choices(state, key)
    assert target == "target" and {"label": evil, "value": evil} in tgt_options  # Dash: text
    v = yd.path_view(state, key, "target", "l1")
    assert evil in v["names"]
    fig = yd.update_data_figures(v, v["idx_min"])[3]
    shown = [str(y) for t in fig["data"] for y in t["y"]]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown
    assert not any("<script" in s or "<img" in s for s in shown)
    path_fig = yd.update_data_figures(v, 0)[1]
    assert not any("<" in str(t.get("name", "")) for t in path_fig["data"])


def test_upload_cap_refuses_before_decoding():
    state = st.LabState(max_upload_bytes=1000)
    big = "data:text/csv;base64," + "A" * 4000            # ~3000 bytes: refused undecoded
    options, value, msg, cls = yd.handle_upload(state, {"contents": big, "filename": "b.csv"},
                                                [])
    assert options is None and value is None and cls == "msg msg-error"
    assert "over the" in msg and "limit" in msg and "refused" in msg
    refused = yd.handle_upload(state, {"refused": True, "size": 5000, "filename": "c.csv"}, [])
    assert "refused" in refused[2]
    with pytest.raises(up.UploadRefused):
        up.decode_upload("data:text/csv;base64,@@@@", "x.csv", 1000)
    with pytest.raises(up.UploadRefused):
        up.decode_upload("not a data url", "x.csv", 1000)
    assert "1000" in up.upload_gate_js(1000)


def test_bad_upload_gives_one_line_naming_the_file():
    state = st.LabState()
    out = yd.handle_upload(state, {"contents": data_url("a,b\n1,2,3\n"), "filename": "bad.csv"},
                           [])
    assert out[3] == "msg msg-error" and "bad.csv" in out[2] and "/tmp" not in out[2]
    assert "\n" not in out[2]


# ----------------------------------------------------------------------------- server

def test_host_header_is_checked(client):
    assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8050"}).status_code == 200
    r = client.get("/", headers={"Host": "evil.example:8050"})
    assert r.status_code == 403 and b"refused" in r.data
    assert client.get("/_dash-layout", headers={"Host": "attacker.test"}).status_code == 403
    assert client.get("/", headers={"Host": "bad host"}).status_code == 400
    assert client.get("/", headers={"Host": ""}).status_code == 400


def test_cross_origin_post_is_refused(client):
    r = client.post("/_dash-update-component", json={}, headers={"Origin": "http://evil.test"})
    assert r.status_code == 403


def test_security_headers_and_no_debug(app, client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert not app.server.debug
    assert not app._dev_tools.get("hot_reload") and not app._dev_tools.get("ui")
    assert b'"reloadHash":null' in client.get("/_reload-hash").data.replace(b" ", b"")


def test_request_body_is_capped(app, client):
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    assert limit < 50_000 * 2 + 2**20 + 1
    r = client.post("/_dash-update-component", data=b"x" * (limit + 1),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_host_helpers():
    assert host_name("LocalHost:80") == "localhost"
    assert host_name("[::1]:8050") == "::1"
    assert host_name("a b") is None and host_name("x:y") is None and host_name(None) is None
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert "10.1.2.3" in allowed_hosts("10.1.2.3") and "evil.test" not in allowed_hosts("0.0.0.0")
    assert exposure_warning("127.0.0.1") is None and "0.0.0.0" in exposure_warning("0.0.0.0")


def test_layout_has_every_view(app):
    layout = app.layout() if callable(app.layout) else app.layout
    text = str(layout)
    for cid in ("ow-lam", "gd-lam", "geo-t", "data-upload", "data-lam"):
        assert cid in text
    assert ("nn-lam" in text) == HAS_TORCH
    no_nn = create_app(nn=False)
    assert "needs PyTorch" in str(no_nn.layout())


class _FakeServer:
    port = 8765

    def serve_forever(self):
        pass

    def server_close(self):
        pass


def run_cli(args, capsys):
    from regulab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_cli_warns_for_a_non_loopback_host(monkeypatch, capsys):
    from regulab.app import server

    seen = []
    monkeypatch.setattr(server, "make_server", lambda h, p, a: seen.append((h, p)) or
                        _FakeServer())
    code, out, err = run_cli(["app", "--host", "0.0.0.0", "--port", "0"], capsys)
    assert code == 0 and seen == [("0.0.0.0", 0)]
    assert "warning" in err and "0.0.0.0" in err and "trust" in err
    assert "http://127.0.0.1:8765/" in out
    code, out, err = run_cli(["app", "--port", "9"], capsys)
    assert code == 0 and err == "" and seen[-1] == ("127.0.0.1", 9)


def test_cli_bad_port_is_one_line(capsys):
    code, _, err = run_cli(["app", "--port", "70000"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--port" in err


def test_cli_port_in_use_is_one_line(capsys):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        code, _, err = run_cli(["app", "--port", str(sock.getsockname()[1])], capsys)
    finally:
        sock.close()
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot serve" in err


# ----------------------------------------------------------------------------- neural net

@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_nn_trains_and_keeps_training_when_lam_changes():
    import time

    state = st.LabState()
    sid = st.new_session_id()
    assert nn.update_nn(state, sid, None, "l1-prox", 1.0) == ("idle", None)  # no torch yet
    status, (running, label, readout, hist, history) = nn.update_nn(state, sid, "nn-lam",
                                                                    "l1-prox", 1.0)
    assert status == "ok" and not running and label == "Start training" and readout[0] == "0"
    assert float(readout[1]) == pytest.approx(1.0 / 1200, rel=1e-3)    # Nielsen: lam / n
    run = state.nn.get(sid)
    run.step()
    run.step()                                        # two epochs, in this thread
    out = nn.update_nn(state, sid, "nn-timer", "l1-prox", 1.0)[1]
    assert out[2][0] == "2"
    valid(out[3]), valid(out[4])
    out = nn.update_nn(state, sid, "nn-lam", "l1-prox", 3.0)[1]     # new lam: not a reset
    assert out[2][0] == "2" and float(out[2][1]) == pytest.approx(3.0 / 1200, rel=1e-3)
    run.step()
    out = nn.update_nn(state, sid, "nn-timer", "l1-prox", 3.0)[1]
    assert out[2][0] == "3" and "changed at epoch 2" in out[2][6]
    assert run.snapshot()["exact_zeros"] > 0            # the prox step makes exact zeros
    # the button starts the background thread; it trains on while lam changes
    out = nn.update_nn(state, sid, "nn-run", "l1-prox", 3.0)[1]
    assert out[0] is True and out[1] == "Pause"
    deadline = time.time() + 180
    while run.epoch < 5 and time.time() < deadline:
        run.poll()                                    # the page's timer: still looking
        time.sleep(0.05)
    nn.update_nn(state, sid, "nn-lam", "l2", 2.0)
    before = run.epoch
    while run.epoch < before + 2 and time.time() < deadline:
        run.poll()
        time.sleep(0.05)
    out = nn.update_nn(state, sid, "nn-run", "l2", 2.0)[1]          # pause
    assert out[0] is False and out[1] == "Resume training" and run.epoch >= before + 2
    assert float(out[2][2]) == pytest.approx(2.0 / 2400, rel=1e-3)   # Nielsen: lam / 2n
    out = nn.update_nn(state, sid, "nn-reset", "l2", 1.0)[1]
    assert out[2][0] == "0" and out[1] == "Start training"
    assert run.closed and not state.nn.get(sid).closed
    with pytest.raises(ValueError):
        state.nn.get("../../not-a-session")


def test_figure_builders_are_valid_plotly():
    valid(F.empty("t", "m"))
    assert F.label("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert F.label('a & "b"') == 'a &amp; "b"'
    from regulab.app.widgets import GRAPH_CONFIG

    assert GRAPH_CONFIG["showSendToCloud"] is False and GRAPH_CONFIG["plotlyServerURL"] == ""
    assert F.label("x" * 100).endswith("\u2026") and len(F.label("x" * 100)) == 48


@pytest.mark.parametrize("garbage", ["abc", None, -1e308, [1, 2], {"key": ["x", 1]}, 10**30])
def test_callbacks_survive_garbage_from_the_browser(client, garbage):
    """Every server callback answers a forged request (any value for every input) with 200 or
    204 (nothing to update), never a server error."""
    deps = client.get("/_dash-dependencies").get_json()
    served = 0
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        outs = [o.rsplit(".", 1) for o in dep["output"].strip(".").split("...")]
        body = {"output": dep["output"],
                "outputs": [{"id": i, "property": p} for i, p in outs],
                "inputs": [dict(i, value=garbage) for i in dep["inputs"]],
                "state": [dict(s, value=garbage) for s in dep["state"]],
                "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]}
        if len(outs) == 1:
            body["outputs"] = body["outputs"][0]
        r = client.post("/_dash-update-component", json=body)
        assert r.status_code in (200, 204), (dep["output"], r.status_code, r.data[:300])
        served += 1
    assert served >= 7


class FakeClock:
    """A clock the test moves by hand (what :class:`regulab.app.state.NNRun` reads)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def wait_until(condition, seconds=180.0):
    """Wait for ``condition()`` (a generous deadline; a met condition ends the wait)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.02)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_nn_training_stops_when_the_page_stops_polling():
    clock = FakeClock()
    run = st.NNRun(clock=clock)
    run.start()
    thread = run._thread
    wait_until(lambda: run.epoch >= 1)
    # polled within the grace: it trains on
    clock.now += 0.9 * st.NN["poll_grace_s"]
    run.poll()
    clock.now += 0.9 * st.NN["poll_grace_s"]
    wait_until(lambda: run.epoch >= 3)
    assert run.running and not run.idle and thread.is_alive()
    # no poll for longer than the grace: the thread ends by itself, training stops
    clock.now += 1.1 * st.NN["poll_grace_s"]
    thread.join(timeout=180)
    assert not thread.is_alive() and not run.running and run.idle
    epoch = run.epoch
    assert epoch < st.NN["max_epochs"]
    note = nn.nn_readout(run, run.snapshot())[6]
    assert note.startswith("paused: this page stopped asking")
    # Resume (the page is back): a new thread trains on from the same weights
    run.start()
    wait_until(lambda: run.epoch > epoch)
    assert run.running and not run.idle
    run.pause()
    wait_until(lambda: run._thread is None)
    assert not run.running


# ----------------------------------------------------------------------------- what travels

def apply_assignments(fig: dict, assignments) -> dict:
    """``fig`` (a deep copy) after the ``(where, value)`` assignments."""
    import copy

    fig = copy.deepcopy(fig)
    for where, value in assignments:
        obj = fig
        for key in where[:-1]:
            obj = obj[key]
        obj[where[-1]] = copy.deepcopy(value)
    return fig


def patch_assignments(patch: dict):
    """The assignments of a Dash patch as the server sends it (only ``Assign`` is expected)."""
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    out = []
    for op in patch["operations"]:
        assert op["operation"] == "Assign", op
        out.append((op["location"], op["params"]["value"]))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_lam_move_changes_only_the_lam_parts(seed):
    """Starting from the figures at any position, the assignments of a move give exactly the
    figures drawn from scratch at the new position (random tables, kinds and positions)."""
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(40, 90)), int(rng.integers(2, 9))
    X = rng.standard_normal((n, p))
    y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.5)) + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=y)
    kind = list(KINDS)[seed % len(KINDS)]
    v = yd.compute_path_view(df, "t", "y", "y", kind)
    for k0, k1 in rng.integers(0, len(v["lams"]), size=(6, 2)):
        start = yd.update_data_figures(v, k0)
        readout, *moves = yd.lam_move_updates(v, k1)
        full = yd.update_data_figures(v, k1)
        assert readout == full[0]
        for fig0, assignments, fig1 in zip(start[1:], moves, full[1:]):
            assert apply_assignments(fig0, assignments) == fig1


def test_a_lam_move_along_the_drawn_path_sends_the_read_outs_only(client):
    """Through the server: a new path sends whole figures and names them in ``data-drawn``; a
    lam move along the path drawn answers the read-outs (a few hundred bytes) and leaves the
    figures to the browser (``assets/your_data.js``); a lam move when the figures drawn are of
    another path (or none) sends whole figures again."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "data-fig-path.figure" in d["output"]
               and not d.get("clientside_function"))
    outs = [o.rsplit(".", 1) for o in dep["output"].strip(".").split("...")]
    view = {"key": ["diabetes", "progression", "l1"]}

    def post(k, changed, drawn):
        body = {"output": dep["output"], "outputs": [{"id": i, "property": p} for i, p in outs],
                "inputs": [dict(dep["inputs"][0], value=view), dict(dep["inputs"][1], value=k)],
                "state": [dict(dep["state"][0], value=drawn)], "changedPropIds": changed}
        r = client.post("/_dash-update-component", json=body)
        assert r.status_code == 200
        return r.get_data(), r.get_json()["response"]

    rng = np.random.default_rng(0)
    k0, k1 = (int(k) for k in rng.integers(0, 100, size=2))
    full_bytes, full = post(k0, ["data-view.data", "data-lam.value"], None)
    key = full["data-drawn"]["data"]
    assert isinstance(key, str) and key
    moved_bytes, moved = post(k1, ["data-lam.value"], key)
    _, ref = post(k1, ["data-view.data"], key)
    for gid in ("data-fig-path", "data-fig-cv", "data-fig-coef"):
        assert "data" in full[gid]["figure"] and "data" in ref[gid]["figure"]
        assert gid not in moved                                       # drawn by the browser
        assert full[gid]["figure"]["layout"]["uirevision"] == key
    assert "data-drawn" not in moved
    for rid in ("data-lam-value", "data-kept", "data-zeros", "data-cv", "data-rule"):
        assert moved[rid] == ref[rid]
    assert len(moved_bytes) < len(full_bytes) / 50, (len(moved_bytes), len(full_bytes))
    # the figures shown are of another path (or none yet): whole figures at k1
    for drawn in (None, key + "|another"):
        _, again = post(k1, ["data-lam.value"], drawn)
        assert all(again[g]["figure"] == ref[g]["figure"]
                   for g in ("data-fig-path", "data-fig-cv", "data-fig-coef"))
        assert again["data-drawn"]["data"] == key


def test_the_data_path_is_fit_when_its_view_opens_not_at_page_load(monkeypatch):
    """Every page load fitted diabetes' path with 5-fold CV, even on the One weight tab: now
    the fit waits for the view to be opened, and opening it again refits nothing."""
    import regulab.selection.cv as cv

    fits = []
    original = cv.fit_cv
    monkeypatch.setattr(cv, "fit_cv", lambda *a, **k: fits.append(1) or original(*a, **k))
    app = create_app()
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()

    def post(output, values, changed):
        dep = next(d for d in deps if output in d["output"] and not d.get("clientside_function"))
        outs = [o.rsplit(".", 1) for o in dep["output"].strip(".").split("...")]
        body = {"output": dep["output"], "outputs": [{"id": i, "property": p} for i, p in outs],
                "inputs": [dict(i, value=values.get(f"{i['id']}.{i['property']}"))
                           for i in dep["inputs"]],
                "state": [dict(i, value=values.get(f"{i['id']}.{i['property']}"))
                          for i in dep["state"]], "changedPropIds": changed}
        r = client.post("/_dash-update-component", json=body)
        return r.status_code, (r.get_json() or {}).get("response") if r.status_code == 200 \
            else None

    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200
    page = {"data-source.value": "diabetes", "data-target.value": None,
            "data-penalty.value": "l1", "data-family.value": "auto", "data-grouped.value": [],
            "tabs.value": ow.ID, "data-view.data": None}
    # the page's first callbacks, on the home tab: nothing is read, nothing is fitted
    assert post("data-target.options", page, [])[0] == 204
    assert post("data-view.data", page, [])[0] == 204
    assert fits == [] and not app.regulab_state.paths and not app.regulab_state.tables
    # the data view opens: its table is read, the path fitted once
    page["tabs.value"] = yd.ID
    status, out = post("data-target.options", page, ["tabs.value"])
    assert status == 200 and out["data-target"]["value"] == "progression"
    page["data-target.value"] = "progression"
    status, out = post("data-view.data", page, ["tabs.value", "data-target.value"])
    assert status == 200 and len(fits) == 1
    # away and back again: the path shown stays, the slider where it was, nothing refitted
    page["data-view.data"] = out["data-view"]["data"]
    page["data-target.options"] = [{"label": "progression", "value": "progression"}]
    assert post("data-target.options", page, ["tabs.value"])[0] == 204
    assert post("data-view.data", page, ["tabs.value"])[0] == 204
    assert len(fits) == 1


def _on_grid(rng, spec) -> float:
    return clamp(spec, spec["min"] + spec["step"] * rng.integers(
        0, round((spec["max"] - spec["min"]) / spec["step"]) + 1))


@pytest.mark.parametrize("seed", range(3))
def test_an_animation_tick_changes_only_the_k_parts(seed):
    """Gradient descent: from the figures at any iteration, a tick's assignments give the
    figures drawn from scratch at the new iteration (random methods, lams, steps)."""
    rng = np.random.default_rng(seed)
    for _ in range(4):
        method = str(rng.choice(list(gd.GD_METHODS)))
        lam, step = _on_grid(rng, gd.SLIDERS["gd-lam"]), _on_grid(rng, gd.SLIDERS["gd-step"])
        k0, k1 = (int(k) for k in rng.integers(0, gd.GD_ITERATIONS + 1, size=2))
        tick = gd.gd_tick_updates(k1, method, lam, step)
        full = gd.update_gd_figures(k1, method, lam, step)
        if tick is None:                    # diverged: the figures do not depend on k
            assert full[0][0] == "-"
            continue
        start = gd.update_gd_figures(k0, method, lam, step)
        assert tick[0] == full[0]
        for fig0, assignments, fig1 in zip(start[1:], tick[1:], full[1:]):
            assert apply_assignments(fig0, assignments) == fig1


@pytest.mark.parametrize("seed", range(3))
def test_a_budget_move_in_the_same_window_changes_only_the_t_parts(seed):
    """Geometry: a move of t that keeps the window keeps the grey contour lines, and the other
    traces, sent alone, give the figure drawn from scratch."""
    rng = np.random.default_rng(seed)
    specs = geo.SLIDERS
    for _ in range(4):
        b1, b2, rho = (_on_grid(rng, specs[s]) for s in ("geo-b1", "geo-b2", "geo-rho"))
        widest = max(abs(b1), abs(b2), specs["geo-t"]["min"])
        t0, t1 = (clamp(specs["geo-t"], t) for t in rng.uniform(specs["geo-t"]["min"], widest,
                                                                 size=2))
        assert geo.window_key(b1, b2, rho, t0) == geo.window_key(b1, b2, rho, t1)
        fig0, fig1 = (geo.update_geometry(b1, b2, rho, t)[9] for t in (t0, t1))
        assert apply_assignments(fig0, figure_parts(fig1, geo.T_PARTS)) == fig1


def test_a_budget_move_sends_a_patch_through_the_server(client):
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "geo-fig.figure" in d["output"])
    outs = [o.rsplit(".", 1) for o in dep["output"].strip(".").split("...")]

    def post(t, drawn):
        values = {"geo-b1": 1.6, "geo-b2": 0.6, "geo-rho": 0.5, "geo-t": t}
        body = {"output": dep["output"], "outputs": [{"id": i, "property": p} for i, p in outs],
                "inputs": [dict(i, value=values[i["id"]]) for i in dep["inputs"]],
                "state": [dict(dep["state"][0], value=drawn)],
                "changedPropIds": ["geo-t.value"]}
        r = client.post("/_dash-update-component", json=body)
        assert r.status_code == 200
        return r.get_json()["response"]

    first = post(0.8, None)                                    # nothing drawn: everything
    key = first["geo-drawn"]["data"]
    assert key == geo.window_key(1.6, 0.6, 0.5, 0.8)
    moved = post(0.9, key)
    assert "geo-drawn" not in moved                            # same window
    ref = geo.update_geometry(1.6, 0.6, 0.5, 0.9)[9]
    fig = apply_assignments(first["geo-fig"]["figure"],
                            patch_assignments(moved["geo-fig"]["figure"]))
    assert fig == json.loads(json.dumps(ref))
    wider = post(2.5, key)                                     # t widens the window
    assert wider["geo-drawn"]["data"] != key and "data" in wider["geo-fig"]["figure"]


@pytest.mark.parametrize("seed", range(2))
def test_an_uploaded_count_table_takes_the_family_and_groups(seed):
    """An upload goes through the same checks: auto says poisson with the CLI's words, a
    categorical column is grouped (under gaussian) and kept or dropped whole."""
    rng = np.random.default_rng(seed)
    n = 90
    x = rng.standard_normal(n)
    region = rng.choice(["n", "s", "e"], n)
    y = rng.poisson(np.exp(0.2 + 0.7 * x))
    text = "x,region,y\n" + "".join(f"{a:.6f},{r},{b}\n" for a, r, b in zip(x, region, y))
    state = st.LabState(max_upload_bytes=50_000)
    _, key, _, cls = yd.handle_upload(state, {"contents": data_url(text),
                                              "filename": "counts.csv"}, [])
    assert cls == "msg msg-ok"
    out = yd.update_fit(state, key, "y", "l1", "auto", False)
    assert "family: poisson (target 'y': count" in out[4] and out[0]["grouped_hint"]
    out = yd.update_fit(state, key, "y", "l1", "gaussian", True)
    assert out[0]["grouped_hint"] == "" and "grouped categoricals" in out[4]
    v = yd.path_view(state, *out[0]["key"])
    idx = [i for i, g in enumerate(v["groups"]) if g == "region"]
    coefs = np.array(v["coefs"])[idx]
    assert all((c == 0).all() or (c != 0).all() for c in coefs.T)
