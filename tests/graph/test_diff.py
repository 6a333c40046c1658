import itertools
import json
import subprocess
import sys


def test_diff_identity_and_range(catalogue):
    for mid in catalogue.ids:
        assert catalogue.diff(mid, mid).distance == 0
    for a, b in itertools.combinations(catalogue.ids, 2):
        d = catalogue.diff(a, b).distance
        assert 0 <= d <= 1


def test_diff_is_symmetric(catalogue):
    for a, b in itertools.combinations(catalogue.ids, 2):
        ab, ba = catalogue.diff(a, b), catalogue.diff(b, a)
        assert abs(ab.distance - ba.distance) < 1e-12, (a, b)
        assert {(p.a, p.b) for p in ab.components} == {(p.b, p.a) for p in ba.components}


def test_hybrid_components_are_aligned(catalogue):
    diff = catalogue.diff("mam-adapter", "prefix-tuning")
    matched = [p for p in diff.components if p.a and p.b]
    assert len(matched) == 1
    assert "prefix" in matched[0].a  # MAM's prefix component pairs with prefix tuning
    assert any(p.b is None for p in diff.components)


def test_variants_are_closer_than_unrelated(catalogue):
    near = catalogue.diff("parallel-adapter", "scaled-parallel-adapter").distance
    far = catalogue.diff("parallel-adapter", "bitfit").distance
    assert near < far
    diff = catalogue.diff("parallel-adapter", "scaled-parallel-adapter")
    differing = diff.differing()
    assert any("composition" in d for d in differing)


def test_similar(catalogue):
    neighbours = catalogue.similar("parallel-adapter", 3)
    assert len(neighbours) == 3
    assert [n.distance for n in neighbours] == sorted(n.distance for n in neighbours)
    assert "parallel-adapter" not in [n.b for n in neighbours]


def test_cli_diff_and_similar_json():
    proc = subprocess.run([sys.executable, "-m", "peftref_kb", "diff", "lora", "krona", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["a"] == "lora" and 0 <= data["distance"] <= 1 and data["components"]
    proc = subprocess.run([sys.executable, "-m", "peftref_kb", "similar", "lora", "-n", "2", "--json"], capture_output=True, text=True)
    data = json.loads(proc.stdout)
    assert len(data) == 2 and {"id", "distance", "differs"} <= set(data[0])
    proc = subprocess.run([sys.executable, "-m", "peftref_kb", "diff", "lora", "lorra"], capture_output=True, text=True)
    assert proc.returncode == 1 and "did you mean lora" in proc.stderr and "Traceback" not in proc.stderr


# -- recipe facts tell family members apart (issue 17) ------------------------------------------

def test_lora_initialisation_variants_are_not_identical_to_lora(catalogue):
    from peftref_kb.graph.diff import diff_facts

    facts = catalogue.facts
    for other, fld in (("pissa", "recipe.initialisation"), ("olora", "recipe.initialisation"), ("eva", "recipe.initialisation"),
                       ("corda", "recipe.initialisation"), ("loftq", "recipe.base_weights"), ("qlora", "recipe.base_weights"),
                       ("lora-plus", "recipe.optimisation"), ("adalora", "recipe.rank_allocation")):
        d = diff_facts(facts["lora"], facts[other])
        assert d.distance > 0, other
        assert fld in d.differing(), (other, d.differing())


def test_an_unstated_recipe_fact_is_not_a_difference(catalogue):
    """LoRA+ states only its optimiser: LoRA's initialisation is not counted against it, its optimiser is."""
    from peftref_kb.graph.diff import diff_facts

    d = diff_facts(catalogue.facts["lora"], catalogue.facts["lora-plus"])
    differing = d.differing()
    assert "recipe.optimisation" in differing
    assert "recipe.initialisation" not in differing
    row = next(r for r in d.method_rows if r.field == "recipe.initialisation")
    assert (row.a, row.b, row.distance) == ("zero-update", None, 0.0)


def test_recipe_fields_are_queryable(catalogue):
    hits = set(catalogue.query("initialisation = data-driven").ids)
    assert {"eva", "corda", "lora-ga"} <= hits and "lora" not in hits
