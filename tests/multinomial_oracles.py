"""The multinomial (softmax) model's oracles, written out from the coefficients: the objective
and the KKT conditions, shared by the tests of the solver and of its path
(``from multinomial_oracles import kkt, objective``; pytest puts ``tests/`` on the import path).

The objective, with weights ``s`` normalized to sum to 1 (``1/n`` when None), is
``sum_i s_i * (-log softmax(x_i W + b)_{y_i}) + l1 * P(W) + l2 * ||W||_F^2``, ``P(W)`` the sum of
``|W_jk|`` (ungrouped) or of the rows' L2 norms ``||W_j.||`` (grouped across classes)."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, softmax


def _normalized(s, n):
    return np.full(n, 1.0 / n) if s is None else s / s.sum()


def objective(X, y, W, b, l1, l2, grouped, s=None) -> float:
    """The objective above at ``(W, b)``."""
    s = _normalized(s, X.shape[0])
    nll = -log_softmax(X @ W + b, axis=1)[np.arange(X.shape[0]), y]
    l1_part = np.linalg.norm(W, axis=1).sum() if grouped else np.abs(W).sum()
    return float(s @ nll + l1 * l1_part + l2 * np.sum(W * W))


def kkt(X, y, W, b, l1, l2, grouped, s=None) -> tuple[float, float]:
    """``(largest distance of -grad to the subdifferential, per coefficient or per row;
    largest intercept gradient)`` at ``(W, b)``."""
    K = W.shape[1]
    s = _normalized(s, X.shape[0])
    R = s[:, None] * (softmax(X @ W + b, axis=1) - np.eye(K)[y])
    G = X.T @ R + 2 * l2 * W
    if grouped:
        nw = np.linalg.norm(W, axis=1)
        viol = np.where(nw == 0, np.maximum(np.linalg.norm(G, axis=1) - l1, 0),
                        np.linalg.norm(G + l1 * W / np.where(nw > 0, nw, 1)[:, None], axis=1))
    else:
        viol = np.where(W == 0, np.maximum(np.abs(G) - l1, 0), np.abs(G + l1 * np.sign(W)))
    return float(viol.max()), float(np.abs(R.sum(axis=0)).max())
