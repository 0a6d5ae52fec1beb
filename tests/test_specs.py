"""The tool table: every tool says what it is, every parameter is declared once, and both front ends follow.

Adding a tool is: a client endpoint, one operation whose parameters use params.py's declarations, one
ToolSpec, a sandbox route. These tests fail when a spec leaves out a trait, a parameter is typed by hand,
or a front end does not offer a tool the table has.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

import click
import pytest

from databasin_mcp import params
from databasin_mcp.cli import cli
from databasin_mcp.ops.base import INJECTED
from databasin_mcp.specs import GROUPS, TOOLS, ToolSpec

DECLARATIONS = {id(value) for name, value in vars(params).items() if not name.startswith("_")}


def parameters(spec: ToolSpec) -> dict[str, Any]:
    hints = typing.get_type_hints(spec.operation, include_extras=True)
    names = [name for name in inspect.signature(spec.operation).parameters if name not in ("self", *INJECTED)]
    return {name: hints[name] for name in names}


def test_a_spec_cannot_be_made_without_every_trait() -> None:
    fields = [field.name for field in dataclasses.fields(ToolSpec)]
    assert all(field.default is dataclasses.MISSING for field in dataclasses.fields(ToolSpec)), fields
    complete = dataclasses.asdict(TOOLS[0]) | {"operation": TOOLS[0].operation}
    for left_out in fields:
        with pytest.raises(TypeError, match=left_out):
            ToolSpec(**{name: value for name, value in complete.items() if name != left_out})


@pytest.mark.parametrize("spec", TOOLS, ids=[spec.name for spec in TOOLS])
def test_each_spec_says_what_the_tool_is_and_its_traits_agree(spec: ToolSpec) -> None:
    assert 0 < len(spec.description) <= 130
    assert spec.groups
    assert spec.groups <= set(GROUPS)
    assert ("write" in spec.groups) == spec.writes, "the write group is exactly the tools that write"
    assert spec.annotations.read_only == (not spec.writes)
    assert (spec.annotations.destructive is not None) == spec.writes
    if spec.action:  # it runs something on one connector's source
        assert spec.subject == "connector"
        assert "connector_id" in parameters(spec)
    if spec.subject in ("connector", "metadata"):
        assert "connector_id" in parameters(spec), "a failure about a connector names it"
    assert spec.operation.__doc__, "the operation's docstring is its command's help"


@pytest.mark.parametrize("spec", TOOLS, ids=[spec.name for spec in TOOLS])
def test_every_parameter_is_one_of_the_declarations(spec: ToolSpec) -> None:
    typed_by_hand = [name for name, hint in parameters(spec).items() if id(hint) not in DECLARATIONS]
    assert typed_by_hand == [], f"declare these in params.py and use the alias: {typed_by_hand}"


def test_a_parameter_typed_by_hand_is_caught() -> None:
    class Reads:
        async def list_things(self, *, connector_id: params.ConnectorId, limit: int = 5) -> None:
            """Things."""

    spec = dataclasses.replace(TOOLS[0], operation=Reads.list_things)
    hand = [name for name, hint in parameters(spec).items() if id(hint) not in DECLARATIONS]
    assert hand == ["limit"]


def commands(group: click.Group, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= commands(command, (*path, name))
        else:
            found[(*path, name)] = command
    return found


def test_every_tool_has_its_command_and_every_command_is_a_tool() -> None:
    by_path = commands(cli)
    assert sorted(by_path) == sorted(spec.command for spec in TOOLS)
    for spec in TOOLS:
        assert getattr(by_path[spec.command], "spec", None) is spec


@pytest.mark.parametrize("spec", [spec for spec in TOOLS if not spec.writes and not spec.action], ids=lambda s: s.name)
def test_a_read_tools_command_takes_exactly_its_operations_parameters(spec: ToolSpec) -> None:
    command = commands(cli)[spec.command]
    taken = {parameter.name for parameter in command.params} - {"as_json"}
    assert taken == set(parameters(spec))
