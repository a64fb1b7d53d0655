"""Cross-validated fits of the user-data commands and what is measured on them: the lam grid,
the fit on all rows with lam by K-fold CV (or given), out-of-fold predictions and their
calibration slope, the training error along the path, and the kept set against a known truth.

Every fit minimizes regulab's objective, the mean loss (squared error, log-loss or Poisson
negative log-likelihood with the offset ``log(exposure)``) plus
``lam * (l1_ratio * sum|w_j| + (1 - l1_ratio) * sum w_j**2)`` on the standardized features, the
intercept unpenalized (README, "The objective, and other tools' lambdas"), with
``l1_ratio`` 1 for L1, 0 for L2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from regulab.commands.output import fmt, pm
from regulab.core.losses import ERROR_NAME


def grid_for(X, y, loss: str, rho: float, n_lams: int, box=None, groups=None,
             offset=None) -> np.ndarray:
    """The lam grid of every command: :func:`regulab.selection.path.lam_grid` with its defaults
    (``box``: per-feature factors and bounds, :mod:`regulab.commands.factors`; ``groups``: the
    group lasso's, ``--grouped``; ``offset``: the Poisson loss's)."""
    from regulab.selection.path import lam_grid

    return lam_grid(X, y, loss=loss, l1_ratio=rho, n_lams=n_lams, groups=groups,
                    **(box or {}), **_offset(offset))


def _offset(offset) -> dict:
    """``{'offset': offset}`` for the Poisson calls, nothing otherwise."""
    return {} if offset is None else {"offset": offset}


@dataclass
class Fit:
    """A fit on all the prepared rows and how its lam was chosen."""

    coef: np.ndarray               # standardized units
    intercept: float
    lam: float
    rho: float
    loss: str
    how: str                       # "cv" or "given"
    rule: str | None
    folds: int
    cv: object                     # CVResult (over the grid, or at the given lam only)
    index: int                     # index of lam in cv.lams
    path: object | None            # PathResult on all the data over cv.lams (CV only)
    seed: int = 0
    box: dict | None = None        # per-feature factors and bounds (None: the default problem)
    groups: list | None = None     # each feature's source column when --grouped, else None
    offset: np.ndarray | None = None  # the Poisson offset of the rows fitted

    @property
    def n_kept(self) -> int:
        return int(np.count_nonzero(self.coef))

    @property
    def cv_error(self) -> float:
        return float(self.cv.mean_error[self.index])

    @property
    def cv_se(self) -> float:
        return float(self.cv.se_error[self.index])

    def at_edge(self) -> str | None:
        """A warning when the CV minimum sits at an end of the grid (the best lam may lie
        beyond it)."""
        if self.how != "cv" or self.cv.lams.size < 3:
            return None
        i = self.cv.idx_min
        if i == self.cv.lams.size - 1:
            return (f"the CV error is smallest at the smallest lam of the grid "
                    f"({fmt(self.cv.lams[i])}): a weaker penalty might do as well or better; the "
                    f"penalty barely helps on these data")
        if i == 0:
            return (f"the CV error is smallest at the largest lam of the grid "
                    f"({fmt(self.cv.lams[i])}), where every coefficient is 0 (L1) or nearly "
                    f"0: the features predict no better than the mean")
        return None

    def lam_choice(self) -> dict:
        """How lam was chosen, as written to JSON and to the model file."""
        d = {"how": self.how, "lam": self.lam, "folds": self.folds, "seed": self.seed,
             "scoring": ERROR_NAME[self.loss], "cv_error": self.cv_error, "cv_se": self.cv_se}
        if self.how == "cv":
            cv, nnz = self.cv, self.path.nnz
            d.update({
                "rule": self.rule, "n_lams": int(cv.lams.size),
                "lam_min": cv.lam_min, "lam_1se": cv.lam_1se,
                "cv_error_min": float(cv.mean_error[cv.idx_min]),
                "cv_se_min": float(cv.se_error[cv.idx_min]),
                "cv_error_1se": float(cv.mean_error[cv.idx_1se]),
                "cv_se_1se": float(cv.se_error[cv.idx_1se]),
                "n_kept_min": int(nnz[cv.idx_min]), "n_kept_1se": int(nnz[cv.idx_1se]),
                "why": self.why()})
        else:
            d["why"] = self.why()
        return d

    def why(self) -> str:
        if self.how == "given":
            return (f"lam {fmt(self.lam)} given with --lam; its {self.folds}-fold CV "
                    f"{ERROR_NAME[self.loss]} is {pm(self.cv_error, self.cv_se)}")
        cv, nnz = self.cv, self.path.nnz
        i0, i1 = cv.idx_min, cv.idx_1se
        base = (f"{self.folds}-fold CV over {cv.lams.size} lams: lam_min = {fmt(cv.lam_min)} "
                f"(CV error {pm(cv.mean_error[i0], cv.se_error[i0])}, {int(nnz[i0])} kept), "
                f"lam_1se = {fmt(cv.lam_1se)} (CV error {pm(cv.mean_error[i1], cv.se_error[i1])}"
                f", {int(nnz[i1])} kept)")
        if self.rule == "1se":
            return (base + "; rule 1se: the largest lam whose CV error is within one standard "
                    "error of the minimum (the simplest model as good as the best)")
        return base + "; rule min: the lam of smallest CV error"


def fit_with_cv(X, y, *, loss, rho, folds, rule, n_lams, seed, lams=None, on_fold=None,
                box=None, groups=None, offset=None) -> Fit:
    """Fit on all rows at the lam that ``folds``-fold CV chooses by ``rule`` (``min`` or ``1se``)
    over ``lams`` (default: :func:`grid_for` with ``n_lams`` values). ``groups``: each
    feature's source column, penalized as groups (``--grouped``, group lasso); ``offset``: the
    Poisson loss's ``log(exposure)`` per row."""
    from regulab.selection.cv import fit_cv

    grid = (grid_for(X, y, loss, rho, n_lams, box=box, groups=groups, offset=offset)
            if lams is None else lams)
    res = fit_cv(X, y, loss=loss, l1_ratio=rho, rule=rule, lams=grid, cv=folds, seed=seed,
                 on_fold=on_fold, groups=groups, **(box or {}), **_offset(offset))
    return Fit(coef=res.coef, intercept=res.intercept, lam=res.lam, rho=rho, loss=loss, how="cv",
               rule=rule, folds=folds, cv=res.cv, index=res.index, path=res.path, seed=seed,
               box=box or None, groups=groups, offset=offset)


def fit_at_lam(X, y, *, loss, rho, lam, folds, seed, on_fold=None, box=None,
               groups=None, offset=None) -> Fit:
    """Fit at a given lam; its CV error is measured at that lam with ``folds`` folds."""
    from regulab.selection.cv import cross_validate_path
    from regulab.selection.path import regularization_path

    cvres = cross_validate_path(X, y, loss=loss, l1_ratio=rho, lams=[lam], cv=folds, seed=seed,
                                on_fold=on_fold, groups=groups, **(box or {}),
                                **_offset(offset))
    path = regularization_path(X, y, loss=loss, l1_ratio=rho, lams=[lam], groups=groups,
                               **(box or {}), **_offset(offset))
    return Fit(coef=path.coefs[:, 0].copy(), intercept=float(path.intercepts[0]), lam=float(lam),
               rho=rho, loss=loss, how="given", rule=None, folds=folds, cv=cvres, index=0,
               path=None, seed=seed, box=box or None, groups=groups, offset=offset)


def column_verdicts(prep, coef) -> list[dict]:
    """Per categorical column of the preparation: its indicators and whether the fit keeps the
    column (some indicator non-zero; under ``--grouped`` all of them or none)."""
    out, off = [], 0
    for spec in prep.columns:
        if spec.kind == "categorical":
            block = np.asarray(coef[off:off + spec.width])
            out.append({"column": spec.name, "indicators": int(spec.width),
                        "kept": bool(np.any(block != 0.0)),
                        "n_kept_indicators": int(np.count_nonzero(block))})
        off += spec.width
    return out


def verdict_line(verdicts) -> str:
    """``region kept (3 indicators), color dropped (2 indicators)``."""
    return ", ".join(f"{v['column']} {'kept' if v['kept'] else 'dropped'} ({v['indicators']} "
                     f"indicator{'s' if v['indicators'] != 1 else ''})" for v in verdicts)


def cv_folds(n: int, y, loss: str, folds: int, seed: int, n_repeats: int = 1):
    """The folds :func:`regulab.selection.cv.cross_validate_path` used (the same function,
    :func:`regulab.selection.cv.make_folds`, with the same seed)."""
    from regulab.selection.cv import make_folds

    return make_folds(int(folds), n, n_repeats, seed, loss, np.asarray(y, dtype=float).ravel())[0]


def out_of_fold(X, y, fit: Fit) -> np.ndarray | None:
    """Out-of-fold linear predictions at the chosen lam (the offset included): every row
    predicted by the fold model that did not see it. None if the folds cannot be rebuilt
    exactly (checked against the stored fold errors)."""
    from regulab.selection.cv import held_out_error

    cv = fit.cv
    if cv.n_repeats != 1:
        return None
    folds = cv_folds(X.shape[0], y, fit.loss, cv.n_splits, fit.seed)
    if len(folds) != cv.fold_coefs.shape[0]:
        return None
    z = np.full(X.shape[0], np.nan)
    k = fit.index
    for f, (_, test) in enumerate(folds):
        zf = X[test] @ cv.fold_coefs[f][:, k] + cv.fold_intercepts[f, k]
        if fit.offset is not None:
            zf = zf + fit.offset[test]
        err = held_out_error(fit.loss, cv.scoring, y[test], zf[:, None])[0]
        if not np.isclose(err, cv.fold_errors[f, k], rtol=1e-8, atol=1e-12):
            return None
        z[test] = zf
    return None if np.isnan(z).any() else z


def calibration_slope_oof(X, y, fit: Fit) -> float | None:
    """Held-out calibration slope from the out-of-fold predictions at the chosen lam (1 is
    ideal; < 1 predictions too extreme, > 1 too timid): least squares of y on the prediction
    (regression), logistic regression of y on the predicted log-odds (binary)."""
    from regulab.selection.calibration import (
        calibration_slope,
        logistic_calibration_slope,
    )

    z = out_of_fold(X, y, fit)
    if z is None:
        return None
    if fit.loss == "poisson":
        slope = _poisson_calibration_slope(y, z)
    else:
        slope = (calibration_slope(y, z) if fit.loss == "squared"
                 else logistic_calibration_slope(y, z))
    return None if not math.isfinite(slope) else float(slope)


def _poisson_calibration_slope(y, z) -> float:
    """Slope ``c`` of the unpenalized Poisson model ``log E[y] = a + c z`` (the GLM calibration
    slope of the predicted log-means ``z``)."""
    from regulab.solvers.exact import solve

    res = solve(np.asarray(z, dtype=float)[:, None], y, loss="poisson", tol=1e-8)
    return float(res.w[0]) if res.converged else float("nan")


def training_error(X, y, loss: str, coefs, intercepts, offset=None) -> np.ndarray:
    """Error on the rows the path was fitted on, per lam (for the CV-curve figure)."""
    from regulab.selection.cv import SCORINGS, held_out_error

    z = np.asarray(X @ coefs) + np.asarray(intercepts)[None, :]
    if offset is not None:
        z = z + np.asarray(offset)[:, None]
    return held_out_error(loss, SCORINGS[loss][0], y, z)


def truth_summary(truth: dict | None, names, coef) -> dict | None:
    """Precision and recall of the kept set against the true non-zero coefficients."""
    if not truth:
        return None
    true_nz = [n for n in names if truth.get(n, 0.0) != 0.0]
    kept = [n for n, c in zip(names, coef) if c != 0.0]
    hit = [n for n in kept if n in true_nz]
    return {"true_nonzero": true_nz, "n_true_nonzero": len(true_nz), "n_kept": len(kept),
            "kept_and_true": len(hit),
            "missed": [n for n in true_nz if n not in kept],
            "false_kept": [n for n in kept if n not in true_nz],
            "recall": len(hit) / len(true_nz) if true_nz else None,
            "precision": len(hit) / len(kept) if kept else None}


#: lams of a path shown in a terminal summary (``regulab path``), besides lam_min and lam_1se
SHOWN_LAMS = 12


def shown_lams(cv) -> list[int]:
    """Indices of the lams a path summary prints: :data:`SHOWN_LAMS` spread evenly over the grid,
    plus lam_min and lam_1se."""
    n = cv.lams.size
    idx = set(np.unique(np.linspace(0, n - 1, min(SHOWN_LAMS, n)).round().astype(int)).tolist())
    idx |= {int(cv.idx_min), int(cv.idx_1se)}
    return sorted(idx)
