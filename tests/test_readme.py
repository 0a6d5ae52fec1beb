"""README parts that must not drift from the code: the tool table and the configuration examples."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import pytest
import uvicorn

from databasin_mcp.__main__ import build_parser
from databasin_mcp.cli.commands import cli as cli_root
from databasin_mcp.config import Settings, variables
from databasin_mcp.sandbox.serve import build_parser as sandbox_parser
from databasin_mcp.specs import TOOLS

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
TABLE = re.compile(r"(<!-- tools:start[^\n]*-->\n)(.*?)(<!-- tools:end -->)", re.DOTALL)


def tool_table() -> str:
    """Each tool, the --tools groups that select it (so the table says what each group holds), what it does."""
    rows = [f"| `{spec.name}` | {', '.join(sorted(spec.groups))} | {spec.description} |" for spec in TOOLS]
    return "\n".join(["| tool | group | what it does |", "|---|---|---|", *rows]) + "\n"


def test_the_readme_tool_table_is_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        text = TABLE.sub(lambda m: m.group(1) + tool_table() + m.group(3), text)
        README.write_text(text, encoding="utf-8")
    match = TABLE.search(text)
    assert match is not None
    assert match.group(2) == tool_table()


def test_the_two_commands_come_first() -> None:
    head = README.read_text(encoding="utf-8").splitlines()[:14]
    assert (
        "make demo   # a scripted agent session against a local sandbox API: each call, what the model reads, its size"
        in head
    )
    assert (
        "make test   # every test: unit, sandbox, end to end over stdio / HTTP / SSE, the real MCP clients, a browser"
        in head
    )
    # What they need, right below them (issue 16 #2).
    assert (
        "Both need only Python ≥ 3.11 and `make` on a fresh machine: the first one creates `.venv` and installs" in head
    )


def test_every_documented_variable_and_flag_exists() -> None:
    text = README.read_text(encoding="utf-8")
    aliases: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        aliases |= {alias} if isinstance(alias, str) else {str(c) for c in getattr(alias, "choices", [])}
    documented = set(re.findall(r"`(DATABASIN_[A-Z_]+|PUBLIC_API_URI)", text))
    assert documented - aliases == set()
    parsers = (build_parser(), sandbox_parser())
    flags = {option for parser in parsers for action in parser._actions for option in action.option_strings}
    flags |= click_options(cli_root)
    flags |= click_options(uvicorn.main)  # the load-balancer recipe runs uvicorn's own command line
    assert set(re.findall(r"`(--[a-z0-9-]+)", text)) - flags == set()


def test_every_variable_is_in_the_configuration_table() -> None:
    table = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name for names, _, _ in variables() for name in names.split(" or ") if f"`{name}" not in table]
    assert missing == []


def click_options(command: click.Command) -> set[str]:
    """Every option of a click command and its subcommands."""
    options = {
        name for param in command.params for name in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])
    }
    for sub in getattr(command, "commands", {}).values():
        options |= click_options(sub)
    return options


@pytest.mark.parametrize("server", ["databasin", "databasin-sandbox"])
def test_the_claude_desktop_example_is_valid(server: str) -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text(encoding="utf-8"))
    entry = config["mcpServers"][server]
    assert entry["command"].endswith("/.venv/bin/databasin-mcp")
    build_parser().parse_args(entry.get("args", []))
    for name in entry.get("env", {}):
        assert name in {"DATABASIN_API_URL", "DATABASIN_TOKEN_FILE", "DATABASIN_TOKEN", "DATABASIN_PROJECT"}


def test_the_readme_performance_table_is_the_benchmarks_summary() -> None:
    """`make bench` writes both; a hand edit of either one shows up here."""
    readme = README.read_text(encoding="utf-8")
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    in_readme = re.search(r"<!-- performance-table:start[^\n]*-->\n(.*?)<!-- performance-table:end -->", readme, re.S)
    in_results = re.search(r"## Summary\n\n(.*?)\n\n", results, re.S)
    assert in_readme is not None
    assert in_results is not None
    assert in_readme.group(1).strip() == in_results.group(1).strip()
