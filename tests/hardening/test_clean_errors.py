"""Bad input ends in one clear line and exit code 1, never a traceback."""

import json
import os

import pytest
from hardening_helpers import MINIMAL, assert_clean_error, cli

GPT2 = {"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": 64, "vocab_size": 97}


def test_output_onto_a_directory(tmp_path):
    proc = cli("diagram", "lora", "-o", tmp_path)
    assert_clean_error(proc, "is a directory")


def test_output_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    proc = cli("diagram", "lora", "-o", tmp_path / "file" / "out.svg")
    assert_clean_error(proc, "not a directory")
    assert (tmp_path / "file").read_text() == "x"


def test_output_without_permission(tmp_path):
    target = "/proc/peftref-no-permission.svg"  # not writable even by root
    proc = cli("diagram", "lora", "-o", target)
    assert_clean_error(proc)
    proc = cli("site", "-o", "/proc/peftref-site", "-C", tmp_path / "nope")
    assert_clean_error(proc)


def test_site_output_without_permission(small_catalogue):
    proc = cli("site", "-o", "/proc/peftref-site", "-C", small_catalogue)
    assert_clean_error(proc)


def test_symlink_loop_in_catalogue(tmp_path):
    loop = tmp_path / "loop"
    loop.mkdir()
    os.symlink("b.yaml", loop / "a.yaml")
    os.symlink("a.yaml", loop / "b.yaml")
    for args in (["list", "-C", loop], ["query", "-C", loop, "selective"], ["validate", loop]):
        assert_clean_error(cli(*args))
    methods = tmp_path / "loop2"
    methods.mkdir()
    os.symlink(methods / "methods", methods / "methods")
    assert_clean_error(cli("list", "-C", methods))


def test_columns_abc(small_catalogue):
    for args in (["list", "-C", small_catalogue], ["diff", "-C", small_catalogue, "minimal-lora", "minimal-lora"]):
        proc = cli(*args, env={"COLUMNS": "abc"})
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


@pytest.fixture
def gpt2_config(tmp_path):
    path = tmp_path / "gpt2.json"
    path.write_text(json.dumps(GPT2))
    return path


@pytest.mark.parametrize("value, needle", [("0", "between"), ("-4", "between"), ("nan", "finite"), ("1e12", "between"), ("inf", "finite"), ("9" * 5000, "finite"), ("2.5", "whole number"), ("abc", "whole number")])
def test_instantiate_refuses_bad_rank_before_building(gpt2_config, value, needle):
    proc = cli("instantiate", "lora", "--config", gpt2_config, "--set", f"r={value}", "--meta")
    assert_clean_error(proc, needle)


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"n_embd": 30, "n_head": 4}, "divisible"),
        ({"n_layer": -1}, "between"),
        ({"n_embd": 10**12}, "between"),
        ({"n_layer": 1.5}, "whole number"),
    ],
)
def test_instantiate_refuses_inconsistent_configs(tmp_path, change, needle):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**GPT2, **change}))
    proc = cli("instantiate", "lora", "--config", path, "--meta")
    assert_clean_error(proc, needle)


def test_instantiate_nan_in_config(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(GPT2)[:-1] + ', "layer_norm_epsilon": NaN}')
    assert_clean_error(cli("instantiate", "lora", "--config", path, "--meta"), "finite")


def test_duplicate_ids_in_two_files_are_a_validation_error(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "minimal-lora.yaml").write_text(MINIMAL.read_text())
    (b / "minimal-lora.yaml").write_text(MINIMAL.read_text())
    proc = cli("validate", a / "minimal-lora.yaml", b / "minimal-lora.yaml")
    assert_clean_error(proc, "ids must be unique")
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "minimal-lora.yaml").write_text(MINIMAL.read_text())
    (flat / "copy.yaml").write_text(MINIMAL.read_text())
    proc = cli("validate", flat)
    assert_clean_error(proc)


def test_missing_schema_line_warns_in_validate_and_never_blocks(tmp_path):
    methods = tmp_path / "cat" / "methods"
    methods.mkdir(parents=True)
    text = MINIMAL.read_text()
    assert text.startswith("# yaml-language-server")
    (methods / "minimal-lora.yaml").write_text(text.split("\n", 1)[1])
    proc = cli("validate", tmp_path / "cat")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "[schema-line]" in proc.stderr
    for args in (["list", "-C", tmp_path / "cat"], ["query", "-C", tmp_path / "cat", "reparametrization methods"], ["site", "-o", tmp_path / "site", "-C", tmp_path / "cat"]):
        proc = cli(*args)
        assert proc.returncode == 0, (args, proc.stderr)
