"""Bad input (issue 6): property-based tests over every tool's arguments, in process against respx.

For each tool, Hypothesis draws argument sets where each argument is left out, valid (including odd
but legal values: unicode, path-breaking strings such as "../", "?", "#", "%2F" and newlines, JSON-looking
strings, numeric strings for IDs, boundary numbers) or invalid (wrong types, blank or huge strings,
negative or huge numbers, limits 0 and 10^9, malformed field names), plus now and then an unknown
argument. The oracle knows which arguments are invalid, so it asserts:

- an invalid call is refused with a message that names every bad argument, and nothing is sent upstream;
- a valid call gets a correct answer (or an operation-level refusal that names the argument, e.g.
  "Unknown field in fields: ..." or "project_id is required");
- every request that does go upstream has a path of the form /api/connector[/<id>[/<action>]] with the
  ID the caller gave, within 1..2^63-1, and every name (project, catalog, schema, table) travels as a
  query parameter whose form-decoded value is exactly the input, once, with no other parameter.
  (Since the client also speaks the real backend, /api/my/projects is allowed too, and so are the v2
  metadata routes it falls back to, whose names travel in the query or in a JSON body, never a path.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio.from_thread
import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.harness.results import call, strings_of, text
from databasin_mcp.models import Column, Connector, Table
from databasin_mcp.shaping import fold
from databasin_mcp.sql import Refused, preview
from tests.conftest import ServerFactory

from .conftest import HARDENING

MAX_ID = 2**63 - 1
CREATED_ID = 9001  # what the fake API answers a create with
PATH = re.compile(r"^/api/connector(/(?P<id>\d+)(/(?P<action>test|refresh|catalogs|schemas|tables|columns|query))?)?$")
# The real backend's routes the client may also use: project names, and the v2 metadata family.
EXTRA_PATHS = re.compile(
    r"^/api/my/projects$|^/api/v2/connector/(?P<action>catalogs|schemas|tables)/(?P<id>\d+)$|^/api/connector/columns$"
    # a project's record (its ID one escaped path segment, never a dot segment), the user's account
    r"|^/api/project/(?!\.\.?$)[^/]+$|^/api/my/account$"
)

# --- the upstream ------------------------------------------------------------------------------------------------


LISTED_DETAILS = {
    "connectorHost": "db.example.com",
    "connectorPort": "5432",
    "connectorDatabaseName": "sales",
    "ownerID": 456,
    "createdDate": "2025-01-15T10:30:00Z",
    "lastModifiedDate": "2025-01-20T14:45:00Z",
}
# Fields only GET /api/connector/{id} carries: a listing asked for them refuses, naming get_connector.
NOT_LISTED = {"connectorUsername", "connectorAuthType", "connectorMaxConnections"}


class FakeApi:
    """Answers every route of the API plausibly and records every request (respx catch-all)."""

    def __init__(self, router: respx.Router) -> None:
        self.requests: list[httpx.Request] = []
        router.route().mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match = PATH.fullmatch(request.url.path)
        if match is None:  # e.g. /api/my/projects: this API is the reference, without the real backend's extras
            return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": request.url.path})
        cid, action, method = match["id"], match["action"], request.method
        if cid is None:
            if method == "POST":
                return httpx.Response(
                    200, json={"connectorID": CREATED_ID, "message": "Connector created successfully"}
                )
            project = request.url.params.get("internalID", "proj-001")
            institution = request.url.params.get("institutionID", "1")
            rows = [  # the reference's list fields (no username, auth type or max connections)
                {"connectorID": n, "connectorName": name, "connectorType": "RDBMS", "internalID": project}
                | {"institutionID": institution, "active": n != 8, **LISTED_DETAILS}
                for n, name in ((7, "Alpha Warehouse"), (8, "Beta Orders"), (9, "Gamma CRM"))
            ]
            return httpx.Response(200, json=rows)
        body: Any = {
            None: {"connectorID": int(cid), "connectorName": "Alpha Warehouse", "connectorType": "RDBMS"}
            | {"connectorSubType": "postgres"},  # the data tools' dialect
            "test": {"success": True, "status": "success", "message": "Connection test successful"},
            "refresh": {"message": "Metadata refresh initiated", "catalogCount": 1, "schemaCount": 2, "tableCount": 3},
            "catalogs": [{"catalogName": "sales", "description": "Sales"}],
            "schemas": [{"schemaName": "public", "description": "Public"}],
            "tables": [{"tableName": "orders", "tableType": "TABLE", "rowCount": 12, "sizeInBytes": 4096}],
            "columns": [{"columnName": "id", "dataType": "BIGINT", "isNullable": False, "isPrimaryKey": True}],
            "query": {"success": True, "columns": ["id"], "rows": [{"id": 1}], "rowCount": 1},
        }[action]
        if action is None and method == "PUT":
            body = {"connectorID": int(cid), "message": "Connector updated successfully"}
        elif action is None and method == "DELETE":
            body = {"message": "Connector deleted successfully"}
        return httpx.Response(200, json=body)


@contextmanager
def serving(make_server: ServerFactory) -> Iterator[Callable[[str, dict[str, Any]], CallToolResult]]:
    """One in-process server and client for all examples; Hypothesis (sync) calls through a portal."""
    with (
        anyio.from_thread.start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(Client(make_server())) as client,
    ):

        def invoke(name: str, arguments: dict[str, Any]) -> CallToolResult:
            result: CallToolResult = portal.call(call, client, name, arguments)
            return result

        yield invoke


# --- argument strategies --------------------------------------------------------------------------------------------

ODD = [
    "../",
    "../../etc/passwd",
    "..%2F..%2F",
    "?",
    "#",
    "%2F",
    "%",
    "a/b",
    "a?b=c&d=e",
    "x#y",
    "line\nbreak",
    "\r\n",
    "tab\there",
    " leading and trailing ",
    "+plus+",
    "a&b",
    "=",
    ";",
    "\x00nul",
    "Müller",
    "東京 Warehouse",
    "🙂",
    "\u202eevil",
    "İı",
    "' OR 1=1 --",
    "<script>",
    "${jndi:ldap://x}",
    "\\",
]


# Strings a client might mean as JSON; the SDK decodes such text for parameters not typed exactly `str`.
JSONISH = ["null", "[]", "{}", "[1, 2]", '{"a": 1}', "true", "false", '"quoted"', "12", "-0"]


def text_values(limit: int) -> st.SearchStrategy[str]:
    """Non-blank strings of at most `limit` characters, weighted towards the odd ones."""
    return st.one_of(
        st.sampled_from(ODD),
        st.sampled_from(JSONISH),
        st.text(min_size=1, max_size=40),
        st.text(min_size=1, max_size=limit),
        st.builds(lambda odd, tail: (odd + tail)[:limit], st.sampled_from(ODD), st.text(max_size=20)),
        st.just("x" * limit),
    ).filter(lambda s: bool(s.strip()))


def bad_text(limit: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["", " ", "\n\t ", "\u3000"]),
        st.just("y" * (limit + 1)),
        st.text(min_size=limit + 1, max_size=limit + 30).filter(lambda s: len(s) > limit),
        st.just("z" * 100_000),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )


def int_values(low: int, high: int) -> st.SearchStrategy[Any]:
    """Integers in [low, high], also as numeric strings and as integral floats (pydantic's lax mode)."""
    return st.one_of(
        st.integers(low, high),
        st.sampled_from([low, high]),
        st.integers(low, high).map(str),
        st.integers(low, min(high, 2**53)).map(float),
    )


def bad_ints(low: int, high: int) -> st.SearchStrategy[Any]:
    breaking = st.tuples(
        st.integers(0, 999), st.sampled_from(["/", "?", "#", "%2F", "/../", ";", "&x=1", "/test", "x"])
    )
    return st.one_of(
        st.integers(max_value=low - 1),
        st.integers(min_value=high + 1),
        st.sampled_from([low - 1, high + 1, 10**9 + high, 10**30, -(2**63)]).filter(lambda n: not low <= n <= high),
        # (JSON cannot carry NaN or infinity, so a client cannot send them.)
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
        breaking.map(lambda t: f"{t[0]}{t[1]}"),
        st.sampled_from(["", "abc", "0x10", "1e3", "١٢٣", "９", "../1", "%2F1"]),
        st.booleans(),  # lax validation would read true as 1: connector_id=true must not mean connector 1
        st.lists(st.integers(1, 5), min_size=1, max_size=2),
        st.dictionaries(st.just("id"), st.integers(), min_size=1),
    )


BAD_BOOLS = st.sampled_from(["maybe", "2", 2, 1.5, [], {"a": 1}, "yes please"])
UNKNOWN_FIELDS = ["fooBar", "connectorPassword", "password", "apiKey", "x", "_", "A" * 64]
BAD_FIELD_NAMES = ["../x", "a b", "", "1abc", "x" * 65, "connector-name", "名前", "a.b", "a/b", "*x"]


@dataclass(frozen=True)
class Param:
    name: str
    valid: st.SearchStrategy[Any]
    invalid: st.SearchStrategy[Any]
    required: bool = False
    nullable: bool = True  # `X | None`: an explicit null means "not given"; else null is refused


def connector_id() -> Param:
    return Param("connector_id", int_values(1, MAX_ID), bad_ints(1, MAX_ID), required=True)


def words(name: str, limit: int = 200, *, required: bool = False) -> Param:
    return Param(name, text_values(limit), bad_text(limit), required)


def number(name: str, low: int, high: int, *, required: bool = False, nullable: bool = True) -> Param:
    return Param(name, int_values(low, high), bad_ints(low, high), required, nullable)


def flag(name: str, *, nullable: bool = False) -> Param:
    return Param(name, st.booleans(), BAD_BOOLS, nullable=nullable)


def paging(limit: int, *, offset: bool = True) -> list[Param]:
    """limit and offset have defaults but are not nullable: null is refused, naming them."""
    params = [number("limit", 1, limit, nullable=False)]
    return [*params, number("offset", 0, 10**9, nullable=False)] if offset else params


def fields(available: list[str]) -> Param:
    known = st.lists(st.sampled_from([*available, "*"]), max_size=5)
    return Param(
        "fields",
        st.one_of(
            known,
            known.map(lambda names: str(names).replace("'", '"')),  # a JSON list sent as text (Claude Desktop)
            st.lists(st.sampled_from([*available, *UNKNOWN_FIELDS]), min_size=1, max_size=3),
        ),
        st.one_of(
            st.lists(st.sampled_from(BAD_FIELD_NAMES), min_size=1, max_size=2),
            st.just(["connectorName"] * 65),
            st.sampled_from(["connectorName", 5, {"a": 1}, [1, 2]]),
        ),
    )


CONNECTOR_FIELDS = list(Connector.model_fields)
TOOL_PARAMS: dict[str, list[Param]] = {
    "list_projects": [number("institution_id", 0, MAX_ID)],
    "list_connectors": [
        words("project_id", 128),
        number("institution_id", 0, MAX_ID),
        words("name_contains"),
        words("connector_type"),
        flag("active", nullable=True),
        fields(CONNECTOR_FIELDS),
        *paging(200),
    ],
    "find_connectors": [words("query", required=True), fields(CONNECTOR_FIELDS), *paging(50, offset=False)],
    "get_connector": [connector_id(), fields(CONNECTOR_FIELDS)],
    "create_connector": [
        words("name", required=True),
        words("connector_type", required=True),
        number("institution_id", 0, MAX_ID),  # looked up from the project where left out
        words("project_id", 128),
        words("host", 500),
        number("port", 1, 65535),
        words("database", 500),
        words("username", 500),
        words("password", 1000),
        number("auth_type", 0, 1_000_000),
        number("owner_id", 0, MAX_ID),
        number("max_connections", 1, 1000),
        flag("test"),
        flag("allow_duplicate"),
    ],
    "update_connector": [
        connector_id(),
        words("name"),
        words("host", 500),
        number("port", 1, 65535),
        words("database", 500),
        words("username", 500),
        words("password", 1000),
        number("auth_type", 0, 1_000_000),
        number("max_connections", 1, 1000),
        flag("active", nullable=True),
    ],
    "delete_connector": [connector_id(), flag("confirm")],
    "test_connector": [connector_id(), flag("details")],
    "refresh_connector_metadata": [connector_id()],
    "list_catalogs": [connector_id(), words("name_contains"), *paging(500)],
    "list_schemas": [
        connector_id(),
        words("catalog"),
        words("name_contains"),
        *paging(500),
    ],
    "list_tables": [
        connector_id(),
        words("catalog"),
        words("schema"),
        words("name_contains"),
        fields(list(Table.model_fields)),
        *paging(500),
    ],
    "list_columns": [
        connector_id(),
        words("table", required=True),
        words("catalog"),
        words("schema"),
        words("name_contains"),
        fields(list(Column.model_fields)),
        *paging(1000),
    ],
    "preview_table": [
        connector_id(),
        words("table", required=True),
        words("catalog"),
        words("schema"),
        Param(
            "columns",
            st.lists(st.text(min_size=1, max_size=20).filter(str.strip), max_size=3),
            st.one_of(st.just([" "]), st.just(["x"] * 501), st.just(["y" * 301]), st.sampled_from([5, {"a": 1}])),
        ),
        number("limit", 1, 100, nullable=False),
    ],
    "run_query": [
        connector_id(),
        Param(
            "sql",
            st.sampled_from(["SELECT 1", "select id from orders", "SELECT * FROM t WHERE x = 'a;b'"]),
            st.one_of(st.sampled_from(["", " ", "\n\t ", "\u3000", "y" * 20_001, 5, True, ["SELECT 1"], {"sql": 1}])),
            required=True,
        ),
        number("limit", 1, 100, nullable=False),
    ],
}
UNKNOWN_ARGUMENTS = ["projectId", "connectorId", "id", "Fields", "../etc", "limit ", ""]


@dataclass
class Drawn:
    arguments: dict[str, Any]
    invalid: set[str]
    unknown: set[str]


@st.composite
def argument_sets(draw: st.DrawFn, params: list[Param]) -> Drawn:
    """Half the sets are entirely valid (so the requests they cause are checked), half mix in bad values."""
    arguments: dict[str, Any] = {}
    invalid: set[str] = set()
    all_valid = draw(st.booleans())
    for param in params:
        if all_valid:
            options = ["valid"] if param.required else ["valid", "valid", "omit"] + ["null"] * param.nullable
        else:
            options = ["valid", "valid", "invalid", "invalid", "omit", "null"]
        choice = draw(st.sampled_from(options))
        if choice == "valid":
            arguments[param.name] = draw(param.valid)
        elif choice == "invalid":
            arguments[param.name] = draw(param.invalid)
            invalid.add(param.name)
        elif param.required or (choice == "null" and not param.nullable):
            invalid.add(param.name)  # missing, or null where a value is required
            if choice == "null":
                arguments[param.name] = None
        elif choice == "null":
            arguments[param.name] = None  # explicit null: the same as leaving it out
    unknown: set[str] = set()
    if not all_valid and draw(st.integers(0, 4)) == 0:
        name = draw(st.sampled_from(UNKNOWN_ARGUMENTS))
        arguments[name] = draw(st.one_of(st.integers(), st.text(max_size=5)))
        unknown.add(name)
    return Drawn(arguments, invalid, unknown)


# --- the oracle -------------------------------------------------------------------------------------------------------


def operation_refusal(tool: str, arguments: dict[str, Any]) -> str | None:
    """The refusal a valid call still gets from the operation (it names the argument), or None."""
    if tool in ("list_connectors", "create_connector") and arguments.get("project_id") is None:
        return "project_id is required: pass project_id=..."
    if tool == "create_connector" and arguments.get("institution_id") not in (None, 1, "1"):
        return "institution_id: "  # FakeApi's projects all belong to institution 1
    if tool == "preview_table" and _unwritable(arguments):
        return "table: the names given cannot be written as postgres SQL"
    if tool == "find_connectors" and not fold(arguments["query"]).split():
        return "query must contain at least one word"
    if tool == "update_connector" and all(arguments.get(p.name) is None for p in TOOL_PARAMS[tool][1:]):
        return "Nothing to update: pass at least one of name, host, port"
    requested = arguments.get("fields")
    if isinstance(requested, str):
        requested = json.loads(requested)
    if requested:
        available = {"list_tables": Table.model_fields, "list_columns": Column.model_fields}.get(
            tool, Connector.model_fields
        )
        if tool in ("list_connectors", "find_connectors") and NOT_LISTED.intersection(requested):
            return "fields: the API's connector list does not carry"
        if any(name != "*" and name not in available for name in requested):
            return "Unknown field"
    return None


def _unwritable(arguments: dict[str, Any]) -> bool:
    """Whether the names of a preview cannot be written as SQL at all (the answer then names the table)."""
    try:
        built = preview(
            "postgres",
            arguments["table"],
            schema=arguments.get("schema"),
            catalog=arguments.get("catalog"),
            columns=arguments.get("columns"),
            levels=3,
        )
        built.limited(int(arguments.get("limit", 10))).text()
    except Refused:
        return True
    return False


def expected_query(
    tool: str, path: str, action: str | None, method: str, arguments: dict[str, Any]
) -> list[tuple[str, str]]:
    """The query parameters a request must carry: exactly these, each once, values exactly the input."""
    values: dict[str, Any] = {}
    if (
        path in ("/api/my/projects", "/api/connector/columns", "/api/my/account")
        or path.startswith("/api/project/")
        or action == "query"  # the statement travels in a JSON body
    ):
        pass  # no parameters (the v2 columns route takes its names in a JSON body)
    elif action is None and method == "GET" and tool in ("list_projects", "list_connectors", "create_connector"):
        project = arguments.get("project_id") if tool != "list_projects" else None
        values["internalID"] = project.strip() if project is not None else None  # a pasted ID's spaces go
        if tool != "create_connector":
            values["institutionID"] = arguments.get("institution_id")
    elif action in ("schemas", "tables", "columns"):
        values["catalog"] = arguments.get("catalog")
        if action != "schemas":
            values["schema"] = arguments.get("schema")
        if action == "columns":
            values["table"] = arguments.get("table")
    return sorted(
        (key, value if key != "institutionID" else str(int(value)))
        for key, value in values.items()
        if value is not None
    )


def names_argument(message: str, name: str) -> bool:
    """Whether a refusal names this argument ("x is required", "x: ...", "fields.0: ...", "Unknown argument x")."""
    return re.search(rf"(^|[ ,:;]){re.escape(name)}( is required|(\.\d+)?:|[,.;]| for )", message) is not None


def check(tool: str, drawn: Drawn, result: CallToolResult, api: FakeApi) -> None:
    arguments = drawn.arguments
    message = text(result) if len(result.content) == 1 else repr(result.content)
    assert "failed unexpectedly" not in message

    if drawn.unknown:
        assert result.is_error, message
        assert message.startswith("Unknown argument"), message
        assert all(names_argument(message, name) for name in drawn.unknown), message
        assert api.requests == []
        return
    if drawn.invalid:
        assert result.is_error, message
        assert message.startswith("Invalid argument"), message
        missing = [name for name in drawn.invalid if not names_argument(message, name)]
        assert not missing, (missing, message)
        assert message.endswith("Fix and call again.")
        assert api.requests == []  # nothing unvalidated ever reaches the API
        return

    refusal = operation_refusal(tool, arguments)
    if refusal is not None:
        assert result.is_error, message
        assert message.startswith(refusal), (refusal, message)
    else:
        assert not result.is_error, message

    # A create's follow-up test goes to the ID the API gave the new connector.
    expected_id = CREATED_ID if tool == "create_connector" else arguments.get("connector_id")
    for request in api.requests:
        match = PATH.fullmatch(request.url.path) or EXTRA_PATHS.fullmatch(request.url.path)
        assert match is not None, request.url
        if match["id"] is not None:
            number_sent = int(match["id"])
            assert 1 <= number_sent <= MAX_ID
            assert match["id"] == str(number_sent)  # digits only, no sign, no leading zeros
            assert expected_id is not None
            assert number_sent == int(expected_id), (request.url, expected_id)
        raw_query = request.url.query.decode("ascii")
        # Encoded: nothing but unreserved characters, %XX escapes and the separators & and =.
        assert re.fullmatch(r"(?:[A-Za-z0-9._~+-]|%[0-9A-F]{2}|[&=])*", raw_query), raw_query
        sent = sorted(parse_qsl(raw_query, keep_blank_values=True, strict_parsing=False))
        assert sent == expected_query(tool, request.url.path, match["action"], request.method, arguments), request.url
        if request.url.path == "/api/connector/columns":
            body = json.loads(request.content)
            assert expected_id is not None
            assert body["tableName"] == arguments["table"]
            assert body["connectorID"] == int(expected_id)

    if refusal is None and tool == "get_connector":
        assert expected_id is not None
        assert message.split("\n")[0] == f"connectorID: {int(expected_id)}"
    secret = arguments.get("password")
    others = [str(value) for name, value in arguments.items() if name != "password"]
    if isinstance(secret, str) and len(secret) >= 6 and not any(secret in other for other in others):
        assert secret not in strings_of(result)  # a password is never shown back, whatever it is


@pytest.mark.parametrize("tool", list(TOOL_PARAMS))
def test_every_argument_is_validated_before_anything_is_sent(
    tool: str, make_server: ServerFactory, router: respx.Router
) -> None:
    api = FakeApi(router)
    with serving(make_server) as invoke:

        @HARDENING
        @given(drawn=argument_sets(TOOL_PARAMS[tool]))
        def property_holds(drawn: Drawn) -> None:
            api.requests.clear()
            result = invoke(tool, drawn.arguments)
            check(tool, drawn, result, api)

        property_holds()


@pytest.mark.parametrize("value", ["null", "[]", "[1, 2]", '{"a": 1}', "true"])
def test_text_that_looks_like_json_stays_text(make_server: ServerFactory, router: respx.Router, value: str) -> None:
    """A schema named "null" is that schema, not "no schema"; a password "[]" is a password."""
    api = FakeApi(router)
    with serving(make_server) as invoke:
        tables = invoke("list_tables", {"connector_id": 7, "catalog": "sales", "schema": value})
        assert not tables.is_error, text(tables)
        assert api.requests[-1].url.params.get("schema") == value
        updated = invoke("update_connector", {"connector_id": 7, "password": value})
        assert not updated.is_error, text(updated)
        assert json.loads(api.requests[-1].content) == {"connectorPassword": value}
