"""results, recommend, gaps: reported results, the seeds' analyses and decision rules, design-space gaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Optional
from pathlib import Path

import typer

from .common import CatalogueOption, JsonOption, UserError, console, echo, emit_json, handle_errors, load, write_output

# `peftref recommend`'s choices as --help shows them.  They repeat closed lists of
# schema/results.py (TASKS, Rule.constraint; data: Pu et al.'s regimes of DATA_REGIMES)
# because importing the schema here would load pydantic at every command's start;
# tests/evidence/test_evidence_cli.py checks that they agree.
CHOICES: dict[str, tuple[str, ...]] = {
    "task": ("classification", "generation"),
    "data": ("low", "medium", "high"),
    "constraint": ("time", "memory", "performance"),
}
FORMATS = ("md", "csv", "html")
PAIRS_SHOWN = 12  # pairs per claim on the terminal; the other formats and --json list all


def register(app: typer.Typer) -> None:
    app.command("results")(results)
    app.command("recommend")(recommend)
    app.command("gaps")(gaps)


def _format(value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")  # a usage error: exit code 2
    return value


FormatOption = Annotated[Optional[str], typer.Option("--format", "-f", help="md, csv or html instead of a table on the terminal.", callback=_format)]


# --------------------------------------------------------------------------- output blocks


@dataclass
class Block:
    """A piece of output: a heading, lines of text, or a table; rendered for the terminal, md, csv or html."""

    kind: str  # heading | text | table
    title: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    more: str = ""  # a line after a table shortened on the terminal


def _show(blocks: list[Block], fmt: str | None) -> None:
    if fmt is None:
        _rich(blocks)
        return
    typer.echo({"md": _markdown, "csv": _csv, "html": _html}[fmt](blocks), nl=False)


def _rich(blocks: list[Block]) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..safety import rich_text

    out = console()
    for block in blocks:
        if block.kind == "heading":
            out.print(rich_text(block.title, style="bold"))
        elif block.kind == "text":
            for line in block.lines:
                out.print(rich_text(line))
        else:
            table = Table(title=rich_text(block.title), title_justify="left")
            for header in block.headers:
                table.add_column(rich_text(header), overflow="fold")
            for row in block.rows[: PAIRS_SHOWN if block.more else None]:
                table.add_row(*(rich_text(cell) for cell in row))  # Text: cells may hold [brackets], never markup
            out.print(table)
            if block.more and len(block.rows) > PAIRS_SHOWN:
                out.print(Text(block.more.format(hidden=len(block.rows) - PAIRS_SHOWN), style="dim"))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            out += [f"## {block.title}", ""]
        elif block.kind == "text":
            out += [*block.lines, ""]
        else:
            out += [f"**{_md_cell(block.title)}**", "", "| " + " | ".join(block.headers) + " |", "|" + " --- |" * len(block.headers)]
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
    return "\n".join(out)


def _csv(blocks: list[Block]) -> str:
    """Tables only, one section per distinct header row (a blank line between sections); each row names its table."""
    import csv
    import io

    from ..safety import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    last: list[str] | None = None
    for block in blocks:
        if block.kind != "table":
            continue
        if block.headers != last:
            if last is not None:
                buffer.write("\n")
            writer.writerow([csv_cell(c) for c in ("table", *block.headers)])
            last = block.headers
        for row in block.rows:
            writer.writerow([csv_cell(c) for c in (block.title, *row)])  # no cell starts a spreadsheet formula
    return buffer.getvalue()


def _html(blocks: list[Block]) -> str:
    from html import escape

    out = ['<!doctype html>', '<html><head><meta charset="utf-8"><title>peftref results</title></head><body>']
    for block in blocks:
        if block.kind == "heading":
            out.append(f"<h2>{escape(block.title)}</h2>")
        elif block.kind == "text":
            out += [f"<p>{escape(line)}</p>" for line in block.lines]
        else:
            out.append(f"<table><caption>{escape(block.title)}</caption>")
            out.append("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in block.headers) + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows]
            out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))  # parameter counts, seconds, epochs
        return f"{value:g}" if abs(value) < 1e-3 else f"{value:.6g}"
    return str(value)


def _table_name(table: str) -> str:
    source, _, name = table.partition("/")
    return f"{source} {name.replace('table-', 'Table ')}"


# --------------------------------------------------------------------------- peftref results


@handle_errors
def results(
    query: Annotated[Optional[str], typer.Option("--query", "-q", help="Only runs matching this catalogue query, read on each run's own design (e.g. 'parallel insertion on ffn').")] = None,
    benchmark: Annotated[Optional[str], typer.Option("--benchmark", "-b", help="Only this benchmark (e.g. XSum, 'AG News').")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", "-m", help="Only this metric (e.g. rouge-2, bleu, accuracy).")] = None,
    table: Annotated[Optional[str], typer.Option("--table", "-t", help="Only this source table (e.g. he-2022/table-3).")] = None,
    group_by: Annotated[Optional[str], typer.Option("--group-by", "-g", help="Summarise each leaderboard by a property of the run: a typology field (workspace, insertion_form, composition, modified_representation, parameter_sharing, functional_form, kind, ...), a result field (method, data_regime, task) or configuration.<key>; prints the claims about it.")] = None,
    claims: Annotated[bool, typer.Option("--claims", help="Test every claim of recommendations.yaml against the (filtered) results.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Write a figure (.svg or .pdf): runs by --group-by's groups, or without it score against % tuned parameters, per leaderboard.")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --plot: overwrite the file.")] = False,
    format: FormatOption = None,
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """Reported results from the seed papers: leaderboards per benchmark (best first), grouped analyses and the claims they test."""
    from ..graph.evidence import PropertyError, resolve_property
    from ..store.results import load_results

    cat = load(catalogue)
    found = load_results(cat)
    selected = _filter(list(found), query=query, benchmark=benchmark, metric=metric, table=table)
    props = []
    if group_by is not None:
        try:
            prop = resolve_property(group_by)
        except PropertyError as exc:
            raise UserError(str(exc)) from None
        # A short name shared by two typologies (insertion_form: PEFT-Ref's and He et al.'s) groups by each in turn.
        props = [resolve_property(name) for name in prop.fields] if len(prop.fields) > 1 else [prop]
    if claims or props:
        from ..store.results import load_recommendations

        recs = load_recommendations(cat, results=found)
    if plot is not None:
        _plot(plot, selected, props, force)
        return
    if claims:
        checks = _checks(recs.claims, selected)
        if json:
            emit_json([c.to_dict() for c in checks])
            return
        _show(_claim_blocks(checks), format)
        return
    if json:
        rows = []
        for r in selected:
            row = r.to_dict()
            if props:
                row["group"] = {p.name: p.label(r) for p in props}
            rows.append(row)
        emit_json(rows)
        return
    if not selected:
        typer.echo("No results match.")
        return
    if props:
        from ..graph.evidence import claims_about, group_summaries

        blocks = []
        for prop in props:
            blocks.append(Block("heading", f"Grouped by {prop.name}"))
            blocks += [_group_block(summary) for summary in group_summaries(selected, prop)]
            about = claims_about(recs.claims, prop)
            if about:
                blocks.append(Block("heading", f"Claims about {prop.name}"))
                blocks += _claim_blocks(_checks(about, selected))
        _show(blocks, format)
        return
    from ..graph.evidence import leaderboards

    _show([_board_block(board) for board in leaderboards(selected)], format)


def _plot(path: Path, selected: list, props: list, force: bool) -> None:
    from ..graph.evidence import group_summaries, leaderboards
    from ..render.plots import efficiency_plot, grouped_plot

    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("svg", "pdf"):
        raise UserError(f"--plot {path}: name an .svg or .pdf file")
    if not selected:
        raise UserError("no results match, so there is nothing to plot")
    if props:
        svg = grouped_plot([s for prop in props for s in group_summaries(selected, prop)], ", ".join(p.name for p in props))
    else:
        svg = efficiency_plot(leaderboards(selected))
    binary = None
    if suffix == "pdf":
        from ..render.diagram import diagram_bytes

        binary = diagram_bytes(svg, "pdf")
    write_output(svg, path, force, binary=binary)


def _filter(items: list, *, query: str | None, benchmark: str | None, metric: str | None, table: str | None) -> list:
    def pick(name: str, wanted: str | None, values: list) -> str | None:
        if wanted is None:
            return None
        known = sorted({v for v in values if v is not None})
        for value in known:
            if value.lower() == wanted.strip().lower():
                return value
        raise UserError(f"no results for {name} {wanted!r}; known: {', '.join(known)}")

    bench = pick("benchmark", benchmark, [r.result.benchmark for r in items])
    met = pick("metric", metric, [r.result.metric for r in items])
    tab = pick("table", table, [r.table for r in items])
    items = [r for r in items if (bench is None or r.result.benchmark == bench) and (met is None or r.result.metric == met) and (tab is None or r.table == tab)]
    if query:
        from ..graph.evidence import matches_query
        from ..graph.query import QueryError, parse

        try:
            tree = parse(query)
        except QueryError as exc:
            raise UserError(str(exc)) from None
        items = [r for r in items if matches_query(tree, r)]
    return items


def _board_block(board) -> Block:
    from ..graph.evidence import configuration_text

    rows = []
    for entry in board.entries:
        r = entry.first.result
        rows.append([str(entry.rank), r.method, r.label, configuration_text(r), _num(r.tuned_percent), _num(r.value), _num(r.std), ", ".join(_table_name(t) for t in entry.tables)])
    return Block("table", board.title, ["#", "method", "label", "configuration", "tuned %", "value", "±", "source"], rows)


def _group_block(summary) -> Block:
    rows = []
    for group in summary.groups:
        best = group.best.first.result
        rows.append([group.label, str(len(group.entries)), _num(best.value), f"{best.method} ({best.label})", _num(round(group.mean, 6))])
    return Block("table", f"{summary.board.title} — by {summary.property}", [summary.property, "runs", "best", "best run", "mean"], rows)


def _checks(claims, selected) -> list:
    from ..graph.evidence import check_claim

    return [check_claim(claim, selected) for claim in claims]


def _claim_blocks(checks) -> list[Block]:
    blocks = []
    for check in checks:
        claim = check.claim
        where = f"{claim.source.ref} {claim.source.loc or ''}".strip()
        lines = [f"[{check.verdict}] {claim.statement} ({where})", f"  {check.summary}."]
        if claim.source.quote:
            lines.append(f'  "{claim.source.quote}"')
        if claim.note:
            lines.append(f"  {claim.note}")
        blocks.append(Block("text", lines=lines))
        if check.pairs:
            order = {"contradicts": 0, "tie": 1, "supports": 2}
            rows = []
            for pair in sorted(check.pairs, key=lambda p: order[p.outcome]):
                b, w = pair.better.result, pair.worse.result
                what = " ".join(x for x in (b.benchmark or "", b.metric, b.data_regime or "") if x)
                rows.append([what, f"{b.method}: {b.label}", _num(b.value), f"{w.method}: {w.label}", _num(w.value), _num(round(pair.margin, 6)), pair.outcome, _table_name(pair.better.table)])
            blocks.append(Block("table", f"{claim.id}", ["on", "claimed better", "value", "claimed worse", "value", "margin", "outcome", "source"], rows, more="… {hidden} more comparisons (--json or --format lists all)"))
    return blocks


# --------------------------------------------------------------------------- peftref recommend


def _choice(name: str):
    def check(value: str | None) -> str | None:
        if value is not None and value.lower() not in CHOICES[name]:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(CHOICES[name])}")  # a usage error: exit code 2
        return value.lower() if value is not None else None

    return check


def _choice_option(name: str, help: str):
    return typer.Option(f"--{name}", metavar="|".join(CHOICES[name]), help=help, callback=_choice(name), show_default=False)


@handle_errors
def recommend(
    task: Annotated[str, _choice_option("task", "Task type.")],
    data: Annotated[str, _choice_option("data", "Data regime (pu-2023 §3.1): low (<=100 training examples), medium (<=1,000), high (<=10,000).")],
    constraint: Annotated[str, _choice_option("constraint", "What matters most: training time, memory (tuned parameters), or performance.")],
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """Recommended methods for a task, data regime and constraint, from the decision rules of recommendations.yaml (Pu et al. 2023)."""
    from ..graph.evidence import matching_rules
    from ..graph.evidence import recommend as recommend_methods
    from ..store.results import load_recommendations, load_results

    cat = load(catalogue)
    found = load_results(cat)
    recs = load_recommendations(cat, results=found)
    from ..schema.results import TASKS

    task_value, data_value, constraint_value = task, data, constraint
    rules = matching_rules(recs, task_value, data_value, constraint_value)
    if not rules:
        raise UserError(f"no rule in recommendations.yaml covers task={task_value}, data={data_value}, constraint={constraint_value}")
    recommendations = recommend_methods(recs, task_value, data_value, constraint_value, found)
    if json:
        emit_json([r.to_dict() for r in recommendations])
        return
    lines = [f"For {task_value}, {data_value} data, {constraint_value}-constrained:"]
    for rec in recommendations:
        lines.append(f"  {rec.id}  ({cat[rec.id].name})")
        lines.append(f"      {rec.reason}")
        for cell in rec.evidence:
            lines.append(f"      {_table_name(cell['table'])}: {cell['benchmark']} {cell['metric']} = {_num(cell['value'])} {cell['unit']} (rank {cell['rank']} of {cell['of']})")
    for rule in rules:
        source = f"{rule.source.ref} {rule.source.loc or ''}".strip()
        lines.append(f"Rule {rule.id} ({source})" + (f': "{rule.source.quote}"' if rule.source.quote else ""))
        if set(rule.task) == set(TASKS):
            lines.append("  The source gives the same advice for every task type.")
        if rule.note:
            lines.append(f"  Note: {rule.note}")
    echo("\n".join(lines))


# --------------------------------------------------------------------------- peftref gaps


@handle_errors
def gaps(
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="How many gaps to list, best candidates first (0: all).")] = 20,
    format: FormatOption = None,
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """Unoccupied combinations of He et al.'s design dimensions (functional form × insertion form × modified representation × composition), with the nearest catalogued methods."""
    from ..graph.evidence import design_gaps
    from ..store.results import ResultsError, load_results

    cat = load(catalogue)
    try:
        found = list(load_results(cat))
    except ResultsError:
        if (cat.root / "results").exists():
            raise
        found = []  # a catalogue without results still has a design space
    ranked = design_gaps(cat, found)
    shown = ranked[:limit] if limit else ranked
    if json:
        emit_json([g.to_dict() for g in shown])
        return
    rows = []
    for i, gap in enumerate(shown, 1):
        functional_form, insertion, representation, composition = gap.values.values()
        neighbours = list({n.method: n for n in reversed(gap.nearest)}.values())[::-1]  # one line per method (--json lists every component)
        nearest = "; ".join(f"{n.method} (differs in {', '.join(f'{d}: {v[0] if len(v) == 1 else v}' for d, v in n.differs.items())})" for n in neighbours[:4])
        if len(neighbours) > 4:
            nearest += f"; … {len(neighbours) - 4} more"
        evidence = ", ".join(dict.fromkeys(f"{r.result.label} [{_table_name(r.table)}]" for r in gap.evidence))
        rows.append([str(i), functional_form, insertion, representation, composition, f"{gap.shared}/4", f"{gap.attested_pairs}/6", nearest, evidence])
    title = f"{len(shown)} of {len(ranked)} unoccupied design combinations (values that occur in the catalogue; shared = dimensions in common with the nearest components; pairs = value pairs some component already combines)"
    _show([Block("table", title, ["#", "functional form", "insertion", "modified representation", "composition", "shared", "pairs", "nearest methods", "reported runs"], rows)], format)
