"""`site -o DIR --force` removes only files it wrote before and refuses directories holding records or foreign files."""

import shutil

import pytest
from hardening_helpers import ROOT, assert_clean_error, cli

from peftref_kb.render.outdir import MANIFEST
from peftref_kb.render.site import SiteError, build_site
from peftref_kb.store import load_catalogue


@pytest.fixture
def catalogue_copy(tmp_path, small_catalogue):
    return small_catalogue


def test_site_force_onto_a_catalogue_deletes_nothing(tmp_path):
    copy = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", copy)
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    proc = cli("site", "-o", copy, "--force", "-C", copy)
    assert_clean_error(proc, "holds records")
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before


def test_site_force_refuses_a_directory_with_a_file_it_did_not_write(tmp_path, small_catalogue):
    cat = load_catalogue(small_catalogue)
    out = tmp_path / "site"
    build_site(cat, out)
    assert (out / MANIFEST).is_file()
    (out / "methods" / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="not written by"):
        build_site(cat, out, force=True)
    assert (out / "methods" / "notes.txt").read_text() == "mine"
    proc = cli("site", "-o", out, "--force", "-C", small_catalogue)
    assert_clean_error(proc, "notes.txt")


def test_site_force_without_manifest_refuses(tmp_path, small_catalogue):
    out = tmp_path / "site"
    (out / "methods").mkdir(parents=True)
    (out / "methods" / "page.html").write_text("someone else's page")
    with pytest.raises(SiteError, match="not written by"):
        build_site(load_catalogue(small_catalogue), out, force=True)
    assert (out / "methods" / "page.html").read_text() == "someone else's page"


def test_site_force_removes_only_its_own_stale_pages(tmp_path, small_catalogue):
    out = tmp_path / "site"
    cat = load_catalogue(small_catalogue)
    build_site(cat, out)
    # a record removed since: its page was ours and goes; the manifest records what was written
    stale = out / "methods" / "gone.html"
    stale.write_text("old page")
    import json

    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append("methods/gone.html")
    manifest["files"].append("../outside.txt")  # a hostile manifest entry must not reach outside
    (tmp_path / "outside.txt").write_text("keep")
    (out / MANIFEST).write_text(json.dumps(manifest))
    build_site(cat, out, force=True)
    assert not stale.exists()
    assert (tmp_path / "outside.txt").read_text() == "keep"
    assert (out / "methods" / "minimal-lora.html").is_file()
