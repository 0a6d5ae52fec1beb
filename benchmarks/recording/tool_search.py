"""Claude Code's tool search: a dozen natural requests, and the tool each should find first.

All the searches run in one conversation (one headless session): a tool an earlier search loaded stays
searchable and ranks as before (Claude Code 2.1.332 returned the same names in the same order as one
fresh session per request did).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .script import DONE, Script, ToolCall
from .transcript import Forwarded, search_matches

TOOL = "ToolSearch"  # Claude Code's own tool (its TOOL_SEARCH_TOOL_NAME)
# Read off the binary (the keyword branch of its search function).
RANKING_RULE = (
    "Claude Code 2.1.332 scores each deferred tool per query word: +12 when the word is a whole part of an "
    "MCP tool's name (server name included, split on `_`, `.` and spaces), else +6 when a part contains it; "
    "+12 when it is the whole server or tool name, else +4 when one contains it; +4 when the tool's "
    '`_meta["anthropic/searchHint"]` has it; +2 when its description has it as a word. No stemming, no '
    "stop words (`a` is inside `databasin` and `create`); ties keep the listing order."
)


@dataclass(frozen=True)
class Request:
    query: str
    right: tuple[str, ...]  # our tools that answer it (the first is the best)


REQUESTS: tuple[Request, ...] = (
    Request("postgres connector password", ("update_connector", "create_connector")),
    Request("tables of a schema", ("list_tables",)),
    Request("delete connector", ("delete_connector",)),
    Request("which projects", ("list_projects",)),
    Request("columns of a table", ("list_columns",)),
    Request("test a connection", ("test_connector",)),
    Request("refresh metadata", ("refresh_connector_metadata",)),
    Request("rename a connector", ("update_connector",)),
    Request("find connector by host", ("find_connectors",)),
    Request("list connectors in project", ("list_connectors",)),
    Request("create a snowflake connector", ("create_connector",)),
    Request("catalogs of a connector", ("list_catalogs",)),
)


def search_script(query: str) -> Script:
    return Script.call_then_answer(TOOL, {"query": query})


def search_all_script(requests: Sequence[Request] = REQUESTS) -> Script:
    """One conversation: a ToolSearch call per request, in order, then an answer."""
    return Script((*(ToolCall(TOOL, {"query": request.query}) for request in requests), DONE))


@dataclass(frozen=True)
class Ranking:
    query: str
    right: tuple[str, ...]
    found: tuple[str, ...]  # the names ToolSearch returned, in its order, our server's prefix removed

    @property
    def first_is_right(self) -> bool:
        return bool(self.found) and self.found[0] in self.right

    @property
    def right_rank(self) -> int | None:
        """1-based rank of the first right tool, None when none came back."""
        return next((i + 1 for i, name in enumerate(self.found) if name in self.right), None)


def rankings(forwarded: Sequence[Forwarded], prefix: str, requests: Sequence[Request] = REQUESTS) -> list[Ranking]:
    """Each request's ranking from the ToolSearch results of search_all_script's conversation."""
    searches = [f for f in forwarded if f.tool == TOOL]
    asked = [str(f.arguments.get("query")) for f in searches]
    if asked != [request.query for request in requests]:
        raise RuntimeError(f"the client made other searches than scripted: {asked}")
    return [
        Ranking(request.query, request.right, tuple(name.removeprefix(prefix) for name in search_matches(result)))
        for request, result in zip(requests, searches, strict=True)
    ]
