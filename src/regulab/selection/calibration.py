"""Calibration slopes and Harrell's bootstrap optimism correction.

The calibration slope of predictions ``yhat`` on outcomes ``y`` is the slope ``b`` of the
least-squares line ``y ~ a + b * yhat`` (for probabilities: the logistic regression of ``y`` on the
predicted log-odds). ``b < 1`` means the predictions are too extreme (overfitting: the fit needs
shrinking), ``b > 1`` too timid (over-shrunk). Least squares on its own training data has ``b = 1``
exactly; on new data it is below 1, which is Harrell's case for pre-shrinking.

Optimism correction (Harrell, *Regression Modeling Strategies*, 5.3; ``rms::validate``): for each
bootstrap resample, fit on the resample, compute the slope on the resample (apparent) and on the
original data (test); the mean of ``apparent - test`` is the optimism, and
``corrected = apparent on the original data - optimism``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from regulab.core.execution import run_tasks, task_seeds


def calibration_slope(y, yhat) -> float:
    """Slope of the least-squares regression of ``y`` on ``yhat`` (``nan`` if ``yhat`` is flat)."""
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    v = np.var(yhat)
    if v <= 1e-300:
        return float("nan")
    return float(np.mean((yhat - yhat.mean()) * (y - y.mean())) / v)


def logistic_calibration_slope(y, logit) -> float:
    """Slope of the logistic regression of 0/1 outcomes ``y`` on predicted log-odds ``logit``."""
    from regulab.solvers.exact import solve

    z = np.asarray(logit, dtype=float)
    if np.var(z) <= 1e-300:
        return float("nan")
    res = solve(z[:, None], np.asarray(y, dtype=float), loss="logistic", l1=0.0, l2=1e-10,
                fit_intercept=True, tol=1e-10, max_iter=1000)
    return float(res.w[0])


def _optimism_of_resample(data, resample_seed: int) -> float:
    """Apparent minus test slope of the procedure refitted on one bootstrap resample."""
    fit, slope, X, y = data
    n = y.shape[0]
    idx = np.random.default_rng(resample_seed).integers(0, n, n)
    pb = fit(X[idx], y[idx])
    return slope(y[idx], pb(X[idx])) - slope(y, pb(X))


def optimism_corrected_slope(fit: Callable, X, y, *, n_boot: int = 100, seed: int = 0,
                             slope: Callable = calibration_slope) -> dict:
    """Harrell's bootstrap validation of the calibration slope of ``fit``.

    ``fit(X, y) -> predict`` returns a function mapping rows to predictions (on the scale
    ``slope`` expects). Returns ``apparent`` (on the data it was fitted to), ``optimism`` and
    ``corrected``, and the per-resample values.
    """
    y = np.asarray(y, dtype=float)
    predict = fit(X, y)
    apparent = slope(y, predict(X))
    # one task per resample, through the execution layer (a Dask cluster when one is active)
    gaps = np.asarray(run_tasks(_optimism_of_resample, task_seeds(seed, n_boot),
                                data=(fit, slope, X, y)))
    optimism = float(np.nanmean(gaps))
    return {"apparent": apparent, "optimism": optimism, "corrected": apparent - optimism,
            "per_resample_optimism": gaps}
