"""Load a catalogue directory: every record, validated, linted and cached.

``load_catalogue()`` reads the bundled catalogue; ``load_catalogue(DIR)``
reads a user's own (``DIR/methods/*.yaml`` or ``DIR/*.yaml``).  Parsed records
are cached as plain JSON data per directory (never a pickle: nothing read
from a cache can run code), keyed by a hash of every record file and of the
schema, vocabulary, facts and lint sources (:mod:`.fingerprint`), so an
unchanged catalogue loads without parsing YAML or re-running lint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from typing import TYPE_CHECKING

from . import fingerprint
from .problems import Problem

if TYPE_CHECKING:  # pydantic and PyYAML load only when records are parsed, not for cached queries
    from ..schema.models import Method

class CatalogueError(Exception):
    """The catalogue could not be loaded; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems


def data_dir(name: str) -> Path:
    return Path(fingerprint.data_dir(name))


def default_catalogue_dir() -> Path:
    return data_dir("catalogue")


def record_files(root: Path) -> list[Path]:
    return [Path(p) for p in fingerprint.record_files(str(root))]


class Catalogue:
    """Validated records with lookup by id (or alias) and iteration in id order.

    Records loaded from the cache stay plain JSON data until first used, then
    are validated into models; queries read ``facts`` (flat per-field values)
    and never need the pydantic objects.
    """

    def __init__(self, root: Path, records: "dict[str, Method | dict]", files: dict[str, str], lines: dict[str, dict | list], facts: dict[str, dict]):
        self.root = root
        self._records = dict(sorted(records.items()))
        self.files = files
        self._lines = lines
        self.facts = dict(sorted(facts.items()))
        self._aliases: dict[str, str] | None = None
        self._graph = None
        self._index = None

    @property
    def index(self):
        """Inverted index over ``facts`` for queries (built on first use)."""
        if self._index is None:
            from ..graph.index import Index

            self._index = Index(self.facts)
        return self._index

    def _record(self, method_id: str) -> Method:
        record = self._records[method_id]
        if isinstance(record, dict):
            from ..schema.models import Method

            record = self._records[method_id] = Method.model_validate(record)
        return record

    def lines(self, method_id: str) -> dict:
        lines = self._lines[method_id]
        if isinstance(lines, list):
            lines = self._lines[method_id] = {tuple(path): line for path, line in lines}
        return lines

    # -- lookup --------------------------------------------------------------
    def __iter__(self) -> Iterator[Method]:
        return (self._record(method_id) for method_id in self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, method_id: object) -> bool:
        return method_id in self._records

    def __getitem__(self, method_id: str) -> Method:
        return self._record(self.resolve(method_id))

    @property
    def ids(self) -> list[str]:
        return list(self._records)

    def get(self, method_id: str) -> Method | None:
        try:
            return self[method_id]
        except KeyError:
            return None

    def _alias_map(self) -> dict[str, str]:
        if self._aliases is None:
            self._aliases = {}
            for method in self:
                for alias in [method.name, *method.aliases]:
                    self._aliases.setdefault(alias.lower(), method.id)
        return self._aliases

    def resolve(self, name: str) -> str:
        """The id for an id, name or alias (case-insensitive); KeyError with suggestions otherwise."""
        if name in self._records:
            return name
        key = name.lower()
        if key in self._records:
            return key
        aliases = self._alias_map()
        if key in aliases:
            return aliases[key]
        import difflib

        candidates = difflib.get_close_matches(key, list(self._records) + list(aliases), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(sorted({aliases.get(c, c) for c in candidates}))}?" if candidates else ""
        raise KeyError(f"no method {name!r} in the catalogue at {self.root}{hint}")

    # -- graph layer (lazily built) -------------------------------------------
    @property
    def graph(self):
        if self._graph is None:
            from ..graph.build import build_graph

            self._graph = build_graph(self)
        return self._graph

    def query(self, text: str):
        from ..graph.query import run_query

        return run_query(self, text)

    def diff(self, a: str, b: str):
        from ..graph.diff import diff_facts

        return diff_facts(self.facts[self.resolve(a)], self.facts[self.resolve(b)])

    def similar(self, method_id: str, k: int = 5):
        from ..graph.diff import similar_methods

        return similar_methods(self, self.resolve(method_id), k)


def load_catalogue(path: str | os.PathLike | None = None, *, lint_records: bool = True) -> Catalogue:
    """Load, validate and lint a catalogue directory (the bundled one by default).

    Raises :class:`CatalogueError` listing every problem of every file.
    """
    root = Path(path) if path is not None else default_catalogue_dir()
    if not root.exists():
        raise CatalogueError([Problem(str(root), None, "", "catalogue directory does not exist", "io")])
    if not root.is_dir():
        raise CatalogueError([Problem(str(root), None, "", "not a directory; --catalogue takes a directory holding methods/*.yaml", "io")])
    try:
        files = record_files(root)
    except OSError as exc:  # e.g. a symlink loop or an unreadable directory
        raise CatalogueError([Problem(getattr(exc, "filename", None) or str(root), None, "", f"cannot read: {exc.strerror or exc}", "io")]) from None
    if not files:
        raise CatalogueError([Problem(str(root), None, "", "no *.yaml records found (looked in methods/ and the directory itself)", "empty")])

    try:
        key = fingerprint.cache_key([str(f) for f in files])
    except OSError as exc:
        raise CatalogueError([Problem(getattr(exc, "filename", None) or str(root), None, "", f"cannot read file: {exc.strerror}", "io")]) from None
    cache = fingerprint.cache_path(str(root))
    stored = _read_cache(cache, key)
    if stored is not None:
        catalogue = Catalogue(root, stored["records"], stored["files"], stored["lines"], stored["facts"])
        linted = stored["linted"]
    else:
        from ..graph.facts import method_facts

        methods, file_of, lines, problems = _parse_all(files)
        if problems:
            raise CatalogueError(problems)
        catalogue = Catalogue(root, methods, file_of, lines, {mid: method_facts(m) for mid, m in methods.items()})
        linted = False
    if lint_records and not linted:
        from .lint import lint

        problems = lint({m.id: m for m in catalogue}, catalogue.files, {mid: catalogue.lines(mid) for mid in catalogue.ids})
        if problems:
            raise CatalogueError(problems)
        linted = True
    if stored is None or linted != stored["linted"]:
        _write_cache(cache, key, catalogue, linted)
    return catalogue


def _parse_all(files: list[Path]):
    from .records import RecordError, load_record

    methods: dict[str, Method] = {}
    file_of: dict[str, str] = {}
    lines: dict[str, dict] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            method, line_map = load_record(file)
        except RecordError as exc:
            problems.extend(exc.problems)
            continue
        if method.id in methods:
            problems.append(Problem(str(file), line_map.get(("id",)), "id", f"id {method.id!r} is also used by {file_of[method.id]}; ids must be unique", "PR100"))
            continue
        methods[method.id] = method
        file_of[method.id] = str(file)
        lines[method.id] = line_map
    return methods, file_of, lines, problems


def _read_cache(cache: str | None, key: list) -> dict | None:
    stored = fingerprint.read_json(cache, key)
    if stored is None:
        return None
    try:  # a cache of the wrong shape is rebuilt, never trusted
        if not all(isinstance(stored.get(k), dict) for k in ("records", "files", "lines", "facts")) or not isinstance(stored.get("linted"), bool):
            return None
        if not (set(stored["records"]) == set(stored["files"]) == set(stored["lines"]) == set(stored["facts"])):
            return None
        if not all(isinstance(r, dict) for r in stored["records"].values()) or not all(isinstance(v, list) for v in stored["lines"].values()):
            return None
        stored["facts"] = fingerprint.facts_from_json(stored["facts"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return stored


def _record_json(record) -> dict:
    return record if isinstance(record, dict) else record.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _lines_json(lines) -> list:
    return lines if isinstance(lines, list) else [[list(path), line] for path, line in lines.items()]


def _write_cache(cache: str | None, key: list, catalogue: Catalogue, linted: bool) -> None:
    if cache is None:
        return
    payload = {
        "key": key,
        "records": {mid: _record_json(r) for mid, r in catalogue._records.items()},
        "lines": {mid: _lines_json(v) for mid, v in catalogue._lines.items()},
        "files": catalogue.files,
        "facts": catalogue.facts,
        "linted": linted,
    }
    fingerprint.write_json(cache, payload)
    if linted:  # the facts alone, for the light commands that need nothing else (cli/fast.py)
        fingerprint.write_json(fingerprint.facts_path(cache), {"key": key, "facts": catalogue.facts})


def _evidence_problems(catalogue: Catalogue) -> list[Problem]:
    """Problems of the catalogue's results and recommendations files, when it has them."""
    from .results import RECOMMENDATIONS_FILE, RESULTS_DIR, ResultsError, load_recommendations, load_results

    problems: list[Problem] = []
    results = None
    if (catalogue.root / RESULTS_DIR).is_dir():
        try:
            results = load_results(catalogue)
        except ResultsError as exc:
            problems.extend(exc.problems)
    if (catalogue.root / RECOMMENDATIONS_FILE).is_file():
        try:
            load_recommendations(catalogue, results=results)
        except ResultsError as exc:
            problems.extend(exc.problems)
    return problems


def validate_paths(paths: list[Path], context: Path | None = None) -> tuple[int, list[Problem]]:
    """Validate record files or catalogue directories; returns (records checked, problems).

    Single files are linted together with the ``context`` catalogue (the
    bundled one by default), so a private record may relate to bundled methods.
    """
    from .lint import lint
    from .records import RecordError, load_record, style_problems

    problems: list[Problem] = []
    count = 0
    loose: dict[str, tuple[Method, str, dict]] = {}
    seen_files: set[str] = set()

    def style(file: Path) -> None:
        try:
            problems.extend(style_problems(file.read_text(encoding="utf-8"), str(file)))
        except (OSError, UnicodeDecodeError):
            pass  # reported as an error by the loader

    for path in paths:
        if path.is_dir():
            try:
                files = record_files(path)
            except OSError as exc:
                problems.append(Problem(str(path), None, "", f"cannot read: {exc.strerror or exc}", "io"))
                continue
            count += len(files)
            for file in files:
                style(file)
            try:
                catalogue = load_catalogue(path)
            except CatalogueError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(_evidence_problems(catalogue))
        elif path.is_file():
            real = os.path.realpath(path)
            if real in seen_files:
                continue  # the same file named twice
            seen_files.add(real)
            count += 1
            style(path)
            try:
                method, line_map = load_record(path)
            except RecordError as exc:
                problems.extend(exc.problems)
                continue
            if method.id in loose:
                problems.append(Problem(str(path), line_map.get(("id",)), "id", f"id {method.id!r} is also used by {loose[method.id][1]}; ids must be unique", "PR100"))
                continue
            loose[method.id] = (method, str(path), line_map)
        else:
            problems.append(Problem(str(path), None, "", "no such file or directory", "io"))
    if loose:
        try:
            base = load_catalogue(context, lint_records=False)  # only its records are needed as context
            methods = {m.id: m for m in base}
            files, lines = dict(base.files), {mid: base.lines(mid) for mid in base.ids}
        except CatalogueError:
            methods, files, lines = {}, {}, {}
        for method_id, (method, file, line_map) in loose.items():
            methods[method_id], files[method_id], lines[method_id] = method, file, line_map
        wanted = {file for _, file, _ in loose.values()}
        problems.extend(p for p in lint(methods, files, lines) if p.file in wanted)
    return count, problems
