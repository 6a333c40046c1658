"""Every `peftref instantiate` example in the README runs as written (configs from examples/configs/)."""

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peftref_kb.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [line.split("#")[0].strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("peftref instantiate ")]


def test_readme_has_instantiate_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_instantiate_example_runs(command, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (command, result.output[-2000:])
    if "--dry-run" not in args:
        assert re.search(r"trainable", result.output, re.I), result.output[-1000:]


def test_bare_model_type_and_config_set(tmp_path):
    result = CliRunner().invoke(app, ["instantiate", "lora", "--config", "mistral", "--config-set", "num_hidden_layers=1", "--meta", "--at", "all-linear", "--json"])
    assert result.exit_code == 0, result.output
    assert '"model_type": "mistral"' in result.output


def test_unknown_config_is_one_line_error():
    result = CliRunner().invoke(app, ["instantiate", "lora", "--config", "no-such-type"])
    assert result.exit_code == 1 and "not a transformers model_type" in result.output


def test_memory_guard_refuses_huge_config_without_meta():
    result = CliRunner().invoke(app, ["instantiate", "lora", "--config", str(ROOT / "examples/configs/gpt3-175b.json")])
    assert result.exit_code == 1 and "--meta" in result.output and "GiB" in result.output
