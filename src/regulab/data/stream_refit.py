"""Passes for the relaxed lasso of a binary target over a streamed source.

:func:`refit_pass`: for every refit job ``(fold, support S, w_S, b)`` (``fold = -1``: all rows,
else the training rows of that fold), the sums of one Newton step of the unpenalized logistic
fit on the columns ``S``: the loss ``sum s log(1 + e^{-t eta})``, the gradient and Hessian in
``(b, w_S)`` (``[1, x_S]`` under the weights ``s p (1 - p)``) and the weight of the rows the fit
classifies wrongly or on the boundary (``t eta <= 0``, the separability check). Per row the cost
is ``sum over jobs (|S| + 1)^2`` multiply-adds.

:func:`blend_loss_pass`: every fold's held-out log-loss sums of a set of linear models per fold
(the relaxed blends of every ``(gamma, lam)``).

As :mod:`regulab.data.stream_pass`: one task per partition, merged in partition order, one BLAS
thread per task: the same bits on any cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from regulab.data.stream_pass import PassLog, _release_arrow_memory
from regulab.data.stream_prep import StreamPrep, encode_batch
from regulab.data.streaming import StreamSource, hash_folds, run_partitions


@dataclass
class RefitStats:
    """One refit job's sums (module docstring): ``S = sum s``, ``loss``, ``grad [q]`` and
    ``hess [q, q]`` in ``(b, w_S)`` (``q = |S| + 1``), ``wrong`` the weight of rows with
    ``s > 0`` and margin ``t eta <= 0``."""

    S: float
    loss: float
    grad: np.ndarray
    hess: np.ndarray
    wrong: float

    def merged(self, o: "RefitStats") -> "RefitStats":
        return RefitStats(self.S + o.S, self.loss + o.loss, self.grad + o.grad,
                          self.hess + o.hess, self.wrong + o.wrong)


def _empty(q: int) -> RefitStats:
    return RefitStats(0.0, 0.0, np.zeros(q), np.zeros((q, q)), 0.0)


def partition_refit(source: StreamSource, part, sp: StreamPrep, K: int, seed: int, means, scales,
                    jobs) -> list[RefitStats]:
    """:class:`RefitStats` of one partition for every job ``(fold, S, w_S, b)``."""
    out = [_empty(len(S) + 1) for _, S, _, _ in jobs]
    with threadpool_limits(1):
        for offset, df in source.frames(part, sp.columns_read):
            X, y, s, keep = encode_batch(sp, df, source.name)
            X = (X - means) / scales
            folds = hash_folds(offset + keep, K, seed)
            t = 2.0 * y - 1.0
            for i, (k, S, w, b) in enumerate(jobs):
                tr = slice(None) if k < 0 else folds != k
                A = np.column_stack([np.ones(y[tr].size), X[tr][:, S]])
                eta = A[:, 1:] @ w + b
                pr = expit(eta)
                st = s[tr]
                h = st * pr * (1.0 - pr)
                margin = t[tr] * eta
                out[i] = out[i].merged(RefitStats(
                    float(st.sum()), float(st @ np.logaddexp(0.0, -margin)),
                    A.T @ (st * (pr - y[tr])), (A * h[:, None]).T @ A,
                    float(st[(st > 0) & (margin <= 0)].sum())))
    _release_arrow_memory()
    return out


def refit_pass(source: StreamSource, sp: StreamPrep, K: int, seed: int, means, scales, jobs,
               client=None, log: PassLog | None = None) -> list[RefitStats]:
    """:func:`partition_refit` over every partition, merged in partition order."""
    t0 = time.perf_counter()
    parts = run_partitions(partition_refit, source, (sp, K, seed, means, scales, jobs), client)
    total = [_empty(len(S) + 1) for _, S, _, _ in jobs]
    for res in parts:
        total = [a.merged(b) for a, b in zip(total, res)]
    if log is not None:
        log.add(sp.n_kept, time.perf_counter() - t0)
    return total


def partition_blend_loss(source: StreamSource, part, sp: StreamPrep, K: int, seed: int, means,
                         scales, C, B):
    """Fold ``k``'s held-out sums ``sum s log-loss`` of the models ``C[k] [p, m]``, ``B[k] [m]``
    on its own rows, and its weight ``sum s``: ``([K, m], [K])``."""
    loss, weight = np.zeros((K, C.shape[2])), np.zeros(K)
    with threadpool_limits(1):
        for offset, df in source.frames(part, sp.columns_read):
            X, y, s, keep = encode_batch(sp, df, source.name)
            X = (X - means) / scales
            folds = hash_folds(offset + keep, K, seed)
            for k in range(K):
                te = folds == k
                eta = X[te] @ C[k] + B[k]
                loss[k] += s[te] @ np.logaddexp(0.0, -(2.0 * y[te] - 1.0)[:, None] * eta)
                weight[k] += s[te].sum()
    _release_arrow_memory()
    return loss, weight


def blend_loss_pass(source: StreamSource, sp: StreamPrep, K: int, seed: int, means, scales, C, B,
                    client=None, log: PassLog | None = None):
    """:func:`partition_blend_loss` over every partition, merged in partition order."""
    t0 = time.perf_counter()
    parts = run_partitions(partition_blend_loss, source, (sp, K, seed, means, scales, C, B),
                           client)
    loss, weight = np.zeros((K, C.shape[2])), np.zeros(K)
    for lo, we in parts:
        loss, weight = loss + lo, weight + we
    if log is not None:
        log.add(sp.n_kept, time.perf_counter() - t0)
    return loss, weight
