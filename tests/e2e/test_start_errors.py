"""Every start-up and usage error of `databasin-mcp` and `databasin` is one line and an exit code (issue 16 #4).

Run as a person runs them: the installed commands as processes, each error read from stderr whole.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from databasin_mcp.harness.processes import Sandbox, clean_env

pytestmark = pytest.mark.e2e

TIMEOUT = 60.0
BIN = os.path.dirname(sys.executable)
HELP = "'databasin-mcp --help' lists the options."


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def run(command: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.path.join(BIN, command), *args],
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


SERVER_ERRORS = [
    (["--transport", "bogus"], "argument --transport: invalid choice: 'bogus' (choose from 'stdio', 'sse', "
     f"'streamable-http'); {HELP}"),
    (["--port", "x"], f"argument --port: invalid int value: 'x'; {HELP}"),
    (["--bogus"], f"unrecognized arguments: --bogus; {HELP}"),
    (["--sandbox", "--tools", "bogus"], "Unknown tool or group in --tools/DATABASIN_TOOLS: bogus. Groups: read, write, "
     "metadata, data; tools: list_projects, list_connectors, find_connectors, get_connector, create_connector, "
     "update_connector, delete_connector, test_connector, refresh_connector_metadata, list_catalogs, list_schemas, "
     "list_tables, list_columns, preview_table, run_query."),
    (["--tools", "write", "--read-only"], "--tools/DATABASIN_TOOLS and --read-only leave no tool to serve."),
    (["--sandbox", "--transport", "streamable-http", "--host", "0.0.0.0"], "Refusing to serve on 0.0.0.0 without an "
     "auth token: anyone who can reach it could manage your connectors. Set DATABASIN_MCP_AUTH_TOKEN (or "
     "--auth-token), or bind 127.0.0.1."),
    (["--transport", "sse", "--auth-token", "short"], "invalid configuration: --auth-token: is too short: use at least "
     "16 characters, e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe())'"),
    (["--api-url", "localhost:9000"], "invalid configuration: --api-url: must start with http:// or https://, e.g. "
     "http://localhost:9000"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "said"), SERVER_ERRORS, ids=[" ".join(args) for args, _ in SERVER_ERRORS])
def test_a_start_up_error_of_the_server_is_one_line(args: list[str], said: str) -> None:
    done = run("databasin-mcp", *args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"databasin-mcp: {said}\n")


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_a_busy_port_is_one_line(busy_port: int, transport: str) -> None:
    done = run("databasin-mcp", "--transport", transport, "--port", str(busy_port))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"databasin-mcp: Port {busy_port} on 127.0.0.1 is in use: pick another with --port (or DATABASIN_MCP_PORT), "
        "or stop what uses it.\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["doctor", "--bogus"], "databasin-mcp doctor: unrecognized arguments: --bogus; "
         "'databasin-mcp doctor --help' lists the options."),
        (["sandbox", "--port", "x"], "databasin-mcp sandbox: argument --port: invalid int value: 'x'; "
         "'databasin-mcp sandbox --help' lists the options."),
    ],
)  # fmt: skip
def test_a_usage_error_of_a_subcommand_is_one_line(args: list[str], said: str) -> None:
    done = run("databasin-mcp", *args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{said}\n")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["connectors", "get", "x"], "Invalid value for 'CONNECTOR_ID': 'x' is not a connector ID (1 or more). "
         "('databasin connectors get --help' lists the options.)"),
        (["connectors", "bogus"], "No such command 'bogus'. ('databasin connectors --help' lists the options.)"),
        (["projects", "--institution", "-1"], "Invalid value for '--institution': '-1' is not a whole number (0 or "
         "more). ('databasin projects --help' lists the options.)"),
    ],
)  # fmt: skip
def test_a_usage_error_of_the_command_line_is_one_line(args: list[str], said: str) -> None:
    done = run("databasin", *args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"Error: {said}\n")


def test_output_to_a_closed_pipe_ends_quietly(sandbox: Sandbox) -> None:
    """`databasin projects | head -0`: the reader is gone before anything is written; the writer ends quietly
    (click's own handling of a closed pipe: exit 1, nothing on stderr)."""
    env = clean_env(DATABASIN_API_URL=sandbox.url, DATABASIN_TOKEN=sandbox.token)
    with subprocess.Popen(
        [os.path.join(BIN, "databasin"), "projects"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as writer:
        assert writer.stdout is not None
        assert writer.stderr is not None
        writer.stdout.close()  # the reader goes first: the command is still starting, nothing written yet
        status = writer.wait(timeout=TIMEOUT)
        said = writer.stderr.read()
    assert (status, said) == (1, b"")
