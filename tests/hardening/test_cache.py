"""The catalogue cache is plain data keyed by content: it cannot run code, go stale, or be trusted when corrupt or foreign."""

import json
import os
import pickle

from hardening_helpers import cli

from peftref_kb.store import fingerprint, load_catalogue


class _Boom:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # creating the marker file proves the pickle ran


def _cache_files(cache_dir, root):
    path = fingerprint.cache_path(str(root))
    return path, fingerprint.facts_path(path)


def test_malicious_pickle_in_cache_dir_is_never_executed(tmp_path, small_catalogue, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("PEFTREF_CACHE_DIR", str(cache_dir))
    cache_dir.mkdir(mode=0o700)
    marker = tmp_path / "pwned"
    path, facts = _cache_files(cache_dir, small_catalogue)
    payload = pickle.dumps({"key": None, "x": _Boom(str(marker))})
    for name in (path, facts, path[: -len(".json")] + ".pickle", path[: -len(".json")] + ".facts"):
        with open(name, "wb") as fh:
            fh.write(payload)
    for args in (["list", "-C", small_catalogue], ["query", "-C", small_catalogue, "selective methods"], ["show", "-C", small_catalogue, "minimal-lora"]):
        proc = cli(*args, env={"PEFTREF_CACHE_DIR": str(cache_dir)})
        assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    cat = load_catalogue(small_catalogue)
    assert cat.ids == ["minimal-lora"] and not marker.exists()
    # the rebuilt cache is plain JSON, private to the user
    with open(path, encoding="utf-8") as fh:
        assert json.load(fh)["records"]["minimal-lora"]["id"] == "minimal-lora"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(cache_dir).st_mode & 0o777 == 0o700


def test_same_size_edit_with_mtime_restored_is_not_served_stale(tmp_path, small_catalogue, monkeypatch):
    monkeypatch.setenv("PEFTREF_CACHE_DIR", str(tmp_path / "cache"))
    record = small_catalogue / "methods" / "minimal-lora.yaml"
    first = load_catalogue(small_catalogue)
    old_name = first["minimal-lora"].name
    st = os.stat(record)
    text = record.read_text()
    new_name = "".join("Z" if c.isalpha() else c for c in old_name)
    assert len(new_name) == len(old_name) and new_name != old_name
    edited = text.replace(f"name: {old_name}", f"name: {new_name}", 1)
    assert len(edited) == len(text) and edited != text
    record.write_text(edited)
    os.utime(record, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(record).st_size == st.st_size and os.stat(record).st_mtime_ns == st.st_mtime_ns
    assert load_catalogue(small_catalogue)["minimal-lora"].name == new_name
    proc = cli("list", "-C", small_catalogue, "--json", env={"PEFTREF_CACHE_DIR": str(tmp_path / "cache")})
    assert new_name in proc.stdout


def test_corrupt_cache_is_rebuilt(tmp_path, small_catalogue, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("PEFTREF_CACHE_DIR", str(cache_dir))
    load_catalogue(small_catalogue)
    path, facts = _cache_files(cache_dir, small_catalogue)
    key = json.load(open(path))["key"]
    bad_payloads = [b"\x00\xff garbage", b"{", b"[" * 100000, json.dumps({"key": key, "records": 5}).encode(), json.dumps({"key": key, "facts": {"x": 1}}).encode(), b'"string"']
    for bad in bad_payloads:
        for name in (path, facts):
            with open(name, "wb") as fh:
                fh.write(bad)
            os.chmod(name, 0o600)
        assert load_catalogue(small_catalogue).ids == ["minimal-lora"]
        for args in (["query", "-C", small_catalogue, "selective methods"], ["list", "-C", small_catalogue]):
            proc = cli(*args, env={"PEFTREF_CACHE_DIR": str(cache_dir)})
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert json.load(open(path))["key"] == key  # rebuilt


def test_cache_writable_by_others_is_not_trusted(tmp_path, small_catalogue, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("PEFTREF_CACHE_DIR", str(cache_dir))
    load_catalogue(small_catalogue)
    path, facts = _cache_files(cache_dir, small_catalogue)
    data = json.load(open(path))
    data["records"]["minimal-lora"]["name"] = "Poisoned"
    data["facts"]["minimal-lora"]["name"] = "Poisoned"
    with open(path, "w") as fh:
        json.dump(data, fh)
    os.chmod(path, 0o666)  # as if another user on a shared cache dir had planted it
    assert load_catalogue(small_catalogue)["minimal-lora"].name != "Poisoned"


def test_unreadable_cache_is_ignored(tmp_path, small_catalogue, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("PEFTREF_CACHE_DIR", str(cache_dir))
    load_catalogue(small_catalogue)
    path, _ = _cache_files(cache_dir, small_catalogue)
    os.unlink(path)
    os.mkdir(path)  # a directory where the file should be
    assert load_catalogue(small_catalogue).ids == ["minimal-lora"]


def test_no_pickle_or_marshal_in_the_package():
    import pathlib

    package = pathlib.Path(fingerprint.PACKAGE_DIR)
    for source in package.rglob("*.py"):
        text = source.read_text()
        for banned in ("import pickle", "import marshal", "pickle.load", "marshal.load"):
            assert banned not in text, f"{source}: {banned}"
