"""`peftref coverage`: counts from the records, gaps against the installed libraries' own lists, no torch."""

import json
import os
import subprocess
import sys

import pytest

from peftref_kb.store.coverage import coverage


def test_counts_are_the_records(catalogue):
    report = coverage(catalogue)
    assert report["records"] == len(catalogue.ids)
    assert report["executable"] == sum(1 for m in catalogue if all(c.module for c in m.components))
    assert 0 < report["crosswalk_checked"] <= report["records"]


def test_peft_gap_equals_the_installed_peft_type_list(catalogue):
    peft = pytest.importorskip("peft")
    report = coverage(catalogue)
    assert report["peft"]["listed"] == len(list(peft.PeftType))
    mapped = {i.peft_type for m in catalogue for i in m.implementations if i.library == "peft"}
    assert report["peft"]["missing"] == [t.value for t in peft.PeftType if t.value not in mapped]


def test_adapters_configs_are_read_from_source_without_importing_adapters(catalogue):
    if not os.environ.get("PEFTREF_ADAPTERS_PYTHON"):
        pytest.skip("PEFTREF_ADAPTERS_PYTHON not set")
    report = coverage(catalogue)
    assert report["adapters"]["source"] and report["adapters"]["listed"] >= 20
    assert "LoRAConfig" not in report["adapters"]["missing"]  # mapped by the lora record
    assert "adapters" not in sys.modules


def test_cli_is_light_and_reports_json():
    code = "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None; sys.argv = ['peftref', 'coverage', '--json']; from peftref_kb.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["records"] >= 100 and "missing" in report["peft"]
