"""The relaxed lasso of a binary target from passes over streamed rows.

The lasso paths (all rows and every fold's training rows) come from the streamed IRLS
(:func:`regulab.selection.streamed.cv_logistic`). The relaxed lasso
(:mod:`regulab.selection.relaxed`, glmnet's ``relax = TRUE``) then needs, for every distinct
support ``S`` of every one of those ``K + 1`` paths, the unpenalized logistic refit on ``S``:
``min_{b, w_S} sum_i s_i log(1 + exp(-t_i (b + x_iS.w_S))) / sum_i s_i`` on that path's rows.
No fixed set of sums determines it, so all the refits are fitted together by Newton's method:
each pass over the rows gives every refit's gradient and Hessian at its current point
(:func:`regulab.data.stream_refit.refit_pass`; per row ``sum_S (|S| + 1)^2`` multiply-adds, so
the number of refits is bounded by :data:`BUDGET_RATIO`), a step that raises the loss is halved.
A refit with no finite minimizer (classes separable on ``S``: not converged in the passes
allowed, or every row of positive weight on its side with a positive margin) is replaced, as in
memory, by the ridge fit ``+ lam_min ||w_S||^2``, ``lam_min`` the smallest lam of the grid.
One more pass gives every fold's held-out log-loss of every blend ``gamma * lasso + (1 - gamma)
* refit`` (:func:`regulab.data.stream_refit.blend_loss_pass`), and ``(gamma, lam)`` is chosen by
the rule of :func:`regulab.selection.relaxed.cv_relaxed`.
"""

from __future__ import annotations

import numpy as np

from regulab.selection.multi_newton import newton_many
from regulab.selection.relaxed import (
    GAMMAS,
    RelaxedCV,
    RelaxedPath,
    _choose,
    check_gammas,
)

#: the refits' passes may cost at most this many IRLS passes' worth per row,
#: ``sum_S (|S| + 1)^2 <= BUDGET_RATIO * (K + 1) * (p + 1)^2``
BUDGET_RATIO = 50


class RefitBudgetError(ValueError):
    """The refits of the relaxed lasso would cost more per row than the budget."""


def refit_jobs(coef_paths, K: int, p: int) -> list[tuple[int, np.ndarray, int]]:
    """``(model, S, first lam index)`` of every distinct support of every path
    (``coef_paths[m] [p, L]``, model 0 the all-rows path, ``k + 1`` fold ``k``'s); raises
    :class:`RefitBudgetError` (one line) when their cost exceeds the budget."""
    jobs, seen = [], set()
    for m, coefs in enumerate(coef_paths):
        for i in range(coefs.shape[1]):
            S = np.flatnonzero(coefs[:, i])
            if (m, S.tobytes()) not in seen:
                seen.add((m, S.tobytes()))
                jobs.append((m, S, i))
    cost = sum((S.size + 1) ** 2 for _, S, _ in jobs)
    budget = BUDGET_RATIO * (K + 1) * (p + 1) ** 2
    if cost > budget:
        raise RefitBudgetError(
            f"left out with --stream: refitting the {len(jobs):,} distinct supports of the "
            f"{K + 1} lasso paths costs {cost:,} multiply-adds per row and pass, above the "
            f"budget of {budget:,} ({BUDGET_RATIO} IRLS passes' worth); use fewer --n-lams or "
            f"--cv folds")
    return jobs


def newton_refits(refit, starts, l2: float, *, tol=1e-12, max_passes=50):
    """Newton's method for every refit ``starts[j] = (fold, S, w_S, b)`` together, minimizing
    ``loss / S + l2 ||w_S||^2`` (``refit(jobs)``: one pass, the jobs'
    :class:`~regulab.data.stream_refit.RefitStats`). Returns ``(points, stats, converged,
    passes)``: each job's ``(w_S, b)``, its sums there and whether its largest gradient entry
    reached ``tol`` (or its step fell below ``1e-14 (1 + |theta|)``)."""
    def one_pass(idx, thetas):
        return refit([(starts[j][0], starts[j][1], th[1:].copy(), float(th[0]))
                      for j, th in zip(idx, thetas)])

    theta, stats, conv, passes = newton_many(
        one_pass, [np.concatenate([[b], w]) for _, _, w, b in starts], l2, tol=tol,
        max_passes=max_passes, min_norm=True)
    return [(th[1:], float(th[0])) for th in theta], stats, conv, passes


def relaxed_logistic(refit, blend_loss, lasso, gammas=None, rule="min", *, tol=1e-12,
                     max_passes=50):
    """The cross-validated relaxed lasso of the logistic loss (module docstring) on the
    streamed L1 fit ``lasso = (path, cv)``; ``refit`` / ``blend_loss`` run the passes of
    :mod:`regulab.data.stream_refit`. Returns ``(RelaxedCV, fold_coefs [K, p],
    fold_intercepts [K], info)``; ``info``: the passes, the refits, how many were separable."""
    path, cv = lasso
    gammas = check_gammas(GAMMAS if gammas is None else gammas)
    lams = np.asarray(cv.lams)
    K, p, L = cv.fold_coefs.shape[0], path.coefs.shape[0], lams.size
    paths = [(path.coefs, path.intercepts)] + [(cv.fold_coefs[k], cv.fold_intercepts[k])
                                               for k in range(K)]
    jobs = refit_jobs([c for c, _ in paths], K, p)
    starts = [(m - 1, S, paths[m][0][S, i].copy(), float(paths[m][1][i])) for m, S, i in jobs]
    points, stats, conv, passes = newton_refits(refit, starts, 0.0, tol=tol,
                                                max_passes=max_passes)
    l2s = np.zeros(len(jobs))
    sep = [j for j, (m, S, _) in enumerate(jobs)
           if S.size and (not conv[j] or stats[j].wrong == 0.0)]
    if sep:
        lam_min = float(lams.min())
        ridge, _, _, more = newton_refits(refit, [starts[j] for j in sep], lam_min, tol=tol,
                                          max_passes=max_passes)
        passes += more
        for j, pt in zip(sep, ridge):
            points[j], l2s[j] = pt, lam_min
    relaxed = [RelaxedPath(lams, c, np.asarray(b), np.zeros((p, L)), np.zeros(L), "logistic",
                           np.zeros(L)) for c, b in paths]
    for (m, S, _), (w, b), l2 in zip(jobs, points, l2s):
        rp = relaxed[m]
        cols = [i for i in range(L) if np.array_equal(np.flatnonzero(rp.lasso[:, i]), S)]
        for i in cols:
            rp.relaxed[S, i], rp.relaxed_intercepts[i], rp.refit_l2[i] = w, b, l2
    G = gammas.size
    C = np.stack([np.concatenate([rp.blend(g)[0] for g in gammas], axis=1) for rp in relaxed[1:]])
    B = np.stack([np.concatenate([rp.blend(g)[1] for g in gammas]) for rp in relaxed[1:]])
    loss, weight = blend_loss(C, B)
    passes += 1
    errors = (loss / weight[:, None]).reshape(K, G, L)
    mean = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(K)
    index = _choose(mean, se, rule)
    gamma, i = float(gammas[index[0]]), index[1]
    coefs, b = relaxed[0].blend(gamma)
    res = RelaxedCV(gammas, lams, mean, se, gamma, float(lams[i]), index, coefs[:, i].copy(),
                    float(b[i]), relaxed[0], None, "log_loss", rule)
    blended = [rp.blend(gamma) for rp in relaxed[1:]]
    info = {"passes": passes, "refits": len(jobs), "separable": len(sep),
            "refits_converged": bool(all(conv[j] for j in range(len(jobs)) if j not in sep))}
    return (res, np.array([c[:, i] for c, _ in blended]), np.array([bb[i] for _, bb in blended]),
            info)
