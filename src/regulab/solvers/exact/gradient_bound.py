"""The full centered gradient of a sparse squared-loss problem, recomputed only where it can
change the duality gap, the KKT test or the working set.

With ``g = X_c^T (s r)`` known exactly at a reference residual ``r0`` (``g0``), Cauchy-Schwarz in
the weights ``s`` bounds every entry at another residual ``r``::

    |g_j(r)| <= |g0_j| + sqrt(L_j) * delta,   delta = sqrt(sum_i s_i (r_i - r0_i)**2),

``L_j = sum_i s_i x_c,ij**2`` (the centered column norms). A feature with ``w_j = 0`` whose bound
is ``<= l1 / 2`` has ``2 |g_j| <= l1``: it adds nothing to the dual's scaling ``max_j 2 |g_j|``
beyond ``l1`` nor to the elastic net's conjugate ``sum_j max(2 |g_j| - l1, 0)**2``, and it
violates no optimality condition. Only the other features' entries are recomputed (the same
loop as the full product, so the same bits); the skipped ones keep ``g0_j``, which is bounded
the same way, so the duality gap of :func:`regulab.solvers.exact.squared.residual_gap` and the
largest KKT violation computed from the returned vector are exactly those of the full gradient.
The reference is renewed by a full pass when more than ``REFRESH`` of the active features would
need recomputing. Along a sparse path of ``benchmarks/table.py``'s ``sparse-many`` row this
does the column work of about 110 full passes where 234 were made (docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np

from regulab.solvers import _cd_sparse as CDS
from regulab.solvers import _design_kernels as DK
from regulab.solvers.exact.squared import SquaredProblem

#: a full pass (and a new reference) when more than this share of the active features is needed
REFRESH = 0.5


class GradientBound:
    """The gradient of one sparse :class:`SquaredProblem` by bounds (module docstring).

    ``ref = (r0, g0)`` is the reference (None before the first full pass); it depends only on
    the design, ``y_c``, ``s`` and ``fit_intercept``, so a warm-started call of a path passes on
    its predecessor's (``LastGradient.ref``)."""

    def __init__(self, P: SquaredProblem, ref=None, sqrtL=None):
        self.P = P
        self.ref = ref
        # ``sqrtL``: the caller's ``P.D.sqrt_norms`` (each look-up hashes the weights' bytes)
        self.sqrtL = P.D.sqrt_norms(P.s, P.fit_intercept) if sqrtL is None else sqrtL
        self.n_active = int(np.count_nonzero(P.active))

    def grad(self, r, w) -> np.ndarray:
        """``X_c^T (s r)`` on the active features (0 elsewhere), exact wherever it matters."""
        P = self.P
        if self.ref is not None:
            r0, g0 = self.ref
            dr = r - r0
            delta = float(np.sqrt(DK.wdot(P.s, dr, dr)))
            D = P.D
            sr = P.s * r
            g = np.empty(D.p)
            if CDS.bounded_grad(D.data, D.indices, D.indptr, g0, self.sqrtL, delta, 0.5 * P.l1,
                                w, P.active, sr, P.xbar, float(sr.sum()),
                                int(REFRESH * self.n_active), g) >= 0:
                return g
        g = P.masked_grad(r)
        self.ref = (r.copy(), g.copy())
        return g
