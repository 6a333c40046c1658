"""The static site: pages and links, refusing non-empty directories, and inert record text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from peftref_kb.render.site import SiteError, build_site
from peftref_kb.render.tables import build_table, layout_for, render_table
from peftref_kb.store import load_catalogue

HOSTILE = 'LoRA <script>alert("owned")</script> & "quotes"'


def test_site_has_an_index_and_a_page_per_method(fixture_catalogue, tmp_path):
    written = build_site(fixture_catalogue, tmp_path / "site")
    names = {p.relative_to(tmp_path / "site").as_posix() for p in written}
    assert names == {"index.html"} | {f"methods/{m.id}.html" for m in fixture_catalogue}
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for method in fixture_catalogue:
        assert f'href="methods/{method.id}.html"' in index


def test_internal_links_resolve(fixture_catalogue, tmp_path):
    site = tmp_path / "site"
    build_site(fixture_catalogue, site)
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8")):
            if href.startswith("https://"):
                continue
            assert (page.parent / href).resolve().is_file(), f"{page.name} links to missing {href}"


def test_method_page_shows_sources_diagram_relations_and_diffs(fixture_catalogue, tmp_path):
    build_site(fixture_catalogue, tmp_path)
    page = (tmp_path / "methods" / "mam-adapter.html").read_text(encoding="utf-8")
    assert "<svg" in page and "MAM Adapter in the PEFT-Ref reference Transformer layer" in page
    assert "Table 1" in page  # sources are printed beside values
    assert "Parameter sharing" in page and "Composition function" in page
    assert 'href="prefix-tuning.html"' in page  # relations link to records in the catalogue
    assert "Compared with" in page and "properties differ" in page


def test_refuses_a_non_empty_directory_even_forced_when_it_holds_files_it_did_not_write(fixture_catalogue, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SiteError, match="not empty"):
        build_site(fixture_catalogue, tmp_path)
    with pytest.raises(SiteError, match="not written by"):
        build_site(fixture_catalogue, tmp_path, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"] and (tmp_path / "keep.txt").read_text() == "mine"


@pytest.fixture
def hostile_catalogue(tmp_path):
    """A catalogue holding one copy of lora.yaml whose name, summary and component name carry markup."""
    source = Path(__file__).resolve().parents[2] / "catalogue" / "methods" / "lora.yaml"
    record = yaml.safe_load(source.read_text(encoding="utf-8"))
    record["name"] = HOSTILE
    record["summary"] = record["summary"] + " <img src=x onerror=alert(1)>"
    record["components"][0]["name"] = "<script>alert(2)</script>"
    record.pop("relations", None)  # its target is not in this one-record catalogue
    (tmp_path / "cat" / "methods").mkdir(parents=True)
    schema_line = source.read_text(encoding="utf-8").splitlines()[0] + "\n"
    (tmp_path / "cat" / "methods" / "lora.yaml").write_text(schema_line + yaml.safe_dump(record, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_catalogue(tmp_path / "cat")


def test_record_markup_renders_inert(hostile_catalogue, tmp_path):
    build_site(hostile_catalogue, tmp_path / "site")
    for page in (tmp_path / "site").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text, page
    page = (tmp_path / "site" / "methods" / "lora.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in page  # shown as text, in the page and its SVG
    assert page.count("<script") == 0
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert index.count("<script") == 1  # only the filter script of our own template


def test_record_markup_is_escaped_in_every_table_format(hostile_catalogue):
    layout, columns = layout_for("custom", ["name", "components.name"])
    table = build_table(list(hostile_catalogue), layout, columns)
    assert "<script>" not in render_table(table, "html")
    assert "\\<script>" in render_table(table, "md")
    assert "\\textless{}script\\textgreater{}" in render_table(table, "latex")
