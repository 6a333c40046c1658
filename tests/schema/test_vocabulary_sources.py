"""Vocabulary definitions that cite a seed document are checked against its text, as record quotes are.

A term sourced to ``<seed> §N`` needs that section in the seed; one sourced to ``<seed> Table N`` needs that
table, and its label (the paper's wording, e.g. Lialin's "Extra FFN") must be printed in the seed.  Skips
where the seeds are absent (set PEFTREF_SEEDS).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from peftref_kb.schema.vocabulary import SEED_DOCUMENTS, VOCABULARIES

SEEDS = Path(os.environ.get("PEFTREF_SEEDS") or Path(__file__).resolve().parents[3] / "shared" / "seeds")

CITED = [
    (vocab.name, term)
    for vocab in VOCABULARIES.values()
    for term in vocab
    if term.definition_source.split(" ")[0] in SEED_DOCUMENTS
]


def _text(key: str) -> str:
    path = SEEDS / SEED_DOCUMENTS[key]["file"]
    if not path.is_file():
        pytest.skip(f"seed document {path} not available (set PEFTREF_SEEDS)")
    return unicodedata.normalize("NFKC", path.read_text(encoding="utf-8"))


def _squash(text: str) -> str:
    """Plain words: the seed's tables are Markdown with inline LaTeX (``attn $\\mathrm{key} / \\mathrm{val}$``)."""
    text = re.sub(r"\\math(?:rm|bf)\{([^}]*)\}", r"\1", text).replace("$", "")
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def test_some_terms_cite_seeds():
    assert len(CITED) >= 20


@pytest.mark.parametrize("vocab,term", CITED, ids=lambda x: x if isinstance(x, str) else x.value)
def test_cited_location_exists_in_the_seed(vocab, term):
    key, _, loc = term.definition_source.partition(" ")
    text = _text(key)
    section = re.match(r"§(\d+(?:\.\d+)*)", loc)
    table = re.match(r"Table (\d+)", loc)
    if not (section or table):  # a named heading, e.g. "(seed summary, Mechanism 3)"
        heading = loc.strip("()").split(", ")[-1]
        assert re.search(rf"^#+\s*{re.escape(heading)}\b", text, re.M), f"{vocab}.{term.value}: {key} has no heading {heading!r}"
    if section:
        heading = re.compile(rf"^#+\s*{re.escape(section.group(1))}\b", re.M)
        assert heading.search(text), f"{vocab}.{term.value}: {key} has no section {section.group(1)}"
    if table:
        assert f"Table {table.group(1)}" in text, f"{vocab}.{term.value}: {key} has no Table {table.group(1)}"


@pytest.mark.parametrize("vocab,term", [(v, t) for v, t in CITED if " Table " in f" {t.definition_source} " and t.value != "unknown"], ids=lambda x: x if isinstance(x, str) else x.value)
def test_table_labels_are_the_seeds_wording(vocab, term):
    key = term.definition_source.split(" ")[0]
    text = _squash(_text(key))
    if vocab == "yes_no":  # cells "yes"/"no"; "maybe" is how we name footnoted cells
        pytest.skip("yes/no cells are not labels")
    assert _squash(term.label) in text, f"{vocab}.{term.value}: label {term.label!r} is not printed in {key}"


def test_positions_defined_by_he_section_2_1():
    """The positions sourced to He et al. §2.1 name matrices that section defines (W_q, W_k, W_v, W_o, W_1, W_2)."""
    text = _text("he-2022")
    start = text.index("2.1 Recap of the transformer architecture")
    section = text[start : text.index("###", start + 10)]
    for symbol in ("W}_q", "W}_k", "W}_v", "W}_o", "W}_1", "W}_2", "FFN"):
        assert symbol in section, symbol
    cited = {t.value for t in VOCABULARIES["position"] if t.definition_source == "he-2022 §2.1"}
    assert {"attn.q", "attn.k", "attn.v", "attn.o", "ffn.in", "ffn.out", "ffn"} <= cited
    assert VOCABULARIES["position"].term("embedding").definition_source == "ours"  # He §2.1 does not define it
