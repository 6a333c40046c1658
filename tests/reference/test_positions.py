"""Resolution of positions through catalogue/architectures/*.yaml."""

import pytest
import torch

from peftref_kb.reference.positions import PositionError, load_architecture, resolve, supported_model_types
from peftref_kb.schema.vocabulary import VOCABULARIES

from matrix import catalogue
from tiny_models import ARCHITECTURES, CONFIGS, build

EXECUTABLE_POSITIONS = ["embedding", "attn", "attn.q", "attn.k", "attn.v", "attn.o", "ffn.in", "ffn.hidden", "ffn.out", "ffn", "block", "layer_norm", "params.all"]


def test_every_architecture_file_uses_vocabulary_positions():
    positions = set(VOCABULARIES["position"].values())
    for model_type in supported_model_types():
        arch = load_architecture(model_type)
        assert set(arch.positions) <= positions
        assert {"d", "d_ff", "n_heads", "d_head", "L", "vocab"} <= set(arch.data["dimensions"])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_position_resolves_on_every_layer(arch):
    model = build(arch)
    table = resolve(model, EXECUTABLE_POSITIONS)
    config = model.config
    layers = config.num_hidden_layers if hasattr(config, "num_hidden_layers") else config.num_layers
    for position in ("attn.q", "ffn", "ffn.hidden", "block"):
        assert {s.layer for s in table.slots[position]} == set(range(layers))
        for slot in table.slots[position]:
            assert model.get_submodule(slot.path) is not None
    assert table.dims["d"] == 32 and table.dims["d_ff"] == 64 and table.dims["n_heads"] == 4 and table.dims["d_head"] == 8
    for slot in table.slots["ffn.hidden"]:
        assert slot.d_in == slot.d_out == 64


def test_attn_is_the_union_of_self_and_cross_attention():
    model = build("bart")
    table = resolve(model, ["attn.v", "self_attn.v", "cross_attn.v"])
    assert len(table.slots["attn.v"]) == len(table.slots["self_attn.v"]) + len(table.slots["cross_attn.v"]) == 6
    assert all("encoder_attn" in s.path for s in table.slots["cross_attn.v"])


def test_gpt2_fused_qkv_is_reached_as_column_blocks():
    model = build("gpt2")
    table = resolve(model, ["attn.q", "attn.k", "attn.v"])
    for index, position in enumerate(["attn.q", "attn.k", "attn.v"]):
        for slot in table.slots[position]:
            assert slot.path.endswith("attn.c_attn") and slot.representation.chunk == (index, 3)
            assert (slot.d_in, slot.d_out) == (32, 32)


def test_t5_gated_ffn_has_gate_and_up_projections():
    v10, v11 = resolve(build("t5"), ["ffn.in"]), resolve(build("t5-v1_1"), ["ffn.in"])
    assert sorted({s.path.rsplit(".", 1)[1] for s in v10.slots["ffn.in"]}) == ["wi"]
    assert sorted({s.path.rsplit(".", 1)[1] for s in v11.slots["ffn.in"]}) == ["wi_0", "wi_1"]
    assert len(v11.slots["ffn.in"]) == 2 * len(v10.slots["ffn.in"]) == 8


def test_lm_head_models_resolve_through_base_model():
    import transformers

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(CONFIGS["llama"]())
    slots = resolve(model, ["attn.q"]).slots["attn.q"]
    assert [s.path for s in slots] == ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"]


def test_unknown_architecture_is_an_error():
    import transformers

    model = transformers.AutoModel.from_config(transformers.BioGptConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64, vocab_size=50))
    with pytest.raises(PositionError, match="no architecture data for model_type 'biogpt'"):
        resolve(model, ["attn.q"])


def test_position_matching_nothing_is_an_error_naming_it():
    with pytest.raises(PositionError, match="cross_attn.q.*matches no module.*crossattention"):
        resolve(build("gpt2"), ["cross_attn.q"])
    with pytest.raises(PositionError, match="params.bias"):
        resolve(build("llama"), ["params.bias"])
    with pytest.raises(PositionError, match="has no data for position 'side_network'"):
        resolve(build("bert"), ["side_network"])
    with pytest.raises(PositionError, match="not a position"):
        resolve(build("bert"), ["attention"])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_parameter_groups_resolve_to_tensors(arch):
    model = build(arch)
    positions = ["layer_norm", "params.ffn"] + (["params.cross_attn"] if model.config.is_encoder_decoder else [])
    table = resolve(model, positions)
    names = dict(model.named_parameters())
    for slots in table.slots.values():
        assert slots and all(s.site == "parameters" and s.parameter in names for s in slots)
        assert all(s.d_in * s.d_out == names[s.parameter].numel() for s in slots)
    assert len({s.parameter for s in table.slots["layer_norm"]}) == len(table.slots["layer_norm"])  # final norms once


@pytest.mark.parametrize("arch,extra", [("gpt2", {"add_cross_attention": True}), ("bert", {"is_decoder": True, "add_cross_attention": True})])
def test_optional_cross_attention_resolves_when_present(arch, extra):
    import transformers

    config = CONFIGS[arch]()
    for key, value in extra.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(config)
    table = resolve(model, ["cross_attn", "cross_attn.q", "cross_attn.k", "cross_attn.v", "cross_attn.o"])
    assert all(len(slots) == 2 for slots in table.slots.values())
    from peftref_kb.reference import instantiate

    report = instantiate(catalogue()["lora"], model, at=["cross_attn.q", "cross_attn.v"], r=4)
    assert report.trainable_params == report.formula_params == 2 * 2 * 4 * (32 + 32)
