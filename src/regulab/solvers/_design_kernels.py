"""Compiled (numba) primitives on the design matrix, shared by every solver kernel.

One design representation serves dense and sparse X, so that each kernel has one compiled
specialization per dtype of X (float32 or float64), not one per storage:

* dense:  ``data`` is X flattened in Fortran order (column ``j`` is ``data[j*n:(j+1)*n]``),
  ``indices``/``indptr`` are unused dummies and ``is_sparse`` is False;
* sparse: ``(data, indices, indptr)`` are the arrays of a CSC matrix and ``is_sparse`` is True.

``data`` keeps the caller's dtype (float32 stays float32); every product is taken in float64.
Every kernel takes the same leading arguments (:attr:`regulab.solvers.design.Design.args`), used
or not.

Compiled with ``cache=True``: the machine code is written next to this file (or to numba's user
cache), so the compile cost is paid once per install and dtype.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

# reassociation lets LLVM vectorize the dot products; no 'nnan'/'ninf': non-finite values are
# checked for and must keep their IEEE meaning.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

# --------------------------------------------------------------------------------------------
# column primitives (inlined by LLVM into their callers)
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def col_dot(data, indices, indptr, n, is_sparse, j, v):
    """``sum_i x_ij v_i``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * v[indices[k]]
    else:
        off = j * n
        for i in range(n):
            acc += data[off + i] * v[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_wdot(data, indices, indptr, n, is_sparse, j, s, v):
    """``sum_i s_i x_ij v_i``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            acc += data[k] * s[i] * v[i]
    else:
        off = j * n
        for i in range(n):
            acc += data[off + i] * s[i] * v[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_wsq(data, indices, indptr, n, is_sparse, j, h):
    """``sum_i h_i x_ij**2``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            x = data[k] * 1.0
            acc += h[indices[k]] * x * x
    else:
        off = j * n
        for i in range(n):
            x = data[off + i] * 1.0
            acc += h[i] * x * x
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_axpy(data, indices, indptr, n, is_sparse, j, a, v):
    """``v += a * x_j``."""
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            v[indices[k]] += a * data[k]
    else:
        off = j * n
        for i in range(n):
            v[i] += a * data[off + i]


# --------------------------------------------------------------------------------------------
# bit tools for the passes over p that mark features in a 64-bit mask per block (a branch-free
# loop LLVM vectorizes) and then visit only the marked ones
# --------------------------------------------------------------------------------------------
@intrinsic
def float_bits(typingctx, x):
    """The bits of the float64 ``x`` as an int64 (a bitcast: no conversion). For ``x >= +0.0``
    they order as ``x`` does (``+inf`` last), so a maximum over non-negative floats can be
    taken as an integer maximum, which LLVM vectorizes without fastmath (a float maximum by
    ``>`` it does not: it keeps the order of a NaN's comparisons)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def bits_float(typingctx, b):
    """The float64 whose bits are the int64 ``b`` (the inverse of :func:`float_bits`)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def lowest_bit(typingctx, mask):
    """The position of the lowest set bit of the uint64 ``mask`` (``llvm.cttz``: one
    instruction; ``mask`` must not be 0), as an int64."""
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


# --------------------------------------------------------------------------------------------
# whole-design kernels
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def first_nonfinite(data, indices, indptr, n, p, is_sparse):
    """Column index of the first NaN/inf in X, or -1."""
    for j in range(p):
        if is_sparse:
            for k in range(indptr[j], indptr[j + 1]):
                if not np.isfinite(data[k]):
                    return j
        else:
            off = j * n
            for i in range(n):
                if not np.isfinite(data[off + i]):
                    return j
    return -1


@njit(cache=True, fastmath={"contract"})
def column_stats_dense(data, n, p, s, fit_intercept):
    """Weighted column means ``xbar`` (0 without intercept) and centered squared norms ``L`` of a
    dense X.

    ``L_j = sum_i s_i (x_ij - xbar_j)**2`` by a two-pass formula (no cancellation); a column that
    is constant over the rows of positive weight gets ``L_j = 0`` *exactly* when an intercept is
    fitted (it carries no information beyond the intercept), as does an all-zero column. Dense
    and sparse X are two kernels (:func:`column_stats_sparse`): a first run compiles only the
    one its X needs.
    """
    xbar = np.empty(p)  # every entry is written (np.zeros would compile numba's zero fill)
    L = np.empty(p)
    for j in range(p):
        # constant over positive-weight rows?
        const = True
        first = 0.0
        seen = False
        off = j * n
        for i in range(n):
            if s[i] > 0.0:
                x = data[off + i] * 1.0
                if not seen:
                    first = x
                    seen = True
                elif x != first:
                    const = False
                    break
        if const and (fit_intercept or first == 0.0):
            xbar[j] = first if fit_intercept else 0.0
            L[j] = 0.0
            continue
        m = 0.0
        if fit_intercept:
            for i in range(n):
                m += s[i] * data[off + i]
        acc = 0.0
        for i in range(n):
            dx = data[off + i] - m
            acc += s[i] * dx * dx
        xbar[j] = m
        L[j] = acc
    return xbar, L


@njit(cache=True, fastmath={"contract"})
def column_stats_sparse(data, indices, indptr, n, p, s, fit_intercept):
    """:func:`column_stats_dense` for a CSC X (implicit zeros count as values)."""
    xbar = np.empty(p)
    L = np.empty(p)
    n_pos = 0
    for i in range(n):
        if s[i] > 0.0:
            n_pos += 1
    for j in range(p):
        const = True
        first = 0.0
        seen = False
        cnt = 0
        for k in range(indptr[j], indptr[j + 1]):
            if s[indices[k]] > 0.0:
                cnt += 1
                x = data[k] * 1.0
                if not seen:
                    first = x
                    seen = True
                elif x != first:
                    const = False
        if cnt < n_pos:  # implicit zeros among the weighted rows
            if seen and first != 0.0:
                const = False
            first = 0.0 if const else first
        if const and (fit_intercept or first == 0.0):
            xbar[j] = first if fit_intercept else 0.0
            L[j] = 0.0
            continue
        m = 0.0
        if fit_intercept:
            for k in range(indptr[j], indptr[j + 1]):
                m += s[indices[k]] * data[k]
        acc = 0.0
        sw = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            si = s[indices[k]]
            dx = data[k] - m
            acc += si * dx * dx
            sw += si
        rest = 1.0 - sw
        if rest > 0.0:
            acc += rest * m * m
        xbar[j] = m
        L[j] = acc
    return xbar, L


@njit(cache=True, fastmath=FASTMATH)
def xt_dot_dense(data, n, p, v):
    """``X^T v`` (float64) for dense X. The loop of :func:`col_dot` written out, not called: the
    same machine code (bit-identical, tested), and a first run compiles no ``col_dot`` for it."""
    out = np.empty(p)
    for j in range(p):
        acc = 0.0
        off = j * n
        for i in range(n):
            acc += data[off + i] * v[i]
        out[j] = acc
    return out


@njit(cache=True, fastmath=FASTMATH)
def x_dot(data, indices, indptr, n, p, is_sparse, w):
    """``X w`` (float64), touching only the non-zero coefficients. On a sparse X the columns
    are listed first (without a branch) and each one's stored entries prefetched
    ``COLS_AHEAD`` columns ahead (:func:`prefetch_span`): the same sums in the same order;
    with :func:`unsigned` indices 1.09 -> 0.70 ms on sparse-tall at a support of 4,494, 0.72
    -> 0.38 ms on sparse-many at 13,952 (docs/benchmarks.md, "Ninth round")."""
    out = np.zeros(n)
    if not is_sparse:
        for j in range(p):
            if w[j] != 0.0:
                col_axpy(data, indices, indptr, n, is_sparse, j, w[j], out)
        return out
    cols = np.empty(p, dtype=np.int64)
    m = 0
    one = np.uint64(1)
    for b0 in range(0, p, 64):  # a vectorized mark per 64 columns, its set bits listed in order
        ub0 = np.uint64(b0)  # unsigned: no wrap-around test per read (no gathers)
        mask = np.uint64(0)
        for j in range(ub0, np.uint64(min(p, b0 + 64))):
            mask |= np.uint64(w[j] != 0.0) << (j - ub0)
        while mask != 0:
            cols[m] = b0 + lowest_bit(mask)
            m += 1
            mask &= mask - one
    for k in range(min(COLS_AHEAD, m)):
        prefetch_span(data, indices, indptr[cols[k]], indptr[cols[k] + 1])
    for k in range(m):
        if k + COLS_AHEAD < m:
            jj = cols[k + COLS_AHEAD]
            prefetch_span(data, indices, indptr[jj], indptr[jj + 1])
        j = cols[k]
        col_axpy(data, indices, indptr, n, True, j, w[j], out)
    return out


@njit(cache=True, fastmath=False)
def xt_dot_sparse(data, indices, indptr, p, v):
    """``X^T v`` (float64) for CSC X. No fastmath: reassociation makes LLVM vectorize the
    gather badly, measured twice as slow as this plain loop."""
    out = np.empty(p)
    for j in range(p):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * v[indices[k]]
        out[j] = acc
    return out


# --------------------------------------------------------------------------------------------
# vector reductions (compiled: a BLAS dot may wake a thread pool, which costs milliseconds on a
# busy machine, many times per solve)
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def vdot(a, b):
    """``sum_i a_i b_i``."""
    acc = 0.0
    for i in range(a.size):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def wdot(s, a, b):
    """``sum_i s_i a_i b_i``."""
    acc = 0.0
    for i in range(a.size):
        acc += s[i] * a[i] * b[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def moved_wdist(s, r, r0, sr):
    """``sum_i s_i (r_i - r0_i)**2`` (the squared distance of a bounded gradient's residual
    from its reference, :class:`regulab.solvers.exact.gradient_bound.GradientBound`), with
    ``sr = s r`` written in the same pass over n (numpy: four passes and the array ``r - r0``)."""
    acc = 0.0
    for i in range(r.size):
        d = r[i] - r0[i]
        acc += s[i] * d * d
        sr[i] = s[i] * r[i]
    return acc


def unsigned(a: np.ndarray) -> np.ndarray:
    """``a``, an array of non-negative integers (CSC row indices or column pointers), viewed
    as ``uint32`` (no copy) when it holds ``int32``; else ``a`` itself.

    numba wraps a negative index around (``i + n``): every ``q[indices[t]]`` read through a
    signed index carries a test and a select, which an unsigned one does not. In the sparse CD
    epoch on sparse-tall (250 entries a column) that was 1.50 against 0.84 ns per stored entry,
    with the same bits (docs/benchmarks.md, "Ninth round"). 8-byte indices stay signed: numba
    types ``uint64`` plus a signed integer as a float, which cannot index."""
    return a.view(np.uint32) if a.dtype == np.int32 else a


# --------------------------------------------------------------------------------------------
# prefetch hints, and the gradient's partial (by columns) and incremental (by the rows of a CSR
# copy of a sparse X: ``Design.csr_arrays``) updates
# --------------------------------------------------------------------------------------------
@intrinsic
def prefetch(typingctx, arr, idx):
    """A prefetch hint for ``arr[idx]`` (LLVM's ``llvm.prefetch``: read, high locality, data):
    the load is started without waiting for it, unlike a plain read, which holds the reorder
    buffer; nothing is read or written, so no result changes."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


#: columns ahead whose stored entries :func:`x_dot` and :func:`bounded_grad` prefetch (x_dot on
#: sparse-tall at supports of 2,970 / 4,494, signed indices: none 1.37 / 1.76 ms, 4 0.90 / 1.29,
#: 8 0.86 / 1.28; bounded_grad on sparse-few's 49 requests, replayed: 2 / 4 / 8 / 12 / 16 ahead
#: 10.8 / 9.5-9.7 / 8.3-8.4 / 8.4 / 8.3-8.8 ms, docs/benchmarks.md, "Eleventh round")
COLS_AHEAD = 8
#: rows :func:`centered_grad_update` marks in one bit mask, between two tests of its limit
#: (named apart from :func:`bounded_grad`'s ``SCAN_BLOCK``: numba reads a global when it
#: compiles, so one name defined twice gave both kernels the later value)
ROW_BLOCK = 64
#: rows ahead whose stored entries :func:`centered_grad_update` prefetches
ROWS_AHEAD = 4
#: cache lines of a row's values (8 float64 each) that :func:`prefetch_head` asks for, and the
#: lines of its indices over as many entries: 64 entries, sparse-few's and sparse-many's rows
#: hold 50 and sparse-tall's 25 on average (longer rows are read in order, which the hardware
#: prefetcher follows). 8 against 12 lines on the captured calls: 0.85 against 0.89 of
#: :func:`prefetch_span` on sparse-few, 0.89 / 0.93 on sparse-tall (docs/benchmarks.md,
#: "Twelfth round: a tiled scatter")
ROW_LINES = 8


def line_entries(a) -> int:
    """Entries of the array ``a`` in a 64-byte cache line. In a kernel a constant of ``a``'s
    type (the overload below): ``64 // a.itemsize`` there is a division at run time, as numba
    reads ``itemsize`` from the array, which :func:`prefetch_span` paid for every span it hints
    (in the sparse CD epoch, once a column visit; docs/benchmarks.md, "Twelfth round: a tiled
    scatter")."""
    return 64 // a.itemsize


@overload(line_entries, inline="always")
def _line_entries(a):
    step = 64 // (a.dtype.bitwidth // 8)

    def impl(a):
        return step
    return impl


@njit(cache=True, inline="always")
def prefetch_span(data, indices, start, stop):
    """:func:`prefetch` the cache lines of ``data[start:stop]`` and ``indices[start:stop]`` (one
    row of CSR arrays, one column of CSC ones; 64-byte lines: 8 float64, 16 int32 or 8 int64).
    Inlined by numba: as a call from the CD epoch it cost 18 % per stored entry on sparse-many
    (3.1 -> 3.7 ns, ``benchmarks/cd_calls_ab.py``)."""
    for t in range(start, stop, 8):
        prefetch(data, t)
    for t in range(start, stop, line_entries(indices)):
        prefetch(indices, t)


@njit(cache=True, inline="always")
def prefetch_head(data, indices, start, stop):
    """:func:`prefetch` the first ``ROW_LINES`` cache lines of ``data[start:stop]`` (8 entries
    apart) and ``indices``' lines at the same entries (each 4-byte line twice: a stride read from
    the array's itemsize is a division at run time), an entry past ``stop`` replaced by the
    span's last (a hint again, nothing read beyond the span; an empty span hints at ``start``,
    which reads nothing either). A fixed count of hints, unrolled by LLVM: no loop whose trip
    count changes from one span to the next, nor the division per span of
    :func:`prefetch_span` (docs/benchmarks.md, "Twelfth round: a tiled scatter")."""
    hi = max(stop, start + 1) - 1
    for r in range(ROW_LINES):
        t = min(start + 8 * r, hi)
        prefetch(data, t)
        prefetch(indices, t)


@njit(cache=True, fastmath=False)
def centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, limit, g0, g):
    """``g = g0 + X_c^T (s (q - q0))`` through the rows where ``q_i != q0_i`` only, read from
    the CSR arrays ``(rdata, rcols, rptr)`` of X; 0 on the features that are not ``active``.
    ``g`` may be ``g0`` (in place).

    ``X_c^T (s dq) = X^T (s dq) - xbar sum_i s_i dq_i``: the increment is accumulated apart
    (one rounding of ``g`` per entry) and centered as a whole. Returns the stored entries read,
    or -1 (``g`` untouched) when the changed rows hold more than ``limit`` of them. No
    fastmath: the scatter does not vectorize, and the certificate keeps IEEE arithmetic.

    The increment is accumulated in ``g`` itself when it does not overlap ``g0`` (a separate
    array of p zeros otherwise): the last pass then reads one array of p less (sparse-few's 61
    calls, replayed: ~0.8 of 26 ms with the scan below)."""
    n = q.size
    p = g.size
    rows = np.empty(n, dtype=np.int64)
    cost = 0
    m = 0
    one = np.uint64(1)
    # by blocks of 64 rows: a branch-free loop (vectorized by LLVM; the changed rows are
    # scattered, a branch on them was mispredicted about as often as not) marks the changed
    # ones in a bit mask and sums their entries; the set bits are then listed in order
    for b0 in range(0, n, ROW_BLOCK):
        ub0 = np.uint64(b0)  # unsigned: no wrap-around test per read (no gathers)
        mask = np.uint64(0)
        for i in range(ub0, np.uint64(min(n, b0 + ROW_BLOCK))):
            moved = q[i] != q0[i]
            mask |= np.uint64(moved) << (i - ub0)
            cost += (rptr[i + one] - rptr[i]) * moved
        while mask != 0:
            rows[m] = b0 + lowest_bit(mask)
            m += 1
            mask &= mask - one
        if cost > limit:
            return -1
    a0 = g0.ctypes.data
    a1 = g.ctypes.data
    d = g if a1 + g.nbytes <= a0 or a0 + g0.nbytes <= a1 else np.empty(p)
    for j in range(np.uint64(0), np.uint64(p)):
        d[j] = 0.0
    tot = 0.0
    for k in range(m):
        # the changed rows lie apart in memory: without the hint each row's first cache lines
        # are a full memory latency (measured 2.5 times the column pass's cost per entry); a
        # fixed count of lines (prefetch_head), not a loop over the row (prefetch_span): 0.85
        # of the time on sparse-few's calls, the same bits
        if k + ROWS_AHEAD < m:
            j = rows[k + ROWS_AHEAD]
            prefetch_head(rdata, rcols, rptr[j], rptr[j + 1])
        i = rows[k]
        v = s[i] * (q[i] - q0[i])
        tot += v
        for t in range(rptr[i], rptr[i + 1]):
            d[rcols[t]] += rdata[t] * v
    # the copy of ``g0`` fused here (a pass over p less than copying it first: the same bits)
    for j in range(np.uint64(0), np.uint64(p)):
        g[j] = g0[j] + (d[j] - xbar[j] * tot) if active[j] else 0.0
    return cost


#: :func:`bounded_grad` scans p in blocks of this many features (the bits of a ``uint64``)
SCAN_BLOCK = 64


@njit(cache=True, fastmath=False)
def bounded_grad(data, indices, indptr, g0, sqrtL, delta, half, w, active, sr, xbar, sr_sum,
                 limit, out, need, prev, cand, ncand, ws):
    """The gradient of :class:`regulab.solvers.exact.gradient_bound.GradientBound` in one call:
    ``out[j] = sum_i x_ij sr_i - xbar_j sr_sum`` (the loop of :func:`xt_dot_sparse`, no
    fastmath: the same bits as the full product) for the active features with ``w_j != 0`` or
    ``|g0_j| + sqrtL_j delta > half`` (the needed ones, listed in increasing order in
    ``need``), ``out[j] = g0[j]`` elsewhere. Returns their number, or -1 if more than ``limit``
    (``out`` then holds no gradient).

    ``out`` is reused between calls on one ``g0``: with ``prev >= 0`` it equals ``g0`` except at
    ``need[:prev]`` (the last call's list), which is restored first; with ``prev < 0`` it is
    filled from ``g0``. ``ncand >= 0``: the needed features all lie in the union of the sorted
    lists ``cand[:ncand]`` and ``ws`` (:meth:`GradientBound.listing`), and only those are
    tested; else one scan over p (``need`` then has room for ``p`` entries)."""
    p = g0.size
    if prev >= 0:
        for k in range(prev):
            j = need[k]
            out[j] = g0[j]
    count = 0
    if ncand >= 0:
        if prev < 0:  # a loop, not ``out[:] = g0`` (tests/test_startup.py: compile time)
            for j in range(p):
                out[j] = g0[j]
        # the two sorted lists merged (a feature in both once): ``need`` comes out sorted
        a = 0
        b = 0
        nws = ws.size
        while a < ncand or b < nws:
            if b >= nws or (a < ncand and cand[a] < ws[b]):
                j = cand[a]
                a += 1
            else:
                j = ws[b]
                if a < ncand and cand[a] == j:
                    a += 1
                b += 1
            if active[j] and (w[j] != 0.0 or abs(g0[j]) + sqrtL[j] * delta > half):
                if count >= limit:
                    return -1
                need[count] = j
                count += 1
    else:
        # by blocks of 64: a branch-free loop (vectorized by LLVM) marks the needed features in
        # a bit mask, which is then walked in increasing order (about one feature in ten is
        # needed); ``limit`` checked per block
        one = np.uint64(1)
        for b0 in range(0, p, SCAN_BLOCK):
            ub0 = np.uint64(b0)  # unsigned: no wrap-around test per read (no gathers)
            ub1 = np.uint64(min(p, b0 + SCAN_BLOCK))
            if prev < 0:
                for j in range(ub0, ub1):
                    out[j] = g0[j]
            mask = np.uint64(0)
            for j in range(ub0, ub1):
                mask |= np.uint64(active[j] & ((w[j] != 0.0)
                                               | (abs(g0[j]) + sqrtL[j] * delta > half))) << (j - ub0)
            while mask != 0:
                need[count] = b0 + lowest_bit(mask)
                count += 1
                mask &= mask - one
            if count > limit:
                return -1
    for m in range(count):
        if m + COLS_AHEAD < count:  # the needed columns lie apart: as in centered_grad_update
            jj = need[m + COLS_AHEAD]
            prefetch_span(data, indices, indptr[jj], indptr[jj + 1])
        j = need[m]
        acc = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            acc += data[t] * sr[indices[t]]
        out[j] = acc - xbar[j] * sr_sum
    return count
