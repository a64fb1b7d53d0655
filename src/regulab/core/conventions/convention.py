"""One tool's regularized objective and its maps to and from a regulab :class:`Setting`; the
checks of the tools' parameters and the building blocks of the maps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from regulab.core.conventions.setting import (
    LOSS_WORDS,
    NotRepresentable,
    Setting,
    check_loss,
)
from regulab.core.validation import (
    check_fraction,
    check_int,
    check_nonneg,
    check_real,
    parse_number,
)


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
    needs_sd_y : bool
        Whether the conversion depends on ``sd(y)`` (glmnet's gaussian family, which scales y
        by it): ``forward(params, n, sd_y)`` and ``backward(l1, l2, n, sd_y)``, ``sd_y`` None
        when not given (the map raises where it matters).
    mixing : str
        How the tool's L1/L2 mixing parameter relates to regulab's ``l1_ratio = rho``.
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
    needs_sd_y: bool = False
    mixing: str = ""

    def to_regulab(
        self, params: Mapping, n_samples: int | None = None, loss: str | None = None,
        sd_y: float | None = None,
    ) -> Setting:
        """The regulab :class:`Setting` equal to this tool's objective with ``params``.

        ``loss`` picks the scale for ``any_loss`` conventions (default: :attr:`loss`); ``sd_y``
        is used by the conventions that need it (:attr:`needs_sd_y`), ignored by the others.
        Raises ValueError for unknown, missing or invalid parameters, or a missing ``n_samples``
        (or ``sd_y`` where it changes the answer).
        """
        checked = self._check_params(params)
        n = self._check_n(n_samples)
        if self.needs_sd_y:
            l1, l2 = self.forward(checked, n, check_sd_y(sd_y))
        else:
            l1, l2 = self.forward(checked, n)
        return Setting(l1, l2, self._scale(loss))

    def from_regulab(self, setting: Setting, n_samples: int | None = None,
                     sd_y: float | None = None) -> dict:
        """This tool's parameters for a regulab :class:`Setting`.

        Raises :class:`NotRepresentable` when the tool cannot express the setting (a missing L1 or
        L2 term, another loss scale, decoupled decay) and ValueError for a missing ``n_samples``.
        """
        if not isinstance(setting, Setting):
            raise TypeError(f"expected a regulab Setting, got {type(setting).__name__}")
        if not self.any_loss and setting.loss != self.loss:
            raise NotRepresentable(
                f"{self.tool} minimizes a {self.loss}-scale objective ({LOSS_WORDS[self.loss]}), "
                f"but the setting is on the {setting.loss} scale ({LOSS_WORDS[setting.loss]})"
            )
        n = self._check_n(n_samples)
        if self.needs_sd_y:
            return self.backward(setting.l1, setting.l2, n, check_sd_y(sd_y))
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
        return {k: self.checks.get(k, nonneg)(v, f"{self.name} {k}") for k, v in params.items()}

    def _check_n(self, n_samples) -> int | None:
        if n_samples is None:
            if self.needs_n:
                raise ValueError(needs_n_message(self))
            return None
        return check_n_samples(n_samples)

    def _scale(self, loss: str | None) -> str:
        if loss is None:
            return self.loss
        check_loss(loss)
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


# -- checks of the tools' parameters: a label names the parameter ("sklearn-lasso alpha"); numeric
# strings (typed on a command line) are numbers ----------------------------------------------------
def nonneg(value, label: str) -> float:
    """A finite number ``>= 0`` (the default check of every parameter)."""
    return check_nonneg(parse_number(value), label)


def fraction(value, label: str) -> float:
    """A number in ``[0, 1]``."""
    return check_fraction(parse_number(value), label)


def fraction_or_none(value, label: str) -> float | None:
    """None, or a number in ``[0, 1]``."""
    return None if value is None else fraction(value, label)


def check_n_samples(n_samples) -> int:
    """``n_samples`` as an int: an integer ``>= 1`` (an integral float or numeric string too)."""
    n = parse_number(n_samples)
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    return check_int(n, "n_samples", 1)


def check_sd_y(sd_y) -> float | None:
    """None, or ``sd(y)`` as a finite number > 0."""
    if sd_y is None:
        return None
    return check_real(parse_number(sd_y), "sd_y", low=0.0, low_open=True)


def needs_n_message(conv: Convention) -> str:
    """The error text for a conversion that needs ``n`` and did not get it."""
    return f"{conv.name} needs the number of training samples: pass --n-samples N"


# -- building blocks of the backward maps ---------------------------------------------------------
def _one_term(has: str, lacks: str, build: Callable, tool: str, instead: str) -> Callable:
    """Backward map of a tool with only the ``has`` term ('l1' or 'l2'): refuses a ``lacks``
    part, naming the tool and what to use ``instead``."""

    def backward(l1, l2, n):
        terms = {"l1": l1, "l2": l2}
        if terms[lacks] > 0:
            raise NotRepresentable(
                f"{tool} has no {lacks.upper()} term, but the setting has "
                f"{lacks}={terms[lacks]:g}; instead use {instead}"
            )
        return build(terms[has], n)

    return backward


def l1_only(build: Callable, tool: str, instead: str) -> Callable:
    """Backward map of a tool with only an L1 term: refuses an L2 part."""
    return _one_term("l1", "l2", build, tool, instead)


def l2_only(build: Callable, tool: str, instead: str) -> Callable:
    """Backward map of a tool with only an L2 term: refuses an L1 part."""
    return _one_term("l2", "l1", build, tool, instead)


def l1_mix(strength: str, ratio: str, default_ratio: float,
           scale: float = 1.0) -> tuple[Callable, Callable]:
    """Forward and backward maps of ``loss/scale + s*(r*|w|_1 + (1-r)/2*|w|_2^2)``.

    ``scale`` is regulab's mean loss over the tool's: 1 for a mean loss (glmnet's and glum's
    GLM families), 2 for half a mean squared error (scikit-learn's ElasticNet, glum's normal).
    Multiplying by ``scale`` gives ``loss + scale*s*r*|w|_1 + scale*s*(1-r)/2*|w|_2^2``; back:
    ``s = (l1 + 2*l2)/scale``, ``r = l1/(l1 + 2*l2)`` (the tool's default ``r`` when ``s = 0``).
    """

    def forward(p, n):
        w, r = scale * p[strength], p.get(ratio, default_ratio)
        return w * r, w * (1.0 - r) / 2.0

    def backward(l1, l2, n):
        t = l1 + 2.0 * l2  # = scale * s
        return {strength: t / scale, ratio: l1 / t if t > 0 else default_ratio}

    return forward, backward
