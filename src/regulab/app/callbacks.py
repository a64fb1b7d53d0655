"""Callbacks of the lab: each view's numbers come from the library, the figures from
:mod:`regulab.app.figures`.

Every view has a pure ``*_result`` function (library calls only: closed forms, solvers, exact
constrained optima, paths and CV, torch training) and an ``update_*`` function returning what
the callback outputs; :func:`register` wires them to the layout. Unit tests call the
``update_*`` functions directly, without a browser.

Server-side state (:class:`LabState`) holds what must not travel to the browser: loaded tables,
paths computed once per (dataset, target, penalty), and one small training run per browser
session for the neural-net view. Every cache is bounded.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
import tempfile
import threading
import time
import uuid
from collections import OrderedDict

import numpy as np

from regulab.app import figures as F
from regulab.app.layout import GD_ITERATIONS, SLIDERS, clamp

# ----------------------------------------------------------------------------- one weight

ONE_WEIGHT = {"n": 100, "noise": 0.0, "seed": 0, "lam_top": SLIDERS["ow-lam"]["max"]}


@functools.lru_cache(maxsize=512)
def one_weight_data(w_true: float, spread: float):
    """The seed's samples ``y = w_true * x``, ``x ~ U(-spread, spread)`` (seeded, noise-free)."""
    from regulab.core.onedim import make_one_weight_data

    return make_one_weight_data(ONE_WEIGHT["n"], w_true, spread, ONE_WEIGHT["noise"],
                                ONE_WEIGHT["seed"])


def _penalty_curve(penalty, grid) -> np.ndarray:
    """``penalty.value`` at every point of a 1-D grid (the library's definition, point by point)."""
    return np.array([penalty.value(np.array([w])) for w in grid])


def _w_grid(w_hat: float) -> np.ndarray:
    from regulab.core.onedim import symmetric_grid

    half = 0.5 * max(1.0, abs(w_hat))
    lo, hi = min(0.0, w_hat) - half, max(0.0, w_hat) + half
    return symmetric_grid(lo, hi, (hi - lo) / 200.0)


@functools.lru_cache(maxsize=256)
def _one_weight_curves(w_true: float, spread: float):
    from regulab.core.onedim import mse_curve, w_l1, w_l2

    data = one_weight_data(w_true, spread)
    grid = _w_grid(data.w_hat)
    lams = np.linspace(0.0, ONE_WEIGHT["lam_top"], 201)
    return (grid, mse_curve(data, grid), lams, w_l1(data.a, data.w_hat, lams),
            w_l2(data.a, data.w_hat, lams))


def one_weight_result(lam: float, w_true: float, spread: float) -> dict:
    """Closed forms of :mod:`regulab.core.onedim` and the seed's curves at one setting."""
    from regulab.core.onedim import lam_threshold, mse_curve, w_l1, w_l2
    from regulab.core.penalties import L1, L2

    data = one_weight_data(w_true, spread)
    a, w_hat = data.a, data.w_hat
    grid, mse, lams, sweep1, sweep2 = _one_weight_curves(w_true, spread)
    p1, p2 = L1(lam), L2(lam)
    pen1, pen2 = _penalty_curve(p1, grid), _penalty_curve(p2, grid)
    w1, w2 = w_l1(a, w_hat, lam), w_l2(a, w_hat, lam)
    mse_at = mse_curve(data, [w1, w2])
    return {
        "lam": lam, "w_true": w_true, "spread": spread, "a": a, "w_hat": w_hat,
        "w_l1": w1, "w_l2": w2, "lam_star": lam_threshold(a, w_hat),
        "grid": grid.tolist(), "mse": mse.tolist(), "pen_l1": pen1.tolist(),
        "pen_l2": pen2.tolist(), "reg_l1": (mse + pen1).tolist(), "reg_l2": (mse + pen2).tolist(),
        "reg_l1_at_min": float(mse_at[0] + p1.value(np.array([w1]))),
        "reg_l2_at_min": float(mse_at[1] + p2.value(np.array([w2]))),
        "lams": lams.tolist(), "sweep_l1": sweep1.tolist(), "sweep_l2": sweep2.tolist(),
    }


def update_one_weight(lam, w_true, spread):
    """Outputs of the one-weight view: read-outs, status line and its class, two figures."""
    lam = clamp("ow-lam", lam)
    w_true = clamp("ow-w", w_true)
    spread = clamp("ow-spread", spread)
    r = one_weight_result(lam, w_true, spread)
    w1, w2, lam_star = r["w_l1"], r["w_l2"], r["lam_star"]
    if w1 == 0.0:
        status = (f"λ = {lam:.2f} ≥ λ* = {lam_star:.4f}: the L1 minimizer has snapped to exactly "
                  f"0. L2 only shrinks: w_L2 = {w2:.4f}.")
        cls = "status status-zero"
        note1 = "exactly 0: λ ≥ λ*"
    else:
        status = (f"λ = {lam:.2f} < λ* = {lam_star:.4f}: L1 shrinks w by λ/(2·mean(x²)) = "
                  f"{abs(r['w_hat']) - abs(w1):.4f}; it reaches exactly 0 at λ*. L2 multiplies it "
                  f"by a factor in (0, 1) and never reaches 0.")
        cls = "status"
        note1 = f"not 0 until λ* = {lam_star:.4f}"
    note2 = ("never 0 while ŵ ≠ 0" if r["w_hat"] != 0 else "ŵ = 0: the data say w = 0")
    details = f"ŵ = {r['w_hat']:.4f}, mean(x²) = {r['a']:.4f}, n = {ONE_WEIGHT['n']}"
    return (F.fmt_w(w1), note1, F.fmt_w(w2), note2, f"{lam_star:.4f}", details, status, cls,
            F.one_weight_losses(r), F.one_weight_minimizers(r))


# ----------------------------------------------------------------------------- gradient descent

GD_METHODS = {
    "subgradient": "Subgradient descent on MSE + λ|w|",
    "ista": "Proximal gradient (ISTA) on MSE + λ|w|",
    "l2": "Gradient descent on MSE + λw²",
}


def _gd_setup() -> dict:
    from regulab.report.claims.gradient_view import DEFAULTS

    return {"n": DEFAULTS["n"], "w_true": DEFAULTS["w_true"], "w0": DEFAULTS["w0"],
            "n_iter": GD_ITERATIONS, "tail": DEFAULTS["tail"]}


GD = _gd_setup()


@functools.lru_cache(maxsize=256)
def gd_result(method: str, lam: float, step: float) -> dict:
    """One recorded run of the chosen solver (the claim's data, start and step), its objective
    over w and the closed-form minimizer. ``error`` is set when the solver diverged."""
    from regulab.core.onedim import mse_curve, w_l1, w_l2
    from regulab.core.penalties import L1, L2
    from regulab.solvers import gradient_descent, ista, subgradient_descent

    if method not in GD_METHODS:
        raise ValueError(f"unknown method {method!r}")
    data = one_weight_data(GD["w_true"], 1.0)
    penalty = L2(lam) if method == "l2" else L1(lam)
    solver = {"subgradient": subgradient_descent, "ista": ista, "l2": gradient_descent}[method]
    target = (w_l2 if method == "l2" else w_l1)(data.a, data.w_hat, lam)
    out = {"method": method, "method_name": GD_METHODS[method], "lam": lam, "step": step,
           "target": target, "objective_name": f"MSE + {lam:.2f}·" + ("w²" if method == "l2"
                                                                       else "|w|"),
           "error": None}
    try:
        res = solver(data.X, data.y, penalty=penalty, step=step, max_iter=GD["n_iter"], tol=0.0,
                     w0=[GD["w0"]])
    except FloatingPointError as exc:
        out["error"] = str(exc)
        return out
    w = res.trace.w[:, 0]
    obj = np.asarray(res.trace.objective)
    if np.max(np.abs(w)) > 1e3:  # finite, but running away: as good as diverged
        out["error"] = (f"the iterates grow without bound (|w| = {np.max(np.abs(w)):.3g} by "
                        f"iteration {len(w) - 1}): step {step:g} is too large for λ = {lam:g}")
        return out
    lo = min(-0.6, float(w.min()) - 0.1)
    hi = max(1.2, float(w.max()) + 0.1)
    from regulab.core.onedim import symmetric_grid

    grid = symmetric_grid(lo, hi, (hi - lo) / 200.0)
    curve = mse_curve(data, grid) + _penalty_curve(penalty, grid)
    target_obj = float(mse_curve(data, [target])[0] + penalty.value(np.array([target])))
    span = float(w.max() - min(w.min(), 0.0, target)) or 1.0
    out.update({
        "w": w.tolist(), "objective": obj.tolist(), "grid": grid.tolist(),
        "curve": curve.tolist(), "target_objective": target_obj,
        "curve_range": [float(curve.min()) - 0.05 * float(np.ptp(curve) or 1.0),
                        float(min(curve.max(), max(obj.max(), curve.min() + 0.6)) * 1.05)],
        "w_range": [min(w.min(), 0.0, target) - 0.08 * span,
                    max(w.max(), 0.0, target) + 0.08 * span],
    })
    return out


def gd_readout(r: dict, k: int) -> tuple:
    """``(iteration, w_k, exactly-0 text, target label, target, note)`` at iteration k."""
    w = r["w"]
    wk = w[k]
    label = "w_L2 (closed form)" if r["method"] == "l2" else "w_L1 (closed form)"
    zero = "yes, exactly 0.0" if wk == 0.0 else "no"
    sign_changes = sum(1 for i in range(1, k + 1) if (w[i - 1] > 0) != (w[i] > 0)
                       or (w[i] == 0) != (w[i - 1] == 0))
    if r["method"] == "ista":
        first = next((i for i in range(k + 1) if w[i] == 0.0), None)
        note = (f"soft-thresholding set w to exactly 0.0 at iteration {first}; it stays there"
                if first is not None else "no exact zero yet" if r["target"] == 0.0 else
                "λ < λ*: the minimizer is not 0, ISTA converges to it")
    elif r["method"] == "subgradient":
        exact = sum(1 for i in range(k + 1) if w[i] == 0.0)
        note = (f"{sign_changes} crossings of 0 so far, exactly 0 at {exact} of {k + 1} iterates: "
                f"the constant push ±λ overshoots" if r["target"] == 0.0 else
                f"{sign_changes} crossings of 0 so far; λ < λ*, the minimizer is not 0")
    else:
        note = f"|w_k − w_L2| = {abs(wk - r['target']):.3g}: geometric approach, never 0"
    return (f"{k} / {len(w) - 1}", F.fmt_w(wk, 6), zero, label, F.fmt_w(r["target"]), note)


def _index(k, n: int) -> int:
    """A position sent by the browser, as an int in ``[0, n - 1]``."""
    try:
        k = int(k or 0)
    except (TypeError, ValueError, OverflowError):
        k = 0
    return min(max(k, 0), n - 1)


def update_gd_figures(k, method, lam, step):
    """Outputs of the gradient-descent view at iteration k."""
    lam = clamp("gd-lam", lam)
    step = clamp("gd-step", step)
    r = gd_result(method if isinstance(method, str) and method in GD_METHODS else "ista", lam,
                  step)
    if r["error"]:
        msg = f"diverged: {r['error']}"
        fig = F.empty(GD_METHODS[r["method"]], "step too large: the iterates diverge",
                      height=400)
        return (("-", "-", "-", "w (closed form)", F.fmt_w(r["target"]), msg), fig, fig)
    k = _index(k, len(r["w"]))
    return gd_readout(r, k), F.gd_loss(r, k), F.gd_iterations(r, k)


def gd_next_k(trigger, k, playing):
    """The animation's iteration counter: ``(k, timer disabled, play-button label)``.

    The app runs the same logic in the browser (:func:`gd_clock_js`), so that a click and a timer
    tick can never overtake each other on the network; this is its reference."""
    n = GD["n_iter"]
    k = int(k or 0)
    if trigger == "gd-reset":
        return 0, True, "Play"
    if trigger == "gd-play":
        if playing:
            return k, True, "Play"
        return (0 if k >= n else k), False, "Pause"
    if trigger == "gd-next":
        return min(k + 1, n), True, "Play"
    if trigger == "gd-timer":
        k = min(k + 1, n)
        return k, k >= n, ("Play" if k >= n else "Pause")
    return k, not playing, ("Pause" if playing else "Play")


def gd_clock_js(n_iter: int) -> str:
    """:func:`gd_next_k` as a client-side callback (no round trip, clicks and ticks in order)."""
    return f"""
function(ticks, play, next, reset, k, disabled) {{
    var dc = window.dash_clientside, n = {int(n_iter)}, playing = !disabled;
    // a click and a tick can arrive in one batch: the click wins (reset, play, step, tick)
    var ids = (dc.callback_context.triggered || []).map(function(t) {{
        return (t.prop_id || "").split(".")[0]; }});
    var id = ["gd-reset", "gd-play", "gd-next", "gd-timer"].find(function(x) {{
        return ids.indexOf(x) >= 0; }});
    k = k || 0;
    if (id === "gd-reset") {{ return [0, true, "Play"]; }}
    if (id === "gd-play") {{
        if (playing) {{ return [k, true, "Play"]; }}
        return [k >= n ? 0 : k, false, "Pause"];
    }}
    if (id === "gd-next") {{ return [Math.min(k + 1, n), true, "Play"]; }}
    if (id === "gd-timer") {{
        if (!playing) {{ return [dc.no_update, dc.no_update, dc.no_update]; }}
        k = Math.min(k + 1, n);
        return [k, k >= n, k >= n ? "Play" : "Pause"];
    }}
    return [dc.no_update, dc.no_update, dc.no_update];
}}
"""


# ----------------------------------------------------------------------------- geometry

def _geo_defaults():
    from regulab.report.claims.geometry import DEFAULTS

    return {"n": DEFAULTS["n"], "noise": DEFAULTS["noise"], "seed": 0}


GEO = _geo_defaults()


@functools.lru_cache(maxsize=512)
def geometry_problem(b1: float, b2: float, rho: float):
    """``(H, beta_hat)`` of the claim's seeded 2-feature least-squares problem."""
    from regulab.core.geometry import make_2d_problem

    _, _, H, b = make_2d_problem(np.random.default_rng(GEO["seed"]), (b1, b2), rho, GEO["n"],
                                 GEO["noise"])
    return H, b


def _polylines(gen, level) -> tuple[list, list]:
    """The contour lines of one level as x and y lists, lines separated by None (plotly)."""
    xs, ys = [], []
    for chunk in gen.lines(level)[0]:
        if chunk is None:
            continue
        pts = np.round(chunk, 4)
        finite = np.isfinite(pts[:, 0])
        xs += [float(v) if f else None for v, f in zip(pts[:, 0], finite)] + [None]
        ys += [float(v) if f else None for v, f in zip(pts[:, 1], finite)] + [None]
    return xs, ys


def geometry_result(b1: float, b2: float, rho: float, t: float) -> dict:
    """Exact L1- and L2-constrained optima (:mod:`regulab.report.claims.geometry`) and the loss's
    contour lines (traced by contourpy on a grid of the library's quadratic loss)."""
    from contourpy import contour_generator

    from regulab.core.geometry import l1_constrained, l2_constrained, quad_loss

    H, b = geometry_problem(b1, b2, rho)
    w1, lam1 = l1_constrained(H, b, t)
    w2, lam2 = l2_constrained(H, b, t)
    lim = float(max(abs(b[0]), abs(b[1]), t) * 1.15 + 0.35)
    xs = np.linspace(-1.3 * lim, 1.3 * lim, 81)      # beyond the window: contours fill it
    G1, G2 = np.meshgrid(xs, xs)
    Z = quad_loss(np.stack([G1, G2], axis=-1), H, b)
    loss1, loss2 = float(quad_loss(w1, H, b)), float(quad_loss(w2, H, b))
    inside = np.abs(xs) <= lim
    zmax = float(np.percentile(Z[np.ix_(inside, inside)], 75)) or 1.0
    gen = contour_generator(xs, xs, Z, line_type="ChunkCombinedNan")
    grey_x, grey_y = [], []
    for level in np.linspace(zmax / 10, zmax, 10):
        x, y = _polylines(gen, level)
        grey_x += x
        grey_y += y
    names = ["w₁", "w₂"]
    return {
        "t": t, "beta_hat": b.tolist(), "H": H.tolist(), "corr": float(H[0, 1]),
        "w_l1": w1.tolist(), "w_l2": w2.tolist(), "lam_l1": lam1, "lam_l2": lam2,
        "loss_l1": loss1, "loss_l2": loss2,
        "zero_l1": [names[j] for j in range(2) if w1[j] == 0.0],
        "zero_l2": [names[j] for j in range(2) if w2[j] == 0.0],
        "limit": lim,
        "contours": {"levels": (grey_x, grey_y),
                     "l1": _polylines(gen, loss1) if loss1 > 0 else ([], []),
                     "l2": _polylines(gen, loss2) if loss2 > 0 else ([], [])},
    }


def _pair(w) -> str:
    return "(" + ", ".join(F.fmt_w(v) for v in w) + ")"


def _zero_text(zeros, inside) -> str:
    if inside:
        return "budget not binding: the unregularized optimum lies inside"
    if zeros:
        return " and ".join(zeros) + " exactly 0"
    return "no coordinate is 0"


def update_geometry(b1, b2, rho, t):
    b1, b2 = clamp("geo-b1", b1), clamp("geo-b2", b2)
    rho, t = clamp("geo-rho", rho), clamp("geo-t", t)
    r = geometry_result(b1, b2, rho, t)
    in1, in2 = r["lam_l1"] == 0.0, r["lam_l2"] == 0.0
    return (_pair(r["w_l1"]), _zero_text(r["zero_l1"], in1),
            "zero" if r["zero_l1"] and not in1 else "",
            _pair(r["w_l2"]), _zero_text(r["zero_l2"], in2),
            "zero" if r["zero_l2"] and not in2 else "",
            f"{r['lam_l1']:.4f}", f"{r['lam_l2']:.4f}", f"{r['corr']:.3f}",
            F.geometry(r))


# ----------------------------------------------------------------------------- your data

MAX_UPLOAD_BYTES = 5 * 2**20
MAX_FEATURES = 200
UPLOAD_MAX_ROWS = 200_000
N_LAMS = 100
FOLDS = 5
PENALTIES = {"l1": "L1 (lasso)", "l2": "L2 (ridge)", "elasticnet": "elastic net (l1_ratio 0.5)"}
_SUFFIXES = {"csv": ".csv", "txt": ".csv", "tsv": ".tsv", "tab": ".tsv", "parquet": ".parquet",
             "pq": ".parquet", "parq": ".parquet"}


class UploadRefused(ValueError):
    """An upload the app will not read (too large, not a file); the message is for the user."""


def _size(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


def display_name(filename) -> str:
    """The client's file name as *text* for messages (never used to build a path)."""
    name = str(filename or "upload").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c if c.isprintable() else "?" for c in name) or "upload"
    return name if len(name) <= 80 else name[:77] + "..."


def decode_upload(contents: str, filename, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of a ``data:...;base64,...`` upload, refusing anything over ``max_bytes``
    *before* decoding it."""
    if not isinstance(contents, str) or not contents.startswith("data:"):
        raise UploadRefused("not a file upload")
    head, sep, b64 = contents.partition(",")
    if not sep or ";base64" not in head:
        raise UploadRefused("not a base64 file upload")
    approx = (len(b64) * 3) // 4
    if approx - 2 > max_bytes:
        raise UploadRefused(f"{display_name(filename)} is {_size(approx)}, over the "
                            f"{_size(max_bytes)} limit of uploads: refused")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(f"{display_name(filename)}: the upload is not valid base64") from None
    if len(raw) > max_bytes:
        raise UploadRefused(f"{display_name(filename)} is {_size(len(raw))}, over the "
                            f"{_size(max_bytes)} limit of uploads: refused")
    if not raw:
        raise UploadRefused(f"{display_name(filename)} is empty (0 bytes)")
    return raw


def read_upload(raw: bytes, filename, max_bytes: int = MAX_UPLOAD_BYTES):
    """Parse uploaded bytes with :func:`regulab.data.read_table`.

    ``read_table`` reads paths, so the bytes go to a fixed name (``upload.csv``, ``.tsv`` or
    ``.parquet``, chosen from a whitelist of extensions) in a private temporary directory that
    is removed at once; the client's file name only ever appears as text in messages.
    """
    from regulab.data.errors import DataError
    from regulab.data.reading import read_table

    name = display_name(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    suffix = _SUFFIXES.get(ext, ".csv")
    with tempfile.TemporaryDirectory(prefix="regulab-upload-") as tmp:
        path = os.path.join(tmp, "upload" + suffix)
        with open(path, "xb") as fh:
            fh.write(raw)
        try:
            df = read_table(path, max_rows=UPLOAD_MAX_ROWS, max_bytes=max_bytes)
        except DataError as exc:
            raise DataError(str(exc).replace(path, name)) from None
    df.attrs["regulab_source"] = dict(df.attrs.get("regulab_source", {}), path=name)
    return df


class LabState:
    """Server-side state: tables, cached paths and neural-net runs, all bounded."""

    def __init__(self, max_upload_bytes: int = MAX_UPLOAD_BYTES, max_tables: int = 12,
                 max_paths: int = 24, max_nn_runs: int = 4):
        self.max_upload_bytes = int(max_upload_bytes)
        self.max_tables, self.max_paths = max_tables, max_paths
        self.tables: OrderedDict = OrderedDict()      # key -> (frame, name, default target)
        self.paths: OrderedDict = OrderedDict()       # (key, target, penalty) -> view dict
        self.lock = threading.Lock()
        self._computing: dict = {}
        self.nn = NNRuns(max_nn_runs)

    # -- tables ------------------------------------------------------------------------------
    def _remember(self, store, key, value, limit):
        with self.lock:
            store[key] = value
            store.move_to_end(key)
            while len(store) > limit:
                store.popitem(last=False)

    def table(self, key: str):
        """``(frame, name, default target)`` of a built-in name or an ``upload:`` key."""
        from regulab.data.datasets import BUILTIN_DATASETS, load_builtin

        with self.lock:
            if key in self.tables:
                self.tables.move_to_end(key)
                return self.tables[key]
        if key in BUILTIN_DATASETS:
            df, target, _ = load_builtin(key, seed=0)
            value = (df, key, target)
            self._remember(self.tables, key, value, self.max_tables)
            return value
        raise KeyError(key)

    def add_upload(self, contents: str, filename) -> tuple[str, str, int, int]:
        """Decode, size-check and parse an upload; returns ``(key, name, rows, columns)``."""
        raw = decode_upload(contents, filename, self.max_upload_bytes)
        key = "upload:" + hashlib.sha256(raw).hexdigest()[:24]
        name = display_name(filename)
        df = read_upload(raw, filename, self.max_upload_bytes)
        target = str(df.columns[-1])
        self._remember(self.tables, key, (df, name, target), self.max_tables)
        return key, name, int(df.shape[0]), int(df.shape[1])

    # -- paths -------------------------------------------------------------------------------
    def path_view(self, key: str, target: str, penalty: str) -> dict:
        """The path and CV curve of one (table, target, penalty), computed once and cached."""
        pkey = (key, target, penalty)
        with self.lock:
            if pkey in self.paths:
                self.paths.move_to_end(pkey)
                return self.paths[pkey]
            event = self._computing.get(pkey)
            owner = event is None
            if owner:
                event = self._computing[pkey] = threading.Event()
        if not owner:  # the same path is being computed by another request: wait for it
            event.wait(300)
            with self.lock:
                if pkey in self.paths:
                    return self.paths[pkey]
        try:
            view = compute_path_view(*self.table(key), target, penalty, key=pkey)
            self._remember(self.paths, pkey, view, self.max_paths)
            return view
        finally:
            with self.lock:
                self._computing.pop(pkey, None)
            event.set()


def compute_path_view(df, name, default_target, target, penalty, key=None) -> dict:
    """Prepare the table, cross-validate the path (:func:`regulab.selection.cv.fit_cv`, 5 folds, the
    CLI's grid) and keep what the figures need."""
    from regulab.core.losses import ERROR_NAME, LOSS_OF_TASK
    from regulab.core.penalties import penalty_rho
    from regulab.selection.path import lam_grid
    from regulab.selection.cv import fit_cv
    from regulab.data.errors import DataError
    from regulab.data.prepare import check_rows_for_cv, prepare

    prep = prepare(df, target, task="auto", missing="drop", standardize=True, source_name=name)
    p = prep.X.shape[1]
    if p > MAX_FEATURES:
        raise DataError(f"{name}: {p} features after preparation; the app draws at most "
                        f"{MAX_FEATURES} (use `regulab path` on the command line)")
    check_rows_for_cv(prep.X.shape[0], FOLDS, y=prep.y, task=prep.task, classes=prep.classes,
                      source_name=name)
    loss = LOSS_OF_TASK[prep.task]
    rho = penalty_rho(penalty)
    grid = lam_grid(prep.X, prep.y, loss=loss, l1_ratio=rho, n_lams=N_LAMS)
    t0 = time.perf_counter()
    res = fit_cv(prep.X, prep.y, loss=loss, l1_ratio=rho, rule="1se", lams=grid, cv=FOLDS,
                 seed=0)
    cv, path = res.cv, res.path
    order = np.argsort(cv.lams)               # increasing lam, for the slider and the log axis
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return {
        "key": "|".join(map(str, key or (name, target, penalty))), "name": name,
        "target": target, "penalty": penalty, "penalty_name": PENALTIES[penalty],
        "task": prep.task, "loss": loss, "error_name": ERROR_NAME[loss], "folds": FOLDS,
        "names": list(prep.feature_names), "n_rows": int(prep.X.shape[0]), "p": int(p),
        "lams": cv.lams[order].tolist(), "coefs": path.coefs[:, order].tolist(),
        "nnz": path.nnz[order].tolist(),
        "cv_mean": cv.mean_error[order].tolist(), "cv_se": cv.se_error[order].tolist(),
        "idx_min": int(rank[cv.idx_min]), "idx_1se": int(rank[cv.idx_1se]),
        "seconds": time.perf_counter() - t0, "notes": list(prep.report),
    }


def data_readout(v: dict, k: int) -> tuple:
    """``(lam, kept, exact zeros, CV error, rule text)`` at slider position k."""
    coef = [c[k] for c in v["coefs"]]
    zeros = sum(1 for c in coef if c == 0.0)
    kept = len(coef) - zeros
    rule = (f"λ_min = {v['lams'][v['idx_min']]:.4g} (CV error {v['cv_mean'][v['idx_min']]:.4g}), "
            f"λ_1se = {v['lams'][v['idx_1se']]:.4g} (CV error {v['cv_mean'][v['idx_1se']]:.4g})")
    return (f"{v['lams'][k]:.4g}", f"{kept} of {len(coef)}", str(zeros),
            f"{v['cv_mean'][k]:.4g} ± {v['cv_se'][k]:.2g}", rule)


def update_data_figures(v: dict, k) -> tuple:
    k = _index(k, len(v["lams"]))
    return (data_readout(v, k), F.data_path(v, k), F.data_cv(v, k), F.data_coefficients(v, k))


def lam_marks(v: dict) -> dict:
    """Slider marks: the two CV choices and a few lams."""
    n = len(v["lams"])
    marks = {i: f"{v['lams'][i]:.2g}" for i in (0, n - 1)}
    marks[v["idx_min"]] = "min"
    marks[v["idx_1se"]] = "1se"
    return {int(k): str(val) for k, val in marks.items()}


def upload_gate_js(max_bytes: int) -> str:
    """Client-side gate: an upload over the cap is refused in the browser, so its bytes are
    never sent; only its size and name reach the server (which checks again anyway)."""
    return f"""
function(contents, filename) {{
    if (!contents) {{ return window.dash_clientside.no_update; }}
    var comma = contents.indexOf(",");
    var size = Math.floor((contents.length - comma - 1) * 3 / 4);
    if (size > {int(max_bytes)} + 2) {{
        return {{"refused": true, "size": size, "filename": filename, "t": Date.now()}};
    }}
    return {{"contents": contents, "filename": filename, "t": Date.now()}};
}}
"""


def handle_upload(state: LabState, payload: dict, options: list):
    """``(options, value, message, message class)`` after an upload (or its refusal)."""
    from regulab.data.errors import DataError

    if not isinstance(payload, dict) or not payload:
        return None
    options = [o for o in options if isinstance(o, dict)] if isinstance(options, list) else []
    name = display_name(payload.get("filename"))
    if payload.get("refused"):
        size = float(payload.get("size") or 0)
        return (None, None, f"{name} is {_size(size)}, over the {_size(state.max_upload_bytes)} "
                f"limit of uploads: refused", "msg msg-error")
    try:
        key, name, rows, cols = state.add_upload(payload.get("contents"), name)
    except (UploadRefused, DataError) as exc:
        return None, None, f"upload refused: {exc}", "msg msg-error"
    options = [o for o in options if o.get("value") != key]
    options.append({"label": f"{name} (uploaded)", "value": key})
    return (options, key, f"read {name}: {rows:,} rows × {cols} columns", "msg msg-ok")


def target_choices(state: LabState, key: str):
    """``(options, default target)`` of a table."""
    df, _, target = state.table(key)
    cols = [str(c) for c in df.columns]
    return [{"label": c, "value": c} for c in cols], (target if target in cols else cols[-1])


# ----------------------------------------------------------------------------- neural net

NN = {"sizes": (64, 30, 10), "batch_size": 10, "lr": 0.5, "max_epochs": 150, "tol": 1e-3,
      "bins": 61, "seed": 0, "pause_s": 0.08}
NN_PENALTIES = {"none": "no penalty", "l1-prox": "L1, proximal step (exact zeros)",
                "l1-sub": "L1, subgradient in the loss", "l2": "L2 (weight decay)"}
_SESSION = re.compile(r"^[0-9a-f]{32}$")


def new_session_id() -> str:
    return uuid.uuid4().hex


def nn_n_train() -> int:
    from regulab.report.claims.neural_net import DEFAULTS

    return int(DEFAULTS["n_train"])


def nn_scale(kind: str, lam: float, n: int) -> tuple[float, float]:
    """``(l1, l2)`` on regulab's scale of Nielsen's lam, by :mod:`regulab.core.conventions` (the
    conversion :class:`regulab.nn.NNPenalty` uses; no torch needed)."""
    from regulab.core.conventions import get_convention

    if kind == "none":
        return 0.0, 0.0
    conv = "nielsen-l2" if kind == "l2" else "nielsen-l1"
    s = get_convention(conv).to_regulab({"lam": float(lam)}, n)
    return float(s.l1), float(s.l2)


def nn_penalty(kind: str, lam: float, n: int):
    """``(penalty, prox)`` for :func:`regulab.nn.fit` from Nielsen's lam (converted by
    :mod:`regulab.core.conventions`: L1 ``lam/n``, L2 ``lam/(2n)``)."""
    from regulab.nn import NNPenalty

    if kind == "none" or lam == 0:
        return None, None
    conv = "nielsen-l2" if kind == "l2" else "nielsen-l1"
    pen = NNPenalty.from_convention(conv, {"lam": float(lam)}, n_samples=n)
    return (None, pen) if kind == "l1-prox" else (pen, None)


_TORCH = threading.Lock()


class _one_torch_thread:
    """Torch work of the app runs on one intra-op thread, one session at a time: a 64-30-10
    network gains nothing from more, and on a busy machine several threads spin-wait on each
    other (we measured an epoch going from 40 ms to seconds). The process's setting is
    restored afterwards."""

    def __enter__(self):
        import torch

        _TORCH.acquire()
        self.prev = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.prev)
        _TORCH.release()


class NNRun:
    """One browser session's network, trained by a background thread one epoch at a time.

    After each epoch the thread stores a :meth:`snapshot` (histograms, sparsity, history); the
    page's timer only reads the latest one, so drawing never waits for training. A new penalty
    or lam applies from the next epoch on: the weights are kept."""

    def __init__(self):
        import torch

        from regulab.report.claims.neural_net import DEFAULTS, digits_split
        from regulab.nn import nielsen_mlp

        Xtr, ytr, Xte, yte, _, _ = digits_split(DEFAULTS, np.random.default_rng(NN["seed"]))
        self.X = torch.tensor(Xtr, dtype=torch.float32)
        self.y = torch.tensor(ytr)
        self.Xte = torch.tensor(Xte, dtype=torch.float32)
        self.yte = torch.tensor(yte)
        self.model = nielsen_mlp(NN["sizes"], seed=NN["seed"])
        self.lock = threading.Lock()          # held while the model is read or trained
        self.epoch = 0
        self.kind, self.lam = "l1-prox", 1.0
        self.changes: list[int] = []
        self.history = {"epoch": [], "accuracy": [], "fraction_zero": [],
                        "fraction_below_tol": [], "loss": []}
        self.last_loss = None
        self.error = None
        self.running = False
        self.closed = False
        self._thread = None
        with self.lock:
            self._record()

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def finished(self) -> bool:
        return self.epoch >= NN["max_epochs"] or self.error is not None

    def set(self, kind: str, lam: float) -> None:
        """New penalty or lam: the network keeps training from where it is."""
        if (kind, lam) != (self.kind, self.lam):
            if self.epoch > 0 and (not self.changes or self.changes[-1] != self.epoch):
                self.changes.append(self.epoch)
            self.kind, self.lam = kind, lam

    def start(self) -> None:
        if self.finished or self.closed:
            return
        self.running = True
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="regulab-nn", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self.running = False

    def close(self) -> None:
        self.closed, self.running = True, False

    def _loop(self) -> None:
        while self.running and not self.closed and not self.finished:
            self.step()
            time.sleep(NN["pause_s"])      # leave the CPU to the page and the other views
        self.running = False

    def step(self) -> None:
        """Train one epoch with the current setting (minibatch order seeded by the epoch)."""
        from regulab.nn import TrainingDiverged, fit

        with self.lock:
            if self.finished:
                return
            penalty, prox = nn_penalty(self.kind, self.lam, self.n)
            try:
                with _one_torch_thread():
                    h = fit(self.model, self.X, self.y, epochs=1, batch_size=NN["batch_size"],
                            lr=NN["lr"], penalty=penalty, prox=prox,
                            seed=NN["seed"] * 100_003 + self.epoch)
            except TrainingDiverged as exc:
                self.error = str(exc)
                return
            self.epoch += 1
            self.last_loss = h.loss[-1]
            self._record()

    def _record(self) -> None:
        """Measure the network (called with the lock held) and store a snapshot."""
        import torch

        from regulab.nn import sparsity, weight_histograms

        with torch.no_grad(), _one_torch_thread():
            acc = float((self.model(self.Xte).argmax(-1) == self.yte).float().mean())
            sp = sparsity(self.model, tol=NN["tol"])
            hist = weight_histograms(self.model, bins=NN["bins"])
        h = self.history
        h["epoch"].append(self.epoch)
        h["accuracy"].append(acc)
        h["fraction_zero"].append(sp["fraction_zero"])
        h["fraction_below_tol"].append(sp["fraction_below_tol"])
        h["loss"].append(self.last_loss)
        self.snap = {"epoch": self.epoch, "hist": {k: v[0] for k, v in hist.items()},
                     "edges": next(iter(hist.values()))[1], "sparsity": sp,
                     "exact_zeros": sp["exact_zeros"], "n_weights": sp["n"],
                     "history": {k: list(v) for k, v in h.items()},
                     "changes": list(self.changes), "tol": NN["tol"]}

    def snapshot(self) -> dict:
        """The measurements after the latest epoch (no torch work: safe while training)."""
        return dict(self.snap, changes=list(self.changes))


class NNRuns:
    """At most ``limit`` runs, one per browser session (least recently used dropped first)."""

    def __init__(self, limit: int = 4):
        self.limit = limit
        self.runs: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, sid: str, create: bool = True):
        if not isinstance(sid, str) or not _SESSION.match(sid):
            raise ValueError("bad session id")
        with self.lock:
            run = self.runs.get(sid)
            if run is not None:
                self.runs.move_to_end(sid)
                return run
        if not create:
            return None
        run = NNRun()
        with self.lock:
            self.runs[sid] = run
            while len(self.runs) > self.limit:
                self.runs.popitem(last=False)[1].close()
        return run

    def reset(self, sid: str):
        with self.lock:
            old = self.runs.pop(sid, None)
        if old is not None:
            old.close()
        return self.get(sid)


def nn_readout(run: NNRun, snap: dict) -> tuple:
    """``(epoch, l1, l2, exactly 0, below tol, accuracy, note)`` of a run's snapshot."""
    l1, l2 = nn_scale(run.kind, run.lam, run.n)
    sp, h = snap["sparsity"], snap["history"]
    if run.error:
        note = f"training stopped: {run.error}"
    elif run.epoch >= NN["max_epochs"]:
        note = f"stopped after {NN['max_epochs']} epochs (Reset to start again)"
    elif run.changes:
        note = (f"setting changed at epoch {', '.join(map(str, run.changes[-3:]))}: training "
                f"went on from the current weights")
    else:
        note = "the setting can change while it trains: the weights are kept"
    return (str(snap["epoch"]), f"{l1:.4g}", f"{l2:.4g}",
            f"{sp['fraction_zero']:.1%} ({sp['exact_zeros']} of {sp['n']})",
            f"{sp['fraction_below_tol']:.1%}", f"{h['accuracy'][-1]:.1%}", note)


def nn_button(run: NNRun) -> str:
    if run.running:
        return "Pause"
    return "Start training" if run.epoch == 0 or run.finished else "Resume training"


def update_nn(state: LabState, sid: str, trigger, kind, lam):
    """Start/pause (the button), reset, a new setting or a timer tick (just read the latest
    snapshot). Returns ``(status, outputs)``: status ``"idle"`` (nothing trained, torch not
    loaded) or ``"ok"``; outputs are ``(running, button label, readout, histogram, history)``,
    all read from the server's state, so a lost response corrects itself at the next tick."""
    lam = clamp("nn-lam", lam)
    kind = kind if isinstance(kind, str) and kind in NN_PENALTIES else "l1-prox"
    if trigger in (None, "nn-timer") and state.nn.get(sid, create=False) is None:
        return "idle", None  # first paint: do not load torch before anyone asks for it
    run = state.nn.reset(sid) if trigger == "nn-reset" else state.nn.get(sid)
    run.set(kind, lam)
    if trigger == "nn-run":
        run.pause() if run.running else run.start()
    snap = run.snapshot()
    return "ok", (run.running, nn_button(run), nn_readout(run, snap), F.nn_histogram(snap),
                  F.nn_history(snap))


# ----------------------------------------------------------------------------- registration

def register(app, state: LabState, nn_enabled: bool) -> None:
    """Wire every view's callbacks to ``app``."""
    from dash import Input, Output, State, ctx, no_update
    from dash.exceptions import PreventUpdate

    from regulab.app.layout import VIEWS

    paths = {v["path"]: v["id"] for v in VIEWS}
    path_of = {v["id"]: v["path"] for v in VIEWS}
    home = VIEWS[0]

    @app.callback(Output("tabs", "value"), Output("url", "pathname"),
                  Input("url", "pathname"), Input("tabs", "value"))
    def _route(pathname, tab):
        pathname = pathname if isinstance(pathname, str) else "/"
        tab = tab if isinstance(tab, str) else None
        if ctx.triggered_id == "tabs":
            path = path_of.get(tab)
            return no_update, (path if path and path != pathname else no_update)
        view = paths.get((pathname or "/").rstrip("/") or "/", home["id"])
        return (view if view != tab else no_update), no_update

    # one weight ---------------------------------------------------------------------------
    @app.callback(
        Output("ow-w-l1", "children"), Output("ow-w-l1-note", "children"),
        Output("ow-w-l2", "children"), Output("ow-w-l2-note", "children"),
        Output("ow-lam-star", "children"), Output("ow-details", "children"),
        Output("ow-status", "children"), Output("ow-status", "className"),
        Output("ow-fig-loss", "figure"), Output("ow-fig-lam", "figure"),
        Input("ow-lam", "value"), Input("ow-w", "value"), Input("ow-spread", "value"))
    def _one_weight(lam, w_true, spread):
        if lam is None or w_true is None or spread is None:
            raise PreventUpdate
        return update_one_weight(lam, w_true, spread)

    # gradient descent ---------------------------------------------------------------------
    app.clientside_callback(
        gd_clock_js(GD["n_iter"]),
        Output("gd-k", "data"), Output("gd-timer", "disabled"), Output("gd-play", "children"),
        Input("gd-timer", "n_intervals"), Input("gd-play", "n_clicks"),
        Input("gd-next", "n_clicks"), Input("gd-reset", "n_clicks"),
        State("gd-k", "data"), State("gd-timer", "disabled"), prevent_initial_call=True)

    @app.callback(
        Output("gd-iter", "children"), Output("gd-w", "children"),
        Output("gd-zero", "children"), Output("gd-target-label", "children"),
        Output("gd-target", "children"), Output("gd-note", "children"),
        Output("gd-fig-loss", "figure"), Output("gd-fig-iter", "figure"),
        Input("gd-k", "data"), Input("gd-method", "value"), Input("gd-lam", "value"),
        Input("gd-step", "value"))
    def _gd(k, method, lam, step):
        if lam is None or step is None:
            raise PreventUpdate
        readout, f1, f2 = update_gd_figures(k, method, lam, step)
        return (*readout, f1, f2)

    # geometry -----------------------------------------------------------------------------
    @app.callback(
        Output("geo-w-l1", "children"), Output("geo-zero-l1", "children"),
        Output("geo-zero-l1", "className"),
        Output("geo-w-l2", "children"), Output("geo-zero-l2", "children"),
        Output("geo-zero-l2", "className"),
        Output("geo-lam-l1", "children"), Output("geo-lam-l2", "children"),
        Output("geo-corr", "children"), Output("geo-fig", "figure"),
        Input("geo-b1", "value"), Input("geo-b2", "value"), Input("geo-rho", "value"),
        Input("geo-t", "value"))
    def _geometry(b1, b2, rho, t):
        if None in (b1, b2, rho, t):
            raise PreventUpdate
        out = list(update_geometry(b1, b2, rho, t))
        out[2] = "note " + out[2]
        out[5] = "note " + out[5]
        return tuple(out)

    # your data ----------------------------------------------------------------------------
    app.clientside_callback(upload_gate_js(state.max_upload_bytes),
                            Output("data-upload-payload", "data"),
                            Input("data-upload", "contents"), State("data-upload", "filename"),
                            prevent_initial_call=True)

    @app.callback(
        Output("data-source", "options"), Output("data-source", "value"),
        Output("data-upload-msg", "children"), Output("data-upload-msg", "className"),
        Input("data-upload-payload", "data"), State("data-source", "options"),
        prevent_initial_call=True)
    def _upload(payload, options):
        out = handle_upload(state, payload, options)
        if out is None:
            raise PreventUpdate
        opts, value, msg, cls = out
        return (no_update if opts is None else opts, no_update if value is None else value,
                msg, cls)

    @app.callback(Output("data-target", "options"), Output("data-target", "value"),
                  Input("data-source", "value"))
    def _targets(key):
        if not isinstance(key, str) or not key:
            raise PreventUpdate
        try:
            return target_choices(state, key)
        except (KeyError, TypeError):
            raise PreventUpdate from None

    @app.callback(
        Output("data-view", "data"), Output("data-lam", "max"), Output("data-lam", "value"),
        Output("data-lam", "marks"), Output("data-status", "children"),
        Output("data-status", "className"),
        Input("data-source", "value"), Input("data-target", "value"),
        Input("data-penalty", "value"))
    def _fit(key, target, penalty):
        from regulab.data.errors import DataError

        if not all(isinstance(v, str) and v for v in (key, target, penalty)) or \
                penalty not in PENALTIES:
            raise PreventUpdate
        try:
            df = state.table(key)[0]
        except (KeyError, TypeError):
            raise PreventUpdate from None
        if target not in [str(c) for c in df.columns]:
            raise PreventUpdate
        try:
            v = state.path_view(key, target, penalty)
        except (DataError, ValueError) as exc:
            return (None, no_update, no_update, no_update, f"cannot fit: {exc}",
                    "msg msg-error")
        except Exception as exc:  # noqa: BLE001 - a message in the page, not a broken page
            return (None, no_update, no_update, no_update,
                    f"cannot fit: {type(exc).__name__}: {exc}", "msg msg-error")
        msg = (f"{v['name']}: {v['n_rows']:,} rows, {v['p']} features, {v['task']} "
               f"({v['error_name']}), {v['penalty_name']}; path of {len(v['lams'])} λ and "
               f"{v['folds']}-fold CV computed once ({v['seconds']:.2f} s) and cached")
        return ({"key": list((key, target, penalty))}, len(v["lams"]) - 1, v["idx_1se"],
                lam_marks(v), msg, "msg msg-ok")

    @app.callback(
        Output("data-lam-value", "children"), Output("data-kept", "children"),
        Output("data-zeros", "children"), Output("data-cv", "children"),
        Output("data-rule", "children"),
        Output("data-fig-path", "figure"), Output("data-fig-cv", "figure"),
        Output("data-fig-coef", "figure"),
        Input("data-view", "data"), Input("data-lam", "value"))
    def _data(view, k):
        if not view:
            none = F.empty("", "no path to show")
            return ("-", "-", "-", "-", "", none, none, none)
        if k is None:
            raise PreventUpdate
        try:
            v = state.path_view(*view["key"])
        except (KeyError, ValueError, TypeError):
            raise PreventUpdate from None
        readout, f1, f2, f3 = update_data_figures(v, k)
        return (*readout, f1, f2, f3)

    # neural net ---------------------------------------------------------------------------
    if not nn_enabled:
        return

    @app.callback(
        Output("nn-timer", "disabled"), Output("nn-run", "children"),
        Output("nn-epoch", "children"), Output("nn-l1", "children"), Output("nn-l2", "children"),
        Output("nn-zero", "children"), Output("nn-below", "children"),
        Output("nn-acc", "children"), Output("nn-note", "children"),
        Output("nn-fig-hist", "figure"), Output("nn-fig-history", "figure"),
        Input("nn-run", "n_clicks"), Input("nn-reset", "n_clicks"),
        Input("nn-timer", "n_intervals"), Input("nn-penalty", "value"), Input("nn-lam", "value"),
        State("nn-session", "data"), State("nn-epoch", "children"))
    def _nn(_run, _reset, _ticks, kind, lam, sid, shown):
        if lam is None:
            raise PreventUpdate
        trigger = ctx.triggered_id
        try:
            status, out = update_nn(state, sid, trigger, kind, lam)
        except ValueError:
            raise PreventUpdate from None
        if status == "idle":
            l1, l2 = nn_scale(kind if isinstance(kind, str) and kind in NN_PENALTIES else
                              "l1-prox",
                              clamp("nn-lam", lam), nn_n_train())
            msg = "press Start training: the digits MLP (64-30-10) trains here, live"
            return (True, "Start training", "0", f"{l1:.4g}", f"{l2:.4g}", "-", "-", "-", msg,
                    F.empty("Weights", "not trained yet"), F.empty("Training so far", ""))
        running, label, readout, f1, f2 = out
        if trigger == "nn-timer" and running and readout[0] == shown:
            raise PreventUpdate                    # no new epoch since the last tick
        return (not running, label, *readout, f1, f2)
