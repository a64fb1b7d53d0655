"""The lab's rough edges (issue "Rough edges", items 11-16), through the real server: Dash's
callbacks called over HTTP (Flask's test client, or a werkzeug server on a free loopback port),
the way the browser calls them. The browser-side halves (typing into a number box, the drawn
geometry, the marks' boxes) are in ``tests/test_app_browser.py``."""

import base64
import http.client
import io
import ipaddress
import itertools
import json
import re
import shutil
import socket
import subprocess
import threading
import time

import numpy as np
import pytest

pytest.importorskip("dash", reason="the app extra is not installed: pip install 'regulab[app]'")

from regulab.app import figures as F  # noqa: E402
from regulab.app.server import create_app, make_server  # noqa: E402
from regulab.app.views import geometry as geo  # noqa: E402
from regulab.app.views import gradient as gd  # noqa: E402
from regulab.app.views import neural_net as nn  # noqa: E402
from regulab.app.views import one_weight as ow  # noqa: E402
from regulab.app.views import your_data as yd  # noqa: E402
from regulab.app.widgets import box_id  # noqa: E402

#: a negative zero as text: "-0", "-0.0000", "-0.000e+00" (and no other digit than 0)
NEG_ZERO = re.compile(r"(?<![\w.])-0(?:\.0*)?(?:e[+-]?\d+)?(?![\d.]*[1-9])")


@pytest.fixture(scope="module")
def app():
    return create_app(max_upload_bytes=5 * 2**20, nn=True)


@pytest.fixture()
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def deps(app):
    return app.server.test_client().get("/_dash-dependencies").get_json()


def _outputs(dep):
    return [o.rsplit(".", 1) for o in dep["output"].strip(".").split("...")]


def call(client, deps, output, values, changed=None):
    """POST the server callback with ``output`` (``"id.prop"``) among its outputs, its inputs and
    state taken from ``values`` (``{"id.prop": value}``, None where absent); returns
    ``{id: {prop: value}}`` of what it updated (a property it leaves alone is absent)."""
    dep = next(d for d in deps if not d.get("clientside_function")
               and output in [".".join(o) for o in _outputs(d)])
    outs = _outputs(dep)

    def filled(items):
        return [dict(i, value=values.get(f"{i['id']}.{i['property']}")) for i in items]

    body = {"output": dep["output"], "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": filled(dep["inputs"]), "state": filled(dep["state"]),
            "changedPropIds": [changed or f"{dep['inputs'][0]['id']}."
                                          f"{dep['inputs'][0]['property']}"]}
    if len(outs) == 1:
        body["outputs"] = body["outputs"][0]
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, (output, r.status_code, r.data[:300])
    return r.get_json()["response"]


def texts(response) -> list[str]:
    """Every string a callback response shows: read-outs and the figures' titles and labels."""
    out = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k not in ("x", "y", "color", "fillcolor", "uirevision"):
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(response)
    return out


def find(node, pred):
    """Components of a Dash layout (JSON) for which ``pred(props)`` holds."""
    found = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
        elif isinstance(n, dict):
            props = n.get("props", {})
            if "type" in n and pred(n["type"], props):
                found.append(n)
            stack.extend(v for v in props.values() if isinstance(v, (dict, list)))
    return found


# ----------------------------------------------------------------------------- 11: slider values

def test_every_slider_shows_its_value_in_a_box_wired_to_it(client, deps):
    """Dash's own number box is off everywhere (hidden in the 320 px panel, and its clamping of
    a typed value never reached the callbacks); each slider has its own box instead, or, for
    the data view's slider over path positions, the lam there as a read-out."""
    layout = client.get("/_dash-layout").get_json()
    sliders = find(layout, lambda t, p: t == "Slider")
    ids = {s["props"]["id"] for s in sliders}
    assert {"ow-lam", "ow-w", "ow-spread", "gd-lam", "gd-step", "geo-b1", "geo-b2", "geo-rho",
            "geo-t", "data-lam", "nn-lam"} <= ids
    boxes = {b["props"]["id"]: b["props"] for b in
             find(layout, lambda t, p: t == "Input" and p.get("type") == "number")}
    synced = {tuple(sorted(o[0] for o in _outputs(d))) for d in deps
              if d.get("clientside_function")}
    for s in sliders:
        sid = s["props"]["id"]
        assert s["props"].get("allow_direct_input") is False, sid
        if sid == "data-lam":
            assert find(layout, lambda t, p: p.get("id") == "data-lam-shown")
            continue
        spec = next(v.SLIDERS[sid] for v in (ow, gd, geo, nn) if sid in v.SLIDERS)
        assert boxes[box_id(sid)]["value"] == spec["value"] == s["props"]["value"]
        assert tuple(sorted((sid, box_id(sid)))) in synced, sid


def test_data_lam_readout_follows_the_slider(app, client, deps):
    for k in (0, 37):
        out = call(client, deps, "data-lam-shown.children",
                   {"data-view.data": {"key": ["diabetes", "progression", "l1"]},
                    "data-lam.value": k})
        v = yd.path_view(app.regulab_state, "diabetes", "progression", "l1")
        assert out["data-lam-shown"]["children"] == f"λ = {v['lams'][k]:.4g}"
        assert out["data-lam-value"]["children"] == f"{v['lams'][k]:.4g}"


# ----------------------------------------------------------------------------- 12: geometry

@pytest.mark.parametrize("b1, b2, rho, t", [(0.0, 0.6, 0.5, 0.8), (0.0, 0.0, 0.0, 0.8),
                                           (0.0, -0.4, 0.5, 0.8), (-2.0, 0.0, -0.9, 0.05),
                                           (0.05, 0.0, 0.0, 2.5)])
def test_no_negative_zero_is_shown(client, deps, b1, b2, rho, t):
    """At beta-hat = 0 an optimum of -1e-17 printed as "(-0.0000, ...)"."""
    out = call(client, deps, "geo-w-l1.children", {"geo-b1.value": b1, "geo-b2.value": b2,
                                                   "geo-rho.value": rho, "geo-t.value": t})
    shown = texts(out)
    assert out["geo-w-l1"]["children"].startswith("(")
    assert not [s for s in shown if NEG_ZERO.search(s)], [s for s in shown if NEG_ZERO.search(s)]


def test_no_negative_zero_in_the_other_views(client, deps):
    shown = []
    for w in (0.0, -0.05, 0.05):
        # one weight: the browser draws lam moves (assets/one_weight.js); its reference,
        # checked against it in tests/test_app_browser.py, and the texts the server sends
        shown += texts(list(ow.update_one_weight(0.0, w, 1.0)))
        shown += texts(call(client, deps, "ow-base.data",
                            {"ow-w.value": w, "ow-spread.value": 1.0}, "ow-w.value"))
    for method in gd.GD_METHODS:
        for k in (0, 30, 200):
            shown += texts(call(client, deps, "gd-w.children",
                                {"gd-k.data": k, "gd-method.value": method,
                                 "gd-lam.value": 1.5, "gd-step.value": 0.1}))
    assert not [s for s in shown if NEG_ZERO.search(s)]
    assert F.num(-1e-9) == "0.0000" and F.num(-1e-9, ".2e") == "-1.00e-09"
    assert F.num(-0.0, ".3g") == "0" and F.fmt_w(-0.0) == "0 (exactly)"


def test_geometry_is_square_and_its_contours_fill_the_window(client, deps):
    """After beta-hat changed, plotly's scaleanchor widened the x range instead of narrowing the
    plot: a wide rectangle, and the contours (traced over 1.3 times the window) stopped short.
    The figure now has a square plot area of its own, for every window."""
    for b1, b2 in ((1.6, 0.6), (-2.0, 0.6), (0.0, 0.6), (0.0, -0.4)):
        fig = call(client, deps, "geo-fig.figure",
                   {"geo-b1.value": b1, "geo-b2.value": b2, "geo-rho.value": 0.5,
                    "geo-t.value": 0.8})["geo-fig"]["figure"]
        lay, m = fig["layout"], fig["layout"]["margin"]
        assert lay["width"] == lay["height"] and m["l"] + m["r"] == m["t"] + m["b"]
        assert lay["xaxis"]["automargin"] is False and lay["yaxis"]["automargin"] is False
        assert "scaleanchor" not in lay["yaxis"]
        lim = lay["xaxis"]["range"][1]
        assert lay["xaxis"]["range"] == lay["yaxis"]["range"] == [-lim, lim]
        xs = [x for x in fig["data"][0]["x"] if x is not None]
        ys = [y for y in fig["data"][0]["y"] if y is not None]
        assert min(xs) < -lim and max(xs) > lim or min(ys) < -lim and max(ys) > lim
        assert max(map(abs, xs + ys)) <= 1.3 * lim + 1e-9


def test_correlation_hint_gives_the_measured_value(client, deps):
    """The hint said "measured value below" while the value was to the right (and, under
    1100 px, above): it now holds the value itself."""
    layout = client.get("/_dash-layout").get_json()
    hint = find(layout, lambda t, p: p.get("id") == "geo-rho-hint")[0]["props"]["children"]
    assert "below" not in hint and "measured" in hint
    out = call(client, deps, "geo-rho-hint.children", {"geo-b1.value": 1.6, "geo-b2.value": 0.6,
                                                       "geo-rho.value": 0.5, "geo-t.value": 0.8})
    H, _ = geo.geometry_problem(1.6, 0.6, 0.5)
    assert out["geo-rho-hint"]["children"] == f"measured on the data: {H[0, 1]:.3f}"
    assert out["geo-corr"]["children"] == f"{H[0, 1]:.3f}"


# ----------------------------------------------------------------------------- 13: gradient colours

def _rgb(color) -> str:
    """A colour as '#rrggbb' (rgba's alpha dropped)."""
    color = str(color).lower()
    if color.startswith(("rgba(", "rgb(")):
        r, g, b = (int(float(c)) for c in color[color.index("(") + 1:-1].split(",")[:3])
        return f"#{r:02x}{g:02x}{b:02x}"
    return color


def _keys(layout, gid):
    """The key under graph ``gid``: {label text: colour}."""
    panel = find(layout, lambda t, p: p.get("className", "").startswith("panel") and any(
        isinstance(c, dict) and c.get("props", {}).get("id") == gid
        for c in (p.get("children") or [])))[0]
    items = find(panel, lambda t, p: p.get("className") == "key-item")
    out = {}
    for item in items:
        sw, text = item["props"]["children"]
        style = sw["props"].get("style", {})
        color = style.get("color") or style.get("background") or \
            style.get("borderTop", "").split()[-1]
        out[text] = _rgb(color)
    return out


@pytest.mark.parametrize("method", list(gd.GD_METHODS))
def test_gradient_key_and_drawing_agree_and_green_means_exactly_0(client, deps, method):
    """The key said the path was grey; it was drawn in the method's colour, so with ISTA the
    whole w_k line was green, the colour of "exactly 0"."""
    zero = _rgb(F.ZERO_COLOR)
    keys = {g: _keys(client.get("/_dash-layout").get_json(), g)
            for g in ("gd-fig-loss", "gd-fig-iter")}
    for k in (5, 26, 200):
        out = call(client, deps, "gd-fig-iter.figure", {"gd-k.data": k, "gd-method.value": method,
                                                        "gd-lam.value": 0.5,
                                                        "gd-step.value": 0.1},
                   "gd-method.value")
        w = gd.gd_result(method, 0.5, 0.1)["w"][: k + 1]
        loss = {t["name"]: t for t in out["gd-fig-loss"]["figure"]["data"]}
        it = {t["name"]: t for t in out["gd-fig-iter"]["figure"]["data"]}
        assert _rgb(loss["path"]["line"]["color"]) == keys["gd-fig-loss"]["path of w₀…w_k"]
        assert _rgb(loss["iterates"]["marker"]["color"]) == \
            keys["gd-fig-loss"]["latest 30 iterates"]
        assert _rgb(it["w_k"]["line"]["color"]) == keys["gd-fig-iter"]["w_k"]
        assert _rgb(it["exactly 0"]["line"]["color"]) == keys["gd-fig-iter"]["w_k exactly 0"]
        # green only where w_k is exactly 0
        for figure in (loss, it):
            for name, trace in figure.items():
                colors = [trace.get("line", {}).get("color"),
                          trace.get("marker", {}).get("color")]
                if zero not in [_rgb(c) for c in colors if isinstance(c, str)]:
                    continue
                if name == "exactly 0":
                    assert all(y in (0.0, None) for y in trace["y"])
                    assert [i for i, y in enumerate(trace["y"]) if y == 0.0] == \
                        [i for i, v in enumerate(w) if v == 0.0]
                else:
                    assert name == f"w_{k}" and trace["x"] == [w[-1]] == [0.0], name


# ----------------------------------------------------------------------------- 14: your data

def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def upload(client, deps, text, filename):
    return call(client, deps, "data-upload-msg.children",
                {"data-upload-payload.data": {"contents": data_url(text), "filename": filename},
                 "data-source.options": []})


def test_a_one_column_upload_is_told_what_to_do_in_the_app(client, deps):
    """It was told to "pass --sep", a command-line option the app does not have."""
    text = "alpha beta target\n" + "".join(f"{i} {i + 1} {2 * i}\n" for i in range(30))
    out = upload(client, deps, text, "spaces.csv")
    msg = out["data-upload-msg"]["children"]
    assert out["data-upload-msg"]["className"] == "msg msg-error" and "\n" not in msg
    assert "--" not in msg and "pass" not in msg
    assert "spaces.csv" in msg and "single column" in msg
    assert "'alpha beta target'" in msg                      # what it found
    assert "commas" in msg and "upload it again" in msg      # what to do
    assert "data-source" not in out                          # not added


def test_a_wide_upload_is_refused_before_preparing_it(client, deps):
    """10,000 columns spent 53 s preparing before the 200-feature cap refused it."""
    rng = np.random.default_rng(0)
    buf = io.StringIO()
    buf.write(",".join(f"x{j}" for j in range(10_000)) + "\n")
    for row in rng.standard_normal((20, 10_000)):
        buf.write(",".join(f"{v:.2f}" for v in row) + "\n")
    t0 = time.perf_counter()
    out = upload(client, deps, buf.getvalue(), "wide.csv")
    seconds = time.perf_counter() - t0
    msg = out["data-upload-msg"]["children"]
    assert out["data-upload-msg"]["className"] == "msg msg-error" and "\n" not in msg
    assert "wide.csv has 10,000 columns" in msg and f"at most {yd.MAX_FEATURES} features" in msg
    assert "data-source" not in out                          # never offered for a fit
    assert seconds < 30, seconds                            # reading only (about 1 s here)


def test_a_table_just_under_the_cap_is_taken():
    from regulab.app import state as st

    header = [f"x{j}" for j in range(yd.MAX_FEATURES)] + ["y"]
    rows = "\n".join(",".join("1" if (i + j) % 3 else "0" for j in range(len(header)))
                     for i in range(12))
    state = st.LabState()
    out = yd.handle_upload(state, {"contents": data_url(",".join(header) + "\n" + rows + "\n"),
                                   "filename": "ok.csv"}, [])
    assert out[3] == "msg msg-ok" and f"× {yd.MAX_FEATURES + 1} columns" in out[2]


def test_a_failed_fit_clears_the_old_marks(client, deps):
    """After a failed fit the previous path's marks stayed on the slider."""
    good = call(client, deps, "data-lam.marks", {"data-source.value": "diabetes",
                                                 "data-target.value": "progression",
                                                 "data-penalty.value": "l1",
                                                 "tabs.value": yd.ID})
    assert good["data-lam"]["marks"]
    text = "a,b,target\n" + "".join(f"{i},{i % 2},{i * 0.5}\n" for i in range(4))
    key = upload(client, deps, text, "tiny.csv")["data-source"]["value"]
    bad = call(client, deps, "data-lam.marks", {"data-source.value": key,
                                                "data-target.value": "target",
                                                "data-penalty.value": "l1", "tabs.value": yd.ID})
    assert bad["data-status"]["className"] == "msg msg-error"
    assert bad["data-status"]["children"].startswith("cannot fit")
    assert "marks" in bad["data-lam"] and bad["data-lam"]["marks"] is None
    assert bad["data-view"]["data"] is None


def _v(n, i0, i1, lo=3.5e-4, hi=35.0):
    return {"lams": np.geomspace(lo, hi, n).tolist(), "idx_min": i0, "idx_1se": i1}


def _boxes(marks, n):
    px = yd.MARK_TRACK_PX / (n - 1)
    return sorted((p * px - len(t) * yd.MARK_CHAR_PX / 2, p * px + len(t) * yd.MARK_CHAR_PX / 2,
                   t) for p, t in marks.items())


@pytest.mark.parametrize("i0, i1", [(42, 68), (40, 41), (40, 40), (0, 22), (2, 9), (9, 22),
                                    (90, 99), (97, 99), (99, 99), (0, 0), (30, 36)])
def test_lam_marks_never_overlap_and_always_show_the_cv_choices(i0, i1):
    """"m1se" (min and 1se on top of each other) and "0.0035min" (min on the left end's
    number)."""
    marks = yd.lam_marks(_v(100, i0, i1))
    boxes = _boxes(marks, 100)
    for (_, a1, _), (b0, _, _) in itertools.pairwise(boxes):
        assert a1 + yd.MARK_GAP_PX <= b0 + 1e-9, marks
    shown = " ".join(marks.values())
    if "min·1se" in shown:
        assert marks[(i0 + i1) / 2] == "min·1se"
    else:
        assert marks[i0] == "min" and marks[i1] == "1se"
    assert not any("e+" in t for t in marks.values())
    assert yd.lam_text(400.0) == "400" and yd.lam_text(3.6e-4) == "0.00036"


# ----------------------------------------------------------------------------- 15, 16: the server

@pytest.fixture()
def serve():
    """``serve(app)``: the app on a werkzeug server on a free loopback port; its port."""
    servers = []

    def start(a):
        srv = make_server("127.0.0.1", 0, a.server)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        servers.append((srv, thread))
        return srv.port

    yield start
    for srv, thread in servers:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def machine_ips() -> list[str]:
    """This machine's non-loopback addresses, found here independently of the app: ``hostname
    -I`` where it exists, else the source address of a UDP socket "connected" outwards."""
    found = []
    if shutil.which("hostname"):
        try:
            out = subprocess.run(["hostname", "-I"], capture_output=True, text=True,
                                 timeout=30, check=False).stdout
            found += out.split()
        except (OSError, subprocess.SubprocessError):
            pass
    if not found:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("198.51.100.1", 9))
                found.append(s.getsockname()[0])
        except OSError:
            pass
    return [a for a in found if not ipaddress.ip_address(a.split("%")[0]).is_loopback]


def test_wildcard_bind_answers_to_the_machines_own_address(serve):
    """With --host 0.0.0.0 a request to the machine's own IP got 403: only what the host name
    resolves to was allowed (here, as on many machines, 127.0.0.1 alone)."""
    ips = machine_ips()
    if not ips:
        pytest.skip("this machine has no non-loopback address")
    port = serve(create_app(host="0.0.0.0"))
    for ip in ips:
        host = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        status, _ = request(port, "GET", "/", headers={"Host": host})
        assert status == 200, (host, status)
        status, _ = request(port, "POST", "/_dash-update-component", body=b"[]",
                            headers={"Host": host, "Origin": f"http://{host}",
                                     "Content-Type": "application/json"})
        assert status == 400                    # past the Host and Origin checks
    status, body = request(port, "GET", "/", headers={"Host": f"evil.example:{port}"})
    assert status == 403 and b"--host" in body and body.count(b"\n") == 1
    status, _ = request(port, "POST", "/_dash-update-component", body=b"{}",
                        headers={"Host": f"{ips[0]}:{port}", "Origin": "http://evil.example",
                                 "Content-Type": "application/json"})
    assert status == 403
    # bound to loopback, the machine's address is still refused (nothing changed there)
    port2 = serve(create_app(host="127.0.0.1"))
    status, body = request(port2, "GET", "/", headers={"Host": f"{ips[0]}:{port2}"})
    assert status == 403 and b"--host" in body


MALFORMED = {
    "a JSON array": b"[1, 2, 3]",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep but parsable": b'{"output": ' + b"[" * 500 + b"]" * 500 + b"}",
    "not JSON": b"output=1&inputs=2",
    "a JSON string": b'"x"',
    "an empty object": b"{}",
    "an unknown output": b'{"output": "nope.children", "outputs": {"id": "nope", '
                         b'"property": "children"}, "inputs": []}',
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_a_malformed_callback_body_is_400_and_one_log_line(serve, capfd, what):
    """They were a 500 with a traceback in the server's log."""
    port = serve(create_app())
    capfd.readouterr()
    status, body = request(port, "POST", "/_dash-update-component", body=MALFORMED[what],
                           headers={"Content-Type": "application/json"})
    time.sleep(0.2)                             # let the server's thread finish its log line
    err = capfd.readouterr().err
    assert status == 400, (status, body[:200])
    assert body.startswith(b"bad callback request") and body.count(b"\n") == 1
    assert len(err.strip().splitlines()) <= 1 and "Traceback" not in err, err


def test_a_callback_body_not_matching_its_callback_is_400(client, deps):
    dep = next(d for d in deps if "gd-w.children" in d["output"])
    outs = [{"id": i, "property": p} for i, p in _outputs(dep)]
    base = {"output": dep["output"], "outputs": outs, "changedPropIds": ["gd-lam.value"],
            "inputs": [dict(i, value=0.5) for i in dep["inputs"]]}
    assert client.post("/_dash-update-component", json=base).status_code == 200
    for bad in ({"inputs": base["inputs"][:2]}, {"inputs": [1, 2, 3]},
                {"inputs": [dict(i, id="other") for i in base["inputs"]]},
                {"state": 7}, {"changedPropIds": "gd-lam.value"}, {"outputs": 5}):
        r = client.post("/_dash-update-component", json=dict(base, **bad))
        assert r.status_code == 400 and r.data.count(b"\n") == 1, (bad, r.data[:200])
    r = client.post("/_dash-update-component", data=json.dumps(base),
                    headers={"Content-Type": "text/plain"})
    assert r.status_code == 400
