"""Parse and validate one record file into a :class:`~peftref_kb.schema.Method`.

Validation errors are turned into :class:`Problem`s that name the file, the
line of the offending field and its dotted path; every error of a file is
reported at once.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from ..schema.models import Method
from .yamlio import Located, Problem, YamlError, dotted, load_yaml

SCHEMA_LINE_PREFIX = "# yaml-language-server: $schema="


class RecordError(Exception):
    """A file failed to load; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's internal loc parts (tagged-union names, 'function-after[...]')."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def _message(error: dict[str, Any]) -> str:
    msg = error["msg"]
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field; remove it or check its spelling against schema/method.schema.json"
    if kind == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind in ("enum", "literal_error"):
        given = error.get("input")
        return f"{given!r} is not allowed: {msg[0].lower() + msg[1:]}"
    return msg


def problems_from_validation(exc: ValidationError, located: Located, file: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_loc(tuple(error["loc"]))
        path = dotted(loc)
        message = _message(error)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(Problem(file, located.line_of(loc), path, message, "schema"))
    return problems


def parse_record(text: str, file: str, expected_id: str | None = None) -> tuple[Method, dict]:
    """Parse YAML text into a validated :class:`Method` and its line map, or raise :class:`RecordError`."""
    try:
        located = load_yaml(text, file)
    except YamlError as exc:
        raise RecordError(exc.problems) from None
    problems: list[Problem] = []
    if not isinstance(located.data, dict):
        raise RecordError([Problem(file, 1, "", f"a record must be a mapping of fields, got {type(located.data).__name__}", "schema")])
    try:
        method = Method.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, located, file))
        method = None
    record_id = located.data.get("id")
    if expected_id is not None and isinstance(record_id, str) and record_id != expected_id:
        problems.append(Problem(file, located.line_of(("id",)), "id", f"id {record_id!r} differs from the file name {expected_id!r}; rename the file or fix the id", "id-filename"))
    if problems:
        raise RecordError(problems)
    assert method is not None
    return method, located.lines


def style_problems(text: str, file: str) -> list[Problem]:
    """Style rules (severity "warning"): shown by `validate`, never a reason to refuse a catalogue."""
    if text.startswith(SCHEMA_LINE_PREFIX):
        return []
    return [Problem(file, 1, "", f"the first line should be the schema comment `{SCHEMA_LINE_PREFIX}../../schema/method.schema.json` (editors use it to check the record)", "schema-line", "warning")]


def load_record(path: FsPath) -> tuple[Method, dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecordError([Problem(str(path), None, "", "file is not UTF-8 text", "encoding")]) from None
    except OSError as exc:
        raise RecordError([Problem(str(path), None, "", f"cannot read file: {exc.strerror}", "io")]) from None
    return parse_record(text, str(path), expected_id=path.stem)
