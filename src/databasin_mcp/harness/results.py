"""A tool call bounded in time, and the text of its result: what tests, benchmarks and the demo read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import anyio
from mcp import Client
from mcp_types import CallToolResult, TextContent

CALL_TIMEOUT = 30.0  # seconds; generous for a loaded 2-core machine, but a hang still fails
# How create_connector's answer begins when it made a connector.
CREATED = re.compile(r"Created connector (\d+)\b")


async def call(client: Client, name: str, arguments: Mapping[str, Any]) -> CallToolResult:
    """`client.call_tool`, failing with TimeoutError after CALL_TIMEOUT s instead of hanging."""
    with anyio.fail_after(CALL_TIMEOUT):
        return await client.call_tool(name, dict(arguments))


def text(result: CallToolResult) -> str:
    """The answer the model reads: the result's one text block (anything else is a broken answer)."""
    blocks = result.content
    if len(blocks) != 1 or not isinstance(blocks[0], TextContent):
        raise AssertionError(f"expected one text block, got {blocks!r}")
    return blocks[0].text


def strings_of(result: CallToolResult) -> str:
    """Everything an agent or a program can read in a result: its text and its structured content."""
    parts = [getattr(block, "text", repr(block)) for block in result.content]
    if result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def created_id(text: str) -> int:
    """The new connector's ID, read from create_connector's answer as the model reads it."""
    found = CREATED.match(text)
    if found is None:
        raise RuntimeError(f"create_connector did not create a connector: {text}")
    return int(found.group(1))
