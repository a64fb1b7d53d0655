"""Groups of features penalized together (group lasso): the partition, its weights, its penalty.

regulab's grouped penalty (Yuan & Lin 2006, weights the square root of the group size)::

    Omega(w) = sum_g sqrt(|g|) * ||w_g||_2

A group of one feature gives ``|w_j|``: with every group a singleton ``Omega`` is the L1 norm and
the group lasso is the lasso exactly. Its dual norm is ``Omega*(v) = max_g ||v_g||_2 / sqrt(|g|)``
(the derivation is in :mod:`regulab.core.certificates`).

The name ``groups`` is for a partition of the *features* (the indicators of one categorical
column form one group, every numeric column a group of its own). It is a different thing from a
multinomial model's "grouped" penalty, which ties one feature's coefficients across classes.

A partition is given as ``groups``: an array of ``p`` labels (features with equal labels form one
group; any hashable labels), or a list of index lists that covers every feature exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.validation import InvalidValue


@dataclass(frozen=True)
class Groups:
    """A partition of ``p`` features: group ``g`` holds ``idx[ptr[g]:ptr[g + 1]]``.

    ``weights[g] = sqrt(|g|)``; ``labels`` names each group (the caller's label or its index).
    """

    ptr: np.ndarray
    idx: np.ndarray
    weights: np.ndarray
    labels: tuple

    @property
    def n_groups(self) -> int:
        return int(self.ptr.size - 1)

    @property
    def n_features(self) -> int:
        return int(self.idx.size)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.ptr)

    def members(self, g: int) -> np.ndarray:
        return self.idx[self.ptr[g]:self.ptr[g + 1]]

    def norms(self, v) -> np.ndarray:
        """``||v_g||_2`` for every group."""
        v = np.asarray(v, dtype=float).ravel()
        sq = np.add.reduceat(v[self.idx] ** 2, self.ptr[:-1]) if self.n_groups else np.zeros(0)
        return np.sqrt(sq)

    def penalty(self, w) -> float:
        """``Omega(w) = sum_g sqrt(|g|) ||w_g||_2``."""
        return float(self.weights @ self.norms(w))

    def dual_norm(self, v) -> float:
        """``Omega*(v) = max_g ||v_g||_2 / sqrt(|g|)`` (0 for no group)."""
        return float(np.max(self.norms(v) / self.weights)) if self.n_groups else 0.0

    def kept(self, w) -> np.ndarray:
        """Per group: True when some coefficient of the group is not exactly 0."""
        return self.norms(w) > 0.0


def as_groups(groups, p: int) -> Groups:
    """The partition ``groups`` (labels or index lists, module docstring) of ``p`` features;
    an :class:`Groups` is returned as it is after checking its size. InvalidValue if it is not a
    partition of ``range(p)``."""
    if isinstance(groups, Groups):
        if groups.n_features != p:
            raise InvalidValue("groups", f"groups cover {groups.n_features} features, X has {p}")
        return groups
    if isinstance(groups, (list, tuple)) and groups and all(
            isinstance(g, (list, tuple, np.ndarray)) for g in groups):
        return _from_lists([np.asarray(g, dtype=np.int64).ravel() for g in groups], p)
    labels = np.asarray(groups, dtype=object).ravel()
    if labels.size != p:
        raise InvalidValue("groups", f"groups has {labels.size} labels for {p} features")
    order: dict = {}
    for j, lab in enumerate(labels.tolist()):
        order.setdefault(lab, []).append(j)
    return _build([np.asarray(v, dtype=np.int64) for v in order.values()], tuple(order))


def singletons(p: int) -> Groups:
    """Every feature a group of its own (the lasso)."""
    return _build([np.array([j], dtype=np.int64) for j in range(p)], tuple(range(p)))


def _from_lists(members, p) -> Groups:
    flat = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    if any(m.size == 0 for m in members):
        raise InvalidValue("groups", "a group is empty")
    if flat.size != p or np.any(np.sort(flat) != np.arange(p)):
        raise InvalidValue("groups", f"the index lists must cover each of the {p} features "
                                     f"exactly once")
    return _build(members, tuple(range(len(members))))


def _build(members, labels) -> Groups:
    sizes = np.array([m.size for m in members], dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = np.concatenate(members).astype(np.int64) if members else np.zeros(0, dtype=np.int64)
    return Groups(ptr=ptr, idx=idx, weights=np.sqrt(sizes.astype(float)), labels=labels)
