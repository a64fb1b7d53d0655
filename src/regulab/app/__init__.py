"""``regulab app``: the interactive lab, a local Dash web app (needs the ``app`` extra).

Five views of the seed's story, each drawn from regulab's own results (the app holds only layout
and callbacks; every number comes from the library):

* **One weight** - the closed forms of :mod:`regulab.core.onedim`, live;
* **Gradient descent** - the instrumented solvers of :mod:`regulab.solvers`, animated;
* **Geometry** - the exact constrained optima of :mod:`regulab.report.claims.geometry`;
* **Your data** - :func:`regulab.selection.cv.fit_cv` on a built-in dataset or an uploaded table;
* **Neural net** - :mod:`regulab.nn` training the digits MLP live (needs torch).

``create_app()`` builds the Dash app; ``run()`` serves it on 127.0.0.1 (see
:mod:`regulab.app.server` for the security measures). Importing this package imports neither
dash nor torch.
"""

from __future__ import annotations

__all__ = ["create_app", "run"]


def __getattr__(name):
    if name in __all__:
        from regulab.app import server

        return getattr(server, name)
    raise AttributeError(f"module 'regulab.app' has no attribute {name!r}")
