"""Render a benchmark run (``peftref bench``): tables, CSV, an SVG plot and Lialin's claims beside the measurements.

Pure functions over the run's JSON (see :mod:`peftref_kb.reference.bench`); no torch.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from ..schema.vocabulary import VOCABULARIES
from ..safety import csv_cell
from .environment import render_template

# What "measured yes" means for Lialin et al.'s Table 1 columns (their claims compare with full fine-tuning and
# with backpropagating through the whole network).
MEMORY_SAVING = 0.8  # peak training memory below 80% of full fine-tuning's
BACKPROP_SAVING = 0.8  # a training step below 80% of a full forward+backward pass through the frozen model
NO_OVERHEAD = 1.02  # inference within 2% of the base model (merged where the method merges)

CSV_COLUMNS = (
    "method", "trainable_params", "stored_params", "trainable_percent", "step_time_s", "peak_memory_bytes", "latency_s", "merged_latency_s",
    "ratio_step_time_vs_base", "ratio_peak_memory_vs_base", "ratio_latency_vs_base", "ratio_merged_latency_vs_base",
    "ratio_step_time_vs_full", "ratio_peak_memory_vs_full",
    "ratio_vs_peft_step_time", "ratio_vs_peft_peak_memory", "ratio_vs_peft_latency", "ratio_vs_peft_merged_latency",
    "ratio_vs_peft_base_dtype_step_time", "ratio_vs_peft_base_dtype_peak_memory", "ratio_vs_peft_base_dtype_latency", "ratio_vs_peft_base_dtype_merged_latency",
    "error", "note",
)


def to_csv(run: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in run["methods"]:
        writer.writerow({k: ("" if row.get(k) is None else csv_cell(row.get(k))) for k in CSV_COLUMNS})
    return out.getvalue()


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _overhead(row: dict[str, Any]) -> float | None:
    merged = row.get("ratio_merged_latency_vs_base")
    return merged if merged is not None else row.get("ratio_latency_vs_base")


def lialin_comparison(run: dict[str, Any], catalogue) -> list[dict[str, Any]]:
    """Lialin et al. Table 1 claims beside what the run measured, disagreements marked."""
    labels = {t.value: t.label for t in VOCABULARIES["inference_overhead"].terms}
    out = []
    for row in run["methods"]:
        method = catalogue.get(row["method"])
        if method is None or row.get("error") or "lialin-2023/table-1" not in method.seed_tables:
            continue
        eff = method.efficiency
        memory = row.get("ratio_peak_memory_vs_full")
        backprop = row.get("ratio_step_time_vs_base")
        overhead = _overhead(row)
        measured = {
            "memory": None if memory is None else ("yes" if memory < MEMORY_SAVING else "no"),
            "backprop": None if backprop is None else ("yes" if backprop < BACKPROP_SAVING else "no"),
            "inference_overhead": None if overhead is None else ("No overhead" if overhead <= NO_OVERHEAD else f"+{(overhead - 1) * 100:.0f}%"),
        }
        claimed = {"memory": eff.memory.value, "backprop": eff.backprop.value, "inference_overhead": labels[eff.inference_overhead.value]}
        disagree = {
            "memory": claimed["memory"] in ("yes", "no") and measured["memory"] is not None and claimed["memory"] != measured["memory"],
            "backprop": claimed["backprop"] in ("yes", "no") and measured["backprop"] is not None and claimed["backprop"] != measured["backprop"],
            "inference_overhead": measured["inference_overhead"] is not None and ((claimed["inference_overhead"] == "No overhead") != (measured["inference_overhead"] == "No overhead")),
        }
        out.append({"method": row["method"], "claimed": claimed, "measured": measured, "disagrees": disagree,
                    "evidence": {"peak_memory_vs_full": memory, "step_time_vs_frozen_step": backprop, "inference_vs_base": overhead}})
    return out


def markdown_report(run: dict[str, Any], comparison: list[dict[str, Any]]) -> str:
    s, env, model = run["settings"], run["environment"], run["model"]
    lines = [
        f"# peftref bench: {model['class']} ({model['model_type']}, {model['parameters']:,} parameters)",
        "",
        f"Device: {env.get('gpu') or 'CPU (' + str(env.get('cpu_threads')) + ' threads)'}; dtype {s['dtype']}; batch {s['batch']} × sequence {s['seq']}; "
        f"median of {s['repeat']} after {s['warmup']} warm-up; torch {env['torch']}, transformers {env['transformers']}, peft {env.get('peft')}.",
        "",
        "Ratios are to the frozen base model measured in the same run (step: forward + backward to the input embeddings; "
        "latency: inference forward); `vs peft` is ours ÷ peft's with its defaults, `vs peft (base dtype)` with "
        "`autocast_adapter_dtype=False`.",
        "",
        "| method | trainable % | step / base | memory / base | latency / base | merged / base | step vs peft | memory vs peft | step vs peft (base dtype) | memory vs peft (base dtype) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    full = run["full_fine_tuning"]
    base = run["base"]
    lines.append(f"| full fine-tuning | 100 | {_fmt(_div(full['step_time_s'], base['step_time_s']))} | {_fmt(_div(full['peak_memory_bytes'], base['peak_memory_bytes']))} | — | — | — | — | — | — |")
    for row in run["methods"]:
        if row.get("error"):
            lines.append(f"| {row['method']} | error: {row['error'][:80]} | | | | | | | | |")
            continue
        lines.append(
            f"| {row['method']} | {_fmt(row['trainable_percent'], 4)} | {_fmt(row['ratio_step_time_vs_base'])} | {_fmt(row['ratio_peak_memory_vs_base'])} | "
            f"{_fmt(row['ratio_latency_vs_base'])} | {_fmt(row.get('ratio_merged_latency_vs_base'))} | {_fmt(row.get('ratio_vs_peft_step_time'))} | "
            f"{_fmt(row.get('ratio_vs_peft_peak_memory'))} | {_fmt(row.get('ratio_vs_peft_base_dtype_step_time'))} | {_fmt(row.get('ratio_vs_peft_base_dtype_peak_memory'))} |"
        )
    lines += [
        "",
        "## Lialin et al. Table 1 beside the measurements",
        "",
        f"Measured `memory` is yes when peak training memory is below {MEMORY_SAVING:.0%} of full fine-tuning's; `backprop` is yes when a step costs "
        f"less than {BACKPROP_SAVING:.0%} of a forward and backward pass through the frozen model; inference overhead is none within {NO_OVERHEAD - 1:.0%} "
        "of the base model (merged where the method merges). ✗ marks a disagreement.",
        "",
        "| method | memory (claimed / measured) | backprop (claimed / measured) | inference overhead (claimed / measured) |",
        "| --- | --- | --- | --- |",
    ]
    for item in comparison:
        cells = []
        for key in ("memory", "backprop", "inference_overhead"):
            mark = " ✗" if item["disagrees"][key] else ""
            cells.append(f"{item['claimed'][key]} / {_fmt(item['measured'][key])}{mark}")
        lines.append(f"| {item['method']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _div(a, b):
    return None if a is None or not b else a / b


def plot_svg(run: dict[str, Any]) -> str:
    """Two panels: trainable % (log) against step-time and peak-memory ratios to the base model."""
    rows = [r for r in run["methods"] if not r.get("error") and r.get("trainable_percent")]
    width, height, margin = 460, 320, 56
    panels = []
    xs = [math.log10(r["trainable_percent"]) for r in rows] or [0.0]
    x_lo, x_hi = math.floor(min(xs)), math.ceil(max(xs) + 1e-9)
    if x_hi == x_lo:
        x_hi += 1
    for index, (key, title) in enumerate((("ratio_step_time_vs_base", "training step time ÷ frozen base step"), ("ratio_peak_memory_vs_base", "peak training memory ÷ frozen base"))):
        ys = [r[key] for r in rows if r.get(key) is not None] or [1.0]
        y_lo, y_hi = min(min(ys), 1.0) * 0.95, max(ys) * 1.05
        if y_hi - y_lo < 1e-9:
            y_hi = y_lo + 1

        def px(v, lo=x_lo, hi=x_hi):
            return margin + (v - lo) / (hi - lo) * (width - 2 * margin)

        def py(v, lo=y_lo, hi=y_hi):
            return height - margin - (v - lo) / (hi - lo) * (height - 2 * margin)

        points = [{"x": round(px(math.log10(r["trainable_percent"])), 1), "y": round(py(r[key]), 1), "label": r["method"], "value": f"{r[key]:.3f}"} for r in rows if r.get(key) is not None]
        x_ticks = [{"x": round(px(t), 1), "label": f"{10 ** t:g}%"} for t in range(x_lo, x_hi + 1)]
        y_ticks = [{"y": round(py(v), 1), "label": f"{v:.2f}"} for v in (y_lo + (y_hi - y_lo) * i / 4 for i in range(5))]
        panels.append({"offset": index * (width + 20), "title": title, "points": points, "x_ticks": x_ticks, "y_ticks": y_ticks,
                       "one": round(py(1.0), 1) if y_lo <= 1.0 <= y_hi else None, "width": width, "height": height, "margin": margin})
    s, env, model = run["settings"], run["environment"], run["model"]
    subtitle = f"{model['model_type']} {model['parameters']:,} params · {env.get('gpu') or 'CPU'} · {s['dtype']} · batch {s['batch']} × seq {s['seq']}"
    return render_template("svg", "bench/plot.svg.j2", panels=panels, total_width=2 * width + 20, height=height + 40, subtitle=subtitle)
