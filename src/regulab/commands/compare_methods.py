"""The penalties ``regulab compare`` sets side by side (in memory and streamed), sparsest first,
and their labels: one table for both routes."""

from __future__ import annotations

from regulab.commands.common import penalty_label
from regulab.core.penalties import KINDS, sparsest_first

#: penalty kind -> its L1 share rho
METHODS = {k: KINDS[k].share() for k in sparsest_first()}
LABELS = {k: penalty_label(k, rho) for k, rho in METHODS.items()}
SHORT = {k: KINDS[k].abbrev for k in METHODS}
SHORT_LABELS = {k: KINDS[k].short for k in METHODS}
