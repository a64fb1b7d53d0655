/* regulab lab, view "Your data": a move of the lam slider along the path shown is drawn here, in
 * the browser, with no round trip to the server for the figures.
 *
 * The three figures the server sends for a path (regulab.app.figures.data_path, data_cv and
 * data_coefficients, drawn at one position k) already hold everything a move needs: the path
 * figure's first p traces are the coefficients over every lam, the CV figure's first trace the
 * CV error over every lam, the coefficient figure's category axis the features' names. A move
 * to position k rewrites the parts regulab.app.views.your_data.lam_parts lists, with the same
 * values and the same number formatting as Python's figures at k (its reference:
 * regulab.app.views.your_data.update_data_figures; tests/test_app_browser.py compares the two).
 * The read-outs (lam, kept, zeros, CV error) still come from the server's callback.
 *
 * Served by the app itself from /assets, so the page's CSP (script-src 'self') allows it.
 */
(function () {
    "use strict";

    var GRAPHS = ["data-fig-path", "data-fig-cv", "data-fig-coef"];

    /* |x| rounded to `digits` significant digits on its exact binary value, ties to the even
     * digit (as Python's format does; toExponential rounds ties up): [the digits, exponent] */
    function significant(x, digits) {
        var parts = Math.abs(x).toExponential(99).split("e");   // 100 exact digits
        var all = parts[0].replace(".", ""), exp = Number(parts[1]);
        var head = all.slice(0, digits), rest = all.slice(digits);
        var half = "5" + new Array(rest.length).join("0");
        var up = rest > half || (rest === half && Number(head.charAt(digits - 1)) % 2 === 1);
        if (up) {
            var carried = String(Number(head) + 1);      // head: a few digits, no leading 0
            if (carried.length > digits) { carried = carried.slice(0, digits); exp += 1; }
            head = carried;
        }
        return [head, exp];
    }

    function trimZeros(text) {
        return text.indexOf(".") >= 0 ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
    }

    /* Python's format(x, ".<digits>g") for a finite float: scientific below 1e-4 and from
     * 10**digits on (at the rounded value), trailing zeros dropped, two exponent digits at
     * least */
    function fmtG(x, digits) {
        if (x === 0) { return "0"; }
        var r = significant(x, digits), head = r[0], exp = r[1];
        var sign = x < 0 ? "-" : "", text;
        if (exp < -4 || exp >= digits) {
            text = trimZeros(head.charAt(0) + "." + head.slice(1)) + "e" + (exp < 0 ? "-" : "+") +
                (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        } else if (exp >= 0) {
            text = trimZeros(head.slice(0, exp + 1) + "." + head.slice(exp + 1));
        } else {
            text = trimZeros("0." + new Array(-exp).join("0") + head);
        }
        return sign + text;
    }

    function copy(obj) { return Object.assign({}, obj); }

    /* the three figures at position k, from the same path's figures at any position */
    function dataMove(figs, k) {
        var path = figs[0], cv = figs[1], coef = figs[2];
        var p = path.data.length - 2, lams = path.data[0].x, lam = lams[k];
        var marker = path.data[p], zeroColor = coef.data[1].marker.line.color;
        var color = cv.data[0].line.color;
        var at = [], colors = [];
        for (var j = 0; j < p; j++) {
            at.push(path.data[j].y[k]);
            colors.push(path.data[j].y[k] === 0 ? zeroColor : color);
        }
        var pathData = path.data.slice();
        pathData[p] = Object.assign(copy(marker), {
            x: at.map(function () { return lam; }), y: at,
            marker: Object.assign(copy(marker.marker), {color: colors})});
        pathData[p + 1] = Object.assign(copy(path.data[p + 1]), {x: [lam, lam]});
        var cvData = cv.data.slice();
        cvData[1] = Object.assign(copy(cv.data[1]), {x: [lam], y: [cv.data[0].y[k]]});
        cvData[2] = Object.assign(copy(cv.data[2]), {x: [lam, lam]});
        // the coefficient bars: the features in the axis's order (it lists them reversed)
        var shown = coef.layout.yaxis.categoryarray.slice().reverse();
        var nz = [], zero = [], m = 0;
        for (j = 0; j < p; j++) {
            (at[j] !== 0 ? nz : zero).push(j);
            m = Math.max(m, Math.abs(at[j]));
        }
        m = m || 1.0;
        var coefData = coef.data.slice();
        coefData[0] = Object.assign(copy(coef.data[0]), {
            y: nz.map(function (i) { return shown[i]; }),
            x: nz.map(function (i) { return at[i]; }), name: "non-zero (" + nz.length + ")"});
        coefData[1] = Object.assign(copy(coef.data[1]), {
            y: zero.map(function (i) { return shown[i]; }),
            x: zero.map(function () { return 0.0; }), name: "exactly 0 (" + zero.length + ")",
            text: zero.map(function () { return "0"; })});
        var layout = copy(coef.layout);
        layout.title = Object.assign(copy(coef.layout.title),
                                     {text: "Coefficients at λ = " + fmtG(lam, 4)});
        layout.xaxis = Object.assign(copy(coef.layout.xaxis), {range: [-1.15 * m, 1.15 * m]});
        return [{data: pathData, layout: path.layout}, {data: cvData, layout: cv.layout},
                {data: coefData, layout: layout}];
    }

    /* a figure that is a path's (not the placeholder drawn before any path) */
    function isPath(figs) {
        return figs.every(function (f) { return f && f.data && f.layout; }) &&
            figs[0].data.length >= 3 && figs[1].data.length === 3 && figs[2].data.length === 2;
    }

    function liveGraph(id) {
        var gd = document.querySelector("#" + id + " .js-plotly-plot");
        return gd && gd.data && gd.layout && gd._fullLayout && window.Plotly ? gd : null;
    }

    /* draw a figure on a live graph, at the size drawn now (plotly would measure the container
     * again); the path and CV figures keep layout.transition (plotly's transition path: only
     * the traces that moved are redrawn), the coefficient figure is redrawn whole */
    function draw(gd, fig) {
        var full = gd._fullLayout;
        var layout = Object.assign(copy(fig.layout), {autosize: false, width: full.width,
                                                      height: full.height});
        window.Plotly.react(gd, fig.data, layout);
    }

    /* the position drawn on the live graphs, and their data then (a new path's figures, drawn
     * by dcc.Graph, are other data) */
    var drawn = {k: null, data: null};

    function drawnAt(k, live) {
        return drawn.k === k && live.every(function (g, i) { return g.data === drawn.data[i]; });
    }

    function drawAt(k, live) {
        var figs = dataMove(live.map(function (g) { return {data: g.data, layout: g.layout}; }), k);
        for (var i = 0; i < 3; i++) { draw(live[i], figs[i]); }
        drawn = {k: k, data: live.map(function (g) { return g.data; })};
    }

    /* the live graphs, when all three show a path */
    function liveGraphs() {
        var live = GRAPHS.map(liveGraph);
        return live.every(function (g) { return g; }) && isPath(live) ? live : null;
    }

    /* Draw a move as soon as the slider's thumb shows it (its aria-valuenow), before Dash runs
     * the callbacks: only when the slider was just handled (a key or the pointer on it), since
     * a new path also moves the slider, with figures of its own on their way. */
    var watched = {root: null, observer: null, touched: -Infinity, retries: 0, pending: false};
    var TOUCH_MS = 1000;

    function watchSlider() {
        var root = document.getElementById("data-lam");
        if (typeof MutationObserver === "undefined") { return; }
        if (!root) {
            // the callback can run before Dash has mounted the slider: look again a bit later
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
        var touch = function (event) {
            if (event.type !== "pointermove" || event.buttons) { watched.touched = performance.now(); }
        };
        ["keydown", "pointerdown", "pointermove"].forEach(function (type) {
            root.addEventListener(type, touch, true);
        });
        var observer = new MutationObserver(function (records) {
            var live = liveGraphs();
            if (!live || performance.now() - watched.touched > TOUCH_MS) { return; }
            var n = live[0].data[0].x.length;
            var k = Math.round(Number(records[records.length - 1].target.getAttribute(
                "aria-valuenow")));
            if (isFinite(k) && k >= 0 && k < n && !drawnAt(k, live)) { drawAt(k, live); }
        });
        observer.observe(root, {attributes: true, subtree: true,
                                attributeFilter: ["aria-valuenow"]});
        watched = {root: root, observer: observer, touched: -Infinity, retries: 0,
                   pending: false};
    }

    /* The view's callback for its figures (inputs: the slider's position, the tab shown;
     * states: the three figures' props). A move is drawn on the live graphs (as the thumb
     * moved, else here) and the props are left as they are (no_update: no Dash, React or
     * dcc.Graph work); coming back to the tab (the graphs were unmounted and draw their props
     * again) sends the figures at the slider's position. A new path is the server's
     * callback's (whole figures). */
    function dataFigures(k, tab, path, cv, coef) {
        var dc = window.dash_clientside, none = [dc.no_update, dc.no_update, dc.no_update];
        var triggered = ((dc.callback_context || {}).triggered || []).map(function (t) {
            return t.prop_id;
        });
        watched.retries = 0;
        watchSlider();
        if (k === null || k === undefined || !isPath([path, cv, coef])) { return none; }
        var n = path.data[0].x.length;
        k = Math.min(Math.max(Math.round(Number(k)) || 0, 0), n - 1);
        if (triggered.indexOf("tabs.value") >= 0) {
            drawn = {k: null, data: null};
            return tab === "data" ? dataMove([path, cv, coef], k) : none;
        }
        var live = liveGraphs();
        if (triggered.length === 1 && triggered[0] === "data-lam.value" && live &&
                !drawnAt(k, live)) {
            drawAt(k, live);
        }
        return none;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.regulab = Object.assign(window.dash_clientside.regulab || {},
                                                   {dataMove: dataMove, dataFigures: dataFigures,
                                                    fmtG: fmtG});
}());
