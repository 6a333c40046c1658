"""Record text is inert in every output: terminal, HTML, SVG, Markdown, LaTeX, CSV; links are http(s) only."""

import csv
import io
import re

import pytest
import yaml
from hardening_helpers import MINIMAL, cli

from peftref_kb.safety import csv_cell, safe_url, terminal_text

HOSTILE_NAME = "Evil [/bold] [red]x[/red] \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b[2J\x1b[31m =cmd|' /C calc'!A0 \u202e"


@pytest.fixture
def hostile_catalogue(tmp_path):
    record = yaml.safe_load(MINIMAL.read_text())
    record["name"] = HOSTILE_NAME
    record["summary"] = "=HYPERLINK(\"http://evil\",\"x\") <script>alert(1)</script> \\input{/etc/passwd} [x](javascript:alert(1))"
    record["citation"]["url"] = "javascript:alert(document.cookie)"
    methods = tmp_path / "cat" / "methods"
    methods.mkdir(parents=True)
    schema_line = MINIMAL.read_text().splitlines()[0] + "\n"
    (methods / "minimal-lora.yaml").write_text(schema_line + yaml.safe_dump(record, sort_keys=False, allow_unicode=True))
    proc = cli("validate", tmp_path / "cat")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "cat"


def _no_escapes(text: str):
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text[:500])


@pytest.mark.parametrize("args", [["list"], ["show", "minimal-lora"], ["query", "reparametrization methods"], ["diff", "minimal-lora", "minimal-lora"], ["similar", "minimal-lora"]])
def test_terminal_output_has_no_markup_or_escape_sequences(hostile_catalogue, args):
    proc = cli(*args, "-C", hostile_catalogue, env={"COLUMNS": "400"})
    assert proc.returncode == 0, proc.stderr
    _no_escapes(proc.stdout + proc.stderr)
    if args[0] in ("list", "show", "query"):
        assert "[/bold]" in proc.stdout  # printed as written, not parsed as markup


def test_site_never_links_javascript_urls(hostile_catalogue, tmp_path):
    proc = cli("site", "-o", tmp_path / "site", "-C", hostile_catalogue)
    assert proc.returncode == 0, proc.stderr
    for page in (tmp_path / "site").rglob("*.html"):
        text = page.read_text()
        for href in re.findall(r'href="([^"]*)"', text):
            assert not href.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (page, href)
            assert href.startswith(("http://", "https://")) or ":" not in href.split("/")[0], (page, href)
        assert "<script>alert" not in text
        _no_escapes(text)


def test_svg_and_tables_escape_record_text(hostile_catalogue):
    svg = cli("diagram", "minimal-lora", "-C", hostile_catalogue)
    assert svg.returncode == 0, svg.stderr
    assert "<script>" not in svg.stdout and "\x1b" not in svg.stdout
    for fmt in ("md", "latex", "html", "csv"):
        proc = cli("table", "-l", "he-unified", "-m", "minimal-lora", "-f", fmt, "-C", hostile_catalogue)
        if proc.returncode != 0:
            proc = cli("table", "-m", "minimal-lora", "-f", fmt, "-C", hostile_catalogue)
        assert proc.returncode == 0, (fmt, proc.stderr)
        assert "<script>" not in proc.stdout
        if fmt == "csv":
            for row in csv.reader(io.StringIO(proc.stdout)):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")) and not (cell.startswith("-") and not _number(cell)), cell


def _number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_csv_cell_neutralises_formulas():
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("+1+1") == "'+1+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("-2+3") == "'-2+3"
    assert csv_cell("-0.5") == "-0.5" and csv_cell(3) == 3 and csv_cell("LoRA") == "LoRA"


def test_safe_url_accepts_only_http_and_https():
    assert safe_url("https://arxiv.org/abs/2106.09685") == "https://arxiv.org/abs/2106.09685"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "file:///etc/passwd", "vbscript:x", "//evil", "http:evil", "https://a\nb", "", None, 5):
        assert safe_url(bad) is None, bad


def test_terminal_text_removes_controls():
    assert terminal_text("a\x1b[31mb\x1b]8;;x\x07c\x00d\x7f\u202ee") == "abcde"
    assert terminal_text("line\n\tok") == "line\n\tok"
