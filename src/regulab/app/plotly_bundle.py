"""The vendored plotly.js partial bundle (``assets/vendor/plotly-basic.min.js``) and when to use it.

Dash's graphs draw with ``window.Plotly`` when the page already has it, so the 1.2 MB basic
bundle loaded from ``assets/`` replaces the 4.8 MB full bundle of the ``plotly`` wheel. The
figures are built by the installed ``plotly`` package, whose JSON is written for its own
plotly.js version; a user with another ``plotly`` would get figures drawn by a plotly.js they
were not written for. So the bundle is served only when its version is the installed package's
plotly.js version; otherwise it is left out of the assets and Dash serves its own full bundle.
"""

from __future__ import annotations

import re
from pathlib import Path

BUNDLE = Path(__file__).parent / "assets" / "vendor" / "plotly-basic.min.js"
#: ``dash.Dash(assets_ignore=...)`` matches this against asset file names.
IGNORE_PATTERN = r"^plotly-basic\.min\.js$"


def bundle_version(path: Path = BUNDLE) -> str | None:
    """The plotly.js version in the bundle's banner comment, or None without a readable one."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(400)
    except OSError:
        return None
    m = re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", head)
    return m.group(1) if m else None


def installed_version() -> str:
    """The plotly.js version of the installed ``plotly`` package (what Dash would serve)."""
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def use_bundle() -> bool:
    """True when the vendored bundle matches the installed plotly's plotly.js version."""
    return bundle_version() == installed_version()
