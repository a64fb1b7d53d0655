"""One pass over a streamed source: per-partition statistics, merged in partition order.

:func:`moments_pass` (squared loss) gives every fold's :class:`~regulab.data.stream_stats.FoldMoments`
of the raw design ``[x, y]``; :func:`irls_pass` (logistic loss) gives, for each of several models
(the all-rows model and each fold's training model) at its current coefficients, the moments of
``[x_std, z]`` under the IRLS weights ``v = s p (1 - p)`` (``z`` the working response), the
gradient of the mean log-loss, and the held-out log-loss of each fold model on its own fold.
For a count target (Poisson loss, log link, offset ``o``) the same pass gives the moments under
``v = s mu`` with ``mu = exp(x.w + b + o)`` and ``z = x.w + b + (y - mu) / mu``, the gradient
``sum s (mu - y) x``, the loss ``sum s (mu - y (x.w + b + o))`` and the Poisson deviances.

Each partition (:class:`~regulab.data.streaming.Partition`) is one task: read in bounded
batches, encoded, folded by the hash of the global row position, reduced to a few ``q x q``
matrices. Tasks run in this process or on a Dask cluster (``client``: one ``client.submit`` per
partition; a killed worker's task is simply run again elsewhere, from the file), and the results
are merged **in partition order** whatever order they finish in, each task with one BLAS thread:
the numbers are the same bits on any cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from regulab.core.losses import poisson_deviance
from regulab.data.errors import DataError
from regulab.data.messages import show, show_row
from regulab.data.stream_prep import StreamPrep, encode_batch
from regulab.data.stream_stats import FoldMoments, batch_moments
from regulab.data.streaming import StreamSource, hash_folds, run_partitions
from regulab.data.values import floats


@dataclass
class PassLog:
    """What the passes over the source cost: their count, the rows read and the seconds."""

    passes: int = 0
    rows: int = 0
    seconds: float = 0.0

    def add(self, rows: int, seconds: float) -> None:
        self.passes += 1
        self.rows += int(rows)
        self.seconds += float(seconds)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def _release_arrow_memory() -> None:
    """Hand pyarrow's freed buffers back to the system: its pool (jemalloc/mimalloc) keeps
    them otherwise, and a small Dask worker would pause at its memory limit."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


# --------------------------------------------------------------------------------------------
# squared loss: one pass for everything
# --------------------------------------------------------------------------------------------
def partition_moments(source: StreamSource, part, sp: StreamPrep, K: int, seed: int,
                      dtype=np.float64) -> FoldMoments:
    """The fold moments of one partition's kept rows (raw ``[x, y]``)."""
    acc = FoldMoments.empty(K, sp.width + 1)
    with threadpool_limits(1):
        for offset, df in source.frames(part, sp.columns_read):
            X, y, w, keep = encode_batch(sp, df, source.name)
            if dtype != np.float64:  # float32 input: values rounded as a float32 file holds them
                X = X.astype(dtype).astype(np.float64)
            Z = np.column_stack([X, y])
            acc = acc.merged(batch_moments(Z, w, hash_folds(offset + keep, K, seed), K))
    _release_arrow_memory()
    return acc


def moments_pass(source: StreamSource, sp: StreamPrep, K: int, seed: int, client=None,
                 log: PassLog | None = None, dtype=np.float64) -> FoldMoments:
    """Every fold's moments over the whole source (module docstring); ``dtype=np.float32``
    rounds the encoded values to float32 first (float32 data, accumulated in float64)."""
    t0 = time.perf_counter()
    parts = run_partitions(partition_moments, source, (sp, K, seed, dtype), client)
    total = FoldMoments.empty(K, sp.width + 1)
    for m in parts:
        total = total.merged(m)
    if log is not None:
        log.add(total.raw_n, time.perf_counter() - t0)
    return total


def standardization(total: FoldMoments, standardize: bool):
    """``(means, scales)`` of the raw design columns as in memory (unweighted, population sd;
    a zero sd becomes 1)."""
    p = total.raw_mean.shape[0] - 1
    if not standardize:
        return np.zeros(p), np.ones(p)
    means = total.raw_mean[:p].copy()
    scales = np.sqrt(total.raw_m2[:p] / total.raw_n)
    scales[~(scales > 0)] = 1.0
    return means, scales


# --------------------------------------------------------------------------------------------
# logistic loss: one pass per Newton step
# --------------------------------------------------------------------------------------------
@dataclass
class IRLSStats:
    """One model's sums from an IRLS pass (weights ``s`` not yet normalized): ``moments`` of
    ``[x_std, z]`` under ``v = s p (1 - p)``, the weight sum ``S``, the gradient sums
    ``grad = sum s (p - y) x`` and ``grad0 = sum s (p - y)``, the loss ``sum s log(1 + e^-tz)``
    and the held-out loss sums ``test_loss``, ``test_weight`` on the model's own fold.

    Poisson loss: ``v = s mu``, ``grad = sum s (mu - y) x``, ``loss = sum s (mu - y eta)``
    (``eta`` with the offset), ``dev`` the training rows' ``sum s dev(y, mu)`` and
    ``test_loss`` the held-out ``sum s dev(y, mu)``
    (:func:`regulab.core.losses.poisson_deviance`)."""

    moments: FoldMoments
    S: float
    grad: np.ndarray
    grad0: float
    loss: float
    test_loss: float
    test_weight: float
    dev: float = 0.0

    def merged(self, o: "IRLSStats") -> "IRLSStats":
        return IRLSStats(self.moments.merged(o.moments), self.S + o.S, self.grad + o.grad,
                         self.grad0 + o.grad0, self.loss + o.loss, self.test_loss + o.test_loss,
                         self.test_weight + o.test_weight, self.dev + o.dev)


def _empty_irls(p):
    return IRLSStats(FoldMoments.empty(1, p + 1), 0.0, np.zeros(p), 0.0, 0.0, 0.0, 0.0)


def partition_irls(source: StreamSource, part, sp: StreamPrep, K: int, seed: int, means, scales,
                   models) -> list[IRLSStats]:
    """IRLS sums of one partition for every model in ``models``: ``(fold, w, b)``, ``fold``
    ``-1`` for all rows, else the model trained without fold ``fold``."""
    p = sp.width
    out = [_empty_irls(p) for _ in models]
    with threadpool_limits(1):
        for offset, df in source.frames(part, sp.columns_read):
            X, y, s, keep = encode_batch(sp, df, source.name)
            X = (X - means) / scales
            folds = hash_folds(offset + keep, K, seed)
            if sp.task == "count":
                o = offset_values(sp, df, keep, offset, source.name)
            t = 2.0 * y - 1.0
            for i, (k, w, b) in enumerate(models):
                eta = X @ w + b
                tr = np.ones(y.size, dtype=bool) if k < 0 else folds != k
                sums = (_poisson_sums(X, y, s, o, eta, tr, k >= 0, p) if sp.task == "count"
                        else _irls_sums(X, y, s, t, eta, tr, k >= 0, p))
                out[i] = out[i].merged(sums)
    _release_arrow_memory()
    return out


def offset_values(sp: StreamPrep, df, keep, first: int, src: str) -> np.ndarray:
    """The Poisson offset of a batch's kept rows (``keep``: their positions in the batch,
    ``first``: the batch's first global position): 0 without an offset column, ``log`` of the
    exposure column (every value > 0), or the offset column (finite); a DataError naming the
    first bad row otherwise, as the in-memory route."""
    if sp.offset is None:
        return np.zeros(keep.size)
    raw = floats(df[sp.offset])[keep]
    what = f"{src}: {'exposure' if sp.exposure else 'offset'} column {show(sp.offset)}"
    bad = np.flatnonzero(~np.isfinite(raw))
    if bad.size:
        raise DataError(f"{what} is missing or not a number in the rows fitted (first: "
                        f"{show_row(first + keep[bad[0]])})")
    if not sp.exposure:
        return raw
    bad = np.flatnonzero(raw <= 0)
    if bad.size:
        raise DataError(f"{what} must be > 0 (its log is the offset): "
                        f"{show_row(first + keep[bad[0]])} holds {raw[bad[0]]:g}")
    return np.log(raw)


def _poisson_sums(X, y, s, o, eta, tr, with_test, p) -> IRLSStats:
    """The Poisson loss's IRLS sums (:class:`IRLSStats`) at the linear predictor ``eta``
    (without the offset ``o``) on the rows ``tr``, held-out deviance on the others."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        full = eta + o
        mu = np.exp(full)
        v = s * mu
        z = np.where(mu > 0, eta + y / mu - 1.0, eta)
        dev = poisson_deviance(y, mu)
        Xt, st, rt = X[tr], s[tr], s[tr] * (mu[tr] - y[tr])
        mom = batch_moments(np.column_stack([Xt, z[tr]]), v[tr],
                            np.zeros(int(tr.sum()), dtype=int), 1)
        te = ~tr
        return IRLSStats(mom, float(st.sum()), Xt.T @ rt, float(rt.sum()),
                         float(st @ (mu[tr] - y[tr] * full[tr])),
                         float(s[te] @ dev[te]) if with_test else 0.0,
                         float(s[te].sum()) if with_test else 0.0, float(st @ dev[tr]))


def _irls_sums(X, y, s, t, eta, tr, with_test, p) -> IRLSStats:
    # scipy.special here, not at the top: ``regulab fit`` imports this module for its
    # streaming check, and a squared-loss fit needs no scipy.special
    from scipy.special import expit

    pr = expit(eta)
    v = s * pr * (1.0 - pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(v > 0, eta + (y - pr) / (pr * (1.0 - pr)), eta)
    lo = np.logaddexp(0.0, -t * eta)
    Xt, st, rt = X[tr], s[tr], s[tr] * (pr[tr] - y[tr])
    mom = batch_moments(np.column_stack([Xt, z[tr]]), v[tr], np.zeros(int(tr.sum()), dtype=int), 1)
    te = ~tr
    return IRLSStats(mom, float(st.sum()), Xt.T @ rt, float(rt.sum()), float(st @ lo[tr]),
                     float(s[te] @ lo[te]) if with_test else 0.0,
                     float(s[te].sum()) if with_test else 0.0)


def irls_pass(source: StreamSource, sp: StreamPrep, K: int, seed: int, means, scales, models,
              client=None, log: PassLog | None = None) -> list[IRLSStats]:
    """:func:`partition_irls` over every partition, merged in partition order."""
    t0 = time.perf_counter()
    parts = run_partitions(partition_irls, source, (sp, K, seed, means, scales, models), client)
    total = [_empty_irls(sp.width) for _ in models]
    for res in parts:
        total = [a.merged(b) for a, b in zip(total, res)]
    if log is not None:
        log.add(sp.n_kept, time.perf_counter() - t0)
    return total


# --------------------------------------------------------------------------------------------
# calibration slope: one pass per Newton step of a 2-parameter GLM on the out-of-fold predictions
# --------------------------------------------------------------------------------------------
@dataclass
class SlopeStats:
    """One calibration model's sums at ``(a, c)`` over the out-of-fold predictions ``z`` (every
    row's ``b_k + x.w_k``, ``k`` its fold, plus the Poisson offset): ``S = sum s``, the loss
    ``sum s l(a + c z)``, its gradient ``[sum s r, sum s r z]`` (``r = p - y`` or ``mu - y``) and
    Hessian ``sum s h [1, z; z, z^2]`` (``h = p (1 - p)`` or ``mu``)."""

    S: float
    loss: float
    grad: np.ndarray
    hess: np.ndarray

    def merged(self, o: "SlopeStats") -> "SlopeStats":
        return SlopeStats(self.S + o.S, self.loss + o.loss, self.grad + o.grad,
                          self.hess + o.hess)


def _empty_slope() -> SlopeStats:
    return SlopeStats(0.0, 0.0, np.zeros(2), np.zeros((2, 2)))


def partition_slope(source: StreamSource, part, sp: StreamPrep, K: int, seed: int, means,
                    scales, models) -> list[SlopeStats]:
    """:class:`SlopeStats` of one partition for every ``(W [p, K], B [K], a, c)`` in
    ``models`` (the K fold models at one lam, and the calibration model's ``(a, c)``)."""
    from scipy.special import expit

    out = [_empty_slope() for _ in models]
    with threadpool_limits(1):
        for offset, df in source.frames(part, sp.columns_read):
            X, y, s, keep = encode_batch(sp, df, source.name)
            X = (X - means) / scales
            folds = hash_folds(offset + keep, K, seed)
            o = offset_values(sp, df, keep, offset, source.name) if sp.task == "count" else 0.0
            rows = np.arange(y.size)
            for i, (W, B, a, c) in enumerate(models):
                z = (X @ W)[rows, folds] + B[folds] + o
                eta = a + c * z
                if sp.task == "count":
                    with np.errstate(over="ignore", invalid="ignore"):
                        mu = np.exp(eta)
                        r, h, lo = mu - y, mu, mu - y * eta
                else:
                    pr = expit(eta)
                    r, h, lo = pr - y, pr * (1.0 - pr), np.logaddexp(0.0, -(2.0 * y - 1.0) * eta)
                hz = s * h * z
                out[i] = out[i].merged(SlopeStats(
                    float(s.sum()), float(s @ lo), np.array([s @ r, (s * r) @ z]),
                    np.array([[float((s * h).sum()), float(hz.sum())],
                              [float(hz.sum()), float(hz @ z)]])))
    _release_arrow_memory()
    return out


def slope_pass(source: StreamSource, sp: StreamPrep, K: int, seed: int, means, scales, models,
               client=None, log: PassLog | None = None) -> list[SlopeStats]:
    """:func:`partition_slope` over every partition, merged in partition order."""
    t0 = time.perf_counter()
    parts = run_partitions(partition_slope, source, (sp, K, seed, means, scales, models), client)
    total = [_empty_slope() for _ in models]
    for res in parts:
        total = [a.merged(b) for a, b in zip(total, res)]
    if log is not None:
        log.add(sp.n_kept, time.perf_counter() - t0)
    return total
