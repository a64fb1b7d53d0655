"""Networks, devices, determinism and a small training loop with penalties and prox steps.

The loop is plain minibatch training: for each minibatch, ``loss = mean data loss + penalty``,
``backward``, ``optimizer.step()``, then the optional proximal step. It stops with
:class:`TrainingDiverged` -- naming the epoch -- as soon as an epoch's loss (or a weight) is not
finite, instead of returning a network full of NaNs.

:class:`MLPEnsemble` stacks K independent copies of a small MLP into one module with a member axis,
so that K networks (other seeds, other data, other lams) train in one batched pass. Its member
``k`` is exactly :func:`nielsen_mlp` with ``seeds[k]`` (same initial weights), the loss is the sum
of the members' mean losses, and SGD, Adam and AdamW act elementwise -- so each member follows the
trajectory it would follow alone (up to float rounding; ``tests/test_nn.py`` checks it).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from regulab.core.validation import check_int, check_nonneg, check_positive
from regulab.nn.penalties import (
    DecayStep,
    NNPenalty,
    PenaltyStep,
    _check_lam,
    param_groups,
)

__all__ = ["History", "MLPEnsemble", "TrainingDiverged", "default_device", "deterministic",
           "fit", "nielsen_mlp"]

_ACT = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
_INITS = ("large", "default")


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite; the message names the epoch and the settings."""


def default_device() -> torch.device:
    """CUDA when available, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def deterministic(seed: int = 0, threads: int | None = 1):
    """Seeded, deterministic torch for the duration of a block, restored afterwards.

    Seeds torch's global generators inside :func:`torch.random.fork_rng` (the caller's random state
    is untouched), turns on ``torch.use_deterministic_algorithms`` (``warn_only``) and, on CPU,
    uses ``threads`` intra-op threads -- one by default: small networks run fastest single-threaded
    and the sums are then reduced in one fixed order, so reruns are bit-identical.
    """
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        try:
            torch.use_deterministic_algorithms(True, warn_only=True)
            if threads is not None:
                torch.set_num_threads(threads)
            yield
        finally:
            torch.set_num_threads(prev_threads)
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)


def _check_sizes(sizes) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"sizes must be at least (inputs, outputs), all >= 1, got {sizes}")
    return sizes


def nielsen_mlp(sizes: Sequence[int] = (64, 30, 10), activation: str = "sigmoid",
                init: str = "large", seed: int = 0, device=None,
                dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """Nielsen's fully connected network: ``Linear -> sigmoid -> ... -> Linear`` (logits).

    The output layer returns logits, for ``cross_entropy`` (softmax + mean log-loss, regulab's
    classification scale). ``init='large'`` draws every weight and bias from N(0, 1) (Nielsen's
    ``large_weight_initializer``, whose saturated units regularization helps against);
    ``init='default'`` draws weights from N(0, 1/n_in) (his ``default_weight_initializer``). The
    draw uses its own generator seeded with ``seed``, on the CPU, so it is the same on any device.
    """
    sizes = _check_sizes(sizes)
    if activation not in _ACT:
        raise ValueError(f"unknown activation {activation!r}; valid choices: "
                         f"{', '.join(map(repr, _ACT))}")
    if init not in _INITS:
        raise ValueError(f"unknown init {init!r}; valid choices: {', '.join(map(repr, _INITS))}")
    gen = torch.Generator().manual_seed(int(seed))
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(n_in, n_out, dtype=dtype)
        scale = 1.0 if init == "large" else 1.0 / math.sqrt(n_in)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(n_out, n_in, generator=gen, dtype=dtype) * scale)
            lin.bias.copy_(torch.randn(n_out, generator=gen, dtype=dtype))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(_ACT[activation]())
    return nn.Sequential(*layers).to(device or "cpu")


class MLPEnsemble(nn.Module):
    """K independent :func:`nielsen_mlp` networks stacked along a leading member axis.

    Parameters ``weight{i}`` have shape ``(K, n_out, n_in)`` and ``bias{i}`` ``(K, 1, n_out)``;
    :func:`~regulab.nn.select_parameters` reads the former as weights and the latter as biases.
    ``forward`` takes ``(n, d)`` inputs (shared by all members) or ``(K, n, d)`` (one set per
    member) and returns ``(K, n, n_classes)`` logits. Member ``k`` starts as
    ``nielsen_mlp(sizes, activation, init, seeds[k])``; :meth:`member` returns it, as an ordinary
    network, in its current state.
    """

    def __init__(self, sizes: Sequence[int] = (64, 30, 10), seeds: Sequence[int] = (0,),
                 activation: str = "sigmoid", init: str = "large", device=None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.sizes, self.activation, self.init = _check_sizes(sizes), activation, init
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("an ensemble needs at least one member seed")
        self.seeds = seeds
        nets = [nielsen_mlp(self.sizes, activation, init, s, "cpu", dtype) for s in seeds]
        linears = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        for i in range(len(self.sizes) - 1):
            w = torch.stack([lin[i].weight.detach() for lin in linears])
            b = torch.stack([lin[i].bias.detach() for lin in linears]).unsqueeze(1)
            self.register_parameter(f"weight{i}", nn.Parameter(w))
            self.register_parameter(f"bias{i}", nn.Parameter(b))
        self.acts = nn.ModuleList(_ACT[activation]() for _ in range(len(self.sizes) - 2))
        self.to(device or "cpu")

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        n_layers = len(self.sizes) - 1
        for i in range(n_layers):
            w, b = getattr(self, f"weight{i}"), getattr(self, f"bias{i}")
            h = torch.matmul(h, w.transpose(1, 2)) + b
            if i < n_layers - 1:
                h = self.acts[i](h)
        return h

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Sum over members of each member's mean cross-entropy (so gradients do not mix)."""
        k, b, c = logits.shape
        y = y.expand(k, b) if y.ndim == 1 else y
        return F.cross_entropy(logits.reshape(k * b, c), y.reshape(k * b), reduction="sum") / b

    def per_member(self, values) -> torch.Tensor:
        """Per-member hyper-parameters (e.g. lams) as a ``(K, 1, 1)`` tensor on this device."""
        w = self.weight0
        t = torch.as_tensor(values, dtype=w.dtype).to(w.device).reshape(-1, 1, 1)
        if t.shape[0] != self.n_members:
            raise ValueError(f"expected {self.n_members} per-member values, got {t.shape[0]}")
        return t

    def member(self, k: int) -> nn.Sequential:
        """Member ``k`` as an ordinary ``nn.Sequential`` (a copy, in its current state)."""
        net = nielsen_mlp(self.sizes, self.activation, self.init, 0, self.weight0.device,
                          self.weight0.dtype)
        linears = [m for m in net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for i, lin in enumerate(linears):
                lin.weight.copy_(getattr(self, f"weight{i}")[k])
                lin.bias.copy_(getattr(self, f"bias{i}")[k, 0])
        return net

    def weight_vectors(self) -> torch.Tensor:
        """All weights (no biases) of each member, flattened: shape ``(K, n_weights)``."""
        return torch.cat([getattr(self, f"weight{i}").detach().reshape(self.n_members, -1)
                          for i in range(len(self.sizes) - 1)], dim=1)


@dataclass
class History:
    """What :func:`fit` recorded: the mean data loss of each epoch (for an ensemble, the sum of
    the members' mean losses) and the number of epochs and optimizer steps."""

    loss: list = field(default_factory=list)
    epochs: int = 0
    steps: int = 0


_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def _make_optimizer(model, optimizer, lr, weight_decay):
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(model)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid choices: "
                         f"{', '.join(map(repr, _OPTIMIZERS))} or a callable model -> optimizer")
    if weight_decay and optimizer == "sgd":
        raise ValueError("SGD's weight_decay is the L2 penalty (weight_decay/2) sum w^2: pass "
                         "penalty=NNPenalty.from_convention('torch-sgd', {'weight_decay': d})")
    groups = param_groups(model, weight_decay)
    try:  # the fused kernels are several times faster on small tensors (CPU: torch >= 2.4)
        return _OPTIMIZERS[optimizer](groups, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return _OPTIMIZERS[optimizer](groups, lr=lr)


def fit(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, epochs: int = 10,
        batch_size: int = 10, lr: float = 0.5, optimizer="sgd", weight_decay: float = 0.0,
        penalty: NNPenalty | None = None, prox: NNPenalty | None = None,
        decoupled_decay=None, seed=0,
        loss_fn: Callable | None = None,
        on_epoch: Callable[[int, nn.Module], None] | None = None) -> History:
    """Minibatch training of ``model`` on ``(X, y)`` in place; returns a :class:`History`.

    Parameters
    ----------
    X, y : torch.Tensor
        Inputs ``(n, d)`` and integer labels ``(n,)``; for an :class:`MLPEnsemble` also
        ``(K, n, d)`` and ``(K, n)``, one data set per member (same ``n``).
    optimizer : {'sgd', 'adam', 'adamw'} or callable
        A name (built on :func:`param_groups`, so ``weight_decay`` touches weights only) or
        ``model -> torch.optim.Optimizer``. ``'adam'`` with ``weight_decay`` is coupled L2 (the
        ``torch-adam`` convention), ``'adamw'`` decoupled decay (``torch-adamw``).
    penalty : NNPenalty, optional
        Added to the mean loss at every step; its gradient goes through the optimizer (for L1 a
        subgradient: weights hover around 0 but are never set to 0).
    prox : NNPenalty, optional
        Applied as a proximal step ``prox.prox_(model, lr)`` after every ``optimizer.step()``
        (with SGD: proximal SGD; the L1 part gives exact zeros).
    decoupled_decay : float or torch.Tensor, optional
        Decoupled weight decay ``w <- w - lr * decay * w`` on the weights, applied after the
        gradient is computed and before ``optimizer.step()`` -- what ``torch.optim.AdamW`` does
        inside its step; with ``optimizer='adam'`` it *is* AdamW. A tensor gives per-member decays.
    seed : int or sequence of int
        Seed of the minibatch order; for an ensemble, one per member (members with equal seeds
        see the same order).
    on_epoch : callable, optional
        ``on_epoch(epoch, model)`` before training (epoch 0) and after every epoch.

    Raises
    ------
    TrainingDiverged
        When an epoch's loss is NaN or infinite (too large a step or lam), naming the epoch.
    """
    epochs, batch_size, lr, decoupled_decay, seeds = _check_fit(
        model, X, y, epochs, batch_size, lr, weight_decay, decoupled_decay, seed)
    ensemble = getattr(model, "n_members", None) is not None
    loss_fn = loss_fn or (model.loss if ensemble else F.cross_entropy)
    opt = _make_optimizer(model, optimizer, lr, weight_decay)
    order = _EpochOrder(X, seed, seeds)
    history = History()
    if on_epoch:
        on_epoch(0, model)
    for epoch in range(1, epochs + 1):
        Xe, ye = order.epoch_data(X, y)
        # each epoch's steps prepared once (an on_epoch callback may change the penalties)
        steps = (PenaltyStep(penalty, model) if penalty is not None else None,
                 DecayStep(model, lr, decoupled_decay) if decoupled_decay is not None else None,
                 PenaltyStep(prox, model, lr) if prox is not None else None)
        losses = _train_epoch(model, opt, loss_fn, Xe, ye, batch_size, *steps)
        history.steps += len(losses)
        mean_loss = _mean_loss(losses, X.shape[-2], batch_size, X.device)
        if not math.isfinite(mean_loss) or not _parameters_finite(model):
            raise TrainingDiverged(_diverged(epoch, epochs, mean_loss, optimizer, lr, penalty,
                                             prox))
        history.loss.append(mean_loss)
        history.epochs = epoch
        if on_epoch:
            on_epoch(epoch, model)
    return history


def _check_fit(model, X, y, epochs, batch_size, lr, weight_decay, decoupled_decay, seed):
    """The checked settings of :func:`fit`: ``(epochs, batch_size, lr, decoupled_decay, seeds)``,
    ``seeds`` the per-member seeds of an ensemble (None for one seed)."""
    epochs, batch_size = check_int(epochs, "epochs", 0), check_int(batch_size, "batch_size", 1)
    lr = check_positive(lr, "lr")
    check_nonneg(weight_decay, "weight_decay")
    if decoupled_decay is not None:
        decoupled_decay = _check_lam(decoupled_decay, "decoupled_decay")
    k = getattr(model, "n_members", None)
    n = X.shape[-2]
    if y.shape[-1] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[-1]} labels")
    if not bool(torch.isfinite(X).all()):
        raise ValueError("X contains NaN or infinite values; training on them gives a NaN loss")
    seeds = [int(s) for s in seed] if isinstance(seed, (list, tuple)) else None
    if seeds is not None and (k is None or len(seeds) != k):
        raise ValueError(f"a sequence of seeds needs an ensemble with one member per seed, got "
                         f"{len(seeds)} seeds for {k or 'a single'} network")
    return epochs, batch_size, lr, decoupled_decay, seeds


class _EpochOrder:
    """The minibatch order of every epoch: one permutation per distinct seed per epoch, drawn
    from a generator per seed (members with equal seeds see the same order)."""

    def __init__(self, X, seed, seeds):
        self.seeds = seeds
        self.distinct = sorted(set(seeds)) if seeds is not None else [int(seed)]
        self.gens = {s: torch.Generator().manual_seed(s) for s in self.distinct}
        self.rows = None if seeds is None else torch.arange(len(seeds), device=X.device)[:, None]

    def epoch_data(self, X, y):
        """The epoch's data in minibatch order, once; each minibatch is then a slice (a view)."""
        n = X.shape[-2]
        perms = {s: torch.randperm(n, generator=g) for s, g in self.gens.items()}
        if self.seeds is None:
            order = perms[self.distinct[0]].to(X.device)
        else:
            order = torch.stack([perms[s] for s in self.seeds]).to(X.device)
        if self.seeds is not None and X.ndim == 3:
            return X[self.rows, order], y[self.rows, order]
        if self.seeds is None and X.ndim == 3:
            return X[:, order], (y[:, order] if y.ndim == 2 else y[order])
        return X[order], y[order]


def _train_epoch(model, opt, loss_fn, Xe, ye, batch_size, penalty, decay, prox) -> list:
    """One pass over the epoch's minibatches; the detached data loss of each. ``penalty``,
    ``prox``: :class:`PenaltyStep` (or None); ``decay``: :class:`DecayStep` (or None)."""
    losses = []
    for start in range(0, Xe.shape[-2], batch_size):
        xb, yb = Xe[..., start:start + batch_size, :], ye[..., start:start + batch_size]
        opt.zero_grad(set_to_none=True)
        data_loss = loss_fn(model(xb), yb)
        data_loss.backward()
        if penalty is not None:  # = backward of loss + penalty(model), without its graph
            penalty.add_gradient_()
        if decay is not None:
            decay()
        opt.step()
        if prox is not None:
            prox.prox_()
        losses.append(data_loss.detach())
    return losses


def _mean_loss(losses, n: int, batch_size: int, device) -> float:
    """The epoch's mean data loss: minibatch means weighted by minibatch sizes (the last may be
    short)."""
    sizes = torch.full((len(losses),), float(batch_size), device=device)
    sizes[-1] = n - batch_size * (len(losses) - 1)
    return float(torch.stack(losses).float() @ sizes) / n


def _diverged(epoch, epochs, mean_loss, optimizer, lr, penalty, prox) -> str:
    """The message of :class:`TrainingDiverged`: where it stopped, what went wrong, and why."""
    what = (f"the mean training loss became {mean_loss}" if not math.isfinite(mean_loss)
            else f"the weights overflowed to inf/nan (mean loss {mean_loss:.3g})")
    return (f"training stopped at epoch {epoch} of {epochs}: {what} (optimizer="
            f"{optimizer if isinstance(optimizer, str) else 'custom'}, lr={lr:g}, "
            f"penalty={penalty!r}, prox={prox!r}); {_why(optimizer, lr, penalty)}")


def _why(optimizer, lr: float, penalty) -> str:
    """The likely reason, for the divergence message."""
    l2 = getattr(penalty, "l2", 0.0)
    if optimizer == "sgd" and isinstance(l2, float) and lr * l2 >= 1.0:
        return (f"with SGD the L2 term alone multiplies each weight by 1 - 2*lr*l2 = "
                f"{1 - 2 * lr * l2:g} per step, which grows without bound once lr*l2 >= 1: "
                "lower lr or lam")
    return "too large a step size or lam; lower lr or lam"


def _parameters_finite(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())
