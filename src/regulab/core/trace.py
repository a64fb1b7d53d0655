"""Per-iteration records of a solver run: what a reader plots to watch an optimizer work."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trace:
    """What a solver saw at each iteration ``k = 0, 1, ..., n_iter``.

    Row ``k`` holds the iterate after ``k`` updates (row 0 is the starting point). ``w`` is kept
    only when ``record_w`` is true (an ``(n_iter + 1, p)`` array: cheap for the teaching problems,
    to be switched off for wide data). ``gap`` is the duality gap of the iterate where the solver
    can certify it (squared loss), else NaN.
    """

    record_w: bool = True
    objective: list = field(default_factory=list)
    nnz: list = field(default_factory=list)
    step: list = field(default_factory=list)
    gap: list = field(default_factory=list)
    intercept: list = field(default_factory=list)
    _w: list = field(default_factory=list)

    def append(self, w, b, objective, step, gap=float("nan")) -> None:
        w = np.asarray(w, dtype=float)
        self.objective.append(float(objective))
        self.nnz.append(int(np.count_nonzero(w)))
        self.step.append(float(step))
        self.gap.append(float(gap))
        self.intercept.append(float(b))
        if self.record_w:
            self._w.append(w.copy())

    @property
    def w(self) -> np.ndarray:
        """Iterates as an ``(n_iter + 1, p)`` array."""
        if not self.record_w:
            raise AttributeError("this trace was recorded with record_w=False")
        return np.array(self._w)

    def __len__(self) -> int:
        return len(self.objective)

    def as_dict(self) -> dict:
        """Plain lists, ready for JSON."""
        out = {
            "objective": list(self.objective),
            "nnz": list(self.nnz),
            "step": list(self.step),
            "gap": [None if np.isnan(g) else g for g in self.gap],
            "intercept": list(self.intercept),
        }
        if self.record_w:
            out["w"] = [list(map(float, w)) for w in self._w]
        return out
