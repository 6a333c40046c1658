"""An output directory that a command owns file by file (``site -o DIR``).

A command that writes many files keeps a manifest (``.peftref-manifest.json``)
of what it wrote.  Writing again into the directory is allowed only with
``--force`` and only when everything in it is listed there; a directory that
holds records (``*.yaml``) or any file we did not write is refused even with
``--force``.  After writing, only files from the old manifest that were not
written again are removed: we never delete what we did not write.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MANIFEST = ".peftref-manifest.json"


class OutputDirError(Exception):
    """The directory cannot be written into safely; the message says why."""


def _files(directory: Path) -> list[str]:
    """Every non-directory entry under ``directory`` (relative, '/'-separated), symlinks not followed."""
    found = []
    for top, dirs, names in os.walk(directory, followlinks=False):
        rel_top = os.path.relpath(top, directory)
        for name in names + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            rel = name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/")
            found.append(rel)
    return sorted(found)


def _read_manifest(directory: Path, generator: str) -> set[str] | None:
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("generator") != generator or not isinstance(data.get("files"), list):
        return None
    return {f for f in data["files"] if isinstance(f, str)}


class OwnedDirectory:
    """Check ``directory`` before writing, then ``commit(written)`` to record the new files and drop the stale ones."""

    def __init__(self, directory: str | Path, generator: str, *, force: bool = False):
        self.directory = Path(directory)
        self.generator = generator
        self.previous: set[str] = set()
        d = self.directory
        if d.exists() and not d.is_dir():
            raise OutputDirError(f"{d} exists and is not a directory")
        if not d.exists():
            return
        try:
            present = _files(d)
        except OSError as exc:
            raise OutputDirError(f"cannot read {d}: {exc.strerror}") from None
        if not present:
            return
        records = [f for f in present if f.endswith((".yaml", ".yml"))]
        if records:
            raise OutputDirError(f"{d} holds records ({records[0]}{' …' if len(records) > 1 else ''}); refusing to write into it, even with --force; choose another directory")
        if not force:
            raise OutputDirError(f"{d} is not empty; pass --force to replace a {generator} written there before")
        listed = _read_manifest(d, generator)
        if listed is None:
            raise OutputDirError(f"{d} is not empty and was not written by {generator} (no {MANIFEST}); refusing to write into it, even with --force")
        foreign = [f for f in present if f != MANIFEST and f not in listed]
        if foreign:
            raise OutputDirError(f"{d}/{foreign[0]} was not written by {generator}; refusing to write into {d}, even with --force; move it away first")
        self.previous = set(present) - {MANIFEST}

    def commit(self, written: list[Path]) -> None:
        """Record ``written`` in the manifest and remove files we wrote before but not this time."""
        d = self.directory
        rels = {Path(os.path.relpath(p, d)).as_posix() for p in written}
        for rel in sorted(self.previous - rels):
            path = d / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
            parent = path.parent
            while parent != d and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        (d / MANIFEST).write_text(json.dumps({"generator": self.generator, "files": sorted(rels)}, indent=1) + "\n", encoding="utf-8")
