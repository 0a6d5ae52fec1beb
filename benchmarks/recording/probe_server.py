"""A stdio MCP server whose tools return crafted results, to learn how a client forwards each shape.

python benchmarks/recording/probe_server.py     (run as a file: it imports only the MCP SDK)

Each tool returns one CallToolResult of PROBES: text only, several text blocks, text beside
structuredContent (with the values whose JSON spelling differs between Python and JavaScript),
structuredContent only, errors with and without text, and nothing at all.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent


def _text(*texts: str) -> list[TextContent]:
    return [TextContent(type="text", text=text) for text in texts]


# Keys and values chosen for their JSON spelling: integral floats, exponents, -0, an integer beyond
# 2**53, integer-like keys (JavaScript puts them first), non-ASCII, escapes and U+2028.
AWKWARD = {
    "b": 1.0,
    "a": 'Zürich "q"\n\ttab \u2028 </x> \\ \x01',
    "10": "an integer-like key",
    "2": True,
    "large": 1e21,
    "small": 1e-7,
    "negative_zero": -0.0,
    "beyond_2_53": 12345678901234567890,
    "half": 0.5,
    "third": 1 / 3,
    "nested": {"z": [1, None, "x", {"y": 2.50}], "empty": {}, "list": []},
}

PROBES: dict[str, CallToolResult] = {
    "text_only": CallToolResult(content=_text("first line\nsecond line")),
    "two_texts": CallToolResult(content=_text("alpha", "beta")),
    "text_and_structured": CallToolResult(content=_text("the text block"), structured_content=AWKWARD),
    "structured_only": CallToolResult(content=[], structured_content={"only": "structured"}),
    "error_with_structured": CallToolResult(
        content=_text("it failed", "the next step"), structured_content={"code": 1}, is_error=True
    ),
    "error_without_text": CallToolResult(content=[], is_error=True),
    "empty": CallToolResult(content=[]),
}

server = MCPServer("probe", log_level="WARNING")


def _register(name: str, result: CallToolResult) -> None:
    def probe() -> CallToolResult:
        return result

    server.add_tool(probe, name=name, description=f"Return the {name.replace('_', ' ')} probe result.")


for _name, _result in PROBES.items():
    _register(_name, _result)


if __name__ == "__main__":
    server.run("stdio")
