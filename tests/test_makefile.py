"""The Makefile's set-up (issue 16 #9): a .venv made by another Python is rebuilt, and a Python older than
3.11 is named in one line. Run with `make` in a scratch folder holding the Makefile and a pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent
# The interpreter behind the one running the tests (outside any venv): what PYTHON= names.
BASE_PYTHON = str(getattr(sys, "_base_executable", sys.executable))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n", encoding="utf-8")
    return tmp_path


def installed_venv(checkout: Path, python: str) -> Path:
    """A .venv whose `bin/python` is `python`, installed after pyproject.toml changed (so make trusts it)."""
    bin_dir = checkout / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(python)
    stamp = checkout / ".venv" / ".installed"
    stamp.touch()
    later = (checkout / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))
    return checkout / ".venv"


def make(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=checkout, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_venv_of_the_same_python_is_used_as_it_is(checkout: Path) -> None:
    venv = installed_venv(checkout, BASE_PYTHON)

    done = make(checkout, "-n", "demo", f"PYTHON={BASE_PYTHON}")

    assert done.stdout == ".venv/bin/python -m databasin_mcp.demo\n", done.stderr
    assert venv.is_dir()


def test_a_venv_made_by_another_python_is_rebuilt(checkout: Path) -> None:
    other = checkout / "python3.10"
    other.write_text("#!/bin/sh\necho 3.10.12 /usr\n", encoding="utf-8")
    other.chmod(0o755)
    venv = installed_venv(checkout, str(other))

    done = make(checkout, "-n", "demo", f"PYTHON={BASE_PYTHON}")

    assert not venv.exists()  # removed, so the install below starts from nothing
    assert f"{BASE_PYTHON} -m venv .venv\n" in done.stdout, done.stdout + done.stderr
    assert done.stdout.endswith(".venv/bin/python -m databasin_mcp.demo\n")


def test_a_python_older_than_3_11_is_named_in_one_line(checkout: Path) -> None:
    old = checkout / "python3.9"
    old.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")  # what `sys.exit(sys.version_info < (3, 11))` gives
    old.chmod(0o755)

    done = make(checkout, "demo", f"PYTHON={old}")

    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        f"make: databasin-mcp needs Python 3.11 or later; '{old}' is not. Name one: make demo PYTHON=python3.11"
    )
    assert not (checkout / ".venv").exists()
