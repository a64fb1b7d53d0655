"""Cross-validation over a regularization path: mean error and its standard error per lam.

The lam grid is computed once on the whole data (as glmnet does), every fold fits the whole path
on its training rows, and the held-out error of every lam is recorded. Then, per lam,
``mean = average of the fold errors`` and ``se = std(fold errors, ddof=1) / sqrt(n_folds)``, and::

    lam_min = the lam of smallest mean error
    lam_1se = the LARGEST lam whose mean error <= mean(lam_min) + se(lam_min)

(glmnet's one-standard-error rule: the simplest model statistically as good as the best).
With repeated K-fold the errors of all ``K * n_repeats`` folds enter the mean and the SE alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from regulab.core.execution import run_tasks
from regulab.core.losses import normalized_weights, poisson_deviance
from regulab.core.penalties import resolve_l1_ratio
from regulab.core.validation import check_choice, check_int
from regulab.selection.path import lam_grid, regularization_path

SCORINGS = {"squared": ("mse",), "logistic": ("log_loss", "misclassification"),
            "poisson": ("deviance",)}
#: how a lam is chosen from the CV curve: ``lam_min`` or ``lam_1se`` (see the module docstring)
RULES = ("min", "1se")


@dataclass
class CVResult:
    """Per-lam CV errors, the two chosen lams, and every fold's coefficients."""

    lams: np.ndarray
    mean_error: np.ndarray
    se_error: np.ndarray
    fold_errors: np.ndarray        # [n_folds, n_lams]
    fold_coefs: np.ndarray         # [n_folds, n_features, n_lams]
    fold_intercepts: np.ndarray    # [n_folds, n_lams]
    fold_converged: np.ndarray     # [n_folds, n_lams]: did each fold's fit reach tol?
    idx_min: int
    idx_1se: int
    scoring: str
    n_splits: int
    n_repeats: int

    @property
    def lam_min(self) -> float:
        return float(self.lams[self.idx_min])

    @property
    def lam_1se(self) -> float:
        return float(self.lams[self.idx_1se])

    def chosen(self, rule: str) -> int:
        """Index of the lam picked by ``rule`` (one of :data:`RULES`)."""
        check_choice(rule, RULES, "rule")
        return self.idx_min if rule == "min" else self.idx_1se


def one_se_rule(lams, mean, se) -> tuple[int, int]:
    """``(idx_min, idx_1se)``: the best lam and the largest lam within one SE of it."""
    lams = np.asarray(lams, dtype=float)
    mean = np.asarray(mean, dtype=float)
    idx_min = int(np.nanargmin(mean))
    bound = mean[idx_min] + (se[idx_min] if np.isfinite(se[idx_min]) else 0.0)
    ok = np.flatnonzero(mean <= bound)
    idx_1se = int(ok[np.argmax(lams[ok])])
    return idx_min, idx_1se


def held_out_error(loss: str, scoring: str, y, z, sample_weight=None) -> np.ndarray:
    """Error of linear predictors ``z`` ([n_test, n_lams]) on ``y``, one value per lam.

    ``'deviance'`` (Poisson loss) is the weighted mean unit deviance
    ``2 (y log(y / mu) - (y - mu))``, ``mu = exp(z)``: ``z`` must then include the offset.
    """
    y = np.asarray(y, dtype=float)
    s = normalized_weights(y.shape[0], sample_weight)
    if scoring == "mse":
        return s @ (y[:, None] - z) ** 2
    if scoring == "log_loss":
        t = (2.0 * y - 1.0)[:, None]
        return s @ np.logaddexp(0.0, -t * z)
    if scoring == "misclassification":
        return s @ ((z > 0).astype(float) != y[:, None])
    if scoring == "deviance":
        return s @ poisson_deviance(y[:, None], np.exp(z))
    raise ValueError(f"unknown scoring {scoring!r}")  # pragma: no cover


def cross_validate_path(X, y, *, loss="squared", l1_ratio=None, lams=None, n_lams=100, eps=None,
                        cv=5, n_repeats=1, seed=0, fit_intercept=True, sample_weight=None,
                        tol=1e-6, max_iter=10_000, scoring=None, n_jobs=None,
                        on_fold=None, backend=None, penalty=None, penalty_factor=None,
                        lower=None, upper=None, groups=None, offset=None) -> CVResult:
    """K-fold (``n_repeats`` > 1: repeated K-fold) cross-validation of the path.

    The penalty is ``l1_ratio`` (the L1 share rho, default 1) or ``penalty``, a kind name of
    :data:`regulab.core.penalties.KINDS` (``'l1'``, ``'l2'``, ``'elasticnet'`` with ``l1_ratio``
    or its default); both may be given only if they agree.
    ``cv`` is a number of folds (stratified by class for the logistic loss), a scikit-learn
    splitter (anything with ``split(X, y)``), or an iterable of ``(train, test)`` index arrays. ``scoring`` defaults to ``'mse'``
    (squared) or ``'log_loss'`` (logistic; also ``'misclassification'``). ``on_fold(k)`` is
    called after each fold, for progress bars. Folds run in ``n_jobs`` local processes or on
    ``backend`` (``'dask'``, a scheduler address, a Dask client; see
    :func:`regulab.core.execution.run_tasks`), X shipped to the workers once.
    ``penalty_factor``, ``lower``, ``upper``: per-feature penalty factors and bounds
    (:func:`regulab.selection.path.regularization_path`), the same in every fold. ``groups``: the
    group lasso (:func:`regulab.selection.path.regularization_path`).
    ``offset`` (Poisson loss, ``log(exposure)``) is split with the rows; the held-out mean
    Poisson deviance (``scoring='deviance'``) compares ``y`` with ``exp(z + offset)``.
    """
    l1_ratio = resolve_l1_ratio(penalty, l1_ratio)
    box = dict(penalty_factor=penalty_factor, lower=lower, upper=upper)
    scoring = scoring or SCORINGS[loss][0]
    if scoring not in SCORINGS[loss]:
        raise ValueError(f"scoring {scoring!r} does not fit the {loss} loss; valid: "
                         f"{', '.join(SCORINGS[loss])}")
    n = X.shape[0]
    check_int(n_repeats, "n_repeats", 1)
    if lams is None:
        lams = lam_grid(X, y, loss=loss, l1_ratio=l1_ratio, n_lams=n_lams, eps=eps,
                        fit_intercept=fit_intercept, sample_weight=sample_weight, groups=groups,
                        offset=offset, **box)
    lams = np.sort(np.asarray(lams, dtype=float))[::-1]
    y = np.asarray(y, dtype=float).ravel()
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
    folds, n_splits = make_folds(cv, n, n_repeats, seed, loss, y)
    if len(folds) < 2:
        raise ValueError(f"cv must give at least 2 folds, got {len(folds)}")

    fit_fold = partial(_fit_fold, loss=loss, l1_ratio=l1_ratio, lams=lams,
                       fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, scoring=scoring,
                       box=box, groups=groups)
    data = (X, y, sw) if offset is None else (X, y, sw, np.asarray(offset, dtype=float).ravel())
    out = run_tasks(fit_fold, folds, n_jobs=n_jobs, on_done=on_fold, data=data,
                    backend=backend)
    return summarize_folds(lams, out, scoring=scoring, n_splits=n_splits, n_repeats=n_repeats)


def summarize_folds(lams, out, *, scoring, n_splits, n_repeats) -> CVResult:
    """The :class:`CVResult` of the folds' outputs ``out``, one ``(errors [L], coefs,
    intercepts, converged)`` per fold: the mean held-out error per lam, its standard error
    ``std(ddof=1) / sqrt(n_folds)``, and the lams of the two rules (:func:`one_se_rule`)."""
    fold_errors = np.array([o[0] for o in out])
    mean = fold_errors.mean(axis=0)
    se = fold_errors.std(axis=0, ddof=1) / np.sqrt(len(out))
    idx_min, idx_1se = one_se_rule(lams, mean, se)
    return CVResult(lams=lams, mean_error=mean, se_error=se, fold_errors=fold_errors,
                    fold_coefs=np.array([o[1] for o in out]),
                    fold_intercepts=np.array([o[2] for o in out]),
                    fold_converged=np.array([o[3] for o in out]), idx_min=idx_min,
                    idx_1se=idx_1se, scoring=scoring, n_splits=n_splits,
                    n_repeats=int(n_repeats))


def _fit_fold(data, fold, *, loss, l1_ratio, lams, fit_intercept, tol, max_iter, scoring,
              box=None, groups=None):
    """One fold (one task; ``data = (X, y, sample_weight[, offset])``, shipped to the workers
    once)."""
    X, y, sw = data[:3]
    o = data[3] if len(data) > 3 else None
    train, test = fold
    options = {} if o is None else {"offset": o[train]}
    path = regularization_path(
        X[train], y[train], loss=loss, l1_ratio=l1_ratio, lams=lams,
        fit_intercept=fit_intercept, sample_weight=None if sw is None else sw[train],
        tol=tol, max_iter=max_iter, groups=groups, **(box or {}), **options)
    z = np.asarray(X[test] @ path.coefs) + path.intercepts[None, :]
    if o is not None:
        z = z + o[test][:, None]
    err = held_out_error(loss, scoring, y[test], z, None if sw is None else sw[test])
    return err, path.coefs, path.intercepts, path.converged


def repeated_kfold(n: int, n_splits: int, n_repeats: int, seed: int) -> list:
    """The ``(train, test)`` index pairs of scikit-learn's
    ``RepeatedKFold(n_splits, n_repeats, random_state=seed)`` on ``n`` rows, built with numpy
    alone (importing scikit-learn costs a command about 2 s of CPU).

    One ``RandomState(seed)`` shuffles ``0..n-1`` once per repeat; each shuffled order is cut
    into ``n_splits`` consecutive test blocks, the first ``n % n_splits`` of them one row longer;
    test and training rows are both listed in increasing order. ``tests/test_startup.py`` checks
    it against scikit-learn's splitter.
    """
    rng = np.random.RandomState(seed)
    sizes = np.full(n_splits, n // n_splits, dtype=int)
    sizes[: n % n_splits] += 1
    stops = np.cumsum(sizes)
    folds = []
    for _ in range(n_repeats):
        order = np.arange(n)
        rng.shuffle(order)
        for start, stop in zip(stops - sizes, stops):
            in_test = np.zeros(n, dtype=bool)
            in_test[order[start:stop]] = True
            folds.append((np.flatnonzero(~in_test), np.flatnonzero(in_test)))
    return folds


def make_folds(cv, n, n_repeats, seed, loss, y):
    """``(list of (train, test), n_splits)`` from a fold count, a splitter or explicit splits.

    A fold count ``K`` gives scikit-learn's ``RepeatedKFold`` (:func:`repeated_kfold`, the same
    folds) or, by class for the logistic loss, ``RepeatedStratifiedKFold``, with ``n_splits=K``,
    ``n_repeats`` and ``random_state=seed``:
    the folds :func:`cross_validate_path` fits, rebuilt by whoever needs them again."""
    if hasattr(cv, "split"):
        folds = list(cv.split(np.zeros((n, 1)), y))
        n_splits = cv.get_n_splits() if hasattr(cv, "get_n_splits") else len(folds)
        return folds, int(n_splits)
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if not 2 <= cv <= n:
            raise ValueError(f"cv must be an integer number of folds from 2 to n_samples={n}, "
                             f"got {cv!r}")
        if loss != "logistic":
            return repeated_kfold(n, int(cv), int(n_repeats), int(seed)), int(cv)
        from sklearn.model_selection import RepeatedStratifiedKFold

        splitter = RepeatedStratifiedKFold(n_splits=int(cv), n_repeats=int(n_repeats),
                                           random_state=int(seed))
        return list(splitter.split(np.zeros((n, 1)), y)), int(cv)
    try:
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv]
    except (TypeError, ValueError):
        raise ValueError(f"cv must be a number of folds, a splitter or (train, test) pairs; "
                         f"got {cv!r}") from None
    return folds, len(folds)


@dataclass
class CVFit:
    """A fit at the lam chosen by cross-validation, on all the data."""

    coef: np.ndarray
    intercept: float
    lam: float
    index: int
    cv: CVResult
    path: object  # PathResult on all the data, over the same grid

    @property
    def n_kept(self) -> int:
        return int(np.count_nonzero(self.coef))


def fit_cv(X, y, *, loss="squared", l1_ratio=None, rule="min", lams=None, n_lams=100, eps=None,
           cv=5, n_repeats=1, seed=0, fit_intercept=True, sample_weight=None, tol=1e-6,
           max_iter=10_000, scoring=None, n_jobs=None, on_fold=None, backend=None,
           penalty=None, penalty_factor=None, lower=None, upper=None, groups=None,
           offset=None) -> CVFit:
    """Cross-validate the path, then take the all-data path's solution at the ``rule``'s lam.

    ``penalty``, ``l1_ratio``, ``penalty_factor``, ``lower``, ``upper``, ``groups`` and
    ``offset`` as in :func:`cross_validate_path`.
    """
    box = dict(penalty_factor=penalty_factor, lower=lower, upper=upper)
    l1_ratio = resolve_l1_ratio(penalty, l1_ratio)
    check_choice(rule, RULES, "rule")
    res = cross_validate_path(X, y, loss=loss, l1_ratio=l1_ratio, lams=lams, n_lams=n_lams,
                              eps=eps, cv=cv, n_repeats=n_repeats, seed=seed,
                              fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                              max_iter=max_iter, scoring=scoring, n_jobs=n_jobs, on_fold=on_fold,
                              backend=backend, groups=groups, offset=offset, **box)
    k = res.chosen(rule)
    options = {} if offset is None else {"offset": offset}
    path = regularization_path(X, y, loss=loss, l1_ratio=l1_ratio, lams=res.lams,
                               fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                               max_iter=max_iter, groups=groups, **box, **options)
    return CVFit(coef=path.coefs[:, k].copy(), intercept=float(path.intercepts[k]),
                 lam=float(res.lams[k]), index=k, cv=res, path=path)
