"""FSDP2 benchmark: our reference modules against HF peft, wrapped the same way, per-GPU peak memory and step time.

    # 2 GPUs (and 1 GPU, for the 1 -> N scaling of tokens/s); bf16, Llama-3-8B-shaped GQA model
    torchrun --nproc_per_node 1 benchmarks/fsdp_gpu.py --out benchmarks/results/fsdp
    torchrun --nproc_per_node 2 benchmarks/fsdp_gpu.py --out benchmarks/results/fsdp
    python benchmarks/fsdp_gpu.py --summarise benchmarks/results/fsdp      # README.md table: ratios ours/peft, scaling
    # smoke mode: a tiny config on CPU processes (gloo), to check the script runs
    torchrun --nproc_per_node 2 benchmarks/fsdp_gpu.py --smoke --out /tmp/fsdp-smoke

The model is built on the meta device, the adapters are added there (ours: ``instantiate``; peft:
``get_peft_model``), every decoder layer and then the root is ``fully_shard``-ed with a bf16 mixed-precision policy
(fp32 gradient reduction), and only then are the local shards materialised (``to_empty``) and filled with random
values: no process ever holds the full model.  The values are random (this measures memory and time, not
quality).  Methods: LoRA on every linear projection of the decoder layers (peft: ``target_modules="all-linear"``),
(IA)³ (peft's defaults for LLaMA: k, v, down), prefix tuning (no reparametrisation).  Ours and peft run one after
the other in the same process, each on a freshly built model, so the ratios come from one run on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import torch
import torch.distributed as dist
import transformers

LLAMA3_8B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192, "rope_theta": 500000.0, "rms_norm_eps": 1e-5}
TINY = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 128, "max_position_embeddings": 128}
LINEAR = ["self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o", "ffn.in", "ffn.out"]  # all-linear, as typology positions
METHODS = {
    # ours: (record id, positions or None, hyperparameters); peft: a config factory
    "lora": (("lora", LINEAR, {"r": 16, "alpha": 32}), lambda peft: peft.LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")),
    "ia3": (("ia3", None, {}), lambda peft: peft.IA3Config(task_type="CAUSAL_LM")),
    "prefix-tuning": (("prefix-tuning", None, {"l": 32, "reparam_hidden": 0}), lambda peft: peft.PrefixTuningConfig(num_virtual_tokens=32, task_type="CAUSAL_LM")),
}


def _layers(model):
    return [m for m in model.modules() if type(m).__name__.endswith("DecoderLayer")]


def _materialise(model, device, config):
    from torch.distributed.tensor import DTensor

    model.to_empty(device=device)
    generator_seed = 0
    torch.manual_seed(generator_seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            local = param.to_local() if isinstance(param, DTensor) else param
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                local.fill_(1.0)
            else:
                local.normal_(0.0, 0.02)
    for parent in list(model.modules()):  # rotary buffers are computed in __init__, not stored: rebuild them on the device
        for child_name, child in list(parent.named_children()):
            if "inv_freq" in child._buffers:
                setattr(parent, child_name, type(child)(child.config).to(device))


def build(impl: str, method: str, config, device, dtype):
    (record, positions, hps), peft_config = METHODS[method]
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    if impl == "ours":
        import peftref_kb

        report = peftref_kb.instantiate(record, model, at=positions, **hps)
        trainable = report.trainable_params
    else:
        import peft

        model = peft.get_peft_model(model, peft_config(peft))
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    for layer in _layers(model):
        fully_shard(layer, mp_policy=policy)
    fully_shard(model, mp_policy=policy)
    _materialise(model, device, config)
    for param in model.parameters():  # fp32 master copies of what trains (peft and ours alike)
        if param.requires_grad:
            param.data = param.data.float()
    return model.train(), trainable


def measure(impl, method, config, device, args, rank, world):
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model, trainable = build(impl, method, config, device, torch.bfloat16 if cuda else torch.float32)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, config.vocab_size, (args.batch * world, args.seq), generator=generator)[rank * args.batch : (rank + 1) * args.batch].to(device)
    times = []
    for step in range(args.warmup + args.steps):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    step_time = sum(times) / len(times)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    row = {"impl": impl, "method": method, "world": world, "rank": rank, "trainable": trainable, "peak_gib": peak,
           "memory": "max_memory_allocated" if cuda else "peak RSS (process, cumulative)", "step_s": step_time,
           "tokens_per_s": world * args.batch * args.seq / step_time, "loss": loss.item()}
    del model, optimizer
    return row


def run(args):
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available() and not args.smoke
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device("cuda") if cuda else torch.device("cpu")
    shape = dict(TINY if args.smoke else LLAMA3_8B)
    if args.layers:
        shape["num_hidden_layers"] = args.layers
    config = transformers.AutoConfig.for_model(**shape)
    config._attn_implementation = "sdpa"
    rows = []
    for method in args.methods.split(","):
        for impl in ("ours", "peft"):
            row = measure(impl, method, config, device, args, rank, world)
            gathered = [None] * world
            dist.all_gather_object(gathered, row)
            rows.extend(gathered)
            if rank == 0:
                print(" | ".join(f"r{r['rank']} {r['impl']} {r['method']}: {r['peak_gib']:.2f} GiB, {1e3 * r['step_s']:.0f} ms" for r in gathered), flush=True)
    if rank == 0:
        device_name = torch.cuda.get_device_name() if cuda else platform.processor() or platform.machine()
        result = {"device": device_name, "world": world, "torch": torch.__version__, "transformers": transformers.__version__,
                  "config": shape, "batch_per_rank": args.batch, "seq": args.seq, "steps": args.steps, "rows": rows}
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"world{world}.json").write_text(json.dumps(result, indent=1))
        print(f"wrote {out / f'world{world}.json'}")
    dist.destroy_process_group()


def summarise(directory: str) -> str:
    runs = {r["world"]: r for r in (json.loads(p.read_text()) for p in sorted(Path(directory).glob("world*.json")))}
    lines = ["| GPUs | method | ours GiB/GPU | peft GiB/GPU | memory ours/peft | ours ms | peft ms | time ours/peft | ours tokens/s | scaling vs 1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    def mean(rows, impl, method, key, world):
        values = [r[key] for r in rows if r["impl"] == impl and r["method"] == method and r["world"] == world]
        return max(values) if key == "peak_gib" else sum(values) / len(values)
    for world, run in sorted(runs.items()):
        for method in sorted({r["method"] for r in run["rows"]}):
            rows = run["rows"]
            ours_m, peft_m = mean(rows, "ours", method, "peak_gib", world), mean(rows, "peft", method, "peak_gib", world)
            ours_t, peft_t = mean(rows, "ours", method, "step_s", world), mean(rows, "peft", method, "step_s", world)
            tps = mean(rows, "ours", method, "tokens_per_s", world)
            one = runs.get(1)
            scaling = f"{tps / mean(one['rows'], 'ours', method, 'tokens_per_s', 1):.2f}x" if one and world != 1 else "-"
            lines.append(f"| {world} | {method} | {ours_m:.2f} | {peft_m:.2f} | {ours_m / peft_m:.2f} | {1e3 * ours_t:.0f} | {1e3 * peft_t:.0f} | {ours_t / peft_t:.2f} | {tps:.0f} | {scaling} |")
    device = next(iter(runs.values()))["device"] if runs else "?"
    return f"Device: {device}\n\n" + "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default="lora,ia3,prefix-tuning")
    parser.add_argument("--batch", type=int, default=2, help="sequences per rank")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--layers", type=int, default=0, help="override the number of decoder layers")
    parser.add_argument("--smoke", action="store_true", help="tiny config on CPU processes (gloo)")
    parser.add_argument("--out", default="benchmarks/results/fsdp")
    parser.add_argument("--summarise", default=None, metavar="DIR", help="print the README table of DIR's world*.json and exit")
    args = parser.parse_args()
    if args.summarise:
        print(summarise(args.summarise), end="")
        return
    if args.smoke:
        args.seq, args.steps, args.warmup = min(args.seq, 16), min(args.steps, 2), min(args.warmup, 1)
    run(args)


if __name__ == "__main__":
    main()
