"""Stability selection with complementary pairs (Meinshausen & Buhlmann 2010; Shah & Samworth 2013).

``n_pairs`` times, the rows are split at random into two disjoint halves; the L1 (or elastic-net)
path is fitted on each half over one common lam grid, and a feature counts as *selected* at a lam
when its coefficient is not exactly 0. The selection frequency of feature j at lam is the share of
the ``2 * n_pairs`` half-samples that selected it. The stable set is the features whose largest
frequency over the grid reaches ``threshold``.

Meinshausen & Buhlmann's bound on the expected number of falsely selected features (under their
exchangeability assumption), with ``q`` the average number of features selected anywhere on the
grid by one half-sample and ``p`` the number of features::

    E[V] <= q**2 / ((2 * threshold - 1) * p)        (threshold > 1/2)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from regulab.core.execution import iter_tasks, task_seeds
from regulab.core.penalties import resolve_l1_ratio
from regulab.core.validation import check_fraction, check_int
from regulab.selection.path import lam_grid, regularization_path


@dataclass
class StabilityResult:
    lams: np.ndarray
    frequencies: np.ndarray      # [n_features, n_lams]
    threshold: float
    n_pairs: int
    q: float                     # mean number of features selected anywhere on the grid

    @property
    def max_frequency(self) -> np.ndarray:
        return self.frequencies.max(axis=1)

    @property
    def selected(self) -> np.ndarray:
        """Indices of the features whose maximal frequency reaches the threshold."""
        return np.flatnonzero(self.max_frequency >= self.threshold)

    @property
    def false_selection_bound(self) -> float:
        """Meinshausen & Buhlmann's bound on the expected number of false selections."""
        p = self.frequencies.shape[0]
        if self.threshold <= 0.5:
            return float("inf")
        return self.q**2 / ((2.0 * self.threshold - 1.0) * p)


def complementary_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random split of ``range(n)`` into two disjoint halves of size ``n // 2``."""
    perm = np.random.default_rng(seed).permutation(n)
    half = n // 2
    return np.sort(perm[:half]), np.sort(perm[half:2 * half])


def stability_selection(X, y, *, loss="squared", l1_ratio=None, lams=None, n_lams=30, eps=None,
                        n_pairs=50, threshold=0.6, seed=0, fit_intercept=True, tol=1e-6,
                        max_iter=10_000, n_jobs=None, on_pair=None,
                        backend=None, penalty=None, penalty_factor=None, lower=None,
                        upper=None) -> StabilityResult:
    """Selection frequencies of every feature along a lam grid; see the module docstring.

    The default grid (``n_lams`` values from ``lam_max`` of the whole data, ``eps`` as in
    :func:`regulab.selection.path.lam_grid`) is shared by every half-sample. Half-sample seeds are derived
    from ``seed`` per pair, so the result does not depend on how the pairs are executed:
    ``n_jobs`` local processes, or ``backend`` (``'dask'``, a scheduler address, a Dask client;
    see :func:`regulab.core.execution.run_tasks`), X shipped to the workers once. The penalty is
    ``l1_ratio`` (default 1) or ``penalty``, as in :func:`regulab.selection.path.regularization_path`;
    so are ``penalty_factor``, ``lower``, ``upper`` (an unpenalized feature is always selected).
    """
    l1_ratio = resolve_l1_ratio(penalty, l1_ratio)
    box = dict(penalty_factor=penalty_factor, lower=lower, upper=upper)
    threshold = check_fraction(threshold, "threshold")
    check_int(n_pairs, "n_pairs", 1)
    if l1_ratio == 0:
        raise ValueError("stability selection needs an L1 part (l1_ratio > 0): ridge selects "
                         "every feature")
    n = X.shape[0]
    if n < 4:
        raise ValueError(f"stability selection needs at least 4 samples, got {n}")
    y = np.asarray(y, dtype=float).ravel()
    if lams is None:
        lams = lam_grid(X, y, loss=loss, l1_ratio=l1_ratio, n_lams=n_lams, eps=eps,
                        fit_intercept=fit_intercept, **box)
    lams = np.sort(np.asarray(lams, dtype=float))[::-1]

    fit_pair = partial(_fit_pair, loss=loss, l1_ratio=l1_ratio, lams=lams,
                       fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, box=box)
    # reduced as the pairs arrive (in pair order): the main process holds one count matrix,
    # not one per pair
    counts = np.zeros((X.shape[1], lams.size), dtype=np.int64)
    sizes = []
    for k, (c, s) in enumerate(iter_tasks(fit_pair, task_seeds(seed, n_pairs), n_jobs=n_jobs,
                                          data=(X, y), backend=backend)):
        counts += c
        sizes.extend(s)
        if on_pair:
            on_pair(k)
    if not sizes:
        raise ValueError("no half-sample had both classes: too few samples of one class")
    return StabilityResult(lams=lams, frequencies=counts / len(sizes), threshold=threshold,
                           n_pairs=int(n_pairs), q=float(np.mean(sizes)))


def _fit_pair(data, pair_seed, *, loss, l1_ratio, lams, fit_intercept, tol, max_iter, box=None):
    """Selection counts ``[n_features, n_lams]`` (0, 1 or 2, as uint8: the result travels back
    from a worker) of the two halves of one pair, and the number of features each half selected
    anywhere on the grid (one task; ``data = (X, y)``)."""
    X, y = data
    counts = np.zeros((X.shape[1], lams.size), dtype=np.uint8)
    union_sizes = []
    for half in complementary_halves(X.shape[0], pair_seed):
        if loss == "logistic" and np.unique(y[half]).size < 2:
            continue  # a half with one class selects nothing and says nothing
        path = regularization_path(X[half], y[half], loss=loss, l1_ratio=l1_ratio, lams=lams,
                                   fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                                   **(box or {}))
        sel = path.coefs != 0.0
        counts += sel
        union_sizes.append(int(sel.any(axis=1).sum()))
    return counts, union_sizes
