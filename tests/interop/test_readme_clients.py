"""The README "Clients" snippets, read out of README.md and run as written (paths, URLs and ports localised).

Every code block between <!-- clients:start --> and <!-- clients:end --> follows a
<!-- snippet:NAME --> marker, and every NAME is exercised here, so a snippet cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from databasin_mcp.harness.children import run_all, run_bounded
from databasin_mcp.harness.node import INSPECTOR, PINS, NodeTools, node_env
from databasin_mcp.harness.processes import Sandbox, clean_env
from databasin_mcp.sandbox.seed import PROJECT_95

from .nodetools import ROOT
from .servers import SERVER_SCRIPT, servers_from_commands

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
SNAPSHOT_NAMES = [
    tool["name"] for tool in json.loads((ROOT / "tests/snapshots/tools.json").read_text(encoding="utf-8"))
]
EXERCISED = {"claude-desktop", "claude-code", "inspector", "http-server", "remote-json", "python-sdk"}
CALL_TIMEOUT = 90.0  # seconds for any one client command or call

# The README's placeholders and the sandbox answers the snippets' calls must give.
SERVER_PLACEHOLDER = "/path/to/databasin-mcp/.venv/bin/databasin-mcp"
API_PLACEHOLDER = "https://api.databasin.example"
HOME_PLACEHOLDER = "/Users/you"
MCP_URL_PLACEHOLDER = "http://127.0.0.1:8000/mcp"
SSE_URL_PLACEHOLDER = "http://127.0.0.1:8000/sse"
TOKEN_PLACEHOLDER = "YOUR_MCP_TOKEN"
FIRST_LINES = {
    "list_projects": "12 projects with 434 connectors",
    "list_connectors": (
        f"95 connectors in {PROJECT_95}, showing 1–25 (7 inactive, on this page: 110, 125, 133); next: offset=25"
    ),
}


# --- reading the README ------------------------------------------------------------------------------


def clients_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- clients:start -->\n(.*?)<!-- clients:end -->", text, re.DOTALL)
    assert match is not None, "README.md has no <!-- clients:start --> ... <!-- clients:end --> region"
    return match.group(1)


def snippets() -> dict[str, str]:
    found = re.findall(r"<!-- snippet:([a-z0-9-]+) -->\n```[a-z]+\n(.*?)```\n", clients_section(), re.DOTALL)
    return dict(found)


def subsection(title: str) -> str:
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^### |\Z)", clients_section(), re.DOTALL | re.MULTILINE)
    assert match is not None, title
    return match.group(1)


def shell_lines(code: str) -> list[str]:
    """The commands of a sh snippet: continuation lines joined, blank lines dropped."""
    return [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]


def split_comment(line: str) -> tuple[str, str]:
    """`command    # expected output` -> (command, expected output)."""
    command, _, comment = line.partition("  # ")
    return command.strip(), comment.strip()


def localize(text: str, replacements: Mapping[str, str]) -> str:
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    leftovers = [
        p for p in (SERVER_PLACEHOLDER, API_PLACEHOLDER, HOME_PLACEHOLDER, ":8000", TOKEN_PLACEHOLDER) if p in text
    ]
    assert not leftovers, f"placeholders left in {text!r}: {leftovers}"
    return text


def test_every_code_block_of_the_clients_section_is_a_tested_snippet() -> None:
    assert set(snippets()) == EXERCISED
    assert clients_section().count("```") == 2 * len(EXERCISED)


# --- fixtures: a token file in HOME, and the README's own HTTP server command lines ------------------------


@pytest.fixture
def token_home(home: Path, sandbox: Sandbox) -> Path:
    """HOME holding ~/.databasin/.token with the sandbox's token (the snippets' DATABASIN_TOKEN_FILE)."""
    (home / ".databasin").mkdir()
    (home / ".databasin" / ".token").write_text(sandbox.token + "\n", encoding="utf-8")
    return home


def local(sandbox: Sandbox, home: Path, **more: str) -> dict[str, str]:
    return {SERVER_PLACEHOLDER: SERVER_SCRIPT, API_PLACEHOLDER: sandbox.url, HOME_PLACEHOLDER: str(home), **more}


@dataclass
class ReadmeServers:
    mcp: str  # streamable HTTP
    sse: str
    protected: str  # streamable HTTP with --auth-token
    token: str


@pytest.fixture(scope="module")
def readme_servers(sandbox: Sandbox) -> Iterator[ReadmeServers]:
    """The README's `databasin-mcp --transport ...` lines, on free ports (--port 0) against the sandbox."""
    token = "-" + secrets.token_urlsafe(16)  # a leading dash (1 random token in 64) must still be a value
    lines = shell_lines(snippets()["http-server"])
    commands = []
    for line in lines:
        argv = shlex.split(line.replace(TOKEN_PLACEHOLDER, token), comments=True)
        assert argv[0] == "databasin-mcp", line
        argv[argv.index("--port") + 1] = "0"
        commands.append([SERVER_SCRIPT, *argv[1:]])
    with servers_from_commands(commands, sandbox.env()) as servers:
        urls: dict[str, str] = {}
        for line, argv, server in zip(lines, commands, servers, strict=True):
            documented = re.search(r"#\s*(http://\S+)", line)
            if documented:  # the comment says where it listens: the same path, on the chosen port
                port = urllib.parse.urlsplit(server.url).port
                assert server.url == documented.group(1).replace(":8000/", f":{port}/"), line
            kind = "protected" if "--auth-token" in argv else argv[argv.index("--transport") + 1]
            urls[kind] = server.url
        assert set(urls) == {"streamable-http", "sse", "protected"}
        yield ReadmeServers(mcp=urls["streamable-http"], sse=urls["sse"], protected=urls["protected"], token=token)


# --- the snippets ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_claude_desktop_entries_serve_tools(sandbox: Sandbox, token_home: Path) -> None:
    """Claude Desktop launches `command` with `args` and `env` over stdio (the handshake); so does this test."""
    config = json.loads(localize(snippets()["claude-desktop"], local(sandbox, token_home)))
    entry = config["mcpServers"]["databasin"]
    assert set(entry) <= {"command", "args", "env"}
    sandbox_args = re.search(r'`"args": (\[[^\]]*\])`', subsection("Claude Desktop"))
    assert sandbox_args is not None
    entries = {
        "configured": entry,
        "no account": {"command": entry["command"], "args": json.loads(sandbox_args.group(1))},
    }
    first_lines: dict[str, str] = {}

    async def list_projects(name: str, entry: dict[str, Any]) -> None:
        server = StdioServerParameters(
            command=entry["command"],
            args=entry.get("args", []),
            env=clean_env(HOME=str(token_home), **entry.get("env", {})),
        )
        with anyio.fail_after(CALL_TIMEOUT):
            async with Client(server, mode="legacy") as client:
                result = await client.call_tool("list_projects", {})
        assert not result.is_error, result
        first_lines[name] = result.content[0].text.splitlines()[0]  # type: ignore[union-attr]

    async with anyio.create_task_group() as both:
        for name, each in entries.items():
            both.start_soon(list_projects, name, each)
    assert first_lines == {"configured": FIRST_LINES["list_projects"], "no account": FIRST_LINES["list_projects"]}


def test_claude_code_registers_a_server_that_connects(
    node_tools: NodeTools, sandbox: Sandbox, token_home: Path, tmp_path: Path
) -> None:
    """`claude mcp add` then `claude mcp get` (which starts the server and connects), offline, no login."""
    project = tmp_path / "project"
    project.mkdir()
    env = node_env(token_home, PATH=f"{node_tools.bin_dir}{os.pathsep}{os.environ['PATH']}")
    outputs = []
    for line in shell_lines(snippets()["claude-code"]):
        command, expected = split_comment(line)
        done = run_bounded(
            ["bash", "-c", localize(command, local(sandbox, token_home))], env=env, cwd=project, timeout=CALL_TIMEOUT
        )
        assert expected in done.stdout, done.stdout  # the comment in the README is the output
        outputs.append(done.stdout)
    added, got = outputs
    assert added.startswith(f"Added stdio MCP server databasin with command: {SERVER_SCRIPT}")
    assert "Status: ✔ Connected" in got
    assert f"DATABASIN_API_URL={sandbox.url}" in got
    assert f"DATABASIN_TOKEN_FILE={token_home}/.databasin/.token" in got


def test_the_inspector_command_lines(
    node_tools: NodeTools, sandbox: Sandbox, readme_servers: ReadmeServers, token_home: Path
) -> None:
    """Each `npx @modelcontextprotocol/inspector@<pin> --cli ...` line, literally. Pinned in README: unpinned,
    npx on Node 20 resolves an old Inspector whose CLI rejects the stdio line (issue 16 #3). npx, offline,
    finds the pinned install in the folder it runs in."""
    replacements = local(
        sandbox, token_home, **{MCP_URL_PLACEHOLDER: readme_servers.mcp, SSE_URL_PLACEHOLDER: readme_servers.sse}
    )
    lines = shell_lines(snippets()["inspector"])
    assert {line.split()[:3] == ["npx", f"{INSPECTOR}@{PINS[INSPECTOR]}", "--cli"] for line in lines} == {True}
    runs = run_all(
        {line: ["bash", "-c", localize(line, replacements)] for line in lines},
        env=node_env(token_home, npm_config_offline="true"),
        cwd=node_tools.dir,
        timeout=CALL_TIMEOUT,
    )
    for line, run in runs.items():
        assert run.returncode == 0, f"{line}\n{run.stdout}\n{run.stderr}"
        result = json.loads(run.stdout)
        argv = shlex.split(line)
        if argv[argv.index("--method") + 1] == "tools/list":
            assert [tool["name"] for tool in result["tools"]] == SNAPSHOT_NAMES, line
        else:
            tool = argv[argv.index("--tool-name") + 1]
            assert result["isError"] is False, line
            assert result["content"][0]["text"].splitlines()[0] == FIRST_LINES[tool], line


def remote_entry(servers: ReadmeServers) -> dict[str, Any]:
    config = json.loads(
        localize(snippets()["remote-json"], {MCP_URL_PLACEHOLDER: servers.protected, TOKEN_PLACEHOLDER: servers.token})
    )
    entry: dict[str, Any] = config["mcpServers"]["databasin"]
    assert entry["type"] == "http"
    return entry


@pytest.mark.anyio
async def test_the_remote_entry_from_the_python_sdk(readme_servers: ReadmeServers) -> None:
    """The URL entry's headers get the Python SDK into the --auth-token server."""
    entry = remote_entry(readme_servers)
    with anyio.fail_after(CALL_TIMEOUT):
        async with (
            httpx2.AsyncClient(headers=entry["headers"]) as http,
            Client(streamable_http_client(entry["url"], http_client=http)) as client,
        ):
            result = await client.call_tool("list_projects", {})
    assert result.content[0].text.splitlines()[0] == FIRST_LINES["list_projects"]  # type: ignore[union-attr]


def test_the_remote_entry_in_claude_code(node_tools: NodeTools, readme_servers: ReadmeServers, home: Path) -> None:
    """Given to Claude Code as the README says (claude mcp add-json), the entry connects; without it: 401."""
    entry = remote_entry(readme_servers)
    anonymous = urllib.request.Request(
        entry["url"], data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(anonymous, timeout=CALL_TIMEOUT)
    assert refused.value.code == 401
    refused.value.close()

    add_json = re.search(r"`(claude mcp add-json [a-z-]+) '<the inner object>'`", clients_section())
    assert add_json is not None
    env = node_env(home, PATH=f"{node_tools.bin_dir}{os.pathsep}{os.environ['PATH']}")
    added = run_bounded([*shlex.split(add_json.group(1)), json.dumps(entry)], env=env, cwd=home, timeout=CALL_TIMEOUT)
    assert added.stdout.startswith("Added http MCP server databasin")
    got = run_bounded(["claude", "mcp", "get", "databasin"], env=env, cwd=home, timeout=CALL_TIMEOUT)
    assert "Status: ✔ Connected" in got.stdout, got.stdout
    assert f"URL: {readme_servers.protected}" in got.stdout


def test_the_python_program(readme_servers: ReadmeServers) -> None:
    code = localize(snippets()["python-sdk"], {MCP_URL_PLACEHOLDER: readme_servers.mcp})
    done = run_bounded([sys.executable, "-c", code], env=clean_env(), timeout=CALL_TIMEOUT)
    assert done.stdout.splitlines()[:2] == [FIRST_LINES["list_projects"], "project_id,institution_id,connectors,types"]
