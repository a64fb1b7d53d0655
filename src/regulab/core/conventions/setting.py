"""The value type of the conversions: a :class:`Setting` is one point on regulab's scale,
``EmpLoss + l1 * sum|w_j| + l2 * sum w_j**2``, on the squared or logistic loss scale."""

from __future__ import annotations

from dataclasses import dataclass

from regulab.core.penalties import Penalty, kind_of, resolve_l1_ratio
from regulab.core.validation import InvalidValue, check_choice, check_nonneg

#: the mean losses regulab's objective is written on ("poisson": the mean Poisson negative
#: log-likelihood ``mean(mu - y log mu)``, which differs from half the mean Poisson deviance by a
#: constant, so both give the same minimizer; glum's poisson family converts onto it)
LOSS_SCALES = ("squared", "logistic", "poisson")
LOSS_WORDS = {"squared": "mean squared error", "logistic": "mean log-loss",
              "poisson": "mean Poisson deviance / 2"}


class NotRepresentable(ValueError):
    """A tool's parameters cannot express a regulab setting (or the reverse)."""


def check_loss(loss) -> str:
    """``loss`` if it is one of :data:`LOSS_SCALES`."""
    return check_choice(loss, LOSS_SCALES, "loss scale")


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
        check_loss(self.loss)

    @property
    def lam(self) -> float:
        """Total strength ``lam = l1 + l2``."""
        return self.l1 + self.l2

    @property
    def l1_ratio(self) -> float:
        """``rho = l1 / (l1 + l2)``; 1.0 when both are 0."""
        return self.l1 / self.lam if self.lam > 0 else 1.0

    @property
    def kind(self) -> str | None:
        """The penalty kind of :data:`~regulab.core.penalties.KINDS` (``'l1'``, ``'l2'``,
        ``'elasticnet'``) of this setting's L1 share; None without a penalty."""
        return None if self.lam == 0 else kind_of(self.l1_ratio).name

    def penalty(self) -> Penalty | None:
        """The matching :mod:`regulab.core.penalties` object: :class:`~regulab.core.penalties.L1`
        at ``lam = l1`` (no L2 part), :class:`~regulab.core.penalties.L2` at ``lam = l2`` (no L1
        part), else :class:`~regulab.core.penalties.ElasticNet` at ``lam = l1 + l2`` and
        ``l1_ratio = l1 / lam``; None without a penalty."""
        if self.lam == 0:
            return None
        return kind_of(self.l1_ratio).penalty(self.lam, self.l1_ratio)

    @classmethod
    def from_penalty(cls, penalty, lam: float | None = None, l1_ratio: float | None = None,
                     loss: str = "squared") -> Setting:
        """The setting of a penalty: a :class:`~regulab.core.penalties.Penalty` object, or a kind
        name of :data:`~regulab.core.penalties.KINDS` with ``lam`` (and ``l1_ratio`` where the
        kind leaves it free), or None (no penalty).

        ``Setting.from_penalty(s.penalty(), loss=s.loss)`` gives ``s`` back (up to rounding of
        ``lam * rho``); ``Setting.from_penalty('elasticnet', 0.4, 0.25)`` is ``Setting(0.1, 0.3)``.
        """
        if penalty is None:
            if lam is not None or l1_ratio is not None:
                raise InvalidValue("penalty", "lam and l1_ratio need a penalty; got penalty=None")
            return cls(0.0, 0.0, loss)
        if isinstance(penalty, Penalty):
            if lam is not None or l1_ratio is not None:
                raise InvalidValue("penalty", f"{penalty!r} carries its own lam and l1_ratio; "
                                              "pass them only with a kind name")
            return cls(*penalty.l1_l2_parts(), loss)
        rho = resolve_l1_ratio(penalty, l1_ratio)
        if lam is None:
            raise InvalidValue("lam", f"penalty {penalty!r} needs lam")
        lam = check_nonneg(lam, "lam")
        return cls(lam * rho, lam * (1.0 - rho), loss)
