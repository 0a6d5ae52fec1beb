"""No secret in any tool's input schema by default (issue 15 #1): the person types passwords on our page.

`password` is declared once (params.Password, marked Secret); the MCP tools leave it out and take
`ask_password` and `password_ref` in its place, unless DATABASIN_ALLOW_SECRET_ARGUMENTS (the weaker choice,
for headless automation) brings it back. The command line keeps --password-stdin and --password-prompt.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
import respx
from mcp import Client

from databasin_mcp.cli import cli
from databasin_mcp.config import Settings
from databasin_mcp.params import Secret
from databasin_mcp.redact import is_secret_field
from databasin_mcp.specs import TOOLS

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

# What stands in for a password: a yes/no and a reference, neither of which holds one.
STAND_INS = {"ask_password": {"type": "boolean"}, "password_ref": {"type": "string"}}
WRITES_WITH_A_PASSWORD = ("create_connector", "update_connector")


async def secret_looking(client: Client) -> dict[tuple[str, str], dict[str, Any]]:
    """(tool, property) -> schema, for every input property whose name says it may hold a secret."""
    found = {}
    for tool in (await client.list_tools()).tools:
        for name, schema in tool.input_schema.get("properties", {}).items():
            if is_secret_field(name):
                found[(tool.name, name)] = schema
    return found


async def test_no_input_schema_has_a_secret_property_by_default(make_server: ServerFactory) -> None:
    async with Client(make_server(allow_secret_arguments=False)) as client:
        found = await secret_looking(client)

    # The only names that look secret are the stand-ins, and they carry none: a yes/no and a reference.
    assert set(found) == {(tool, name) for tool in WRITES_WITH_A_PASSWORD for name in STAND_INS}
    for (_, name), schema in found.items():
        assert schema["type"] == STAND_INS[name]["type"]


async def test_the_stand_ins_take_the_passwords_place_and_say_never_to_ask_in_chat(make_server: ServerFactory) -> None:
    async with Client(make_server(allow_secret_arguments=False)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    for name in WRITES_WITH_A_PASSWORD:
        properties = list(tools[name].input_schema["properties"])
        assert "password" not in properties
        assert properties[properties.index("username") + 1 : properties.index("username") + 3] == [
            "ask_password",
            "password_ref",
        ]
        assert tools[name].input_schema["properties"]["ask_password"] == {
            "default": False,
            "description": "have the person type the password on our page (never ask in chat)",
            "type": "boolean",
        }
        assert tools[name].input_schema["properties"]["password_ref"] == {"type": "string"}


async def test_allow_secret_arguments_brings_password_back_beside_the_stand_ins(make_server: ServerFactory) -> None:
    async with Client(make_server(allow_secret_arguments=True)) as client:
        found = await secret_looking(client)

    assert set(found) == {(tool, name) for tool in WRITES_WITH_A_PASSWORD for name in ("password", *STAND_INS)}


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().allow_secret_arguments is False
    monkeypatch.setenv("DATABASIN_ALLOW_SECRET_ARGUMENTS", "1")
    assert Settings().allow_secret_arguments is True


async def test_a_password_argument_is_refused_by_default_and_nothing_is_sent(
    make_server: ServerFactory, router: respx.Router
) -> None:
    async with Client(make_server(allow_secret_arguments=False)) as client:
        result = await client.call_tool("update_connector", {"connector_id": 7, "password": "Pasted-in-chat-pw1"})

    assert result.is_error
    assert result.content[0].text == (  # type: ignore[union-attr]
        "Unknown argument password for update_connector; it takes: active, ask_password, auth_type, connector_id, "
        "database, host, max_connections, name, password_ref, port, username."
    )
    assert "Pasted-in-chat-pw1" not in str(result.model_dump())
    assert router.calls.call_count == 0


def test_password_is_declared_once_as_secret_and_every_operation_taking_it_uses_that() -> None:
    taking = []
    for spec in TOOLS:
        hints = typing.get_type_hints(spec.operation, include_extras=True)
        for name in inspect.signature(spec.operation).parameters:
            if any(isinstance(item, Secret) for item in getattr(hints.get(name), "__metadata__", ())):
                taking.append((spec.name, name))
    assert taking == [(tool, "password") for tool in WRITES_WITH_A_PASSWORD]


def test_the_command_line_still_reads_passwords_from_stdin_or_a_prompt_never_an_argument() -> None:
    commands = cli.commands["connectors"].commands  # type: ignore[attr-defined]
    for command in ("create", "update"):
        options = {name for parameter in commands[command].params for name in parameter.opts}
        assert {"--password-stdin", "--password-prompt"} <= options
        assert not {"--password", "--ask-password", "--password-ref"} & options


def test_the_flag_turns_it_on() -> None:
    from databasin_mcp.__main__ import build_parser, settings_from

    assert settings_from(build_parser().parse_args(["--allow-secret-arguments"])).allow_secret_arguments is True
    assert settings_from(build_parser().parse_args([])).allow_secret_arguments is False
