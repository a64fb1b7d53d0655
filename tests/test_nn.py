"""regulab.nn and the neural-net claim.

Expected values come from definitions or from another implementation: autograd for gradients,
``regulab.core.penalties`` (numpy) for the prox, PyTorch's own ``weight_decay`` for SGD and AdamW, the
written-out Nielsen formulas for the conversions, separately trained networks for the ensemble.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from regulab.report.claims.base import outcome_of

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from regulab.core.conventions import NotRepresentable  # noqa: E402
from regulab.core.penalties import ElasticNet  # noqa: E402
from regulab.nn import (  # noqa: E402
    MLPEnsemble,
    NNPenalty,
    TrainingDiverged,
    decoupled_weight_decay_,
    deterministic,
    fit,
    nielsen_mlp,
    param_groups,
    prox_l1_,
    saturation,
    select_parameters,
    sparsity,
    weight_histograms,
)


def small_net(seed=0, dtype=torch.float64):
    """A 5-4-3 tanh network with random (never exactly zero) parameters."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).to(dtype)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, dtype=dtype))
    return net


def data(n=40, d=5, k=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randint(0, k, (n,), generator=g)


PENALTY_CASES = [("l1", {}), ("l2", {}), ("elasticnet", {"l1_ratio": 0.3})]


# -- penalties ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", PENALTY_CASES)
@pytest.mark.parametrize("biases", [False, True])
def test_autograd_gradient_equals_analytic(name, kw, biases):
    net = small_net()
    pen = NNPenalty(name, 0.7, biases=biases, **kw)
    pen(net).backward()
    analytic = pen.gradient(net)
    for n_, p in net.named_parameters():
        if n_ in analytic:
            torch.testing.assert_close(p.grad, analytic[n_], rtol=0, atol=1e-14)
        else:  # not selected: the penalty does not touch it
            assert p.grad is None or torch.count_nonzero(p.grad) == 0
    assert set(analytic) == ({"0.weight", "2.weight", "0.bias", "2.bias"} if biases
                             else {"0.weight", "2.weight"})


@pytest.mark.parametrize("name,kw", PENALTY_CASES)
def test_penalty_value_is_regulab_formula(name, kw):
    net = small_net()
    lam, rho = 0.7, {"l1": 1.0, "l2": 0.0}.get(name, kw.get("l1_ratio"))
    w = torch.cat([net[0].weight.flatten(), net[2].weight.flatten()])
    expected = lam * rho * w.abs().sum() + lam * (1 - rho) * (w**2).sum()
    torch.testing.assert_close(NNPenalty(name, lam, **kw)(net), expected, rtol=1e-14, atol=0)


def test_add_gradient_equals_backward_of_penalized_loss():
    X, y = data()
    a, b = small_net(), small_net()
    pen = NNPenalty("elasticnet", 0.2, 0.4)
    (F.cross_entropy(a(X), y) + pen(a)).backward()
    F.cross_entropy(b(X), y).backward()
    pen.add_gradient_(b)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad, rtol=0, atol=1e-14)


def test_prox_exact_zeros_and_exact_shift():
    net = small_net()
    lr, lam = 0.1, 2.0
    t = lr * lam
    with torch.no_grad():  # put some weights inside [-t, t], one exactly on the edge
        net[0].weight[0, :3] = torch.tensor([0.05, -0.2, t], dtype=torch.float64)
        net[2].weight[1, :2] = torch.tensor([-t, 1e-3], dtype=torch.float64)
    before = {n_: p.detach().clone() for n_, p in net.named_parameters()}
    prox_l1_(net, lr, lam)
    for n_, p in net.named_parameters():
        old = before[n_]
        if n_.endswith("bias"):  # biases are not selected by default: untouched
            assert torch.equal(p, old)
            continue
        inside = old.abs() <= t
        assert inside.any()
        assert torch.all(p[inside] == 0.0)  # exactly 0.0, not small
        shrink = old.abs()[~inside] - p.abs()[~inside]
        torch.testing.assert_close(shrink, torch.full_like(shrink, t), rtol=0, atol=1e-15)
        assert torch.all(torch.sign(p[~inside]) == torch.sign(old[~inside]))


def test_penalty_prox_matches_numpy_elastic_net_prox():
    net = small_net()
    w0 = net[0].weight.detach().numpy().copy()
    NNPenalty("elasticnet", 3.0, 0.6).prox_(net, 0.05)
    expected = ElasticNet(3.0, 0.6).prox(w0.ravel(), 0.05).reshape(w0.shape)
    np.testing.assert_allclose(net[0].weight.detach().numpy(), expected, rtol=0, atol=1e-15)
    assert np.array_equal(net[0].weight.detach().numpy() == 0, expected == 0)


def test_prox_with_per_member_lams():
    ens = MLPEnsemble((3, 4, 2), seeds=[0, 0, 0], dtype=torch.float64)
    lams = ens.per_member([0.0, 0.5, 100.0])
    w0, b0 = ens.weight0.detach().clone(), ens.bias0.detach().clone()
    prox_l1_(ens, 1.0, lams)
    assert torch.equal(ens.weight0[0], w0[0])  # lam 0: unchanged
    assert torch.all(ens.weight0[2] == 0)  # huge lam: all exactly 0
    assert torch.equal(ens.bias0, b0)  # biases (shape (K, 1, n)) are not selected by default
    inside = w0[1].abs() <= 0.5
    assert torch.all(ens.weight0[1][inside] == 0) and torch.all(ens.weight0[1][~inside] != 0)


def _sgd_run(net, X, y, steps, make_opt, pen=None):
    opt = make_opt(net)
    for k in range(steps):
        idx = slice((4 * k) % len(y), (4 * k) % len(y) + 4)
        opt.zero_grad()
        loss = F.cross_entropy(net(X[idx]), y[idx])
        if pen is not None:
            loss = loss + pen(net)
        loss.backward()
        opt.step()
    return [p.detach() for p in net.parameters()]


def test_sgd_weight_decay_follows_l2_penalty_trajectory():
    X, y = data()
    d, lr = 0.3, 0.2
    # PyTorch's weight_decay on the weights only (param_groups), against an explicit L2 term
    a = _sgd_run(small_net(), X, y, 25, lambda m: torch.optim.SGD(param_groups(m, d), lr=lr))
    pen = NNPenalty.from_convention("torch-sgd", {"weight_decay": d})
    assert pen.l2 == pytest.approx(d / 2) and pen.l1 == 0
    b = _sgd_run(small_net(), X, y, 25, lambda m: torch.optim.SGD(m.parameters(), lr=lr), pen)
    for pa, pb in zip(a, b):
        torch.testing.assert_close(pa, pb, rtol=0, atol=1e-12)
    # and PyTorch's plain weight_decay on everything equals the penalty with biases=True
    c = _sgd_run(small_net(), X, y, 25,
                 lambda m: torch.optim.SGD(m.parameters(), lr=lr, weight_decay=d))
    pen_all = NNPenalty.from_convention("torch-sgd", {"weight_decay": d}, biases=True)
    e = _sgd_run(small_net(), X, y, 25, lambda m: torch.optim.SGD(m.parameters(), lr=lr), pen_all)
    for pc, pe in zip(c, e):
        torch.testing.assert_close(pc, pe, rtol=0, atol=1e-12)


def test_fit_decoupled_decay_is_adamw_and_coupled_penalty_is_adam_weight_decay():
    X, y = data()
    d, lr = 0.05, 0.01
    runs = {}
    for key, kw in {
        "adamw": {"optimizer": "adamw", "weight_decay": d},
        "adam+decoupled": {"optimizer": "adam", "decoupled_decay": d},
        "adam_wd": {"optimizer": "adam", "weight_decay": d},
        "adam+penalty": {"optimizer": "adam",
                         "penalty": NNPenalty.from_convention("torch-adam", {"weight_decay": d})},
    }.items():
        net = small_net()
        fit(net, X, y, epochs=3, batch_size=8, lr=lr, seed=1, **kw)
        runs[key] = [p.detach() for p in net.parameters()]
    for a, b in [("adamw", "adam+decoupled"), ("adam_wd", "adam+penalty")]:
        for pa, pb in zip(runs[a], runs[b]):
            torch.testing.assert_close(pa, pb, rtol=0, atol=1e-10)
    assert not torch.allclose(runs["adamw"][0], runs["adam_wd"][0], atol=1e-4)


def test_decoupled_weight_decay_step():
    net = small_net()
    w0, b0 = net[0].weight.detach().clone(), net[0].bias.detach().clone()
    decoupled_weight_decay_(net, 0.1, 0.5)
    torch.testing.assert_close(net[0].weight, w0 * (1 - 0.05), rtol=0, atol=1e-15)
    assert torch.equal(net[0].bias, b0)


@pytest.mark.parametrize("seed", range(4))
def test_a_prepared_step_applied_many_times_follows_the_formulas(seed):
    # PenaltyStep / DecayStep (what fit applies at every minibatch) against the formulas
    # written out here, step after step, with per-member (tensor) strengths
    from regulab.nn.penalties import DecayStep, PenaltyStep

    draw = np.random.default_rng(seed)
    ens = MLPEnsemble((4, 5, 3), seeds=[seed, seed + 1, seed + 2], dtype=torch.float64)
    l1 = ens.per_member(draw.uniform(0, 0.5, 3))
    l2 = ens.per_member(draw.uniform(0, 0.5, 3))
    lr, decay = float(draw.uniform(0.01, 0.3)), ens.per_member(draw.uniform(0, 0.5, 3))
    pen = NNPenalty.from_parts(l1, l2)
    grad, prox = PenaltyStep(pen, ens), PenaltyStep(pen, ens, lr)
    shrink = DecayStep(ens, lr, decay)
    for _ in range(5):
        w = ens.weight1.detach().clone()
        g = torch.as_tensor(draw.standard_normal(w.shape))
        ens.weight1.grad = g.clone()
        grad.add_gradient_()
        torch.testing.assert_close(ens.weight1.grad, g + l1 * torch.sign(w) + 2.0 * l2 * w,
                                   rtol=1e-15, atol=1e-15)
        prox.prox_()
        soft = torch.sign(w) * torch.clamp(w.abs() - lr * l1, min=0.0)
        torch.testing.assert_close(ens.weight1.detach(), soft / (1.0 + 2.0 * lr * l2),
                                   rtol=1e-15, atol=0)
        assert torch.equal(ens.weight1 == 0, soft == 0)
        w = ens.weight1.detach().clone()
        shrink()
        torch.testing.assert_close(ens.weight1.detach(), w * (1.0 - lr * decay),
                                   rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="step size"):
        grad.prox_()  # prepared without lr


def test_fit_prepares_the_penalty_steps_each_epoch():
    # an on_epoch callback that changes the penalty takes effect from the next epoch on
    X, y = data(n=30, seed=1)

    def train(change):
        net = small_net(seed=2)
        pen = NNPenalty.from_parts(0.0, 0.01)

        def on_epoch(epoch, model):
            if change and epoch == 1:
                pen.l2 = 5.0  # lr * 2 * l2 = 1: every weight's own gradient cancels it
        fit(net, X, y, epochs=2, batch_size=10, lr=0.1, penalty=pen, on_epoch=on_epoch)
        return net[0].weight.detach().abs().max().item()

    assert train(True) < 0.5 * train(False)


@pytest.mark.parametrize("conv,lam", [("nielsen-l1", 3.0), ("nielsen-l2", 5.0)])
def test_nielsen_form_equals_regulab_form_after_conversion(conv, lam):
    net, n = small_net(), 1200
    w = torch.cat([net[0].weight.flatten(), net[2].weight.flatten()])
    nielsen = lam / n * w.abs().sum() if conv == "nielsen-l1" else lam / (2 * n) * (w**2).sum()
    pen = NNPenalty.from_convention(conv, {"lam": lam}, n_samples=n)
    torch.testing.assert_close(pen(net), nielsen, rtol=1e-14, atol=0)
    assert pen.to_convention(conv, n_samples=n)["lam"] == pytest.approx(lam, rel=1e-14)


# -- measurements -------------------------------------------------------------------------------

def test_sparsity_and_histograms():
    net = nn.Sequential(nn.Linear(4, 2), nn.Sigmoid(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.0, 5e-4, -2e-3, 1.0], [0.0, 0.0, 3.0, -1e-4]]))
        net[2].weight.copy_(torch.tensor([[0.5, 0.0]]))
    s = sparsity(net, tol=1e-3)
    assert s["n"] == 10 and s["exact_zeros"] == 4
    assert s["fraction_zero"] == 0.4 and s["fraction_below_tol"] == 0.6
    assert s["per_layer"]["2.weight"]["fraction_zero"] == 0.5
    h = weight_histograms(net, bins=5)
    assert sum(int(c.sum()) for c, _ in h.values()) == 10
    assert h["0.weight"][1][0] == -3.0 and h["0.weight"][1][-1] == 3.0


def test_saturation_counts_hidden_preactivations_beyond_threshold():
    net = nn.Sequential(nn.Linear(1, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid()).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [10.0], [-10.0]]))
        net[0].bias.zero_()
    x = torch.tensor([[0.1], [0.5], [1.0]], dtype=torch.float64)
    # z = x, 10x, -10x: beyond 4 for 10x and -10x at x = 0.5 and 1.0 -> 4 of 9
    s = saturation(net, x)
    assert s["fraction"] == pytest.approx(4 / 9) and list(s["per_layer"]) == ["1"]
    assert s["thresholds"]["1"] == 4.0
    assert saturation(net, x, threshold=0.75)["fraction"] == pytest.approx(7 / 9)  # + z = 1.0
    assert len(saturation(net, x, exclude_output=False)["per_layer"]) == 2
    with pytest.raises(ValueError, match="no nn.Sigmoid or nn.Tanh"):
        saturation(nn.Linear(2, 2), torch.zeros(1, 2))


# -- training: ensemble, determinism, divergence -----------------------------------------------

def test_ensemble_members_follow_their_single_network_trajectories():
    X, y = data(n=30, d=6, k=4, dtype=torch.float32)
    X2 = X.flip(0).contiguous()
    seeds, lams, prox_lams = [3, 4, 3], [0.0, 0.01, 0.0], [0.0, 0.0, 0.02]
    ens = MLPEnsemble((6, 5, 4), seeds=seeds)
    fit(ens, torch.stack([X, X2, X2]), torch.stack([y, y.flip(0), y.flip(0)]), epochs=3,
        batch_size=7, lr=0.3, seed=seeds,
        penalty=NNPenalty.from_parts(0.0, ens.per_member(lams)),
        prox=NNPenalty.from_parts(ens.per_member(prox_lams)))
    for k, (s, lam, pl) in enumerate(zip(seeds, lams, prox_lams)):
        net = nielsen_mlp((6, 5, 4), seed=s)
        fit(net, X if k == 0 else X2, y if k == 0 else y.flip(0), epochs=3, batch_size=7, lr=0.3,
            seed=s, penalty=NNPenalty("l2", lam) if lam else None,
            prox=NNPenalty("l1", pl) if pl else None)
        for pa, pb in zip(ens.member(k).parameters(), net.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-5)


def test_same_seed_same_bits():
    X, y = data(dtype=torch.float32)
    out = []
    for _ in range(2):
        with deterministic(5):
            net = nielsen_mlp((5, 4, 3), seed=5)
            fit(net, X, y, epochs=2, batch_size=8, lr=0.5, seed=5,
                prox=NNPenalty("l1", 0.01))
        out.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    assert torch.equal(out[0], out[1])


def test_deterministic_restores_threads_and_rng():
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    with deterministic(0, threads=1):
        assert torch.get_num_threads() == 1
        torch.rand(3)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)


# -- bad input ----------------------------------------------------------------------------------

def test_unknown_penalty_names_the_valid_choices():
    with pytest.raises(ValueError, match="penalty must be one of 'l1', 'l2', 'elasticnet', got "
                                         "'lasso'"):
        NNPenalty("lasso", 0.1)


@pytest.mark.parametrize("lam", [-0.1, float("nan"), float("inf")])
def test_bad_lam_names_the_value(lam):
    with pytest.raises(ValueError, match=rf"lam must (be a finite real number|lie in \[0, inf\)), "
                                         rf"got {lam}"):
        NNPenalty("l2", lam)
    with pytest.raises(ValueError, match="lam"):
        prox_l1_(small_net(), 0.1, lam)


def test_negative_per_member_lam():
    with pytest.raises(ValueError, match=r"l1 must be finite and >= 0.*-1\.0"):
        NNPenalty.from_parts(torch.tensor([0.1, -1.0]))


@pytest.mark.parametrize("module,kw", [
    (nn.BatchNorm1d(3), {}),                           # only 1-D parameters, biases not selected
    (small_net(), {"weights": False, "biases": False}),
    (nn.Sigmoid(), {}),                                 # no parameter at all
])
def test_empty_selection_is_an_error_not_a_zero_penalty(module, kw):
    with pytest.raises(ValueError, match="no parameter"):
        NNPenalty("l2", 0.1, **kw)(module)
    with pytest.raises(ValueError, match="no parameter"):
        select_parameters(module, **kw)


def test_biases_only_module_works_when_biases_are_selected():
    bn = nn.BatchNorm1d(3)
    assert float(NNPenalty("l1", 1.0, biases=True)(bn).detach()) == pytest.approx(3.0)


def test_adamw_is_no_penalty_and_sgd_weight_decay_is_refused_in_fit():
    with pytest.raises(NotRepresentable, match="decoupled"):
        NNPenalty.from_convention("torch-adamw", {"weight_decay": 0.01})
    with pytest.raises(ValueError, match="valid ids"):
        NNPenalty.from_convention("nielsen", {"lam": 1.0}, n_samples=10)
    X, y = data()
    with pytest.raises(ValueError, match="torch-sgd"):
        fit(small_net(), X, y, optimizer="sgd", weight_decay=0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        fit(small_net(), X, y, optimizer="rmsprop")


def test_nan_loss_stops_training_naming_the_epoch():
    X, y = data()
    calls = {"n": 0}

    def loss_fn(out, target):  # becomes NaN during the third epoch (5 steps per epoch)
        calls["n"] += 1
        return F.cross_entropy(out, target) * (math.nan if calls["n"] == 12 else 1.0)

    with pytest.raises(TrainingDiverged, match="epoch 3 of 10: the mean training loss became nan"):
        fit(small_net(), X, y, epochs=10, batch_size=8, lr=0.1, loss_fn=loss_fn)


def test_too_large_lam_diverges_with_a_reason():
    X, y = data(dtype=torch.float32)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+ of 40.*lr\*l2 >= 1") as err:
        fit(nielsen_mlp((5, 4, 3)), X, y, epochs=40, batch_size=8, lr=0.5,
            penalty=NNPenalty("l2", 10.0))
    assert isinstance(err.value, FloatingPointError)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit(small_net(), torch.full((4, 5), math.nan, dtype=torch.float64), y[:4])


# -- the claim ----------------------------------------------------------------------------------

SMALL = {"n_train": 600, "n_test": 300, "epochs": 8, "n_seeds": 3, "l1_sweep": (0.5, 1.0, 4.0),
         "l2_sweep": (1.0, 5.0), "tiny_steps": 400}


@pytest.fixture(scope="module")
def small_result():
    from regulab.report.claims import REGISTRY, neural_net
    from regulab.report.claims.base import ExplainConfig

    mp = pytest.MonkeyPatch()
    mp.setattr(neural_net, "DEFAULTS", {**neural_net.DEFAULTS, **SMALL})
    try:
        t0 = time.perf_counter()
        result = REGISTRY["neural-net"].run(ExplainConfig(seed=0))
        result.data["wall_s"] = time.perf_counter() - t0
    finally:
        mp.undo()
    return result


def _numbers(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield x


def test_claim_numbers_at_reduced_size(small_result):
    """Whatever the outcome: Nielsen's lams converted by the conventions table, the inertia
    numbers recomputed from the per-seed values, and the verdict quoting them."""
    r = small_result
    assert r.id == "neural-net" and r.verdict and r.nuance and r.tables
    m = r.metrics
    assert m["l1"] == pytest.approx(1.0 / 600) and m["l2"] == pytest.approx(1.0 / 1200)
    assert f"{100 * m['variants']['l1_prox']['fraction_zero']:.1f} %" in r.verdict
    ine = m["inertia"]
    j = ine["lams_nielsen"].index(ine["lam_compared"])
    diff = np.subtract(ine["rel_change_by_seed"][0], ine["rel_change_by_seed"][j])
    assert ine["rel_change_reduction"] == pytest.approx(diff.mean())
    assert ine["rel_change_reduction_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(diff.size))
    for seed_abs, seed_rel, seed_norm in zip(ine["abs_change_by_seed"], ine["rel_change_by_seed"],
                                             ine["weight_norm_by_seed"]):
        assert np.allclose(np.asarray(seed_abs) / np.asarray(seed_norm), seed_rel)
    assert r.outcome == outcome_of(r.predictions)


def _verdict_for(metrics):
    from regulab.report.claims import neural_net

    preds = neural_net.predict(metrics, None)
    outcome = outcome_of(preds)
    return outcome, neural_net.words(metrics, preds, outcome)[0], {p.name: p for p in preds}


def test_inertia_verdict_follows_the_numbers(small_result):
    m = copy.deepcopy(small_result.metrics)
    ine = m["inertia"]
    # L2 moves the weights less, relatively, by 5 SE; predictions change less by 4 SE
    ine.update(rel_change_reduction=0.005, rel_change_reduction_se=0.001,
               prediction_change_reduction=0.004, prediction_change_reduction_se=0.001)
    _, verdict, by = _verdict_for(m)
    assert by["inertia_relative_weight_change"].held and by["inertia_predictions_change"].held
    assert "smaller by more than 2 SE" in verdict and "not smaller" not in verdict
    # the review's measurement: relative change larger with L2 -> the inertia prediction misses
    ine.update(rel_change_reduction=-0.0084, rel_change_reduction_se=0.002,
               prediction_change_reduction=0.001, prediction_change_reduction_se=0.001)
    outcome, verdict, by = _verdict_for(m)
    assert not by["inertia_relative_weight_change"].held
    assert not by["inertia_predictions_change"].held          # 1 SE is not 2 SE
    assert outcome != "holds"
    assert "not smaller by more than 2 SE: reduction -0.84 ± 0.20 points" in verdict
    assert "Missed: " in verdict and "inertia" in verdict.split("Missed: ")[1]


def test_every_outcome_has_a_true_sentence(small_result):
    m = copy.deepcopy(small_result.metrics)
    v = m["variants"]
    # nothing the seed says comes out: no near-zeros, no prox zeros, L2 larger, more saturation
    v["l1_subgradient"].update(fraction_below_tol=0.0, top_share=0.0, fraction_zero=0.5)
    v["l1_prox"]["fraction_zero"] = 0.0
    v["l2"].update(rms_weight=9.0, max_abs_weight=99.0, saturation_final=1.0)
    m["inertia"].update(rel_change_reduction=-1.0, prediction_change_reduction=-1.0)
    m["adam_vs_adamw"].update(adam_l2_max_error_vs_ridge=1.0, adamw_max_difference_vs_ridge=0.0)
    outcome, verdict, by = _verdict_for(m)
    assert outcome == "does not hold" and not any(p.held for p in by.values())
    assert verdict.startswith("The measurements contradict the seed: 0 of 12")
    assert "did not cut the RMS weight" in verdict and "set 0.0 % to exactly 0.0" in verdict


def test_claim_metrics_are_finite_and_json_ready(small_result):
    numbers = list(_numbers(small_result.metrics))
    assert numbers and all(math.isfinite(v) for v in numbers)
    json.dumps(small_result.metrics, allow_nan=False)
    json.dumps(small_result.checks, allow_nan=False)


def test_plot_neural_net(small_result):
    from matplotlib.figure import Figure

    from regulab.report.plots.neural_net import plot_neural_net

    figs = plot_neural_net(small_result)
    assert set(figs) == {"neural_net_weights", "neural_net_sparsity", "neural_net_saturation",
                         "neural_net_accuracy", "neural_net_inertia", "neural_net_adam_vs_adamw"}
    for fig, caption in figs.values():
        assert isinstance(fig, Figure) and caption


def test_claim_module_imports_without_torch():
    # torch made unimportable by a finder that refuses it (a None in sys.modules would confuse
    # scipy's array-API helpers, which look torch up there)
    code = ("import sys, importlib.abc\n"
            "class NoTorch(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'torch':\n"
            "            raise ImportError('torch is hidden')\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "import regulab.report.claims.neural_net as c, regulab.report.plots.neural_net\n"
            "assert c.ID == 'neural-net' and 'torch' not in sys.modules\n"
            "try:\n    import regulab.nn\nexcept ImportError:\n    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -- the claim in parts (regulab explain runs them in different worker processes) ---------------

def test_parts_in_worker_processes_give_the_one_process_result(small_result):
    """The SGD part and the Adam part, each measured in its own worker process and assembled
    here, give the very numbers and arrays of the whole claim measured in one process."""
    from functools import partial

    from regulab.core.execution import run_tasks
    from regulab.report.claims import REGISTRY, neural_net
    from regulab.report.claims.base import ExplainConfig

    claim = REGISTRY["neural-net"]
    assert set(claim.parts) == set(neural_net.PARTS) == {"sgd", "adam"}
    cfg, p = ExplainConfig(seed=0), {**neural_net.DEFAULTS, **SMALL}
    names = list(claim.parts)
    got = run_tasks(partial(neural_net.measure_part, config=cfg, p=p), names, n_jobs=2,
                    backend="loky", one_thread=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(neural_net, "DEFAULTS", p)
    try:
        split = claim.run(cfg, parts=dict(zip(names, got)))
    finally:
        mp.undo()
    whole = small_result
    assert json.dumps(split.metrics, sort_keys=True) == json.dumps(whole.metrics, sort_keys=True)
    assert split.verdict == whole.verdict and split.outcome == whole.outcome
    for key in ("weights", "saturation"):
        assert whole.data[key].keys() == split.data[key].keys()
        for name, a in whole.data[key].items():
            assert np.array_equal(a, split.data[key][name]), (key, name)
            assert a.tobytes() == np.asarray(split.data[key][name]).tobytes(), (key, name)


def test_a_part_that_fails_makes_the_claims_error_result():
    from regulab.report.claims import REGISTRY, neural_net
    from regulab.report.explain import _assemble

    claim = REGISTRY["neural-net"]
    with pytest.raises(ValueError, match="unknown part 'lbfgs'"):
        neural_net.measure_part("lbfgs", None)
    r = _assemble(claim, None, {"sgd": {}, "adam": ValueError("adam part broke")})
    assert r.outcome == "error" and r.error == "ValueError: adam part broke"
