"""The client views reproduce what the real clients forwarded for each probe result (recorded once).

The expected values are what Claude Code 2.1.332 and the OpenAI Agents SDK 0.24.0 sent their model
for benchmarks/recording/probe_server.py (`python -m benchmarks.recording` records them again and
tests/interop/test_claude_code_reads.py checks Claude Code live).
"""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.recording.client_views import (
    claude_code_deferred_listing,
    claude_code_tool_definitions,
    claude_code_tool_result,
    claude_code_view,
    js_number,
    js_stringify,
    openai_agents_output,
    openai_agents_view,
)
from benchmarks.recording.probe_server import PROBES
from mcp.types import CallToolResult


def over_the_wire(result: CallToolResult) -> CallToolResult:
    """The result as a client holds it: serialized by the server, parsed back."""
    return CallToolResult.model_validate_json(result.model_dump_json(by_alias=True, exclude_none=True))


# Recorded from Claude Code's next request: (tool_result content, is_error).
CLAUDE_CODE_FORWARDED: dict[str, tuple[Any, bool]] = {
    "text_only": ([{"type": "text", "text": "first line\nsecond line"}], False),
    "two_texts": ([{"type": "text", "text": "alpha"}, {"type": "text", "text": "beta"}], False),
    "text_and_structured": (
        '{"2":true,"10":"an integer-like key","b":1,"a":"Zürich \\"q\\"\\n\\ttab \u2028 </x> \\\\ \\u0001",'
        '"large":1e+21,"small":1e-7,"negative_zero":0,"beyond_2_53":12345678901234567000,"half":0.5,'
        '"third":0.3333333333333333,"nested":{"z":[1,null,"x",{"y":2.5}],"empty":{},"list":[]}}',
        False,
    ),
    "structured_only": ('{"only":"structured"}', False),
    "error_with_structured": ("it failed\nthe next step", True),
    "error_without_text": ("Unknown error", True),
    "empty": ("(mcp__probe__empty completed with no output)", False),
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_claude_code_tool_result_is_what_claude_code_forwarded(name: str) -> None:
    assert claude_code_tool_result(over_the_wire(PROBES[name]), f"mcp__probe__{name}") == CLAUDE_CODE_FORWARDED[name]


def test_claude_code_view_drops_the_text_block_when_structured_content_is_there() -> None:
    view = claude_code_view(over_the_wire(PROBES["text_and_structured"]))
    assert "the text block" not in view
    assert view.startswith('{"2":true,"10":')


def texts(*values: str) -> list[dict[str, str]]:
    return [{"type": "input_text", "text": value} for value in values]


# Recorded from the SDK's next Responses API request: the function_call_output's `output`.
AGENTS_FORWARDED: dict[str, Any] = {
    "text_only": texts("first line\nsecond line"),
    "two_texts": texts("alpha", "beta"),
    "text_and_structured": texts("the text block"),
    "structured_only": "[]",
    "error_with_structured": texts("it failed", "the next step"),
    "error_without_text": "[]",
    "empty": "[]",
}
AGENTS_FORWARDED_STRUCTURED: dict[str, Any] = {
    **AGENTS_FORWARDED,
    "text_and_structured": (
        '{"b": 1.0, "a": "Z\\u00fcrich \\"q\\"\\n\\ttab \\u2028 </x> \\\\ \\u0001", "10": "an integer-like key", '
        '"2": true, "large": 1e+21, "small": 1e-07, "negative_zero": -0.0, "beyond_2_53": 12345678901234567890, '
        '"half": 0.5, "third": 0.3333333333333333, '
        '"nested": {"z": [1, null, "x", {"y": 2.5}], "empty": {}, "list": []}}'
    ),
    "structured_only": '{"only": "structured"}',
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_openai_agents_output_is_what_the_sdk_forwarded(name: str) -> None:
    result = over_the_wire(PROBES[name])
    assert openai_agents_output(result) == AGENTS_FORWARDED[name]
    assert openai_agents_output(result, use_structured_content=True) == AGENTS_FORWARDED_STRUCTURED[name]


def test_openai_agents_view_reads_the_text_blocks_by_default() -> None:
    assert openai_agents_view(over_the_wire(PROBES["text_and_structured"])) == "the text block"


@pytest.mark.parametrize(
    ("number", "spelled"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (7, "7"),
        (-7.0, "-7"),
        (2.5, "2.5"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (-2.5e-8, "-2.5e-8"),
        (2**53 + 1, "9007199254740992"),
        (float("nan"), "null"),
    ],
)
def test_js_number_spells_numbers_as_javascript_does(number: float, spelled: str) -> None:
    assert js_number(number) == spelled


def test_js_stringify_puts_integer_like_keys_first_and_keeps_the_rest_in_order() -> None:
    assert js_stringify({"b": 1, "10": 2, "a": [None, False], "2": "x", "01": 3}) == (
        '{"2":"x","10":2,"b":1,"a":[null,false],"01":3}'
    )


# Two tools as tools/list sends them (out of name order, with annotations Claude Code does not forward).
TOOLS_LIST = [
    {
        "name": "list_tables",
        "description": "Tables of a connector.",
        "inputSchema": {"type": "object", "properties": {"connector_id": {"type": "integer"}}},
        "annotations": {"readOnlyHint": True},
    },
    {"name": "get_connector", "description": "One connector.", "inputSchema": {"type": "object"}},
]


def test_claude_code_sends_prefixed_definitions_by_name_without_annotations() -> None:
    assert claude_code_tool_definitions(TOOLS_LIST, "databasin") == [
        {"name": "mcp__databasin__get_connector", "description": "One connector.", "input_schema": {"type": "object"}},
        {
            "name": "mcp__databasin__list_tables",
            "description": "Tables of a connector.",
            "input_schema": {"type": "object", "properties": {"connector_id": {"type": "integer"}}},
        },
    ]


def test_claude_code_lists_deferred_tools_by_prefixed_name_one_a_line() -> None:
    assert claude_code_deferred_listing(TOOLS_LIST, "databasin") == (
        "mcp__databasin__get_connector\nmcp__databasin__list_tables"
    )
