"""A fitted model as plain JSON: what ``regulab fit --save`` writes and ``regulab predict`` reads.

No pickle: the file is a JSON object anyone can read, diff and load in another language. It holds

* ``format`` (``"regulab-model"``), ``version`` (this module's :data:`MODEL_VERSION`) and the
  ``regulab_version`` that wrote it;
* the problem: ``task`` (regression, binary, count or multiclass), ``family`` (glmnet's name:
  gaussian, binomial, poisson, multinomial), ``loss``, ``target``, ``classes`` (binary: the
  label coded 0, then the label coded 1; the model gives P(target = classes[1]); multiclass: the
  labels in the order of the coefficient lists, the model gives a softmax over them); a count
  model (Poisson, log link) gives the expected count per unit of exposure, ``exp(x.w + b)``
  (a model fitted with ``--exposure`` predicts the rate; multiply by a row's exposure);
* the penalty: ``penalty``, ``l1_ratio``, ``lam``, ``l1 = lam * l1_ratio``, ``l2 = lam * (1 -
  l1_ratio)`` and how lam was chosen (``lam_choice``: given, or CV with its rule, lam_min, lam_1se);
* ``conventions``: what lam means - regulab's objective written out, on the standardized features
  the model was fitted on, and the same setting in other tools' parameters (scikit-learn, glmnet)
  via :mod:`regulab.core.conventions`;
* the coefficients, by feature name, in standardized units (``coef_standardized``,
  ``intercept_standardized``: the fitted problem) and in original units (``coef``, ``intercept``:
  per unit of each raw column, per 0/1 of an indicator). A multiclass (multinomial) model holds
  one list of coefficients per class (``coef[k][j]``: feature ``j`` for ``classes[k]``), one
  intercept per class, and ``grouped_classes`` (a feature kept or dropped for all classes);
* ``preparation``: :meth:`regulab.data.prepared.Prepared.to_dict`, so the same columns, levels, fill
  values, means and scales are applied to new data.

:func:`load_model` validates all of this and raises :class:`regulab.data.DataError` (one line
naming the file and the fault) for a missing, corrupted or foreign file, and for a file whose two
copies of the coefficients disagree (one edited by hand). Predictions use the standardized
coefficients on the standardized design, exactly as the fit computed them in process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from regulab import __version__
from regulab.core.penalties import KINDS
from regulab.core.validation import InvalidValue, check_real
from regulab.data.checks import stat_input
from regulab.data.errors import DataError
from regulab.data.messages import show
from regulab.data.prepared import Prepared

MODEL_FORMAT = "regulab-model"
MODEL_VERSION = 1
PENALTIES = tuple(KINDS)  # the kinds a model file may name
LOSSES = {"regression": "squared", "binary": "logistic", "count": "poisson",
          "multiclass": "multinomial"}
#: a model file larger than this is refused before it is parsed (a real one is a few KiB per
#: hundred features)
MAX_MODEL_BYTES = 256 * 1024 * 1024
#: how far the stored original-units coefficients may be from those recomputed from the
#: standardized ones (JSON keeps every double exactly; this allows another writer's rounding)
UNITS_RTOL = 1e-9
#: the other tools whose parameters are written beside lam (where they can express it)
CONVENTION_TARGETS = ("sklearn-lasso", "sklearn-ridge", "sklearn-elasticnet", "sklearn-logistic",
                      "glmnet", "glmnet-binomial", "glum-normal", "glum-binomial")


def objective_text(loss: str, lam: float, l1_ratio: float, grouped: bool = False) -> str:
    """regulab's objective with the numbers of this model, in one line (``grouped``: the
    multinomial L1 part taken per feature across classes)."""
    if loss == "multinomial":
        l1 = "sum_j ||W_j.||_2" if grouped else "sum_jk |W_jk|"
        return (f"minimize over W, b: (1/n)*sum_i -log softmax(x_i.W + b)[c_i] + lam*(l1_ratio*"
                f"{l1} + (1 - l1_ratio)*sum_jk W_jk^2) with lam = {lam!r}, l1_ratio = "
                f"{l1_ratio!r}; W has one column per class (in the order of classes), c_i is "
                f"row i's class; b is not penalized; x are the standardized features (see "
                f"preparation.means and preparation.scales)")
    emp = {"squared": "(1/n)*sum_i (y_i - x_i.w - b)^2",
           "logistic": "(1/n)*sum_i log(1 + exp(-t_i*(x_i.w + b)))",
           "poisson": "(1/n)*sum_i (exp(x_i.w + b + o_i) - y_i*(x_i.w + b + o_i))"}[loss]
    coded = {"squared": "",
             "logistic": "; t_i = 2*y_i - 1 (+1 for classes[1], -1 for classes[0])",
             "poisson": "; o_i = log(exposure_i) (0 without an exposure); the constant "
                        "log(y_i!) dropped"}[loss]
    return (f"minimize over w, b: {emp} + lam*(l1_ratio*sum_j |w_j| + (1 - l1_ratio)*sum_j w_j^2)"
            f" with lam = {lam!r}, l1_ratio = {l1_ratio!r}{coded}; b is not penalized; x are the "
            f"standardized features (see preparation.means and preparation.scales)")


def convention_equivalents(loss: str, lam: float, l1_ratio: float, n_samples: int,
                           sd_y: float | None = None, grouped: bool = False) -> dict:
    """``{tool id: parameters or {"not_representable": why}}`` for :data:`CONVENTION_TARGETS`;
    ``sd_y`` (the training response's sd, 1/n variance) for glmnet's gaussian family; for the
    multinomial loss :func:`multinomial_equivalents` (``grouped``: across classes)."""
    from regulab.core.conventions import convert

    if loss == "poisson":  # the table of tools has no Poisson entries yet
        return {}
    if loss == "multinomial":
        return multinomial_equivalents(lam, l1_ratio, n_samples, grouped)
    src = "regulab" if loss == "squared" else "regulab-logistic"
    rows = convert(src, {"lam": float(lam), "l1_ratio": float(l1_ratio)},
                   n_samples=int(n_samples), to=list(CONVENTION_TARGETS), sd_y=sd_y)
    return {r.name: (dict(r.params) if r.params is not None else {"not_representable": r.reason})
            for r in rows}


def multinomial_equivalents(lam: float, l1_ratio: float, n_samples: int,
                            grouped: bool = False) -> dict:
    """glmnet's multinomial family and scikit-learn's multinomial LogisticRegression.

    Both write the multinomial penalty as their binomial one on the coefficient matrix (glmnet:
    ``-(1/n) loglik + lambda ((1 - alpha)/2 ||B||_F^2 + alpha sum_j ||B_j||_q)``, ``q = 1``
    ungrouped, ``q = 2`` with ``type.multinomial = "grouped"``; scikit-learn: ``C`` times the
    summed log-loss plus its penalty on ``W``), and regulab's multinomial objective is its
    logistic one with the log-loss of the softmax, so the binomial rows of
    :func:`regulab.core.conventions.convert` carry over. scikit-learn has no penalty grouped
    across classes."""
    from regulab.core.conventions import convert

    rows = {r.name: r for r in convert("regulab-logistic",
                                       {"lam": float(lam), "l1_ratio": float(l1_ratio)},
                                       n_samples=int(n_samples),
                                       to=["glmnet-binomial", "sklearn-logistic"])}
    out = {}
    g = rows["glmnet-binomial"]
    out["glmnet-multinomial"] = ({**g.params, "family": "multinomial", "type.multinomial":
                                  "grouped" if grouped else "ungrouped"}
                                 if g.params is not None else {"not_representable": g.reason})
    sk = rows["sklearn-logistic"]
    out["sklearn-logistic-multinomial"] = (
        {"not_representable": "scikit-learn has no penalty grouped across classes"} if grouped
        else dict(sk.params) if sk.params is not None else {"not_representable": sk.reason})
    return out


def _sd_y(prep, loss) -> float | None:
    """sd(y) (1/n variance) of the training response of a regression, when it is at hand."""
    if loss != "squared" or prep.y is None or len(prep.y) == 0 or not np.std(prep.y) > 0:
        return None
    return float(np.std(prep.y))


@dataclass
class Model:
    """A fitted penalized linear model and its preparation. A multiclass (multinomial) model has
    ``coef_std`` of shape ``(p, K)`` (column ``k`` for ``prep.classes[k]``) and ``intercept_std``
    of shape ``(K,)``; the others ``(p,)`` and a float."""

    prep: Prepared
    coef_std: np.ndarray
    intercept_std: float | np.ndarray
    lam: float
    penalty: str
    l1_ratio: float
    lam_choice: dict = field(default_factory=dict)
    n_train: int = 0
    source: str = ""
    regulab_version: str = __version__
    grouped_classes: bool = False

    @property
    def task(self) -> str:
        return self.prep.task

    @property
    def loss(self) -> str:
        return LOSSES[self.prep.task]

    @property
    def family(self) -> str:
        """glmnet's name of the family: gaussian, binomial, poisson or multinomial."""
        from regulab.data.target import FAMILY_OF_TASK

        return FAMILY_OF_TASK[self.prep.task]

    @property
    def feature_names(self) -> list[str]:
        return list(self.prep.feature_names)

    def original_units(self) -> tuple[np.ndarray, float | np.ndarray]:
        """``(coef, intercept)`` per unit of the raw columns."""
        return self.prep.to_original_units(self.coef_std, self.intercept_std)

    def linear_predictor(self, X_std) -> np.ndarray:
        """``X_std @ coef_std + intercept_std`` on the prepared (standardized) design
        (``[n, K]`` for a multiclass model)."""
        return np.asarray(X_std, dtype=float) @ self.coef_std + self.intercept_std

    def predict_prepared(self, X_std) -> dict:
        """Predictions for rows of the prepared design: ``{"linear": z}`` and, for a binary
        task, ``"probability"`` (P(target = classes[1])) and ``"label"`` (classes[1] where
        the probability is > 0.5); for a count, ``"mean"``: ``exp(z)``, per unit exposure; for
        a multiclass task, ``"probabilities"`` (``[n, K]``, the softmax of ``z``) and
        ``"label"`` (the class of the largest probability, the first on a tie)."""
        z = self.linear_predictor(X_std)
        out = {"linear": z}
        if self.task == "count":
            out["mean"] = np.exp(z)
        if self.task == "binary":
            from scipy.special import expit  # here: ``regulab fit`` imports this module

            c0, c1 = self.prep.classes
            out["probability"] = expit(z)
            out["label"] = np.where(z > 0, np.asarray(c1, dtype=object),
                                    np.asarray(c0, dtype=object))
        if self.task == "multiclass":
            from scipy.special import softmax

            out["probabilities"] = softmax(z, axis=1)
            out["label"] = np.asarray(self.prep.classes, dtype=object)[np.argmax(z, axis=1)]
        return out

    def _coefficients_doc(self) -> dict:
        """The coefficient fields of the file: one list (per class for a multiclass model)."""
        coef, intercept = self.original_units()
        names = self.feature_names
        if self.task != "multiclass":
            return {"coef_standardized": [float(v) for v in self.coef_std],
                    "intercept_standardized": float(self.intercept_std),
                    "coef": [float(v) for v in coef], "intercept": float(intercept),
                    "kept": [n for n, c in zip(names, self.coef_std) if c != 0.0]}
        W = np.asarray(self.coef_std, dtype=float)
        return {"coef_standardized": W.T.tolist(),
                "intercept_standardized": np.asarray(self.intercept_std, float).tolist(),
                "coef": np.asarray(coef).T.tolist(), "intercept": np.asarray(intercept).tolist(),
                "kept": [n for n, row in zip(names, W) if np.any(row != 0.0)],
                "grouped_classes": bool(self.grouped_classes)}

    def to_dict(self) -> dict:
        return {
            "format": MODEL_FORMAT, "version": MODEL_VERSION,
            "regulab_version": self.regulab_version,
            "task": self.task, "family": self.family, "loss": self.loss,
            "target": self.prep.target, "classes": self.prep.to_dict()["classes"],
            "penalty": self.penalty, "l1_ratio": float(self.l1_ratio), "lam": float(self.lam),
            "l1": float(self.lam * self.l1_ratio), "l2": float(self.lam * (1.0 - self.l1_ratio)),
            "lam_choice": self.lam_choice,
            "conventions": {
                "objective": objective_text(self.loss, self.lam, self.l1_ratio,
                                            self.grouped_classes),
                "n_samples": int(self.n_train),
                "equivalents": convention_equivalents(self.loss, self.lam, self.l1_ratio,
                                                      max(int(self.n_train), 1),
                                                      sd_y=_sd_y(self.prep, self.loss),
                                                      grouped=self.grouped_classes),
                "note": "the equivalents hold for a model fitted on the same standardized "
                        "features and the same n rows (regulab convert --help)"},
            "n_train": int(self.n_train), "source": self.source,
            "feature_names": self.feature_names,
            **self._coefficients_doc(),
            "preparation": self.prep.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"


def save_model(model: Model, path) -> Path:
    """Write ``model`` as JSON to ``path`` atomically."""
    from regulab.core.io import atomic_write

    path = Path(path)
    atomic_write(path, model.to_json().encode("utf-8"))
    return path


def _reject_constant(token):
    raise ValueError(f"{token} is not a JSON number")


def _number(doc, key, bad, *, low=None, high=None) -> float:
    """``doc[key]`` as a float within ``[low, high]``; ``bad(why)`` (a DataError) otherwise."""
    try:
        return check_real(doc.get(key), repr(key), low=low, high=high)
    except InvalidValue as exc:
        raise bad(str(exc)) from None


def _numbers(doc, key, n, bad) -> np.ndarray:
    v = doc.get(key)
    if not isinstance(v, list) or len(v) != n or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise bad(f"{key!r} must be a list of {n} numbers")
    arr = np.asarray(v, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise bad(f"{key!r} holds a value that is not finite")
    return arr


def _per_class(doc, key, n_classes, n, bad) -> np.ndarray:
    """``doc[key]`` of a multiclass model: one list of ``n`` numbers per class, as ``[n, K]``."""
    v = doc.get(key)
    shape = f"a list of {n_classes} lists (one per class) of {n} numbers"
    if not isinstance(v, list) or len(v) != n_classes or not all(isinstance(x, list) for x in v):
        raise bad(f"{key!r} must be {shape}")
    return np.column_stack([_numbers({key: x}, key, n, bad) for x in v])


def _coefficients(doc, prep: Prepared, suffix: str, bad):
    """``(coef, intercept)`` from ``coef{suffix}`` and ``intercept{suffix}``: ``[p]`` and a float,
    or for a multiclass model ``[p, K]`` and ``[K]``."""
    p = len(prep.feature_names)
    if prep.task != "multiclass":
        return (_numbers(doc, "coef" + suffix, p, bad),
                _number(doc, "intercept" + suffix, bad))
    K = len(prep.classes)
    return (_per_class(doc, "coef" + suffix, K, p, bad),
            _numbers(doc, "intercept" + suffix, K, bad))


def _check_units_agree(doc, prep: Prepared, coef_std, intercept_std, bad) -> None:
    """Refuse a file whose original-units ``coef`` / ``intercept`` are not what the
    standardized ones give with the stored means and scales (a hand edit of one copy: predictions
    use the standardized copy, so an edited ``coef`` would be silently ignored)."""
    names = prep.feature_names
    coef, intercept = _coefficients(doc, prep, "", bad)
    want, want_b = prep.to_original_units(coef_std, intercept_std)
    off = np.argwhere(np.abs(coef - want) > UNITS_RTOL * np.abs(want))
    of = (lambda k: "") if coef.ndim == 1 else (lambda k: f" for class {show(prep.classes[k])}")
    if off.size:
        j = off[0][0]
        k = off[0][1] if coef.ndim == 2 else 0
        got, exp = (coef[j], want[j]) if coef.ndim == 1 else (coef[j, k], want[j, k])
        raise bad(f"'coef' of {names[j]!r}{of(k)} is {float(got)!r} but 'coef_standardized' "
                  f"with the stored means and scales gives {float(exp)!r}; the two copies must "
                  f"agree")
    # the intercept is a difference of terms: its tolerance is relative to their size
    terms = np.abs(intercept_std) + np.sum(np.abs(np.asarray(want) * (
        prep.means if coef.ndim == 1 else prep.means[:, None])), axis=0)
    tol = UNITS_RTOL * np.maximum(terms, np.abs(want_b))
    off = np.flatnonzero(np.atleast_1d(np.abs(intercept - want_b) > tol))
    if off.size:
        k = off[0]
        got, exp = (intercept, want_b) if coef.ndim == 1 else (intercept[k], want_b[k])
        raise bad(f"'intercept'{of(k)} is {float(got)!r} but 'intercept_standardized' with the "
                  f"stored means and scales gives {float(exp)!r}; the two copies must agree")


def model_from_dict(doc, *, source_name: str = "model") -> Model:
    """Validate a parsed model document and rebuild the :class:`Model`; DataError if malformed."""
    def bad(why):
        return DataError(f"{source_name}: not a valid regulab model file ({why})")

    if not isinstance(doc, dict):
        raise bad(f"expected a JSON object, found {type(doc).__name__}")
    if doc.get("format") != MODEL_FORMAT:
        raise bad(f"'format' is {show(doc.get('format'))}, expected {MODEL_FORMAT!r}; write one "
                  f"with regulab fit --save")
    if doc.get("version") != MODEL_VERSION:
        raise bad(f"version {show(doc.get('version'))}; this regulab ({__version__}) reads version "
                  f"{MODEL_VERSION}")
    for key in ("task", "penalty", "lam", "l1_ratio", "feature_names", "coef_standardized",
                "intercept_standardized", "coef", "intercept", "preparation"):
        if key not in doc:
            raise bad(f"no {key!r}")
    if doc["task"] not in LOSSES:
        raise bad(f"task {show(doc['task'])}")
    if doc["penalty"] not in PENALTIES:
        raise bad(f"penalty {show(doc['penalty'])}, expected one of {', '.join(PENALTIES)}")
    lam = _number(doc, "lam", bad, low=0.0)
    rho = _number(doc, "l1_ratio", bad, low=0.0, high=1.0)
    prep = _preparation(doc, source_name, bad)
    names = doc["feature_names"]
    if not isinstance(names, list) or names != prep.feature_names:
        raise bad("'feature_names' do not match the preparation's features")
    coef, intercept = _coefficients(doc, prep, "_standardized", bad)
    _check_units_agree(doc, prep, coef, intercept, bad)
    lam_choice = doc.get("lam_choice") or {}
    if not isinstance(lam_choice, dict):
        raise bad("'lam_choice' is not an object")
    grouped = doc.get("grouped_classes", False)
    if not isinstance(grouped, bool):
        raise bad(f"'grouped_classes' is {show(grouped)}, expected true or false")
    return Model(prep=prep, coef_std=coef, intercept_std=intercept, lam=lam,
                 penalty=doc["penalty"], l1_ratio=rho, lam_choice=lam_choice,
                 n_train=int(doc.get("n_train") or 0), source=str(doc.get("source") or ""),
                 regulab_version=str(doc.get("regulab_version") or "unknown"),
                 grouped_classes=grouped)


def _preparation(doc, source_name, bad) -> Prepared:
    """The stored preparation, its task the file's."""
    prep_doc = doc["preparation"]
    if not isinstance(prep_doc, dict):
        raise bad("'preparation' is not an object")
    try:
        prep = Prepared.from_dict(prep_doc, source_name=source_name)
    except DataError as exc:
        raise bad(f"preparation: {str(exc).split(': ', 1)[-1]}") from None
    except (TypeError, ValueError, KeyError, AttributeError):
        # a field of the wrong type deep inside: say so in words, not Python's
        raise bad("preparation: a field has the wrong type or shape (the file was edited or "
                  "damaged)") from None
    if prep.task != doc["task"]:
        raise bad(f"task {doc['task']!r} but the preparation's task is {prep.task!r}")
    return prep


def load_model(path) -> Model:
    """Read and validate a model file written by :func:`save_model` (DataError otherwise)."""
    name = str(path)
    path = Path(path)
    st = stat_input(path, missing="no such model file", kind="a model file",
                    empty_note=", not a regulab model")
    if st.st_size > MAX_MODEL_BYTES:
        raise DataError(f"{name}: {st.st_size:,} bytes, too large for a regulab model file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not a regulab model file (binary content, not UTF-8 JSON text "
                        f"at byte {exc.start:,})") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}: not a regulab model file (invalid JSON at line {exc.lineno}, "
                        f"column {exc.colno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{name}: not a regulab model file ({exc})") from None
    return model_from_dict(doc, source_name=name)
