"""What other tools mean by ``alpha``, ``lambda``, ``C`` and ``weight_decay``, on regulab's scale.

regulab minimizes (README, "The objective, and other tools' lambdas")::

    Cost(w, b) = EmpLoss(w, b) + l1 * sum_j |w_j| + l2 * sum_j w_j**2

with EmpLoss the *mean* squared error ``(1/n) ||y - X w - b||**2`` ("squared" scale) or the *mean*
log-loss ("logistic" scale); the user-facing form is ``lam`` and ``l1_ratio = rho`` with
``l1 = lam * rho`` and ``l2 = lam * (1 - rho)``. Every other tool below writes its objective on
another scale; dividing that objective by a positive constant (which leaves the minimizer alone)
turns it into regulab's, and the constants give the conversions:

==================  ===============================================  ==========================
id                  the tool's objective                             regulab's ``(l1, l2)``
==================  ===============================================  ==========================
regulab             MSE + lam*rho*|w|_1 + lam*(1-rho)*|w|_2^2        (lam*rho, lam*(1-rho))
regulab-logistic    mean log-loss + same penalty                     (lam*rho, lam*(1-rho))
sklearn-lasso       (1/2n) RSS + alpha*|w|_1                         (2*alpha, 0)
sklearn-ridge       RSS + alpha*|w|_2^2                              (0, alpha/n)
sklearn-elasticnet  (1/2n) RSS + alpha*r*|w|_1                       (2*alpha*r, alpha*(1-r))
                    + alpha*(1-r)/2*|w|_2^2
sklearn-logistic    C * sum log-loss + r*|w|_1 + (1-r)/2*|w|_2^2     (r/(C*n), (1-r)/(2*C*n))
glmnet              (1/2n) RSS + lambda*((1-a)/2*|b|_2^2 + a*|b|_1)  (2*lambda*a, lambda*(1-a))
nielsen-l1          C0 + (lam/n) * sum|w|                            (lam/n, 0)
nielsen-l2          C0 + (lam/(2n)) * sum w^2                        (0, lam/(2n))
torch-sgd           gradient + weight_decay*w                        (0, weight_decay/2)
torch-adam          gradient + weight_decay*w, then Adam (coupled)   (0, weight_decay/2)
torch-adamw         decoupled decay w <- w - lr*weight_decay*w       not a penalty on the loss
keras-l1            mean loss + l1*sum|w|                            (l1, 0)
keras-l2            mean loss + l2*sum w^2                           (0, l2)
keras-l1l2          mean loss + l1*sum|w| + l2*sum w^2               (l1, l2)
==================  ===============================================  ==========================

``RSS = ||y - X w - b||**2``. Conventions marked ``any_loss`` (Nielsen, PyTorch, Keras) are "mean
loss + penalty" whatever the loss is, so they convert on either scale. Each :class:`Convention`
states in ``scale_note`` which loss scale it assumes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from numbers import Integral

import numpy as np

from regulab.core.penalties import Penalty, make_penalty
from regulab.core.validation import check_fraction, check_nonneg

__all__ = [
    "CONVENTIONS",
    "Convention",
    "ConversionRow",
    "NotRepresentable",
    "Setting",
    "convert",
    "get_convention",
]

LOSS_SCALES = ("squared", "logistic")
_LOSS_WORDS = {"squared": "mean squared error", "logistic": "mean log-loss"}


class NotRepresentable(ValueError):
    """A tool's parameters cannot express a regulab setting (or the reverse)."""


@dataclass(frozen=True)
class Setting:
    """A point on regulab's scale: ``EmpLoss + l1 * sum|w_j| + l2 * sum w_j**2``.

    Parameters
    ----------
    l1, l2 : float
        The L1 and L2 coefficients, finite and ``>= 0``.
    loss : {'squared', 'logistic'}
        Which mean loss ``EmpLoss`` is: mean squared error or mean log-loss.
    """

    l1: float
    l2: float
    loss: str = "squared"

    def __post_init__(self):
        object.__setattr__(self, "l1", check_nonneg(self.l1, "l1"))
        object.__setattr__(self, "l2", check_nonneg(self.l2, "l2"))
        _check_loss(self.loss)

    @property
    def lam(self) -> float:
        """Total strength ``lam = l1 + l2``."""
        return self.l1 + self.l2

    @property
    def l1_ratio(self) -> float:
        """``rho = l1 / (l1 + l2)``; 1.0 when both are 0."""
        return self.l1 / self.lam if self.lam > 0 else 1.0

    def penalty(self) -> Penalty | None:
        """The matching :mod:`regulab.core.penalties` object (L1, L2, ElasticNet), None if no penalty."""
        if self.lam == 0:
            return None
        if self.l2 == 0:
            return make_penalty("l1", self.l1)
        if self.l1 == 0:
            return make_penalty("l2", self.l2)
        return make_penalty("elasticnet", self.lam, self.l1_ratio)


@dataclass(frozen=True)
class Convention:
    """How one tool writes its regularized objective, and the map to and from regulab's scale.

    Parameters
    ----------
    name : str
        Identifier, as used by ``regulab convert``.
    tool : str
        Human-readable name of the tool and estimator.
    objective : str
        The tool's objective, written out in plain text.
    params : tuple of str
        The parameters the tool takes, in order.
    needs_n : bool
        Whether the conversion depends on the number of training samples ``n``.
    loss : {'squared', 'logistic'}
        The loss scale the tool's objective lives on.
    scale_note : str
        Which loss scale the conversion assumes, and its caveats.
    forward : callable
        ``forward(params, n) -> (l1, l2)`` on validated parameters.
    backward : callable
        ``backward(l1, l2, n) -> params``; raises :class:`NotRepresentable`.
    any_loss : bool
        True for "mean loss + penalty" conventions that hold on either loss scale.
    optional : tuple of str
        Parameters that may be omitted (``forward`` applies the tool's default).
    checks : mapping
        Per-parameter validators ``check(value, label) -> value``; default: finite and ``>= 0``.
    """

    name: str
    tool: str
    objective: str
    params: tuple[str, ...]
    needs_n: bool
    loss: str
    scale_note: str
    forward: Callable = field(repr=False, compare=False)
    backward: Callable = field(repr=False, compare=False)
    any_loss: bool = False
    optional: tuple[str, ...] = ()
    checks: Mapping[str, Callable] = field(default_factory=dict, repr=False, compare=False)

    def to_regulab(
        self, params: Mapping, n_samples: int | None = None, loss: str | None = None
    ) -> Setting:
        """The regulab :class:`Setting` equal to this tool's objective with ``params``.

        ``loss`` picks the scale for ``any_loss`` conventions (default: :attr:`loss`).
        Raises ValueError for unknown, missing or invalid parameters, or a missing ``n_samples``.
        """
        checked = self._check_params(params)
        n = self._check_n(n_samples)
        l1, l2 = self.forward(checked, n)
        return Setting(l1, l2, self._scale(loss))

    def from_regulab(self, setting: Setting, n_samples: int | None = None) -> dict:
        """This tool's parameters for a regulab :class:`Setting`.

        Raises :class:`NotRepresentable` when the tool cannot express the setting (a missing L1 or
        L2 term, another loss scale, decoupled decay) and ValueError for a missing ``n_samples``.
        """
        if not isinstance(setting, Setting):
            raise TypeError(f"expected a regulab Setting, got {type(setting).__name__}")
        if not self.any_loss and setting.loss != self.loss:
            raise NotRepresentable(
                f"{self.tool} minimizes a {self.loss}-scale objective ({_LOSS_WORDS[self.loss]}), "
                f"but the setting is on the {setting.loss} scale ({_LOSS_WORDS[setting.loss]})"
            )
        n = self._check_n(n_samples)
        return self.backward(setting.l1, setting.l2, n)

    # -- validation ------------------------------------------------------------------------
    def _check_params(self, params: Mapping) -> dict:
        if not isinstance(params, Mapping):
            raise ValueError(
                f"{self.name} parameters must be a mapping name -> value, got {params!r}"
            )
        takes = ", ".join(self.params)
        unexpected = [k for k in params if k not in self.params]
        if unexpected:
            raise ValueError(
                f"{self.name} got unexpected parameter {unexpected[0]!r}; it takes: {takes}"
            )
        missing = [k for k in self.params if k not in params and k not in self.optional]
        if missing:
            raise ValueError(f"{self.name} needs parameter {missing[0]!r}; it takes: {takes}")
        return {k: self.checks.get(k, _nonneg)(v, f"{self.name} {k}") for k, v in params.items()}

    def _check_n(self, n_samples) -> int | None:
        if n_samples is None:
            if self.needs_n:
                raise ValueError(needs_n_message(self))
            return None
        return check_n_samples(n_samples)

    def _scale(self, loss: str | None) -> str:
        if loss is None:
            return self.loss
        _check_loss(loss)
        if not self.any_loss and loss != self.loss:
            raise ValueError(f"{self.name} is on the {self.loss} loss scale, not {loss!r}")
        return loss


@dataclass(frozen=True)
class ConversionRow:
    """One target of :func:`convert`: its parameters, or the reason there are none."""

    name: str
    tool: str
    params: dict | None
    reason: str | None
    objective: str
    note: str = ""


# -- small checks ------------------------------------------------------------------------------
def _check_loss(loss) -> str:
    if loss not in LOSS_SCALES:
        raise ValueError(f"unknown loss scale {loss!r}; valid choices: {', '.join(LOSS_SCALES)}")
    return loss


def _number(value):
    """Numeric strings (from a command line) become floats; anything else is left to the checker."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _nonneg(value, label: str) -> float:
    return check_nonneg(_number(value), label)


def _fraction(value, label: str) -> float:
    return check_fraction(_number(value), label)


def _fraction_or_none(value, label: str) -> float | None:
    return None if value is None else _fraction(value, label)


def _inverse_strength(value, label: str) -> float:
    """sklearn's ``C``: a number > 0; ``inf`` means no penalty, as in scikit-learn."""
    value = _number(value)
    if isinstance(value, (Integral, float, np.floating)) and not isinstance(value, bool):
        if float(value) == math.inf:
            return math.inf
        if check_nonneg(value, label) > 0:
            return float(value)
    raise ValueError(f"{label} must be a number > 0 (inf for no penalty), got {value!r}")


_LOGISTIC_PENALTIES = ("l1", "l2", "elasticnet", "none")


def _penalty_name(value, label: str) -> str:
    name = "none" if value is None else value
    if not isinstance(name, str) or name.lower() not in _LOGISTIC_PENALTIES:
        raise ValueError(f"{label} must be one of {', '.join(_LOGISTIC_PENALTIES)}, got {value!r}")
    return name.lower()


def check_n_samples(n_samples) -> int:
    """Return ``n_samples`` as an int, or raise ValueError unless it is an integer >= 1."""
    n = _number(n_samples)
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    return int(n)


def needs_n_message(conv: Convention) -> str:
    """The error text for a conversion that needs ``n`` and did not get it."""
    return f"{conv.name} needs the number of training samples: pass --n-samples N"


# -- building blocks of the backward maps ---------------------------------------------------------
def _l1_only(build: Callable, tool: str, instead: str) -> Callable:
    """Backward map of a tool with only an L1 term: refuses an L2 part."""

    def backward(l1, l2, n):
        if l2 > 0:
            raise NotRepresentable(
                f"{tool} has no L2 term, but the setting has l2={l2:g}; instead use {instead}"
            )
        return build(l1, n)

    return backward


def _l2_only(build: Callable, tool: str, instead: str) -> Callable:
    """Backward map of a tool with only an L2 term: refuses an L1 part."""

    def backward(l1, l2, n):
        if l1 > 0:
            raise NotRepresentable(
                f"{tool} has no L1 term, but the setting has l1={l1:g}; instead use {instead}"
            )
        return build(l2, n)

    return backward


def _half_l1_mix(strength: str, ratio: str, default_ratio: float) -> tuple[Callable, Callable]:
    """Forward and backward maps of ``(1/2n) RSS + s*(r*|w|_1 + (1-r)/2*|w|_2^2)``.

    Doubling gives ``MSE + 2*s*r*|w|_1 + s*(1-r)*|w|_2^2``; back: ``s = l1/2 + l2``,
    ``r = (l1/2) / s`` (the tool's default ``r`` when ``s = 0``).
    """

    def forward(p, n):
        s, r = p[strength], p.get(ratio, default_ratio)
        return 2.0 * s * r, s * (1.0 - r)

    def backward(l1, l2, n):
        s = 0.5 * l1 + l2
        return {strength: s, ratio: (0.5 * l1) / s if s > 0 else default_ratio}

    return forward, backward


def _regulab_forward(p, n):
    return p["lam"] * p["l1_ratio"], p["lam"] * (1.0 - p["l1_ratio"])


def _regulab_backward(l1, l2, n):
    lam = l1 + l2
    return {"lam": lam, "l1_ratio": l1 / lam if lam > 0 else 1.0}


def _logistic_ratio(p) -> float:
    """The L1 share ``r`` sklearn's LogisticRegression uses, from ``penalty`` and ``l1_ratio``."""
    penalty, r = p.get("penalty"), p.get("l1_ratio")
    if penalty is None:  # not given: l1_ratio decides, as in scikit-learn >= 1.8 (default 0.0)
        return 0.0 if r is None else r
    if penalty == "elasticnet":
        if r is None:
            raise ValueError(
                "sklearn-logistic with penalty='elasticnet' needs parameter 'l1_ratio'"
            )
        return r
    fixed = {"l1": 1.0, "l2": 0.0}[penalty]
    if r is not None and r != fixed:
        raise ValueError(
            f"sklearn-logistic: penalty={penalty!r} contradicts l1_ratio={r!r} "
            f"(penalty={penalty!r} means l1_ratio={fixed:g})"
        )
    return fixed


def _logistic_forward(p, n):
    if p.get("penalty") == "none":
        return 0.0, 0.0
    r, cn = _logistic_ratio(p), p["C"] * n
    return r / cn, (1.0 - r) / (2.0 * cn)


def _logistic_backward(l1, l2, n):
    s = l1 + 2.0 * l2  # = 1 / (C * n)
    if s == 0:
        return {"C": math.inf, "penalty": "l2", "l1_ratio": 0.0}
    r = l1 / s
    penalty = "l1" if r == 1.0 else "l2" if r == 0.0 else "elasticnet"
    return {"C": 1.0 / (s * n), "penalty": penalty, "l1_ratio": r}


_ADAMW_WHY = (
    "AdamW's weight_decay is decoupled: each step shrinks w <- w - lr*weight_decay*w outside "
    "Adam's adaptive scaling m/(sqrt(v)+eps), while an L2 term's gradient would be divided by "
    "sqrt(v)+eps; at a fixed point grad L = -weight_decay*(sqrt(v)+eps)*w, a pull whose strength "
    "differs per weight with its gradient history, so no L2 penalty on the loss equals it; for a "
    "true L2 penalty use torch-adam or torch-sgd (weight_decay = 2*l2)"
)


def _adamw_forward(p, n):
    if p["weight_decay"] > 0:
        raise NotRepresentable(_ADAMW_WHY)
    return 0.0, 0.0


def _adamw_backward(l1, l2, n):
    if l1 + l2 > 0:
        raise NotRepresentable(_ADAMW_WHY)
    return {"weight_decay": 0.0}


# -- the registry --------------------------------------------------------------------------------
_MEAN_LOSS_NOTE = "holds for any mean loss (MSE or mean log-loss, regulab's scales)"
_REGULAB_PENALTY = "lam*l1_ratio*sum|w_j| + lam*(1-l1_ratio)*sum w_j^2"
_NIELSEN_NOTE = (
    "C0 taken on regulab's scale (mean cross-entropy or MSE): {rule}; with his quadratic cost "
    "(1/2n)*sum||y-a||^2, which is half an MSE, double the result"
)
_KERAS_NOTE = _MEAN_LOSS_NOTE + " (Keras losses reduce by the mean by default): "
_TORCH_INSTEAD = "an L1 term added to the loss (as keras-l1l2 does)"

_sk_en_fwd, _sk_en_back = _half_l1_mix("alpha", "l1_ratio", 0.5)
_glmnet_fwd, _glmnet_back = _half_l1_mix("lambda", "alpha", 1.0)

_TABLE = [
    Convention(
        name="regulab",
        tool="regulab (squared loss)",
        objective="(1/n)*||y - Xw - b||^2 + " + _REGULAB_PENALTY,
        params=("lam", "l1_ratio"),
        needs_n=False,
        loss="squared",
        scale_note="regulab's own scale: mean squared error",
        forward=_regulab_forward,
        backward=_regulab_backward,
        checks={"l1_ratio": _fraction},
    ),
    Convention(
        name="regulab-logistic",
        tool="regulab (logistic loss)",
        objective="(1/n)*sum_i log(1 + exp(-t_i*(x_i.w + b))) + " + _REGULAB_PENALTY,
        params=("lam", "l1_ratio"),
        needs_n=False,
        loss="logistic",
        scale_note="regulab's own scale: mean log-loss, t_i = 2*y_i - 1",
        forward=_regulab_forward,
        backward=_regulab_backward,
        checks={"l1_ratio": _fraction},
    ),
    Convention(
        name="sklearn-lasso",
        tool="scikit-learn Lasso",
        objective="(1/(2n))*||y - Xw - b||^2 + alpha*||w||_1",
        params=("alpha",),
        needs_n=False,
        loss="squared",
        scale_note="half a mean squared error: regulab's objective is twice Lasso's, l1 = 2*alpha",
        forward=lambda p, n: (2.0 * p["alpha"], 0.0),
        backward=_l1_only(
            lambda l1, n: {"alpha": l1 / 2.0}, "scikit-learn Lasso", "sklearn-elasticnet"
        ),
    ),
    Convention(
        name="sklearn-ridge",
        tool="scikit-learn Ridge",
        objective="||y - Xw - b||^2 + alpha*||w||_2^2",
        params=("alpha",),
        needs_n=True,
        loss="squared",
        scale_note="a *sum* of squared errors, n times regulab's mean: l2 = alpha/n "
        "(with sample_weight, n is the sum of the weights)",
        forward=lambda p, n: (0.0, p["alpha"] / n),
        backward=_l2_only(
            lambda l2, n: {"alpha": l2 * n}, "scikit-learn Ridge", "sklearn-elasticnet"
        ),
    ),
    Convention(
        name="sklearn-elasticnet",
        tool="scikit-learn ElasticNet",
        objective="(1/(2n))*||y - Xw - b||^2 + alpha*l1_ratio*||w||_1 "
        "+ (alpha*(1-l1_ratio)/2)*||w||_2^2",
        params=("alpha", "l1_ratio"),
        needs_n=False,
        loss="squared",
        scale_note="half a mean squared error: l1 = 2*alpha*l1_ratio, l2 = alpha*(1-l1_ratio); "
        "l1_ratio defaults to 0.5",
        forward=_sk_en_fwd,
        backward=_sk_en_back,
        optional=("l1_ratio",),
        checks={"l1_ratio": _fraction},
    ),
    Convention(
        name="sklearn-logistic",
        tool="scikit-learn LogisticRegression",
        objective="C*sum_i log(1 + exp(-t_i*(x_i.w + b))) + l1_ratio*||w||_1 "
        "+ ((1-l1_ratio)/2)*||w||_2^2",
        params=("C", "penalty", "l1_ratio"),
        needs_n=True,
        loss="logistic",
        scale_note="a *sum* of log-losses times C: divide by C*n (n = sum of sample weights "
        "when given); penalty 'l1'/'l2' fix l1_ratio to 1/0, if omitted l1_ratio decides "
        "(default 0, L2); C=inf means no penalty; solver 'liblinear' also penalizes the "
        "intercept, regulab never does",
        forward=_logistic_forward,
        backward=_logistic_backward,
        optional=("penalty", "l1_ratio"),
        checks={"C": _inverse_strength, "penalty": _penalty_name, "l1_ratio": _fraction_or_none},
    ),
    Convention(
        name="glmnet",
        tool="glmnet (R), family='gaussian'",
        objective="(1/(2n))*||y - b0 - X beta||^2 "
        "+ lambda*((1-alpha)/2*||beta||_2^2 + alpha*||beta||_1)",
        params=("lambda", "alpha"),
        needs_n=False,
        loss="squared",
        scale_note="half a mean squared error: l1 = 2*lambda*alpha, l2 = lambda*(1-alpha); "
        "alpha defaults to 1. glmnet standardizes x by default and, for gaussian, y too "
        "(1/n variance) before applying lambda, so this holds for x and y passed already "
        "standardized (or standardize=FALSE with unit-variance y)",
        forward=_glmnet_fwd,
        backward=_glmnet_back,
        optional=("alpha",),
        checks={"alpha": _fraction},
    ),
    Convention(
        name="nielsen-l1",
        tool="Nielsen, Neural Networks and Deep Learning (L1)",
        objective="C0 + (lam/n)*sum_w |w|",
        params=("lam",),
        needs_n=True,
        loss="squared",
        scale_note=_NIELSEN_NOTE.format(rule="l1 = lam/n"),
        forward=lambda p, n: (p["lam"] / n, 0.0),
        backward=_l1_only(
            lambda l1, n: {"lam": l1 * n}, "Nielsen's L1 regularization", "nielsen-l2 for L2"
        ),
        any_loss=True,
    ),
    Convention(
        name="nielsen-l2",
        tool="Nielsen, Neural Networks and Deep Learning (L2)",
        objective="C0 + (lam/(2n))*sum_w w^2",
        params=("lam",),
        needs_n=True,
        loss="squared",
        scale_note=_NIELSEN_NOTE.format(rule="l2 = lam/(2n)"),
        forward=lambda p, n: (0.0, p["lam"] / (2.0 * n)),
        backward=_l2_only(
            lambda l2, n: {"lam": 2.0 * l2 * n}, "Nielsen's L2 regularization", "nielsen-l1 for L1"
        ),
        any_loss=True,
    ),
    Convention(
        name="torch-sgd",
        tool="PyTorch torch.optim.SGD(weight_decay)",
        objective="w <- w - lr*(grad L(w) + weight_decay*w): "
        "gradient descent on L(w) + (weight_decay/2)*||w||_2^2",
        params=("weight_decay",),
        needs_n=False,
        loss="squared",
        scale_note=_MEAN_LOSS_NOTE + " (reduction='mean', PyTorch's default); "
        "l2 = weight_decay/2; it decays every parameter of the group, biases too unless "
        "given weight_decay=0",
        forward=lambda p, n: (0.0, p["weight_decay"] / 2.0),
        backward=_l2_only(
            lambda l2, n: {"weight_decay": 2.0 * l2},
            "torch.optim.SGD's weight_decay",
            _TORCH_INSTEAD,
        ),
        any_loss=True,
    ),
    Convention(
        name="torch-adam",
        tool="PyTorch torch.optim.Adam(weight_decay) (coupled)",
        objective="Adam on g = grad L(w) + weight_decay*w: Adam on L(w) + (weight_decay/2)*||w||^2",
        params=("weight_decay",),
        needs_n=False,
        loss="squared",
        scale_note=_MEAN_LOSS_NOTE + " (reduction='mean'); l2 = weight_decay/2; unlike AdamW "
        "the decay goes through Adam's adaptive scaling, exactly like the gradient of an L2 term",
        forward=lambda p, n: (0.0, p["weight_decay"] / 2.0),
        backward=_l2_only(
            lambda l2, n: {"weight_decay": 2.0 * l2},
            "torch.optim.Adam's weight_decay",
            _TORCH_INSTEAD,
        ),
        any_loss=True,
    ),
    Convention(
        name="torch-adamw",
        tool="PyTorch torch.optim.AdamW(weight_decay) (decoupled)",
        objective="w <- w - lr*weight_decay*w, then w <- w - lr*m_hat/(sqrt(v_hat)+eps) "
        "with m, v from grad L(w) alone",
        params=("weight_decay",),
        needs_n=False,
        loss="squared",
        scale_note="no loss scale makes it a penalty: decoupled decay is not an L2 term on the "
        "loss (only weight_decay=0, no regularization, converts)",
        forward=_adamw_forward,
        backward=_adamw_backward,
        any_loss=True,
    ),
    Convention(
        name="keras-l1",
        tool="Keras regularizers.L1(l1)",
        objective="L(w) + l1*sum|w|",
        params=("l1",),
        needs_n=False,
        loss="squared",
        scale_note=_KERAS_NOTE + "l1 = l1",
        forward=lambda p, n: (p["l1"], 0.0),
        backward=_l1_only(lambda l1, n: {"l1": l1}, "Keras L1", "keras-l1l2"),
        any_loss=True,
    ),
    Convention(
        name="keras-l2",
        tool="Keras regularizers.L2(l2)",
        objective="L(w) + l2*sum w^2",
        params=("l2",),
        needs_n=False,
        loss="squared",
        scale_note=_KERAS_NOTE + "l2 = l2, no factor 1/2",
        forward=lambda p, n: (0.0, p["l2"]),
        backward=_l2_only(lambda l2, n: {"l2": l2}, "Keras L2", "keras-l1l2"),
        any_loss=True,
    ),
    Convention(
        name="keras-l1l2",
        tool="Keras regularizers.L1L2(l1, l2)",
        objective="L(w) + l1*sum|w| + l2*sum w^2",
        params=("l1", "l2"),
        needs_n=False,
        loss="squared",
        scale_note=_KERAS_NOTE + "the same numbers",
        forward=lambda p, n: (p["l1"], p["l2"]),
        backward=lambda l1, l2, n: {"l1": l1, "l2": l2},
        any_loss=True,
    ),
]


#: Every convention, by id, in display order.
CONVENTIONS: dict[str, Convention] = {c.name: c for c in _TABLE}


def get_convention(name: str) -> Convention:
    """The :class:`Convention` called ``name``; ValueError listing the valid ids otherwise."""
    if name not in CONVENTIONS:
        raise ValueError(f"unknown convention {name!r}; valid ids: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[name]


def convert(
    src: str,
    params: Mapping,
    n_samples: int | None = None,
    to: list[str] | None = None,
    loss: str | None = None,
) -> list[ConversionRow]:
    """Convert one tool's parameters into every other tool's.

    Parameters
    ----------
    src : str
        Id of the source convention (a key of :data:`CONVENTIONS`).
    params : mapping
        The source tool's parameters, e.g. ``{"alpha": 0.1}``.
    n_samples : int, optional
        Number of training samples; needed by conventions whose objective sums over samples.
    to : list of str, optional
        Target ids; all conventions, in registry order, when None.
    loss : {'squared', 'logistic'}, optional
        Loss scale of an ``any_loss`` source; when None, such a source is read on each target's
        scale.

    Returns
    -------
    list of ConversionRow
        One row per target: its parameters, or the reason (not representable, another loss scale,
        ``n_samples`` missing) it has none.
    """
    source = get_convention(src)
    if n_samples is not None:
        n_samples = check_n_samples(n_samples)
    setting = source.to_regulab(params, n_samples, loss)
    free = source.any_loss and loss is None
    targets = list(CONVENTIONS.values()) if to is None else [get_convention(t) for t in to]
    return [_row(t, replace(setting, loss=t.loss) if free else setting, n_samples) for t in targets]


def _row(target: Convention, setting: Setting, n_samples: int | None) -> ConversionRow:
    params, reason = None, None
    if target.needs_n and n_samples is None:
        reason = needs_n_message(target)
    else:
        try:
            params = target.from_regulab(setting, n_samples)
        except NotRepresentable as exc:
            reason = str(exc)
    return ConversionRow(
        target.name, target.tool, params, reason, target.objective, target.scale_note
    )
