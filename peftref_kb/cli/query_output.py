"""Text and JSON output of `peftref query`, shared by the typer command and the fast path."""

from __future__ import annotations

def render(result, as_json: bool, explain: bool) -> tuple[str, str]:
    """(stdout, stderr) for a query result."""
    if as_json:
        import json

        out = json.dumps([h.to_dict() for h in result.hits], indent=2, ensure_ascii=False) + "\n"
        err = f"no match: {result.empty_reason}\n" if not result.hits and result.empty_reason else ""
        return out, err
    if not result.hits:
        from ..safety import terminal_text

        return terminal_text(f"No methods match. {result.empty_reason}") + "\n", ""
    lines = []
    if explain and getattr(result, "ignored", None):
        lines.append(f"ignored: {', '.join(result.ignored)}")
    for hit in result.hits:
        lines.append(f"{hit.id}  {hit.name}  [components: {', '.join(hit.matched_components)}]")
        if explain:
            for m in hit.matches:
                where = f"component {m.component}" if m.component else "method"
                values = ", ".join(str(v) for v in m.values)
                lines.append(f"    {where}: {m.field} = {values}   (from {m.condition!r})")
    lines.append(f"{len(result.hits)} method(s).")
    from ..safety import terminal_text

    return terminal_text("\n".join(lines)) + "\n", ""  # record text reaches the terminal without escape sequences
