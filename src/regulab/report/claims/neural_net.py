"""Claim neural-net: seed 001's neural-network statements (Nielsen), measured on a PyTorch MLP.

Nielsen's sigmoid network scaled down to scikit-learn's digits: 64-30-10, sigmoid hidden units,
softmax output with mean cross-entropy, weights and biases drawn from N(0, 1) (his
``large_weight_initializer``), minibatch SGD (batch 10, lr 0.5), ``n = 1200`` training images. The
penalties are written in Nielsen's form and converted by :mod:`regulab.core.conventions`:
``(lam/n) sum|w|`` is ``l1 = lam/n``, ``(lam/(2n)) sum w^2`` is ``l2 = lam/(2n)``. Every network is
trained for several seeds (same seeds, hence the same initial weights and minibatch order, for every
variant) in one batched :class:`regulab.nn.MLPEnsemble`.

Four experiments:

1. **Variants** at Nielsen's ``lam = 1``: no penalty, L1 by subgradient (the penalty in the loss),
   L1 by a proximal step after each SGD step, L2; and with Adam (lr 0.01), coupled L2 (Adam's
   ``weight_decay``) and decoupled decay (AdamW) at the same nominal ``weight_decay = 0.01``
   (AdamW's default), beside plain Adam. Measured: weight histograms, the fraction of weights
   exactly 0 and below 1e-3, the share of ``sum |w|`` carried by the largest 10 % of the weights,
   saturated hidden units (``|z| > 4``) over the epochs, test accuracy.
2. **Sparsity against lam**, subgradient L1 against proximal L1.
3. **Inertia**: retrain after replacing a few training images (same initial weights and batch order,
   so only the data differ) and measure ``||W' - W||`` and ``||W' - W|| / ||W||`` without penalty
   and with L2 across lam.
4. **Adam + L2 is not AdamW**, on a tiny least-squares problem with orthogonal features of very
   different scales: the final weight over the unregularized one, per parameter, for
   ``torch.optim.Adam(weight_decay=d)`` and ``torch.optim.AdamW(weight_decay=d)``.

Importing this module does not import torch (the registry imports every claim); :func:`run` does.
"""

from __future__ import annotations

import time

import numpy as np

from regulab.report.claims.base import ClaimResult, ExplainConfig, Table, verdict_from
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
    "lr": 0.5, "n_seeds": 3, "lam_l1": 1.0, "lam_l2": 1.0,
    "l1_sweep": (0.25, 0.5, 1.0, 2.0, 4.0), "l2_sweep": (0.5, 1.0, 2.0, 5.0),
    "n_replace": 10, "adam_lr": 0.01, "adam_decay": 0.01, "tol": 1e-3, "top_share": 0.1,
    "min_accuracy": 0.8,
    "tiny_n": 200, "tiny_scales": (0.1, 1.0, 10.0), "tiny_w": (0.5, 3.0), "tiny_decay": 0.5,
    "tiny_lr": 0.05, "tiny_steps": 1000,
}



# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------

def digits_split(p, rng):
    """Digits scaled to [0, 1], split into train / test / a pool of replacement images."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    n_train, n_test = p["n_train"], p["n_test"]
    if n_train + n_test + p["n_replace"] > len(X):
        raise ValueError(f"n_train + n_test + n_replace must be <= {len(X)} digits")
    perm = rng.permutation(len(X))
    tr, te, pool = perm[:n_train], perm[n_train:n_train + n_test], perm[n_train + n_test:]
    X = X / 16.0
    # the perturbed training set: n_replace images at random positions swapped for unseen ones
    where = rng.choice(n_train, size=p["n_replace"], replace=False)
    new = rng.choice(pool, size=p["n_replace"], replace=False)
    X2, y2 = X[tr].copy(), y[tr].copy()
    X2[where], y2[where] = X[new], y[new]
    return X[tr], y[tr], X[te], y[te], X2, y2


# ----------------------------------------------------------------------------------------------
# experiments 1-3: one batched SGD ensemble, one batched Adam ensemble
# ----------------------------------------------------------------------------------------------

def _sgd_members(p, seeds):
    """(seed, kind, nielsen lam, data) for every network trained with SGD."""
    members = []
    for s in seeds:
        members += [(s, "none", 0.0, 0), (s, "none", 0.0, 1)]
        for lam in p["l2_sweep"]:
            members += [(s, "l2", float(lam), 0), (s, "l2", float(lam), 1)]
        for lam in p["l1_sweep"]:
            members += [(s, "l1_subgradient", float(lam), 0), (s, "l1_prox", float(lam), 0)]
    return members


def _weights_np(net) -> np.ndarray:
    from regulab.nn import select_parameters

    return np.concatenate([p.detach().cpu().double().numpy().ravel()
                           for _, p in select_parameters(net)])


def _top_share(w: np.ndarray, share: float) -> float:
    a = np.sort(np.abs(w))[::-1]
    k = max(1, int(round(share * a.size)))
    return float(a[:k].sum() / a.sum())


def _train_ensemble(members, X, y, X2, y2, p, *, optimizer, lr, penalty_of, prox_of=None,
                    decay_of=None, device):
    """Train one :class:`MLPEnsemble` with per-member strengths; record saturation per epoch."""
    import torch

    from regulab.nn import MLPEnsemble, NNPenalty, fit, saturation

    ens = MLPEnsemble(p["sizes"], seeds=[m[0] for m in members], device=device)
    Xs = torch.stack([X2 if m[3] else X for m in members])
    ys = torch.stack([y2 if m[3] else y for m in members])
    l1, l2 = zip(*(penalty_of(m) for m in members))
    penalty = NNPenalty.from_parts(ens.per_member(l1), ens.per_member(l2))
    prox = (NNPenalty.from_parts(ens.per_member([prox_of(m) for m in members]))
            if prox_of else None)
    decay = ens.per_member([decay_of(m) for m in members]) if decay_of else None
    sat = []
    fit(ens, Xs, ys, epochs=p["epochs"], batch_size=p["batch_size"], lr=lr, optimizer=optimizer,
        penalty=penalty, prox=prox, decoupled_decay=decay, seed=[m[0] for m in members],
        on_epoch=lambda e, m: sat.append(saturation(m, X, per_member=True)["fraction"]))
    return ens, np.array(sat)  # sat: (epochs + 1, K)


def _evaluate(ens, members, Xte, yte, p):
    """Per member: accuracy, sparsity, weight statistics, and the weights themselves."""
    import torch

    from regulab.nn import sparsity

    with torch.no_grad():
        acc = (ens(Xte).argmax(-1) == yte).double().mean(dim=1).cpu().numpy()
    rows = []
    for k, _ in enumerate(members):
        net = ens.member(k)
        sp = sparsity(net, tol=p["tol"])
        w = _weights_np(net)
        rows.append({"test_accuracy": float(acc[k]), "fraction_zero": sp["fraction_zero"],
                     "exact_zeros": sp["exact_zeros"],
                     "fraction_below_tol": sp["fraction_below_tol"],
                     "rms_weight": float(np.sqrt(np.mean(w**2))),
                     "max_abs_weight": float(np.max(np.abs(w))),
                     "top_share": _top_share(w, p["top_share"]), "weights": w})
    return rows


def _summary(rows, sat_rows):
    """Mean over seeds of each number, plus the per-seed accuracies and saturation curves."""
    keys = ["test_accuracy", "fraction_zero", "fraction_below_tol", "rms_weight",
            "max_abs_weight", "top_share"]
    out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    out["exact_zeros"] = int(sum(r["exact_zeros"] for r in rows))
    out["test_accuracy_by_seed"] = [r["test_accuracy"] for r in rows]
    curve = np.mean(sat_rows, axis=0)
    out["saturation_initial"], out["saturation_final"] = float(curve[0]), float(curve[-1])
    return out, curve


# ----------------------------------------------------------------------------------------------
# experiment 4: Adam + L2 against AdamW on a tiny least-squares problem
# ----------------------------------------------------------------------------------------------

def _tiny_problem(p, rng):
    """Orthogonal features with scales s_j (so X^T X / n = diag(s_j^2)); y = X w_hat exactly."""
    scales = np.repeat(np.asarray(p["tiny_scales"], dtype=float), len(p["tiny_w"]))
    w_hat = np.tile(np.asarray(p["tiny_w"], dtype=float), len(p["tiny_scales"]))
    n = p["tiny_n"]
    Q, _ = np.linalg.qr(rng.standard_normal((n, scales.size)))
    X = Q * np.sqrt(n) * scales
    return X, X @ w_hat, scales, w_hat


def _adam_vs_adamw(p, rng):
    import torch

    X, y, scales, w_hat = _tiny_problem(p, rng)
    d, steps = float(p["tiny_decay"]), int(p["tiny_steps"])
    Xt, yt = torch.tensor(X), torch.tensor(y)
    finals = {}
    for name, cls in (("adam_l2", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
        w = torch.zeros(scales.size, dtype=torch.float64, requires_grad=True)
        opt = cls([w], lr=p["tiny_lr"], weight_decay=d)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - k / steps)
        for _ in range(steps):  # full batch: the fixed points are exact
            opt.zero_grad()
            loss = torch.mean((Xt @ w - yt) ** 2)
            loss.backward()
            opt.step()
            sched.step()
        finals[name] = w.detach().numpy().copy()
    a = scales**2  # curvature of MSE along feature j is 2 a_j
    ridge = w_hat * 2.0 * a / (2.0 * a + d)  # MSE + (d/2)||w||^2: the torch-adam convention
    f_adam, f_adamw, f_ridge = finals["adam_l2"] / w_hat, finals["adamw"] / w_hat, ridge / w_hat
    n_s, n_w = len(p["tiny_scales"]), len(p["tiny_w"])
    by_w = lambda f: f.reshape(n_s, n_w)  # noqa: E731 - rows: scale, columns: w_hat
    spread = lambda f: np.max(by_w(f), axis=0) / np.min(by_w(f), axis=0)  # noqa: E731
    return {
        "decay": d, "lr": p["tiny_lr"], "steps": steps, "scales": scales.tolist(),
        "w_hat": w_hat.tolist(), "w_adam_l2": finals["adam_l2"].tolist(),
        "w_adamw": finals["adamw"].tolist(), "factor_adam_l2": f_adam.tolist(),
        "factor_adamw": f_adamw.tolist(), "factor_ridge": f_ridge.tolist(),
        "adam_l2_max_error_vs_ridge": float(np.max(np.abs(f_adam - f_ridge))),
        "adamw_max_difference_vs_ridge": float(np.max(np.abs(f_adamw - f_ridge))),
        "adam_l2_spread_across_scales": spread(f_adam).tolist(),
        "adamw_spread_across_scales": spread(f_adamw).tolist(),
        "adamw_cap_1_over_decay": 1.0 / d,
    }


# ----------------------------------------------------------------------------------------------
# the claim
# ----------------------------------------------------------------------------------------------

def run(config: ExplainConfig) -> ClaimResult:
    """Measure the neural-net claim; see the module docstring."""
    import torch

    from regulab.nn import NNPenalty, default_device, deterministic

    p = dict(DEFAULTS)
    timings = {}
    rng = np.random.default_rng(config.seed)
    S = int(p["n_seeds"])
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=S)]
    Xtr, ytr, Xte, yte, X2, y2 = digits_split(p, rng)
    n = len(ytr)
    # Nielsen's lams -> regulab's scale, through the conventions table
    to_l1 = lambda lam: NNPenalty.from_convention(  # noqa: E731
        "nielsen-l1", {"lam": lam}, n_samples=n).l1
    to_l2 = lambda lam: NNPenalty.from_convention(  # noqa: E731
        "nielsen-l2", {"lam": lam}, n_samples=n).l2
    device = default_device()

    with deterministic(config.seed):
        t = lambda a, dt=torch.float32: torch.tensor(a, dtype=dt, device=device)  # noqa: E731
        X, Y, XT, YT = t(Xtr), t(ytr, torch.long), t(Xte), t(yte, torch.long)
        XP, YP = t(X2), t(y2, torch.long)

        # 1-3: every SGD network in one batched ensemble
        t0 = time.perf_counter()
        members = _sgd_members(p, seeds)
        ens, sat = _train_ensemble(
            members, X, Y, XP, YP, p, optimizer="sgd", lr=p["lr"], device=device,
            penalty_of=lambda m: (to_l1(m[2]) if m[1] == "l1_subgradient" else 0.0,
                                  to_l2(m[2]) if m[1] == "l2" else 0.0),
            prox_of=lambda m: to_l1(m[2]) if m[1] == "l1_prox" else 0.0)
        timings["sgd_ensemble_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = _evaluate(ens, members, XT, YT, p)
        W = ens.weight_vectors().double()
        with torch.no_grad():
            pred = ens(XT).argmax(-1).cpu().numpy()
        timings["evaluate_s"] = time.perf_counter() - t0

        # 1b: Adam, Adam + coupled L2 (weight_decay = d), AdamW (decoupled, same d)
        t0 = time.perf_counter()
        d = float(p["adam_decay"])
        adam_members = [(s, kind, d if kind != "adam" else 0.0, 0)
                        for s in seeds for kind in ("adam", "adam_l2", "adamw")]
        adam_l2 = NNPenalty.from_convention("torch-adam", {"weight_decay": d}).l2
        aens, asat = _train_ensemble(
            adam_members, X, Y, XP, YP, p, optimizer="adam", lr=p["adam_lr"], device=device,
            penalty_of=lambda m: (0.0, adam_l2 if m[1] == "adam_l2" else 0.0),
            decay_of=lambda m: m[2] if m[1] == "adamw" else 0.0)
        arows = _evaluate(aens, adam_members, XT, YT, p)
        timings["adam_ensemble_s"] = time.perf_counter() - t0

        # 4: the tiny problem, in float64 with torch's own Adam and AdamW
        t0 = time.perf_counter()
        tiny = _adam_vs_adamw(p, rng)
        timings["tiny_adam_s"] = time.perf_counter() - t0

    def pick(kind, lam, data=0, mem=members, rws=rows, sats=sat):
        idx = [k for k, m in enumerate(mem) if m[1] == kind and m[2] == lam and m[3] == data]
        return idx, [rws[k] for k in idx], sats[:, idx].T

    lam1, lam2 = float(p["lam_l1"]), float(p["lam_l2"])
    chosen = {"none": pick("none", 0.0), "l1_subgradient": pick("l1_subgradient", lam1),
              "l1_prox": pick("l1_prox", lam1), "l2": pick("l2", lam2)}
    for kind in ("adam", "adam_l2", "adamw"):
        chosen[kind] = pick(kind, 0.0 if kind == "adam" else d, mem=adam_members, rws=arows,
                            sats=asat)
    variants, curves, weights = {}, {}, {}
    for key, (_, rws, sats) in chosen.items():
        variants[key], curves[key] = _summary(rws, sats)
        weights[key] = np.concatenate([r["weights"] for r in rws])

    # 2: sparsity against lam
    sweep = {"lams_nielsen": [float(v) for v in p["l1_sweep"]],
             "l1": [to_l1(v) for v in p["l1_sweep"]],
             "step_times_l1": [p["lr"] * to_l1(v) for v in p["l1_sweep"]]}
    for kind in ("l1_subgradient", "l1_prox"):
        for field in ("fraction_zero", "fraction_below_tol", "test_accuracy"):
            sweep[f"{kind}_{field}"] = [
                float(np.mean([r[field] for r in pick(kind, float(v))[1]]))
                for v in p["l1_sweep"]]

    # 3: inertia
    inertia_lams = [0.0] + [float(v) for v in p["l2_sweep"]]
    abs_change, rel_change, flips, norms = [], [], [], []
    for lam in inertia_lams:
        kind = "none" if lam == 0.0 else "l2"
        i0, i1 = pick(kind, lam, 0)[0], pick(kind, lam, 1)[0]
        diff = [float(torch.linalg.vector_norm(W[b] - W[a])) for a, b in zip(i0, i1)]
        size = [float(torch.linalg.vector_norm(W[a])) for a in i0]
        abs_change.append(diff)
        norms.append(size)
        rel_change.append([x / s for x, s in zip(diff, size)])
        flips.append([float(np.mean(pred[a] != pred[b])) for a, b in zip(i0, i1)])
    mean = lambda rows_: [float(np.mean(r)) for r in rows_]  # noqa: E731
    inertia = {"lams_nielsen": inertia_lams, "l2": [to_l2(v) for v in inertia_lams],
               "n_replaced": p["n_replace"], "abs_change_mean": mean(abs_change),
               "rel_change_mean": mean(rel_change), "weight_norm_mean": mean(norms),
               "prediction_change_mean": mean(flips), "abs_change_by_seed": abs_change,
               "rel_change_by_seed": rel_change}

    # inputs that are 0 in every training image: their first-layer weights get no data gradient
    dead = int(np.sum(np.all(Xtr == 0, axis=0)))
    dead_fraction = dead * p["sizes"][1] / weights["none"].size * S

    v = variants
    tol = p["tol"]
    n_w = weights["none"].size
    sub_zero_max = max(sweep["l1_subgradient_fraction_zero"])
    checks = {
        "prox_l1_gives_exact_zeros": v["l1_prox"]["fraction_zero"] >= 0.1
        and v["l1_prox"]["fraction_zero"] > 2 * dead_fraction
        and all(z > 0 for z in sweep["l1_prox_fraction_zero"]),
        "subgradient_l1_gives_no_exact_zeros": sub_zero_max < 1e-3,
        "l1_leaves_many_weights_near_zero": v["l1_subgradient"]["fraction_below_tol"] >= 0.1
        and v["l1_subgradient"]["fraction_below_tol"] >= 5 * v["none"]["fraction_below_tol"],
        "l1_few_large_weights_do_the_work": v["l1_subgradient"]["top_share"]
        > max(v["none"]["top_share"], v["l2"]["top_share"]),
        "l2_keeps_all_weights_small_not_zero": v["l2"]["rms_weight"] < v["none"]["rms_weight"]
        and v["l2"]["max_abs_weight"] < v["none"]["max_abs_weight"]
        and v["l2"]["exact_zeros"] == 0,
        "l2_reduces_saturation": v["l2"]["saturation_final"] < v["none"]["saturation_final"]
        and v["l2"]["saturation_final"] < v["l2"]["saturation_initial"],
        "l2_weights_move_less_in_absolute_terms": inertia["abs_change_mean"][-1]
        < inertia["abs_change_mean"][0],
        "adam_l2_is_ridge_adamw_is_not": tiny["adam_l2_max_error_vs_ridge"] < 0.01
        and tiny["adamw_max_difference_vs_ridge"] > 0.1,
        "adamw_shrinkage_ignores_gradient_scale": max(tiny["adamw_spread_across_scales"]) < 1.01
        and min(tiny["adam_l2_spread_across_scales"]) > 2.0,
        "every_variant_learns": min(x["test_accuracy"] for x in v.values())
        >= p["min_accuracy"],
    }

    nz, sub, prox, l2v = v["none"], v["l1_subgradient"], v["l1_prox"], v["l2"]
    rel0, rel1 = inertia["rel_change_mean"][0], inertia["rel_change_mean"][-1]
    abs0, abs1 = inertia["abs_change_mean"][0], inertia["abs_change_mean"][-1]
    lam_top = inertia_lams[-1]
    k_cross = [lam for lam, st in zip(sweep["lams_nielsen"], sweep["step_times_l1"]) if st > tol]
    verdict = (
        f"{S} seeds x {p['epochs']} epochs of SGD on digits (n = {n}, 64-30-10 sigmoid, "
        f"Nielsen's lam = {lam1:g}: l1 = lam/n = {to_l1(lam1):.3g}, l2 = lam/(2n) = "
        f"{to_l2(lam2):.3g}). Plain (sub)gradient L1 gave near-zeros, not zeros: "
        f"{100 * sub['fraction_below_tol']:.1f} % of the weights below {tol:g} (no penalty: "
        f"{100 * nz['fraction_below_tol']:.2f} %), yet {sub['exact_zeros']} of the {n_w} weights "
        "stored as exactly 0.0; the same "
        f"L1 applied as a prox step after each SGD step set {100 * prox['fraction_zero']:.1f} % "
        f"of the weights to exactly 0.0. Under L1 the largest 10 % of the weights carry "
        f"{100 * sub['top_share']:.0f} % of sum|w| (no penalty {100 * nz['top_share']:.0f} %, L2 "
        f"{100 * l2v['top_share']:.0f} %). L2 cut the RMS weight from {nz['rms_weight']:.2f} to "
        f"{l2v['rms_weight']:.2f} and the largest from {nz['max_abs_weight']:.2f} to "
        f"{l2v['max_abs_weight']:.2f}, with no weight exactly 0; saturated hidden units "
        f"(|z| > 4) went from {100 * l2v['saturation_initial']:.0f} % at the start to "
        f"{100 * l2v['saturation_final']:.1f} % with L2, {100 * nz['saturation_final']:.0f} % "
        f"without. Replacing {p['n_replace']} training images moved the weights by "
        f"||W'-W|| = {abs0:.3f} without penalty and {abs1:.3f} with L2 (lam = {lam_top:g}); "
        f"relative to ||W|| that is {100 * rel0:.2f} % against {100 * rel1:.2f} %. Test accuracy: "
        + ", ".join(f"{VARIANTS[k]} {100 * x['test_accuracy']:.1f} %" for k, x in v.items())
        + f". On the tiny problem, Adam with weight_decay = {tiny['decay']:g} ended on the ridge "
        f"solution (largest error {tiny['adam_l2_max_error_vs_ridge']:.1e}) while AdamW with the "
        f"same number did not (differs by up to {tiny['adamw_max_difference_vs_ridge']:.2f}).")
    rel_txt = (f"relative to their own, smaller size they move more ({100 * rel0:.2f} % -> "
               f"{100 * rel1:.2f} % of ||W||)" if rel1 >= rel0 else
               f"relative to their size they move less too ({100 * rel0:.2f} % -> "
               f"{100 * rel1:.2f} % of ||W||)")
    cap = float(np.max(np.abs(tiny["w_adamw"])))
    nuance = (
        "Exact zeros come from the prox step, not from the L1 penalty: the subgradient "
        f"lam*sign(w) makes a weight that the data do not need jump across 0 by lr*l1 each step "
        f"({p['lr']:g} x {to_l1(lam1):.2g} = {p['lr'] * to_l1(lam1):.1e} here), so it hovers near "
        "0 and never lands on it. 'Near' is therefore relative to lr*lam: "
        + (f"at Nielsen's lam >= {min(k_cross):g} lr*l1 exceeds {tol:g} and the subgradient's "
           f"'near-zeros' no longer count as below {tol:g} "
           f"({100 * sweep['l1_subgradient_fraction_below_tol'][-1]:.0f} % at lam = "
           f"{sweep['lams_nielsen'][-1]:g}, against "
           f"{100 * sweep['l1_prox_fraction_zero'][-1]:.0f} % exact zeros with the prox). "
           if k_cross else "")
        + f"{dead} of the 64 pixels are blank in every training image; their "
        f"{100 * dead_fraction:.1f} % of the weights get no data gradient, so even L2 decays them "
        "towards 0 (geometrically, never to 0). The 'inertia': with L2 the weights move less "
        f"when the data change, but {rel_txt}, and the retrained network changed its "
        f"prediction on {100 * inertia['prediction_change_mean'][0]:.2f} % of the test images "
        f"without penalty against {100 * inertia['prediction_change_mean'][-1]:.2f} % with L2 "
        f"(lam = {lam_top:g}). Part of the unregularized network's stability is saturation "
        "itself: a saturated unit barely learns. "
        f"Adam + L2 is not AdamW: with Adam the decay gradient d*w is divided by sqrt(v) like "
        "the data gradient, so it stops where grad + d*w = 0, the ridge solution, shrinking weak-"
        "gradient directions most (factors "
        + ", ".join(f"{x:.2f}" for x in tiny["factor_adam_l2"][::len(p['tiny_w'])])
        + " for feature scales " + ", ".join(f"{s:g}" for s in p["tiny_scales"])
        + "); AdamW's decay bypasses Adam's scaling, so its shrinkage is the same at every "
        "gradient scale and grows with |w| instead: the large weights ended at "
        f"{cap:.2f}, below 1/d = {tiny['adamw_cap_1_over_decay']:g}, more like a bound "
        "|w| <= 1/d than a penalty. On digits the same nominal weight_decay = "
        f"{d:g} gave RMS weights {v['adam_l2']['rms_weight']:.2f} (Adam + L2) and "
        f"{v['adamw']['rms_weight']:.2f} (AdamW), plain Adam {v['adam']['rms_weight']:.2f}.")

    metrics = {
        "device": str(device), "n_train": n, "n_test": len(yte), "sizes": list(p["sizes"]),
        "epochs": p["epochs"], "batch_size": p["batch_size"], "lr": p["lr"],
        "n_seeds": S, "member_seeds": seeds, "init": "N(0, 1) weights and biases (Nielsen)",
        "lam_nielsen_l1": lam1, "l1": to_l1(lam1), "lam_nielsen_l2": lam2, "l2": to_l2(lam2),
        "adam_lr": p["adam_lr"], "adam_weight_decay": d, "tol": tol,
        "saturation_threshold_sigmoid": 4.0, "dead_inputs": dead,
        "dead_input_weight_fraction": dead_fraction,
        "variants": variants, "sparsity_sweep": sweep, "inertia": inertia,
        "adam_vs_adamw": tiny,
    }
    fmt = lambda x: f"{100 * x:.2f} %"  # noqa: E731
    tables = [
        Table(caption=f"Variants (mean over {S} seeds); 'below tol' counts |w| < {tol:g}",
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
        Table(caption=f"Inertia: retraining after replacing {p['n_replace']} of {n} images "
                      "(same initial weights and batch order), mean over seeds",
              columns=["Nielsen lam (L2)", "||W'-W||", "||W||", "||W'-W|| / ||W||",
                       "test predictions changed"],
              rows=[[f"{lam:g}", f"{a:.3f}", f"{s:.2f}", fmt(r), fmt(f)]
                    for lam, a, s, r, f in zip(inertia_lams, inertia["abs_change_mean"],
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
    data = {"weights": weights, "saturation": {k: curves[k] for k in curves},
            "accuracy_by_seed": {k: x["test_accuracy_by_seed"] for k, x in v.items()},
            "timings": timings}
    return ClaimResult(id=ID, title=TITLE, source=SOURCE, statement=STATEMENT,
                       holds=verdict_from(checks), verdict=verdict, metrics=metrics,
                       nuance=nuance, checks=checks, tables=tables, data=data)
