"""`peftref results --plot`: figures of the reported results, grouped by a typology property or against efficiency."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from peftref_kb.cli.app import app
from peftref_kb.graph.evidence import group_summaries, leaderboards, resolve_property
from peftref_kb.render.plots import efficiency_plot, grouped_plot, nice_ticks
from peftref_kb.store.results import load_results

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def reported(catalogue):
    return list(load_results(catalogue))


def test_nice_ticks_cover_the_range():
    assert nice_ticks(38.9, 45.1) == [38, 40, 42, 44, 46]
    assert nice_ticks(0.2, 0.9, 4) == [0.2, 0.4, 0.6, 0.8, 1.0]


@pytest.mark.parametrize("name", ["insertion_form", "workspace", "composition"])
def test_grouped_plot_draws_every_run_in_its_group(reported, name):
    prop = resolve_property(name)
    props = [resolve_property(f) for f in prop.fields] if len(prop.fields) > 1 else [prop]
    summaries = [s for p in props for s in group_summaries(reported, p)]
    root = ET.fromstring(grouped_plot(summaries, name))
    dots = [c for c in root.iter(f"{SVG}circle")]
    assert len(dots) == sum(len(g.entries) for s in summaries for g in s.groups)
    labels = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {g.label for s in summaries for g in s.groups} <= labels


def test_efficiency_scatter_places_runs_by_log_percent(reported):
    boards = [b for b in leaderboards(reported) if b.benchmark == "XSum" and b.metric == "rouge-2"]
    root = ET.fromstring(efficiency_plot(boards))
    runs = [e.first.result for e in boards[0].entries if e.first.result.tuned_percent]
    xs = [float(c.get("cx")) for c in root.iter(f"{SVG}circle")]  # drawn in order of tuned share
    shares = sorted(r.tuned_percent for r in runs)
    assert len(xs) == len(runs) and xs == sorted(xs)
    # log scale: equal ratios of tuned share are equal distances
    (a, xa), (b, xb) = (shares[0], xs[0]), (shares[-1], xs[-1])
    per_decade = (xb - xa) / (math.log10(b) - math.log10(a))
    for share, x in zip(shares, xs):
        assert abs(xa + per_decade * (math.log10(share) - math.log10(a)) - x) < 0.2


def test_cli_writes_svg_and_pdf(tmp_path):
    runner = CliRunner()
    svg = tmp_path / "by-form.svg"
    assert runner.invoke(app, ["results", "--group-by", "insertion_form", "--plot", str(svg)]).exit_code == 0
    ET.fromstring(svg.read_text(encoding="utf-8"))
    pdf = tmp_path / "eff.pdf"
    assert runner.invoke(app, ["results", "-b", "XSum", "--plot", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    again = runner.invoke(app, ["results", "-b", "XSum", "--plot", str(pdf)])
    assert again.exit_code == 1 and "--force" in again.output
    bad = runner.invoke(app, ["results", "--plot", str(tmp_path / "x.png")])
    assert bad.exit_code == 1 and ".svg or .pdf" in bad.output
