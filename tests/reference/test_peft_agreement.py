"""Agreement with Hugging Face peft for LoRA, IA3, prompt tuning and prefix tuning.

Where peft follows the paper (``agrees`` in peftref_kb/reference/peft_deviations.yaml) both train the same number
of parameters and, given the same weights, compute the same outputs.  Where it deviates, peft's trainable count is
pinned by the formula in that file.
"""

from pathlib import Path

import pytest
import torch
import yaml

peft = pytest.importorskip("peft")

from matrix import catalogue  # noqa: E402
from peftref_kb.reference import instantiate  # noqa: E402
from peftref_kb.reference.inject import adapter_parameters  # noqa: E402
from peftref_kb.reference.positions import load_architecture, model_dimensions  # noqa: E402
from peftref_kb.schema.formula import evaluate  # noqa: E402

from tiny_models import ARCHITECTURES, CONFIGS, build, inputs, peft_task_type  # noqa: E402

DEVIATIONS = yaml.safe_load((Path(__import__("peftref_kb.reference", fromlist=["x"]).__file__).parent / "peft_deviations.yaml").read_text())["methods"]
SMALL = {"r": 4, "alpha": 8, "l": 3}


def model_type(arch):
    return CONFIGS[arch]().model_type


def peft_config(method, arch):
    task = peft_task_type(arch)
    return {
        "lora": lambda: peft.LoraConfig(r=4, lora_alpha=8),
        "ia3": lambda: peft.IA3Config(),
        "prompt-tuning": lambda: peft.PromptTuningConfig(num_virtual_tokens=3, task_type=task),
        "prefix-tuning": lambda: peft.PrefixTuningConfig(num_virtual_tokens=3, task_type=task),
    }[method]()


def randomise(model, method_id, seed=3):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in adapter_parameters(model, method_id).values():
            param.add_(0.2 * torch.randn(param.shape, generator=generator))


def trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def cases():
    out = []
    for method, data in DEVIATIONS.items():
        for arch in ARCHITECTURES:
            out.append((method, arch))
    return out


@pytest.mark.parametrize("method,arch", cases())
def test_trainable_counts_agree_or_deviation_is_pinned(method, arch):
    data = DEVIATIONS[method]
    head = method in ("prompt-tuning", "prefix-tuning")
    ours, theirs = build(arch, head=head), build(arch, head=head)
    report = instantiate(catalogue()[data["record"]], ours, reparam_hidden=0, **{k: v for k, v in SMALL.items() if k in _hp_names(data["record"])}) if method == "prefix-tuning" else \
        instantiate(catalogue()[data["record"]], ours, **{k: v for k, v in SMALL.items() if k in _hp_names(data["record"])})
    theirs = peft.get_peft_model(theirs, peft_config(method, arch))
    if model_type(arch) in data["agrees"]:
        assert trainable(theirs) == report.trainable_params == report.formula_params
        return
    deviation = next(d for d in data["deviations"] if model_type(arch) in d["model_types"])
    config = CONFIGS[arch]()
    env = {**model_dimensions(config, load_architecture(config.model_type)), **SMALL}
    assert trainable(theirs) == evaluate(deviation["peft_trainable"], env), deviation["what"]
    assert trainable(theirs) != report.trainable_params or not deviation["same_outputs"] or method == "lora"


def _hp_names(method_id):
    return {k for c in catalogue()[method_id].components for k in c.hyperparameters}


def _peft_module(peft_model, path):
    return peft_model.base_model.model.get_submodule(path) if hasattr(peft_model.base_model, "model") else peft_model.get_submodule(path)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if model_type(a) in DEVIATIONS["lora"]["agrees"]])
def test_lora_outputs_equal_given_equal_weights(arch):
    ours, theirs = build(arch), build(arch)
    report = instantiate(catalogue()["lora"], ours, r=4, alpha=8)
    randomise(ours, "lora")
    theirs = peft.get_peft_model(theirs, peft.LoraConfig(r=4, lora_alpha=8))
    with torch.no_grad():
        for insertion, module in zip(report.components[0].insertions, report.handle.modules):
            target = _peft_module(theirs, insertion.paths[0])
            target.lora_A["default"].weight.copy_(module.down.T)
            target.lora_B["default"].weight.copy_(module.up.T)
        batch = inputs(arch)
        torch.testing.assert_close(ours(**batch).last_hidden_state, theirs(**batch).last_hidden_state, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if model_type(a) in DEVIATIONS["ia3"]["agrees"]])
def test_ia3_outputs_equal_given_equal_weights(arch):
    ours, theirs = build(arch), build(arch)
    report = instantiate(catalogue()["ia3"], ours)
    randomise(ours, "ia3")
    theirs = peft.get_peft_model(theirs, peft.IA3Config())
    with torch.no_grad():
        for insertion, module in zip(report.components[0].insertions, report.handle.modules):
            target = _peft_module(theirs, insertion.paths[0])
            vector = target.ia3_l["default"]
            vector.copy_(module.scale.view(vector.shape))
        batch = inputs(arch)
        torch.testing.assert_close(ours(**batch).last_hidden_state, theirs(**batch).last_hidden_state, rtol=1e-4, atol=1e-5)


def _logits(output):
    return output.logits if hasattr(output, "logits") else output.last_hidden_state


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_prompt_tuning_outputs_equal_given_equal_weights(arch):
    ours, theirs = build(arch, head=True), build(arch, head=True)
    report = instantiate(catalogue()["prompt-tuning"], ours, l=3)
    randomise(ours, "prompt-tuning")
    theirs = peft.get_peft_model(theirs, peft_config("prompt-tuning", arch))
    prompt = report.handle.modules[0].prompt
    with torch.no_grad():
        theirs.prompt_encoder["default"].embedding.weight[: prompt.shape[0]].copy_(prompt)
        batch = inputs(arch)
        torch.testing.assert_close(_logits(ours(**batch)), _logits(theirs(**batch)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if model_type(a) in DEVIATIONS["prefix-tuning"]["agrees"]])
def test_prefix_tuning_outputs_equal_given_equal_weights_and_positions(arch):
    ours, theirs = build(arch, head=True), build(arch, head=True)
    report = instantiate(catalogue()["prefix-tuning"], ours, l=3, reparam_hidden=0)
    theirs = peft.get_peft_model(theirs, peft_config("prefix-tuning", arch))
    layers = len(report.components[0].insertions)
    weight = theirs.prompt_encoder["default"].embedding.weight  # (l, L * 2 * d): layer i's keys, then its values
    with torch.no_grad():
        for insertion, prefix in zip(report.components[0].insertions, report.handle.modules):
            layer = int(next(part for part in insertion.key.split("_") if part.isdigit()))
            kv = weight.view(3, layers * 2, -1)
            prefix.keys.copy_(kv[:, 2 * layer])
            prefix.values.copy_(kv[:, 2 * layer + 1])
        batch = inputs(arch)
        # peft's past_key_values number the input's positions from l (and peft offsets explicit position_ids by l);
        # ours keeps them, so our model is given the shifted positions peft uses.
        start = 3 + (2 if model_type(arch) == "roberta" else 0)  # l = 3; RoBERTa's positions start after padding_idx
        positions = torch.arange(start, start + batch["input_ids"].shape[1]).expand_as(batch["input_ids"])
        valid = batch["attention_mask"].bool()  # OPT numbers padded positions its own way; compare real tokens
        torch.testing.assert_close(_logits(ours(**batch, position_ids=positions))[valid], _logits(theirs(**batch))[valid], rtol=1e-4, atol=1e-5)
