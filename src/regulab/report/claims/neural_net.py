"""Claim neural-net: seed 001's neural-network statements (Nielsen), measured on a PyTorch MLP.

Nielsen's sigmoid network scaled down to scikit-learn's digits: 64-30-10, sigmoid hidden units,
softmax output with mean cross-entropy, weights and biases drawn from N(0, 1) (his
``large_weight_initializer``), minibatch SGD (batch 10, lr 0.5), ``n = 1200`` training images. The
penalties are written in Nielsen's form and converted by :mod:`regulab.core.conventions`:
``(lam/n) sum|w|`` is ``l1 = lam/n``, ``(lam/(2n)) sum w^2`` is ``l2 = lam/(2n)``. Every network is
trained for several member seeds (drawn from the run's seed; the same member seed gives the same
initial weights and minibatch order for every variant) in one batched ensemble
(:mod:`regulab.report.claims.neural_net_runs`).

Experiments: (1) variants at Nielsen's ``lam = 1``: no penalty, L1 by subgradient, L1 by a proximal
step, L2; Adam, Adam + coupled L2 and AdamW at ``weight_decay = 0.01``; (2) sparsity against lam,
subgradient vs prox; (3) **inertia**: retrain after replacing 10 training images (only the data
differ) and measure how much the network changes, without penalty and with L2; (4) Adam + L2 vs
AdamW on a tiny least-squares problem with features of very different scales.

Predictions (thresholds fixed from the seed's words before measuring; each could fail):

* L1 (subgradient) leaves many weights near 0: >= 10 % of the weights below 1e-3, and >= 5x the
  share without penalty; a few large weights do the work: the top 10 % carry a larger share of
  sum|w| than without penalty and than with L2;
* exact zeros need a prox: the prox step sets >= 10 % of the weights to exactly 0; subgradient
  L1 stores < 0.1 % as exactly 0;
* L2 keeps all weights small: lower RMS and lower max |w| than without penalty; fewer saturated
  hidden units at the end than without penalty;
* L2 acts like inertia: after the data change, the weights move less **relative to their size**
  and fewer test predictions change, each by more than 2 SE of the per-member-seed differences.
  (The absolute weight change shrinks with the weights almost by construction, so it is shown,
  not counted.)
* Adam + L2 ends on the ridge solution and AdamW does not (tiny problem).

Verifications (sanity of the experiment, not evidence): every variant learns (test accuracy
>= 0.8); L2 stores no weight as exactly 0.

The experiment has two independent parts (:data:`PARTS`: the SGD ensemble, and the Adam ensemble
with experiment 4), which ``regulab explain`` runs in two worker processes; :func:`measure`
assembles them.

Importing this module does not import torch (the registry imports every claim), nor does
assembling the parts; :func:`measure_part` does.
"""

from __future__ import annotations

import time

import numpy as np

from regulab.report.claims import neural_net_runs as R
from regulab.report.claims.base import (
    ExplainConfig,
    Measured,
    Prediction,
    Table,
    Verification,
    headline,
    missed_text,
)
from regulab.report.claims.draws import gap
from regulab.report.plots.neural_net import VARIANTS

ID = "neural-net"
TITLE = "Neural networks: L1 leaves near-zeros (exact zeros need a prox), L2 keeps weights small"
SOURCE = ("seed 001 (Nielsen's (lam/n) sum|w| and (lam/2n) sum w^2, weight decay, saturation and "
          "the 'inertia' view)")
STATEMENT = ("In a neural network, L1 regularization ((lam/n) sum|w|) leaves many weights close to "
             "zero while a few large weights do the work; L2 regularization ('weight decay', "
             "(lam/2n) sum w^2) keeps all weights small, helps prevent saturated units, and acts "
             "like inertia: small changes in the training data do not move the weights much.")

#: the experiment; lams are Nielsen's (regulab's l1 = lam/n, l2 = lam/(2n), n = n_train)
DEFAULTS = {
    "sizes": (64, 30, 10), "n_train": 1200, "n_test": 400, "epochs": 20, "batch_size": 10,
    "lr": 0.5, "n_seeds": 5, "lam_l1": 1.0, "lam_l2": 1.0,
    "l1_sweep": (0.25, 0.5, 1.0, 2.0, 4.0), "l2_sweep": (1.0, 5.0),
    "n_replace": 10, "adam_lr": 0.01, "adam_decay": 0.01, "tol": 1e-3, "top_share": 0.1,
    "min_accuracy": 0.8,
    "tiny_n": 200, "tiny_scales": (0.1, 1.0, 10.0), "tiny_w": (0.5, 3.0), "tiny_decay": 0.5,
    "tiny_lr": 0.05, "tiny_steps": 1000,
}


# ----------------------------------------------------------------------------------------------
# measure
# ----------------------------------------------------------------------------------------------

#: the experiment's independent parts (they share no network) and their rough cost, on the
#: registry's scale (the whole claim: 15), each with what it repeats in its own process
#: (importing torch and torch._dynamo, the data): measured 19.3 and 13.4 s of CPU against
#: 23.5 s for the whole (docs/benchmarks.md). ``regulab explain`` may run them in different
#: worker processes (:func:`measure_part`) and :func:`measure` assembles them; in one process
#: :func:`measure` runs both
PARTS = {"sgd": 12.3, "adam": 8.6}


def _to_scale(n: int):
    """Nielsen's lam -> regulab's l1 and l2, through the conventions table (the numbers
    :meth:`regulab.nn.NNPenalty.from_convention` takes; read here without importing torch)."""
    from regulab.core.conventions import get_convention

    def to_l1(lam):
        return float(get_convention("nielsen-l1").to_regulab({"lam": lam}, n).l1)

    def to_l2(lam):
        return float(get_convention("nielsen-l2").to_regulab({"lam": lam}, n).l2)

    return to_l1, to_l2


def measure_part(part: str, config: ExplainConfig, p: dict | None = None) -> dict:
    """One part of :data:`PARTS`, trained and measured: ``'sgd'`` (experiments 1-3, one SGD
    ensemble) or ``'adam'`` (the Adam ensemble and experiment 4). Each part draws the member
    seeds and the data split from the run's seed itself, in the same order, so the two parts
    give in any two processes what one process gives. Returns numpy arrays and floats only."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; valid parts: {', '.join(map(repr, PARTS))}")
    import torch

    from regulab.nn import default_device, deterministic

    p = dict(DEFAULTS) if p is None else p
    rng = np.random.default_rng(config.seed)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=int(p["n_seeds"]))]
    Xtr, ytr, Xte, yte, X2, y2 = R.digits_split(p, rng)
    device = default_device()
    with deterministic(config.seed):
        t = lambda a, dt=torch.float32: torch.tensor(a, dtype=dt, device=device)  # noqa: E731
        data = (t(Xtr), t(ytr, torch.long), t(Xte), t(yte, torch.long), t(X2),
                t(y2, torch.long))
        train = _train_sgd if part == "sgd" else _train_adam
        out = train(p, seeds, data, device, rng, *_to_scale(len(ytr)))
    if part == "sgd":
        out.update(seeds=seeds, Xtr=Xtr, n=len(ytr), n_test=len(yte), device=str(device))
    return out


def _train_sgd(p, seeds, data, device, rng, to_l1, to_l2) -> dict:
    """Experiments 1-3: every SGD network (variants, sweeps, both data sets), one ensemble."""
    import torch

    X, Y, XT, YT, XP, YP = data
    t0 = time.perf_counter()
    members = R.sgd_members(p, seeds)
    ens, sat = R.train_ensemble(
        members, X, Y, XP, YP, p, optimizer="sgd", lr=p["lr"], device=device,
        penalty_of=lambda m: (to_l1(m[2]) if m[1] == "l1_subgradient" else 0.0,
                              to_l2(m[2]) if m[1] == "l2" else 0.0),
        prox_of=lambda m: to_l1(m[2]) if m[1] == "l1_prox" else 0.0)
    rows = R.evaluate(ens, members, XT, YT, p)
    W = ens.weight_vectors().double()
    with torch.no_grad():
        pred = ens(XT).argmax(-1).cpu().numpy()
    return {"members": members, "rows": rows, "sat": sat, "W": W.cpu().numpy(), "pred": pred,
            "timings": {"sgd_s": time.perf_counter() - t0}}


def _train_adam(p, seeds, data, device, rng, to_l1, to_l2) -> dict:
    """Adam, Adam + L2 and AdamW at the claim's decay (one ensemble), then experiment 4 (its
    draws continue ``rng`` after the data split)."""
    from regulab.nn import NNPenalty

    X, Y, XT, YT, XP, YP = data
    t0 = time.perf_counter()
    d = float(p["adam_decay"])
    adam_members = [(s, kind, d if kind != "adam" else 0.0, 0)
                    for s in seeds for kind in ("adam", "adam_l2", "adamw")]
    adam_l2 = NNPenalty.from_convention("torch-adam", {"weight_decay": d}).l2
    aens, asat = R.train_ensemble(
        adam_members, X, Y, XP, YP, p, optimizer="adam", lr=p["adam_lr"], device=device,
        penalty_of=lambda m: (0.0, adam_l2 if m[1] == "adam_l2" else 0.0),
        decay_of=lambda m: m[2] if m[1] == "adamw" else 0.0)
    arows = R.evaluate(aens, adam_members, XT, YT, p)
    timings = {"adam_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    tiny = R.adam_vs_adamw(p, rng)
    timings["tiny_s"] = time.perf_counter() - t0
    return {"adam_members": adam_members, "adam_rows": arows, "adam_sat": asat, "tiny": tiny,
            "timings": timings}


def _pick(runs, kind, lam, data=0, adam=False):
    mem = runs["adam_members"] if adam else runs["members"]
    rows = runs["adam_rows"] if adam else runs["rows"]
    sat = runs["adam_sat"] if adam else runs["sat"]
    idx = [k for k, m in enumerate(mem) if m[1] == kind and m[2] == lam and m[3] == data]
    return idx, [rows[k] for k in idx], sat[:, idx].T


def _variants(runs, p):
    lam1, lam2, d = float(p["lam_l1"]), float(p["lam_l2"]), float(p["adam_decay"])
    chosen = {"none": _pick(runs, "none", 0.0), "l1_subgradient": _pick(runs, "l1_subgradient", lam1),
              "l1_prox": _pick(runs, "l1_prox", lam1), "l2": _pick(runs, "l2", lam2)}
    for kind in ("adam", "adam_l2", "adamw"):
        chosen[kind] = _pick(runs, kind, 0.0 if kind == "adam" else d, adam=True)
    variants, curves, weights = {}, {}, {}
    for key, (_, rows, sats) in chosen.items():
        variants[key], curves[key] = R.summarize(rows, sats)
        weights[key] = np.concatenate([r["weights"] for r in rows])
    return variants, curves, weights


def _sweep(runs, p, to_l1) -> dict:
    sweep = {"lams_nielsen": [float(v) for v in p["l1_sweep"]],
             "l1": [to_l1(v) for v in p["l1_sweep"]],
             "step_times_l1": [p["lr"] * to_l1(v) for v in p["l1_sweep"]]}
    for kind in ("l1_subgradient", "l1_prox"):
        for field in ("fraction_zero", "fraction_below_tol", "test_accuracy"):
            sweep[f"{kind}_{field}"] = [
                float(np.mean([r[field] for r in _pick(runs, kind, float(v))[1]]))
                for v in p["l1_sweep"]]
    return sweep


def _inertia(runs, p, to_l2) -> dict:
    """Per member seed and lam: how much the network moved when the data changed."""
    W, pred = runs["W"], runs["pred"]
    lams = [0.0] + [float(v) for v in p["l2_sweep"]]
    out = {"lams_nielsen": lams, "l2": [to_l2(v) for v in lams], "n_replaced": p["n_replace"],
           "abs_change_by_seed": [], "rel_change_by_seed": [], "prediction_change_by_seed": [],
           "weight_norm_by_seed": []}
    for lam in lams:
        kind = "none" if lam == 0.0 else "l2"
        i0, i1 = _pick(runs, kind, lam, 0)[0], _pick(runs, kind, lam, 1)[0]
        diff = [float(np.linalg.norm(W[b] - W[a])) for a, b in zip(i0, i1)]
        size = [float(np.linalg.norm(W[a])) for a in i0]
        out["abs_change_by_seed"].append(diff)
        out["weight_norm_by_seed"].append(size)
        out["rel_change_by_seed"].append([x / s for x, s in zip(diff, size)])
        out["prediction_change_by_seed"].append(
            [float(np.mean(pred[a] != pred[b])) for a, b in zip(i0, i1)])
    for key in ("abs_change", "rel_change", "prediction_change", "weight_norm"):
        out[f"{key}_mean"] = [float(np.mean(r)) for r in out[f"{key}_by_seed"]]
    # paired differences (no penalty minus L2 at the claim's lam), over member seeds
    j = lams.index(float(p["lam_l2"]))
    for key in ("rel_change", "prediction_change", "abs_change"):
        out[f"{key}_reduction"], out[f"{key}_reduction_se"] = gap(
            lower=out[f"{key}_by_seed"][j], higher=out[f"{key}_by_seed"][0])
    out["lam_compared"] = float(p["lam_l2"])
    return out


def measure(config: ExplainConfig, parts: dict | None = None) -> Measured:
    """Train every network and measure; see the module docstring. ``parts``: the results of
    :func:`measure_part` for every part of :data:`PARTS` (run elsewhere), else they are run
    here."""
    p = dict(DEFAULTS)
    if parts is None:
        parts = {name: measure_part(name, config, p) for name in PARTS}
    runs = {**parts["sgd"], **parts["adam"],
            "timings": {**parts["sgd"]["timings"], **parts["adam"]["timings"]}}
    to_l1, to_l2 = _to_scale(runs["n"])
    variants, curves, weights = _variants(runs, p)
    sweep, inertia = _sweep(runs, p, to_l1), _inertia(runs, p, to_l2)
    # inputs that are 0 in every training image: their first-layer weights get no data gradient
    dead = int(np.sum(np.all(runs["Xtr"] == 0, axis=0)))
    n_w = weights["none"].size
    lam1, lam2 = float(p["lam_l1"]), float(p["lam_l2"])
    metrics = {
        "device": runs["device"], "n_train": runs["n"], "n_test": runs["n_test"],
        "sizes": list(p["sizes"]), "epochs": p["epochs"], "batch_size": p["batch_size"],
        "lr": p["lr"], "n_seeds": len(runs["seeds"]), "member_seeds": runs["seeds"],
        "init": "N(0, 1) weights and biases (Nielsen)",
        "lam_nielsen_l1": lam1, "l1": to_l1(lam1), "lam_nielsen_l2": lam2, "l2": to_l2(lam2),
        "adam_lr": p["adam_lr"], "adam_weight_decay": float(p["adam_decay"]), "tol": p["tol"],
        "min_accuracy": p["min_accuracy"], "saturation_threshold_sigmoid": 4.0,
        "dead_inputs": dead, "dead_input_weight_fraction": dead * p["sizes"][1] * len(runs["seeds"]) / n_w,
        "n_weights": n_w, "variants": variants, "sparsity_sweep": sweep, "inertia": inertia,
        "adam_vs_adamw": runs["tiny"],
    }
    data = {"weights": weights, "saturation": curves,
            "accuracy_by_seed": {k: x["test_accuracy_by_seed"] for k, x in variants.items()},
            "timings": runs["timings"]}
    return Measured(metrics, data, _tables(metrics))


# ----------------------------------------------------------------------------------------------
# predictions, verifications, words
# ----------------------------------------------------------------------------------------------

def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    v, inertia, tiny = m["variants"], m["inertia"], m["adam_vs_adamw"]
    nz, sub, prox, l2 = v["none"], v["l1_subgradient"], v["l1_prox"], v["l2"]
    tol = m["tol"]
    lam = inertia["lam_compared"]
    rel_se, flip_se = inertia["rel_change_reduction_se"], inertia["prediction_change_reduction_se"]
    return [
        Prediction("l1_many_near_zero", f"L1 (subgradient) leaves >= 10 % of the weights below {tol:g}",
                   sub["fraction_below_tol"], ">=", 0.10),
        Prediction("l1_near_zero_vs_none", f"... at least 5x the share below {tol:g} without penalty",
                   sub["fraction_below_tol"], ">=", 5 * nz["fraction_below_tol"]),
        Prediction("l1_few_large_do_the_work", "under L1 the largest 10 % of the weights carry more "
                   "of sum|w| than without penalty and than with L2",
                   sub["top_share"], ">", max(nz["top_share"], l2["top_share"])),
        Prediction("prox_gives_exact_zeros", "L1 as a prox step sets >= 10 % of the weights to "
                   "exactly 0", prox["fraction_zero"], ">=", 0.10),
        Prediction("subgradient_gives_no_exact_zeros", "L1 as a subgradient stores < 0.1 % of the "
                   "weights as exactly 0", sub["fraction_zero"], "<", 1e-3),
        Prediction("l2_smaller_rms", "L2 lowers the RMS weight (vs no penalty)",
                   l2["rms_weight"], "<", nz["rms_weight"]),
        Prediction("l2_smaller_max", "L2 lowers the largest |w| (vs no penalty)",
                   l2["max_abs_weight"], "<", nz["max_abs_weight"]),
        Prediction("l2_less_saturation", "L2 ends with fewer saturated hidden units (|z| > 4) than "
                   "no penalty", l2["saturation_final"], "<", nz["saturation_final"]),
        Prediction("inertia_relative_weight_change", f"inertia: with L2 (lam = {lam:g}) the weights "
                   "move less relative to their size when 10 images change (reduction of "
                   "||W'-W||/||W||, > 2 SE)", inertia["rel_change_reduction"], ">",
                   2 * _finite(rel_se), se=rel_se),
        Prediction("inertia_predictions_change", f"inertia: with L2 (lam = {lam:g}) fewer test "
                   "predictions change when 10 images change (reduction, > 2 SE)",
                   inertia["prediction_change_reduction"], ">", 2 * _finite(flip_se), se=flip_se),
        Prediction("adam_l2_is_ridge", "Adam + L2 ends on the ridge solution (largest error of "
                   "w/w_hat < 0.01)", tiny["adam_l2_max_error_vs_ridge"], "<", 0.01),
        Prediction("adamw_is_not_ridge", "AdamW with the same number does not (differs by > 0.1)",
                   tiny["adamw_max_difference_vs_ridge"], ">", 0.1),
    ]


def _finite(x) -> float:
    return float(x) if x is not None and np.isfinite(x) else 0.0


def verify(m: dict) -> list[Verification]:
    v = m["variants"]
    worst = min(v, key=lambda k: v[k]["test_accuracy"])
    return [
        Verification("every_variant_learns", f"every variant learns (test accuracy >= "
                     f"{m['min_accuracy']:g})", v[worst]["test_accuracy"] >= m["min_accuracy"],
                     f"lowest: {VARIANTS[worst]} {100 * v[worst]['test_accuracy']:.1f} %"),
        Verification("l2_no_exact_zeros", "L2 stores no weight as exactly 0 (its prox never "
                     "returns 0)", v["l2"]["exact_zeros"] == 0, f"{v['l2']['exact_zeros']} zeros"),
    ]


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    v, inertia, tiny = m["variants"], m["inertia"], m["adam_vs_adamw"]
    nz, sub, prox, l2 = v["none"], v["l1_subgradient"], v["l1_prox"], v["l2"]
    by = {p.name: p for p in predictions}
    pct = lambda x: f"{100 * x:.1f} %"  # noqa: E731
    setup = (f"{m['n_seeds']} member seeds x {m['epochs']} epochs of SGD on digits (n = "
             f"{m['n_train']}, 64-30-10 sigmoid, Nielsen's lam = {m['lam_nielsen_l1']:g}: l1 = "
             f"lam/n = {m['l1']:.3g}, l2 = lam/(2n) = {m['l2']:.3g}).")
    l1 = (f"Subgradient L1 put {pct(sub['fraction_below_tol'])} of the weights below "
          f"{m['tol']:g} (no penalty {pct(nz['fraction_below_tol'])}) and stored "
          f"{sub['exact_zeros']} of {m['n_weights']} as exactly 0.0; the prox step set "
          f"{pct(prox['fraction_zero'])} to exactly 0.0. The top 10 % of the weights carry "
          f"{pct(sub['top_share'])} of sum|w| under L1, {pct(nz['top_share'])} without penalty, "
          f"{pct(l2['top_share'])} with L2.")
    l2_txt = (f"L2 {'cut' if by['l2_smaller_rms'].held else 'did not cut'} the RMS weight "
              f"({nz['rms_weight']:.2f} -> {l2['rms_weight']:.2f}) and the largest "
              f"({nz['max_abs_weight']:.2f} -> {l2['max_abs_weight']:.2f}); saturated units at "
              f"the end: {pct(l2['saturation_final'])} with L2, {pct(nz['saturation_final'])} "
              "without.")
    rel, flip = by["inertia_relative_weight_change"], by["inertia_predictions_change"]
    r0, r1 = inertia["rel_change_mean"][0], _at(inertia, "rel_change_mean")
    f0, f1 = inertia["prediction_change_mean"][0], _at(inertia, "prediction_change_mean")
    inert = (f"Inertia (10 training images replaced, lam = {inertia['lam_compared']:g}): relative "
             f"weight change {pct(r0)} without penalty, {pct(r1)} with L2 "
             f"({'smaller' if rel.held else 'not smaller'} by more than 2 SE: reduction "
             f"{100 * rel.value:+.2f} ± {100 * _finite(rel.se):.2f} points); test predictions "
             f"changed {pct(f0)} vs {pct(f1)} ({'fewer' if flip.held else 'not fewer'} by more "
             f"than 2 SE: {100 * flip.value:+.2f} ± {100 * _finite(flip.se):.2f} points).")
    adam = (f"Adam + L2 ended {tiny['adam_l2_max_error_vs_ridge']:.1e} from the ridge solution, "
            f"AdamW up to {tiny['adamw_max_difference_vs_ridge']:.2f} away.")
    head = headline(outcome, predictions, holds="As the seed says.")
    verdict = " ".join([head, setup, l1, l2_txt, inert, adam])
    verdict += missed_text(predictions)
    a0, a1 = inertia["abs_change_mean"][0], _at(inertia, "abs_change_mean")
    nuance = (
        "Exact zeros come from the prox step, not from the L1 penalty: the subgradient "
        f"lam*sign(w) makes an unneeded weight jump across 0 by lr*l1 = {m['lr'] * m['l1']:.1e} "
        "each step, so it hovers near 0 and never lands on it. "
        f"{m['dead_inputs']} of the 64 pixels are blank in every training image; their "
        f"{pct(m['dead_input_weight_fraction'])} of the weights get no data gradient. "
        f"In absolute terms the L2 weights moved {a1:.3f} against {a0:.3f} without penalty, "
        "but L2 also makes the weights smaller, so the absolute change shrinks almost by "
        "construction: the inertia predictions use the relative change and the changed "
        "predictions instead. Adam + L2 is not AdamW: Adam divides the decay gradient d*w by "
        "sqrt(v) like the data gradient, so it stops at the ridge solution; AdamW's decay "
        "bypasses that scaling.")
    return verdict, nuance


def _at(inertia: dict, key: str) -> float:
    return inertia[key][inertia["lams_nielsen"].index(inertia["lam_compared"])]


def _tables(m: dict) -> list[Table]:
    v, sweep, inertia, tiny = m["variants"], m["sparsity_sweep"], m["inertia"], m["adam_vs_adamw"]
    tol = m["tol"]
    fmt = lambda x: f"{100 * x:.2f} %"  # noqa: E731
    return [
        Table(caption=f"Variants (mean over {m['n_seeds']} member seeds); 'below tol' counts "
                      f"|w| < {tol:g}",
              columns=["variant", "test accuracy", "exactly 0", "below tol", "RMS |w|",
                       "max |w|", "top-10 % share", "saturated (end)"],
              rows=[[VARIANTS[k], fmt(x["test_accuracy"]), fmt(x["fraction_zero"]),
                     fmt(x["fraction_below_tol"]), f"{x['rms_weight']:.3f}",
                     f"{x['max_abs_weight']:.2f}", fmt(x["top_share"]),
                     fmt(x["saturation_final"])] for k, x in v.items()]),
        Table(caption="L1 against lam: subgradient (penalty in the loss) vs prox step",
              columns=["Nielsen lam", "l1 = lam/n", "lr*l1", "subgradient: exactly 0",
                       f"subgradient: < {tol:g}", "prox: exactly 0", f"prox: < {tol:g}"],
              rows=[[f"{lam:g}", f"{l1:.3g}", f"{st:.2g}", fmt(a), fmt(b), fmt(c), fmt(e)]
                    for lam, l1, st, a, b, c, e in zip(
                        sweep["lams_nielsen"], sweep["l1"], sweep["step_times_l1"],
                        sweep["l1_subgradient_fraction_zero"],
                        sweep["l1_subgradient_fraction_below_tol"],
                        sweep["l1_prox_fraction_zero"], sweep["l1_prox_fraction_below_tol"])]),
        Table(caption=f"Inertia: retraining after replacing {inertia['n_replaced']} of "
                      f"{m['n_train']} images (same initial weights and batch order), mean over "
                      "member seeds",
              columns=["Nielsen lam (L2)", "||W'-W||", "||W||", "||W'-W|| / ||W||",
                       "test predictions changed"],
              rows=[[f"{lam:g}", f"{a:.3f}", f"{s:.2f}", fmt(r), fmt(f)]
                    for lam, a, s, r, f in zip(inertia["lams_nielsen"], inertia["abs_change_mean"],
                                               inertia["weight_norm_mean"],
                                               inertia["rel_change_mean"],
                                               inertia["prediction_change_mean"])]),
        Table(caption=f"Adam + L2 vs AdamW, weight_decay = {tiny['decay']:g}: final w / w_hat "
                      "per parameter (ridge = the L2 solution)",
              columns=["feature scale", "w_hat", "Adam + L2", "AdamW", "ridge"],
              rows=[[f"{s:g}", f"{w:g}", f"{a:.3f}", f"{b:.3f}", f"{r:.3f}"]
                    for s, w, a, b, r in zip(tiny["scales"], tiny["w_hat"],
                                             tiny["factor_adam_l2"], tiny["factor_adamw"],
                                             tiny["factor_ridge"])]),
    ]
