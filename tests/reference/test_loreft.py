"""LoReFT equals h + Rᵀ(W h + b − R h) at the first p / last s real tokens of a block's output, and nothing elsewhere.

The expected values are computed here from the block output captured before the intervention (a hook registered
before instantiation runs first) and the unit's R, W, b; the positions from the attention mask with plain Python.
"""

import pytest
import torch

from peftref_kb.reference import instantiate
from peftref_kb.reference.inject import adapter_modules
from peftref_kb.reference.positions import resolve
from peftref_kb.reference.registry import slot_key

from matrix import catalogue
from tiny_models import build, inputs


def _first(output):
    return output[0] if isinstance(output, tuple) else output


def _batch(arch, left_pad):
    batch = inputs(arch, seq=6)
    if left_pad:
        batch["attention_mask"] = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])
    return batch


@pytest.mark.parametrize(
    "arch,prefix,suffix,tied,left_pad",
    [("llama", 3, 0, False, False), ("llama", 2, 2, False, True), ("bert", 3, 2, False, False), ("gpt2", 2, 3, True, True), ("t5", 1, 1, False, False)],
)
def test_loreft_is_the_closed_form_at_the_chosen_positions(arch, prefix, suffix, tied, left_pad):
    model = build(arch)
    slot = next(s for s in resolve(model, ["block"]).slots["block"] if s.layer == 1)  # encoder block 1 in T5
    block = model.get_submodule(slot.path)
    seen = {}
    block.register_forward_hook(lambda m, a, out: seen.__setitem__("h", _first(out).detach().clone()))
    report = instantiate(catalogue()["loreft"], model, r=4, prefix_positions=prefix, suffix_positions=suffix, tied_weights=tied)
    block.register_forward_hook(lambda m, a, out: seen.__setitem__("out", _first(out).detach().clone()))
    assert report.trainable_params == report.formula_params
    module = adapter_modules(model, "loreft")[f"loreft.intervention.{slot_key(slot)}"]
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if "original" not in name:
                param.add_(0.3 * torch.randn(param.shape, generator=generator))
        batch = _batch(arch, left_pad)
        model(**batch)
    h, mask = seen["h"], batch["attention_mask"]
    expected = h.clone()
    for b in range(h.shape[0]):
        real = [t for t in range(h.shape[1]) if mask[b, t]]
        groups = {"prefix": real[:prefix], "suffix": real[len(real) - suffix :] if suffix else []}
        for group in ("prefix", "suffix"):  # the suffix unit wins where both select a token (adapters' scatter order)
            if not groups[group]:
                continue
            unit = module.units["tied" if tied else group]
            rotation, w, bias = unit.projection.weight.detach(), unit.source.weight.detach(), unit.source.bias.detach()
            torch.testing.assert_close(rotation @ rotation.T, torch.eye(4), rtol=0, atol=1e-5)  # orthonormal rows
            for t in groups[group]:
                v = h[b, t]
                expected[b, t] = v + rotation.T @ (w @ v + bias - rotation @ v)
    torch.testing.assert_close(seen["out"], expected, rtol=1e-5, atol=1e-5)
    assert sorted(module.units) == (["tied"] if tied else [g for g, n in (("prefix", prefix), ("suffix", suffix)) if n])


def test_r_stays_orthonormal_while_training():
    model = build("llama")
    report = instantiate(catalogue()["loreft"], model, r=4)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        model(**inputs("llama")).last_hidden_state.pow(2).mean().backward()
        optimizer.step()
    for module in report.handle.modules:
        for unit in module.units.values():
            rotation = unit.projection.weight
            torch.testing.assert_close(rotation @ rotation.T, torch.eye(4), rtol=0, atol=1e-5)


def test_default_counts_units_that_act():
    # adapters v1.3.0 builds an unused suffix unit when suffix_positions = 0; the record counts only acting units
    model = build("llama")
    report = instantiate(catalogue()["loreft"], model, r=4)
    d, L = 32, 2
    assert report.trainable_params == report.formula_params == L * (4 * (d + d) + 4)
    assert all(list(m.units) == ["prefix"] for m in report.handle.modules)


def test_generation_with_a_kv_cache_edits_the_prompt_only():
    import transformers

    from tiny_models import CONFIGS

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(CONFIGS["llama"]()).eval()
    instantiate(catalogue()["loreft"], model, r=4, suffix_positions=1)
    batch = inputs("llama")
    out = model.generate(**batch, max_new_tokens=3, do_sample=False, pad_token_id=0)  # cached steps: the mask is longer than h
    with torch.no_grad():
        first = model(**batch).logits[:, -1].argmax(-1)
    assert out.shape[1] == batch["input_ids"].shape[1] + 3
    assert torch.equal(out[:, batch["input_ids"].shape[1]], first)
