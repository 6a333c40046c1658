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
#
# Plain language is read word by word through one table, ``Lexicon.phrases``:
# stemmed word sequences -> entries.  Its content words come from the
# vocabulary (values, labels, synonyms), the field table (cue words and verbs)
# and, for method names, venues and libraries, from the catalogue's facts.
# The grammar's own function words (comparators, relative positions, question
# forms) are the tables below; no word has an `if` of its own.

_PUNCTUATION = str.maketrans({c: " " for c in ",;:!?\"`_-"} | {"³": "3"})
# Spelling variants the stemmer leaves apart, applied to queries and lexicon alike.
_ORTHOGRAPHY = (("isation", "ization"), ("ised", "ized"), ("ising", "izing"), ("ise ", "ize "), ("parametr", "parameter"),
                ("fine tun", "finetun"), ("optimis", "optimiz"), ("quantis", "quantiz"), ("normalis", "normaliz"))
_CONTRACTIONS = (("can't", "cannot"), ("won't", "will not"), ("n't", " not"), ("'s", ""), ("'", " "))


def _norm(text: str) -> str:
    text = text.lower()
    for old, new in _CONTRACTIONS:
        text = text.replace(old, new)
    text = " ".join(text.translate(_PUNCTUATION).split()) + " "
    for old, new in _ORTHOGRAPHY:
        text = text.replace(old, new)
    return text.strip()


_STEMMER = None
_STEMS: dict[str, str] = {}


def _stem(word: str) -> str:
    """Snowball (Porter 2) stem, so shares/shared/sharing are one word; numbers stay as written."""
    global _STEMMER
    if word not in _STEMS:
        if any(ch.isdigit() for ch in word) or not word.isalpha():
            _STEMS[word] = word
        else:
            if _STEMMER is None:
                import Stemmer  # PyStemmer: C extension, the Snowball data is compiled into its wheel

                _STEMMER = Stemmer.Stemmer("english")
            _STEMS[word] = _STEMMER.stemWord(word)
    return _STEMS[word]


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in _norm(phrase).split())


# Words that carry no condition; --explain lists the ones a query contained.
IGNORED = frozenset(
    """a an the all any some me show find list give which that whose who with within where what how are is be been being
    can could may might will would should was were there here these those this such so
    have has having of on in at to for by from into onto as its their it they them method methods technique techniques
    approach approaches peft module modules model models evaluated tested applied apply applies using use uses used
    only also both either please parameters parameter do does did based style type types kind kinds like
    propose proposed introduce introduced present presented describe described paper papers work works known called
    t ones one each every other others and but inference time modification sub act projection projections matrix matrices vector vectors network""".split()
)
STOP_WORDS = IGNORED  # older name
NEGATIONS = frozenset({"no", "not", "without", "non", "never", "cannot", "nor", "neither", "lack", "lacking", "excluding", "except"})
# Comparators before a number (a year, a percentage, a model size in billions).
COMPARATOR_PHRASES = {
    "<": ("fewer than", "less than", "under", "below", "lower than", "smaller than", "<", "before", "earlier than", "prior to"),
    "<=": ("at most", "no more than", "not more than", "up to", "<=", "until", "or less", "or fewer", "maximum", "max"),
    ">": ("more than", "over", "above", "greater than", "larger than", "bigger than", ">", "after", "later than", "exceeding", "beyond"),
    ">=": ("at least", "no less than", "no fewer than", ">=", "since", "or more", "minimum", "min"),
    "=": ("in", "exactly", "of", "from", "=", "during"),
}
# Phrases after a number that turn its comparison around ("0.1% or less").
_POSTFIX_COMPARATORS = ("or less", "or fewer", "or more")
UNITS = {"%": "percent", "percent": "percent", "pct": "percent", "b": "billion", "billion": "billion", "bn": "billion"}
# Where a module sits relative to a sub-layer -> the insertion forms that placement implies (He et al. §3.2).
RELATIVE_POSITIONS = {
    "after": ("sequential",), "following": ("sequential",), "behind": ("sequential",), "in series with": ("sequential",),
    "before": ("sequential", "prepended"), "in front of": ("prepended", "sequential"), "ahead of": ("prepended", "sequential"),
    "around": ("parallel",), "alongside": ("parallel",), "beside": ("parallel",), "parallel to": ("parallel",), "in parallel to": ("parallel",),
    "in parallel with": ("parallel",), "parallel with": ("parallel",), "bypassing": ("parallel",),
    "inside": (), "within": (), "on": (), "at": (), "in": (), "to": (), "into": (),
}
# Words that name a relation to another method (besides the relation vocabulary's own).
SIMILAR_PHRASES = ("like", "similar to", "resembling", "such as", "close to", "comparable to")
AUTHOR_CUES = ("by", "authored by", "written by", "author", "authors", "from")
VENUE_CUES = ("at", "in", "published at", "published in", "appeared at", "appeared in", "venue")
# Libraries the records' implementations[] name (schema Implementation.library), with the names people use.
LIBRARIES = {"peft": ("hf peft", "huggingface peft", "hugging face peft", "peft library", "in peft", "implemented in peft", "supported by peft", "peft implementation"),
             "adapters": ("adapterhub", "adapter hub", "adapters library", "in adapterhub", "implemented in adapterhub", "supported by adapterhub")}
EXECUTABLE_PHRASES = ("executable", "executable here", "runnable", "run here", "has a reference module", "reference implementation", "can be run", "implemented here")


class Entry(_Value):
    __slots__ = ("kind", "vocabulary", "value", "fields")

    def __init__(self, kind: str, vocabulary: str | None = None, value=None, fields: tuple = ()):
        # kind: value | cue | verb | atom | cmp | relpos | relation | similar | neg | ignore | library | executable
        #       | method | venue | author_cue | venue_cue
        self.kind, self.vocabulary, self.value, self.fields = kind, vocabulary, value, tuple(fields)


class Lexicon:
    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        self.display: dict[tuple[str, ...], str] = {}  # stemmed key -> the phrase as first written, for suggestions
        for vocabulary in VOCABULARY_PRIORITY:
            if not F.vocabulary_fields(vocabulary):
                continue
            for term in VOCABULARIES[vocabulary].terms:
                for phrase in {term.value, term.label, *term.synonyms}:
                    self._add(phrase, Entry("value", vocabulary, term.value))
        for term in VOCABULARIES["relation"].terms:
            for phrase in {term.value, term.label, *term.synonyms}:
                self._add(phrase, Entry("relation", "relation", term.value))
        for fld in F.FIELDS:
            if fld.kind in ("bool",) or (fld.kind == "enum" and fld.vocabulary == "yes_no"):
                for cue in fld.cues:
                    self._add(cue, Entry("atom", None, True if fld.kind == "bool" else "yes", (fld,)))
            elif fld.kind in ("enum", "position", "range", "number"):
                for cue in fld.cues:
                    self._add(cue, Entry("cue", fld.vocabulary, None, (fld,)))
            for verb in fld.verbs:
                self._add(verb, Entry("verb", fld.vocabulary, None, (fld,)))
        for name, phrases in SCALE_PHRASES.items():
            for phrase in phrases:
                self._add(phrase, Entry("atom", None, "yes", (F.BY_NAME[name],)))
        for op, phrases in COMPARATOR_PHRASES.items():
            for phrase in phrases:
                self._add(phrase, Entry("cmp", None, op), force=True)
        for phrase, forms in RELATIVE_POSITIONS.items():
            self._add(phrase, Entry("relpos", None, forms), force=True)
        for phrase in SIMILAR_PHRASES:
            self._add(phrase, Entry("similar"), force=True)
        for phrase in AUTHOR_CUES:
            self._add(phrase, Entry("author_cue"), force=True)
        for phrase in VENUE_CUES:
            self._add(phrase, Entry("venue_cue"), force=True)
        library = (F.BY_NAME["implementations.library"],)
        for value, phrases in LIBRARIES.items():
            for phrase in phrases:  # bare "peft"/"adapters" stay what they were (a stop word, the adapter form)
                self._add(phrase, Entry("library", None, value, library), force=True)
        for phrase in EXECUTABLE_PHRASES:
            self._add(phrase, Entry("executable", None, "", (F.BY_NAME["module"],)), force=True)
        for word in NEGATIONS:
            self._add(word, Entry("neg"), force=True)
        for word in IGNORED:
            self._add(word, Entry("ignore"), force=True)
        self.max_len = max(len(k) for k in self.phrases)

    def _add(self, phrase: str, entry: Entry, force: bool = False) -> None:
        key = _key(phrase)
        if not force and len(key) == 1 and _norm(phrase) in IGNORED:  # "parameters", "input"… carry no condition alone
            return
        if key and entry not in self.phrases.setdefault(key, []):
            self.phrases[key].append(entry)
            self.display.setdefault(key, _norm(phrase))

    def words(self) -> list[str]:
        return sorted({self.display[k] for k, entries in self.phrases.items() if any(e.kind not in ("ignore", "neg") for e in entries)})

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


class Names:
    """Words that come from the catalogue itself: method names and aliases, venues, author surnames."""

    def __init__(self, facts: dict | None) -> None:
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        self.authors: set[str] = set()
        for method_id, fact in (facts or {}).items():
            values = fact.get("method", {})
            for phrase in (method_id, fact.get("name", ""), *values.get("aliases", ())):
                key = _key(str(phrase))
                if key:
                    self.phrases.setdefault(key, [])
                    if Entry("method", None, method_id) not in self.phrases[key]:
                        self.phrases[key].append(Entry("method", None, method_id))
            for venue in values.get("citation.venue", ()):
                word = _norm(str(venue)).split()[:1]
                if word and not word[0].isdigit():
                    self.phrases.setdefault(_key(word[0]), [])
                    if Entry("venue", None, word[0]) not in self.phrases[_key(word[0])]:
                        self.phrases[_key(word[0])].append(Entry("venue", None, word[0]))
            for author in values.get("citation.authors", ()):
                parts = _norm(str(author)).split()
                if parts:
                    self.authors.add(parts[-1])
        self.max_len = max((len(k) for k in self.phrases), default=1)


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
    if fld.kind in ("text", "relation"):
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


def _number(word: str):
    """(value, unit) for '0.1%', '20b', '2021', '0.5'; None when ``word`` is not a number."""
    unit = None
    for suffix in sorted(UNITS, key=len, reverse=True):
        if word.endswith(suffix) and word[: -len(suffix)][-1:].isdigit():
            word, unit = word[: -len(suffix)], UNITS[suffix]
            break
    try:
        return float(word), unit
    except ValueError:
        return None


_PLAIN = ("value", "cue", "verb", "atom")
_FUNCTION = ("cmp", "relpos", "similar", "author_cue", "venue_cue", "ignore")
_NUMERIC_FIELDS = ("scale.trainable_percent", "citation.year")
_YEARS = (1950, 2100)


def _items(words: list[str], names: "Names", notes: list[str]) -> list[list]:
    """Greedy longest match of the stemmed words against the lexicon and the catalogue's names."""
    lex = lexicon()
    raw = _norm(" ".join(words)).split()
    tokens = [_stem(t) for t in raw]
    items: list[list] = []  # [kind, entries, text]
    i = 0
    while i < len(tokens):
        number = _number(raw[i])
        if number is not None:
            value, unit = number
            if unit is None and i + 1 < len(raw) and raw[i + 1] in UNITS:
                unit = UNITS[raw[i + 1]]
                i += 1
            items.append(["num", (value, unit), raw[i] if unit else str(raw[i])])
            i += 1
            continue
        matches = []
        for table, longest in ((lex.phrases, lex.max_len), (names.phrases, names.max_len)):
            for length in range(min(longest, len(tokens) - i), 0, -1):
                key = tuple(tokens[i : i + length])
                if key in table:
                    matches.append((length, list(table[key])))
                    break
        best, entries = matches[0] if matches else (0, [])
        if len(matches) == 2 and (matches[0][1] is not matches[1][1]) and any(e.kind == "method" for e in matches[-1][1]):
            # a method name wins where a relation asks for one ("variants of LoRA", "LoRA variants")
            # or where the vocabulary has no word; otherwise the vocabulary's reading stands
            name_length, name_entries = matches[-1]
            after = tuple(tokens[i + name_length : i + name_length + 2])
            # the nearest earlier word that is neither ignored nor another name ("combining prefix tuning and LoRA")
            before = next((x for x in reversed(items) if _kinds(x) - {"ignore"} and _method_of(x) is None), None)
            wants_name = (before is not None and _kinds(before) & {"relation", "similar"}) or any(
                any(e.kind in ("relation", "similar") for e in lex.phrases.get(after[:n], ())) for n in (1, 2))
            lexicon_words = [m for m in matches if not any(e.kind == "method" for e in m[1])]
            if wants_name or not lexicon_words or all(e.kind == "ignore" for e in lexicon_words[0][1]):
                best, entries = name_length, name_entries
        if best:
            items.append(["lex", entries, " ".join(raw[i : i + best])])
            i += best
            continue
        word = raw[i]
        if items and _has(items[-1], "author_cue") and word in names.authors:
            items.append(["author", word, word])
            i += 1
            continue
        suggestions = lex.suggest(word)
        if items and _has(items[-1], "author_cue") and names.authors:
            import difflib

            suggestions = difflib.get_close_matches(word, sorted(names.authors), n=5, cutoff=0.6) or suggestions
        hint = f" Nearest terms: {', '.join(suggestions)}." if suggestions else ""
        raise QueryError(f"I don't understand {word!r} in {' '.join(words)!r}.{hint} See `peftref query --help` for the precise form.")
    return items


def _kinds(item) -> set:
    return {e.kind for e in item[1]} if item[0] == "lex" else {item[0]}


def _has(item, kind: str) -> bool:
    return item is not None and kind in _kinds(item)


def _position_entry(item):
    if item is None or item[0] != "lex":
        return None
    return next((e for e in item[1] if e.kind == "value" and e.vocabulary == "position"), None)


def _method_of(item):
    if item is None or item[0] != "lex":
        return None
    return next((e.value for e in item[1] if e.kind == "method"), None)


def _resolve_function_words(items: list[list], notes: list[str]) -> list[list]:
    """Decide, from the next content word, what each function word does; drop the ones that do nothing."""
    kept: list[list] = []
    for index, item in enumerate(items):
        following = next((x for x in items[index + 1 :] if _kinds(x) - {"ignore"}), None)
        kinds = _kinds(item)
        if item[0] != "lex" or kinds - set(_FUNCTION) - {"neg"}:
            kept.append(item)
            continue
        role = None
        if "cmp" in kinds and following is not None and following[0] == "num":
            role = "cmp"
        elif "relpos" in kinds and _position_entry(following) is not None:
            role = "relpos"
        elif "similar" in kinds and _method_of(following) is not None:
            role = "similar"
        elif "author_cue" in kinds and following is not None and following[0] == "author":
            role = None  # the author item carries the condition
        elif "neg" in kinds:
            role = "neg"
        if role is None:
            notes.append(item[2])
            continue
        kept.append([role, [e for e in item[1] if e.kind == role], item[2]])
    return kept


def _numeric_atom(op: str, number: tuple, text: str, cue: F.Field | None) -> Node:
    value, unit = number
    if unit == "billion":
        if op in ("<", "<=") and value in (1.0, 20.0):
            name = "scale.evaluated_on.lt_1b" if value == 1.0 else "scale.evaluated_on.lt_20b"
        elif op in (">", ">=") and value == 20.0:
            name = "scale.evaluated_on.gt_20b"
        else:
            raise QueryError(f"{text!r}: model sizes are recorded as Lialin et al. Table 2's columns only (under 1B, under 20B, over 20B)")
        return Atom((F.BY_NAME[name],), "=", "yes", text)
    if unit == "percent":
        fld = cue if cue is not None and cue.kind == "range" else F.BY_NAME["scale.trainable_percent"]
        return Atom((fld,), op, value, text)
    if cue is not None and cue.kind in ("range", "number"):
        return Atom((cue,), op, value, text)
    if value.is_integer() and _YEARS[0] <= value <= _YEARS[1]:
        return Atom((F.BY_NAME["citation.year"],), op, value, text)
    raise QueryError(f"{text!r}: say what the number is (e.g. '0.1%' trainable, '20B' parameters, or a year)")


def _none_of(fld_entries: list[Entry], text: str) -> Atom:
    """'without parameter sharing' -> parameter sharing = none, where the vocabulary has a none term."""
    for e in fld_entries:
        if e.vocabulary and "none" in VOCABULARIES[e.vocabulary].values():
            return Atom(tuple(f for f in e.fields if f.vocabulary == e.vocabulary), "=", "none", text)
    examples = ", ".join(VOCABULARIES[fld_entries[0].vocabulary].values()[:6]) if fld_entries[0].vocabulary else ""
    raise QueryError(f"{text!r} needs a value next to it (e.g. {examples})")


def _phrase_atoms(words: list[str], names: "Names | None" = None, notes: list[str] | None = None) -> Node:
    """Plain-language words (no operators) to a conjunction of atoms."""
    names = names if names is not None else Names(None)
    notes = notes if notes is not None else []
    items = _resolve_function_words(_items(words, names, notes), notes)
    relation_field = (F.BY_NAME["relations"],)
    atoms: list[Node] = []
    used: set[int] = set()
    negate = False

    def emit(node: Node) -> None:
        nonlocal negate
        atoms.append(Not(node) if negate else node)
        negate = False

    def cue_near(index: int, kinds=("cue",)):
        for neighbour in (index + 1, index - 1, index + 2):
            if 0 <= neighbour < len(items) and neighbour not in used and items[neighbour][0] == "lex":
                cues = [e for e in items[neighbour][1] if e.kind in kinds and e.fields[0].kind in ("range", "number")]
                if cues:
                    used.add(neighbour)
                    return cues[0].fields[0]
        return None

    for index, (kind, entries, text) in enumerate(items):
        if index in used:
            continue
        nxt = items[index + 1] if index + 1 < len(items) else None
        if kind == "neg":
            negate = True
        elif kind == "cmp" or kind == "num":
            op = entries[0].value if kind == "cmp" else "="
            number_index = index + 1 if kind == "cmp" else index
            number, number_text = items[number_index][1], items[number_index][2]
            used.add(number_index)
            emit(_numeric_atom(op, number, f"{text} {number_text}" if kind == "cmp" else text, cue_near(number_index)))
        elif kind == "relpos":
            used.add(index + 1)
            position = _position_entry(nxt)
            where = Atom(tuple(F.vocabulary_fields("position")), "=", position.value, nxt[2])
            forms = entries[0].value
            if forms:
                insertion = tuple(F.vocabulary_fields("insertion_form"))
                how = [Atom(insertion, "=", form, text) for form in forms]
                emit(And((where, how[0] if len(how) == 1 else Or(tuple(how)))))
            else:
                emit(where)
        elif kind == "similar":
            used.add(index + 1)
            emit(Atom((F.BY_NAME["id"],), "similar", _method_of(nxt), f"{text} {nxt[2]}"))
        elif kind == "author":
            emit(Atom((F.BY_NAME["citation.authors"],), "~", entries, f"by {text}"))
        elif _has(items[index], "relation") and not any(e.kind in ("value",) for e in entries):
            relation = next(e.value for e in entries if e.kind == "relation")
            targets = []
            j = index + 1
            while j < len(items) and _method_of(items[j]) is not None and j not in used:
                targets.append((_method_of(items[j]), items[j][2]))
                used.add(j)
                j += 1
            if not targets and atoms and index > 0 and _method_of(items[index - 1]) is not None and isinstance(atoms[-1], Atom) and atoms[-1].text == items[index - 1][2]:
                atoms.pop()  # "LoRA variants": the name before the relation word is its target
                targets = [(_method_of(items[index - 1]), items[index - 1][2])]
            if not targets:
                raise QueryError(f"{text!r} needs a method name next to it (e.g. 'variants of LoRA', 'derived from adapters')")
            found = [Atom(relation_field, "=", f"{relation}:{mid}", f"{text} {name}") for mid, name in targets]
            emit(found[0] if len(found) == 1 else And(tuple(found)))
        elif kind == "lex" and any(e.kind in ("library", "executable", "venue") for e in entries):
            e = next(e for e in entries if e.kind in ("library", "executable", "venue"))
            if e.kind == "library":
                emit(Atom(e.fields, "=", e.value, text))
            elif e.kind == "executable":
                emit(Atom(e.fields, "!=", "", text))
            else:
                emit(Atom((F.BY_NAME["citation.venue"],), "~", e.value, text))
        elif kind == "lex" and any(e.kind in ("value", "atom") for e in entries):
            values = [e for e in entries if e.kind in ("value", "atom")]
            cue_fields: tuple[F.Field, ...] = ()
            for neighbour in (index + 1, index - 1):
                if 0 <= neighbour < len(items) and items[neighbour][0] == "lex" and neighbour not in used:
                    cues = [e for e in items[neighbour][1] if e.kind in ("cue", "verb")]
                    matching = [c for c in cues if any(v.vocabulary == c.vocabulary for v in values)]
                    if matching:
                        cue_fields = tuple(f for c in matching for f in c.fields)
                        used.add(neighbour)
                        break
            emit(_atom_for(values, cue_fields, text))
        elif kind == "lex" and any(e.kind == "method" for e in entries):
            emit(Atom((F.BY_NAME["id"],), "=", _method_of(items[index]), text))
        elif kind == "lex" and any(e.kind in ("cue", "verb") for e in entries) and index + 1 < len(items) and items[index + 1][0] == "lex" and any(
                v.kind == "value" and any(c.kind in ("cue", "verb") and c.vocabulary == v.vocabulary for c in entries) for v in items[index + 1][1]):
            continue  # the value after it takes this cue ("insertion ... parallel" read as one condition)
        elif kind == "lex" and any(e.kind == "cue" for e in entries):
            if negate:  # "without parameter sharing": the field's none value, not its negation
                negate = False
                emit(_none_of([e for e in entries if e.kind == "cue"], text))
            elif not any(e.kind == "cue" and e.fields[0].kind in ("range", "number") for e in entries):
                emit(Not(_none_of([e for e in entries if e.kind == "cue"], text)))  # "with inference overhead": some value but none
            else:
                notes.append(text)
        else:  # a verb with no value of its own ("methods that insert ...") or a leftover relation word
            notes.append(text)
        used.add(index)
    if not atoms:
        return None  # only function words ("methods that are" before `not`); the parser decides
    return atoms[0] if len(atoms) == 1 else And(tuple(atoms))


def _and_in_phrase(words: list[str], rest: list) -> bool:
    """True when `and` lies inside a vocabulary phrase ("extra FFN and input", "key and value")."""
    left = _key(" ".join(words[-4:])) if words else ()
    right = _key(" ".join(t[1] for t in rest[:4] if t[0] == "word"))
    for key in lexicon().phrases:
        if "and" in key:
            cut = key.index("and")
            if cut and left[-cut:] == key[:cut] and right[: len(key) - cut - 1] == key[cut + 1 :]:
                return True
    return False


def _mentions_relation(words: list[str]) -> bool:
    tokens = _key(" ".join(words))
    lex = lexicon()
    return any(any(e.kind == "relation" for e in lex.phrases.get(tokens[i : i + n], ())) for i in range(len(tokens)) for n in (1, 2, 3))


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


MAX_DEPTH = 100  # nested groups (parentheses, not): deeper input is refused, never a RecursionError


class _Parser:
    def __init__(self, text: str, names: "Names", notes: list[str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.names, self.notes, self.depth = names, notes, 0

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"the query nests more than {MAX_DEPTH} groups")

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
        if any(item is None for item in items):
            raise QueryError(f"no condition in {self.text!r}; name a property value, e.g. 'parallel insertion on FFN'")
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
        items = [item for item in items if item is not None]  # word groups of function words only
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.peek() == ("op", "not"):
            self.pos += 1
            self._enter()
            inner = self.not_expr()
            if inner is None:
                raise QueryError("'not' needs a condition after it")
            node = Not(inner)
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
            if node is None:
                raise QueryError("empty parentheses: name a condition inside them")
            return node
        if kind == "paren":
            raise QueryError("unexpected ')'")
        if kind == "cmp":
            self.pos += 1
            return _comparison(value)
        if kind == "op":
            raise QueryError(f"{value!r} needs a condition after it")
        words = []
        while True:
            while self.peek() is not None and self.peek()[0] == "word":
                words.append(self.peek()[1])
                self.pos += 1
            # "methods combining prefix tuning and adapters": `and` joins the relation's targets
            after = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
            if self.peek() == ("op", "and") and after is not None and after[0] == "word" and (_mentions_relation(words) or _and_in_phrase(words, self.tokens[self.pos + 1 :])):
                words.append("and")
                self.pos += 1
                continue
            break
        return _phrase_atoms(words, self.names, self.notes)


def parse_explained(text: str, facts: dict | None = None) -> tuple[Node, list[str]]:
    """The tree of ``text`` and the words it ignored (function words, question forms).

    ``facts`` (:mod:`.facts`, per method) supply the catalogue's own words:
    method names and aliases (for "variants of LoRA", "methods like DoRA"),
    venues and author surnames."""
    if not isinstance(text, str):
        raise QueryError("a query is text")
    if len(text) > 2000:
        raise QueryError("query is longer than 2000 characters")
    notes: list[str] = []
    stripped = [ch for ch in "?!" if ch in text]
    tree = _Parser(text, Names(facts), notes).parse()
    return tree, list(dict.fromkeys(notes + stripped))


def parse(text: str, facts: dict | None = None) -> Node:
    return parse_explained(text, facts)[0]


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
    __slots__ = ("text", "tree", "hits", "empty_reason", "ignored")

    def __init__(self, text: str, tree, hits: list, empty_reason: str | None = None, ignored: list | None = None):
        self.text, self.tree, self.hits, self.empty_reason = text, tree, hits, empty_reason
        self.ignored = list(ignored or [])

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
    if fld.kind in ("text", "relation"):
        wanted = str(atom.value).lower()
        if atom.op == "~":  # a word of the text (venue, author surname)
            return [v for v in vals if wanted in _norm(str(v)).split()]
        if atom.op == "!=" and wanted == "":  # present at all ("executable here": has a module)
            return [v for v in vals if v]
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


def _bind(node: Node, facts: dict) -> Node:
    """Replace "methods like X" by the methods nearest to X (graph.diff's typology distance)."""
    if isinstance(node, Atom):
        if node.op != "similar":
            return node
        from .diff import diff_facts

        target = facts[node.value]
        nearest = sorted((diff_facts(target, other).distance, oid) for oid, other in facts.items() if oid != node.value)[:SIMILAR_K]
        return Or(tuple(Atom(node.fields, "=", oid, node.text) for _, oid in nearest))
    if isinstance(node, Not):
        return Not(_bind(node.item, facts))
    return type(node)(tuple(_bind(item, facts) for item in node.items))


SIMILAR_K = 5  # as `peftref similar`'s default


def run_query(catalogue, text: str) -> QueryResult:
    """Query a :class:`~peftref_kb.store.Catalogue` (anything with ``.facts`` and ``.index``)."""
    tree, ignored = parse_explained(text, catalogue.facts)
    tree = _bind(tree, catalogue.facts)
    index = catalogue.index
    keys = _keys(tree, index)
    by_method: dict[str, list[str]] = {}
    for key in sorted(keys):
        method_id, component_id = index.keys[key]
        by_method.setdefault(method_id, []).append(component_id)
    facts = catalogue.facts
    hits = [Hit(mid, facts[mid]["name"], comps, tree, facts[mid]) for mid, comps in by_method.items()]
    result = QueryResult(text, tree, hits, ignored=ignored)
    if not hits:
        result.empty_reason = _empty_reason(tree, index)
    return result


def filter_state_tree(state: dict) -> Node | None:
    """A structured filter state — ``{field name: [values]}`` as a site's checkboxes hold it —
    as a query tree: values of one field are alternatives (or), fields are all required (and)."""
    groups: list[Node] = []
    for name, wanted in state.items():
        wanted = [w for w in (wanted if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]) if w not in (None, "")]
        if not wanted:
            continue
        found = F.fields_named(name)
        if not found:
            raise QueryError(f"unknown field {name!r} in the filter state")
        atoms = [Atom(tuple(found), "=", _resolve_value(found[0], str(w)), f"{name}={w}") for w in sorted(map(str, wanted))]
        groups.append(atoms[0] if len(atoms) == 1 else Or(tuple(atoms)))
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else And(tuple(groups))


def filter_state_ids(catalogue, state: dict) -> list[str]:
    """Method ids matching a filter state with the query's semantics: conditions on component
    fields hold within one component, a position covers its part of the hierarchy (``ffn``
    covers ``ffn.in``/``ffn.hidden``/``ffn.out``; ``attn`` covers q, k, v, o).  Pure: reads
    ``catalogue.index`` only.  An empty state matches every method."""
    tree = filter_state_tree(state)
    index = catalogue.index
    keys = index.universe if tree is None else _keys(tree, index)
    return list(dict.fromkeys(index.keys[k][0] for k in sorted(keys)))


QUERY_HELP = """\
Plain words: "methods with parallel insertion on FFN", "selective methods", "methods with no inference overhead",
"methods that share parameters across layers", "hybrid methods evaluated on models over 20B parameters",
"methods with gated composition", "which methods can be merged?", "methods with fewer than 0.1% trainable
parameters", "methods after the FFN", "LoRA variants", "methods like DoRA", "methods proposed in 2021",
"methods implemented in peft", "executable methods". Words come from the vocabulary's values and synonyms (peftref schema writes
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
