"""query, diff, similar, graph: the graph layer on the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from ..graph.query import QUERY_HELP
from .common import CatalogueOption, ForceOption, JsonOption, OutputOption, UserError, console, echo, emit_json, handle_errors, load, write_output, table as make_table


def register(app: typer.Typer) -> None:
    app.command("query", help="Find methods by typology properties, in plain words or a precise form.\n\n" + QUERY_HELP)(query)
    app.command("diff")(diff)
    app.command("similar")(similar)
    app.command("graph")(graph)


ExplainOption = Annotated[bool, typer.Option("--explain", help="Show, per hit, which component and fields matched.")]


@handle_errors
def query(text: Annotated[str, typer.Argument(metavar="TEXT", help="The query (quote it).")], catalogue: CatalogueOption = None, json: JsonOption = False, explain: ExplainOption = False) -> None:
    from ..graph.query import QueryError

    cat = load(catalogue)
    try:
        result = cat.query(text)
    except QueryError as exc:
        raise UserError(str(exc)) from None
    from .query_output import render

    out, err = render(result, json, explain)
    typer.echo(out, nl=False)
    if err:
        typer.echo(err, err=True, nl=False)


@handle_errors
def diff(a: Annotated[str, typer.Argument(metavar="A")], b: Annotated[str, typer.Argument(metavar="B")], catalogue: CatalogueOption = None, json: JsonOption = False) -> None:
    """Compare two methods property by property (hybrid components aligned) with a typology distance."""
    cat = load(catalogue)
    result = cat.diff(a, b)
    if json:
        emit_json(result.to_dict())
        return
    out = console()
    table = make_table(title=f"{result.a} vs {result.b} — typology distance {result.distance:.3f}")
    table.add_column("field")
    table.add_column(result.a)
    table.add_column(result.b)
    table.add_column("")
    for row in result.method_rows:
        table.add_row(row.field, _fmt(row.a), _fmt(row.b), "" if row.same else "≠")
    for pair in result.components:
        table.add_section()
        table.add_row(f"component ({pair.distance:.2f})", pair.a or "—", pair.b or "—", "" if pair.a and pair.b else "unmatched")
        for row in pair.rows:
            table.add_row("  " + row.field, _fmt(row.a), _fmt(row.b), "" if row.same else "≠")
    out.print(table)


def _fmt(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None else str(value)


@handle_errors
def similar(
    method_id: Annotated[str, typer.Argument(metavar="ID")],
    n: Annotated[int, typer.Option("-n", min=1, help="How many neighbours.")] = 5,
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """The nearest methods by typology distance, with the properties that differ."""
    cat = load(catalogue)
    diffs = cat.similar(method_id, n)
    if json:
        emit_json([{"id": d.b, "name": cat[d.b].name, "distance": round(d.distance, 4), "differs": d.differing()} for d in diffs])
        return
    lines = []
    for d in diffs:
        differs = d.differing()
        lines.append(f"{d.distance:.3f}  {d.b}  ({cat[d.b].name})")
        lines.append("       differs in: " + ("; ".join(differs[:8]) + (" …" if len(differs) > 8 else "") if differs else "nothing"))
    echo("\n".join(lines))


@handle_errors
def graph(
    format: Annotated[str, typer.Option("--format", "-f", help="graphml or json.")] = "graphml",
    output: OutputOption = None,
    force: ForceOption = False,
    catalogue: CatalogueOption = None,
) -> None:
    """Export the catalogue graph: method and component nodes, typology values, typed relations."""
    from ..graph.build import export

    if format not in ("graphml", "json"):
        raise UserError(f"--format must be graphml or json, not {format!r}")
    cat = load(catalogue)
    write_output(export(cat.graph, format), output, force)
