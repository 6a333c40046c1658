"""Property queries in plain words and in a precise form.

Both forms parse to one tree of :class:`Atom`, :class:`And`, :class:`Or` and
:class:`Not`.  Precise conditions look like ``field=value`` (also ``!=``,
``<``, ``<=``, ``>``, ``>=``) with dotted field paths; words between them are
read as plain language through a lexicon built from the vocabulary's values,
labels and synonyms and the fields' cue words (:mod:`.fields`).  ``and``,
``or``, ``not`` and parentheses combine either.

Semantics: conditions are evaluated per component, with method-level facts
(class, efficiency, scale) visible from every component.  A method matches
when one of its components satisfies the whole condition — so conditions on
component properties must hold *within one component* of a hybrid.
"""

from __future__ import annotations

# No re, dataclasses or typing here: this module is on the fast path of
# `peftref query`, where those imports alone would double the start-up time.

from ..schema.vocabulary import VOCABULARIES
from . import fields as F
from .facts import get
from .locations import overlaps

# Which vocabulary a word belongs to when several have it and no cue word says
# (e.g. "attention" is a position, a workspace and a modified representation).
VOCABULARY_PRIORITY = (
    "position",
    "lialin_class",
    "insertion_form",
    "composition",
    "inference_overhead",
    "parameter_sharing",
    "functional_form",
    "integration_form",
    "parameter_adaptation",
    "workspace",
    "modified_representation",
    "input_type",
    "number_of_insertions",
    "intra_connectivity",
    "inter_connectivity",
    "method_kind",
)
# Words that carry no condition in plain-language queries.
STOP_WORDS = frozenset(
    """a an the all any some me show find list give which that whose who with within where what are is be been being
    have has having of on in at to for by from into onto as its their it they them method methods technique techniques
    approach approaches peft module modules model models evaluated tested applied apply applies using use uses used
    only also both either please parameters parameter do does insert inserts""".split()
)
NEGATIONS = frozenset({"no", "not", "without", "non", "never"})
# Model-scale phrases of Lialin et al. Table 2 (its <1B / <20B / >20B columns).
SCALE_PHRASES: dict[str, tuple[str, ...]] = {
    "scale.evaluated_on.gt_20b": ("over 20b", "more than 20b", "above 20b", "larger than 20b", "bigger than 20b", "> 20b", ">20b", "20b+", "beyond 20b", "over 20 billion", "more than 20 billion"),
    "scale.evaluated_on.lt_20b": ("under 20b", "below 20b", "less than 20b", "smaller than 20b", "< 20b", "<20b", "up to 20b"),
    "scale.evaluated_on.lt_1b": ("under 1b", "below 1b", "less than 1b", "smaller than 1b", "< 1b", "<1b", "sub 1b"),
}
COMPARATORS = ("!=", "<=", ">=", "=", "<", ">")


class QueryError(ValueError):
    """A query the parser cannot read; the message names the problem and suggests terms."""


# --------------------------------------------------------------------------- tree


class _Value:
    """Immutable-by-convention value object with equality over its slots."""

    __slots__ = ()

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(repr(v) for v in self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key()!r}"


class Atom(_Value):
    """One condition: a value (or comparison) on one or more fields."""

    __slots__ = ("fields", "op", "value", "text")

    def __init__(self, fields: tuple, op: str, value, text: str):
        self.fields, self.op, self.value, self.text = tuple(fields), op, value, text  # text: what the user wrote

    @property
    def level(self) -> str:
        return "component" if any(f.level == "component" for f in self.fields) else "method"

    def describe(self) -> str:
        names = " or ".join(f.name for f in self.fields)
        return f"{names}{self.op}{self.value}"


class Not(_Value):
    __slots__ = ("item",)

    def __init__(self, item):
        self.item = item


class And(_Value):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)


class Or(_Value):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)


def atoms_of(node: Node) -> list[Atom]:
    if isinstance(node, Atom):
        return [node]
    if isinstance(node, Not):
        return atoms_of(node.item)
    return [a for item in node.items for a in atoms_of(item)]


# --------------------------------------------------------------------------- lexicon


_PUNCTUATION = str.maketrans({c: " " for c in ",;:!?\"'`_-"} | {"³": "3"})


def _norm(text: str) -> str:
    return " ".join(text.lower().translate(_PUNCTUATION).split())


class Entry(_Value):
    __slots__ = ("kind", "vocabulary", "value", "fields")

    def __init__(self, kind: str, vocabulary: str | None = None, value=None, fields: tuple = ()):
        self.kind, self.vocabulary, self.value, self.fields = kind, vocabulary, value, tuple(fields)  # kind: value | cue | atom


class Lexicon:
    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        for vocabulary in VOCABULARY_PRIORITY:
            if not F.vocabulary_fields(vocabulary):
                continue
            for term in VOCABULARIES[vocabulary].terms:
                for phrase in {term.value, term.label, *term.synonyms}:
                    self._add(phrase, Entry("value", vocabulary, term.value))
        for fld in F.FIELDS:
            if fld.kind in ("bool",) or (fld.kind == "enum" and fld.vocabulary == "yes_no"):
                for cue in fld.cues:
                    self._add(cue, Entry("atom", None, True if fld.kind == "bool" else "yes", (fld,)))
            elif fld.kind in ("enum", "position"):
                for cue in fld.cues:
                    self._add(cue, Entry("cue", fld.vocabulary, None, (fld,)))
        for name, phrases in SCALE_PHRASES.items():
            for phrase in phrases:
                self._add(phrase, Entry("atom", None, "yes", (F.BY_NAME[name],)))
        self.max_len = max(len(k) for k in self.phrases)
        self.words_in_phrases = frozenset(word for key in self.phrases for word in key)

    def _add(self, phrase: str, entry: Entry) -> None:
        key = tuple(_norm(phrase).split())
        if len(key) == 1 and key[0] in STOP_WORDS:  # "parameters", "input"… carry no condition alone
            return
        if key and entry not in self.phrases.setdefault(key, []):
            self.phrases[key].append(entry)

    def words(self) -> list[str]:
        return sorted({" ".join(k) for k in self.phrases})

    def suggest(self, word: str, n: int = 5) -> list[str]:
        import difflib

        vocab = self.words()
        close = difflib.get_close_matches(word, vocab, n=n, cutoff=0.6)
        if len(close) < n:
            close += [w for w in vocab if word in w.split() and w not in close][: n - len(close)]
        return close[:n]


_LEXICON: Lexicon | None = None


def lexicon() -> Lexicon:
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = Lexicon()
    return _LEXICON


# --------------------------------------------------------------------------- tokens

_OPERATOR_CHARS = "=<>!"
_WORD_OPS = {"and": "and", "or": "or", "not": "not", "&&": "and", "||": "or", "!": "not"}


def _split_comparison(token: str):
    """(name, op, value) when ``token`` is ``identifier OP value``, else None."""
    for i, ch in enumerate(token):
        if ch in _OPERATOR_CHARS:
            name = token[:i].strip()
            op = token[i : i + 2] if token[i : i + 2] in ("!=", "<=", ">=") else ch
            if op == "!":
                return None
            value = token[i + len(op) :].strip()
            if name and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c in "_." for c in name):
                return name, op, value
            return None
    return None


def _raw_tokens(text: str) -> list[str]:
    """Split on whitespace and parentheses, keeping quoted strings whole."""
    out: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'" and current and current[-1] in _OPERATOR_CHARS:
            end = text.find(ch, i + 1)
            end = len(text) if end < 0 else end + 1
            current += text[i:end]
            i = end
            continue
        if ch.isspace() or ch in "()":
            if current:
                out.append(current)
                current = ""
            if ch in "()":
                out.append(ch)
        else:
            current += ch
        i += 1
    if current:
        out.append(current)
    return out


def _tokens(text: str) -> list[tuple[str, str]]:
    raw = _raw_tokens(text)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        if token in "()":
            out.append(("paren", token))
        elif token.lower() in _WORD_OPS:
            out.append(("op", _WORD_OPS[token.lower()]))
        elif _split_comparison(token) and _split_comparison(token)[2]:
            out.append(("cmp", token))  # field=value written in one piece
        else:
            # `field = value`, `field =value`, `field= value`: only for names of known fields,
            # so plain words like "models <20B" stay words
            merged = None
            if F.fields_named(token.rstrip(_OPERATOR_CHARS)) and i + 1 < len(raw):
                for span in (2, 3):
                    candidate = " ".join(raw[i : i + span])
                    parts = _split_comparison(candidate)
                    if parts and parts[2] and parts[0] == token.rstrip(_OPERATOR_CHARS) and i + span <= len(raw):
                        merged = (candidate, span)
                        break
            if merged:
                out.append(("cmp", merged[0]))
                i += merged[1] - 1
            else:
                out.append(("word", token))
        i += 1
    return out


# --------------------------------------------------------------------------- parsing


def _resolve_value(fld: F.Field, raw: str):
    raw = raw.strip().strip("\"'")
    if fld.kind in ("number", "range"):
        try:
            return float(raw.rstrip("%"))
        except ValueError:
            raise QueryError(f"{fld.name} takes a number, got {raw!r}") from None
    if fld.kind == "bool":
        low = raw.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise QueryError(f"{fld.name} is true or false, got {raw!r}")
    if fld.kind == "text":
        return raw
    vocabulary = VOCABULARIES[fld.vocabulary]
    key = _norm(raw)
    for term in vocabulary.terms:
        if key in {_norm(term.value), _norm(term.label), *(_norm(s) for s in term.synonyms)}:
            return term.value
    import difflib

    close = difflib.get_close_matches(raw.lower(), vocabulary.values(), n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise QueryError(f"{raw!r} is not a value of {fld.name}. Allowed: {', '.join(vocabulary.values())}.{hint}")


def _comparison(token: str) -> Atom:
    name, op, raw = _split_comparison(token)
    found = F.fields_named(name)
    if not found:
        import difflib

        close = difflib.get_close_matches(name.lower(), [f.name for f in F.FIELDS] + [f.short for f in F.FIELDS], n=4, cutoff=0.5)
        hint = f" Did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
        raise QueryError(f"unknown field {name!r}.{hint} Fields: {', '.join(f.name for f in F.FIELDS)}")
    kinds = {f.kind for f in found}
    if op in ("<", "<=", ">", ">=") and not kinds <= {"number", "range"}:
        raise QueryError(f"{name} is not numeric; use = or != with it")
    value = _resolve_value(found[0], raw)
    return Atom(tuple(found), "=" if op == "=" else op, value, token)


def _phrase_atoms(words: list[str]) -> Node:
    """Plain-language words (no operators) to a conjunction of atoms."""
    lex = lexicon()
    tokens = [_singular(t, lex) for t in _norm(" ".join(words)).split()]
    items: list[tuple[str, Any, str]] = []  # (kind, payload, text)
    i = 0
    while i < len(tokens):
        for length in range(min(lex.max_len, len(tokens) - i), 0, -1):
            key = tuple(tokens[i : i + length])
            if key in lex.phrases:
                items.append(("lex", lex.phrases[key], " ".join(key)))
                i += length
                break
        else:
            word = tokens[i]
            if word in NEGATIONS:
                items.append(("neg", None, word))
            elif word not in STOP_WORDS:
                suggestions = lex.suggest(word)
                hint = f" Nearest terms: {', '.join(suggestions)}." if suggestions else ""
                raise QueryError(f"I don't understand {word!r} in {' '.join(words)!r}.{hint} See `peftref query --help` for the precise form.")
            i += 1

    # cue words restrict the field of the value next to them
    atoms: list[Node] = []
    used: set[int] = set()
    for index, (kind, entries, text) in enumerate(items):
        if kind != "lex":
            continue
        values = [e for e in entries if e.kind in ("value", "atom")]
        if not values:
            continue
        cue_fields: tuple[F.Field, ...] = ()
        for neighbour in (index + 1, index - 1):
            if 0 <= neighbour < len(items) and items[neighbour][0] == "lex" and neighbour not in used:
                cues = [e for e in items[neighbour][1] if e.kind == "cue"]
                matching = [c for c in cues if any(v.vocabulary == c.vocabulary for v in values)]
                if matching:
                    cue_fields = tuple(f for c in matching for f in c.fields)
                    used.add(neighbour)
                    break
        atom = _atom_for(values, cue_fields, text)
        negated = index > 0 and items[index - 1][0] == "neg"
        atoms.append(Not(atom) if negated else atom)
        used.add(index)
    for index, (kind, entries, text) in enumerate(items):
        if kind == "lex" and index not in used:
            if all(e.kind == "cue" for e in entries):
                examples = ", ".join(VOCABULARIES[entries[0].vocabulary].values()[:6]) if entries[0].vocabulary else ""
                raise QueryError(f"{text!r} needs a value next to it (e.g. {examples})")
    if not atoms:
        raise QueryError(f"no condition in {' '.join(words)!r}; name a property value, e.g. 'parallel insertion on FFN'")
    return atoms[0] if len(atoms) == 1 else And(tuple(atoms))


def _singular(token: str, lex: Lexicon) -> str:
    """'adapters' -> 'adapter' when only the singular is a known word."""
    if token in lex.words_in_phrases or token in STOP_WORDS or not token.endswith("s"):
        return token
    for stem in (token[:-1], token[:-2] if token.endswith("es") else None):
        if stem and stem in lex.words_in_phrases:
            return stem
    return token


def _atom_for(entries: list[Entry], cue_fields: tuple[F.Field, ...], text: str) -> Atom:
    atom_entries = [e for e in entries if e.kind == "atom"]
    if atom_entries and not cue_fields:
        e = atom_entries[0]
        return Atom(e.fields, "=", e.value, text)
    if cue_fields:
        for e in entries:
            if e.kind == "value" and any(f.vocabulary == e.vocabulary for f in cue_fields):
                return Atom(tuple(f for f in cue_fields if f.vocabulary == e.vocabulary), "=", e.value, text)
    value_entries = sorted((e for e in entries if e.kind == "value"), key=lambda e: VOCABULARY_PRIORITY.index(e.vocabulary))
    e = value_entries[0]
    return Atom(tuple(F.vocabulary_fields(e.vocabulary)), "=", e.value, text)


MAX_NESTING = 50  # parentheses and `not`s inside each other; deeper queries are refused, not a RecursionError


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests parentheses or 'not' more than {MAX_NESTING} deep; simplify it")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query; try 'methods with parallel insertion on FFN' or 'insertion_form=parallel and positions=ffn'")
        node = self.or_expr()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()[1]!r} at the end of the query")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek() == ("op", "or"):
            self.pos += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while True:
            tok = self.peek()
            if tok == ("op", "and"):
                self.pos += 1
                items.append(self.not_expr())
            elif tok is not None and (tok[0] in ("cmp", "word") or tok == ("paren", "(") or tok == ("op", "not")):
                items.append(self.not_expr())  # juxtaposition means and
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.peek() == ("op", "not"):
            self.pos += 1
            self._enter()
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError(f"the query ends where a condition was expected: {self.text!r}")
        kind, value = tok
        if tok == ("paren", "("):
            self.pos += 1
            self._enter()
            node = self.or_expr()
            if self.peek() != ("paren", ")"):
                raise QueryError("missing ')'")
            self.pos += 1
            self.depth -= 1
            return node
        if kind == "paren":
            raise QueryError("unexpected ')'")
        if kind == "cmp":
            self.pos += 1
            return _comparison(value)
        if kind == "op":
            raise QueryError(f"{value!r} needs a condition after it")
        words = []
        while self.peek() is not None and self.peek()[0] == "word":
            words.append(self.peek()[1])
            self.pos += 1
        return _phrase_atoms(words)


def parse(text: str) -> Node:
    if not isinstance(text, str):
        raise QueryError("a query is text")
    if len(text) > 2000:
        raise QueryError("query is longer than 2000 characters")
    return _Parser(text).parse()


# --------------------------------------------------------------------------- evaluation


class Match(_Value):
    __slots__ = ("component", "field", "values", "condition")

    def __init__(self, component: str | None, field: str, values: list, condition: str):
        self.component, self.field, self.values, self.condition = component, field, values, condition

    def to_dict(self) -> dict:
        return {"component": self.component, "field": self.field, "values": self.values, "condition": self.condition}


class Hit:
    """A matching method; ``matches`` (the explanation) is computed on first use."""

    __slots__ = ("id", "name", "matched_components", "_tree", "_facts", "_matches")

    def __init__(self, id: str, name: str, matched_components: list[str], tree: "Node" = None, facts: dict | None = None):
        self.id, self.name, self.matched_components = id, name, matched_components
        self._tree, self._facts, self._matches = tree, facts, None

    @property
    def matches(self) -> list[Match]:
        if self._matches is None:
            found: list[Match] = []
            for component in self._facts["components"]:
                if component["id"] in self.matched_components:
                    local: list[Match] = []
                    evaluate(self._tree, self._facts, component, local)
                    found.extend(m for m in local if m not in found)
            self._matches = found
        return self._matches

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "matched_components": self.matched_components, "matches": [m.to_dict() for m in self.matches]}

    def __repr__(self) -> str:
        return f"Hit({self.id!r}, components={self.matched_components!r})"


class QueryResult:
    __slots__ = ("text", "tree", "hits", "empty_reason")

    def __init__(self, text: str, tree, hits: list, empty_reason: str | None = None):
        self.text, self.tree, self.hits, self.empty_reason = text, tree, hits, empty_reason

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.hits]


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return {"=": actual == wanted, "!=": actual != wanted, "<": actual < wanted, "<=": actual <= wanted, ">": actual > wanted, ">=": actual >= wanted}[op]
    return False


def _range_holds(op: str, rng: tuple, wanted: float) -> bool:
    """True when some value in the reported range ``(text, low, high)`` satisfies the comparison."""
    _, low, high = rng
    low = low if low is not None else high
    high = high if high is not None else float("inf")
    if low is None:
        return False
    return {
        "=": low <= wanted <= high,
        "!=": not (low == high == wanted),
        "<": low < wanted,
        "<=": low <= wanted,
        ">": high > wanted,
        ">=": high >= wanted,
    }[op]


def _field_hits(atom: Atom, fld: F.Field, vals: tuple) -> list:
    if fld.kind == "position":
        covered = overlaps(atom.value, list(vals))
        return covered if atom.op == "=" else ([] if covered else list(vals))
    if fld.kind == "range":
        return [v[0] for v in vals if _range_holds(atom.op, v, atom.value)]
    if fld.kind == "number":
        return [v for v in vals if _compare(atom.op, v, atom.value)]
    if fld.kind == "text":
        wanted = str(atom.value).lower()
        return [v for v in vals if (str(v).lower() == wanted) == (atom.op == "=")]
    return [v for v in vals if (v == atom.value) == (atom.op == "=")]


def evaluate(node: Node, facts: dict, component: dict | None, matches: list[Match] | None = None) -> bool:
    """Evaluate ``node`` for one component of a method (``facts`` from :mod:`.facts`)."""
    if isinstance(node, Atom):
        result = False
        for fld in node.fields:
            hit = _field_hits(node, fld, get(facts, fld, component))
            if hit:
                result = True
                if matches is not None:
                    where = component["id"] if fld.level == "component" and component is not None else None
                    matches.append(Match(where, fld.name, hit, node.text))
        return result
    if isinstance(node, Not):
        return not evaluate(node.item, facts, component, None)
    if isinstance(node, And):
        return all(evaluate(item, facts, component, matches) for item in node.items)
    return any([evaluate(item, facts, component, matches) for item in node.items])


def _empty_reason(node: Node, index) -> str:
    def methods(n: Node) -> int:
        return len({index.keys[k][0] for k in _keys(n, index)})

    atoms = atoms_of(node)
    counts = [(atom, methods(atom)) for atom in atoms]
    for atom, count in counts:
        if count == 0:
            return f"no method in the catalogue satisfies {atom.text!r} ({atom.describe()})"
    each = ", ".join(f"{a.text!r}: {c}" for a, c in counts)
    if isinstance(node, And):
        for size in range(2, len(node.items) + 1):
            if not _keys(And(node.items[:size]), index):
                last = atoms_of(node.items[size - 1])
                return f"adding {' '.join(a.text for a in last)!r} eliminated every method (each condition alone: {each}); component conditions must hold within one component"
    return f"no method satisfies all conditions together within one component (each alone: {each})"


def _keys(node: Node, index) -> set[int]:
    """Component keys satisfying ``node`` (same semantics as :func:`evaluate`)."""
    if isinstance(node, Not):
        return index.universe - _keys(node.item, index)
    if isinstance(node, And):
        result = _keys(node.items[0], index)
        for item in node.items[1:]:
            if not result:
                break
            result = result & _keys(item, index)
        return result
    if isinstance(node, Or):
        result: set[int] = set()
        for item in node.items:
            result |= _keys(item, index)
        return result
    out: set[int] = set()
    for fld in node.fields:
        if fld.kind == "position":
            hit = index.positions_covering(fld.name, node.value)
            out |= hit if node.op == "=" else index.with_field(fld.name) - hit
        elif fld.kind in ("enum", "bool"):
            if node.op == "=":
                out |= index.with_value(fld.name, node.value)
            else:  # some value differs from the one named
                for (name, value), keys in index.postings.items():
                    if name == fld.name and value is not None and value != node.value:
                        out |= keys
        else:
            out |= {key for key, vals in index.columns.get(fld.name, ()) if _field_hits(node, fld, vals)}
    return out


def run_query(catalogue, text: str) -> QueryResult:
    """Query a :class:`~peftref_kb.store.Catalogue` (anything with ``.facts`` and ``.index``)."""
    tree = parse(text)
    index = catalogue.index
    keys = _keys(tree, index)
    by_method: dict[str, list[str]] = {}
    for key in sorted(keys):
        method_id, component_id = index.keys[key]
        by_method.setdefault(method_id, []).append(component_id)
    facts = catalogue.facts
    hits = [Hit(mid, facts[mid]["name"], comps, tree, facts[mid]) for mid, comps in by_method.items()]
    result = QueryResult(text, tree, hits)
    if not hits:
        result.empty_reason = _empty_reason(tree, index)
    return result


QUERY_HELP = """\
Plain words: "methods with parallel insertion on FFN", "selective methods", "methods with no inference overhead",
"methods that share parameters across layers", "hybrid methods evaluated on models over 20B parameters",
"methods with gated composition". Words come from the vocabulary's values and synonyms (peftref schema writes
schema/vocabulary.md); a word next to a field name (insertion, composition, workspace, ...) is read as that field.

Precise form: field=value, field!=value, numeric field<N, <=, >, >= ; combine with and, or, not and parentheses.
Fields are dotted paths, e.g. peft_ref.insertion_form, unified_view.composition, positions, taxonomy.classes,
efficiency.inference_overhead, scale.trainable_percent, scale.evaluated_on.gt_20b, citation.year; a unique suffix
(insertion_form matches both PEFT-Ref's and He et al.'s) works too.
  peftref query "insertion_form=parallel and positions=ffn"
  peftref query "trainable_percent<0.1 and not hybrid"
  peftref query "(composition=gated or composition=scaled) and class=additive"
Component conditions hold within one component of a hybrid; method facts apply to every component.
A range such as % trainable "0.1 - 6" satisfies a comparison when some value in it does.
positions=ffn (or attn, self_attn, cross_attn, embedding) covers that whole part of the block; positions=attn.q one projection.
"""
