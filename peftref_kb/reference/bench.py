"""Measured efficiency: every method on one model, beside Hugging Face peft, as ratios to the frozen base model.

For each method we build a fresh, identically seeded model from the config, inject the method, and measure

* trainable and stored parameters (from the instantiation report);
* peak training memory (CUDA peak allocated on GPU; peak resident set size sampled on CPU);
* the median time of a training step (forward + backward + AdamW step);
* the median inference latency unmerged and, where the method merges, merged;

each as a ratio to the base model measured in the same run: its inference forward, and its "frozen step" — a
forward and a backward pass through the whole frozen network to the input embeddings, which every method whose
first trainable parameter sits in the first layers must pay.  Full fine-tuning is measured too, because Lialin et
al.'s "memory" and "backprop" claims compare a method with it.  Where peft implements the record
(:func:`.export.peft_config`), peft is measured the same way twice: with its defaults (adapter weights upcast to
float32) and with ``autocast_adapter_dtype=False`` (adapter weights in the base dtype); ``ratio_vs_peft_*`` are
ours divided by peft's.
"""

from __future__ import annotations

import gc
import json
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .counts import BASE_DEFINITION, base_parameter_count

DECODER_ONLY = {"gpt2", "opt", "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi", "phi3", "gpt_neox", "falcon", "bloom"}


@dataclass
class Measurement:
    method: str
    implementation: str  # "peftref", "peft", "peft-base-dtype", "base"
    trainable_params: int | None = None
    stored_params: int | None = None
    step_time_s: float | None = None
    peak_memory_bytes: int | None = None
    latency_s: float | None = None
    merged_latency_s: float | None = None
    error: str | None = None
    note: str | None = None


@dataclass
class BenchSettings:
    device: str = "cpu"
    dtype: str = "float32"
    batch: int = 4
    seq: int = 128
    repeat: int = 10
    warmup: int = 3
    seed: int = 0


@dataclass
class BenchRun:
    settings: BenchSettings
    environment: dict[str, Any]
    model: dict[str, Any]
    base: Measurement
    full_fine_tuning: Measurement
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": asdict(self.settings),
            "environment": self.environment,
            "model": self.model,
            "base": asdict(self.base),
            "full_fine_tuning": asdict(self.full_fine_tuning),
            "methods": self.rows,
        }


# -- model and inputs ----------------------------------------------------------------------------


def load_config(path: str | Path):
    from transformers import AutoConfig

    data = json.loads(Path(path).read_text())
    model_type = data.pop("model_type", None)
    if not model_type:
        raise ValueError(f"{path}: the config needs a model_type")
    return AutoConfig.for_model(model_type, **data)


def _model_class(config):
    import transformers

    if config.is_encoder_decoder:
        return transformers.AutoModelForSeq2SeqLM
    if config.model_type in DECODER_ONLY:
        return transformers.AutoModelForCausalLM
    return transformers.AutoModelForMaskedLM


def build_model(config, settings: BenchSettings):
    """A fresh model from the config, seeded, initialised directly on the device in the bench dtype."""
    torch.manual_seed(settings.seed)
    dtype = getattr(torch, settings.dtype)
    with torch.device(settings.device):
        model = _model_class(config).from_config(config, dtype=dtype)
    return model


def make_inputs(config, settings: BenchSettings) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(settings.seed + 1)
    ids = torch.randint(3, config.vocab_size, (settings.batch, settings.seq), generator=generator).to(settings.device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
    if config.is_encoder_decoder:
        inputs["decoder_input_ids"] = ids
    return inputs


# -- timing and memory ----------------------------------------------------------------------------


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_time(fn: Callable[[], Any], settings: BenchSettings) -> float:
    for _ in range(settings.warmup):
        fn()
    _sync(settings.device)
    samples = []
    for _ in range(max(1, settings.repeat)):
        start = time.perf_counter()
        fn()
        _sync(settings.device)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class _RssSampler:
    """Peak resident set size of this process while active (CPU runs)."""

    def __init__(self, interval: float = 0.001):
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def peak_memory(fn: Callable[[], Any], settings: BenchSettings) -> int:
    """Peak memory while running ``fn`` twice (the second run sees optimiser state)."""
    if settings.device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        fn()
        fn()
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated())
    with _RssSampler() as sampler:
        fn()
        fn()
    return int(sampler.peak)


def _free(settings: BenchSettings) -> None:
    gc.collect()
    if settings.device.startswith("cuda"):
        torch.cuda.empty_cache()


# -- one variant ------------------------------------------------------------------------------------


def _train_step(model, inputs, optimizer):
    def step():
        loss = model(**inputs).loss
        loss.backward()
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    return step


def _inference(model, inputs):
    forward_inputs = {k: v for k, v in inputs.items() if k != "labels"}

    def forward():
        with torch.no_grad():
            model(**forward_inputs)

    return forward


def _measure_training(model, inputs, settings: BenchSettings, m: Measurement) -> None:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5) if params else None
    model.train()
    step = _train_step(model, inputs, optimizer)
    m.peak_memory_bytes = peak_memory(step, settings)
    m.step_time_s = median_time(step, settings)
    model.eval()
    m.latency_s = median_time(_inference(model, inputs), settings)


def measure_base(config, settings: BenchSettings) -> Measurement:
    """The frozen base model: inference forward, and forward + backward to the input embeddings."""
    m = Measurement("base", "base", trainable_params=0, stored_params=0)
    model = build_model(config, settings)
    for p in model.parameters():
        p.requires_grad_(False)
    inputs = make_inputs(config, settings)
    embed = model.get_input_embeddings()

    def frozen_step():
        embeds = embed(inputs["input_ids"]).detach().requires_grad_(True)
        kwargs = {k: v for k, v in inputs.items() if k != "input_ids"}
        if config.is_encoder_decoder:
            kwargs["decoder_inputs_embeds"] = embed(kwargs.pop("decoder_input_ids")).detach()
        model(inputs_embeds=embeds, **kwargs).loss.backward()

    model.train()
    m.peak_memory_bytes = peak_memory(frozen_step, settings)
    m.step_time_s = median_time(frozen_step, settings)
    model.eval()
    m.latency_s = median_time(_inference(model, inputs), settings)
    del model
    _free(settings)
    return m


def measure_full_fine_tuning(config, settings: BenchSettings) -> Measurement:
    m = Measurement("full-fine-tuning", "full")
    model = build_model(config, settings)
    inputs = make_inputs(config, settings)
    m.trainable_params = m.stored_params = sum(p.numel() for p in model.parameters())
    try:
        _measure_training(model, inputs, settings, m)
    except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - GPU only
        m.error = f"out of memory: {exc}".splitlines()[0]
    del model
    _free(settings)
    return m


def measure_ours(method, config, settings: BenchSettings, hyperparameters: dict[str, Any] | None = None, at: list[str] | None = None) -> Measurement:
    from .inject import instantiate

    m = Measurement(method.id, "peftref")
    model = build_model(config, settings)
    inputs = make_inputs(config, settings)
    try:
        report = instantiate(method, model, at=at, **(hyperparameters or {}))
        m.trainable_params, m.stored_params = report.trainable_params, report.stored_params
        _measure_training(model, inputs, settings, m)
        try:
            report.merge()
            m.merged_latency_s = median_time(_inference(model, inputs), settings)
        except Exception as exc:  # the method changes activations, not a weight
            m.note = f"not mergeable: {exc}"
    except Exception as exc:
        m.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    del model
    _free(settings)
    return m


def peft_equivalent(method, model, hyperparameters: dict[str, Any] | None = None, at: list[str] | None = None) -> dict[str, Any]:
    """peft's adapter_config for the record on this model (raises export.NoEquivalent when there is none)."""
    from .export import peft_config
    from .positions import resolve

    positions = list(at) if at else [p for c in method.components for p in c.positions.value]
    table = resolve(model, positions)
    return peft_config(method, hyperparameters, table)


def measure_peft(method, config, settings: BenchSettings, base_dtype: bool, hyperparameters: dict[str, Any] | None = None, at: list[str] | None = None) -> Measurement:
    import peft

    m = Measurement(method.id, "peft-base-dtype" if base_dtype else "peft")
    model = build_model(config, settings)
    inputs = make_inputs(config, settings)
    try:
        data = peft_equivalent(method, model, hyperparameters, at)
        data = {k: v for k, v in data.items() if v is not None}
        peft_model = peft.get_peft_model(model, peft.get_peft_config(data), autocast_adapter_dtype=not base_dtype)
        m.trainable_params = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        _measure_training(peft_model, inputs, settings, m)
        if hasattr(peft_model, "merge_and_unload") and data["peft_type"] in ("LORA", "IA3"):
            merged = peft_model.merge_and_unload()
            m.merged_latency_s = median_time(_inference(merged, inputs), settings)
    except Exception as exc:
        m.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    del model
    _free(settings)
    return m


# -- the run -----------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 4)


def executable_methods(catalogue) -> list:
    return [m for m in catalogue if m.kind == "method" and all(c.module for c in m.components)]


def row(ours: Measurement, base: Measurement, full: Measurement, base_params: int, peft_default: Measurement | None, peft_base: Measurement | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": ours.method,
        "error": ours.error,
        "note": ours.note,
        "trainable_params": ours.trainable_params,
        "stored_params": ours.stored_params,
        "trainable_percent": None if ours.trainable_params is None else round(100 * ours.trainable_params / base_params, 5),
        "step_time_s": ours.step_time_s,
        "peak_memory_bytes": ours.peak_memory_bytes,
        "latency_s": ours.latency_s,
        "merged_latency_s": ours.merged_latency_s,
        "ratio_step_time_vs_base": _ratio(ours.step_time_s, base.step_time_s),
        "ratio_peak_memory_vs_base": _ratio(ours.peak_memory_bytes, base.peak_memory_bytes),
        "ratio_latency_vs_base": _ratio(ours.latency_s, base.latency_s),
        "ratio_merged_latency_vs_base": _ratio(ours.merged_latency_s, base.latency_s),
        "ratio_step_time_vs_full": _ratio(ours.step_time_s, full.step_time_s),
        "ratio_peak_memory_vs_full": _ratio(ours.peak_memory_bytes, full.peak_memory_bytes),
    }
    for label, other in (("", peft_default), ("_base_dtype", peft_base)):
        if other is None:
            continue
        out[f"peft{label}"] = asdict(other)
        if other.error is None:
            out[f"ratio_vs_peft{label}_step_time"] = _ratio(ours.step_time_s, other.step_time_s)
            out[f"ratio_vs_peft{label}_peak_memory"] = _ratio(ours.peak_memory_bytes, other.peak_memory_bytes)
            out[f"ratio_vs_peft{label}_latency"] = _ratio(ours.latency_s, other.latency_s)
            out[f"ratio_vs_peft{label}_merged_latency"] = _ratio(ours.merged_latency_s, other.merged_latency_s)
            out[f"ratio_vs_peft{label}_trainable_params"] = _ratio(ours.trainable_params, other.trainable_params)
    return out


def environment(settings: BenchSettings) -> dict[str, Any]:
    import platform

    import transformers

    env = {"torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(), "machine": platform.machine()}
    try:
        import peft

        env["peft"] = peft.__version__
    except ImportError:
        env["peft"] = None
    if settings.device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name()
        env["cuda"] = torch.version.cuda
    else:
        env["cpu_threads"] = torch.get_num_threads()
    return env


def run_bench(
    methods: list,
    config,
    settings: BenchSettings,
    hyperparameters: dict[str, Any] | None = None,
    with_peft: bool = True,
    progress: Callable[[str], None] | None = None,
    at: list[str] | None = None,
) -> BenchRun:
    tick = progress or (lambda label: None)
    tick("base model")
    base = measure_base(config, settings)
    tick("full fine-tuning")
    full = measure_full_fine_tuning(config, settings)
    model = build_model(config, settings)
    base_params = base_parameter_count(model)  # the same definition as instantiate (reference/counts.py)
    model_info = {"model_type": config.model_type, "class": type(model).__name__, "parameters": base_params, "parameters_counted": BASE_DEFINITION}
    del model
    _free(settings)
    run = BenchRun(settings, environment(settings), model_info, base, full)
    if at:
        run.model["positions_override"] = list(at)
    for method in methods:
        tick(f"{method.id} (peftref)")
        ours = measure_ours(method, config, settings, hyperparameters, at)
        peft_default = peft_base = None
        if with_peft:
            try:
                tick(f"{method.id} (peft)")
                peft_default = measure_peft(method, config, settings, base_dtype=False, hyperparameters=hyperparameters, at=at)
                if peft_default.error and "NoEquivalent" in peft_default.error:
                    peft_default.note, peft_base = "no peft equivalent", None
                else:
                    tick(f"{method.id} (peft, base dtype)")
                    peft_base = measure_peft(method, config, settings, base_dtype=True, hyperparameters=hyperparameters, at=at)
            except ImportError:
                pass
        run.rows.append(row(ours, base, full, base_params, peft_default, peft_base))
    return run
