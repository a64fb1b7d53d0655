"""Working sets and KKT violations, shared by the squared-loss and logistic solvers."""

from __future__ import annotations

import numpy as np


def select_ws(base, w, active, size) -> np.ndarray:
    """The ``size`` active features of largest ``base`` score, the current support first."""
    n_act = int(active.sum())
    if size >= n_act:
        return np.flatnonzero(active).astype(np.int64)
    score = np.where(active, base, -np.inf)
    score[w != 0.0] = np.inf
    return top_features(score, size)


def top_features(score, size) -> np.ndarray:
    """The ``size`` features of largest ``score``, sorted (``int64``)."""
    ws = np.argpartition(-score, size - 1)[:size]
    ws.sort()
    return ws.astype(np.int64)


def kkt_violation(grad, w, l1) -> float:
    """Largest ``dist(-grad_j, l1 d|w_j|)``, ``grad`` the gradient of the smooth part."""
    if grad.size == 0:
        return 0.0
    a = np.abs(grad)
    viol = np.where(w == 0.0, np.maximum(a - l1, 0.0), np.abs(grad + l1 * np.sign(w)))
    return float(viol.max())
