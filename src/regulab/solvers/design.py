"""The design matrix as the compiled kernels see it, validated once and cached across calls.

:func:`as_design` turns a dense array (any order) or a scipy.sparse matrix into a
:class:`Design`: a flat Fortran-order copy (only when X is not already Fortran-contiguous) or the
CSC arrays (CSR and other formats are converted; the matrix is never densified), in float32 when X
is float32 and float64 otherwise. Column statistics (weighted means and centered norms) are
computed per ``(sample weights, fit_intercept)`` and memoized on the design.

A path or a cross-validation calls the solver many times on the same X. A small cache keyed by
the identity of X (checked with its buffer address, shape, strides and a checksum of its values,
so an in-place edit is noticed) lets those calls skip validation and the Fortran copy.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from regulab.core.validation import issparse
from regulab.solvers import _design_kernels as K

if TYPE_CHECKING:
    from regulab.solvers._active_set import GramCache
    from regulab.solvers.ridge import RidgeSVD

#: a dense design's indices and indptr (never read): ``uint32``, the type of the views a 4-byte
#: sparse design passes (:attr:`Design.index_views`), so a dense and a sparse design share each
#: kernel's compiled signature
_INT_DUMMY = np.zeros(1, dtype=np.uint32)
#: at most this many ``(weights, fit_intercept)`` entries in :attr:`Design.stats_cache`
_MAX_STATS = 8
#: a dense X of at most this many entries is checked for NaN/inf by numpy (a boolean temporary
#: of this many bytes), a larger one by the compiled kernel (no temporary)
_NUMPY_CHECK = 1 << 20


class LastGradient(NamedTuple):
    """The full centered gradient ``g = X_c^T (s r)`` where the last coordinate descent stopped,
    and what it depends on: a call warm-started at ``w`` with the same ``y_c``, ``s`` and
    ``fit_intercept`` (a path) starts from it instead of recomputing it. ``q = y_c - X w``, the
    residual before centering, is kept with it (the same bits as recomputing it); ``ref``, for a
    sparse X, the reference of :class:`regulab.solvers.exact.gradient_bound.GradientBound`."""

    w: np.ndarray
    yc: np.ndarray
    s: np.ndarray
    fit_intercept: bool
    g: np.ndarray
    q: np.ndarray
    ref: tuple | None = None

    def matches(self, w, yc, s, fit_intercept) -> bool:
        return np.array_equal(self.w, w) and self.same_problem(yc, s, fit_intercept)

    def same_problem(self, yc, s, fit_intercept) -> bool:
        """Whether ``ref`` (which does not depend on ``w``) holds for this problem: the same
        arrays (a path's solves share them, :func:`regulab.solvers.exact.squared_path`: no
        comparison of their values), or equal ones."""
        if self.fit_intercept != fit_intercept:
            return False
        return ((self.yc is yc and self.s is s)
                or (np.array_equal(self.yc, yc) and np.array_equal(self.s, s)))


class Design:
    """X prepared for the kernels, and what the solvers cache about it between calls.

    The matrix: ``data, indices, indptr, n, p, is_sparse`` (see :mod:`._design_kernels`) and
    ``dense``, the Fortran-order 2-D array behind ``data`` (None for sparse X).

    The caches, each valid for the key it is stored with (``s`` the normalized sample weights,
    compared by their bytes); :meth:`clear_caches` empties them all:

    * ``stats_cache``: ``{(s, fit_intercept): (xbar, L)}``, the column statistics of
      :meth:`stats`, and ``sqrt(L)`` of :meth:`sqrt_norms` under ``(s, fit_intercept, "sqrt")``
      (at most ``_MAX_STATS`` entries);
    * ``ridge``: ``((s, fit_intercept), RidgeSVD)``, the SVD behind ridge and least squares;
    * ``small_gram``: ``((s, fit_intercept, ws), G)``, the centered Gram matrix of a small
      working set ``ws``;
    * ``gram``: the active-set Newton's :class:`~regulab.solvers._active_set.GramCache` (keyed
      by ``(s, fit_intercept)`` itself);
    * ``last_grad``: the :class:`LastGradient` of the last coordinate descent;
    * ``csr``: ``((), (data, indices, indptr))``, a CSR copy of a sparse X (:meth:`csr_arrays`).

    ``__slots__``: nothing else can be attached to a design.
    """

    __slots__ = ("data", "indices", "indptr", "n", "p", "is_sparse", "dense", "lock",
                 "stats_cache", "ridge", "small_gram", "gram", "last_grad", "csr", "_views")

    def __init__(self, data, indices, indptr, n, p, is_sparse, dense=None):
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.n = int(n)
        self.p = int(p)
        self.is_sparse = bool(is_sparse)
        self.dense: np.ndarray | None = dense
        self.lock = threading.Lock()
        # ``(indices, indptr, views)``: :attr:`index_views` made for those two arrays
        self._views = None
        self.clear_caches()

    def clear_caches(self) -> None:
        """Forget everything computed about this design (the matrix itself stays)."""
        self.stats_cache: dict = {}
        self.ridge: tuple[tuple, RidgeSVD] | None = None
        self.small_gram: tuple[tuple, np.ndarray] | None = None
        self.gram: GramCache | None = None
        self.last_grad: LastGradient | None = None
        self.csr: tuple | None = None

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def index_views(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, indptr)`` as every kernel reads them: 4-byte ones as ``uint32`` views
        (:func:`._design_kernels.unsigned`, no copy; numba wraps a signed index around, a test
        and a select per read), 8-byte ones as they are. The stored arrays stay signed (scipy
        reads them). Made once per pair of arrays and kept (a sparse path asks ~440 times:
        two fresh views each, 1.5 % of sparse-few's path); kept with the arrays it was made
        for, so a design whose arrays were replaced gets views of the new ones."""
        v = self._views
        if v is None or v[0] is not self.indices or v[1] is not self.indptr:
            v = self._views = (self.indices, self.indptr,
                               (K.unsigned(self.indices), K.unsigned(self.indptr)))
        return v[2]

    @property
    def args(self):
        """Leading arguments of every column kernel (indices as :attr:`index_views`)."""
        return (self.data, *self.index_views, self.n, self.is_sparse)

    def cached(self, name: str, key: tuple, build: Callable[[], object]):
        """The value kept in the cache ``name`` (``'ridge'``, ``'small_gram'`` or ``'csr'``)
        for ``key``, else ``build()`` (computed outside the lock), kept for the next call."""
        with self.lock:
            hit = getattr(self, name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = build()
        with self.lock:
            setattr(self, name, (key, value))
        return value

    def stats(self, s, fit_intercept: bool):
        """``(xbar, L)`` for normalized weights ``s`` (see
        :func:`_design_kernels.column_stats_dense`)."""
        def build():
            if self.is_sparse:
                return K.column_stats_sparse(self.data, *self.index_views, self.n,
                                             self.p, s, bool(fit_intercept))
            return K.column_stats_dense(self.data, self.n, self.p, s, bool(fit_intercept))

        return self._stats_entry((s.tobytes(), bool(fit_intercept)), build)

    def _stats_entry(self, key, build):
        """``stats_cache[key]``, else ``build()`` (computed outside the lock), kept; the cache is
        emptied when it holds more than ``_MAX_STATS`` entries."""
        with self.lock:
            hit = self.stats_cache.get(key)
        if hit is None:
            hit = build()
            with self.lock:
                if len(self.stats_cache) > _MAX_STATS:
                    self.stats_cache.clear()
                self.stats_cache[key] = hit
        return hit

    def sqrt_norms(self, s, fit_intercept: bool) -> np.ndarray:
        """``sqrt(L)``, ``L`` of :meth:`stats` (0 where a column carries nothing), kept with the
        statistics: a path's solves each need it, and it cost 0.3 ms at p = 50,000 per solve."""
        def build():
            out = np.sqrt(np.maximum(self.stats(s, fit_intercept)[1], 0.0))
            out.flags.writeable = False  # shared by every solve on this design
            return out

        return self._stats_entry((s.tobytes(), bool(fit_intercept), "sqrt"), build)

    def csr_arrays(self) -> tuple:
        """``(data, indices, indptr)`` of X in CSR (sparse X only), made once and kept: the
        rows of X, read by :func:`._design_kernels.centered_grad_update`, the index arrays as
        :attr:`index_views` gives the CSC ones. As much memory as X again
        (``regulab.core.memory.path_memory`` counts it)."""
        def build():
            from scipy import sparse

            A = sparse.csc_matrix((self.data, self.indices, self.indptr),
                                  shape=(self.n, self.p)).tocsr()
            return A.data, K.unsigned(A.indices), K.unsigned(A.indptr)

        return self.cached("csr", (), build)

    def xt_dot(self, v):
        if self.is_sparse:  # unsigned indices (index_views): 1.58 -> 1.07 ms a pass on
            # sparse-tall, the same bits
            return K.xt_dot_sparse(self.data, *self.index_views, self.p,
                                   np.ascontiguousarray(v, dtype=np.float64))
        return K.xt_dot_dense(self.data, self.n, self.p, np.ascontiguousarray(v, dtype=np.float64))

    def x_dot(self, w):
        # unsigned indices: no wrap-around test per stored entry (index_views)
        return K.x_dot(self.data, *self.index_views, self.n, self.p, self.is_sparse,
                       np.ascontiguousarray(w, dtype=np.float64))


def _float_dtype(dtype):
    return np.float32 if dtype == np.float32 else np.float64


def _build(X) -> Design:
    if issparse(X):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got {X.ndim} dimensions")
        dt = _float_dtype(X.dtype)
        if X.format != "csc":
            Xc = X.tocsc()
        else:
            Xc = X
        if Xc.dtype != dt:
            Xc = Xc.astype(dt)
        if not Xc.has_canonical_format:
            Xc = Xc.copy()
            Xc.sum_duplicates()
        n, p = Xc.shape
        data = np.ascontiguousarray(Xc.data)
        indices = np.ascontiguousarray(Xc.indices)
        indptr = np.ascontiguousarray(Xc.indptr)
        if indices.dtype != indptr.dtype:
            idt = np.int64 if np.int64 in (indices.dtype, indptr.dtype) else np.int32
            indices, indptr = indices.astype(idt), indptr.astype(idt)
        D = Design(data, indices, indptr, n, p, True)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array with {X.ndim} dimension(s)")
        if X.dtype == object or not (np.issubdtype(X.dtype, np.number)
                                     or X.dtype == np.bool_):
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"X must be numeric: {exc}") from None
        if np.iscomplexobj(X):
            raise ValueError("X must be real, got complex values")
        dt = _float_dtype(X.dtype)
        n, p = X.shape
        Xf = np.asfortranarray(X, dtype=dt)
        data = Xf.ravel(order="F")  # a view of the Fortran array
        D = Design(data, _INT_DUMMY, _INT_DUMMY, n, p, False, dense=Xf)
    if D.is_sparse or D.data.size > _NUMPY_CHECK:
        bad = K.first_nonfinite(D.data, *D.index_views, D.n, D.p, D.is_sparse)
    else:  # the same answer, exactly: a small first run need not compile the kernel for it
        finite = np.isfinite(D.dense).all(axis=0)
        bad = -1 if finite.all() else int(np.argmin(finite))
    if bad >= 0:
        raise ValueError(f"X has a NaN or infinite value in column {bad}")
    return D


# ---------------------------------------------------------------------------------------------
# identity cache
# ---------------------------------------------------------------------------------------------
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.RLock()  # re-entrant: a weakref callback may fire while held
_CACHE_SIZE = 3


def _fingerprint(X):
    if issparse(X):
        arrays = [getattr(X, a) for a in ("data", "indices", "indptr", "row", "col", "offsets")
                  if hasattr(X, a)]
        key = (X.format, X.shape, X.dtype.str)
        for a in arrays:
            a = np.asarray(a)
            key += (a.__array_interface__["data"][0], a.shape, a.dtype.str)
        data = np.asarray(X.data)
        with np.errstate(all="ignore"):
            d64 = data.astype(np.float64, copy=False)
            csum = float(d64.sum() + d64 @ _weights(d64.size)) if data.size else 0.0
            for a in arrays[1:]:  # index arrays: an in-place edit changes the weighted sum
                a = np.asarray(a)
                csum += float(a @ _weights(a.size)) if a.size else 0.0
        return key + (csum,)
    ai = X.__array_interface__
    with np.errstate(all="ignore"):
        # column and row sums, each folded with position-dependent weights: an in-place edit,
        # including a permutation of rows or columns, changes them
        cs = X.sum(axis=0, dtype=np.float64)
        rs = X.sum(axis=1, dtype=np.float64)
        csum = float(cs.sum() + cs @ _weights(cs.size) + rs @ _weights(rs.size))
    return (ai["data"][0], X.shape, X.strides, X.dtype.str, csum)


_WEIGHTS: dict = {}


def _weights(m):
    w = _WEIGHTS.get(m)
    if w is None:
        # the fractional part of sqrt(i), plus 0.5: ``s - floor(s)`` is ``s % 1.0`` to the bit
        # (exact for s >= 0) at a fifth of its cost (1.6 vs 7.3 ms at m = 10^6, paid by the
        # first fit on each new X)
        w = np.sqrt(np.arange(1.0, m + 1.0))
        w -= np.floor(w)
        w += 0.5
        w.setflags(write=False)
        if len(_WEIGHTS) >= 8:
            _WEIGHTS.clear()
        _WEIGHTS[m] = w
    return w


def as_design(X) -> Design:
    """A :class:`Design` for ``X``, reusing the previous one when X is the same, unchanged."""
    if isinstance(X, Design):
        return X
    cacheable = ((issparse(X) and X.format in ("csr", "csc", "coo"))
                 or isinstance(X, np.ndarray)) and getattr(X, "size", 0) > 0
    if cacheable and isinstance(X, np.ndarray) and (X.ndim != 2 or X.dtype.kind not in "fiub"):
        cacheable = False
    if not cacheable:
        return _build(X)
    fp = _fingerprint(X)
    if np.isnan(fp[-1]):  # NaN/inf: build (and raise) every time
        return _build(X)
    key = id(X)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            ref, fp_old, D = hit
            if ref() is X and fp_old == fp:
                _CACHE.move_to_end(key)
                return D
            del _CACHE[key]
    D = _build(X)
    try:
        ref = weakref.ref(X, lambda _r, k=key, drop=_drop: drop(k, _r))  # bound: see _drop
    except TypeError:
        return D
    with _CACHE_LOCK:
        _CACHE[key] = (ref, fp, D)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return D


def _drop(key, ref, cache=_CACHE, lock=_CACHE_LOCK):
    # cache and lock bound at definition: at interpreter exit the module's globals are already
    # None when the last arrays are collected
    if not lock.acquire(blocking=False):  # another thread holds it: the entry goes stale,
        return                            # and is replaced on its next lookup
    try:
        hit = cache.get(key)
        if hit is not None and hit[0] is ref:
            del cache[key]
    finally:
        lock.release()
