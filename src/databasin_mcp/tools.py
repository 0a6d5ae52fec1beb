"""The MCP tools: names, parameters, descriptions, annotations, and error texts.

Each tool is a few lines: take the validated arguments, call one operation,
turn its Answer (or error) into a tool result. Descriptions and schemas are
read by the model on every turn, so they are short and say when to use a
tool rather than its sibling; the snapshot test pins them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from .client import MAX_ID
from .errors import (
    APIStatusError,
    BadRequestError,
    BadResponseError,
    DatabasinError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    UpstreamRefusedError,
    clause,
)
from .operations import FIND_LIMIT_MAX, Operations
from .shaping import ALL_FIELDS, Answer

logger = logging.getLogger(__name__)

# --- parameter types (one alias per meaning, shared by every tool) --------------------------------


def _field_names(names: list[str] | None) -> list[str] | None:
    if names is not None and len(names) > 64:
        raise ValueError("at most 64 field names")
    for name in names or ():
        if name != ALL_FIELDS and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
            raise ValueError(f'{name!r} is not a field name; use API names like "connectorHost", or "*"')
    return names


def _at_most(limit: int) -> AfterValidator:
    """A bound that is validated but kept out of the schema: the model gains nothing from reading it."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("must not be empty")
            if len(value) > limit:
                raise ValueError(f"must be at most {limit:,} characters")
        elif value is not None and value > limit:
            raise ValueError(f"must be at most {limit:,}")
        return value

    return AfterValidator(check)


def _not_a_flag(value: Any) -> Any:
    # Lax validation reads true as 1: connector_id=true would name connector 1, limit=true one row.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Number = BeforeValidator(_not_a_flag)
ConnectorId = Annotated[int, Field(ge=1), _at_most(MAX_ID), Number]
ProjectId = Annotated[str | None, Field(description="internalID, e.g. proj-001"), _at_most(128)]
InstitutionId = Annotated[int | None, Field(ge=0), _at_most(MAX_ID), Number]
Name = Annotated[str | None, _at_most(200)]
NameContains = Name
Fields = Annotated[
    list[str] | None,
    Field(description='API field names; ["*"] = all'),
    AfterValidator(_field_names),
]
Offset = Annotated[int, Field(ge=0), _at_most(10**9), Number]
ConnectorLimit = Annotated[int, Field(ge=1, le=200), Number]
FindLimit = Annotated[int, Field(ge=1, le=FIND_LIMIT_MAX), Number]
MetadataLimit = Annotated[int, Field(ge=1, le=500), Number]
ColumnLimit = Annotated[int, Field(ge=1, le=1000), Number]
Text = Annotated[str | None, _at_most(500)]
Secret = Annotated[str | None, _at_most(1000)]
Port = Annotated[int | None, Field(ge=1, le=65535), Number]
MaxConnections = Annotated[int | None, Field(ge=1), _at_most(1000), Number]
SmallInt = Annotated[int | None, Field(ge=0), _at_most(1_000_000), Number]
RequiredName = Annotated[str, _at_most(200)]


# --- structured output schemas ---------------------------------------------------------------------


class ListingOutput(BaseModel):
    summary: str  # the text's title line: how many, which page, the next offset
    items: list[dict[str, Any]]
    fields: list[str]
    omitted_fields: list[str]
    total: int
    offset: int
    limit: int
    next_offset: int | None
    truncated: bool
    notes: list[str] = []  # the text's lines after the table: why it is empty, what the cap cut


class ConnectorOutput(BaseModel):
    summary: str
    connector: dict[str, Any]
    omitted_fields: list[str]
    notes: list[str] = []  # the text's lines after the fields: empty ones, more fields


class ResultOutput(BaseModel):
    """The outcome of a write or an action; keys depend on the tool."""

    model_config = {"extra": "allow"}

    summary: str  # what the text says
    connector_id: int | None


ListingResult = Annotated[CallToolResult, ListingOutput]
ConnectorResult = Annotated[CallToolResult, ConnectorOutput]
ActionResult = Annotated[CallToolResult, ResultOutput]


# --- the tools --------------------------------------------------------------------------------------
# Each tool hands its validated arguments (`locals()`, before any other local) to the operation of
# the same name: the signature here is the tool's schema, the operation does the work.


async def list_projects(ctx: Context, institution_id: InstitutionId = None) -> ListingResult:
    return await _run(ctx, Operations.list_projects, locals())


async def list_connectors(
    ctx: Context,
    project_id: ProjectId = None,
    institution_id: InstitutionId = None,
    name_contains: NameContains = None,
    connector_type: Name = None,
    active: bool | None = None,
    fields: Fields = None,
    limit: ConnectorLimit = 25,
    offset: Offset = 0,
) -> ListingResult:
    return await _run(ctx, Operations.list_connectors, locals())


async def find_connectors(
    ctx: Context, query: RequiredName, fields: Fields = None, limit: FindLimit = 10
) -> ListingResult:
    return await _run(ctx, Operations.find_connectors, locals())


async def get_connector(ctx: Context, connector_id: ConnectorId, fields: Fields = None) -> ConnectorResult:
    return await _run(ctx, Operations.get_connector, locals())


async def create_connector(
    ctx: Context,
    name: RequiredName,
    connector_type: RequiredName,
    institution_id: Annotated[int, Field(ge=0), _at_most(MAX_ID), Number],
    project_id: ProjectId = None,
    host: Text = None,
    port: Port = None,
    database: Text = None,
    username: Text = None,
    password: Secret = None,
    auth_type: SmallInt = None,
    owner_id: InstitutionId = None,
    max_connections: MaxConnections = None,
    test: bool = False,
    allow_duplicate: bool = False,
) -> ActionResult:
    return await _run(ctx, Operations.create_connector, locals())


async def update_connector(
    ctx: Context,
    connector_id: ConnectorId,
    name: Name = None,
    host: Text = None,
    port: Port = None,
    database: Text = None,
    username: Text = None,
    password: Secret = None,
    auth_type: SmallInt = None,
    max_connections: MaxConnections = None,
    active: bool | None = None,
) -> ActionResult:
    return await _run(ctx, Operations.update_connector, locals())


def _json_boolean(value: Any) -> Any:
    # Lax validation reads "yes", "true", 1 and 1.0 as true: a delete is confirmed by the JSON boolean only.
    if not isinstance(value, bool):
        raise ValueError("must be true or false (a JSON boolean, not text or a number)")
    return value


Confirm = Annotated[bool, BeforeValidator(_json_boolean)]


async def delete_connector(ctx: Context, connector_id: ConnectorId, confirm: Confirm = False) -> ActionResult:
    return await _run(ctx, Operations.delete_connector, locals())


async def test_connector(ctx: Context, connector_id: ConnectorId, details: bool = False) -> ActionResult:
    return await _run(ctx, Operations.test_connector, locals())


async def refresh_connector_metadata(ctx: Context, connector_id: ConnectorId) -> ActionResult:
    async def progress(elapsed: float, message: str) -> None:
        await ctx.report_progress(elapsed, None, message)

    return await _run(ctx, Operations.refresh_connector_metadata, {"connector_id": connector_id, "progress": progress})


async def list_catalogs(
    ctx: Context,
    connector_id: ConnectorId,
    name_contains: NameContains = None,
    limit: MetadataLimit = 50,
    offset: Offset = 0,
) -> ListingResult:
    return await _run(ctx, Operations.list_catalogs, locals())


async def list_schemas(
    ctx: Context,
    connector_id: ConnectorId,
    catalog: Name = None,
    name_contains: NameContains = None,
    limit: MetadataLimit = 50,
    offset: Offset = 0,
) -> ListingResult:
    return await _run(ctx, Operations.list_schemas, locals())


async def list_tables(
    ctx: Context,
    connector_id: ConnectorId,
    catalog: Name = None,
    schema: Name = None,
    name_contains: NameContains = None,
    fields: Fields = None,
    limit: MetadataLimit = 50,
    offset: Offset = 0,
) -> ListingResult:
    return await _run(ctx, Operations.list_tables, locals())


async def list_columns(
    ctx: Context,
    connector_id: ConnectorId,
    table: RequiredName,
    catalog: Name = None,
    schema: Name = None,
    name_contains: NameContains = None,
    fields: Fields = None,
    limit: ColumnLimit = 100,
    offset: Offset = 0,
) -> ListingResult:
    return await _run(ctx, Operations.list_columns, locals())


# --- the registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A tool with what the server needs to register, describe and filter it."""

    fn: Callable[..., Awaitable[CallToolResult]]
    description: str
    groups: frozenset[str]
    annotations: ToolAnnotations

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def writes(self) -> bool:
        return "write" in self.groups


def _reads(*, open_world: bool = False) -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=open_world)


def _writes(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent, open_world_hint=False
    )


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        list_projects,
        "Projects (project_id = internalID) with connector counts by type. Start here to pick a project.",
        frozenset({"read"}),
        _reads(),
    ),
    ToolSpec(
        list_connectors,
        "A project's connectors: paged, few columns. Filter by name_contains, connector_type, active.",
        frozenset({"read"}),
        _reads(),
    ),
    ToolSpec(
        find_connectors,
        "Find connectors in all projects by words of name, host, database or type (case/accent-insensitive).",
        frozenset({"read"}),
        _reads(),
    ),
    ToolSpec(get_connector, "One connector's fields (secrets never shown).", frozenset({"read"}), _reads()),
    ToolSpec(
        create_connector,
        "Create a connector. A same-name connector in the project is returned instead, unless allow_duplicate. "
        "test=true tests it too.",
        frozenset({"write"}),
        _writes(destructive=False, idempotent=False),
    ),
    ToolSpec(
        update_connector,
        "Rename a connector or change its settings; only the given fields change. Answers before → after.",
        frozenset({"write"}),
        _writes(destructive=True, idempotent=True),
    ),
    ToolSpec(
        delete_connector,
        "Delete a connector; pipelines using it fail. Without confirm=true it only shows what would be deleted.",
        frozenset({"write"}),
        _writes(destructive=True, idempotent=True),
    ),
    ToolSpec(
        test_connector,
        "Test a connector's connection to its source.",
        frozenset({"read"}),
        _reads(open_world=True),
    ),
    ToolSpec(
        refresh_connector_metadata,
        "Re-read catalogs/schemas/tables from the source (can take minutes); answers the counts.",
        frozenset({"write", "metadata"}),
        _writes(destructive=False, idempotent=True),
    ),
    ToolSpec(list_catalogs, "A connector's catalogs (databases), paged.", frozenset({"metadata"}), _reads()),
    ToolSpec(
        list_schemas, "A connector's schemas, optionally of one catalog; paged.", frozenset({"metadata"}), _reads()
    ),
    ToolSpec(list_tables, "Tables of a connector (catalog/schema), paged.", frozenset({"metadata"}), _reads()),
    ToolSpec(list_columns, "Columns of one table, paged.", frozenset({"metadata"}), _reads()),
)
TOOL_NAMES = tuple(spec.name for spec in TOOLS)
GROUPS = ("read", "write", "metadata")


# --- answers and errors ------------------------------------------------------------------------------


async def _run(
    ctx: Context, operation: Callable[..., Awaitable[Answer]], arguments: Mapping[str, Any]
) -> CallToolResult:
    """Call `operation` with the tool's arguments; turn its Answer, or its error, into a tool result."""
    ops = cast(Operations, ctx.request_context.lifespan_context)
    tool = operation.__name__
    given = {name: value for name, value in arguments.items() if name != "ctx"}
    try:
        answer = await operation(ops, **given)
    except DatabasinError as error:
        logger.info("%s failed: %s", tool, type(error).__name__)
        return error_result(error_text(error, tool, given))
    # structuredContent only for programs that asked for it: a client that has it forwards it to the
    # model instead of the text (Claude Code does), at 1.4-2.4x the tokens (benchmarks/recording).
    structured = answer.structured() if ops.settings.structured_output else None
    return CallToolResult(content=[TextContent(type="text", text=answer.text)], structured_content=structured)


def error_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


_WRITES = {"create_connector", "update_connector", "delete_connector", "refresh_connector_metadata"}
_WRITE_NOUNS = {
    "create_connector": "the create",
    "update_connector": "the update of connector {id}",
    "delete_connector": "the delete of connector {id}",
    "refresh_connector_metadata": "the metadata refresh of connector {id}",
}
_CONNECTOR_TOOLS = {"get_connector", "update_connector", "delete_connector", "test_connector"}
_ACTIONS = {"test_connector", "refresh_connector_metadata"}
# "Catalog 'x' not found for connector 7" is about the catalog, not the connector.
_NAMES_METADATA = re.compile(r"\b(catalog|schema|table)s?\b", re.IGNORECASE)


def error_text(error: DatabasinError, tool: str, subject: Mapping[str, Any]) -> str:
    """One or two sentences an agent can act on: what went wrong, then the next step."""
    connector_id = subject.get("connector_id")
    upstream = error.upstream_message if isinstance(error, APIStatusError) else None
    if isinstance(error, NotFoundError):
        about_connector = (
            tool in _CONNECTOR_TOOLS
            or upstream is None
            or ("connector" in upstream.lower() and not _NAMES_METADATA.search(upstream))
        )
        if connector_id is not None and about_connector:
            return (
                f"Connector {connector_id} not found. "
                "Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
            )
        if connector_id is None:  # list_projects, list_connectors, find_connectors, create_connector
            return (
                f"Not found: {clause(upstream or 'the API answered 404')}. "
                "Check that DATABASIN_API_URL is the Databasin API's base URL."
            )
        return (
            f"Not found: {clause(upstream or 'the API answered 404')}. "
            "Check the names with list_catalogs, list_schemas or list_tables."
        )
    if isinstance(error, BadRequestError):
        refused = f"The Databasin API refused the request: {clause(upstream or str(error))}."
        if tool in _ACTIONS:  # only a connector ID to give: nothing in the call to fix
            settings = f"get_connector(connector_id={connector_id})"
            return f"{refused} Calling again will not help; {settings} shows its settings."
        return f"{refused} Fix the arguments and call again."
    if isinstance(error, PermissionDeniedError):
        return f"{error} This token may not do that; use a token with access to the connector's project."
    # The look-up that comes before every write failed, or the write itself never left: nothing happened.
    never_sent = isinstance(error, TransportError) and not error.maybe_sent
    write_not_sent = tool in _WRITES and (error.request_method == "GET" or never_sent)
    if isinstance(error, UpstreamRefusedError):
        if write_not_sent or tool not in _WRITES:
            return f"{error} Try again; if it keeps failing, the Databasin API is having trouble."
        if tool == "create_connector" and error.connector_id is not None:
            # "Failed", yet with an ID: something may exist now. Look before creating again.
            return (
                f"The Databasin API reported that the create failed{_said(upstream)}, yet its answer names "
                f"connector {error.connector_id}: check with get_connector(connector_id={error.connector_id}) "
                "before creating it again."
            )
        return _refused_write(tool, connector_id, upstream)
    if isinstance(error, BadResponseError) and tool in _WRITES and not write_not_sent:
        # A 2xx whose body could not be read: the API took the request, so it most likely went through.
        return f"{error} {_probably_done(tool, connector_id, subject.get('name'))}"
    if isinstance(error, (ServerError, TransportError)):
        if write_not_sent:
            return f"{error} Nothing was changed; try again."
        if tool == "create_connector":
            return (
                f"{error} The connector may or may not have been created. Calling create_connector again is safe: "
                "it answers with the connector if the first attempt went through, and never makes a duplicate."
            )
        if tool == "refresh_connector_metadata":
            return (
                f"{error} The refresh was sent once and may still be running: wait a few minutes, then check with "
                f"list_catalogs(connector_id={connector_id}) before refreshing again."
            )
        if tool == "test_connector" and error.request_method == "POST" and not never_sent:
            return f"{error} The test was sent once and not repeated; call test_connector again to retry."
        if tool in _WRITES:
            target = f"get_connector(connector_id={connector_id})" if connector_id else "get_connector"
            return f"{error} The change may or may not have been applied: check with {target} before retrying."
        return f"{error} Try again; if it keeps failing, the Databasin API is having trouble."
    return str(error)


def _refused_write(tool: str, connector_id: Any, upstream: str | None) -> str:
    """A write the API answered 2xx but reported as failed: its words, then where things stand."""
    what = _WRITE_NOUNS[tool].format(id=connector_id)
    refused = f"The Databasin API reported that {what} failed{_said(upstream)}."
    if tool == "create_connector":
        return f"{refused} Fix what the API names and call create_connector again."
    if tool == "update_connector":
        return (
            f"{refused} get_connector(connector_id={connector_id}) shows its settings now; "
            "fix what the API names and call again."
        )
    if tool == "delete_connector":
        return f"{refused} It is most likely still there: get_connector(connector_id={connector_id}) shows it."
    return f"{refused} test_connector(connector_id={connector_id}) checks that the connector can reach its source."


def _said(upstream: str | None) -> str:
    return f": {clause(upstream)}" if upstream else " without saying why"


def _probably_done(tool: str, connector_id: Any, name: Any) -> str:
    """After a 2xx whose body could not be read: what most likely happened, and how to check it (never a
    retry that could repeat the write)."""
    if tool == "create_connector":
        return (
            "The API accepted the request, so the connector was probably created: "
            f"check with find_connectors(query={name!r}) before creating it again."
        )
    if tool == "refresh_connector_metadata":
        return (
            "The API accepted the request, so the refresh probably ran: "
            f"list_catalogs(connector_id={connector_id}) shows the metadata now."
        )
    outcome = "the connector was probably deleted" if tool == "delete_connector" else "the change was probably applied"
    return f"The API accepted the request, so {outcome}: check with get_connector(connector_id={connector_id})."
