"""Damped Newton's method for many small GLM fits whose sums come from one shared pass.

Streamed fits cannot hold the rows, so every Newton step of every model is paid with a pass over
them; the models that still move share that pass. Used by the calibration slopes
(:func:`regulab.selection.streamed.glm_slopes`) and the relaxed lasso's logistic refits
(:func:`regulab.selection.streamed_relaxed.newton_refits`).
"""

from __future__ import annotations

import numpy as np


def newton_many(one_pass, theta0, l2: float, *, tol: float, max_passes: int,
                min_norm: bool = False):
    """Minimize, for every model ``m`` together,

        ``f_m(theta) = loss_m(theta) / S_m + l2 * ||theta[1:]||^2``

    (``theta[0]`` the unpenalized intercept) by Newton's method from ``theta0[m]``.
    ``one_pass(idx, thetas)`` is one pass over the rows returning, for each model of ``idx`` at
    its ``thetas`` entry, sums with ``loss``, ``S`` (weight sum), ``grad`` and ``hess`` of
    ``loss``. A step that raises ``f_m`` beyond ``1e-13 max(1, |f_m|)`` is halved, one more
    pass each time. A model stops when its largest gradient entry is ``<= tol`` or its step is
    below ``1e-14 (1 + |theta|)`` (converged), or, without ``min_norm``, when its Hessian is
    singular (not converged); with ``min_norm`` a singular Hessian gives the minimum-norm step.
    Returns ``(thetas, stats, converged, passes)``."""
    n = len(theta0)
    theta = [np.asarray(th, dtype=float) for th in theta0]

    def value(st, th):
        return st.loss / st.S + l2 * float(th[1:] @ th[1:])

    stats = list(one_pass(list(range(n)), theta))
    passes = 1
    cur = [value(st, th) for st, th in zip(stats, theta)]
    done, conv = [False] * n, [False] * n
    trial, step, t = list(theta), [None] * n, [1.0] * n
    while passes < max_passes and not all(done):
        todo = []
        for j in range(n):
            if done[j]:
                continue
            reg = np.full(theta[j].size, 2.0 * l2)
            reg[0] = 0.0
            g = stats[j].grad / stats[j].S + reg * theta[j]
            if np.max(np.abs(g)) <= tol:
                done[j] = conv[j] = True
                continue
            H = stats[j].hess / stats[j].S + np.diag(reg)
            if min_norm:
                step[j] = -np.linalg.lstsq(H, g, rcond=None)[0]
            else:
                try:
                    step[j] = -np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    done[j] = True
                    continue
            if np.max(np.abs(step[j])) <= 1e-14 * (1.0 + np.max(np.abs(theta[j]))):
                done[j] = conv[j] = True
                continue
            t[j], trial[j] = 1.0, theta[j] + step[j]
            todo.append(j)
        while todo and passes < max_passes:
            new = one_pass(todo, [trial[j] for j in todo])
            passes += 1
            left = []
            for j, st in zip(todo, new):
                v = value(st, trial[j])
                if v <= cur[j] + 1e-13 * max(1.0, abs(cur[j])):   # accepted (NaN is not)
                    theta[j], stats[j], cur[j] = trial[j], st, v
                else:
                    t[j] *= 0.5
                    trial[j] = theta[j] + t[j] * step[j]
                    left.append(j)
            todo = left
    return theta, stats, conv, passes
