"""Making record text safe for each place it is printed: one shared home for output escaping.

Records are data written by anyone; none of their text may act as markup or
as a command in the output that shows it.  HTML/SVG rely on jinja2's
autoescape, LaTeX and Markdown on :mod:`.render.environment`; this module adds
what those do not cover: the terminal, CSV cells and link targets.  Pure
Python, no third-party imports (it is used by the light commands).
"""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls, and the escape sequences
# they start (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST`, two-byte `ESC x`).
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# bidirectional overrides can make a terminal show text in another order than it is
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def terminal_text(value: object) -> str:
    """``value`` as text with escape sequences and control characters removed (tab and newline kept)."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _BIDI.sub("", _CONTROL.sub("", text))


def rich_text(value: object, style: str = ""):
    """A rich ``Text`` (never parsed as markup: ``[/bold]`` in a record is printed as written)."""
    from rich.text import Text

    return Text(terminal_text(value), style=style)


SAFE_URL_SCHEMES = ("http", "https")


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (javascript:, data:, file: never become links)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if any(c in text for c in "\x00\r\n\t") or _CONTROL.search(text):
        return None
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.lower() not in SAFE_URL_SCHEMES or not rest.startswith("//") or len(rest) <= 2:
        return None
    return text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a leading quote.

    Numbers stay numbers (a negative number is data, not a formula).
    """
    if not isinstance(value, str):
        return value
    text = terminal_text(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text
