"""The `databasin-mcp` command line: help and version without configuration, clear config errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from databasin_mcp import __version__
from databasin_mcp.__main__ import main
from databasin_mcp.config import variables


def test_help_needs_no_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: databasin-mcp")
    assert "DATABASIN_API_URL or PUBLIC_API_URI" in out
    # Every setting's variable, with what it is (before: 7 of them).
    for names, _, meaning in variables():
        assert f"  {names}\n      {meaning}" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"databasin-mcp {__version__}\n"


def test_a_bad_setting_exits_2_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", "localhost:9000")
    assert main([]) == 2
    assert capsys.readouterr().err == (
        "databasin-mcp: invalid configuration: DATABASIN_API_URL: "
        "must start with http:// or https://, e.g. http://localhost:9000\n"
    )


def test_serving_beyond_loopback_without_auth_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--transport", "streamable-http", "--host", "0.0.0.0"]) == 2
    assert "Refusing to serve on 0.0.0.0 without an auth token" in capsys.readouterr().err


@pytest.mark.e2e  # a real `python -m databasin_mcp` process
def test_the_installed_script_prints_help_with_nothing_configured() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "databasin_mcp", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: databasin-mcp")
    assert done.stderr == ""


def test_the_sandbox_subcommand_is_the_sandbox_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: databasin-mcp sandbox")


@pytest.mark.e2e  # a fresh interpreter, to see what start-up imports
def test_starting_the_server_leaves_httpx_and_sqlglot_to_the_first_request() -> None:
    # Start-up is measured against a bare MCPServer (benchmarks); httpx is 10-35 ms of it and sqlglot
    # (the data tools' SQL parser) ~90 ms, which initialize and tools/list do not need. A top-level
    # `import httpx` or `from ..sql import checked` would bring them back.
    code = (
        "import sys\n"
        "from databasin_mcp.__main__ import main\n"
        "from databasin_mcp.config import Settings\n"
        "from databasin_mcp.server import create_server\n"
        "create_server(Settings(api_url='http://127.0.0.1:9', token='t'))\n"
        "print(sorted(name for name in ('httpx', 'httpcore', 'sqlglot') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
