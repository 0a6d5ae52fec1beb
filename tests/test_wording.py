"""Each front end in its own words: a person never reads a tool call, an agent never reads a command line.

Every failure of every tool is explained in both vocabularies, and every hint an operation gives (empty
listings, paging, refused arguments, duplicates, previews) is produced once with each; the texts must not
borrow the other front end's syntax.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import click
import httpx
import pytest
import respx
from click.testing import CliRunner

from databasin_mcp.cli.commands import cli
from databasin_mcp.cli.vocabulary import COMMAND_WORDS
from databasin_mcp.client import DatabasinClient
from databasin_mcp.config import Settings
from databasin_mcp.errors import (
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    DatabasinError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    QueryFailedError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownProjectError,
    UpstreamRefusedError,
)
from databasin_mcp.ops import Operations
from databasin_mcp.outcomes import Failure, classify, explain
from databasin_mcp.specs import TOOL_NAMES, TOOLS, ToolSpec
from databasin_mcp.wording import AGENT_WORDS, Words
from tests.conftest import API_TOKEN, API_URL, api_transport

pytestmark = pytest.mark.anyio

TOOL_SYNTAX = re.compile(rf"\b({'|'.join(TOOL_NAMES)})\b|\b[a-z_]+=[\w'\[\.\"]")
COMMAND_SYNTAX = re.compile(r"'databasin |(?<![\w-])--[a-z]")


def assert_in_command_words(text: str) -> None:
    assert TOOL_SYNTAX.search(text) is None, text


def assert_in_agent_words(text: str) -> None:
    assert COMMAND_SYNTAX.search(text) is None, text


def sent(error: DatabasinError, method: str) -> DatabasinError:
    error.request_method = method
    return error


def errors() -> list[DatabasinError]:
    """One error of every kind the client raises, as a failing call meets them."""
    not_sent = TransportError("Could not connect to the Databasin API.")
    not_sent.maybe_sent = False
    refused_create = UpstreamRefusedError("The API reported a failure.", status_code=200, upstream_message="No host")
    refused_create.connector_id = 9
    return [
        InvalidArgumentError("limit: must be at most 500."),
        UnknownProjectError("project_id: 'proj-9' is not one of your projects."),
        ConfigurationError("No Databasin API token found."),
        NotFoundError("404", status_code=404, upstream_message="Connector with ID 7 not found"),
        NotFoundError("404", status_code=404, upstream_message="Connector 7 has no catalog 'sales'"),
        NotFoundError("404", status_code=404, upstream_message=None),
        BadRequestError("400", status_code=400, upstream_message="Missing connectorHost"),
        PermissionDeniedError("Databasin API error 403 Forbidden.", status_code=403),
        UpstreamRefusedError("The API reported a failure.", status_code=200, upstream_message="In use"),
        refused_create,
        sent(BadResponseError("The API answered 200 with a body that is not valid JSON: {"), "POST"),
        sent(ServerError("Databasin API error 503.", status_code=503), "POST"),
        sent(ServerError("Databasin API error 503.", status_code=503), "GET"),
        sent(TransportError("The connection dropped."), "POST"),
        not_sent,
        RateLimitError("The Databasin API is rate limiting this token; try again later."),
        QueryFailedError("The database refused the statement.", status_code=200, upstream_message="no column x"),
    ]


ARGUMENTS = {"connector_id": 7, "name": "Orders", "project_id": "proj-001", "query": "x", "table": "t"}


@pytest.mark.parametrize("spec", TOOLS, ids=[spec.name for spec in TOOLS])
def test_every_failure_of_every_tool_is_said_in_each_front_ends_words(spec: ToolSpec) -> None:
    seen: set[Failure] = set()
    for error in errors():
        seen.add(classify(error, spec))
        assert_in_command_words(explain(error, spec, ARGUMENTS, COMMAND_WORDS).text)
        assert_in_agent_words(explain(error, spec, ARGUMENTS, AGENT_WORDS).text)
    assert len(seen) >= 6  # the errors above reach most failures of every tool


def test_the_errors_reach_every_failure() -> None:
    reached = {classify(error, spec) for spec in TOOLS for error in errors()}
    assert reached == set(Failure)


def test_an_unknown_catalog_is_a_name_not_found_in_both_front_ends() -> None:
    spec = next(spec for spec in TOOLS if spec.name == "list_schemas")
    error = NotFoundError("404", status_code=404, upstream_message="Connector 7 has no catalog 'sales'")
    for words, suggested in (
        (AGENT_WORDS, "list_catalogs(connector_id=7)"),
        (COMMAND_WORDS, "'databasin metadata catalogs 7'"),
    ):
        said = explain(error, spec, {"connector_id": 7}, words)
        assert said.failure is Failure.NAME_NOT_FOUND
        assert said.text == f"Not found: Connector 7 has no catalog 'sales'. Check the names with {suggested} or " + (
            "list_schemas(connector_id=7)." if words is AGENT_WORDS else "'databasin metadata schemas 7'."
        )


# --- every hint an operation gives, produced with each vocabulary ------------------------------------------


def connector(cid: int, name: str, project: str, **extra: Any) -> dict[str, Any]:
    return {
        "connectorID": cid,
        "connectorName": name,
        "connectorType": "RDBMS",
        "institutionID": 1,
        "internalID": project,
        "active": cid % 2 == 0,
        **extra,
    }


LISTED = [connector(cid, f"Orders {cid}", "proj-001") for cid in range(101, 131)]


@pytest.fixture
def upstream() -> respx.Router:
    router = respx.Router(base_url=API_URL, assert_all_called=False)
    router.get("/api/connector").mock(side_effect=lambda request: httpx.Response(200, json=_listed(request)))
    router.get("/api/connector/101").respond(json={**LISTED[0], "options": {"a": 1}, "notes": "x" * 500})
    router.get("/api/connector/102").respond(json=LISTED[1])
    router.post("/api/connector").respond(json={"connectorID": 900, "message": "ok"})
    router.put("/api/connector/101").respond(json={"connectorID": 101})
    router.get("/api/connector/101/catalogs").respond(json=[])
    return router


def _listed(request: httpx.Request) -> list[dict[str, Any]]:
    project = request.url.params.get("internalID")
    return [row for row in LISTED if project in (None, row["internalID"])]


Call = Callable[[Operations], Awaitable[Any]]


def listing(**arguments: Any) -> Call:
    return lambda ops: ops.connectors.list_connectors(**arguments)


def creating(name: str, project: str, institution: int = 1) -> Call:
    return lambda ops: ops.writes.create_connector(
        name=name, connector_type="RDBMS", institution_id=institution, project_id=project
    )


# Calls that answer with a hint, or are refused with one: (what it shows, the call).
HINTED: list[tuple[str, Call]] = [
    ("project required", listing()),
    ("paged, filtered title", listing(project_id="proj-001", active=False, limit=5)),
    ("empty with a filter", listing(project_id="proj-001", name_contains="zzz")),
    ("a type the project lacks", listing(project_id="proj-001", connector_type="S3")),
    ("an empty project", listing(project_id="proj-404")),
    ("empty for an institution", listing(project_id="proj-404", institution_id=3)),
    ("a field the list lacks", listing(project_id="proj-001", fields=["connectorUsername"])),
    ("an unknown field", listing(project_id="proj-001", fields=["nope"])),
    ("find needs words", lambda ops: ops.connectors.find_connectors(query="  ")),
    ("find has more", lambda ops: ops.connectors.find_connectors(query="orders", limit=2)),
    ("long extras named", lambda ops: ops.connectors.get_connector(connector_id=101)),
    ("a duplicate create", creating("Orders 101", "proj-001")),
    ("a wrong institution", creating("New", "proj-001", institution=2)),
    ("a project in the wrong case", creating("New", "PROJ-001")),
    ("a first connector", creating("New", "proj-new")),
    ("nothing to update", lambda ops: ops.writes.update_connector(connector_id=101)),
    ("a rename to a taken name", lambda ops: ops.writes.update_connector(connector_id=101, name="Orders 102")),
    ("a delete preview", lambda ops: ops.writes.delete_connector(connector_id=102)),
    ("no metadata", lambda ops: ops.metadata.list_catalogs(connector_id=101)),
    ("a projects listing", lambda ops: ops.directory.list_projects(institution_id=9)),
]  # fmt: skip


@pytest.fixture
async def operations(upstream: respx.Router) -> AsyncIterator[Callable[[Words], Operations]]:
    settings = Settings(api_url=API_URL, token=API_TOKEN, retry_backoff=0, cache_ttl=0)  # type: ignore[arg-type]
    async with DatabasinClient(settings, transport=api_transport(upstream)) as client:
        yield lambda words: Operations(client, settings, words=words)


async def said_by(call: Call, ops: Operations) -> str:
    try:
        return str((await call(ops)).text)
    except (InvalidArgumentError, UnknownProjectError) as refused:
        return str(refused)


@pytest.mark.parametrize(("shows", "call"), HINTED, ids=[shows for shows, _ in HINTED])
async def test_every_hint_is_said_in_each_front_ends_words(
    operations: Callable[[Words], Operations], shows: str, call: Call
) -> None:
    for_agent = await said_by(call, operations(AGENT_WORDS))
    for_person = await said_by(call, operations(COMMAND_WORDS))
    assert_in_agent_words(for_agent)
    assert_in_command_words(for_person)
    # Where the person is pointed at a command or a flag, the agent was pointed elsewhere (a call, an argument).
    if COMMAND_SYNTAX.search(for_person) or "--" in for_person:
        assert for_agent != for_person


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        found += _commands(command, (*path, name)) if isinstance(command, click.Group) else [(*path, name)]
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda path: " ".join(path) or "databasin")
def test_every_commands_help_is_in_command_words(path: tuple[str, ...]) -> None:
    """Help texts come from the shared parameter declarations: none may name a tool or use tool syntax."""
    done = CliRunner().invoke(cli, [*path, "--help"], prog_name="databasin")
    assert done.exit_code == 0, done.output
    assert_in_command_words(done.output)
