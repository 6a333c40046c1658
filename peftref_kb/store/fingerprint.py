"""Where the catalogue and its cache live, and when the cache is stale.

The cache is keyed by content, not by file sizes or modification times: a
SHA-256 of every record file (name and bytes) and of the sources that decide
what a record means (the schema and vocabulary, the query fields and facts,
the lint rules).  Only ``os``, ``hashlib`` and ``json`` are used, because the
fast query path calls these before anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

CACHE_FORMAT = 4  # 4: plain JSON data (was a pickle); bump when the layout changes
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Sources whose change invalidates cached records and facts.
_FINGERPRINTED = (
    "schema",
    os.path.join("graph", "fields.py"),
    os.path.join("graph", "facts.py"),
    os.path.join("store", "lint.py"),
    os.path.join("store", "catalogue.py"),
    os.path.join("store", "records.py"),
    os.path.join("store", "yamlio.py"),
)


def data_dir(name: str) -> str:
    """A bundled data directory (``catalogue``, ``schema``, ``renderers``).

    In a source checkout they sit beside the package; in an installed wheel
    they are shipped inside it under ``peftref_kb/_data``.
    """
    top = os.path.dirname(PACKAGE_DIR)
    checkout = os.path.join(top, name)
    if os.path.isdir(checkout) and os.path.isfile(os.path.join(top, "pyproject.toml")):
        return checkout
    return os.path.join(PACKAGE_DIR, "_data", name)


def record_files(root: str) -> list[str]:
    methods = os.path.join(root, "methods")
    directory = methods if os.path.isdir(methods) else root
    with os.scandir(directory) as entries:
        return sorted(e.path for e in entries if e.name.endswith(".yaml") and e.is_file())


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def manifest(files: list[str]) -> list:
    """``[[file name, sha256 of its bytes], ...]``: what the cached records were parsed from."""
    return [[os.path.basename(path), _digest(path)] for path in files]


_SCHEMA_KEY: str | None = None


def schema_fingerprint() -> str:
    """One hash over the cache format and every source that shapes records, facts and lint results."""
    global _SCHEMA_KEY
    if _SCHEMA_KEY is None:
        sha = hashlib.sha256(str(CACHE_FORMAT).encode())
        for rel in _FINGERPRINTED:
            path = os.path.join(PACKAGE_DIR, rel)
            names = sorted(n for n in os.listdir(path) if n.endswith(".py")) if os.path.isdir(path) else [""]
            for name in names:
                full = os.path.join(path, name) if name else path
                sha.update(f"{rel}/{name}\0".encode())
                sha.update(_digest(full).encode())
        _SCHEMA_KEY = sha.hexdigest()
    return _SCHEMA_KEY


def cache_key(files: list[str]) -> list:
    return [schema_fingerprint(), manifest(files)]


def _tuples(values: list) -> tuple:
    return tuple(tuple(v) if type(v) is list else v for v in values)


def facts_from_json(facts: dict) -> dict:
    """Cached facts back into the hashable tuples the index uses (JSON writes tuples as lists)."""
    for one in facts.values():
        one["method"] = {name: _tuples(v) for name, v in one["method"].items()}
        for component in one["components"]:
            component["values"] = {name: _tuples(v) for name, v in component["values"].items()}
    return facts


def cache_dir() -> str:
    return os.environ.get("PEFTREF_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "peftref-kb")


def cache_path(root: str) -> str | None:
    """The cache file for a catalogue directory, or None when caching is off (PEFTREF_NO_CACHE)."""
    if os.environ.get("PEFTREF_NO_CACHE"):
        return None
    key = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:24]
    return os.path.join(cache_dir(), f"catalogue-{key}.json")


def facts_path(cache: str) -> str:
    return cache[: -len(".json")] + ".facts.json"


def _trusted(fd: int) -> bool:
    """A cache file is used only when it is ours and nobody else can write it."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_json(path: str | None, key: list) -> dict | None:
    """The cached JSON object at ``path`` when it is ours, well-formed and made for ``key``; else None.

    JSON is plain data: reading a hostile file can at worst give a wrong
    answer, never run code, and the owner/mode check and the content key
    keep even that from happening.  Anything odd means "rebuild".
    """
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not _trusted(fd):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    finally:
        os.close(fd)
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def write_json(path: str | None, payload: dict) -> None:
    """Write ``payload`` as JSON atomically (temp file + rename), private to the user (0600 in a 0700 directory).

    Caching is an optimisation: any failure (read-only home, full disk) is ignored.
    """
    if path is None:
        return
    import tempfile

    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return  # someone else's directory: do not write our data where they can swap it
        if st.st_mode & 0o077:
            os.chmod(directory, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, ValueError, TypeError):
        pass
