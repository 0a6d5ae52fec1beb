"""What a client puts in front of the model for a CallToolResult: pure functions, checked against recordings.

Claude Code 2.1.332 (read off the binary and confirmed byte for byte by the probe server):
- isError: the text blocks joined with "\\n" ("Unknown error" when there are none); structuredContent
  is ignored; the tool_result is marked is_error.
- structuredContent present: `JSON.stringify(structuredContent)` alone, as a string; the text blocks
  are dropped. JavaScript's spelling: no spaces, keys in the server's order except that integer-like
  keys come first in ascending order, numbers as JavaScript prints them (1.0 -> 1, 1e21 -> 1e+21,
  -0 -> 0, integers beyond 2**53 rounded), non-ASCII kept.
- text only: one text block per text block of the result, unchanged (a list, not joined).
- nothing at all: "(<tool name> completed with no output)".

OpenAI Agents SDK 0.24.0 (`MCPServerStdio`, Responses API; agents/mcp/util.py `invoke_mcp_tool`):
- use_structured_content=False (the default): the function_call_output is one `input_text` item per
  text block, errors included (nothing marks them as errors); structuredContent is ignored; no
  text at all is the string "[]".
- use_structured_content=True, a success with a non-empty structuredContent: Python's
  `json.dumps(structuredContent)`, as a string: ", " and ": " separators, floats as Python spells
  them (1.0), every non-ASCII character escaped (Zürich -> Z\\u00fcrich). Errors keep their text.
- The server's `instructions` are not sent to the model.

Claude Code's tool definitions (also read off the recorded requests): tool search off, each of a
server's tools as {"name": "mcp__<server>__<tool>", "description", "input_schema"}, by name; tool search
on (the default), only the prefixed names, one a line in a system message, a definition sent once a
search has loaded it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mcp.types import CallToolResult, ResourceLink, TextContent

from .transcript import content_text

Content = str | list[dict[str, Any]]

# JSON.stringify puts the keys that are array indices (canonical integers below 2**32 - 1) first.
_INDEX_KEY = re.compile(r"0|[1-9][0-9]*")
_LARGEST_INDEX = 2**32 - 2
_SAFE_INTEGER = 2**53


def js_number(value: float | int) -> str:
    """A number as JavaScript's Number.prototype.toString spells it (what JSON.stringify writes)."""
    if isinstance(value, int) and abs(value) < _SAFE_INTEGER:
        return str(value)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return "null"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr gives the shortest digits that round-trip, as JavaScript does; only the layout differs.
    digits_tuple = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple.digits))
    exponent = int(digits_tuple.exponent)
    point = len(digits) + exponent  # the decimal point's position relative to the digits
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    power = point - 1
    return f"{sign}{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _js_key_order(mapping: Mapping[str, Any]) -> list[str]:
    indices = sorted((k for k in mapping if _INDEX_KEY.fullmatch(k) and int(k) <= _LARGEST_INDEX), key=int)
    return [*indices, *(k for k in mapping if k not in set(indices))]


def js_stringify(value: Any) -> str:
    """`JSON.stringify(value)` of the value a JSON document parsed into, spelled as JavaScript would."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, str):
        # Python escapes exactly what JavaScript escapes once non-ASCII is kept (quotes, backslash, controls).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        keys = _js_key_order(value)
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{js_stringify(value[k])}" for k in keys) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(js_stringify(item) for item in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _texts(result: CallToolResult) -> list[str]:
    """The text of each text block (and the line Claude Code writes for a resource link)."""
    texts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            texts.append(block.text)
        elif isinstance(block, ResourceLink):
            line = f"[Resource link: {block.name}] {block.uri}"
            texts.append(f"{line} ({block.description})" if block.description else line)
        else:
            raise ValueError(f"these views model text results only, not a {block.type} block")
    return texts


def claude_code_tool_result(result: CallToolResult, tool_name: str) -> tuple[Content, bool]:
    """(content, is_error) of the tool_result Claude Code sends for `result` of `tool_name` (mcp__server__tool)."""
    if result.is_error:
        return "\n".join(_texts(result)) or "Unknown error", True
    if result.structured_content is not None:
        return js_stringify(result.structured_content), False
    texts = _texts(result)
    if not texts:
        return f"({tool_name} completed with no output)", False
    return [{"type": "text", "text": text} for text in texts], False


def claude_code_view(result: CallToolResult, tool_name: str = "") -> str:
    """The text the model reads in Claude Code for `result` (see the module docstring for the rule)."""
    return content_text(claude_code_tool_result(result, tool_name)[0])


def openai_agents_output(result: CallToolResult, *, use_structured_content: bool = False) -> Content:
    """The `output` of the function_call_output the OpenAI Agents SDK sends for `result`."""
    if use_structured_content and result.structured_content and not result.is_error:
        return json.dumps(result.structured_content)
    texts = _texts(result)
    if not texts:
        return "[]"  # the SDK's str() of an empty list of outputs
    return [{"type": "input_text", "text": text} for text in texts]


def openai_agents_view(result: CallToolResult, *, use_structured_content: bool = False) -> str:
    """The text the model reads through the OpenAI Agents SDK for `result`."""
    return content_text(openai_agents_output(result, use_structured_content=use_structured_content))


def _claude_code_name(server: str, tool: str) -> str:
    return f"mcp__{server}__{tool}"


def claude_code_tool_definitions(tools: Sequence[Mapping[str, Any]], server: str) -> list[dict[str, Any]]:
    """Our tools (as tools/list sends them) as Claude Code sends their definitions with tool search off."""
    definitions = [
        {
            "name": _claude_code_name(server, str(tool["name"])),
            "description": tool.get("description", ""),
            "input_schema": tool["inputSchema"],
        }
        for tool in tools
    ]
    return sorted(definitions, key=lambda definition: definition["name"])


def claude_code_deferred_listing(tools: Sequence[Mapping[str, Any]], server: str) -> str:
    """Our lines of the deferred-tool listing Claude Code shows with tool search on: the names, one a line."""
    return "\n".join(sorted(_claude_code_name(server, str(tool["name"])) for tool in tools))
