/* regulab lab, view "Your data": a move of the lam slider along a path already drawn is drawn
 * here, in the browser, without waiting for the server.
 *
 * The figures the page holds already carry every number a move needs: the path figure's first
 * traces are each feature's coefficients over every lam, the CV figure's third trace the CV
 * error over every lam (its x: the lams). yourDataMove takes the three figures drawn for a
 * path at any position and gives them at position k, changing exactly the parts that
 * regulab.app.views.your_data.lam_parts lists, to the values Python's update_data_figures puts
 * there (tests/test_app_browser.py compares the two at random positions and kinds). It runs as
 * a Dash client-side callback, so the figures go through Dash and dcc.Graph's props stay what
 * is drawn; the server answers the read-outs' texts only. Served from /assets (the page's CSP:
 * script-src 'self'): no inline script, no eval.
 */
(function () {
    "use strict";

    /* trace i of a figure with some properties replaced (the others shared, not copied) */
    function trace(fig, i, props) { return Object.assign({}, fig.data[i], props); }

    function repeat(value, n) { var out = new Array(n); return out.fill(value); }

    /* The path, CV and coefficient figures of one path at position k (an int in range),
     * from the same figures at any position; colors: {kind, zero} as the store gives them. */
    function yourDataMove(k, colors, path, cv, coef) {
        var p = coef.data[1].y.length, lams = cv.data[2].x, lam = lams[k];
        var at = new Array(p), stems = new Array(3 * p), fill = new Array(p), ring = new Array(p);
        for (var j = 0; j < p; j++) {
            var c = path.data[j].y[k], zero = c === 0;
            at[j] = c;
            stems[3 * j] = 0.0; stems[3 * j + 1] = c; stems[3 * j + 2] = null;
            fill[j] = zero ? "white" : colors.kind;
            ring[j] = zero ? colors.zero : colors.kind;
        }
        var pathData = path.data.slice();
        pathData[p] = trace(path, p, {
            x: repeat(lam, p), y: at,
            marker: Object.assign({}, path.data[p].marker, {
                color: at.map(function (c) { return c === 0 ? colors.zero : colors.kind; })})});
        pathData[p + 1] = trace(path, p + 1, {x: [lam, lam]});
        var cvData = cv.data.slice();
        cvData[3] = trace(cv, 3, {x: [lam], y: [cv.data[2].y[k]]});
        cvData[4] = trace(cv, 4, {x: [lam, lam]});
        var coefData = coef.data.slice(), dots = coef.data[1].marker;
        coefData[0] = trace(coef, 0, {x: stems});
        coefData[1] = trace(coef, 1, {
            x: at, marker: Object.assign({}, dots, {
                color: fill, line: Object.assign({}, dots.line, {color: ring})})});
        return [Object.assign({}, path, {data: pathData}), Object.assign({}, cv, {data: cvData}),
                Object.assign({}, coef, {data: coefData})];
    }

    /* regulab.app.widgets.index: a position sent by the browser, as an int in [0, n - 1] */
    function index(k, n) {
        k = Math.trunc(Number(k || 0));
        if (!isFinite(k)) { k = 0; }
        return Math.min(Math.max(k, 0), n - 1);
    }

    /* The client-side callback (input: the slider; state: the store of the path shown and the
     * three figures). It draws a move only when all three figures are the store's path
     * (their uirevision is its figure key): otherwise the server's callback sends whole
     * figures (a new path, a first drawing) and this one leaves them alone. */
    function yourDataView(k, view, path, cv, coef) {
        var dc = window.dash_clientside, none = [dc.no_update, dc.no_update, dc.no_update];
        if (!view || !view.figure_key || !view.colors || k === null || k === undefined) {
            return none;
        }
        var figs = [path, cv, coef];
        for (var i = 0; i < 3; i++) {
            if (!figs[i] || !figs[i].layout || !figs[i].data ||
                    figs[i].layout.uirevision !== view.figure_key) { return none; }
        }
        return yourDataMove(index(k, cv.data[2].x.length), view.colors, path, cv, coef);
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.regulab = Object.assign(window.dash_clientside.regulab || {},
                                                   {yourDataMove: yourDataMove,
                                                    yourDataView: yourDataView});
}());
