"""Serving the lab: :func:`create_app`, :func:`run` and the checks on every request.

Security measures (the app has no login; it is meant for one person on one machine):

* **Loopback only by default.** :func:`run` binds 127.0.0.1; another host only when asked, with a
  warning that anyone who can reach the port can use the app.
* **DNS rebinding.** Every request's ``Host`` header must name the bound host or localhost
  (``localhost``, ``127.0.0.1``, ``::1``; for a wildcard bind, this machine's own names and the
  addresses of all its interfaces, :func:`regulab.app.checks.allowed_hosts`): anything else gets
  403, a missing or malformed one 400, before Dash sees it. A request carrying an ``Origin``
  header must come from an allowed host too (a page elsewhere cannot drive the callbacks).
* **Callback requests** must be well formed (:func:`regulab.app.checks.callback_problem`: JSON,
  not deeply nested, naming one of the app's callbacks with its inputs): anything else gets 400
  and one line, and one line in the server's log, never a traceback.
* **Uploads** are capped (5 MiB by default): the browser refuses a larger file before sending it,
  the server refuses it again before decoding, and Flask's ``MAX_CONTENT_LENGTH`` bounds every
  request body. Uploads are parsed as data only (:func:`regulab.data.read_table`); the client's
  file name is never used to build a path.
* **Nothing from an upload is rendered as HTML**: Dash components render text, and names shown in
  plotly labels are HTML-escaped (:func:`regulab.app.figures.label`). A Content-Security-Policy
  allows scripts only from the app itself (plus the hashes of Dash's own inline scripts), so
  even an injected tag could not run.
* **Dash debug mode off**, no dev tools, no hot reload, every asset served locally (plotly.js
  too: the basic partial bundle vendored under ``assets/vendor/``, loaded before Dash's
  renderer, so dcc.Graph never fetches the full bundle).
"""

from __future__ import annotations

import importlib.util
import inspect
import socket
import sys
import threading

from regulab.app import layout, plotly_bundle
from regulab.app.checks import (  # noqa: F401 - host_name, is_loopback: the server's API too
    LOCAL_NAMES,
    WILDCARDS,
    allowed_hosts,
    callback_problem,
    host_name,
    is_loopback,
    origin_host,
)
from regulab.app.state import LabState, new_session_id
from regulab.app.uploads import MAX_UPLOAD_BYTES
from regulab.app.views import geometry, gradient, neural_net, one_weight, your_data

#: the lab's views in tab order, each a module of :mod:`regulab.app.views` (the first is the home
#: page): adding a view is one entry here
VIEWS = [one_weight, gradient, geometry, your_data, neural_net]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def _refusal(status: int, text: str):
    """A one-line plain-text answer."""
    import flask

    return flask.Response(text.rstrip("\n") + "\n", status=status, mimetype="text/plain")


def _csp(hashes) -> str:
    scripts = " ".join(["'self'"] + [h if h.startswith("'") else f"'{h}'" for h in hashes])
    return ("default-src 'self'; "
            f"script-src {scripts}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(*, host: str = DEFAULT_HOST, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               nn: bool | None = None):
    """The lab as a Dash app (``app.server`` is its Flask server), for a server bound to
    ``host``. ``nn``: show the neural-net view (default: when torch is installed)."""
    import dash
    import flask

    if isinstance(max_upload_bytes, bool) or int(max_upload_bytes) < 1:
        raise ValueError(f"max_upload_bytes must be >= 1, got {max_upload_bytes!r}")
    nn_enabled = (importlib.util.find_spec("torch") is not None) if nn is None else bool(nn)
    state = LabState(max_upload_bytes=max_upload_bytes, nn_enabled=nn_enabled)
    allowed = allowed_hosts(host)

    server = flask.Flask("regulab.app")
    # the browser sends at most one capped upload (base64: 4/3 of its size) in a request
    server.config["MAX_CONTENT_LENGTH"] = int(max_upload_bytes) * 3 // 2 + 2**20

    @server.before_request
    def _check_request():  # registered before Dash's own hooks, so it runs first
        request = flask.request
        name = host_name(request.headers.get("Host"))
        if name is None:
            return _refusal(400, "bad Host header")
        if name not in allowed:
            return _refusal(403, f"refused: this server answers only to the host it is bound to "
                                 f"and to localhost, not to {name!r} (to be reached by another "
                                 f"address, start it with --host <that address>)")
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin_host(origin) not in allowed:
            return _refusal(403, "refused: cross-origin request")
        if request.method == "POST" and request.path == callback_path:
            problem = ("not JSON (Content-Type)" if not request.is_json else
                       callback_problem(request.get_data(cache=True), app.callback_map))
            if problem:
                server.logger.warning("refused a malformed callback request: %s", problem)
                return _refusal(400, f"bad callback request: {problem}")
        return None

    csp = {"value": None}

    @server.after_request
    def _headers(response):
        if csp["value"] is None:
            csp["value"] = _csp(app.csp_hashes())
        h = response.headers
        h.setdefault("Content-Security-Policy", csp["value"])
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    options = {"server": server, "title": "regulab lab", "update_title": None,
               "serve_locally": True, "suppress_callback_exceptions": False,
               "compress": False}
    accepted = inspect.signature(dash.Dash.__init__).parameters
    for key, value in (("enable_mcp", False), ("health_endpoint", None),
                       ("websocket_callbacks", False)):
        if key in accepted:
            options[key] = value
    if not plotly_bundle.use_bundle():
        options["assets_ignore"] = plotly_bundle.IGNORE_PATTERN
    app = dash.Dash("regulab.app", **options)
    callback_path = app.config.routes_pathname_prefix + "_dash-update-component"
    app.index_string = layout.INDEX
    app.layout = lambda: layout.build_layout(VIEWS, state, new_session_id())
    layout.register(app, VIEWS)
    for view in VIEWS:
        view.register(app, state)
    app.regulab_state = state
    app.regulab_allowed_hosts = allowed
    return app


def _url(host: str, port: int) -> str:
    h = host.strip("[]")
    if h in WILDCARDS:
        h = "127.0.0.1"
    if ":" in h:
        h = f"[{h}]"
    return f"http://{h}:{port}/"


def check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"--port must be a whole number from 0 to 65535, got {port!r}")
    return port


def check_host(host) -> str:
    h = str(host).strip()
    if not h or any(c.isspace() or c in "/\\@?#" for c in h):
        raise ValueError(f"--host must be a host name or an IP address, got {host!r}")
    return h


def exposure_warning(host: str) -> str | None:
    """The warning printed when ``host`` is not a loopback address."""
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip("[]") in WILDCARDS else host
    return (f"--host {host}: the app listens on {where} and anyone who can reach this port can "
            "use it (it has no login; uploads are read by this process). Use it only on a "
            "network you trust; the default 127.0.0.1 is reachable from this machine only.")


def make_server(host, port, wsgi_app):
    """A threaded werkzeug server (quiet: no line per request) on a socket bound here, so that a
    port in use is an OSError with one line, not werkzeug's printout and exit."""
    from werkzeug.serving import WSGIRequestHandler, get_sockaddr, select_address_family
    from werkzeug.serving import make_server as _make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, int(port), family))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    try:
        return _make_server(host, port, wsgi_app, threaded=True, request_handler=QuietHandler,
                            fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate of the socket


def run(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = False, *,
        max_upload_bytes: int = MAX_UPLOAD_BYTES, echo=None, warn=None) -> None:
    """Serve the lab until interrupted (Ctrl+C). ``echo`` / ``warn`` print a line (default:
    stdout / stderr)."""
    echo = echo or (lambda m: print(m, flush=True))
    warn = warn or (lambda m: print(f"warning: {m}", file=sys.stderr, flush=True))
    host, port = check_host(host), check_port(port)
    message = exposure_warning(host)
    if message:
        warn(message)
    app = create_app(host=host, max_upload_bytes=max_upload_bytes)
    srv = make_server(host, port, app.server)
    url = _url(host, srv.port)
    echo(f"regulab app: {url}  (Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        threading.Timer(0.6, webbrowser.open, args=(url,)).start()
    try:
        srv.serve_forever()  # werkzeug's returns on Ctrl+C
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    echo("stopped")
