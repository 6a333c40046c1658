"""Questions written the way the seed documents and papers phrase them.

Every expected set is computed here from the seeds' tables (tests/data/seeds,
transcribed from Lialin et al. 2023 Tables 1-2 and He et al. 2022 Table 1) or
from the records' own sourced YAML values read with yaml.safe_load, never from
what the parser returns.  Where a record set goes beyond a table, hits are
restricted to the table's rows before comparing.
"""

import csv
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from peftref_kb.graph.query import MAX_DEPTH, QueryError
from peftref_kb.schema.vocabulary import POSITION

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "data" / "seeds"


def table(name):
    with open(SEEDS / name, newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=None)
def records():
    out = {}
    for path in sorted((ROOT / "catalogue" / "methods").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        out[data["id"]] = data
    return out


def value(claim):
    return claim.get("value") if isinstance(claim, dict) and "value" in claim else claim


T1, T2, HE = table("lialin_table1.csv"), table("lialin_table2.csv"), table("he_table1.csv")
T1_IDS, T2_IDS, HE_IDS = ({r["id"] for r in t} for t in (T1, T2, HE))
LETTER = {"additive": "A", "selective": "S", "reparametrization": "R"}


def span(text):
    """Lialin Table 2 cell '0.05 - 0.1' or '2.0' -> (low, high)."""
    parts = [float(p) for p in re.findall(r"\d+(?:\.\d+)?", text)]
    return min(parts), max(parts)


def some_value(text, op, t):
    low, high = span(text)
    return {"<": low < t, "<=": low <= t, ">": high > t, ">=": high >= t}[op]


def family(position):
    return POSITION.term(position).attrs.get("family")


def components_where(predicate):
    return {mid for mid, r in records().items() for c in r.get("components", []) if predicate(c)}


def comp_positions(c):
    return value(c.get("positions", {})) or []


def comp_insertion(c):
    forms = {value((c.get("peft_ref") or {}).get("insertion_form", {})), value((c.get("unified_view") or {}).get("insertion_form", {}))}
    return forms - {None}


CASES = []  # (phrase, expected ids, restrict-to ids or None)


def case(phrase, expected, within=None):
    CASES.append(pytest.param(phrase, frozenset(expected), frozenset(within) if within else None, id=phrase))


# --- Lialin Table 1: classes (Type letters), phrased as §3 and the table do
for cls, letter in LETTER.items():
    members = {r["id"] for r in T1 if letter in r["type"]}
    adjective = {"additive": "additive", "selective": "selective", "reparametrization": "reparametrization-based"}[cls]
    for phrase in (f"{adjective} methods", f"which methods are {adjective}?", f"show me {adjective} techniques", f"list the {adjective} approaches",
                   f"{cls} methods", f"what are the {adjective} methods"):
        case(phrase, members, T1_IDS)
    case(f"non-{adjective} methods", T1_IDS - members, T1_IDS)
    case(f"methods that are not {adjective}", T1_IDS - members, T1_IDS)
case("addition-based methods", {r["id"] for r in T1 if "A" in r["type"]}, T1_IDS)
case("selection-based methods", {r["id"] for r in T1 if "S" in r["type"]}, T1_IDS)
for spelling in ("reparameterisation", "reparametrisation", "reparameterization", "reparametrization", "reparameterized", "reparametrized"):
    case(f"{spelling} methods", {r["id"] for r in T1 if "R" in r["type"]}, T1_IDS)
case("additive and selective methods", {r["id"] for r in T1 if "A" in r["type"] and "S" in r["type"]}, T1_IDS)
case("additive or selective methods", {r["id"] for r in T1 if "A" in r["type"] or "S" in r["type"]}, T1_IDS)
case("additive methods that are not reparametrization-based", {r["id"] for r in T1 if "A" in r["type"] and "R" not in r["type"]}, T1_IDS)

# --- Lialin Table 1: efficiency and inference overhead
NO_OVERHEAD = {r["id"] for r in T1 if r["inference_overhead"] == "No overhead"}
for phrase in ("methods with no inference overhead", "methods without inference overhead", "which methods can be merged?", "methods that can be merged",
               "mergeable methods", "methods that don't add inference overhead", "methods with zero overhead", "no overhead"):
    case(phrase, NO_OVERHEAD, T1_IDS)
for phrase in ("methods that cannot be merged", "methods with inference overhead that can't be merged"):
    case(phrase, T1_IDS - NO_OVERHEAD, T1_IDS)
for label in ("Extra FFN", "Extra input", "Extra FFN and input", "Extra gating", "Extra decoder", "Extra linear layer"):
    members = {r["id"] for r in T1 if r["inference_overhead"] == label}
    case(f"methods with {label.lower()} at inference", members, T1_IDS)
    case(f"which methods have {label.lower()} overhead?", members, T1_IDS)
for column, words in (("storage", "storage-efficient"), ("memory", "memory efficient"), ("backprop", "backprop efficient")):
    case(f"{words} methods", {r["id"] for r in T1 if r[column] == "yes"}, T1_IDS)
case("methods that reduce backpropagation", {r["id"] for r in T1 if r["backprop"] == "yes"}, T1_IDS)
case("memory efficient selective methods", {r["id"] for r in T1 if r["memory"] == "yes" and "S" in r["type"]}, T1_IDS)

# --- Lialin Table 2: % trainable parameters, comparatives and units
COMPARATIVES = {"fewer than": "<", "less than": "<", "under": "<", "below": "<", "at most": "<=", "more than": ">", "over": ">", "above": ">", "at least": ">="}
for words, op in COMPARATIVES.items():
    for t, written in ((0.1, "0.1%"), (1, "1 %"), (0.05, "0.05 percent")):
        members = {r["id"] for r in T2 if some_value(r["trainable_percent"], op, t)}
        case(f"methods with {words} {written} trainable parameters", members, T2_IDS)
for t in (0.01, 0.5, 2, 10, 50):
    case(f"methods that train less than {t}% of the parameters", {r["id"] for r in T2 if some_value(r["trainable_percent"], "<", t)}, T2_IDS)
    case(f"methods with more than {t}% trainable parameters", {r["id"] for r in T2 if some_value(r["trainable_percent"], ">", t)}, T2_IDS)
case("methods with no more than 0.1% trainable parameters", {r["id"] for r in T2 if some_value(r["trainable_percent"], "<=", 0.1)}, T2_IDS)
case("methods with at most 0.1% changed parameters", {r["id"] for r in T2 if some_value(r["changed_percent"], "<=", 0.1)}, T2_IDS)

# --- Lialin Table 2: model scale (<1B, <20B, >20B columns)
for phrase, column in (("methods evaluated on models over 20B parameters", "gt_20b"), ("methods tested on models with more than 20 billion parameters", "gt_20b"),
                       ("which methods were evaluated above 20B?", "gt_20b"), ("methods evaluated on models under 1B", "lt_1b"),
                       ("methods evaluated on models below 20B parameters", "lt_20b"), ("methods evaluated on models smaller than 20 billion parameters", "lt_20b"),
                       ("methods tested on models with fewer than 1B parameters", "lt_1b"), ("methods evaluated on models over 20bn parameters", "gt_20b")):
    case(phrase, {r["id"] for r in T2 if r[column] == "yes"}, T2_IDS)
case("selective methods evaluated on models over 20B parameters", {r["id"] for r in T2 if r["gt_20b"] == "yes"} & {r["id"] for r in T1 if "S" in r["type"]}, T2_IDS & T1_IDS)

# --- He et al. Table 1: insertion form and composition function
PARALLEL = {r["id"] for r in HE if r["insertion_form"] == "parallel"}
SEQUENTIAL = {r["id"] for r in HE if r["insertion_form"] == "sequential"}
for phrase in ("methods with parallel insertion", "parallel methods", "methods that insert modules in parallel", "methods added in parallel",
               "methods placed in parallel"):
    case(phrase, PARALLEL, HE_IDS)
for phrase in ("methods with sequential insertion", "sequential adapters", "serial adapters", "methods inserted sequentially", "methods that add a module in series"):
    case(phrase, SEQUENTIAL, HE_IDS)
case("methods without parallel insertion", HE_IDS - PARALLEL, HE_IDS)
GATED = {r["id"] for r in HE if "λ" in r["composition"]}
SCALED = {r["id"] for r in HE if "s·" in r["composition"]}
PLAIN = {r["id"] for r in HE if r["composition"].strip() == "h ← h + Δh"}
for phrase in ("methods with gated composition", "gated methods", "methods that gate the update", "methods with gating", "methods using linear interpolation"):
    case(phrase, GATED, HE_IDS)
for phrase in ("methods with scaled composition", "methods with scaled addition", "methods that scale the update", "methods scaling the modification"):
    case(phrase, SCALED, HE_IDS)
for phrase in ("methods with simple addition", "methods with plain addition composition", "methods composing by unweighted addition"):
    case(phrase, PLAIN, HE_IDS)
case("parallel methods with scaled composition", PARALLEL & SCALED, HE_IDS)
case("parallel methods without scaled composition", PARALLEL - SCALED, HE_IDS)

# --- positions and relative positions (records' sourced positions and insertion forms)
def on(fam):
    return lambda c: any(family(p) == fam for p in comp_positions(c))


def on_ffn_with(form):
    return lambda c: on("ffn")(c) and form in comp_insertion(c)


for phrase in ("methods after the FFN", "methods that add a module after the feed-forward layer", "modules inserted after the MLP", "methods before the FFN"):
    forms = ("sequential", "prepended") if "before" in phrase else ("sequential",)
    case(phrase, components_where(lambda c, forms=forms: on("ffn")(c) and comp_insertion(c) & set(forms)))
for phrase in ("methods around the FFN", "methods in parallel to the FFN", "methods with parallel insertion on the feed-forward network", "parallel adapters on the MLP"):
    expected = components_where(on_ffn_with("parallel"))
    if "adapters" in phrase:
        expected = {m for m in expected if any(value((c.get("unified_view") or {}).get("functional_form", {}) or {}).get("category") == "bottleneck-mlp"
                                               for c in records()[m]["components"] if on_ffn_with("parallel")(c))}
    case(phrase, expected)
for phrase in ("methods in parallel to attention", "methods that act in parallel with the attention"):
    case(phrase, components_where(lambda c: on("attention")(c) and "parallel" in comp_insertion(c)))
for phrase in ("methods inside attention", "methods acting on attention", "methods that modify multi-head attention"):
    case(phrase, components_where(lambda c: on("attention")(c)) if "modify" not in phrase else
         components_where(lambda c: on("attention")(c)))
for phrase, wanted in (("methods on W_q", "q"), ("methods that update the query projection", "q"), ("methods on W_v", "v"), ("methods that tune the key projection", "k")):
    case(phrase, components_where(lambda c, w=wanted: any(POSITION.term(p).attrs.get("part") == w for p in comp_positions(c))))
for phrase in ("methods at the embedding layer", "methods on the input embeddings", "methods that prepend vectors at the embedding layer"):
    expected = components_where(lambda c: on("embedding")(c))
    if "prepend" in phrase:
        expected = components_where(lambda c: on("embedding")(c) and "prepended" in comp_insertion(c))
    case(phrase, expected)
case("methods that train only the bias terms", components_where(lambda c: "params.bias" in comp_positions(c)))


# --- parameter sharing (inflections of share)
def sharing(c):
    return value((c.get("peft_ref") or {}).get("parameter_sharing", {}))


SHARED = components_where(lambda c: sharing(c) == "shared-across-layers")
for phrase in ("methods that share parameters across layers", "methods sharing weights across layers", "methods with parameters shared across layers",
               "methods whose parameters are shared across layers", "which methods share parameters?", "shared parameters"):
    case(phrase, SHARED)
for phrase in ("methods without parameter sharing", "methods with no parameter sharing"):
    case(phrase, components_where(lambda c: sharing(c) == "none"))


# --- relations (records' sourced relations[])
def related(kind, target):
    return {mid for mid, r in records().items() if any(x["type"] == kind and x["target"] == target for x in r.get("relations", []))}


for name, target in (("LoRA", "lora"), ("prefix tuning", "prefix-tuning"), ("prompt tuning", "prompt-tuning"), ("Houlsby adapters", "houlsby-adapter")):
    case(f"{name} variants", related("variant-of", target))
    case(f"variants of {name}", related("variant-of", target))
    case(f"methods derived from {name}", related("derived-from", target))
    case(f"methods based on {name}", related("derived-from", target))
case("methods combining prefix tuning and LoRA", related("combines", "prefix-tuning") & related("combines", "lora"))
case("methods that combine LoRA", related("combines", "lora"))
case("hybrids combining the parallel adapter", related("combines", "parallel-adapter"))
case("methods that generalize LoRA", related("generalizes", "lora"))
case("methods inspired by IntrinsicSAID", related("derived-from", "intrinsic-said"))

# --- method-level facts (records' citation, implementations, modules)
def cites(predicate):
    return {mid for mid, r in records().items() if predicate(r["citation"])}


for phrase, pred in (("methods proposed in 2021", lambda c: c["year"] == 2021), ("methods published after 2022", lambda c: c["year"] > 2022),
                     ("methods introduced before 2020", lambda c: c["year"] < 2020), ("methods since 2024", lambda c: c["year"] >= 2024),
                     ("2019 methods", lambda c: c["year"] == 2019), ("methods from 2023", lambda c: c["year"] == 2023)):
    case(phrase, cites(pred))
for venue in ("ICLR", "NeurIPS", "EMNLP", "ACL"):
    case(f"methods published at {venue}", cites(lambda c, v=venue: v.lower() in re.split(r"[^a-z0-9]+", c.get("venue", "").lower())))
for surname in ("Houlsby", "Hu", "Liu"):
    case(f"methods by {surname}", cites(lambda c, s=surname: any(a.split()[-1].lower() == s.lower() for a in c.get("authors", []))))
LIBS = {lib: {mid for mid, r in records().items() if any(i["library"] == lib for i in r.get("implementations", []))} for lib in ("peft", "adapters")}
for phrase, lib in (("methods implemented in peft", "peft"), ("methods in Hugging Face PEFT", "peft"), ("methods implemented in AdapterHub", "adapters"),
                    ("methods supported by AdapterHub", "adapters")):
    case(phrase, LIBS[lib])
case("methods in peft and AdapterHub", LIBS["peft"] & LIBS["adapters"])
case("methods in AdapterHub but not in peft", LIBS["adapters"] - LIBS["peft"])
EXECUTABLE = {mid for mid, r in records().items() if any(c.get("module") for c in r.get("components", []))}
for phrase in ("executable methods", "methods executable here", "which methods can be run here?"):
    case(phrase, EXECUTABLE)
case("reparametrization methods that are executable here", EXECUTABLE & {m for m, r in records().items() if "reparametrization" in value(r["taxonomy"]["classes"])})
case("hybrid methods", {m for m, r in records().items() if value(r["taxonomy"]["hybrid"])})
case("methods that are not hybrid", {m for m, r in records().items() if not value(r["taxonomy"]["hybrid"])})


@pytest.mark.parametrize("phrase, expected, within", CASES)
def test_natural_phrasing(catalogue, phrase, expected, within):
    hits = set(catalogue.query(phrase).ids)
    if within is not None:
        hits &= within
    assert expected, f"no expected ids for {phrase!r}: the case is vacuous"
    assert hits == expected, f"missing {sorted(expected - hits)}, extra {sorted(hits - expected)}"


def test_at_least_150_phrasings():
    assert len(CASES) >= 150


@pytest.mark.parametrize("words", [("share", "shares", "shared", "sharing"), ("rescale", "rescales", "rescaling", "rescaled"),
                                   ("fine-tune", "finetune", "fine-tuning", "fine-tuned"), ("quantize", "quantized", "quantization", "quantised")])
def test_inflections_are_one_word(words):
    from peftref_kb.graph.query import _key

    assert len({_key(w) for w in words}) == 1


def test_explain_lists_ignored_words(catalogue):
    result = catalogue.query("Which methods are hybrid?")
    assert {"which", "methods", "are", "?"} <= set(result.ignored)


@pytest.mark.parametrize("text, word", [("methods that wibble", "wibble"), ("methods evaluated on giraffes", "giraffes"), ("variants of wibble", "wibble"),
                                        ("methods by Nobodyson", "nobodyson"), ("methods with fewer than 7", "7")])
def test_unknown_content_words_fail(catalogue, text, word):
    with pytest.raises(QueryError) as info:
        catalogue.query(text)
    assert word is None or word in str(info.value).lower()


def test_empty_result_names_the_condition(catalogue):
    result = catalogue.query("methods by Houlsby proposed in 2024")
    assert result.ids == [] and "2024" in result.empty_reason


def test_nesting_depth_is_bounded(catalogue):
    with pytest.raises(QueryError, match="nests"):
        catalogue.query("(" * (MAX_DEPTH + 1) + "lora" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QueryError, match="nests"):
        catalogue.query("not " * (MAX_DEPTH + 5) + "hybrid")
    assert catalogue.query("(" * 50 + "selective methods" + ")" * 50).ids


NL_WORDS = ["which", "methods", "can", "be", "merged", "?", "after", "before", "the", "ffn", "attention", "fewer", "than", "0.1%", "20b", "20", "billion",
            "no", "not", "don't", "non-", "without", "variants", "of", "lora", "like", "derived", "from", "adapters", "combining", "and", "or", "(", ")",
            "in", "2021", "by", "houlsby", "peft", "adapterhub", "executable", "share", "gated", "at", "least", "%", "=", "<", "x",
            "relations=variant-of:lora", "implementations.library=", "citation.venue=iclr", "citation.authors<3", "similar", "~"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(NL_WORDS) | st.text(max_size=5), max_size=10))
def test_fuzzed_natural_queries_only_raise_query_error(catalogue, words):
    try:
        result = catalogue.query(" ".join(words))
    except QueryError:
        return
    assert isinstance(result.ids, list)


FILTER_FIELDS = {"peft_ref.insertion_form": ["parallel", "sequential", "prepended"], "positions": ["ffn", "attn", "attn.q", "embedding", "ffn.out"],
                 "taxonomy.classes": ["additive", "selective", "reparametrization"], "unified_view.composition": ["gated-addition", "scaled-addition"],
                 "taxonomy.hybrid": ["true", "false"]}


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({}, optional={name: st.lists(st.sampled_from(vals), max_size=2, unique=True) for name, vals in FILTER_FIELDS.items()}))
def test_filter_state_is_the_structured_query(catalogue, state):
    from peftref_kb.graph.query import filter_state_ids

    groups = [" or ".join(f"{name}={v}" for v in vals) for name, vals in state.items() if vals]
    text = " and ".join(f"({g})" for g in groups)
    expected = set(catalogue.query(text).ids) if text else set(catalogue.facts)
    assert set(filter_state_ids(catalogue, state)) == expected


def test_filter_state_parallel_ffn_is_the_cli_answer(catalogue):
    from peftref_kb.graph.query import filter_state_ids

    state = {"peft_ref.insertion_form": ["parallel"], "positions": ["ffn"]}
    assert filter_state_ids(catalogue, state) == catalogue.query("peft_ref.insertion_form=parallel and positions=ffn").ids


@pytest.mark.parametrize("natural, precise", [
    ("which methods can be merged?", "efficiency.inference_overhead=none"),
    ("methods with fewer than 0.1% trainable parameters", "scale.trainable_percent<0.1"),
    ("methods tested on models with more than 20 billion parameters", "scale.evaluated_on.gt_20b=yes"),
    ("methods after the FFN", "positions=ffn and insertion_form=sequential"),
    ("methods in parallel to attention", "positions=attn and insertion_form=parallel"),
    ("methods on W_q", "positions=attn.q"),
    ("non-selective methods", "not class=selective"),
    ("methods without parameter sharing", "parameter_sharing=none"),
    ("LoRA variants", "relations=variant-of:lora"),
    ("methods derived from adapters", "relations=derived-from:houlsby-adapter"),
    ("methods combining prefix tuning and LoRA", "relations=combines:prefix-tuning and relations=combines:lora"),
    ("methods proposed in 2021", "citation.year=2021"),
    ("methods implemented in peft", "implementations.library=peft"),
    ("methods in AdapterHub", "implementations.library=adapters"),
])
def test_readme_natural_forms_equal_precise_forms(catalogue, natural, precise):
    assert set(catalogue.query(natural).ids) == set(catalogue.query(precise).ids)
    assert catalogue.query(natural).ids


def test_fraction_right(catalogue, capsys):
    """The share of committed phrasings answered as the seeds say (printed; every one must be right)."""
    wrong = []
    for param in CASES:
        phrase, expected, within = param.values
        try:
            hits = set(catalogue.query(phrase).ids)
        except QueryError as exc:
            wrong.append(f"{phrase!r}: {exc}")
            continue
        if (hits & within if within else hits) != expected:
            wrong.append(phrase)
    with capsys.disabled():
        print(f"\nnatural phrasings right: {len(CASES) - len(wrong)}/{len(CASES)} = {(len(CASES) - len(wrong)) / len(CASES):.3f}")
    assert not wrong, wrong


def test_every_name_after_a_relation_is_its_target(catalogue):
    from peftref_kb.graph.query import atoms_of, parse

    tree = parse("Which methods combine prefix tuning and LoRA?", catalogue.facts)
    assert {a.value for a in atoms_of(tree)} == {"combines:prefix-tuning", "combines:lora"}
