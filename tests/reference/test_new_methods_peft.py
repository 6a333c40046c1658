"""Agreement with Hugging Face peft (0.21) for DoRA, VeRA, LoHa, LoKr, OFT and AdaLoRA.

Where peft follows the paper, both train the same number of parameters (which equals the record's formula) and, once
peft's (randomised) adapter weights are copied into our modules, compute the same outputs.  Where peft differs, the
difference is pinned here and recorded in the record's peft ``implementations`` entry (``deviations`` with
``verified_by`` naming the test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

peft = pytest.importorskip("peft")

from matrix import catalogue  # noqa: E402
from peftref_kb.reference import instantiate  # noqa: E402
from peftref_kb.reference.inject import adapter_parameters, adapter_state_dict  # noqa: E402
from peftref_kb.reference.modules import RankAllocator, budget_schedule, orthogonality_regulariser  # noqa: E402
from peftref_kb.schema.formula import evaluate  # noqa: E402

from tiny_models import CONFIGS, build, inputs  # noqa: E402

D, L, R = 32, 2, 4  # the tiny models' hidden size and layers per stack; the rank used on both sides


def _copy(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    ours.copy_(theirs.reshape(ours.shape))


def _copy_lokr(ours, layer):
    for name, factor in (("w1", ours.w1), ("w2", ours.w2)):
        if factor.low_rank:
            _copy(factor.up, layer[f"lokr_{name}_a"]["default"])
            _copy(factor.down, layer[f"lokr_{name}_b"]["default"])
        else:
            _copy(factor.full, layer[f"lokr_{name}"]["default"])


@dataclass
class Spec:
    """One method: peft's config, our hyperparameters, and how peft's weights map onto our module."""

    config: Callable[[], object]
    copy: Callable[[torch.nn.Module, Callable[[str], torch.Tensor]], None]
    ours: dict = field(default_factory=dict)
    archs: tuple[str, ...] = ("llama", "bert")  # nn.Linear q/v without and with bias; at peft's default targets (the records' positions or the default kept as their alternative)


def _layer(module):
    return lambda name: getattr(module, name)


SPECS = {
    "dora": Spec(
        lambda: peft.LoraConfig(r=R, lora_alpha=8, use_dora=True),
        lambda o, p: (_copy(o.down, p("lora_A")["default"].weight.T), _copy(o.up, p("lora_B")["default"].weight.T),
                      _copy(o.magnitude, p("lora_magnitude_vector")["default"].weight)),
        {"r": R, "alpha": 8, "at": ["attn.q", "attn.v"]},  # peft's default targets; the authors' scripts adapt q, k, v and the FFN
    ),
    "vera": Spec(
        lambda: peft.VeraConfig(r=R),
        lambda o, p: (_copy(o.scale_d, p("vera_lambda_d")["default"]), _copy(o.scale_b, p("vera_lambda_b")["default"])),
        {"r": R},
    ),
    "loha": Spec(
        lambda: peft.LoHaConfig(r=R, alpha=8),
        lambda o, p: [_copy(getattr(o, ours), p(theirs)["default"]) for ours, theirs in
                      (("B1", "hada_w1_a"), ("A1", "hada_w1_b"), ("B2", "hada_w2_a"), ("A2", "hada_w2_b"))],
        {"r": R, "alpha": 8},
    ),
    "lokr": Spec(  # the record's decompose_factor 8: W₂ is 4 × 4, full (r ≥ half its side)
        lambda: peft.LoKrConfig(r=R, alpha=8, decompose_factor=8),
        lambda o, p: _copy_lokr(o, {n: p(n) for n in ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b")}),
        {"r": R, "alpha": 8},
    ),
    "lokr-low-rank": Spec(  # decompose_factor 2: W₂ is 16 × 16 as a rank-4 product
        lambda: peft.LoKrConfig(r=R, alpha=8, decompose_factor=2),
        lambda o, p: _copy_lokr(o, {n: p(n) for n in ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b")}),
        {"r": R, "alpha": 8, "decompose_factor": 2},
        archs=("llama",),
    ),
    "lokr-both": Spec(  # decompose_both with r < f / 2: W₁ (4 × 4) and W₂ (8 × 8) both rank-1 products
        lambda: peft.LoKrConfig(r=1, alpha=8, decompose_factor=4, decompose_both=True),
        lambda o, p: _copy_lokr(o, {n: p(n) for n in ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b")}),
        {"r": 1, "alpha": 8, "decompose_factor": 4, "decompose_both": True},
        archs=("bert",),
    ),
    "oft": Spec(  # blocks of 8: four rotations per projection, Cayley-Neumann (peft's and the record's default)
        lambda: peft.OFTConfig(oft_block_size=8, r=0),
        lambda o, p: _copy(o.skew, p("oft_R")["default"].weight),
        {"oft_block_size": 8},
    ),
    "oft-shared": Spec(  # block_share: one rotation for every block of a projection
        lambda: peft.OFTConfig(oft_block_size=8, r=0, block_share=True),
        lambda o, p: _copy(o.skew, p("oft_R")["default"].weight),
        {"oft_block_size": 8, "block_share": True},
        archs=("bert",),
    ),
    "oft-coft": Spec(  # COFT: each skew block projected into a ball of radius eps / √blocks before use
        lambda: peft.OFTConfig(oft_block_size=8, r=0, coft=True, eps=0.5),
        lambda o, p: _copy(o.skew, p("oft_R")["default"].weight),
        {"oft_block_size": 8, "coft": True, "eps": 0.5},
        archs=("llama",),
    ),
    "adalora": Spec(  # peft's default targets equal the record's positions on T5 and BART (q, k, v, o, FFN in and out)
        lambda: peft.AdaLoraConfig(init_r=R, target_r=2, lora_alpha=8, total_step=10),
        lambda o, p: (_copy(o.Q, p("lora_A")["default"]), _copy(o.P, p("lora_B")["default"]), _copy(o.singular_values, p("lora_E")["default"])),
        {"init_r": R, "alpha": 8},
        archs=("t5", "bart"),
    ),
}


def _record(spec_name: str) -> str:
    return spec_name.split("-")[0]


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def randomise(model, seed=3):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.2 * torch.randn(param.shape, generator=generator))


def peft_layer(peft_model, path):
    return peft_model.base_model.model.get_submodule(path)


def paired(spec_name: str, arch: str, **overrides):
    """Our instantiation and peft's model on two equal base models; peft's adapter weights randomised and copied into ours."""
    spec = SPECS[spec_name]
    ours, theirs = build(arch), build(arch)
    report = instantiate(catalogue()[_record(spec_name)], ours, **{**spec.ours, **overrides})
    theirs = peft.get_peft_model(theirs, spec.config())
    randomise(theirs)
    with torch.no_grad():
        for insertion, module in zip(report.components[0].insertions, report.handle.modules):
            spec.copy(module, _layer(peft_layer(theirs, insertion.paths[0])))
    return ours, theirs, report


CASES = [(name, arch) for name, spec in SPECS.items() for arch in spec.archs]


@pytest.mark.parametrize("spec_name,arch", CASES)
def test_counts_and_outputs_agree_given_equal_weights(spec_name, arch):
    ours, theirs, report = paired(spec_name, arch)
    assert trainable(theirs) == report.trainable_params == report.formula_params
    batch = inputs(arch)
    with torch.no_grad():
        output = theirs(**batch).last_hidden_state
        torch.testing.assert_close(ours(**batch).last_hidden_state, output, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(build(arch)(**batch).last_hidden_state, output, rtol=1e-4, atol=1e-5)  # the adapters change the output


def test_vera_shared_projections_are_peft_draws_from_the_same_seed():
    """Same seed and shapes, same frozen A and B: the seed alone restores them."""
    ours, theirs, report = paired("vera", "llama")
    projections = report.handle.modules[0].projections
    assert torch.equal(projections.A, theirs.base_model.vera_A["default"])
    assert torch.equal(projections.B, theirs.base_model.vera_B["default"])
    assert not any(p.requires_grad for p in (projections.A, projections.B))


def test_vera_peft_stores_the_projections_by_default_the_reference_stores_the_seed():
    ours, theirs, report = paired("vera", "llama")
    theirs_state = peft.get_peft_model_state_dict(theirs)
    projections = {k: v for k, v in theirs_state.items() if "vera_A" in k or "vera_B" in k}
    assert sum(v.numel() for v in projections.values()) == R * (D + D)  # save_projection=True: r·(largest d_in + largest d_out)
    ours_state = adapter_state_dict(ours, "vera")
    assert set(ours_state) == set(adapter_parameters(ours, "vera"))  # b and d only; A, B come from the seed
    assert report.stored_params == report.formula_stored_params == sum(v.numel() for v in ours_state.values())
    kept = build("llama")
    report = instantiate(catalogue()["vera"], kept, r=R, save_projection=True)
    assert report.stored_params - report.trainable_params == R * (D + D) == report.formula_stored_params - report.formula_params


@pytest.mark.parametrize("method", ["dora", "vera", "adalora"])
def test_gpt2_peft_adapts_the_fused_c_attn(method):
    """peft's default GPT-2 target is c_attn (d -> 3d): one update for queries, keys and values together, where the
    records adapt W_q and W_v (its q and v column blocks) separately."""
    theirs = peft.get_peft_model(build("gpt2"), SPECS[method].config())
    adapted = sorted({n.split(".base_layer")[0] for n, _ in theirs.base_model.model.named_modules() if n.endswith(".base_layer")})
    assert adapted == [f"h.{i}.attn.c_attn" for i in range(L)]
    component = catalogue()[method].components[0]
    env = {"d": D, "d_in": D, "d_out": 3 * D, **{k: h.default for k, h in component.hyperparameters.items()}, **SPECS[method].ours}
    assert trainable(theirs) == L * evaluate(component.parameter_count.per_insertion, env)
    report = instantiate(catalogue()[method], build("gpt2"), **SPECS[method].ours)
    ran_at = {slot.position for slot in report.components[0].slots}  # where the reference ran: peft's placement (see SPECS)
    blocks = [j for j, position in enumerate(("attn.q", "attn.k", "attn.v")) if position in ran_at]
    ours_fused = {path for i in report.components[0].insertions for path in i.paths if "c_attn" in path}
    assert ours_fused == {f"h.{i}.attn.c_attn[{j}/3]" for i in range(L) for j in blocks}  # one update per block (q, k, v), not one for c_attn


@pytest.mark.parametrize("method", ["loha", "lokr", "oft"])
def test_gpt2_peft_rejects_conv1d(method):
    """peft 0.21 applies LoHa, LoKr and OFT to nn.Linear / nn.Conv only, not to transformers' Conv1D (GPT-2); the
    reference modules act on Conv1D's (in, out) layout like any projection."""
    with pytest.raises(TypeError, match="not supported"):
        peft.get_peft_model(build("gpt2"), SPECS[method].config())
    report = instantiate(catalogue()[method], build("gpt2"), **SPECS[method].ours)
    assert report.trainable_params == report.formula_params


def test_oft_exact_cayley_is_peft_with_the_skew_parameters_negated():
    """With use_cayley_neumann=False peft computes R = (I - Q)(I + Q)⁻¹ (the authors' batched code), the Cayley
    transform of -Q; the reference (and peft's own Neumann series) use (I + Q)(I - Q)⁻¹."""
    ours, theirs = build("llama"), build("llama")
    report = instantiate(catalogue()["oft"], ours, oft_block_size=8, use_cayley_neumann=False)
    theirs = peft.get_peft_model(theirs, peft.OFTConfig(oft_block_size=8, r=0, use_cayley_neumann=False))
    randomise(theirs)
    batch = inputs("llama")
    with torch.no_grad():
        expected = theirs(**batch).last_hidden_state
        pairs = [(m, peft_layer(theirs, i.paths[0]).oft_R["default"].weight) for i, m in zip(report.components[0].insertions, report.handle.modules)]
        for module, weight in pairs:
            module.skew.copy_(weight)
        assert not torch.allclose(ours(**batch).last_hidden_state, expected, rtol=1e-4, atol=1e-5)
        for module, weight in pairs:
            module.skew.copy_(-weight)
        torch.testing.assert_close(ours(**batch).last_hidden_state, expected, rtol=1e-4, atol=1e-5)


def test_adalora_peft_regulariser_is_the_mean_unsquared_frobenius_norm():
    """Zhang et al. Eq. 4 sums ‖PᵀP - I‖²_F + ‖QQᵀ - I‖²_F over the matrices; peft adds orth_reg_weight times the mean
    of the unsquared norms ‖·‖_F over every P and Q."""
    torch.manual_seed(0)
    ours, theirs = build("llama"), build("llama", head=True)
    theirs = peft.get_peft_model(theirs, peft.AdaLoraConfig(init_r=R, target_r=2, lora_alpha=8, total_step=10, orth_reg_weight=0.5, task_type="CAUSAL_LM"))
    randomise(theirs)
    batch = inputs("llama")
    with torch.no_grad():
        with_regulariser = theirs(**batch, labels=batch["input_ids"]).loss
        plain = theirs.base_model.model(**batch, labels=batch["input_ids"]).loss  # the wrapped model, without AdaLoraModel.forward
        factors = [p for n, p in theirs.named_parameters() if "lora_A" in n or "lora_B" in n]
        norms = [torch.linalg.norm((p @ p.T if p.shape[0] == R else p.T @ p) - torch.eye(R)) for p in factors]
        torch.testing.assert_close(with_regulariser - plain, 0.5 * torch.stack(norms).mean(), rtol=1e-4, atol=1e-6)
        # the paper's regulariser on the same P, Q (our module, weights copied) is a different number
        report = instantiate(catalogue()["adalora"], ours, init_r=R, alpha=8, at=["attn.q", "attn.v"])
        for insertion, module in zip(report.components[0].insertions, report.handle.modules):
            SPECS["adalora"].copy(module, _layer(peft_layer(theirs, "model." + insertion.paths[0])))
        paper = orthogonality_regulariser(report.handle.modules)
        squared = sum(n**2 for n in norms)
        torch.testing.assert_close(paper, squared, rtol=1e-4, atol=1e-5)
        assert not torch.isclose(0.5 * paper, with_regulariser - plain, rtol=1e-2)


def test_adalora_budget_schedule_equals_peft():
    theirs = peft.get_peft_model(build("t5"), peft.AdaLoraConfig(init_r=R, target_r=2, lora_alpha=8, tinit=3, tfinal=4, deltaT=2, total_step=30))
    allocator = theirs.base_model.rankallocator
    for step in range(0, 31):
        expected, _ = allocator.budget_schedule(step)
        assert budget_schedule(step, allocator.init_bgt, allocator.target_bgt, 3, 4, 30) == expected, step


def test_adalora_rank_allocation_equals_peft_given_equal_weights_and_gradients():
    """Same importance scores (sensitivity × uncertainty, EMA), same triplets kept (peft's RankAllocator)."""
    ours, theirs, report = paired("adalora", "t5")
    config = theirs.peft_config["default"]
    config.tinit, config.tfinal, config.deltaT, config.total_step = 0, 0, 1, 10
    allocator = RankAllocator(report.handle.modules, target_r=2, total_step=10, tinit=0, tfinal=0, delta_t=1, beta1=config.beta1, beta2=config.beta2)
    batch = inputs("t5")
    weights = torch.randn(2, 4, D, generator=torch.Generator().manual_seed(2))
    for step in (1, 2, 3):
        for model in (ours, theirs):
            model.zero_grad()
            (model(**batch).last_hidden_state * weights).sum().backward()
        theirs.base_model.update_and_allocate(step)
        budget = allocator.step(step)
        kept = [peft_layer(theirs, i.paths[0]).lora_E["default"].view(-1) != 0 for i in report.components[0].insertions]
        assert [m.rank_mask.tolist() for m in report.handle.modules] == [k.tolist() for k in kept]
        assert sum(m.rank for m in report.handle.modules) == budget < allocator.init_budget
    assert report.handle.modules[0].stored_parameter_count() == report.handle.modules[0].rank * (D + D + 1)
