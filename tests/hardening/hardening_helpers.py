import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "data" / "records" / "valid" / "minimal-lora.yaml"


def cli(*args, env=None, cwd=None, input=None):
    """Run the real CLI in a subprocess; returns CompletedProcess (text)."""
    code = "import sys; from peftref_kb.cli import main; sys.argv = ['peftref'] + sys.argv[1:]; main()"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("PEFTREF_DEBUG", None)
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=full_env, cwd=cwd, input=input, timeout=120)


@pytest.fixture
def small_catalogue(tmp_path):
    """A one-record catalogue in tmp_path/cat."""
    methods = tmp_path / "cat" / "methods"
    methods.mkdir(parents=True)
    (methods / "minimal-lora.yaml").write_text(MINIMAL.read_text())
    return tmp_path / "cat"


def assert_clean_error(proc, needle=None):
    """Exit 1, no traceback, a message on stderr."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.strip(), "no message"
    if needle is not None:
        assert needle in proc.stderr, proc.stderr
