"""Training scenarios run by 2 gloo processes (and, for the references, by one process) for test_distributed.py.

``run(rank, world, port, out)`` is the spawn target: every scenario runs on both ranks, rank 0 writes the results
(losses, FSDP unit of each adapter parameter, gathered adapter tensors, base checksums) to ``out`` as JSON and
safetensors files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import transformers

from peftref_kb import load_catalogue
from peftref_kb.reference import distributed, instantiate
from peftref_kb.reference.inject import adapter_parameters

VOCAB, GLOBAL_BATCH, SEQ, STEPS = 61, 4, 6, 3
METHODS = {"lora": {"r": 4, "alpha": 8}, "ia3": {}, "prefix-tuning": {"l": 3, "reparam_hidden": 8}}


def build(method_id: str, layers: int = 2):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                                      vocab_size=VOCAB, max_position_embeddings=32)
    config._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(config)
    instantiate(load_catalogue(lint_records=False)[method_id], model, **METHODS[method_id])
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():  # move off the identity so every adapter tensor gets a gradient from step 1
        for param in adapter_parameters(model, method_id).values():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model.train()


def batches(rank: int = 0, world: int = 1):
    generator = torch.Generator().manual_seed(7)
    for _ in range(2 * STEPS):
        ids = torch.randint(0, VOCAB, (GLOBAL_BATCH, SEQ), generator=generator)
        per = GLOBAL_BATCH // world
        yield ids[rank * per : (rank + 1) * per]


def train(model, optimizer, data, steps: int, world: int = 1) -> list[float]:
    losses = []
    for _ in range(steps):
        ids = next(data)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        value = loss.detach().clone()
        if world > 1:
            torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.AVG)
        losses.append(value.item())
    return losses


def optimizer_for(model):
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)


def base_tensors(model, method_id: str) -> dict[str, torch.Tensor]:
    """Every frozen base tensor, full (gathered from the shards; a collective), on CPU."""
    from torch.distributed.tensor import DTensor

    added = {id(p) for p in adapter_parameters(model, method_id).values()}
    out = {}
    for name, param in distributed._unwrap(model).named_parameters():
        if id(param) in added:
            continue
        assert not param.requires_grad, f"base parameter {name} is trainable"
        full = param.full_tensor() if isinstance(param, DTensor) else param
        out[name] = full.detach().to("cpu", copy=True).contiguous()
    return out


def scenario(method_id: str, strategy: str, rank: int, world: int, checkpointing: bool = False, mixed: bool = False):
    model = build(method_id)
    if checkpointing:
        distributed.checkpoint_layers(model)
    if strategy == "fsdp2":
        distributed.shard(model, mixed_precision=mixed)
    elif strategy == "ddp":
        model = torch.nn.parallel.DistributedDataParallel(model)
    return model


def units(model, method_id: str) -> dict[str, str]:
    names = {id(m): n for n, m in model.named_modules()}
    return {name: names.get(id(distributed.unit_of(model, p)), "<none>") for name, p in adapter_parameters(model, method_id).items()}


def run(rank: int, world: int, port: int, out: str) -> None:
    from safetensors.torch import save_file

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    torch.set_num_threads(1)
    result: dict = {}
    try:
        for method_id in METHODS:
            for strategy in ("fsdp2", "ddp"):
                model = scenario(method_id, strategy, rank, world)
                losses = train(model, optimizer_for(model), batches(rank, world), STEPS, world)
                key = f"{method_id}/{strategy}"
                result[key] = {"losses": losses}
                base = base_tensors(model, method_id)
                if strategy == "fsdp2":
                    result[key]["units"] = units(model, method_id)
                state = distributed.adapter_state_dict(model, method_id)
                if rank == 0:
                    save_file({k: v.contiguous() for k, v in state.items()}, str(Path(out) / f"{method_id}-{strategy}.safetensors"))
                    save_file(base, str(Path(out) / f"{method_id}-{strategy}-base.safetensors"))
        # activation checkpointing and bf16 mixed precision under FSDP2
        model = scenario("lora", "fsdp2", rank, world, checkpointing=True)
        result["lora/fsdp2+checkpointing"] = {"losses": train(model, optimizer_for(model), batches(rank, world), STEPS, world)}
        model = scenario("lora", "fsdp2", rank, world, mixed=True)
        dtypes = sorted({str(p.dtype) for p in adapter_parameters(model, "lora").values()})
        result["lora/fsdp2+bf16"] = {"losses": train(model, optimizer_for(model), batches(rank, world), STEPS, world), "param_dtypes": dtypes}
        # resume from a sharded checkpoint of adapter + optimiser state
        checkpoint = str(Path(out) / "dcp")
        model = scenario("lora", "fsdp2", rank, world)
        optimizer, data = optimizer_for(model), batches(rank, world)
        first = train(model, optimizer, data, 2, world)
        distributed.save_checkpoint(checkpoint, model, optimizer)
        continued = train(model, optimizer, data, 2, world)
        model = scenario("lora", "fsdp2", rank, world)
        with torch.no_grad():  # a different starting point: the checkpoint must overwrite it
            for param in adapter_parameters(model, "lora").values():
                param.mul_(0.5)
        optimizer, data = optimizer_for(model), batches(rank, world)
        for _ in range(2):
            next(data)
        distributed.load_checkpoint(checkpoint, model, optimizer)
        resumed = train(model, optimizer, data, 2, world)
        result["lora/resume"] = {"first": first, "continued": continued, "resumed": resumed}
        # the README's example script, in these processes (RANK / WORLD_SIZE as torchrun sets them)
        os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
        import contextlib
        import importlib.util
        import io

        spec = importlib.util.spec_from_file_location("train_fsdp", Path(__file__).resolve().parents[2] / "examples" / "train_fsdp.py")
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            example.main(["--strategy", "fsdp2", "--method", "lora", "--bf16", "--checkpointing", "--steps", "3", "--batch", "2", "--seq", "8",
                          "--save", str(Path(out) / "example")])
        result["example"] = printed.getvalue()
        if rank == 0:
            (Path(out) / "result.json").write_text(json.dumps(result))
    finally:
        torch.distributed.destroy_process_group()


def single(method_id: str, checkpointing: bool = False) -> tuple[list[float], dict[str, torch.Tensor]]:
    """The one-process reference on the whole global batch."""
    model = build(method_id)
    if checkpointing:
        distributed.checkpoint_layers(model)
    losses = train(model, optimizer_for(model), batches(), STEPS)
    return losses, distributed.adapter_state_dict(model, method_id)
