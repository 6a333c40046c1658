"""Instantiated models under FSDP2 and DDP: 2 gloo processes against one process on the same global batch.

One spawn of 2 CPU processes runs every scenario of ``distributed_worker.py`` (LoRA, (IA)³, prefix tuning under
FSDP2 and DDP; activation checkpointing; bf16 mixed precision; a sharded checkpoint resumed); the tests compare its
results with the single-process reference computed here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch

import distributed_worker as worker
from peftref_kb.reference import distributed
from peftref_kb.reference.inject import adapter_parameters, adapter_state_dict, load_adapter_state_dict

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(), reason="torch.distributed with gloo is needed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def spawned(tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed")
    torch.multiprocessing.spawn(worker.run, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return out, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def references():
    return {m: worker.single(m) for m in worker.METHODS}


def _load(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.parametrize("method_id", list(worker.METHODS))
@pytest.mark.parametrize("strategy", ["fsdp2", "ddp"])
def test_losses_and_gathered_adapter_equal_one_process(spawned, references, method_id, strategy):
    out, result = spawned
    losses, state = references[method_id]
    assert len(losses) == worker.STEPS and losses[0] != losses[-1]
    for theirs, ours in zip(result[f"{method_id}/{strategy}"]["losses"], losses):
        assert abs(theirs - ours) <= 1e-5, (method_id, strategy, result[f"{method_id}/{strategy}"]["losses"], losses)
    gathered = _load(out / f"{method_id}-{strategy}.safetensors")
    assert set(gathered) == set(state) and gathered
    for name, value in state.items():
        assert gathered[name].shape == value.shape
        torch.testing.assert_close(gathered[name], value, rtol=0, atol=1e-5)
    start = adapter_state_dict(worker.build(method_id), method_id)
    assert all(not torch.equal(start[n], gathered[n]) for n in start)  # every adapter tensor trained


@pytest.mark.parametrize("method_id", list(worker.METHODS))
@pytest.mark.parametrize("strategy", ["fsdp2", "ddp"])
def test_base_stays_frozen_and_bit_identical(spawned, method_id, strategy):
    out, _ = spawned
    fresh = worker.build(method_id)
    added = {id(p) for p in adapter_parameters(fresh, method_id).values()}
    expected = {n: p.detach() for n, p in fresh.named_parameters() if id(p) not in added}
    trained = _load(out / f"{method_id}-{strategy}-base.safetensors")
    assert set(trained) == set(expected)
    for name, value in expected.items():
        assert torch.equal(trained[name], value), f"base weight {name} changed under {strategy}"


def test_fsdp2_units_hold_each_layers_adapters(spawned):
    _, result = spawned
    for method_id in ("lora", "ia3"):
        units = result[f"{method_id}/fsdp2"]["units"]
        assert units
        for name, unit in units.items():
            layer = next(part for part in name.split(".")[2].split("_") if part.isdigit())
            assert unit == f"model.layers.{layer}", (name, unit)
        assert {u for u in units.values()} == {"model.layers.0", "model.layers.1"}
    prefix = result["prefix-tuning/fsdp2"]["units"]
    assert prefix and all(unit == "" for unit in prefix.values())  # the reparametrisation MLP is shared by every layer: the root unit


def test_fsdp2_unit_ownership_in_process():
    """Without sharding: each adapter module is a submodule of the layer it acts on; shared ones of the root."""
    model = worker.build("lora")
    layers = distributed.layers(model)
    for name, param in adapter_parameters(model, "lora").items():
        assert sum(any(p is param for p in layer.parameters()) for layer in layers) == 1, name
    model = worker.build("prefix-tuning")
    shared = [n for n in adapter_parameters(model, "prefix-tuning") if ".shared." in n]
    assert shared and not any(p is q for layer in distributed.layers(model) for p in layer.parameters() for q in adapter_parameters(model, "prefix-tuning").values())


def test_activation_checkpointing_equals_plain(spawned, references):
    _, result = spawned
    plain = references["lora"][0]
    checkpointed, _ = worker.single("lora", checkpointing=True)
    for a, b, c in zip(plain, checkpointed, result["lora/fsdp2+checkpointing"]["losses"]):
        assert abs(a - b) <= 1e-6 and abs(a - c) <= 1e-5


def test_fsdp2_bf16_mixed_precision_trains_fp32_shards(spawned, references):
    _, result = spawned
    run = result["lora/fsdp2+bf16"]
    assert run["param_dtypes"] == ["torch.float32"]  # sharded (optimiser) parameters stay fp32; compute is bf16
    fp32 = references["lora"][0]
    assert all(abs(a - b) < 5e-2 for a, b in zip(run["losses"], fp32)) and run["losses"] != fp32


def test_resume_from_sharded_checkpoint_continues_identically(spawned):
    _, result = spawned
    run = result["lora/resume"]
    assert len(run["resumed"]) == 2
    for a, b in zip(run["resumed"], run["continued"]):
        assert abs(a - b) <= 1e-7, run


def test_single_process_checkpoint_round_trip(tmp_path):
    model = worker.build("ia3")
    optimizer = worker.optimizer_for(model)
    data = worker.batches()
    worker.train(model, optimizer, data, 1)
    distributed.save_checkpoint(str(tmp_path / "ckpt"), model, optimizer)
    continued = worker.train(model, optimizer, data, 2)
    again = worker.build("ia3")
    optimizer = worker.optimizer_for(again)
    data = worker.batches()
    next(data)
    distributed.load_checkpoint(str(tmp_path / "ckpt"), again, optimizer)
    assert worker.train(again, optimizer, data, 2) == continued


def test_load_adapter_state_dict_round_trip():
    trained = worker.build("lora")
    worker.train(trained, worker.optimizer_for(trained), worker.batches(), 1)
    fresh = worker.build("lora")
    state = distributed.adapter_state_dict(trained, "lora")
    load_adapter_state_dict(fresh, state, "lora")
    ids = next(worker.batches())
    with torch.no_grad():
        torch.testing.assert_close(fresh(input_ids=ids).logits, trained(input_ids=ids).logits, rtol=0, atol=0)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiled_model_forward_backward_equals_eager(backend):
    if backend == "inductor" and not (shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
        pytest.skip("inductor on CPU needs a C++ compiler (none on PATH)")
    if backend == "inductor" and os.environ.get("PEFTREF_TEST_INDUCTOR") != "1":
        pytest.skip("inductor's C++ kernel builds take minutes on a small CPU; set PEFTREF_TEST_INDUCTOR=1 to run")
    eager, compiled_base = worker.build("lora", layers=1), worker.build("lora", layers=1)
    compiled = torch.compile(compiled_base, backend=backend)
    ids = next(worker.batches())
    loss_eager = eager(input_ids=ids, labels=ids).loss
    loss_compiled = compiled(input_ids=ids, labels=ids).loss
    loss_eager.backward()
    loss_compiled.backward()
    torch.testing.assert_close(loss_compiled, loss_eager, rtol=1e-5, atol=1e-5)
    for (name, a), b in zip(adapter_parameters(eager, "lora").items(), adapter_parameters(compiled, "lora").values()):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5, msg=name)



def test_example_script_two_processes(spawned):
    """The README's run of examples/train_fsdp.py (its main(), in the 2 spawned processes): FSDP2, bf16 policy,
    activation checkpointing, gathered save."""
    from safetensors.torch import load_file

    out, result = spawned
    printed = result["example"]
    assert "rank 0/2 fsdp2: peak RSS" in printed and "rank 1/2 fsdp2: peak RSS" in printed and "step time" in printed, printed
    state = load_file(str(out / "example" / "adapter.safetensors"))
    assert state and all(k.startswith("lora.lora.") for k in state)
    assert all(v.dtype == torch.float32 for v in state.values())
