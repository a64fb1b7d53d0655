"""Built-in datasets: two real ones from scikit-learn and two seeded ones with a known truth.

=================  ==========  ===  ==  ===================================================
name               task        n    p   what
=================  ==========  ===  ==  ===================================================
diabetes           regression  442  10  scikit-learn's diabetes data in original units
breast_cancer      binary      569  30  scikit-learn's Wisconsin breast cancer data
sparse_synthetic   regression  300  40  6 true non-zero coefficients among 40, AR(1) rho 0.5
dense_synthetic    regression  150  40  every coefficient small and non-zero, AR(1) rho 0.5
=================  ==========  ===  ==  ===================================================

The synthetic sets are generated here (not by :mod:`regulab.data.simulate`) so that a seed names the
same rows in every version: features ``x01..x40`` with ``corr(x_j, x_k) = 0.5**|j-k|``, response
``y = X w + noise`` with no intercept, noise sd set so that ``var(X w) / sd**2`` is 3 (sparse) or
2 (dense) in the sample. :func:`true_coefficients` returns ``w`` by feature name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from regulab.data.errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str
    n: int
    p: int
    target: str
    description: str
    synthetic: bool = False


BUILTIN_DATASETS: dict[str, DatasetInfo] = {
    "diabetes": DatasetInfo(
        "diabetes", "regression", 442, 10, "progression",
        "Diabetes progression one year after baseline (scikit-learn), 10 baseline measurements "
        "in original units"),
    "breast_cancer": DatasetInfo(
        "breast_cancer", "binary", 569, 30, "diagnosis",
        "Wisconsin breast cancer (scikit-learn): 30 cell-nucleus measurements, diagnosis "
        "malignant or benign"),
    "sparse_synthetic": DatasetInfo(
        "sparse_synthetic", "regression", 300, 40, "y",
        "Seeded: 6 true non-zero coefficients (|w| 1-2) among 40 correlated features "
        "(rho 0.5), signal-to-noise 3", synthetic=True),
    "dense_synthetic": DatasetInfo(
        "dense_synthetic", "regression", 150, 40, "y",
        "Seeded: all 40 coefficients small and non-zero (|w| 0.3-0.6), correlated features "
        "(rho 0.5), signal-to-noise 2", synthetic=True),
}


def list_datasets() -> list[tuple[str, str, int, int, str]]:
    """Rows ``(name, task, n, p, description)`` for ``regulab datasets``."""
    return [(d.name, d.task, d.n, d.p, d.description) for d in BUILTIN_DATASETS.values()]


def _info(name: str) -> DatasetInfo:
    if name not in BUILTIN_DATASETS:
        near = difflib.get_close_matches(str(name), list(BUILTIN_DATASETS), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise DataError(f"unknown built-in dataset {name!r}{hint}; built-in datasets: "
                        f"{', '.join(BUILTIN_DATASETS)}")
    return BUILTIN_DATASETS[name]


def _ar1(rng, n: int, p: int, rho: float) -> np.ndarray:
    z = rng.standard_normal((n, p))
    x = np.empty((n, p))
    x[:, 0] = z[:, 0]
    for j in range(1, p):
        x[:, j] = rho * x[:, j - 1] + np.sqrt(1.0 - rho**2) * z[:, j]
    return x


def _synthetic(name: str, seed: int):
    info = _info(name)
    rng = np.random.default_rng([seed, 7 if name == "sparse_synthetic" else 11])
    n, p = info.n, info.p
    w = np.zeros(p)
    if name == "sparse_synthetic":
        support = np.sort(rng.choice(p, size=6, replace=False))
        w[support] = rng.choice([-1.0, 1.0], 6) * rng.uniform(1.0, 2.0, 6)
        snr = 3.0
    else:
        w = rng.choice([-1.0, 1.0], p) * rng.uniform(0.3, 0.6, p)
        snr = 2.0
    x = _ar1(rng, n, p, 0.5)
    signal = x @ w
    noise_sd = float(np.std(signal) / np.sqrt(snr))
    y = signal + noise_sd * rng.standard_normal(n)
    names = [f"x{j + 1:02d}" for j in range(p)]
    df = pd.DataFrame(x, columns=names)
    df[info.target] = y
    return df, dict(zip(names, w.tolist())), noise_sd


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def load_builtin(name: str, *, seed: int = 0) -> tuple[pd.DataFrame, str, str]:
    """``(frame, target column, task)`` of a built-in dataset; ``seed`` matters for synthetic ones."""
    info = _info(name)
    seed = _check_seed(seed)
    if info.synthetic:
        df = _synthetic(name, seed)[0]
    elif name == "diabetes":
        from sklearn.datasets import load_diabetes

        bunch = load_diabetes(as_frame=True, scaled=False)
        df = bunch.frame.rename(columns={"target": info.target})
    else:
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer(as_frame=True)
        df = bunch.frame.drop(columns="target")
        labels = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        df[info.target] = pd.Series(labels, index=df.index, dtype=object).astype(str)
    df = df.reset_index(drop=True)
    df.attrs["regulab_source"] = {"path": name, "format": "builtin", "seed": seed,
                                  "rows": int(df.shape[0]), "columns": int(df.shape[1])}
    return df, info.target, info.task


def true_coefficients(name: str, seed: int = 0) -> dict[str, float] | None:
    """The true coefficients (feature name -> w) of a synthetic dataset for ``seed``; None for the
    real datasets, whose truth is unknown. The true intercept is 0."""
    info = _info(name)
    if not info.synthetic:
        return None
    return _synthetic(name, _check_seed(seed))[1]


def noise_sd(name: str, seed: int = 0) -> float | None:
    """The noise standard deviation of a synthetic dataset (None for the real ones)."""
    info = _info(name)
    return _synthetic(name, _check_seed(seed))[2] if info.synthetic else None
