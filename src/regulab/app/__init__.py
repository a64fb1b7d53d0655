"""``regulab app``: the interactive lab, a local Dash web app (needs the ``app`` extra).

Five views of the seed's story, each drawn from regulab's own results (the app holds only layout
and callbacks; every number comes from the library), one module each in :mod:`regulab.app.views`:

* **One weight** (``one_weight``) - the closed forms of :mod:`regulab.core.onedim`, live;
* **Gradient descent** (``gradient``) - the instrumented solvers of :mod:`regulab.solvers`,
  animated;
* **Geometry** (``geometry``) - the exact constrained optima of :mod:`regulab.core.geometry`;
* **Your data** (``your_data``) - :func:`regulab.selection.cv.fit_cv` on a built-in dataset or an
  uploaded table;
* **Neural net** (``neural_net``) - :mod:`regulab.nn` training the digits MLP live (needs torch).

Beside them: :mod:`~regulab.app.server` (``create_app()`` builds the Dash app, ``run()`` serves it
on 127.0.0.1, with the security measures), :mod:`~regulab.app.checks` (what every request is
checked for: Host, Origin, a callback body's shape), :mod:`~regulab.app.layout` (the page and
its tabs),
:mod:`~regulab.app.widgets` (sliders, cards, graphs), :mod:`~regulab.app.state` (server-side
state, sessions, the training thread), :mod:`~regulab.app.uploads` (the upload cap, decoding,
reading) and :mod:`~regulab.app.figures` (plotly figures). Importing this package imports neither
dash nor torch.

What travels on a slider move is kept small: the One weight view's lam is redrawn in the browser
(``assets/one_weight.js``, the closed forms; no request), the other views send a Dash ``Patch``
of the parts of a figure that move (Your data's lam, the gradient animation's iteration,
geometry's budget within the same window) instead of whole figures. And what plotly redraws is
kept small too: where only traces move (One weight's and Your data's path and CV plots: the
chosen lam's line is a trace, not a layout shape), the figures set ``layout.transition`` with
no duration, so that plotly redraws the traces that changed and not the axes.
"""

from __future__ import annotations

__all__ = ["create_app", "run"]


def __getattr__(name):
    if name in __all__:
        from regulab.app import server

        return getattr(server, name)
    raise AttributeError(f"module 'regulab.app' has no attribute {name!r}")
