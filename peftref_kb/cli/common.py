"""Options shared by every command, and the one place user errors are formatted.

User mistakes print one line per problem (``file:line: field.path: message``)
to stderr and exit with code 1, without a traceback; set ``PEFTREF_DEBUG=1``
to see the traceback.  Usage errors keep typer's exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

CatalogueOption = Annotated[
    Optional[Path],
    typer.Option("--catalogue", "-C", help="Catalogue directory to read (DIR/methods/*.yaml); default: the bundled catalogue.", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OutputOption = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of standard output.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite the output file if it exists.")]


class UserError(Exception):
    """A mistake in the user's input; printed as lines, exit code 1."""

    def __init__(self, *lines: str):
        super().__init__("\n".join(lines))
        self.lines = lines


def err(text: str) -> None:
    print(text, file=sys.stderr)


def handle_errors(func: Callable) -> Callable:
    """Turn known user errors into one-line messages and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..store import CatalogueError, RecordError

        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except (CatalogueError, RecordError) as exc:
            if os.environ.get("PEFTREF_DEBUG"):
                raise
            for problem in exc.problems:
                err(problem.format())
            err(f"{len(exc.problems)} problem(s) found.")
            raise typer.Exit(1) from None
        except UserError as exc:
            if os.environ.get("PEFTREF_DEBUG"):
                raise
            for line in exc.lines:
                err(f"error: {line}")
            raise typer.Exit(1) from None
        except KeyError as exc:  # unknown method id (message carries suggestions)
            if os.environ.get("PEFTREF_DEBUG"):
                raise
            err(f"error: {exc.args[0] if exc.args else exc}")
            raise typer.Exit(1) from None
        except BrokenPipeError:  # `peftref list | head`
            sys.stderr.close()
            raise typer.Exit(0) from None
        except OSError as exc:  # an output path that is a directory, under a file, not writable, a symlink loop
            if os.environ.get("PEFTREF_DEBUG"):
                raise
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            err(f"error: {where}{exc.strerror or exc}")
            raise typer.Exit(1) from None

    return wrapper


def load(catalogue: Optional[Path]):
    from ..store import load_catalogue

    return load_catalogue(catalogue)


def echo(text: str) -> None:
    """Print record-derived plain text to stdout, control characters and escape sequences removed."""
    from ..safety import terminal_text

    sys.stdout.write(terminal_text(text).rstrip("\n") + "\n")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_output(text: str, output: Optional[Path], force: bool = False, binary: bytes | None = None) -> None:
    """Write to ``output`` (refusing to overwrite unless ``force``) or stdout."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    if output.is_dir():
        raise UserError(f"{output} is a directory; give a file name")
    if output.exists() and not force:
        raise UserError(f"{output} exists; pass --force to overwrite it")
    if output.parent and not output.parent.is_dir():
        raise UserError(f"directory {output.parent} does not exist" if not output.parent.exists() else f"{output.parent} is not a directory")
    try:
        if binary is not None:
            output.write_bytes(binary)
        else:
            output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    err(f"wrote {output}")


class _SafeConsole:
    """Rich's console with markup, emoji and highlighting off, and control characters removed from every string.

    Record text is data: ``[/bold]`` in a name is printed as written, never
    parsed as markup, and an escape sequence in a summary never reaches the terminal.
    """

    def __init__(self, console):
        self._console = console

    def print(self, *objects, **kwargs):
        from ..safety import terminal_text

        self._console.print(*(terminal_text(o) if isinstance(o, str) else o for o in objects), **kwargs)

    def __getattr__(self, name):
        return getattr(self._console, name)


def table(title: Any = None, **kwargs: Any):
    """A rich Table whose title, headers and cells have control characters and escape sequences removed."""
    from rich.table import Table

    from ..safety import terminal_text

    def clean(value: Any) -> Any:
        return terminal_text(value) if isinstance(value, str) else value

    class _SafeTable(Table):
        def add_column(self, header: Any = "", *args: Any, **kw: Any) -> None:
            super().add_column(clean(header), *args, **kw)

        def add_row(self, *cells: Any, **kw: Any) -> None:
            super().add_row(*(clean(c) for c in cells), **kw)

    return _SafeTable(title=clean(title), **kwargs)


def console():
    """A rich console; when output is piped, 160 columns (or $COLUMNS) rather than rich's 80, so tables stay readable."""
    from rich.console import Console

    options = dict(markup=False, emoji=False, highlight=False)
    if sys.stdout.isatty():
        return _SafeConsole(Console(**options))
    return _SafeConsole(Console(width=terminal_width(), **options))


def terminal_width(default: int = 160) -> int:
    """$COLUMNS when it is a sensible number, else ``default`` (COLUMNS=abc must not crash a command)."""
    try:
        width = int(os.environ.get("COLUMNS") or default)
    except ValueError:
        return default
    return width if 20 <= width <= 1000 else default
