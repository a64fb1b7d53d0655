"""Penalties: L1, L2 and elastic net, each with value, subgradient, prox and lam_max.

Every penalty is ``lam * Complexity(w)`` on regulab's scale
(README, "The objective, and other tools' lambdas")::

    L1          lam * sum_j |w_j|
    L2          lam * sum_j w_j**2
    ElasticNet  lam * (rho * sum_j |w_j| + (1 - rho) * sum_j w_j**2)

The whole L1/L2 contrast is in :meth:`prox`: the L1 prox (soft-thresholding) returns exactly 0
whenever ``|v| <= step * lam``; the L2 prox ``v / (1 + 2 * step * lam)`` is never 0 for ``v != 0``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from regulab.core.validation import (
    InvalidValue,
    check_choice,
    check_fraction,
    check_nonneg,
)


def soft_threshold(v, threshold):
    """Soft-thresholding ``sign(v) * max(|v| - threshold, 0)``, elementwise.

    It is the prox of ``threshold * |.|``: ``argmin_u 0.5 * (u - v)**2 + threshold * |u|``.
    Values with ``|v| <= threshold`` map to exactly ``0.0``.
    """
    v = np.asarray(v, dtype=float)
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


class Penalty(ABC):
    """A separable penalty ``lam * Complexity(w)`` on the coefficients (never the intercept)."""

    name: str = "penalty"

    #: whether the penalty is differentiable everywhere (plain gradient descent applies)
    smooth: bool = False

    def __init__(self, lam: float = 1.0):
        self.lam = check_nonneg(lam, "lam")

    # -- the three faces of a penalty -------------------------------------------------------
    @abstractmethod
    def value(self, w) -> float:
        """Penalty value ``lam * Complexity(w)``."""

    @abstractmethod
    def subgradient(self, w) -> np.ndarray:
        """The minimum-norm element of the subdifferential at ``w`` (the gradient where smooth)."""

    @abstractmethod
    def prox(self, v, step: float) -> np.ndarray:
        """Proximal operator ``argmin_u  ||u - v||**2 / (2 * step) + value(u)`` for a vector ``v``."""

    def prox_1d(self, v: float, step: float) -> float:
        """The prox of one coordinate, as a Python float (same formula as :meth:`prox`)."""
        return float(self.prox(np.array([float(v)]), step)[0])

    def l1_l2_parts(self) -> tuple[float, float]:
        """``(l1, l2)`` such that the penalty is ``l1 * sum|w| + l2 * sum w**2``."""
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    # -- where the path starts -----------------------------------------------------------
    def lam_max(self, X, y, loss=None, fit_intercept: bool = True, sample_weight=None) -> float:
        """Smallest ``lam`` at which ``w = 0`` minimizes ``loss(X w + b) + this penalty``.

        At ``w = 0`` (with the intercept at its optimum for ``w = 0``) the optimality condition
        is ``|grad_j| <= l1_part`` for every feature ``j``, where ``grad`` is the loss gradient;
        so ``lam_max = max_j |grad_j| / (l1 share of lam)``. A penalty with no L1 part never
        sets all coefficients to 0 and returns ``inf`` (unless the gradient is already 0).
        """
        from regulab.core.losses import SquaredLoss

        loss = SquaredLoss() if loss is None else loss
        X = _as_2d(X)
        p = X.shape[1]
        b0 = loss.null_intercept(y, sample_weight) if fit_intercept else 0.0
        grad, _ = loss.gradient(X, y, np.zeros(p), b0, sample_weight)
        gmax = float(np.max(np.abs(grad))) if p else 0.0
        share = self._l1_share()
        if gmax == 0.0:
            return 0.0
        if share == 0.0:
            return float("inf")
        return gmax / share

    def _l1_share(self) -> float:
        raise NotImplementedError  # pragma: no cover

    def with_lam(self, lam: float) -> "Penalty":
        """A copy of this penalty with another ``lam``."""
        params = self.get_params()
        params["lam"] = lam
        return type(self)(**params)

    def get_params(self) -> dict:
        return {"lam": self.lam}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))


def _as_2d(X):
    if hasattr(X, "tocsc"):  # scipy.sparse, kept sparse
        return X
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    return X


def _check_step(step) -> float:
    step = check_nonneg(step, "step")
    return step


class L1(Penalty):
    """Lasso penalty ``lam * sum_j |w_j|``.

    Subgradient: ``lam * sign(w_j)`` where ``w_j != 0``; at ``w_j = 0`` the subdifferential is
    ``[-lam, lam]`` and its minimum-norm element ``0`` is returned. Prox: soft-thresholding at
    ``step * lam``.
    """

    name = "l1"
    smooth = False

    def value(self, w) -> float:
        return self.lam * float(np.sum(np.abs(np.asarray(w, dtype=float))))

    def subgradient(self, w) -> np.ndarray:
        return self.lam * np.sign(np.asarray(w, dtype=float))

    def prox(self, v, step: float) -> np.ndarray:
        return soft_threshold(v, _check_step(step) * self.lam)

    def l1_l2_parts(self) -> tuple[float, float]:
        return self.lam, 0.0

    def _l1_share(self) -> float:
        return 1.0


class L2(Penalty):
    """Ridge penalty ``lam * sum_j w_j**2``.

    Gradient ``2 * lam * w`` (it fades as ``w`` approaches 0). Prox: ``v / (1 + 2 * step * lam)``,
    a shrinkage by a constant factor that is never 0 for ``v != 0``.
    """

    name = "l2"
    smooth = True

    def value(self, w) -> float:
        w = np.asarray(w, dtype=float)
        return self.lam * float(np.dot(w.ravel(), w.ravel()))

    def subgradient(self, w) -> np.ndarray:
        return 2.0 * self.lam * np.asarray(w, dtype=float)

    gradient = subgradient

    def prox(self, v, step: float) -> np.ndarray:
        return np.asarray(v, dtype=float) / (1.0 + 2.0 * _check_step(step) * self.lam)

    def l1_l2_parts(self) -> tuple[float, float]:
        return 0.0, self.lam

    def _l1_share(self) -> float:
        return 0.0


class ElasticNet(Penalty):
    """Elastic net ``lam * (rho * sum_j |w_j| + (1 - rho) * sum_j w_j**2)``, ``rho = l1_ratio``.

    ``l1_ratio = 1`` is :class:`L1`, ``l1_ratio = 0`` is :class:`L2`. Prox: soft-threshold at
    ``step * lam * rho``, then divide by ``1 + 2 * step * lam * (1 - rho)``.
    """

    name = "elasticnet"
    smooth = False

    def __init__(self, lam: float = 1.0, l1_ratio: float = 0.5):
        super().__init__(lam)
        self.l1_ratio = check_fraction(l1_ratio, "l1_ratio")
        self.smooth = self.l1_ratio == 0.0

    def get_params(self) -> dict:
        return {"lam": self.lam, "l1_ratio": self.l1_ratio}

    def l1_l2_parts(self) -> tuple[float, float]:
        return self.lam * self.l1_ratio, self.lam * (1.0 - self.l1_ratio)

    def value(self, w) -> float:
        w = np.asarray(w, dtype=float).ravel()
        l1, l2 = self.l1_l2_parts()
        return l1 * float(np.sum(np.abs(w))) + l2 * float(np.dot(w, w))

    def subgradient(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=float)
        l1, l2 = self.l1_l2_parts()
        return l1 * np.sign(w) + 2.0 * l2 * w

    def prox(self, v, step: float) -> np.ndarray:
        step = _check_step(step)
        l1, l2 = self.l1_l2_parts()
        return soft_threshold(v, step * l1) / (1.0 + 2.0 * step * l2)

    def _l1_share(self) -> float:
        return self.l1_ratio


# ----------------------------------------------------------------------------------------------
# The penalty vocabulary: one table of kinds, read by every face (CLI, app, estimators, nn,
# claims, plots). A new kind is one entry in KINDS; names are parsed once, at the edge, by
# parse_kind / penalty_rho / resolve_l1_ratio.

#: elastic net's L1 share when none is given (regulab's rho; glmnet alpha 1/3, sklearn l1_ratio 1/3)
DEFAULT_L1_RATIO = 0.5


@dataclass(frozen=True)
class PenaltyKind:
    """One kind of penalty: its name on every face, its L1 share ``rho`` (None where the user
    picks it), and how reports name it: ``label`` in sentences, ``short`` in tables and legends,
    ``abbrev`` in narrow columns."""

    name: str
    rho: float | None
    label: str
    short: str
    abbrev: str

    def share(self, l1_ratio: float | None = None) -> float:
        """The L1 share of this kind: its fixed ``rho``, else ``l1_ratio`` (default
        :data:`DEFAULT_L1_RATIO`). A fixed kind ignores ``l1_ratio``; see :func:`resolve_l1_ratio`
        for the check that they agree."""
        if self.rho is not None:
            return self.rho
        return DEFAULT_L1_RATIO if l1_ratio is None else check_fraction(l1_ratio, "l1_ratio")

    def penalty(self, lam: float = 1.0, l1_ratio: float | None = None) -> Penalty:
        """The :class:`Penalty` of this kind at ``lam``: :class:`L1` for ``rho = 1``,
        :class:`L2` for ``rho = 0``, :class:`ElasticNet` otherwise (and always for a kind whose
        ``rho`` the user picks)."""
        rho = self.share(l1_ratio)
        if self.rho is None or 0.0 < rho < 1.0:
            return ElasticNet(lam, rho)
        return L1(lam) if rho == 1.0 else L2(lam)


KINDS: dict[str, PenaltyKind] = {k.name: k for k in (
    PenaltyKind("l1", 1.0, "L1 (lasso)", "L1", "L1"),
    PenaltyKind("l2", 0.0, "L2 (ridge)", "L2", "L2"),
    PenaltyKind("elasticnet", None, "elastic net", "elastic net", "EN"),
)}


def parse_kind(value, name: str = "penalty") -> PenaltyKind:
    """The :class:`PenaltyKind` called ``value``; InvalidValue naming ``name`` (as the caller knows
    the parameter: ``penalty``, ``--penalty``) and listing the kinds otherwise."""
    return KINDS[check_choice(value, KINDS, name)]


def kind_of(rho: float | None) -> PenaltyKind:
    """The kind of L1 share ``rho``: the kind fixed at ``rho`` if there is one (``'l1'`` for 1,
    ``'l2'`` for 0), else (and for ``rho=None``) the first kind whose share the user picks
    (``'elasticnet'``)."""
    rho = None if rho is None else check_fraction(rho, "rho")
    fixed = [k for k in KINDS.values() if rho is not None and k.rho == rho]
    return fixed[0] if fixed else next(k for k in KINDS.values() if k.rho is None)


def sparsest_first() -> list[str]:
    """The kinds by decreasing L1 share (a user-picked share counted at its default): the order
    in which tables and figures compare them (L1, elastic net, L2)."""
    return sorted(KINDS, key=lambda k: -KINDS[k].share())


def resolve_l1_ratio(penalty=None, l1_ratio=None, *, default: float = 1.0,
                     kind_name: str = "penalty", ratio_name: str = "l1_ratio") -> float:
    """The L1 share ``rho`` from a kind name, an ``l1_ratio``, or both if they agree.

    ``penalty=None``: ``l1_ratio`` (``default`` when it is None too). A kind whose share the user
    picks (elastic net): ``l1_ratio``, or :data:`DEFAULT_L1_RATIO`. A fixed kind: its ``rho``; an
    ``l1_ratio`` that differs from it raises InvalidValue naming both parameters.
    """
    if l1_ratio is not None:
        l1_ratio = check_fraction(l1_ratio, ratio_name)
    if penalty is None:
        return default if l1_ratio is None else l1_ratio
    kind = parse_kind(penalty, kind_name)
    if kind.rho is not None and l1_ratio is not None and l1_ratio != kind.rho:
        free = " or ".join(repr(k.name) for k in KINDS.values() if k.rho is None)
        raise InvalidValue(ratio_name, f"{ratio_name} {l1_ratio:g} disagrees with {kind_name} "
                                       f"{kind.name!r} (whose l1_ratio is {kind.rho:g}); an "
                                       f"l1_ratio of your choice needs {kind_name} {free}")
    return kind.share(l1_ratio)


def penalty_rho(kind: str, l1_ratio: float | None = None, *, kind_name: str = "penalty",
                ratio_name: str = "l1_ratio") -> float:
    """The L1 share ``rho`` of a penalty kind as a user face takes it: 1 (L1), 0 (L2),
    ``l1_ratio`` (elastic net, strictly between 0 and 1).

    Stricter than :func:`resolve_l1_ratio`: an ``l1_ratio`` with a fixed kind is an error even
    if it agrees, and an elastic net of share 0 or 1 is refused in favour of its kind. Raises
    InvalidValue naming the parameters as the caller knows them (``kind_name``, ``ratio_name``:
    e.g. ``--penalty`` and ``--l1-ratio`` on the command line).
    """
    fixed = parse_kind(kind, kind_name).rho
    if fixed is None:
        rho = DEFAULT_L1_RATIO if l1_ratio is None else check_fraction(l1_ratio, ratio_name)
        if kind_of(rho).rho is not None:
            raise InvalidValue(ratio_name, f"{ratio_name} {rho:g} is not an elastic net; use "
                                           f"{kind_name} {kind_of(rho).name}")
        return rho
    if l1_ratio is not None:
        raise InvalidValue(ratio_name, f"{ratio_name} applies to {kind_name} "
                                       f"{kind_of(None).name} only (got {kind_name} {kind})")
    return fixed


def penalty_label(kind: str, rho: float | None = None) -> str:
    """How reports name a penalty: ``'L1 (lasso)'``, ``'elastic net (l1_ratio 0.5)'``."""
    if KINDS[kind].rho is None and rho is not None:
        return f"{KINDS[kind].label} (l1_ratio {rho:g})"
    return KINDS[kind].label


def make_penalty(name: str | None, lam: float = 1.0, l1_ratio: float = 0.5) -> Penalty | None:
    """Build a penalty from its kind's name (``'l1'``, ``'L2'``, ``'elastic_net'``...) or
    ``None``/``'none'`` (no penalty); ``l1_ratio`` is used by a kind whose share the user picks."""
    if name is None or name == "none":
        return None
    key = str(name).lower().replace("_", "").replace("-", "")
    check_choice(key, (*KINDS, "none"), "penalty")
    return None if key == "none" else KINDS[key].penalty(lam, l1_ratio)
