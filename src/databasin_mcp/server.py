"""The MCP server: app factory, lifespan that owns the API client, tool registration."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, get_args

from mcp.server.mcpserver import Context, MCPServer, RequestStateSecurity
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import ValidationError

from . import __version__, audit
from .cache import ListingCache
from .client import DatabasinClient
from .config import Settings
from .errors import ConfigurationError
from .ops import Operations
from .person import Person
from .specs import BY_NAME, GROUPS, TOOL_NAMES, TOOLS, ToolSpec
from .telemetry import NO_TELEMETRY, Telemetry, measured
from .tools import error_result, tool_function
from .untrusted import holds_surrogate, one_line, printable_lines, surrogates_replaced

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

INSTRUCTIONS = """\
Manage Databasin data connectors.
Cheap path: list_projects -> list_connectors(project_id) -> get_connector(connector_id). \
find_connectors(query) when the project is unknown.
Listings are paged ("next: offset=N") with few columns: fields=[...] adds API fields, fields=["*"] shows all.
Metadata: list_catalogs -> list_schemas -> list_tables -> list_columns -> preview_table.
create_connector answers with an existing same-name connector instead of a duplicate; \
delete_connector deletes only once confirmed."""


UNSERVED_METHODS = (
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
    "prompts/get",
)


class DatabasinServer(MCPServer[Operations]):
    """MCPServer whose argument errors name the argument and the fix, and never echo values."""

    def __init__(
        self,
        *args: Any,
        operations: Operations,
        person: Person,
        tools: list[Tool],
        telemetry: Telemetry = NO_TELEMETRY,
        **kwargs: Any,
    ) -> None:
        # No subscriptions/listen: the tool list never changes while the server runs.
        super().__init__(*args, tools=tools, subscriptions=False, **kwargs)
        # Declare only what is served. MCPServer always answers resources/* and prompts/* (empty), so it
        # declares both capabilities, and Claude Code then gives the model three resource tools (492
        # tokens of definitions, benchmarks/recording) for a server that has no resources. Without the
        # handlers those methods answer "method not found", as for any server without them.
        handlers = self._lowlevel_server._request_handlers
        for method in UNSERVED_METHODS:
            handlers.pop(method, None)
        self.operations = operations
        self.person = person  # its password pages: serving.py mounts them on the HTTP app
        self.telemetry = telemetry
        self.arguments_by_tool = {tool.name: frozenset(tool.parameters.get("properties", {})) for tool in tools}

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Operations, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        # Counted under a tool's own name only: a name a caller made up must not become a metrics series.
        with measured(self.telemetry, name if name in BY_NAME else "unknown") as call:
            result = await self._call_tool(name, arguments, context)
            call.failed = isinstance(result, CallToolResult) and result.is_error
        # The last guard before the writer: whatever a tool answered, it can be written, as the lines it means.
        return writable(result) if isinstance(result, CallToolResult) else result

    def _refuse(
        self, name: str, arguments: dict[str, Any], context: Context[Operations, Any] | None, reason: str, text: str
    ) -> CallToolResult:
        """The error answer for a call that was not run; a write's refusal is recorded (audit.py)."""
        spec = BY_NAME.get(name)
        if spec is not None and spec.writes:
            audit.record(audit.refused(name, arguments, reason, audit.caller_of(context)))
        return error_result(text)

    async def _call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Operations, Any] | None
    ) -> CallToolResult | InputRequiredResult:
        allowed = self.arguments_by_tool.get(name)
        if allowed is None:
            reason = "read_only" if self.operations.settings.read_only else "not_offered"
            return self._refuse(name, arguments, context, reason, f"Unknown tool: {one_line(name)}")
        unknown = sorted(set(arguments) - allowed)
        if unknown:
            # A typo (projectId) must not be silently ignored: the call would do something else.
            return self._refuse(
                name,
                arguments,
                context,
                "invalid_arguments",
                f"Unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(map(one_line, unknown))} "
                f"for {name}; it takes: {', '.join(sorted(allowed))}.",
            )
        # Half a UTF-16 pair cannot be sent to the API (nor written back): refused, naming the argument.
        unencodable = [argument for argument, value in arguments.items() if holds_surrogate(value)]
        if unencodable:
            several = len(unencodable) > 1
            return self._refuse(
                name,
                arguments,
                context,
                "invalid_arguments",
                f"Invalid argument{'s' if several else ''}: {', '.join(unencodable)} "
                f"{'are' if several else 'is'} not valid Unicode: {'each holds' if several else 'it holds'} a lone "
                "surrogate (half of a UTF-16 pair, such as \\ud83d); send whole characters. Fix and call again.",
            )
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as error:
            logger.error("Tool %s crashed", name, exc_info=error.__cause__)
            return error_result(
                f"databasin-mcp failed unexpectedly in {name} ({type(error.__cause__).__name__}); "
                "the details are in the server log."
            )
        except ToolError as error:
            if isinstance(error.__cause__, ValidationError):
                text = describe_invalid_arguments(error.__cause__)
                return self._refuse(name, arguments, context, "invalid_arguments", text)
            raise


def writable(result: CallToolResult) -> CallToolResult:
    """`result` with lone surrogates replaced (they cannot be encoded) and each text line made one line.

    Text from the upstream is made safe where it is decoded and shaped; this guards everything else
    (an echoed argument, a message an operation words itself), so the writer can never fail on content.
    """
    blocks = [
        block.model_copy(update={"text": printable_lines(block.text)}) if isinstance(block, TextContent) else block
        for block in result.content
    ]
    structured = result.structured_content
    return result.model_copy(
        update={
            "content": blocks,
            "structured_content": None if structured is None else surrogates_replaced(structured),
        }
    )


def describe_invalid_arguments(error: ValidationError) -> str:
    """Which arguments are wrong and why, without their values (a value may be a password), on one line."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = one_line(".".join(str(part) for part in item["loc"]))
        if item["type"] == "missing":
            problems.append(f"{where} is required")
        else:
            problems.append(f"{where}: {one_line(item['msg'].removeprefix('Value error, '))}")
    plural = "s" if len(problems) > 1 else ""
    return f"Invalid argument{plural}: {'; '.join(problems)}. Fix and call again."


def select_tools(settings: Settings) -> list[ToolSpec]:
    """The tools to expose: --tools (names or groups), minus the writes in read-only mode and the data
    tools where queries are not allowed (DATABASIN_ALLOW_QUERIES=0)."""
    chosen = list(TOOLS) if settings.allow_queries else [spec for spec in TOOLS if "data" not in spec.groups]
    if settings.tools:
        wanted = {item.strip() for item in settings.tools.split(",") if item.strip()}
        unknown = sorted(wanted - set(TOOL_NAMES) - set(GROUPS))
        if unknown:
            raise ConfigurationError(
                f"Unknown tool or group in --tools/DATABASIN_TOOLS: {', '.join(unknown)}. "
                f"Groups: {', '.join(GROUPS)}; tools: {', '.join(TOOL_NAMES)}."
            )
        chosen = [spec for spec in chosen if spec.name in wanted or spec.groups & wanted]
    if settings.read_only:
        chosen = [spec for spec in chosen if not spec.writes]
    return chosen


class TextKeepingMetadata(FuncMetadata):
    """The SDK's argument handling, except that a string given for a text parameter stays that string.

    The SDK JSON-decodes string arguments of every parameter not annotated exactly `str` (for clients
    that send lists as JSON text). Optional text parameters are `str | None`, so a schema named "null"
    became None (the filter silently dropped) and a password "[]" was refused as not a string.
    """

    def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
        parsed = super().pre_parse_json(data)
        # By argument name: `schema` is an alias (the SDK renames fields that shadow BaseModel's).
        fields = {field.alias or name: field for name, field in self.arg_model.model_fields.items()}
        for name, value in data.items():
            field = fields.get(name)
            if isinstance(value, str) and field is not None and str in get_args(field.annotation):
                parsed[name] = value
        return parsed


def build_tool(spec: ToolSpec, settings: Settings, person: Person) -> Tool:
    """A registered tool with a compact input schema (and project_id required unless defaulted)."""
    tool = Tool.from_function(
        tool_function(spec, person, secret_arguments=settings.allow_secret_arguments),
        name=spec.name,
        description=spec.description,
        annotations=ToolAnnotations(
            read_only_hint=spec.annotations.read_only,
            destructive_hint=spec.annotations.destructive,
            idempotent_hint=spec.annotations.idempotent,
            open_world_hint=spec.annotations.open_world,
        ),
        structured_output=settings.structured_output,
    )
    sdk = tool.fn_metadata
    tool.fn_metadata = TextKeepingMetadata(
        arg_model=sdk.arg_model,
        output_schema=sdk.output_schema,
        output_model=sdk.output_model,
        wrap_output=sdk.wrap_output,
    )
    schema = compact_schema(tool.parameters)
    properties = schema["properties"]
    if "project_id" in properties:
        if settings.project:
            properties["project_id"]["description"] = f"internalID; default {settings.project}"
        else:
            schema["required"] = ["project_id", *schema.get("required", [])]
    output = tool.fn_metadata.output_schema
    if output is not None:
        # Outputs keep their nullable unions (clients validate against them); only titles go.
        tool.fn_metadata.output_schema = without_titles(output)
    return tool.model_copy(update={"parameters": schema})


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The same input schema with less noise: no titles, no `anyOf [X, null]`, no `default: null`.

    Tool schemas are sent to the model on every turn; pydantic's titles and
    nullable unions cost tokens and say nothing the model needs. The server
    still validates with the full pydantic model, so nothing is loosened.
    """
    properties: dict[str, Any] = {}
    for name, original in schema.get("properties", {}).items():
        prop = {key: value for key, value in original.items() if key != "title"}
        options = prop.pop("anyOf", None)
        if options is not None:
            non_null = [option for option in options if option != {"type": "null"}]
            if len(non_null) == 1:
                prop = {**non_null[0], **prop}
            else:
                prop["anyOf"] = options
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        properties[name] = prop
    compact: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        compact["required"] = list(schema["required"])
    return compact


def without_titles(schema: Any) -> Any:
    """A schema with pydantic's generated `title` keys removed, at every depth."""
    if isinstance(schema, dict):
        return {
            key: without_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))  # a property named "title" stays
        }
    if isinstance(schema, list):
        return [without_titles(item) for item in schema]
    return schema


def create_server(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    tools: Sequence[ToolSpec] | None = None,
) -> DatabasinServer:
    """The app factory: one API client and one cache for the process, the selected tools.

    An HTTP server counts its work for /metrics; over stdio nothing is counted and no metrics library loaded.
    """
    specs = tools if tools is not None else select_tools(settings)
    telemetry = NO_TELEMETRY
    if settings.transport != "stdio":
        from .metrics import PrometheusMetrics

        telemetry = PrometheusMetrics(spec.name for spec in specs)
    client = DatabasinClient(settings, transport=transport, telemetry=telemetry)
    cache = ListingCache(settings.cache_ttl, max_bytes=settings.cache_max_bytes, telemetry=telemetry)
    operations = Operations(client, settings, cache)
    person = Person.for_server(settings)
    users = 0

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Operations]) -> AsyncIterator[Operations]:
        # The SSE transport enters the lifespan once per connection; the client must still be
        # one per process, so it is opened by the first user and closed by the last.
        nonlocal users
        users += 1
        client.open()
        try:
            async with person.credentials.site.running():  # stdio: the password page's listener, once needed
                yield operations
        finally:
            users -= 1
            if users == 0:
                await client.aclose()

    key = settings.request_state_key
    return DatabasinServer(
        "databasin",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        log_level=settings.log_level,
        tools=[build_tool(spec, settings, person) for spec in specs],
        operations=operations,
        person=person,
        # The state of a question to the person, sealed by the SDK: under a key of this process unless one is
        # configured, which several workers must share (a 2026-07-28 retry may reach another worker).
        request_state_security=None if key is None else RequestStateSecurity(keys=[key.get_secret_value()]),
        telemetry=telemetry,
    )
