"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` forgets line numbers and silently keeps the last of two
duplicate keys.  Records are facts with provenance, so both matter: we compose
the node tree with the safe loader, then build plain Python values ourselves,
recording the 1-based line of every mapping key / sequence item under its path
(a tuple like ``("components", 0, "positions")``) and rejecting duplicate keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .problems import Problem  # noqa: F401  (re-exported)

try:  # the C loader is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[Any, ...]

# Limits checked before anything is expanded: a record is a few kilobytes, a
# few levels deep, and has no reason for many aliases; an alias bomb or a
# deeply nested document is refused in linear time with its line.
MAX_DOCUMENT_CHARS = 1_000_000
MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_NODES = 100_000  # values after expanding aliases
MAX_SCALAR_DIGITS = 100


@dataclass
class Located:
    """A parsed YAML document plus the line of every path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """Line of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


class YamlError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems


def _scalar(loader: Any, node: yaml.ScalarNode) -> Any:
    value = loader.construct_object(node, deep=True)
    if isinstance(value, int) and value.bit_length() > 3.33 * MAX_SCALAR_DIGITS:  # e.g. 0xfff… written in hex
        exc = ValueError(f"integer has more than {MAX_SCALAR_DIGITS} digits")
        exc.line = node.start_mark.line + 1  # type: ignore[attr-defined]
        raise exc
    return value


def _limits(text: str, file: str) -> None:
    """Refuse oversized, over-deep or alias-heavy documents from the token stream (linear, no expansion)."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise YamlError([Problem(file, None, "", f"document is larger than {MAX_DOCUMENT_CHARS:,} characters; a record is a few kilobytes", "yaml-limit")])
    opening = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    depth = aliases = 0
    loader = _Loader(text)
    try:
        while True:
            try:
                token = loader.get_token()
            except yaml.YAMLError:
                return  # a syntax error: the composer reports it with its line
            if token is None or isinstance(token, yaml.StreamEndToken):
                return
            line = token.start_mark.line + 1
            if isinstance(token, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError([Problem(file, line, "", f"nesting is deeper than {MAX_DEPTH} levels", "yaml-limit")])
            elif isinstance(token, closing):
                depth -= 1
            elif isinstance(token, yaml.AliasToken):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise YamlError([Problem(file, line, "", f"more than {MAX_ALIASES} YAML aliases (*name); write the values out", "yaml-limit")])
            elif isinstance(token, yaml.ScalarToken) and token.plain and len(token.value) > MAX_SCALAR_DIGITS and token.value.lstrip("+-").replace("_", "").isdigit():
                raise YamlError([Problem(file, line, "", f"number has more than {MAX_SCALAR_DIGITS} digits", "yaml-limit")])
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, file: str) -> None:
    """Count values after alias expansion without expanding (memoised over the node graph)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    active: set[int] = set()
    while stack:
        current, done = stack.pop()
        key = id(current)
        children = []
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        if done:
            active.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                raise YamlError([Problem(file, current.start_mark.line + 1, "", f"the document expands to more than {MAX_NODES:,} values (YAML aliases); write the values out", "yaml-limit")])
            continue
        if key in sizes:
            continue
        if key in active:
            raise YamlError([Problem(file, current.start_mark.line + 1, "", "a YAML alias refers to itself", "yaml-limit")])
        active.add(key)
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


_ALLOWED_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}


def _build(loader: Any, node: yaml.Node, path: Path, out: Located, problems: list[Problem], file: str) -> Any:
    line = node.start_mark.line + 1
    out.lines.setdefault(path, line)
    if node.tag not in _ALLOWED_TAGS:
        problems.append(Problem(file, line, _dotted(path), f"YAML tag {node.tag!r} is not allowed in records; write a plain value", "yaml-syntax"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(file, key_node.start_mark.line + 1, _dotted(path), "YAML merge keys (<<) are not allowed in records"))
                continue
            key = _build(loader, key_node, path + ("<key>",), Located(None), problems, file)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(Problem(file, key_node.start_mark.line + 1, _dotted(path), f"mapping key must be a scalar, got {type(key).__name__}"))
                continue
            if key in result:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        _dotted(path + (key,)),
                        f"duplicate key {key!r} (first defined on line {out.lines.get(path + (key,), '?')}); remove one of them",
                        "duplicate-key",
                    )
                )
                continue
            out.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, path + (key,), out, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            out.lines[path + (index,)] = item.start_mark.line + 1
            items.append(_build(loader, item, path + (index,), out, problems, file))
        return items
    return _scalar(loader, node)


def _dotted(path: Path) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


dotted = _dotted


def load_yaml(text: str, file: str) -> Located:
    """Parse one YAML document safely; raise :class:`YamlError` with located problems."""
    _limits(text, file)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise YamlError([Problem(file, line, "", f"YAML syntax error: {exc.problem or exc}", "yaml-syntax")]) from None
        except yaml.YAMLError as exc:
            raise YamlError([Problem(file, None, "", f"YAML error: {exc}", "yaml-syntax")]) from None
        out = Located(None)
        if node is None:
            raise YamlError([Problem(file, 1, "", "empty document", "yaml-empty")])
        _expanded_size(node, file)
        problems: list[Problem] = []
        try:
            out.data = _build(loader, node, (), out, problems, file)
        except ValueError as exc:  # e.g. an integer over Python's digit limit
            raise YamlError([Problem(file, getattr(exc, "line", None), "", f"value cannot be read: {str(exc).splitlines()[0]}", "yaml-limit")]) from None
        except yaml.YAMLError as exc:  # e.g. a bad timestamp or an unknown tag
            mark = getattr(exc, "problem_mark", None)
            raise YamlError([Problem(file, mark.line + 1 if mark else None, "", f"YAML error: {getattr(exc, 'problem', exc)}", "yaml-syntax")]) from None
        if problems:
            raise YamlError(problems)
        return out
    finally:
        loader.dispose()
