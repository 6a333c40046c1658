"""Where the catalogue and its cache live, and when the cache is stale.

Only ``os`` (already loaded by every Python start) is used, because the fast
query path calls these before anything else.
"""

from __future__ import annotations

import os
import zlib

CACHE_FORMAT = 3
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Sources whose change invalidates cached records and facts.
_FINGERPRINTED = ("schema", os.path.join("store", "lint.py"), os.path.join("graph", "fields.py"), os.path.join("graph", "facts.py"))


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


def manifest(files: list[str]) -> tuple:
    entries = []
    for path in files:
        st = os.stat(path)
        entries.append((os.path.basename(path), st.st_size, st.st_mtime_ns))
    return tuple(entries)


def schema_fingerprint() -> tuple:
    parts: list = [CACHE_FORMAT]
    for rel in _FINGERPRINTED:
        path = os.path.join(PACKAGE_DIR, rel)
        names = sorted(n for n in os.listdir(path) if n.endswith(".py")) if os.path.isdir(path) else [""]
        for name in names:
            st = os.stat(os.path.join(path, name) if name else path)
            parts.append((rel, name, st.st_size, st.st_mtime_ns))
    return tuple(parts)


def cache_path(root: str) -> str | None:
    """The cache file for a catalogue directory, or None when caching is off (PEFTREF_NO_CACHE)."""
    if os.environ.get("PEFTREF_NO_CACHE"):
        return None
    base = os.environ.get("PEFTREF_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "peftref-kb")
    key = os.path.realpath(root).encode()
    return os.path.join(base, f"catalogue-{zlib.crc32(key):08x}{zlib.adler32(key):08x}.pickle")
