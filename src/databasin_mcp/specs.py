"""The tools: what each one is, in one entry. Everything else about a tool is derived from this table.

A spec names the operation that does the work (its signature is the tool's parameters, see params.py),
says what the model reads about it (description, annotations) and what it is: whether it writes, what a
failure of it is about, whether it runs something upstream, which groups select it, and which
`databasin` command runs it. The MCP tools (tools.py), the command line (cli/), the error wording
(outcomes.py) and the tests read these traits; no list of tool names is kept anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .ops import Actions, ConnectorReads, ConnectorWrites, Data, Directory, Metadata, Operation

# What a failure of the tool is about: a 404 names the connector, a catalog/schema/table, or the API itself.
Subject = Literal["connector", "metadata", "listing"]
# What it answers: a paged listing, one record, or the outcome of a write or an action.
Answers = Literal["listing", "record", "outcome"]
GROUPS = ("read", "write", "metadata", "data")


@dataclass(frozen=True)
class ToolSpec:
    """A tool and its traits. Every field is required: a tool cannot be added without saying what it is."""

    operation: Operation
    description: str  # read by the model on every turn: short, and when to use it rather than a sibling
    groups: frozenset[str]  # what --tools selects it by
    writes: bool  # changes something upstream: hidden in read-only mode; errors say what may have changed
    action: bool  # runs something on the connector's source (test, refresh): never re-sent, nothing to fix
    subject: Subject
    answers: Answers
    command: tuple[str, ...]  # the `databasin` command that runs it: ("connectors", "find")
    annotations: Hints

    @property
    def name(self) -> str:
        return self.operation.__name__


@dataclass(frozen=True)
class Hints:
    """The MCP tool annotations (kept as plain values: the command line must not load the MCP SDK's types)."""

    read_only: bool
    idempotent: bool
    open_world: bool
    destructive: bool | None = None  # only meaningful for a tool that writes


def _reads(*, open_world: bool = False) -> Hints:
    return Hints(read_only=True, idempotent=True, open_world=open_world)


def _writes(*, destructive: bool, idempotent: bool) -> Hints:
    return Hints(read_only=False, idempotent=idempotent, open_world=False, destructive=destructive)


READ = frozenset({"read"})
WRITE = frozenset({"write"})
METADATA = frozenset({"metadata"})
# Rows of the sources themselves: DATABASIN_ALLOW_QUERIES=0 drops the group.
DATA = frozenset({"data"})

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        Directory.list_projects,
        "Projects (project_id = internalID) with connector counts by type. Start here to pick a project.",
        READ,
        writes=False,
        action=False,
        answers="listing",
        subject="listing",
        command=("projects",),
        annotations=_reads(),
    ),
    ToolSpec(
        ConnectorReads.list_connectors,
        "A project's connectors: paged, few columns. Filter by name_contains, connector_type, active.",
        READ,
        writes=False,
        action=False,
        answers="listing",
        subject="listing",
        command=("connectors", "list"),
        annotations=_reads(),
    ),
    ToolSpec(
        ConnectorReads.find_connectors,
        "Find connectors in all projects by words of name, host, database or type (case/accent-insensitive).",
        READ,
        writes=False,
        action=False,
        answers="listing",
        subject="listing",
        command=("connectors", "find"),
        annotations=_reads(),
    ),
    ToolSpec(
        ConnectorReads.get_connector,
        "One connector's fields (secrets never shown).",
        READ,
        writes=False,
        action=False,
        answers="record",
        subject="connector",
        command=("connectors", "get"),
        annotations=_reads(),
    ),
    ToolSpec(
        ConnectorWrites.create_connector,
        "Create a connector. A same-name connector in the project is returned instead, unless allow_duplicate. "
        "test=true tests it too.",
        WRITE,
        writes=True,
        action=False,
        answers="outcome",
        subject="listing",
        command=("connectors", "create"),
        annotations=_writes(destructive=False, idempotent=False),
    ),
    ToolSpec(
        ConnectorWrites.update_connector,
        "Rename a connector or change its settings; only the given fields change. Answers before → after.",
        WRITE,
        writes=True,
        action=False,
        answers="outcome",
        subject="connector",
        command=("connectors", "update"),
        annotations=_writes(destructive=True, idempotent=True),
    ),
    ToolSpec(
        ConnectorWrites.delete_connector,
        "Delete a connector; pipelines using it fail. The person confirms by typing its name; "
        "if the client cannot ask, confirm=true does.",
        WRITE,
        writes=True,
        action=False,
        answers="outcome",
        subject="connector",
        command=("connectors", "delete"),
        annotations=_writes(destructive=True, idempotent=True),
    ),
    ToolSpec(
        Actions.test_connector,
        "Test a connector's connection to its source.",
        READ,
        writes=False,
        action=True,
        answers="outcome",
        subject="connector",
        command=("connectors", "test"),
        annotations=_reads(open_world=True),
    ),
    ToolSpec(
        Actions.refresh_connector_metadata,
        "Re-read catalogs/schemas/tables from the source (can take minutes); answers the counts.",
        WRITE,
        writes=True,
        action=True,
        answers="outcome",
        subject="connector",
        command=("connectors", "refresh"),
        annotations=_writes(destructive=False, idempotent=True),
    ),
    ToolSpec(
        Metadata.list_catalogs,
        "A connector's catalogs (databases), paged.",
        METADATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("metadata", "catalogs"),
        annotations=_reads(),
    ),
    ToolSpec(
        Metadata.list_schemas,
        "A connector's schemas, optionally of one catalog; paged.",
        METADATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("metadata", "schemas"),
        annotations=_reads(),
    ),
    ToolSpec(
        Metadata.list_tables,
        "Tables of a connector (catalog/schema), paged.",
        METADATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("metadata", "tables"),
        annotations=_reads(),
    ),
    ToolSpec(
        Metadata.list_columns,
        "Columns of one table, paged.",
        METADATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("metadata", "columns"),
        annotations=_reads(),
    ),
    # Read-only: a statement is checked to be one SELECT before it is sent, so nothing can change; open
    # world: it reaches the connector's source, beyond the Databasin API.
    ToolSpec(
        Data.preview_table,
        "First rows of a table (SQL built for the connector's dialect).",
        DATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("data", "preview"),
        annotations=_reads(open_world=True),
    ),
    ToolSpec(
        Data.run_query,
        "Run one read-only SELECT (WITH/UNION ok) in the connector's SQL dialect; limit applies.",
        DATA,
        writes=False,
        action=False,
        answers="listing",
        subject="metadata",
        command=("data", "query"),
        annotations=_reads(open_world=True),
    ),
)
TOOL_NAMES = tuple(spec.name for spec in TOOLS)
BY_NAME = {spec.name: spec for spec in TOOLS}
