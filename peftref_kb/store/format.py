"""Canonical text of a record: the schema's key order, the `$schema` line, stable quoting."""

from __future__ import annotations

import yaml

from ..schema.models import Method
from .records import SCHEMA_LINE_PREFIX

SCHEMA_LINE = SCHEMA_LINE_PREFIX + "../../schema/method.schema.json"


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def canonical_data(method: Method) -> dict:
    data = method.model_dump(mode="json", exclude_defaults=True)
    data.pop("kind", None)
    # id, name and kind lead every record, even where kind is the default
    return {"id": data.pop("id"), "name": data.pop("name"), "kind": method.kind, **data}


def canonical_text(method: Method) -> str:
    body = yaml.dump(canonical_data(method), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=160, default_flow_style=False)
    return f"{SCHEMA_LINE}\n{body}"


def comment_lines(text: str) -> list[int]:
    """1-based lines holding a YAML comment, other than the leading `$schema` line.

    The canonical text is generated from the validated data, where comments do
    not survive, so ``fmt`` refuses files that have them rather than drop them.
    A ``#`` is a comment when it lies outside every scalar the YAML scanner saw.
    """
    import bisect

    spans = [(t.start_mark.index, t.end_mark.index) for t in yaml.scan(text, Loader=yaml.SafeLoader) if isinstance(t, yaml.ScalarToken)]
    starts = [s for s, _ in spans]
    lines = []
    skip = len(text.split("\n", 1)[0]) if text.startswith(SCHEMA_LINE_PREFIX) else -1
    index = text.find("#")
    while index != -1:
        if index > skip:
            at = bisect.bisect_right(starts, index) - 1
            if at < 0 or not (spans[at][0] <= index < spans[at][1]):
                line = text.count("\n", 0, index) + 1
                if not lines or lines[-1] != line:
                    lines.append(line)
        index = text.find("#", index + 1)
    return lines
