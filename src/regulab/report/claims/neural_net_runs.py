"""The training runs behind the neural-net claim: the digits split, batched SGD and Adam ensembles
(:class:`regulab.nn.MLPEnsemble`), per-network measurements, and the tiny Adam-vs-AdamW problem.

Pure experiment code: no verdicts, no words. Importing this module does not import torch; the
functions do.
"""

from __future__ import annotations

import numpy as np

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

def sgd_members(p, seeds):
    """(seed, kind, nielsen lam, data) for every network trained with SGD."""
    members = []
    for s in seeds:
        members += [(s, "none", 0.0, 0), (s, "none", 0.0, 1)]
        for lam in p["l2_sweep"]:
            members += [(s, "l2", float(lam), 0), (s, "l2", float(lam), 1)]
        for lam in p["l1_sweep"]:
            members += [(s, "l1_subgradient", float(lam), 0), (s, "l1_prox", float(lam), 0)]
    return members


def weights_np(net) -> np.ndarray:
    from regulab.nn import select_parameters

    return np.concatenate([p.detach().cpu().double().numpy().ravel()
                           for _, p in select_parameters(net)])


def top_share(w: np.ndarray, share: float) -> float:
    a = np.sort(np.abs(w))[::-1]
    k = max(1, int(round(share * a.size)))
    return float(a[:k].sum() / a.sum())


def train_ensemble(members, X, y, X2, y2, p, *, optimizer, lr, penalty_of, prox_of=None,
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


def evaluate(ens, members, Xte, yte, p):
    """Per member: accuracy, sparsity, weight statistics, and the weights themselves."""
    import torch

    from regulab.nn import sparsity

    with torch.no_grad():
        acc = (ens(Xte).argmax(-1) == yte).double().mean(dim=1).cpu().numpy()
    rows = []
    for k, _ in enumerate(members):
        net = ens.member(k)
        sp = sparsity(net, tol=p["tol"])
        w = weights_np(net)
        rows.append({"test_accuracy": float(acc[k]), "fraction_zero": sp["fraction_zero"],
                     "exact_zeros": sp["exact_zeros"],
                     "fraction_below_tol": sp["fraction_below_tol"],
                     "rms_weight": float(np.sqrt(np.mean(w**2))),
                     "max_abs_weight": float(np.max(np.abs(w))),
                     "top_share": top_share(w, p["top_share"]), "weights": w})
    return rows


def summarize(rows, sat_rows):
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

def tiny_problem(p, rng):
    """Orthogonal features with scales s_j (so X^T X / n = diag(s_j^2)); y = X w_hat exactly."""
    scales = np.repeat(np.asarray(p["tiny_scales"], dtype=float), len(p["tiny_w"]))
    w_hat = np.tile(np.asarray(p["tiny_w"], dtype=float), len(p["tiny_scales"]))
    n = p["tiny_n"]
    Q, _ = np.linalg.qr(rng.standard_normal((n, scales.size)))
    X = Q * np.sqrt(n) * scales
    return X, X @ w_hat, scales, w_hat


def adam_vs_adamw(p, rng):
    import torch

    X, y, scales, w_hat = tiny_problem(p, rng)
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
