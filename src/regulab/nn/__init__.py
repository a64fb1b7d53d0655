"""L1, L2, elastic net, proximal L1 and weight decay for PyTorch models, and what they do.

Needs the ``nn`` extra (``pip install 'regulab[nn]'``); importing this package imports torch.

* penalties (:mod:`regulab.nn.penalties`): :class:`NNPenalty` on regulab's scale or any convention
  of :mod:`regulab.core.conventions` (Nielsen's ``lam/n``, ``lam/(2n)``, PyTorch's ``weight_decay``),
  weights only by default; :func:`prox_l1_`, :func:`decoupled_weight_decay_`, :func:`param_groups`;
* measurements (:mod:`regulab.nn.measure`): :func:`sparsity`, :func:`weight_histograms`,
  :func:`saturation`;
* training (:mod:`regulab.nn.train`): :func:`nielsen_mlp`, :class:`MLPEnsemble`, :func:`fit`,
  :func:`deterministic`, :func:`default_device`, :class:`TrainingDiverged`.
"""

from regulab.nn.measure import (
                                SATURATION_THRESHOLDS,
                                saturated_fraction,
                                saturation,
                                sparsity,
                                weight_histograms,
)
from regulab.nn.penalties import (
                                PENALTIES,
                                NNPenalty,
                                decoupled_weight_decay_,
                                param_groups,
                                prox_l1_,
                                select_parameters,
                                soft_threshold_,
)
from regulab.nn.train import (
                                History,
                                MLPEnsemble,
                                TrainingDiverged,
                                default_device,
                                deterministic,
                                fit,
                                nielsen_mlp,
)

__all__ = ["PENALTIES", "SATURATION_THRESHOLDS", "History", "MLPEnsemble", "NNPenalty",
           "TrainingDiverged", "decoupled_weight_decay_", "default_device", "deterministic", "fit",
           "nielsen_mlp", "param_groups", "prox_l1_", "saturated_fraction", "saturation",
           "select_parameters", "soft_threshold_", "sparsity", "weight_histograms"]
