/* regulab lab, view "One weight": a move of the lam slider is redrawn here, in the browser, with
 * no round trip to the server.
 *
 * The server sends, once per (true w, spread of x), what does not depend on lam (the store
 * "ow-base", built by regulab.app.views.one_weight.one_weight_base): a = mean(x^2), the
 * least-squares weight w_hat, the samples, the MSE on a grid of w, the lam-free texts and both
 * figures drawn at one lam. This file applies the closed forms of regulab.core.onedim
 *
 *     w_L1(lam) = sign(w_hat) max(|w_hat| - lam / (2a), 0)      w_L2(lam) = w_hat a / (a + lam)
 *
 * and redraws the parts of the figures that depend on lam (one_weight.LAM_PARTS), with the
 * same arithmetic and the same number formatting as regulab.app.views.one_weight.
 * update_one_weight, its reference: tests/test_app_browser.py compares the two at random
 * settings. A move is drawn as soon as the slider's thumb shows it (drawAhead, on its
 * aria-valuenow), before Dash has handled it: the page paints the new figures in the first
 * frame after the key instead of after Dash's renderer has run the number box's and this
 * view's callbacks. Served by the app itself from /assets, so the page's CSP (script-src
 * 'self') allows it: no inline script, no eval.
 */
(function () {
    "use strict";

    /* Python's format(x, ".<d>f"): correctly rounded like toFixed, except that an exact tie
     * (a number like 0.03125 at 4 decimals) goes to the even digit, as Python does. */
    function fixed(x, d) {
        var scale = Math.pow(10, d), scaled = Math.abs(x) * scale;
        if (scaled % 1 === 0.5) {
            var down = Math.floor(scaled);
            return (x < 0 ? "-" : "") + ((down % 2 === 0 ? down : down + 1) / scale).toFixed(d);
        }
        return x.toFixed(d);
    }

    /* regulab.app.figures.num for ".<d>f": never a negative zero */
    function num(x, d) {
        var text = fixed(x, d === undefined ? 4 : d);
        if (text.charAt(0) === "-" && !/[1-9]/.test(text)) { text = text.slice(1); }
        return text;
    }

    /* regulab.app.figures.fmt_w */
    function fmtW(w) { return w === 0 ? "0 (exactly)" : num(w, 4); }

    /* regulab.app.figures._r: rounded to 5 decimals like numpy (ties to even), no -0 */
    function round5(v) {
        var y = v * 1e5, r = Math.round(y);
        if (Math.abs(y % 1) === 0.5) { r = 2 * Math.round(y / 2); }
        return r / 1e5 + 0;
    }

    /* regulab.app.widgets.clamp: onto the slider's range and step grid */
    function clamp(spec, value) {
        var v = Number(value);
        if (value === null || value === undefined || value === "" || !isFinite(v)) {
            v = spec.value;
        }
        v = Math.min(Math.max(v, spec.min), spec.max);
        var steps = Math.round((v - spec.min) / spec.step);
        return Number((spec.min + steps * spec.step).toFixed(10)) + 0;
    }

    /* regulab.app.figures.nice_ceil: the loss axis's end, on a few steps per power of ten */
    var NICE_STEPS = [1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0];
    function tenTo(e) { return e >= 0 ? Math.pow(10, e) : 1.0 / Math.pow(10, -e); }
    function niceCeil(x) {
        if (!(x > 0)) { return x; }
        var e = Math.floor(Math.log10(x)), base = tenTo(e);
        if (base > x) { e -= 1; base = tenTo(e); }
        for (var i = 0; i < NICE_STEPS.length; i++) {
            if (NICE_STEPS[i] * base >= x) { return NICE_STEPS[i] * base; }
        }
        return 10.0 * base;
    }

    /* regulab.core.onedim.mse_curve at one w: mean((y - w x)^2) over the samples */
    function mseAt(base, w) {
        var s = 0, x = base.x, y = base.y;
        for (var i = 0; i < x.length; i++) { var r = y[i] - w * x[i]; s += r * r; }
        return s / x.length;
    }

    /* trace i of a figure with some properties replaced (the others shared, not copied) */
    function trace(fig, i, props) { return Object.assign({}, fig.data[i], props); }

    function losses(base, lam, w1, w2) {
        var fig = base.loss, grid = base.grid, mse = base.mse, n = grid.length;
        var pen1 = new Array(n), pen2 = new Array(n), reg1 = new Array(n), reg2 = new Array(n);
        for (var i = 0; i < n; i++) {
            var g = grid[i];
            pen1[i] = lam * Math.abs(g);
            pen2[i] = lam * (g * g);
            reg1[i] = mse[i] + pen1[i];
            reg2[i] = mse[i] + pen2[i];
        }
        var top = niceCeil(Math.max(reg1[0], reg1[n - 1], reg2[0], reg2[n - 1]));
        var data = fig.data.slice();
        data[1] = trace(fig, 1, {y: pen1.map(round5)});
        data[2] = trace(fig, 2, {y: pen2.map(round5)});
        data[3] = trace(fig, 3, {y: reg1.map(round5)});
        data[4] = trace(fig, 4, {y: reg2.map(round5)});
        data[5] = trace(fig, 5, {
            x: [w1], y: [mseAt(base, w1) + lam * Math.abs(w1)],
            marker: Object.assign({}, fig.data[5].marker,
                                  {color: w1 === 0 ? base.colors.zero : base.colors.l1})});
        data[6] = trace(fig, 6, {x: [w2], y: [mseAt(base, w2) + lam * (w2 * w2)]});
        var layout = JSON.parse(JSON.stringify(fig.layout));
        layout.yaxis.range = [-0.03 * top, top * 1.02];
        return {data: data, layout: layout};
    }

    function minimizers(base, lam, w1, w2) {
        var fig = base.lam, data = fig.data.slice();
        data[2] = trace(fig, 2, {x: [lam, lam]});
        data[3] = trace(fig, 3, {
            x: [lam], y: [w1],
            marker: Object.assign({}, fig.data[3].marker,
                                  {color: w1 === 0 ? base.colors.zero : base.colors.l1})});
        data[4] = trace(fig, 4, {x: [lam], y: [w2]});
        return {data: data, layout: JSON.parse(JSON.stringify(fig.layout))};
    }

    /* the outputs of update_one_weight at the slider's lam */
    function oneWeight(lamValue, base) {
        var dc = window.dash_clientside;
        if (!base || lamValue === null || lamValue === undefined) {
            return Array(10).fill(dc.no_update);
        }
        var lam = clamp(base.lam_spec, lamValue), a = base.a, wHat = base.w_hat;
        var w1 = Math.sign(wHat) * Math.max(Math.abs(wHat) - lam / (2.0 * a), 0.0);
        var w2 = wHat * a / (a + lam);
        var t = base.texts, status, cls, note1;
        if (w1 === 0) {
            status = "λ = " + num(lam, 2) + " ≥ λ* = " + num(base.lam_star) + ": the L1 " +
                "minimizer has snapped to exactly 0. L2 only shrinks: w_L2 = " + num(w2) + ".";
            cls = "status status-zero";
            note1 = t.note1_zero;
        } else {
            status = "λ = " + num(lam, 2) + " < λ* = " + num(base.lam_star) + ": L1 shrinks w " +
                "by λ/(2·mean(x²)) = " + num(Math.abs(wHat) - Math.abs(w1)) + "; it reaches " +
                "exactly 0 at λ*. L2 multiplies it by a factor in (0, 1) and never reaches 0.";
            cls = "status";
            note1 = t.note1;
        }
        return [fmtW(w1), note1, fmtW(w2), t.note2, t.lam_star, t.details, status, cls,
                losses(base, lam, w1, w2), minimizers(base, lam, w1, w2)];
    }

    /* the live plotly graph inside the dcc.Graph of id `id`, or null (not drawn yet) */
    function liveGraph(id) {
        var gd = document.querySelector("#" + id + " .js-plotly-plot");
        return gd && gd.layout && gd._fullLayout && window.Plotly ? gd : null;
    }

    function sameRange(a, b) { return !!a && !!b && a[0] === b[0] && a[1] === b[1]; }

    /* Redraw a lam move on the live graph: the new traces and y range on the layout drawn now
     * (dcc.Graph's own, zoom included). Where the axes stay as they are, layout.transition
     * (duration 0: no animation) sends plotly's react down its transition path, which redraws
     * the traces that changed and leaves axes, ticks and margins alone; a new range is a whole
     * redraw. Unchanged traces are the same arrays as before, so plotly skips them. */
    function redraw(gd, fig) {
        var layout = Object.assign({}, gd.layout), range = fig.layout.yaxis.range, full = gd._fullLayout;
        // the size drawn now, said: plotly would measure the container again (a forced layout)
        Object.assign(layout, {autosize: false, width: full.width, height: full.height});
        var keep = sameRange(full.yaxis.range, range);
        if (!keep) { layout.yaxis = Object.assign({}, gd.layout.yaxis, {range: range}); }
        if (keep) { layout.transition = {duration: 0}; } else { delete layout.transition; }
        window.Plotly.react(gd, fig.data, layout);
    }

    /* the read-outs' elements, in the order of oneWeight's first 8 outputs (the 8th: the
     * status line's class) */
    var TEXT_IDS = ["ow-w-l1", "ow-w-l1-note", "ow-w-l2", "ow-w-l2-note", "ow-lam-star",
                    "ow-details", "ow-status"];

    /* what the live graphs show now: the base, the lam and the graphs drawn at that lam */
    var drawn = {base: null, lam: null, loss: null, lam_graph: null};

    function isDrawn(base, lam, loss, lamGraph) {
        return drawn.base === base && drawn.lam === lam && drawn.loss === loss &&
            drawn.lam_graph === lamGraph;
    }

    /* Draw lam straight on the live graphs and read-outs, ahead of Dash: called when the
     * slider's thumb shows a new value (its aria-valuenow, set by the slider as it moves, by
     * key, pointer or its number box). Dash still gets the value and runs oneWeightView,
     * which then finds the move drawn and sends the figures nothing; the texts it sends are
     * these very strings (React keeps what it holds true). */
    function drawAhead(lamValue) {
        var base = shown.base, loss = liveGraph("ow-fig-loss");
        var lamGraph = liveGraph("ow-fig-lam");
        if (!base || !loss || !lamGraph || lamValue === null) { return; }
        var lam = clamp(base.lam_spec, lamValue);
        if (isDrawn(base, lam, loss, lamGraph)) { return; }
        var out = oneWeight(lam, base);
        redraw(loss, out[8]);
        redraw(lamGraph, out[9]);
        drawn = {base: base, lam: lam, loss: loss, lam_graph: lamGraph};
        for (var i = 0; i < TEXT_IDS.length; i++) {
            var el = document.getElementById(TEXT_IDS[i]);
            if (el && el.textContent !== out[i]) { el.textContent = out[i]; }
        }
        var status = document.getElementById("ow-status");
        if (status && status.className !== out[7]) { status.className = out[7]; }
    }

    /* the slider whose thumb drawAhead follows (Dash mounts it again on coming back to the
     * tab: watched again then) */
    var watched = {root: null, observer: null, retries: 0, pending: false};

    function watchSlider() {
        var root = document.getElementById("ow-lam");
        if (typeof MutationObserver === "undefined") { return; }
        if (!root) {
            // the view's first callback can run before Dash has mounted the slider: look again
            // a little later (for a few seconds, once at a time)
            if (watched.retries < 100 && !watched.pending) {
                watched.pending = true;
                setTimeout(function () {
                    watched.pending = false;
                    watched.retries += 1;
                    watchSlider();
                }, 50);
            }
            return;
        }
        if (root === watched.root) { return; }
        if (watched.observer) { watched.observer.disconnect(); }
        var observer = new MutationObserver(function (records) {
            var thumb = records[records.length - 1].target;
            drawAhead(thumb.getAttribute("aria-valuenow"));
        });
        observer.observe(root, {attributes: true, subtree: true,
                                attributeFilter: ["aria-valuenow"]});
        watched = {root: root, observer: observer, retries: 0, pending: false};
    }

    /* The view's callback (inputs: lam, the base store, the tab shown). A lam move alone is
     * drawn on the live graphs (by drawAhead as the thumb moves, else here) and the figures'
     * props are left as they are (no_update: Dash, React and dcc.Graph are skipped); a new
     * base or coming back to the tab (the graphs were unmounted and are drawn again from
     * their props) sends the whole figures. */
    function oneWeightView(lamValue, base, tab) {
        var dc = window.dash_clientside;
        if (base && tab !== undefined && tab !== null && tab !== base.view) {
            return Array(10).fill(dc.no_update);
        }
        var out = oneWeight(lamValue, base);
        var triggered = ((dc.callback_context || {}).triggered || []).map(function (t) {
            return t.prop_id;
        });
        var lamOnly = triggered.length === 1 && triggered[0] === "ow-lam.value";
        var loss = liveGraph("ow-fig-loss"), lam = liveGraph("ow-fig-lam");
        var previous = shown.base === base ? shown.out : null;
        shown.base = base;
        shown.out = out.slice(0, 8);
        if (lamOnly && loss && lam && out[8] !== dc.no_update) {
            var at = clamp(base.lam_spec, lamValue);
            if (!isDrawn(base, at, loss, lam)) {
                redraw(loss, out[8]);
                redraw(lam, out[9]);
                drawn = {base: base, lam: at, loss: loss, lam_graph: lam};
            }
            out[8] = dc.no_update;
            out[9] = dc.no_update;
            // texts as they are already (most of them do not depend on lam): not sent again
            for (var i = 0; previous && i < 8; i++) {
                if (previous[i] === out[i]) { out[i] = dc.no_update; }
            }
        } else {
            // whole figures go to dcc.Graph, which draws them on graphs that may be new
            drawn = {base: null, lam: null, loss: null, lam_graph: null};
        }
        watched.retries = 0;
        watchSlider();
        return out;
    }

    /* the texts the view shows now, and the base they were computed from */
    var shown = {base: null, out: null};

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.regulab = Object.assign(window.dash_clientside.regulab || {},
                                                   {oneWeight: oneWeight,
                                                    oneWeightView: oneWeightView});
}());
