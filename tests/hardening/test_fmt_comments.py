"""`fmt` never drops comments silently: a file with comments is refused, untouched, with its line."""

from hardening_helpers import MINIMAL, assert_clean_error, cli


def test_fmt_refuses_a_file_with_comments_and_leaves_it_untouched(tmp_path):
    record = tmp_path / "minimal-lora.yaml"
    lines = MINIMAL.read_text().splitlines(keepends=True)
    lines.insert(2, "# why this value: see the paper, Table 2\n")
    text = "".join(lines)
    record.write_text(text)
    proc = cli("fmt", record)
    assert_clean_error(proc, f"{record}:3: the file has comments")
    assert record.read_text() == text


def test_fmt_treats_hash_inside_values_as_text(tmp_path):
    record = tmp_path / "minimal-lora.yaml"
    text = MINIMAL.read_text().replace("name: ", 'name: "C# ', 1)
    assert text != MINIMAL.read_text()
    text = text.replace('name: "C# ', "name: 'C# ", 1)
    first_name = [l for l in text.splitlines() if l.startswith("name:")][0]
    text = text.replace(first_name, first_name + "'", 1)
    record.write_text(text)
    proc = cli("fmt", record)
    assert proc.returncode == 0, proc.stderr
    assert "C# " in record.read_text()
