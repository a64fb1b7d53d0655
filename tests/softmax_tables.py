"""CSV tables whose class column is drawn from a softmax model, for the tests of the commands
on 3 or more classes (``from softmax_tables import LABELS, classes_csv``; pytest puts ``tests/``
on the import path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax

LABELS = ("ant", "bee", "cat")


def classes_csv(tmp_path, seed, n=150, p=5, labels=LABELS, name="classes.csv"):
    """``(path, frame)``: ``n`` rows of ``p`` numeric columns on various scales and a column
    ``kind`` drawn from a softmax model of the first two (standardized); every class in the
    first ``5 * n_classes`` rows (so in every fold). ``n=None``: random ``n`` and ``p``."""
    rng = np.random.default_rng(seed)
    if n is None:
        n, p = int(rng.integers(120, 200)), int(rng.integers(4, 8))
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + rng.normal(0, 2, p)
    W = np.zeros((p, len(labels)))
    W[:2] = rng.normal(0, 1.5, (2, len(labels)))
    P = softmax((X - X.mean(0)) / X.std(0) @ W, axis=1)
    codes = np.array([rng.choice(len(labels), p=pi) for pi in P])
    codes[: len(labels) * 5] = np.repeat(np.arange(len(labels)), 5)  # every class in every fold
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["kind"] = np.asarray(labels, dtype=object)[codes]
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path, df
