"""Every table layout compiles under pdflatex and xelatex, fits the page and loses no glyph.

TeX comes from Debian's packages (``make system-deps``).  Each run puts every layout, with
the bundled catalogue's rows, into one two-column article and reads the log.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from peftref_kb.render.latex import latex_formula
from peftref_kb.render.environment import latex_escape
from peftref_kb.render.latex_table import LatexOptions
from peftref_kb.render.layouts import LAYOUTS
from peftref_kb.render.tables import build_table, layout_for, render_table, select_methods

CUSTOM = ["components.unified_view.functional_form.formula", "components.positions", "components.unified_view.composition", "scale.trainable_percent"]
OVERFULL_TOLERANCE_PT = 1.0
DOCUMENT = r"""\documentclass[twocolumn]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{array,booktabs,adjustbox,amssymb}
\begin{document}
%s
\end{document}
"""


def _tables(catalogue, options: LatexOptions) -> str:
    parts = []
    for name in LAYOUTS:
        layout, columns = layout_for(name, CUSTOM if name == "custom" else None)
        methods = select_methods(catalogue, layout)
        parts.append(render_table(build_table(methods, layout, columns), "latex", options))
        parts.append(r"\clearpage")
    return "\n".join(parts)


def _compile(engine: str, source: str, tmp_path) -> str:
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed; run `make system-deps`")
    (tmp_path / "doc.tex").write_text(source, encoding="utf-8")
    result = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert result.returncode == 0 and not errors, f"{engine} failed: {errors[:5]}"
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    return log


@pytest.mark.parametrize("engine", ["pdflatex", "xelatex"])
@pytest.mark.parametrize("options", [LatexOptions(width="column"), LatexOptions(width="text", booktabs=False, caption="Mine: γ & 50%", label="tab:x")], ids=["column-booktabs", "text-hline"])
def test_every_layout_compiles_and_fits(catalogue, tmp_path, engine, options):
    log = _compile(engine, DOCUMENT % _tables(catalogue, options), tmp_path)
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) <= OVERFULL_TOLERANCE_PT, f"overfull boxes: {sorted(overfull)[-5:]} pt"
    missing = re.findall(r"Missing character: There is no (\S+)", log)
    assert not missing, f"{engine} dropped glyphs: {sorted(set(missing))}"


def test_formulas_are_math_and_symbols_commands():
    tex = latex_formula("softmax(x W_q P_k^T) P_v with γ ∈ ℝ^{r×d}", latex_escape)
    assert tex == r"$\mathrm{softmax}(x\allowbreak W_{q}\allowbreak P_{k}^{T})\allowbreak P_{v}$ with $\gamma \allowbreak \in \allowbreak \mathbb{R}^{r\times d}$"
    assert latex_formula("W_hi^(i)ᵀ and x⁻¹", latex_escape) == r"$W_{\mathrm{hi}}^{(i)\top }$ and $x^{-1}$"
    assert latex_escape("γ_1 & 5%") == r"\ensuremath{\gamma }\_1 \& 5\%"


def test_caption_label_and_rules_follow_the_options(fixture_catalogue):
    layout, columns = layout_for("unified-view")
    table = build_table(select_methods(fixture_catalogue, layout), layout, columns)
    booktabs = render_table(table, "latex", LatexOptions(width="column", label="tab:uv"))
    assert r"\toprule" in booktabs and r"\label{tab:uv}" in booktabs and r"max width=\columnwidth" in booktabs
    assert r"$\mathrm{ReLU}(h\allowbreak W_{\mathrm{down}})\allowbreak W_{\mathrm{up}}$" in booktabs
    plain = render_table(table, "latex", LatexOptions(booktabs=False, caption="Ours", width="natural"))
    assert r"\hline" in plain and r"\toprule" not in plain and r"\caption{Ours}" in plain and "adjustbox" not in plain
