"""Train a catalogue record's adapters on N processes under FSDP2 or DDP; print per-rank memory and step time.

    torchrun --nproc_per_node 2 examples/train_fsdp.py --strategy fsdp2 --method lora
    torchrun --nproc_per_node 2 examples/train_fsdp.py --strategy ddp --method ia3 --steps 5
    accelerate launch --config_file examples/accelerate_fsdp2.yaml examples/train_fsdp.py --strategy accelerate --method lora

CPU processes talk through gloo, GPUs (one per process, ``LOCAL_RANK``) through NCCL; any N that divides the global
batch.  ``--config`` is a JSON file of a transformers config (``model_type`` plus its fields); without it a small
LLaMA-shaped model is built.  The base model is random (no downloads); only the method's parameters train.
With ``--save DIR`` the full adapter tensors are gathered from the shards onto rank 0 and written as
``DIR/adapter.safetensors`` (canonical names); with ``--dcp DIR`` a sharded checkpoint of adapter and optimiser state
is written by every rank.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import torch
import torch.distributed as dist
import transformers

import peftref_kb
from peftref_kb.reference import distributed

DEFAULT_CONFIG = {"model_type": "llama", "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
                  "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 256}


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", choices=["fsdp2", "ddp", "accelerate", "none"], default="fsdp2")
    parser.add_argument("--method", default="lora", help="record id (default lora)")
    parser.add_argument("--catalogue", default=None)
    parser.add_argument("--config", default=None, help="JSON file of a transformers config")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter override (repeatable)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8, help="global batch (split evenly over the processes)")
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--bf16", action="store_true", help="FSDP2 mixed precision: bf16 compute, fp32 gradient reduction")
    parser.add_argument("--checkpointing", action="store_true", help="activation checkpointing of every layer")
    parser.add_argument("--compile", action="store_true", help="torch.compile the adapted model")
    parser.add_argument("--save", default=None, help="directory for the gathered adapter (rank 0)")
    parser.add_argument("--dcp", default=None, help="directory for a sharded adapter + optimiser checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def build(args, device):
    config = json.loads(Path(args.config).read_text()) if args.config else dict(DEFAULT_CONFIG)
    config = transformers.AutoConfig.for_model(**config)
    torch.manual_seed(args.seed)  # every rank builds the same base and the same adapters
    with torch.device(device):
        model = transformers.AutoModelForCausalLM.from_config(config)
    overrides = dict(item.split("=", 1) for item in args.set)
    method = peftref_kb.load_catalogue(args.catalogue, lint_records=False)[args.method]
    report = peftref_kb.instantiate(method, model, **{k: _value(v) for k, v in overrides.items()})
    return model.train(), report, config


def main(argv=None) -> None:
    args = parse(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    accelerator, owned_group = None, False
    if args.strategy == "accelerate":
        from accelerate import Accelerator

        accelerator = Accelerator()  # joins the processes; FSDP2 (as `accelerate launch --config_file` says) wraps in prepare()
        device = accelerator.device
    else:
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        device = torch.device("cuda") if cuda else torch.device("cpu")
        if args.strategy != "none" and not dist.is_initialized():  # already joined when called from a spawned worker
            dist.init_process_group("nccl" if cuda else "gloo")
            owned_group = True
    if args.batch % world:
        raise SystemExit(f"error: --batch {args.batch} is not divisible by {world} processes")
    model, report, config = build(args, device)
    if args.checkpointing:
        distributed.checkpoint_layers(model)
    if args.strategy == "fsdp2":
        distributed.shard(model, mixed_precision=args.bf16)
    elif args.strategy == "ddp":
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    if accelerator is not None:
        model, optimizer = accelerator.prepare(model, optimizer)
        if rank == 0:
            from torch.distributed.fsdp import FSDPModule

            units = sum(isinstance(m, FSDPModule) for m in model.modules())
            print(f"accelerate: {accelerator.distributed_type}, {type(model).__name__}, {units} FSDP2 units", flush=True)
    if args.compile:
        model = torch.compile(model)
    per = args.batch // world
    generator = torch.Generator().manual_seed(args.seed + 1)
    # one fixed global batch of random sequences, to memorise (the loss falls); each rank takes its rows
    ids = torch.randint(0, config.vocab_size, (args.batch, args.seq), generator=generator)[rank * per : (rank + 1) * per].to(device)
    times, losses = [], []
    for step in range(args.steps):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        accelerator.backward(loss) if accelerator else loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        value = loss.detach().clone()
        if dist.is_initialized():
            dist.all_reduce(value, op=dist.ReduceOp.AVG)
        losses.append(value.item())
        if rank == 0:
            print(f"step {step}: loss {losses[-1]:.4f}", flush=True)
    steady = times[1:] or times
    step_time = sum(steady) / len(steady)
    memory = torch.cuda.max_memory_allocated() / 2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    what = "peak GPU memory allocated" if cuda else "peak RSS"
    line = f"rank {rank}/{world} {args.strategy}: {what} {memory:.1f} MiB, step time {1e3 * step_time:.1f} ms, {per * args.seq / step_time:.0f} tokens/s"
    if dist.is_initialized():
        lines = [None] * world
        dist.all_gather_object(lines, line)
    else:
        lines = [line]
    if rank == 0:
        print(f"{args.method}: {report.trainable_params:,} trainable of {report.base_params:,} base parameters; loss {losses[0]:.4f} -> {losses[-1]:.4f}")
        print("\n".join(lines), flush=True)
    if args.save:
        state = distributed.adapter_state_dict(model, args.method)
        if rank == 0:
            from safetensors.torch import save_file

            Path(args.save).mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in state.items()}, str(Path(args.save) / "adapter.safetensors"))
            print(f"wrote {len(state)} adapter tensors to {Path(args.save) / 'adapter.safetensors'}")
    if args.dcp:
        distributed.save_checkpoint(args.dcp, model, optimizer)
        if rank == 0:
            print(f"wrote a sharded checkpoint to {args.dcp}")
    if owned_group:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
