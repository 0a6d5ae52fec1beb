"""Reading recorded request bodies: what a client showed the model.

Pure functions over the JSON bodies a client sent to a stand-in (Anthropic Messages API, or the
OpenAI Responses API): the tool results it forwarded (each from the first request that carries
it, before any later compaction could touch it), the tool definitions, the deferred tool names
(tool search), and where the server's instructions went.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MCP_PREFIX = "mcp__"
INSTRUCTIONS_HEADING = "# MCP Server Instructions"


@dataclass(frozen=True)
class Forwarded:
    """One tool_result as the client sent it to the model, beside the call it answers."""

    tool: str  # the name the model called, e.g. mcp__databasin__list_tables
    arguments: dict[str, Any]
    content: str | list[dict[str, Any]]  # the tool_result's content, exactly as sent
    is_error: bool

    @property
    def text(self) -> str:
        return content_text(self.content)


def content_text(content: str | list[dict[str, Any]]) -> str:
    """What the model reads of a tool result's content: the string, or its text blocks one after another."""
    if isinstance(content, str):
        return content
    return "".join(str(block.get("text", "")) for block in content if block.get("type") in ("text", "input_text"))


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def forwarded_results(bodies: Iterable[dict[str, Any]]) -> list[Forwarded]:
    """Every tool_result in the order the calls were made, each taken from the first body holding it."""
    calls: dict[str, dict[str, Any]] = {}
    found: dict[str, Forwarded] = {}
    for body in bodies:
        for message in body.get("messages", []):
            for block in _blocks(message):
                if block.get("type") == "tool_use":
                    calls.setdefault(block["id"], block)
                elif block.get("type") == "tool_result" and block["tool_use_id"] not in found:
                    call = calls.get(block["tool_use_id"], {})
                    found[block["tool_use_id"]] = Forwarded(
                        tool=str(call.get("name", "")),
                        arguments=dict(call.get("input", {})),
                        content=block.get("content", ""),
                        is_error=bool(block.get("is_error", False)),
                    )
    return list(found.values())


def responses_forwarded(bodies: Iterable[dict[str, Any]]) -> list[Forwarded]:
    """The function_call_output items of Responses API requests, in call order (OpenAI Agents SDK)."""
    calls: dict[str, dict[str, Any]] = {}
    found: dict[str, Forwarded] = {}
    for body in bodies:
        items = body.get("input")
        for item in items if isinstance(items, list) else []:
            if item.get("type") == "function_call":
                calls.setdefault(item["call_id"], item)
            elif item.get("type") == "function_call_output" and item["call_id"] not in found:
                call = calls.get(item["call_id"], {})
                found[item["call_id"]] = Forwarded(
                    tool=str(call.get("name", "")),
                    arguments=json.loads(call.get("arguments") or "{}"),
                    content=item.get("output", ""),
                    is_error=False,  # the Responses API has no error mark on a tool output
                )
    return list(found.values())


def tool_definitions(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tools of a request as the model gets them (prompt-caching marks left out)."""
    return [{k: v for k, v in tool.items() if k != "cache_control"} for tool in body.get("tools", [])]


def server_tools(definitions: Sequence[dict[str, Any]], server: str) -> list[dict[str, Any]]:
    prefix = f"{MCP_PREFIX}{server}__"
    return [tool for tool in definitions if str(tool.get("name", "")).startswith(prefix)]


def loaded_definitions(definitions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The definitions whose schema the model sees now (a deferred one is only a name until searched for)."""
    return [tool for tool in definitions if not tool.get("defer_loading")]


def _texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) of every text in the system prompt and the messages, in order."""
    found: list[tuple[str, str]] = []
    system = body.get("system")
    if isinstance(system, str):
        found.append(("system prompt", system))
    elif isinstance(system, list):
        found += [(f"system prompt, block {i}", b.get("text", "")) for i, b in enumerate(system)]
    for index, message in enumerate(body.get("messages", [])):
        content = message.get("content")
        where = f"messages[{index}] (role {message.get('role')})"
        if isinstance(content, str):
            found.append((where, content))
        else:
            found += [(where, b.get("text", "")) for b in _blocks(message) if b.get("type") == "text"]
    return found


@dataclass(frozen=True)
class Placement:
    """Where a piece of text sits in a request, and the section around it."""

    where: str
    section: str  # from the section heading to the end of this server's entry


def instructions_placement(body: dict[str, Any], server: str, instructions: str) -> Placement | None:
    """The section that shows `server`'s instructions, and where it is (system prompt or a message)."""
    for where, text in _texts(body):
        at = text.find(instructions)
        if at < 0:
            continue
        start = text.rfind(INSTRUCTIONS_HEADING, 0, at)
        start = start if start >= 0 else text.rfind(f"## {server}", 0, at)
        end = at + len(instructions)
        return Placement(where=where, section=text[max(start, 0) : end])
    return None


def deferred_names(body: dict[str, Any]) -> list[str]:
    """The tool names a request lists as deferred (loaded on demand by tool search), in order."""
    for _, text in _texts(body):
        marker = text.find("deferred tools are now available")
        if marker < 0:
            continue
        lines = text[marker:].split("\n\n", 1)[0].splitlines()[1:]
        return [line.strip() for line in lines if line.strip() and " " not in line.strip()]
    return []


def deferred_listing(body: dict[str, Any], server: str) -> str:
    """The lines of the deferred-tool listing that name `server`'s tools, as the model reads them."""
    prefix = f"{MCP_PREFIX}{server}__"
    return "\n".join(name for name in deferred_names(body) if name.startswith(prefix))


def search_matches(result: Forwarded) -> list[str]:
    """The tool names a tool-search result references, in its order."""
    if isinstance(result.content, str):
        return []
    return [str(b["tool_name"]) for b in result.content if b.get("type") == "tool_reference"]
