"""The table of tools: how scikit-learn, glmnet, glum, Nielsen, PyTorch and Keras write their
regularized objectives, each as a :class:`~regulab.core.conventions.convention.Convention` (see the
table in :mod:`regulab.core.conventions`). The tool-specific maps and checks live here beside their
entries; the generic building blocks in :mod:`~regulab.core.conventions.convention`."""

from __future__ import annotations

import math
from numbers import Real

from regulab.core.conventions.convention import (
    Convention,
    fraction,
    fraction_or_none,
    l1_mix,
    l1_only,
    l2_only,
)
from regulab.core.conventions.setting import NotRepresentable
from regulab.core.validation import (
    InvalidValue,
    check_choice,
    check_positive,
    parse_number,
    shown,
)

#: scikit-learn's ``penalty`` names and their L1 share (None: ``l1_ratio`` decides). They are
#: scikit-learn's vocabulary, not regulab's kinds: the two coincide today, but a kind added to
#: regulab's table is no new scikit-learn penalty.
SKLEARN_PENALTIES = {"l1": 1.0, "l2": 0.0, "elasticnet": None}


# -- checks of scikit-learn's LogisticRegression parameters --------------------------------------
def inverse_strength(value, label: str) -> float:
    """sklearn's ``C``: a number > 0; ``inf`` means no penalty, as in scikit-learn."""
    value = parse_number(value)
    if isinstance(value, Real) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    try:
        return check_positive(value, label)
    except InvalidValue:
        raise InvalidValue(label, f"{label} must be a number > 0 (inf for no penalty), got "
                                  f"{shown(value)}") from None


def sklearn_penalty(value, label: str) -> str:
    """sklearn's ``penalty``: one of :data:`SKLEARN_PENALTIES` or ``'none'`` (None), any case."""
    name = "none" if value is None else value
    name = name.lower() if isinstance(name, str) else name
    return check_choice(name, (*SKLEARN_PENALTIES, "none"), label)


# -- the maps of single tools ---------------------------------------------------------------------
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
    fixed = SKLEARN_PENALTIES[penalty]
    if fixed is None:
        if r is None:
            raise ValueError(
                f"sklearn-logistic with penalty={penalty!r} needs parameter 'l1_ratio'"
            )
        return r
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
    fixed = [k for k, share in SKLEARN_PENALTIES.items() if share == r]
    penalty = fixed[0] if fixed else "elasticnet"
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


# -- the table ------------------------------------------------------------------------------------
_MEAN_LOSS_NOTE = "holds for any mean loss (MSE or mean log-loss, regulab's scales)"
_REGULAB_PENALTY = "lam*l1_ratio*sum|w_j| + lam*(1-l1_ratio)*sum w_j^2"
_NIELSEN_NOTE = (
    "C0 taken on regulab's scale (mean cross-entropy or MSE): {rule}; with his quadratic cost "
    "(1/2n)*sum||y-a||^2, which is half an MSE, double the result"
)
_KERAS_NOTE = _MEAN_LOSS_NOTE + " (Keras losses reduce by the mean by default): "
_TORCH_INSTEAD = "an L1 term added to the loss (as keras-l1l2 does)"

_sk_en_fwd, _sk_en_back = l1_mix("alpha", "l1_ratio", 0.5, scale=2.0)

# -- glmnet, family = "gaussian": y is scaled by sd(y) before lambda applies -----------------------
#: why glmnet's gaussian lambda needs sd(y), in one line
SD_Y_WHY = (
    "glmnet's gaussian family divides y by sd(y) (1/n variance) before applying lambda and "
    "scales the coefficients back, so its L2 term is lambda*(1-alpha)/(2*sd(y))*||beta||^2 in "
    "y's units: give sd(y) (--sd-y, or --data FILE --target Y to compute it); with alpha = 1 "
    "(lasso) it cancels"
)


def _glmnet_forward(p, n, sd_y):
    """glmnet gaussian fits ``y/sd`` with coefficients ``beta/sd``: in y's units its objective
    divided by ``1/sd**2`` is ``(1/2n) RSS + lambda*alpha*|beta|_1
    + lambda*(1-alpha)/(2 sd)*|beta|^2``; doubled: ``l1 = 2 lambda alpha``,
    ``l2 = lambda (1-alpha) / sd``."""
    lam, a = p["lambda"], p.get("alpha", 1.0)
    if a < 1.0 and lam > 0.0:
        if sd_y is None:
            raise ValueError(SD_Y_WHY)
        return 2.0 * lam * a, lam * (1.0 - a) / sd_y
    return 2.0 * lam * a, 0.0


def _glmnet_backward(l1, l2, n, sd_y):
    """``lambda*alpha = l1/2``, ``lambda*(1-alpha) = l2*sd``."""
    if l2 == 0.0:
        return {"lambda": 0.5 * l1, "alpha": 1.0}
    if sd_y is None:
        raise NotRepresentable(SD_Y_WHY)
    lam = 0.5 * l1 + l2 * sd_y
    return {"lambda": lam, "alpha": 0.5 * l1 / lam}


_MIX_HALF = "l1_ratio = rho/(2 - rho) (rho = 0.5 -> 1/3)"
_GLMNET_MIX = "alpha = rho/(2 - rho) (rho = 0.5 -> 1/3)"
_GLUM_NOTE = ("glum.GeneralizedLinearRegressor(alpha, l1_ratio, family={family}) minimizes "
              "1/(2*sum(s))*deviance + alpha*l1_ratio*||w||_1 + alpha*(1-l1_ratio)/2*||w||^2 "
              "(glum/_glm.py); {rule}; l1_ratio defaults to 0; P1 = P2 = identity assumed")

# -- families of rows: the fields their members share, written once -----------------------------
def _regulab_row(name: str, tool: str, mean_loss: str, loss: str, scale_note: str) -> Convention:
    """regulab's own convention on one loss scale: ``mean_loss + lam*(...)``, the identity map."""
    return Convention(
        name=name, tool=tool, objective=mean_loss + " + " + _REGULAB_PENALTY,
        params=("lam", "l1_ratio"), needs_n=False, loss=loss, scale_note=scale_note,
        forward=_regulab_forward, backward=_regulab_backward, checks={"l1_ratio": fraction},
        mixing="l1_ratio = rho",
    )


def _glmnet_glm_row(family: str, loss: str, objective: str, scale_note: str) -> Convention:
    """glmnet's families without y scaling: ``-(1/n) loglik + lambda*((1-alpha)/2*|b|^2
    + alpha*|b|_1)``, so ``l1 = lambda*alpha``, ``l2 = lambda*(1-alpha)/2``."""
    forward, backward = l1_mix("lambda", "alpha", 1.0)
    return Convention(
        name=f"glmnet-{family}", tool=f"glmnet (R), family='{family}'", objective=objective,
        params=("lambda", "alpha"), needs_n=False, loss=loss, scale_note=scale_note,
        forward=forward, backward=backward, optional=("alpha",), checks={"alpha": fraction},
        mixing=_GLMNET_MIX,
    )


def _glum_row(family: str, loss: str, objective: str, rule: str, scale: float) -> Convention:
    """glum's ``1/(2*sum(s))*deviance + alpha*(l1_ratio*|w|_1 + (1-l1_ratio)/2*|w|^2)``;
    ``scale`` is regulab's loss over glum's (2 for the normal family, 1 for the others)."""
    forward, backward = l1_mix("alpha", "l1_ratio", 0.0, scale=scale)
    return Convention(
        name=f"glum-{family}", tool=f"glum GeneralizedLinearRegressor, family='{family}'",
        objective=objective, params=("alpha", "l1_ratio"), needs_n=False, loss=loss,
        scale_note=_GLUM_NOTE.format(family=f"'{family}'", rule=rule), forward=forward,
        backward=backward, optional=("l1_ratio",), checks={"l1_ratio": fraction},
        mixing=_MIX_HALF,
    )


def _torch_decay_row(name: str, optimizer: str, tool: str, objective: str,
                     scale_note: str) -> Convention:
    """A PyTorch optimizer whose coupled ``weight_decay`` is the gradient of
    ``(weight_decay/2)*||w||^2``: ``l2 = weight_decay/2``, no L1 term."""
    return Convention(
        name=name, tool=tool, objective=objective, params=("weight_decay",), needs_n=False,
        loss="squared", scale_note=scale_note,
        forward=lambda p, n: (0.0, p["weight_decay"] / 2.0),
        backward=l2_only(
            lambda l2, n: {"weight_decay": 2.0 * l2},
            f"torch.optim.{optimizer}'s weight_decay",
            _TORCH_INSTEAD,
        ),
        any_loss=True,
    )


_TABLE = [
    _regulab_row(
        "regulab", "regulab (squared loss)", "(1/n)*||y - Xw - b||^2", "squared",
        "regulab's own scale: mean squared error",
    ),
    _regulab_row(
        "regulab-logistic", "regulab (logistic loss)",
        "(1/n)*sum_i log(1 + exp(-t_i*(x_i.w + b)))", "logistic",
        "regulab's own scale: mean log-loss, t_i = 2*y_i - 1",
    ),
    _regulab_row(
        "regulab-poisson", "regulab (Poisson loss, log link)",
        "(1/n)*sum_i (exp(x_i.w + b + o_i) - y_i*(x_i.w + b + o_i))", "poisson",
        "regulab's own scale: the mean Poisson negative log-likelihood (without "
        "its log(y_i!) term), offset o_i = log(exposure_i) (0 without one); half the mean "
        "Poisson deviance plus a constant, so the same minimizer",
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
        backward=l1_only(
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
        backward=l2_only(
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
        checks={"l1_ratio": fraction},
        mixing=_MIX_HALF,
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
        checks={"C": inverse_strength, "penalty": sklearn_penalty, "l1_ratio": fraction_or_none},
        mixing=_MIX_HALF,
    ),
    Convention(
        name="glmnet",
        tool="glmnet (R), family='gaussian'",
        objective="(1/(2n))*||y - b0 - X beta||^2 + lambda*alpha*||beta||_1 "
        "+ lambda*(1-alpha)/(2*sd(y))*||beta||_2^2 (glmnet fits y/sd(y) with penalty "
        "lambda/sd(y)*((1-alpha)/2*||beta/sd(y)||^2 + alpha*||beta/sd(y)||_1))",
        params=("lambda", "alpha"),
        needs_n=False,
        loss="squared",
        scale_note="half a mean squared error after dividing y by sd(y) (1/n variance), which "
        "glmnet's gaussian family always does: l1 = 2*lambda*alpha, "
        "l2 = lambda*(1-alpha)/sd(y); alpha defaults to 1 (then sd(y) cancels). x: glmnet "
        "standardizes it by default (standardize=TRUE), as regulab's commands do",
        forward=_glmnet_forward,
        backward=_glmnet_backward,
        optional=("alpha",),
        checks={"alpha": fraction},
        needs_sd_y=True,
        mixing="alpha = rho/(rho + 2*sd(y)*(1 - rho)) (sd(y) = 1: rho = 0.5 -> alpha = 1/3)",
    ),
    _glmnet_glm_row(
        "binomial", "logistic",
        "-(1/n)*loglik(b0, beta) + lambda*((1-alpha)/2*||beta||_2^2 + alpha*||beta||_1)",
        "the mean log-loss itself (no y scaling): l1 = lambda*alpha, "
        "l2 = lambda*(1-alpha)/2; alpha defaults to 1; x standardized as for gaussian",
    ),
    _glmnet_glm_row(
        "poisson", "poisson",
        "-(1/n)*loglik(b0, beta) + lambda*((1-alpha)/2*||beta||_2^2 "
        "+ alpha*||beta||_1), loglik = sum_i (y_i*eta_i - exp(eta_i)) + const, "
        "eta_i = b0 + x_i.beta + offset_i",
        "glmnet's documented poisson objective: -(1/n) log-likelihood is regulab's "
        "mean Poisson negative log-likelihood up to a constant (no y scaling, the offset "
        "enters eta alike): l1 = lambda*alpha, l2 = lambda*(1-alpha)/2; alpha defaults to 1. "
        "python-glmnet has no poisson family: this row follows glmnet's documentation "
        "(glmnet vignette, 'Poisson Regression')",
    ),
    _glum_row(
        "normal", "squared",
        "1/(2n)*||y - Xw - b||^2 + alpha*l1_ratio*||w||_1 + alpha*(1-l1_ratio)/2*||w||_2^2",
        "half a mean squared error: l1 = 2*alpha*l1_ratio, l2 = alpha*(1-l1_ratio)",
        scale=2.0,
    ),
    _glum_row(
        "binomial", "logistic",
        "(1/n)*sum_i log(1 + exp(-t_i*(x_i.w + b))) + alpha*l1_ratio*||w||_1 "
        "+ alpha*(1-l1_ratio)/2*||w||_2^2",
        "the deviance is twice the log-loss, so the mean log-loss: l1 = alpha*l1_ratio, "
        "l2 = alpha*(1-l1_ratio)/2",
        scale=1.0,
    ),
    _glum_row(
        "poisson", "poisson",
        "(1/n)*sum_i (mu_i - y_i*log(mu_i)) + const + alpha*l1_ratio*||w||_1 "
        "+ alpha*(1-l1_ratio)/2*||w||_2^2, mu_i = exp(x_i.w + b)",
        "half the mean deviance is the mean negative log-likelihood plus a constant: "
        "l1 = alpha*l1_ratio, l2 = alpha*(1-l1_ratio)/2",
        scale=1.0,
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
        backward=l1_only(
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
        backward=l2_only(
            lambda l2, n: {"lam": 2.0 * l2 * n}, "Nielsen's L2 regularization", "nielsen-l1 for L1"
        ),
        any_loss=True,
    ),
    _torch_decay_row(
        "torch-sgd", "SGD", "PyTorch torch.optim.SGD(weight_decay)",
        "w <- w - lr*(grad L(w) + weight_decay*w): "
        "gradient descent on L(w) + (weight_decay/2)*||w||_2^2",
        _MEAN_LOSS_NOTE + " (reduction='mean', PyTorch's default); "
        "l2 = weight_decay/2; it decays every parameter of the group, biases too unless "
        "given weight_decay=0",
    ),
    _torch_decay_row(
        "torch-adam", "Adam", "PyTorch torch.optim.Adam(weight_decay) (coupled)",
        "Adam on g = grad L(w) + weight_decay*w: Adam on L(w) + (weight_decay/2)*||w||^2",
        _MEAN_LOSS_NOTE + " (reduction='mean'); l2 = weight_decay/2; unlike AdamW "
        "the decay goes through Adam's adaptive scaling, exactly like the gradient of an L2 term",
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
        backward=l1_only(lambda l1, n: {"l1": l1}, "Keras L1", "keras-l1l2"),
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
        backward=l2_only(lambda l2, n: {"l2": l2}, "Keras L2", "keras-l1l2"),
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
