"""The fast query path (cached facts, no typer/pydantic) prints exactly what the full app prints."""

import os
import subprocess
import sys

import pytest

QUERIES = [
    ["methods with parallel insertion on FFN"],
    ["--explain", "selective methods"],
    ["--json", "methods with gated composition"],
    ["hybrid methods evaluated on models over 20B parameters"],
    ["methods with wibble"],
]


def run(args, **env):
    code = "import sys; from peftref_kb.cli import main; sys.argv = ['peftref'] + sys.argv[1:]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env={**os.environ, **env})


@pytest.mark.parametrize("args", QUERIES, ids=lambda a: " ".join(a))
def test_fast_path_matches_full_app(args, tmp_path):
    run(["list"], PEFTREF_CACHE_DIR=str(tmp_path))  # writes the cache and the facts file
    assert list(tmp_path.glob("*.facts.json"))
    fast = run(["query", *args], PEFTREF_CACHE_DIR=str(tmp_path))
    full = run(["query", *args], PEFTREF_NO_CACHE="1")
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)


def test_fast_path_does_not_import_heavy_modules(tmp_path):
    run(["list"], PEFTREF_CACHE_DIR=str(tmp_path))
    code = "import sys; sys.argv = ['peftref', 'query', 'selective methods']; from peftref_kb.cli import main; main(); print(sorted(m for m in ('typer', 'pydantic', 'yaml', 'rich', 'torch') if m in sys.modules), file=sys.stderr)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PEFTREF_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "[]"


def test_stale_cache_falls_back(tmp_path):
    cat = tmp_path / "cat" / "methods"
    cat.mkdir(parents=True)
    src = os.path.join(os.path.dirname(__file__), "..", "data", "records", "valid", "minimal-lora.yaml")
    (cat / "minimal-lora.yaml").write_text(open(src).read())
    cache = tmp_path / "cache"
    run(["list", "-C", str(cat.parent)], PEFTREF_CACHE_DIR=str(cache))
    first = run(["query", "-C", str(cat.parent), "selective methods"], PEFTREF_CACHE_DIR=str(cache))
    assert "No methods match" in first.stdout
    text = (cat / "minimal-lora.yaml").read_text().replace("    - reparametrization\n", "    - selective\n", 1)
    (cat / "minimal-lora.yaml").write_text(text)
    second = run(["query", "-C", str(cat.parent), "selective methods"], PEFTREF_CACHE_DIR=str(cache))
    assert second.stdout.startswith("minimal-lora"), second.stdout + second.stderr
