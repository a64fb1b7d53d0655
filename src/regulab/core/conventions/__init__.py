"""What other tools mean by ``alpha``, ``lambda``, ``C`` and ``weight_decay``, on regulab's scale.

regulab minimizes (README: "The objective, and other tools' lambdas")::

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
regulab-poisson     mean Poisson NLL (log link, offset) + same pen.  (lam*rho, lam*(1-rho))
sklearn-lasso       (1/2n) RSS + alpha*|w|_1                         (2*alpha, 0)
sklearn-ridge       RSS + alpha*|w|_2^2                              (0, alpha/n)
sklearn-elasticnet  (1/2n) RSS + alpha*r*|w|_1                       (2*alpha*r, alpha*(1-r))
                    + alpha*(1-r)/2*|w|_2^2
sklearn-logistic    C * sum log-loss + r*|w|_1 + (1-r)/2*|w|_2^2     (r/(C*n), (1-r)/(2*C*n))
glmnet              (1/2n) RSS + lambda*((1-a)/2*|b|_2^2 + a*|b|_1)  (2*lambda*a,
                    on y/sd(y) (gaussian: glmnet scales y)           lambda*(1-a)/sd(y))
glmnet-binomial     mean log-loss + lambda*((1-a)/2*|b|^2 + a*|b|_1) (lambda*a, lambda*(1-a)/2)
glmnet-poisson      -(1/n) Poisson loglik + glmnet-binomial penalty  (lambda*a, lambda*(1-a)/2)
glum-normal         (1/2n) RSS + alpha*r*|w|_1 + alpha*(1-r)/2*|w|^2 (2*alpha*r, alpha*(1-r))
glum-binomial       (1/2n) deviance (= mean log-loss) + same penalty  (alpha*r, alpha*(1-r)/2)
glum-poisson        (1/2n) deviance (= mean Poisson NLL + const)      (alpha*r, alpha*(1-r)/2)
                    + same penalty
nielsen-l1          C0 + (lam/n) * sum|w|                            (lam/n, 0)
nielsen-l2          C0 + (lam/(2n)) * sum w^2                        (0, lam/(2n))
torch-sgd           gradient + weight_decay*w                        (0, weight_decay/2)
torch-adam          gradient + weight_decay*w, then Adam (coupled)   (0, weight_decay/2)
torch-adamw         decoupled decay w <- w - lr*weight_decay*w       not a penalty on the loss
keras-l1            mean loss + l1*sum|w|                            (l1, 0)
keras-l2            mean loss + l2*sum w^2                           (0, l2)
keras-l1l2          mean loss + l1*sum|w| + l2*sum w^2               (l1, l2)
==================  ===============================================  ==========================

``RSS = ||y - X w - b||**2``. glmnet's gaussian ``lambda`` acts on ``y / sd(y)`` (population
sd): in y's units its L2 term is ``lambda*(1-a)/(2 sd(y))``, so converting an elastic net needs
``sd(y)`` (``sd_y=``; the lasso does not). The mixing parameter in each tool's terms
(``Convention.mixing``): regulab's ``l1_ratio = rho = 0.5`` is scikit-learn's and glum's
``l1_ratio = 1/3`` and glmnet's ``alpha = 1/3`` (gaussian with sd(y) = 1, and binomial): these
tools halve their L2 term, so ``r = rho / (2 - rho)``. Conventions marked ``any_loss`` (Nielsen, PyTorch, Keras) are "mean
loss + penalty" whatever the loss is, so they convert on either scale. Each :class:`Convention`
states in ``scale_note`` which loss scale it assumes.

* :mod:`~regulab.core.conventions.setting`: :class:`Setting`, the value type (a point on
  regulab's scale) and its link to :mod:`regulab.core.penalties`;
* :mod:`~regulab.core.conventions.convention`: :class:`Convention` (one tool's objective and its
  maps to and from a Setting), the parameter checks and the building blocks of the maps;
* :mod:`~regulab.core.conventions.tools`: the table above as data, :data:`CONVENTIONS`;
* :mod:`~regulab.core.conventions.convert`: :func:`convert`, one tool's parameters into every
  other tool's.
"""

from regulab.core.conventions.convention import (
    Convention,
    ConversionRow,
    check_n_samples,
    needs_n_message,
)
from regulab.core.conventions.convert import convert
from regulab.core.conventions.setting import LOSS_SCALES, NotRepresentable, Setting
from regulab.core.conventions.tools import CONVENTIONS, get_convention

__all__ = [
    "CONVENTIONS",
    "LOSS_SCALES",
    "Convention",
    "ConversionRow",
    "NotRepresentable",
    "Setting",
    "check_n_samples",
    "convert",
    "get_convention",
    "needs_n_message",
]
