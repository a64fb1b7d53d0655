"""Penalties on the parameters of any ``torch.nn.Module``, on regulab's scale.

regulab's objective (README, "The objective, and other tools' lambdas") is
``mean loss + l1 * sum|w| + l2 * sum w**2``. For a network the sums run over the *selected*
parameters:

* **weights** (the default): parameters with ``ndim >= 2`` -- the matrices of ``Linear``, the
  kernels of ``Conv``, embedding tables -- except a parameter whose own name starts with ``bias``
  (so that stacked ensembles, whose biases carry a member axis, are still read right);
* **biases** (opt-in, ``biases=True``): every other parameter -- biases and the 1-D scales and
  shifts of normalization layers.

A selection that matches nothing is an error, never a silent penalty of 0.

Other conventions (Nielsen's ``(lam/n) sum|w|`` and ``(lam/(2n)) sum w**2``, PyTorch's
``weight_decay``, Keras...) are converted by :mod:`regulab.core.conventions`; see
:meth:`NNPenalty.from_convention`.

``lam`` may be a float or a tensor broadcastable against every selected parameter (for example one
strength per member of a stacked :class:`~regulab.nn.MLPEnsemble`, shape ``(K, 1, 1)``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from regulab.core.conventions import Setting, get_convention
from regulab.core.penalties import KINDS, kind_of, parse_kind
from regulab.core.validation import check_nonneg

__all__ = ["PENALTIES", "DecayStep", "NNPenalty", "PenaltyStep", "decoupled_weight_decay_",
           "param_groups", "prox_l1_", "select_parameters", "soft_threshold_"]

#: the penalty kinds :class:`NNPenalty` accepts: regulab's one table of kinds
PENALTIES = KINDS


def _is_weight(name: str, p: torch.Tensor) -> bool:
    return p.ndim >= 2 and not name.rsplit(".", 1)[-1].startswith("bias")


def select_parameters(module: nn.Module, weights: bool = True,
                      biases: bool = False) -> list[tuple[str, nn.Parameter]]:
    """The ``(name, parameter)`` pairs of ``module`` a penalty acts on (see the module docstring).

    Raises ValueError when the selection is empty -- a module without parameters, a module with only
    biases and ``biases=False``, or ``weights=False, biases=False`` -- because a penalty over no
    parameter is a silent 0.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if not weights and not biases:
        raise ValueError("weights=False and biases=False select no parameter; a penalty over "
                         "nothing would silently be 0 (select weights, biases or both)")
    named = list(module.named_parameters())
    chosen = [(n, p) for n, p in named if (weights if _is_weight(n, p) else biases)]
    if not chosen:
        n_w = sum(_is_weight(n, p) for n, p in named)
        raise ValueError(
            f"no parameter of {type(module).__name__} matches weights={weights}, "
            f"biases={biases}: it has {n_w} weight tensor(s) (ndim >= 2) and {len(named) - n_w} "
            "bias/1-D tensor(s); refusing to return a penalty of 0"
            + (" (pass biases=True to penalize its biases)" if not biases and named else ""))
    return chosen


def _check_lam(lam, name: str = "lam"):
    """A float >= 0, or a finite non-negative tensor (per-member strengths)."""
    if isinstance(lam, torch.Tensor):
        if not torch.is_floating_point(lam):
            lam = lam.to(torch.get_default_dtype())
        if not bool(torch.isfinite(lam).all()) or bool((lam < 0).any()):
            raise ValueError(f"{name} must be finite and >= 0 everywhere, got {lam.tolist()}")
        return lam
    return check_nonneg(lam, name)


def _is_zero(lam) -> bool:
    return bool((lam == 0).all()) if isinstance(lam, torch.Tensor) else lam == 0


def soft_threshold_(p: torch.Tensor, threshold, neg_threshold=None) -> torch.Tensor:
    """In place ``p <- sign(p) * max(|p| - threshold, 0)``: exactly 0 where ``|p| <= threshold``.

    Computed as ``p - clamp(p, -threshold, threshold)``: where ``|p| <= threshold`` that is
    ``p - p``, exactly 0.0; elsewhere ``p -/+ threshold``, the same float as the formula above.
    ``neg_threshold``: ``-threshold`` computed once by a caller that applies the same tensor
    threshold many times (negation is exact: the same result).
    """
    with torch.no_grad():
        if isinstance(threshold, torch.Tensor):
            low = -threshold if neg_threshold is None else neg_threshold
            p.sub_(torch.minimum(torch.maximum(p, low), threshold))
        else:
            p.sub_(p.clamp(-threshold, threshold))
    return p


def prox_l1_(module: nn.Module, lr: float, lam, weights: bool = True,
             biases: bool = False) -> None:
    """The proximal step of ``lam * sum|w|``, applied after the optimizer's step.

    ``w <- sign(w) * max(|w| - lr * lam, 0)`` on the selected parameters: every weight with
    ``|w| <= lr * lam`` becomes exactly 0.0, every other moves towards 0 by exactly ``lr * lam``.
    With SGD this is proximal gradient descent (ISTA) on ``loss + lam * sum|w|``.
    """
    lr = check_nonneg(lr, "lr")
    lam = _check_lam(lam)
    for _, p in select_parameters(module, weights, biases):
        soft_threshold_(p, lr * lam)


def decoupled_weight_decay_(module: nn.Module, lr: float, decay, weights: bool = True,
                            biases: bool = False) -> None:
    """Decoupled weight decay, as AdamW applies it: ``w <- w - lr * decay * w`` (in place).

    It is applied to the weights directly, outside the optimizer's gradient, so with Adam it is
    *not* an L2 penalty on the loss (see the ``torch-adamw`` convention). With plain SGD one such
    step before the gradient step equals SGD on ``loss + (decay/2) sum w**2`` up to the order of
    the two updates.
    """
    DecayStep(module, lr, decay, weights, biases)()


class DecayStep:
    """:func:`decoupled_weight_decay_` on one module at one step size, prepared once for many
    steps: the selected parameters and the factor ``1 - lr * decay``; each call multiplies the
    weights by it in place (the same floats as calling :func:`decoupled_weight_decay_`)."""

    def __init__(self, module: nn.Module, lr: float, decay, weights: bool = True,
                 biases: bool = False):
        lr = check_nonneg(lr, "lr")
        decay = _check_lam(decay, "decay")
        self.params = [p for _, p in select_parameters(module, weights, biases)]
        self.factor = 1.0 - lr * decay

    def __call__(self) -> None:
        with torch.no_grad():
            for p in self.params:
                p.mul_(self.factor)


def param_groups(module: nn.Module, weight_decay: float, biases: bool = False) -> list[dict]:
    """Optimizer parameter groups that apply ``weight_decay`` to the weights only.

    PyTorch's optimizers decay every parameter of a group, biases included; regulab never
    penalizes biases unless asked. Use as ``torch.optim.AdamW(param_groups(model, 1e-2), lr=...)``.
    """
    weight_decay = check_nonneg(weight_decay, "weight_decay")
    decayed = select_parameters(module, True, biases)
    ids = {id(p) for _, p in decayed}
    rest = [p for p in module.parameters() if id(p) not in ids]
    groups = [{"params": [p for _, p in decayed], "weight_decay": weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups


class NNPenalty:
    """``l1 * sum|w| + l2 * sum w**2`` over the selected parameters of a module.

    Built from a name and a strength on regulab's scale (``lam``; elastic net: ``l1 = lam * rho``,
    ``l2 = lam * (1 - rho)``), or from another tool's convention with :meth:`from_convention`.
    Add ``penalty(model)`` to a *mean* loss. ``penalty.prox_(model, lr)`` applies the penalty's
    proximal operator instead (exact zeros for the L1 part).

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'}
        A kind of :data:`regulab.core.penalties.KINDS` (any case; ``_`` and ``-`` ignored).
    lam : float or torch.Tensor
        Strength ``>= 0``; a tensor gives per-member strengths of a stacked ensemble.
    l1_ratio : float
        Elastic net's L1 share ``rho`` in [0, 1]; ignored for 'l1' and 'l2'.
    weights, biases : bool
        Which parameters are penalized (weights only by default).
    """

    def __init__(self, penalty: str = "l2", lam=1e-4, l1_ratio: float = 0.5, *,
                 weights: bool = True, biases: bool = False):
        kind = parse_kind(str(penalty).lower().replace("_", "").replace("-", ""), "penalty")
        if not weights and not biases:
            select_parameters(nn.Linear(1, 1), weights, biases)  # raises the selection error
        self.penalty, self.weights, self.biases = kind.name, bool(weights), bool(biases)
        rho = kind.share(l1_ratio)
        if isinstance(lam, torch.Tensor):
            lam = _check_lam(lam)
            self.l1, self.l2 = lam * rho, lam * (1.0 - rho)
        else:  # regulab's own penalty validates lam and splits it: one definition of the parts
            self.l1, self.l2 = kind.penalty(check_nonneg(lam, "lam"), rho).l1_l2_parts()
        self.lam, self.l1_ratio = lam, rho

    # -- other conventions -----------------------------------------------------------------
    @classmethod
    def from_parts(cls, l1=0.0, l2=0.0, *, weights: bool = True,
                   biases: bool = False) -> "NNPenalty":
        """The penalty ``l1 * sum|w| + l2 * sum w**2`` (floats or per-member tensors)."""
        l1, l2 = _check_lam(l1, "l1"), _check_lam(l2, "l2")
        out = cls("elasticnet", 0.0, weights=weights, biases=biases)
        out.l1, out.l2, out.lam = l1, l2, l1 + l2
        # the share where one number holds (else None: it may differ per member)
        out.l1_ratio = 1.0 if _is_zero(l2) else 0.0 if _is_zero(l1) else None
        out.penalty = kind_of(out.l1_ratio).name
        return out

    @classmethod
    def from_convention(cls, convention: str, params: Mapping, n_samples: int | None = None, *,
                        weights: bool = True, biases: bool = False) -> "NNPenalty":
        """The penalty equal to another tool's, via :mod:`regulab.core.conventions`.

        ``NNPenalty.from_convention('nielsen-l2', {'lam': 5.0}, n_samples=50_000)`` is Nielsen's
        ``(5 / (2 * 50000)) * sum w**2``; ``'torch-sgd'`` with ``{'weight_decay': d}`` is
        ``(d/2) sum w**2``. ``'torch-adamw'`` raises: decoupled decay is no penalty on the loss
        (use :func:`decoupled_weight_decay_` or ``torch.optim.AdamW``).
        """
        setting = get_convention(convention).to_regulab(params, n_samples)
        return cls.from_parts(setting.l1, setting.l2, weights=weights, biases=biases)

    def to_convention(self, convention: str, n_samples: int | None = None,
                      loss: str = "logistic") -> dict:
        """This penalty's parameters in another tool's convention (floats only)."""
        if isinstance(self.l1, torch.Tensor) or isinstance(self.l2, torch.Tensor):
            raise ValueError("per-member (tensor) strengths have no single conversion")
        return get_convention(convention).from_regulab(Setting(self.l1, self.l2, loss), n_samples)

    # -- value, gradient, prox -------------------------------------------------------------
    def parameters(self, module: nn.Module) -> list[tuple[str, nn.Parameter]]:
        """The ``(name, parameter)`` pairs this penalty acts on."""
        return select_parameters(module, self.weights, self.biases)

    def __call__(self, module: nn.Module) -> torch.Tensor:
        """The penalty value, a differentiable scalar tensor to add to a mean loss."""
        total = None
        for _, p in self.parameters(module):
            term = 0.0
            if not _is_zero(self.l1):
                term = term + (self.l1 * p.abs()).sum()
            if not _is_zero(self.l2):
                term = term + (self.l2 * p.square()).sum()
            if isinstance(term, float):
                term = p.sum() * 0.0
            total = term if total is None else total + term
        return total

    def gradient(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """The analytic (minimum-norm sub)gradient ``l1 * sign(w) + 2 * l2 * w`` per parameter.

        At ``w = 0`` the L1 part contributes 0 (the minimum-norm element of ``[-l1, l1]``), as in
        :mod:`regulab.core.penalties`.
        """
        with torch.no_grad():
            return {n: self.l1 * torch.sign(p) + 2.0 * self.l2 * p
                    for n, p in self.parameters(module)}

    def add_gradient_(self, module: nn.Module) -> None:
        """Add :meth:`gradient` to the ``.grad`` of each selected parameter, in place.

        After ``loss.backward()`` this gives exactly the gradient of ``loss + penalty(module)``
        (autograd's derivative of ``|w|`` is also ``sign(w)``, 0 at 0) without building the
        penalty's graph; :func:`regulab.nn.fit` uses it.
        """
        PenaltyStep(self, module).add_gradient_()

    def prox_(self, module: nn.Module, lr: float) -> None:
        """Apply the penalty's proximal operator with step ``lr`` in place.

        ``w <- soft_threshold(w, lr * l1) / (1 + 2 * lr * l2)``, the same formula as
        :meth:`regulab.core.penalties.ElasticNet.prox`. Call it after ``optimizer.step()`` on a loss
        *without* this penalty (proximal SGD).
        """
        PenaltyStep(self, module, lr).prox_()

    def __repr__(self) -> str:
        def fmt(v):
            return f"tensor{tuple(v.shape)}" if isinstance(v, torch.Tensor) else f"{v:g}"
        sel = "weights" + ("+biases" if self.biases else "") if self.weights else "biases"
        return f"NNPenalty(l1={fmt(self.l1)}, l2={fmt(self.l2)}, on={sel})"



class PenaltyStep:
    """An :class:`NNPenalty`'s per-step operations on one module (at step size ``lr`` for the
    prox), with what does not change between steps computed once: the selected parameters,
    which parts are zero, ``2 * l2``, the prox's threshold ``lr * l1`` (and its negative) and
    divisor ``1 + 2 * lr * l2``. :meth:`NNPenalty.add_gradient_` and :meth:`NNPenalty.prox_`
    are one such step; :func:`regulab.nn.fit` prepares one per epoch and applies it at every
    minibatch (the same floats: the same operations on the same values)."""

    def __init__(self, penalty: NNPenalty, module: nn.Module, lr: float | None = None):
        self.params = [p for _, p in penalty.parameters(module)]
        self.l1 = None if _is_zero(penalty.l1) else penalty.l1
        self.l2x2 = None if _is_zero(penalty.l2) else 2.0 * penalty.l2
        self.thr = self.neg_thr = self.div = None
        self.lr = lr
        if lr is not None:
            lr = check_nonneg(lr, "lr")
            if self.l1 is not None:
                self.thr = lr * penalty.l1
                self.neg_thr = -self.thr if isinstance(self.thr, torch.Tensor) else None
            if self.l2x2 is not None:
                self.div = 1.0 + 2.0 * lr * penalty.l2

    def add_gradient_(self) -> None:
        """Add ``l1 * sign(w) + 2 * l2 * w`` to each selected parameter's ``.grad``."""
        l1, l2x2 = self.l1, self.l2x2
        with torch.no_grad():
            for p in self.params:
                g = p.grad
                if g is None:
                    g = p.grad = torch.zeros_like(p)
                if l1 is not None:
                    g.addcmul_(torch.sign(p), l1) if isinstance(l1, torch.Tensor) \
                        else g.add_(torch.sign(p), alpha=l1)
                if l2x2 is not None:
                    g.addcmul_(p, l2x2) if isinstance(l2x2, torch.Tensor) else g.add_(p, alpha=l2x2)

    def prox_(self) -> None:
        """``w <- soft_threshold(w, lr * l1) / (1 + 2 * lr * l2)`` in place (needs ``lr``)."""
        if self.lr is None:
            raise ValueError("a prox step needs the step size: PenaltyStep(penalty, module, lr)")
        with torch.no_grad():
            for p in self.params:
                if self.thr is not None:
                    soft_threshold_(p, self.thr, self.neg_thr)
                if self.div is not None:
                    p.div_(self.div)
