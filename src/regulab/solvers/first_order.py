"""Instrumented first-order solvers: every iteration is recorded in a
:class:`~regulab.core.trace.Trace`.

All four minimize ``loss(X w + b; y) + penalty(w)`` (intercept ``b`` unpenalized, only fitted
when ``fit_intercept``) and take the same step by default, ``1 / L`` with ``L`` the Lipschitz
constant of the loss gradient (for gradient descent, plus ``2 * l2`` of the penalty)::

    gradient descent      w <- w - t * (grad f(w) + grad P(w))           (P smooth: L2 or none)
    subgradient descent   w <- w - t_k * (grad f(w) + g),  g the minimum-norm subgradient of P
    ISTA                  w <- prox_{t P}(w - t * grad f(w))
    FISTA                 ISTA taken at an extrapolated point (Beck & Teboulle, 2009)

They are teaching instruments: they exist to show *how* each method moves (ISTA lands on exact
zeros, subgradient descent never does). The fast exact solvers live elsewhere.
"""

from __future__ import annotations

import math

import numpy as np

from regulab.core.losses import SquaredLoss, make_loss
from regulab.core.trace import Trace
from regulab.core.validation import check_nonneg, check_positive
from regulab.solvers.checks import check_max_iter
from regulab.solvers.problem import Problem, SolverResult


def _setup(X, y, loss, penalty, fit_intercept, sample_weight):
    loss = make_loss(loss) if isinstance(loss, str) else (SquaredLoss() if loss is None else loss)
    return Problem(X, y, loss, penalty, fit_intercept, sample_weight)


def _null_loss(prob: Problem) -> float:
    w0, b0 = prob.start()
    return prob.loss.value(prob.X, prob.y, np.zeros_like(w0), b0, prob.sample_weight)


def _run(prob: Problem, update, step: float, max_iter: int, tol: float, w0, b0, record_w: bool,
         name: str, step_at=None) -> SolverResult:
    """Drive ``update(k, w, b) -> (w, b)``, recording each iterate, until the stopping test.

    Stopping: the relative duality gap ``gap / null_loss <= tol`` where the gap is certifiable
    (squared loss with a penalty), otherwise ``max |change of (w, b)| <= tol``. ``tol = 0`` runs
    exactly ``max_iter`` iterations (what the claims use to draw whole trajectories).
    """
    max_iter = check_max_iter(max_iter)
    tol = check_nonneg(tol, "tol")
    w, b = prob.start(w0, b0)
    trace = Trace(record_w=record_w)
    scale = _null_loss(prob) or 1.0
    gap = prob.gap(w, b)
    trace.append(w, b, prob.objective(w, b), 0.0, gap)
    converged = False
    k = 0
    for k in range(1, max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            w_new, b_new = update(k, w, b)
            finite = bool(np.all(np.isfinite(w_new))) and math.isfinite(b_new)
            objective = prob.objective(w_new, b_new) if finite else float("inf")
        if not math.isfinite(objective):
            raise FloatingPointError(
                f"{name} diverged at iteration {k} (step {step:g} too large for this problem?)")
        change = max(float(np.max(np.abs(w_new - w))) if w.size else 0.0, abs(b_new - b))
        w, b = w_new, b_new
        gap = prob.gap(w, b)
        trace.append(w, b, objective, step if step_at is None else step_at(k), gap)
        if tol > 0:
            done = (gap / scale <= tol) if not math.isnan(gap) else (change <= tol)
            if done:
                converged = True
                break
    return SolverResult(w=w, intercept=b, trace=trace, n_iter=k, converged=converged,
                        solver=name)


def _default_step(prob: Problem, step, extra_lipschitz: float = 0.0) -> float:
    if step is not None:
        return check_positive(step, "step")
    L = prob.lipschitz() + extra_lipschitz
    if L <= 0:
        raise ValueError("the loss gradient is constant (X is all zeros?): give step explicitly")
    return 1.0 / L


def gradient_descent(X, y, loss=None, penalty=None, *, step=None, max_iter=1000, tol=1e-12,
                     fit_intercept=False, sample_weight=None, w0=None, b0=None,
                     record_w=True) -> SolverResult:
    """Gradient descent on ``f(w, b) + P(w)`` for a differentiable penalty (L2 or none).

    Minimizes ``sum_i s_i loss(y_i, x_i.w + b) + P(w)`` by ``w <- w - t (grad f + grad P)``.
    Default step ``1 / (L_f + 2 * l2)``, the inverse Lipschitz constant of the whole gradient.
    L1 has no gradient at 0: use :func:`subgradient_descent` or :func:`ista` for it.
    """
    prob = _setup(X, y, loss, penalty, fit_intercept, sample_weight)
    if penalty is not None and not penalty.smooth:
        raise ValueError(f"gradient_descent needs a differentiable penalty (l2 or none), got "
                         f"{penalty.name}; use subgradient_descent or ista")
    l2 = 0.0 if penalty is None else penalty.l1_l2_parts()[1]
    t = _default_step(prob, step, 2.0 * l2)

    def update(k, w, b):
        gw, gb = prob.loss_gradient(w, b)
        if penalty is not None:
            gw = gw + penalty.subgradient(w)
        return w - t * gw, b - t * gb

    return _run(prob, update, t, max_iter, tol, w0, b0, record_w, "gradient_descent")


def subgradient_descent(X, y, loss=None, penalty=None, *, step=None, step_rule="constant",
                        max_iter=1000, tol=0.0, fit_intercept=False, sample_weight=None,
                        w0=None, b0=None, record_w=True) -> SolverResult:
    """Subgradient descent ``w <- w - t_k (grad f(w) + g(w))`` on ``f(w, b) + P(w)``.

    ``g(w)`` is the penalty's minimum-norm subgradient (``lam * sign(w)`` for L1, ``0`` at
    exactly 0). ``step_rule='constant'`` uses ``t_k = t`` (the iterates end up oscillating in a
    band of width about ``t * lam`` around a kink: they do not converge); ``'sqrt'`` uses
    ``t_k = t / sqrt(k)``, which converges, slowly, in objective value. Neither produces exact
    zeros except by accident of floating point.
    """
    prob = _setup(X, y, loss, penalty, fit_intercept, sample_weight)
    t = _default_step(prob, step)
    if step_rule not in ("constant", "sqrt"):
        raise ValueError(f"step_rule must be 'constant' or 'sqrt', got {step_rule!r}")

    def step_at(k):
        return t if step_rule == "constant" else t / math.sqrt(k)

    def update(k, w, b):
        gw, gb = prob.loss_gradient(w, b)
        if penalty is not None:
            gw = gw + penalty.subgradient(w)
        tk = step_at(k)
        return w - tk * gw, b - tk * gb

    return _run(prob, update, t, max_iter, tol, w0, b0, record_w, "subgradient_descent", step_at)


def ista(X, y, loss=None, penalty=None, *, step=None, max_iter=1000, tol=1e-12,
         fit_intercept=False, sample_weight=None, w0=None, b0=None,
         record_w=True) -> SolverResult:
    """Proximal gradient (ISTA): ``w <- prox_{t P}(w - t grad f(w))``, ``b <- b - t df/db``.

    With the L1 penalty the prox is soft-thresholding, which returns exactly 0 whenever the
    gradient step lands within ``t * lam`` of 0: ISTA reaches exact zeros in finitely many steps.
    Default step ``1 / L_f``; objective error ``O(1/k)``.
    """
    prob = _setup(X, y, loss, penalty, fit_intercept, sample_weight)
    t = _default_step(prob, step)

    def update(k, w, b):
        gw, gb = prob.loss_gradient(w, b)
        v = w - t * gw
        return (v if penalty is None else penalty.prox(v, t)), b - t * gb

    return _run(prob, update, t, max_iter, tol, w0, b0, record_w, "ista")


def fista(X, y, loss=None, penalty=None, *, step=None, max_iter=1000, tol=1e-12,
          fit_intercept=False, sample_weight=None, w0=None, b0=None, restart=True,
          record_w=True) -> SolverResult:
    """FISTA: ISTA's step taken from ``z_k = w_k + ((t_{k-1} - 1) / t_k) (w_k - w_{k-1})``.

    Objective error ``O(1/k**2)``. With ``restart`` the momentum is reset whenever the objective
    goes up (O'Donoghue & Candes' adaptive restart), which keeps the iterates monotone.
    The recorded iterates are the ``w_k`` (each the output of a prox, so exact zeros show).
    """
    prob = _setup(X, y, loss, penalty, fit_intercept, sample_weight)
    t = _default_step(prob, step)
    state = {"theta": 1.0, "w_prev": None, "b_prev": None, "obj": None}

    def update(k, w, b):
        if state["w_prev"] is None:
            state["w_prev"], state["b_prev"] = w.copy(), b
            state["obj"] = prob.objective(w, b)
        theta = state["theta"]
        theta_next = (1.0 + math.sqrt(1.0 + 4.0 * theta * theta)) / 2.0
        beta = (theta - 1.0) / theta_next
        zw = w + beta * (w - state["w_prev"])
        zb = b + beta * (b - state["b_prev"])
        gw, gb = prob.loss_gradient(zw, zb)
        v = zw - t * gw
        w_new = v if penalty is None else penalty.prox(v, t)
        b_new = zb - t * gb
        obj = prob.objective(w_new, b_new)
        if restart and obj > state["obj"]:
            # momentum overshot: restart from a plain ISTA step at (w, b)
            gw, gb = prob.loss_gradient(w, b)
            v = w - t * gw
            w_new = v if penalty is None else penalty.prox(v, t)
            b_new = b - t * gb
            obj = prob.objective(w_new, b_new)
            theta_next = 1.0
        state["theta"], state["w_prev"], state["b_prev"], state["obj"] = theta_next, w, b, obj
        return w_new, b_new

    return _run(prob, update, t, max_iter, tol, w0, b0, record_w, "fista")
