"""Old import paths from before the layered layout, kept working for user code.

``import regulab.cv`` (or ``from regulab.penalties import L1``) gives the very module object that
now lives at ``regulab.selection.cv`` (``regulab.core.penalties``): one module under two names, so
classes, ``isinstance`` checks and pickles are the same whichever name was used. The table is the
only place that knows the old names; new code imports the layered paths.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

OLD_TO_NEW: dict[str, str] = {
    "regulab.losses": "regulab.core.losses",
    "regulab.penalties": "regulab.core.penalties",
    "regulab.certificates": "regulab.core.certificates",
    "regulab.onedim": "regulab.core.onedim",
    "regulab.conventions": "regulab.core.conventions",
    "regulab.execution": "regulab.core.execution",
    "regulab.memory": "regulab.core.memory",
    "regulab.trace": "regulab.core.trace",
    "regulab.path": "regulab.selection.path",
    "regulab.cv": "regulab.selection.cv",
    "regulab.stability": "regulab.selection.stability",
    "regulab.calibration": "regulab.selection.calibration",
    "regulab.recommend": "regulab.selection.recommend",
    "regulab.simulate": "regulab.data.simulate",
    "regulab.datasets": "regulab.data.datasets",
    "regulab.prepare": "regulab.data.prepare",
    "regulab.model_io": "regulab.data.model_io",
    "regulab.claims": "regulab.report.claims",
    "regulab.plots": "regulab.report.plots",
    "regulab.explain": "regulab.report.explain",
}


# The loader and the finder follow importlib's protocols without deriving from importlib.abc's
# base classes: importing importlib.abc (it pulls in importlib.resources) cost every regulab
# process 12 ms, `regulab --version` included.
class _AliasLoader:
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped the alias's spec on the shared module; give it its own back.
        module.__spec__ = self.real_spec


def _new_name(fullname: str) -> str | None:
    """The layered name of ``fullname``, also for a module inside an old package
    (``regulab.claims.base`` -> ``regulab.report.claims.base``)."""
    head, dot, tail = fullname, "", ""
    while head:
        if head in OLD_TO_NEW:
            return OLD_TO_NEW[head] + dot + tail
        head, dot, rest = head.rpartition(".")
        tail = rest + ("." + tail if tail else "")
        dot = "." if tail else ""
    return None


class _AliasFinder:
    def find_spec(self, fullname, path=None, target=None):
        new = _new_name(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
