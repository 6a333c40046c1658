"""A fast path for `peftref query` when the catalogue cache is fresh.

It reads the cached facts (a JSON file written beside the catalogue cache)
and evaluates the query without importing typer, rich, pydantic, PyYAML or
even ``re``, so a query starts about as fast as Python itself.  Anything
unusual (other options, --help, a stale or missing cache) returns False and
the full typer app handles the command, printing the same output.
"""

from __future__ import annotations

import os
import sys


def _parse_args(args: list[str]) -> dict | None:
    opts = {"text": None, "json": False, "explain": False, "catalogue": None}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--json":
            opts["json"] = True
        elif arg == "--explain":
            opts["explain"] = True
        elif arg in ("--catalogue", "-C") and i + 1 < len(args):
            opts["catalogue"] = args[i + 1]
            i += 1
        elif arg.startswith("--catalogue="):
            opts["catalogue"] = arg.split("=", 1)[1]
        elif arg.startswith("-") or opts["text"] is not None:
            return None  # --help, unknown options, two texts: typer decides
        else:
            opts["text"] = arg
        i += 1
    return opts if opts["text"] is not None else None


def _cached_facts(root: str) -> dict | None:
    from ..store import fingerprint

    cache = fingerprint.cache_path(root)
    if cache is None or not os.path.isdir(root):
        return None
    try:
        files = fingerprint.record_files(root)
        key = fingerprint.cache_key(files)
    except OSError:
        return None
    stored = fingerprint.read_json(fingerprint.facts_path(cache), key) if files else None
    if stored is None or not isinstance(stored.get("facts"), dict):
        return None
    try:
        return fingerprint.facts_from_json(stored["facts"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def try_query(args: list[str]) -> bool:
    opts = _parse_args(args)
    if opts is None:
        return False
    from ..store import fingerprint

    facts = _cached_facts(opts["catalogue"] or fingerprint.data_dir("catalogue"))
    if facts is None:
        return False
    from ..graph.index import Index
    from ..graph.query import QueryError, run_query
    from .query_output import render

    class _Cached:  # run_query needs only `.facts` and `.index`
        pass

    _Cached.facts = facts
    _Cached.index = Index(facts)
    try:
        result = run_query(_Cached, opts["text"])
    except QueryError as exc:
        if os.environ.get("PEFTREF_DEBUG"):
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    out, err = render(result, opts["json"], opts["explain"])
    sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    return True
