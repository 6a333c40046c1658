"""Issue 16's coverage: a tiny model of every bundled model type.

Oracle: HF peft's ``LoraConfig(target_modules="all-linear")``.  peft's all-linear is every nn.Linear / Conv1D
except the output layer; ours is every linear of the attention and FFN sub-layers.  So on each type the modules
peft targets inside the stacks' layers must be exactly ours, with exactly peft's LoRA parameter count there; the
only modules peft may target beyond ours lie outside the layers (BERT's pooler, ELECTRA's embeddings_project).
Known gaps are listed in ``PEFT_ONLY_INSIDE`` with the reason; the test fails if a gap closes or a new one opens.
"""

import copy

import pytest
import torch

from peftref_kb.reference import instantiate
from peftref_kb.reference.positions import PositionError, load_architecture, resolve
from tiny_zoo import ZOO, build, config, inputs

peft = pytest.importorskip("peft")

# Inside the layers, peft 0.21 also adapts what our all-linear does not (yet) resolve:
PEFT_ONLY_INSIDE = {
    # transformers 5 fuses routed experts into 3-D parameters (peft wraps them as parameters) and the router
    "mixtral": {"mlp.experts", "mlp.gate"},
    "qwen3_moe": {"mlp.experts", "mlp.gate"},
    "qwen2_moe": {"mlp.shared_expert_gate"},  # a d -> 1 gate on the shared expert (a router, not an FFN projection)
}


def _lora_paths(model, prefix="base_model.model."):
    return {n[len(prefix):]: sum(p.numel() for k, p in m.named_parameters() if "lora_" in k)
            for n, m in model.named_modules() if n.startswith(prefix) and hasattr(m, "lora_A") and len(m.lora_A) and not n.endswith("base_layer")}


def _layers_prefixes(model_type):
    arch = load_architecture(model_type)
    return [spec["layers"].split(",")[0] + "." for spec in arch.stacks.values()]


def _generic(path: str, prefixes) -> str:
    for prefix in prefixes:
        if path.startswith(prefix):
            return path[len(prefix):].split(".", 1)[1]
    return path


@pytest.mark.parametrize("model_type", ZOO)
def test_lora_all_linear_equals_peft(model_type):
    model = build(model_type)
    peft_model = peft.get_peft_model(copy.deepcopy(model), peft.LoraConfig(r=2, lora_alpha=4, target_modules="all-linear"))
    theirs = _lora_paths(peft_model)
    report = instantiate("lora", model, at=["all-linear"], r=2, alpha=4)
    ours = {row.paths[0]: row.trainable_params for c in report.components for row in c.insertions}
    prefixes = _layers_prefixes(model_type)
    inside = {p for p in theirs if any(p.startswith(x) for x in prefixes)}
    gaps = {_generic(p, prefixes) for p in inside - set(ours)}
    assert gaps == PEFT_ONLY_INSIDE.get(model_type, set()), (model_type, sorted(gaps))
    assert set(ours) <= set(theirs), sorted(set(ours) - set(theirs))
    for path, count in ours.items():
        assert count == theirs[path], (path, count, theirs[path])
    if model_type not in PEFT_ONLY_INSIDE:
        outside = sum(v for p, v in theirs.items() if p not in inside)
        assert report.trainable_params + outside == sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    with torch.no_grad():
        model(**inputs(model_type))


# Where a type has no token embeddings (ViT, Whisper's audio encoder reads features), prompt tuning goes where the
# architecture data says or is refused with a message naming the position.
@pytest.mark.parametrize("model_type", ZOO)
@pytest.mark.parametrize("method_id", ["ia3", "prompt-tuning"])
def test_ia3_and_prompt_tuning_instantiate(model_type, method_id, catalogue):
    method = catalogue[method_id]
    model = build(model_type)
    hp = {"l": 3} if method_id == "prompt-tuning" else {}
    needs = {p for c in method.components for p in c.positions.value}
    arch = load_architecture(model_type)
    fused = [p for p in needs for q in (f"self_attn{p[4:]}",) if p.startswith("attn.") and any("fused" in e for e in arch.positions.get(q, {}).values() if isinstance(e, dict))]
    moe = "ffn.hidden" in needs and "mlp.experts" in PEFT_ONLY_INSIDE.get(model_type, ())  # routed experts: 3-D parameters
    if "embedding" in needs and "embedding" not in arch.positions or fused or moe:
        with pytest.raises(PositionError):
            instantiate(method, model, **hp)
        return
    report = instantiate(method, model, **hp)
    for component in report.components:
        assert component.formula_params == component.trainable_params, (component.id, component.formula_params, component.trainable_params)
    x = inputs(model_type)
    with torch.no_grad():
        model(**x)


def test_group_refuses_on_model_without_projections():
    with pytest.raises(PositionError, match="not a position"):
        resolve(build("llama"), ["all-linears"])


def test_gqa_fused_qkv_refused_not_misread():
    model = build("phi3", num_key_value_heads=2)
    with pytest.raises(PositionError, match="widths"):
        resolve(model, ["attn.q"])
    assert len(resolve(model, ["all-linear"]).all()) == 8  # qkv, o, gate_up, down per layer


def test_interleaved_qkv_refused_for_one_block():
    with pytest.raises(PositionError, match="fuses several projections"):
        resolve(build("gpt_neox"), ["attn.v"])


def test_albert_layer_is_reported_shared():
    rows = resolve(build("albert"), ["attn.q"]).rows()
    assert rows[0]["shared"] == ["encoder"] and rows[0]["count"] == 1


def test_family_file_serves_listed_types():
    assert load_architecture("mistral").file == load_architecture("llama").file
    assert load_architecture("mistral").model_type == "mistral"
    assert config("mistral").model_type == "mistral"


# Prefix keys and values have the key projection's width (n_kv_heads · d_head under grouped-query attention).
PREFIX_REFUSED = {"gpt_neox", "bloom", "falcon"}  # fused q/k/v not resolvable into blocks (see their architecture notes)
PREFIX_GAPS = {"deberta-v2"}  # DisentangledSelfAttention does not go through transformers' attention function


@pytest.mark.parametrize("model_type", [t for t in ZOO if t not in PREFIX_GAPS])
@pytest.mark.parametrize("reparam_hidden", [0, 8])
def test_prefix_tuning_counts_equal_formula(model_type, reparam_hidden, catalogue):
    model = build(model_type)
    if model_type in PREFIX_REFUSED:
        with pytest.raises(PositionError, match="fuses several projections"):
            instantiate(catalogue["prefix-tuning"], model, l=3, reparam_hidden=reparam_hidden)
        return
    report = instantiate(catalogue["prefix-tuning"], model, l=3, reparam_hidden=reparam_hidden)
    (component,) = report.components
    assert (component.formula_params, component.formula_stored_params) == (component.trainable_params, component.stored_params)
    with torch.no_grad():
        model(**inputs(model_type))


def test_gqa_prefix_width_is_kv_width():
    report = instantiate("prefix-tuning", build("llama"), l=3, reparam_hidden=0)
    assert {row.d_out for row in report.components[0].insertions} == {2 * 8}  # 2 key/value heads of 8, not d = 32


def test_base_count_is_the_backbone_under_every_auto_class():
    import transformers

    from peftref_kb.reference.counts import base_parameter_count

    cfg = config("llama")
    cfg.tie_word_embeddings = False
    torch.manual_seed(0)
    backbone, causal = transformers.AutoModel.from_config(cfg), transformers.AutoModelForCausalLM.from_config(cfg)
    assert base_parameter_count(backbone) == base_parameter_count(causal) == sum(p.numel() for p in backbone.parameters())
    assert sum(p.numel() for p in causal.parameters()) == base_parameter_count(causal) + cfg.vocab_size * cfg.hidden_size


def test_hyperparameter_aliases_set_the_declared_name():
    report = instantiate("lora", build("llama"), at=["attn.q"], rank=2, lora_alpha=4)
    assert report.components[0].hyperparameters["r"] == 2 and report.components[0].hyperparameters["alpha"] == 4
    report = instantiate("prefix-tuning", build("gpt2"), num_virtual_tokens=3, reparam_hidden=0)
    assert report.components[0].hyperparameters["l"] == 3
