"""The npm set-up of the interop tests: installed once, skipped when pinned, and a clear failure when offline."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from databasin_mcp.harness.node import PINS, TS_SDK, NodeTools, installed_version
from databasin_mcp.harness.processes import clean_env

from .nodetools import NO_NODE, ROOT, npm_install

pytestmark = pytest.mark.e2e


@pytest.fixture
def unreachable_registry(tmp_path: Path) -> Iterator[dict[str, str]]:
    """npm settings pointing at a loopback port that refuses connections, with an empty cache and no retries."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connecting is refused
        yield clean_env(
            HOME=str(tmp_path),
            npm_config_registry=f"http://127.0.0.1:{closed.getsockname()[1]}/",
            npm_config_cache=str(tmp_path / "npm-cache"),
            npm_config_fetch_retries="0",
            npm_config_update_notifier="false",
        )


def test_the_pinned_versions_are_installed(node_tools: NodeTools) -> None:
    assert dict(node_tools.versions) == PINS


def test_an_installed_folder_is_not_installed_again(
    node_tools: NodeTools, unreachable_registry: dict[str, str]
) -> None:
    npm_install(node_tools.dir, PINS, unreachable_registry, timeout=60)  # would fail if it asked the registry


def test_an_unreachable_registry_fails_the_tests_saying_so(
    tmp_path: Path, unreachable_registry: dict[str, str]
) -> None:
    folder = tmp_path / "node"
    with pytest.raises(pytest.fail.Exception, match=r"The npm registry \(http://127\.0\.0\.1:\d+/\) cannot be reached"):
        npm_install(folder, {TS_SDK: PINS[TS_SDK]}, unreachable_registry, timeout=120)
    assert installed_version(folder, TS_SDK) is None


def test_without_node_the_clients_tests_are_skipped_in_one_line(tmp_path: Path) -> None:
    """A machine without Node.js runs everything else; the node clients' tests say why they did not run, once."""
    node_tests = [
        "tests/interop/test_node_install.py::test_the_pinned_versions_are_installed",
        "tests/interop/test_inspector.py",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *node_tests],
        cwd=ROOT,
        env=clean_env(PATH=str(tmp_path), DATABASIN_INTEROP_NODE_DIR=str(tmp_path / "node")),  # no node, no npm
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 5, done.stdout + done.stderr  # pytest's "no tests ran": all 4 were left out
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped == [f"SKIPPED 4 tests of the real node clients (tests/interop) not run: {NO_NODE} (not found)"]
    assert re.search(r"^4 deselected in ", done.stdout, flags=re.MULTILINE), done.stdout
    assert not (tmp_path / "node").exists()  # nothing was installed
