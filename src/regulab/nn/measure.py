"""Measurements on a trained network: weight histograms, sparsity, saturated hidden units.

**Saturation.** A sigmoid unit with pre-activation ``z`` learns through ``sigma'(z) =
sigma(z) (1 - sigma(z))``, at most 0.25 (at ``z = 0``). Beyond ``|z| > 4`` the derivative is below
0.0177, about 7 % of its maximum: the unit's output sits near 0 or 1 and its incoming weights barely
learn (Nielsen, ch. 3). ``tanh(z) = 2 sigma(2z) - 1``, so the same 7 % point is ``|z| > 2`` for
tanh.
These are the default thresholds (:data:`SATURATION_THRESHOLDS`); a unit counts as saturated *on an
example* when its pre-activation is beyond the threshold, and the fraction is over all
(example, unit) pairs of the hidden layers.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from regulab.core.validation import check_positive
from regulab.nn.penalties import select_parameters

__all__ = ["SATURATION_THRESHOLDS", "saturated_fraction", "saturation", "sparsity",
           "weight_histograms"]

#: |pre-activation| beyond which a unit counts as saturated: sigma'(z) or tanh'(z) below ~7 % of
#: its maximum (sigma'(4) / sigma'(0) = 0.0707, tanh'(2) / tanh'(0) = 0.0707)
SATURATION_THRESHOLDS = {"sigmoid": 4.0, "tanh": 2.0}

_ACTIVATIONS = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}


def _selected(module, weights, biases):
    return [(n, p.detach()) for n, p in select_parameters(module, weights, biases)]


def sparsity(module: nn.Module, tol: float = 1e-3, weights: bool = True,
             biases: bool = False) -> dict:
    """How many selected parameters are exactly 0.0 and how many have ``|w| < tol``.

    Returns ``{"n", "exact_zeros", "fraction_zero", "fraction_below_tol", "tol", "per_layer"}``
    with ``per_layer[name] = {"n", "fraction_zero", "fraction_below_tol"}``. An exact zero is a
    stored ``0.0``, not a small number: only a prox step (or a dead input) produces it.
    """
    tol = check_positive(tol, "tol")
    per_layer, n, zeros, below = {}, 0, 0, 0
    for name, p in _selected(module, weights, biases):
        k, z, b = p.numel(), int((p == 0).sum()), int((p.abs() < tol).sum())
        per_layer[name] = {"n": k, "fraction_zero": z / k, "fraction_below_tol": b / k}
        n, zeros, below = n + k, zeros + z, below + b
    return {"n": n, "exact_zeros": zeros, "fraction_zero": zeros / n,
            "fraction_below_tol": below / n, "tol": tol, "per_layer": per_layer}


def weight_histograms(module: nn.Module, bins: int = 41, range: tuple | None = None,
                      weights: bool = True, biases: bool = False) -> dict:
    """Per-parameter histograms ``{name: (counts, edges)}`` (numpy) on shared bins.

    ``range`` defaults to ``(-m, m)`` with ``m`` the largest ``|w|`` over the selection, so the
    layers can be overlaid; ``bins`` is odd by default so that one bin is centred on 0.
    """
    chosen = _selected(module, weights, biases)
    if range is None:
        m = max(float(p.abs().max()) for _, p in chosen) or 1.0
        range = (-m, m)
    edges = np.linspace(range[0], range[1], int(bins) + 1)
    return {name: (np.histogram(p.cpu().numpy().ravel(), bins=edges)[0], edges)
            for name, p in chosen}


def saturated_fraction(z: torch.Tensor, kind: str = "sigmoid", threshold: float | None = None,
                       dims=None) -> torch.Tensor:
    """Fraction of entries of the pre-activations ``z`` beyond the saturation threshold.

    ``dims`` are the dimensions averaged over (all by default); e.g. ``dims=(1, 2)`` on a stacked
    ensemble's ``(K, n, units)`` pre-activations gives one fraction per member.
    """
    if kind not in SATURATION_THRESHOLDS:
        raise ValueError(f"unknown activation {kind!r}; valid choices: "
                         f"{', '.join(map(repr, SATURATION_THRESHOLDS))}")
    thr = SATURATION_THRESHOLDS[kind] if threshold is None else check_positive(threshold,
                                                                               "threshold")
    hit = (z.abs() > thr).to(torch.float64)
    return hit.mean() if dims is None else hit.mean(dim=dims)


def saturation(module: nn.Module, x: torch.Tensor, threshold: float | None = None,
               exclude_output: bool = True, per_member: bool = False) -> dict:
    """Fraction of saturated hidden units of ``module`` on the inputs ``x``.

    Forward hooks on every ``nn.Sigmoid`` and ``nn.Tanh`` submodule record their inputs (the
    pre-activations) during one pass in ``no_grad`` mode. An activation whose output *is* the
    network's output (a sigmoid output layer) is not a hidden unit and is left out unless
    ``exclude_output=False``. ``threshold`` overrides :data:`SATURATION_THRESHOLDS`.

    Returns ``{"fraction": overall, "per_layer": {name: fraction}, "thresholds": {name: thr}}``;
    with ``per_member=True`` (a stacked ensemble, pre-activations ``(K, n, units)``) every
    fraction is a list with one value per member.
    """
    found = [(n, m) for n, m in module.named_modules() if type(m) in _ACTIVATIONS]
    if not found:
        raise ValueError(f"{type(module).__name__} has no nn.Sigmoid or nn.Tanh submodule; "
                         "saturation is measured on the inputs of those modules")
    seen: list = []
    hooks = [m.register_forward_hook(
        lambda mod, inp, out, name=n: seen.append((name, _ACTIVATIONS[type(mod)], inp[0], out)))
        for n, m in found]
    try:
        with torch.no_grad():
            output = module(x)
    finally:
        for h in hooks:
            h.remove()
    layers = [(n, k, z) for n, k, z, out in seen if not (exclude_output and out is output)]
    if not layers:
        raise ValueError("the only sigmoid/tanh module produces the network's output; there is "
                         "no hidden unit to measure (pass exclude_output=False to include it)")
    dims = tuple(range(1, layers[0][2].ndim)) if per_member else None
    per_layer, thresholds, hits, total = {}, {}, 0.0, 0
    for name, kind, z in layers:
        frac = saturated_fraction(z, kind, threshold, dims)
        count = z[0].numel() if per_member else z.numel()
        per_layer[name], thresholds[name] = frac, threshold or SATURATION_THRESHOLDS[kind]
        hits, total = hits + frac * count, total + count

    def out(v):
        return v.tolist() if per_member else float(v)

    return {"fraction": out(hits / total), "per_layer": {k: out(v) for k, v in per_layer.items()},
            "thresholds": thresholds}
