"""Secrets (issue 6): an upstream that leaks passwords everywhere, and not one leaves the server.

1. End to end: a sandbox started with --leak-secrets echoes every connector's password, an API secret,
   a private key and a JDBC URL with credentials in every connector body, puts the password into its
   metadata and validation errors ("[connectorPassword=...]") and into failed connection tests. The real
   server runs at DEBUG over stdio with its token in a file; every tool is called (errors first, before
   anything could teach the server which values are secret), and every result's text and structured
   content, and everything the process wrote to stderr, is scanned for the secrets and the token.
2. In process, respx plays an upstream that leaks in more shapes: secret fields at any depth,
   connection strings, credentials in URLs, "key=value" and JSON fragments in error bodies, test
   messages and metadata rows, HTML error pages and bodies that are not JSON.
3. The shapes one by one (more in tests/test_redact.py).
4. Issue 12: secret fields in other spellings (connectorpassword, DB-PASSWORD, pw, Set-Cookie), secrets in
   the shapes masking missed (JDBC thin, userinfo without a scheme, Authorization, SAS sig=, sshpass -p),
   a password that is an ordinary word ("postgres") masking hosts and names, and httpcore's DEBUG header dumps.
   tests/hardening/test_secret_property.py plants them at random.
A secret counts as leaked when any 12-character piece of it shows (up to 16 characters: the whole
value), so a URL masked up to the first "@" of a password that contains one is still a leak.
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx
from mcp import Client

from databasin_mcp import redact
from databasin_mcp.config import Settings
from databasin_mcp.harness.processes import Sandbox, clean_env, sandbox_process
from databasin_mcp.harness.results import call, created_id, strings_of, text
from databasin_mcp.harness.upstreams import serving
from databasin_mcp.log import configure_logging
from databasin_mcp.redact import mask_text, scrub
from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    PROJECT_95,
    UNREACHABLE_CONNECTOR_ID,
    UNTESTABLE_CONNECTOR_ID,
    WRONG_PASSWORD,
    WRONG_PASSWORD_CONNECTOR_ID,
)
from databasin_mcp.server import create_server
from tests.conftest import API_TOKEN, ServerFactory

from .support import SandboxApi, stdio_session, write_token

pytestmark = pytest.mark.anyio
WINDOW = 12


def pieces(secret: str) -> set[str]:
    """Every WINDOW-character piece of a secret (the whole secret when it is 16 characters or fewer)."""
    if len(secret) <= 16:
        return {secret}
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def leaked(haystack: str, secrets: Iterable[str]) -> list[str]:
    return sorted(secret for secret in secrets if any(piece in haystack for piece in pieces(secret)))


def assert_clean(haystack: str, secrets: Iterable[str], where: str) -> None:
    found = leaked(haystack, secrets)
    assert not found, f"{where} shows (part of) {found!r}:\n{haystack[:4000]}"


# --- 1. end to end -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaky() -> Iterator[Sandbox]:
    with sandbox_process("--leak-secrets", "--rate-limit", "0", "--refresh-seconds", "0") as running:
        yield running


def secrets_in(body: Any) -> set[str]:
    """The secret values a leaky connector body carries (read straight from the sandbox)."""
    found: set[str] = set()
    if isinstance(body, list):
        for item in body:
            found |= secrets_in(item)
    elif isinstance(body, dict):
        for key in ("connectorPassword", "apiSecret"):
            if isinstance(body.get(key), str) and body[key] != WRONG_PASSWORD:
                found.add(body[key])
        if isinstance(body.get("privateKey"), str):
            found.add(body["privateKey"].split("\n")[1])  # the key material between the PEM lines
    return found


@pytest.mark.e2e
async def test_no_secret_reaches_an_agent_or_the_log(leaky: Sandbox, tmp_path: Path) -> None:
    api = SandboxApi(leaky)
    # A password that masking by pattern alone gets wrong: it has the URL's own separators in it.
    awkward = f"p@ss/w0rd:{uuid.uuid4().hex[:8]}!"
    awkward_id = api.create(
        "Awkward Secret Store",
        "proj-012",
        connectorUsername="svc",
        connectorPassword=awkward,
        connectorHost="db.awkward.example.com",
        connectorPort="5432",
        connectorDatabaseName="sales",
    )
    created_password = f"Cr3ate-{uuid.uuid4().hex[:10]}!"
    updated_password = f"Upd@te/{uuid.uuid4().hex[:10]}#"
    token_file = tmp_path / "token"
    write_token(token_file, leaky.token)
    log_file = tmp_path / "server.log"  # DATABASIN_LOG_FILE: the same log again, audit lines included
    env = clean_env(
        DATABASIN_API_URL=leaky.url,
        DATABASIN_TOKEN_FILE=str(token_file),
        DATABASIN_LOG_FILE=str(log_file),
        DATABASIN_LOG_LEVEL="DEBUG",
        DATABASIN_RETRY_BACKOFF="0.01",
        DATABASIN_CACHE_TTL="0",
        # Passwords given as arguments (the opt-in headless automation uses): what is sent must still not leak.
        DATABASIN_ALLOW_SECRET_ARGUMENTS="1",
    )
    errlog = tmp_path / "server-stderr.log"
    shown: list[tuple[str, str]] = []  # (what was called, everything it showed)

    async def show(client: Client, tool: str, arguments: dict[str, Any], *, error: bool | None = None) -> Any:
        result = await call(client, tool, arguments)
        assert "failed unexpectedly" not in text(result)
        if error is not None:
            assert result.is_error is error, text(result)
        shown.append((f"{tool}({arguments})", strings_of(result)))
        return result

    async with stdio_session(env, errlog) as client:
        # Errors first: the server has not yet seen any of these passwords, so only masking by shape works.
        metadata = {"connector_id": BIG_CONNECTOR_ID}
        await show(client, "list_schemas", {**metadata, "catalog": "no_such_catalog"}, error=True)
        await show(client, "list_tables", {**metadata, "catalog": BIG_CATALOG, "schema": "nope"}, error=True)
        await show(
            client, "list_columns", {**metadata, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": "x"}, error=True
        )
        await show(client, "test_connector", {"connector_id": UNTESTABLE_CONNECTOR_ID}, error=True)
        await show(client, "test_connector", {"connector_id": UNREACHABLE_CONNECTOR_ID}, error=False)
        await show(client, "test_connector", {"connector_id": WRONG_PASSWORD_CONNECTOR_ID, "details": True})
        await show(client, "get_connector", {"connector_id": awkward_id, "fields": ["*"]}, error=False)
        await show(client, "list_connectors", {"project_id": "proj-012", "fields": ["*"]}, error=False)
        await show(client, "find_connectors", {"query": "awkward", "fields": ["*"]}, error=False)
        await show(client, "list_projects", {}, error=False)
        await show(client, "list_connectors", {"project_id": PROJECT_95, "fields": ["*"], "limit": 200}, error=False)
        await show(client, "get_connector", {"connector_id": BIG_CONNECTOR_ID, "fields": ["*"]}, error=False)
        created = await show(
            client,
            "create_connector",
            {
                "name": "Leaky Create",
                "connector_type": "RDBMS",
                "institution_id": 4,
                "project_id": "proj-012",
                "host": "unreachable-leaky.internal.example.com",  # so its test fails, echoing the password
                "username": "svc",
                "password": created_password,
                "test": True,
            },
            error=False,
        )
        new_id = created_id(text(created))
        await show(client, "update_connector", {"connector_id": new_id, "password": updated_password}, error=False)
        await show(client, "test_connector", {"connector_id": new_id, "details": True}, error=False)
        await show(client, "get_connector", {"connector_id": new_id, "fields": ["*"]}, error=False)
        await show(client, "refresh_connector_metadata", {"connector_id": new_id}, error=False)
        await show(client, "list_catalogs", metadata, error=False)
        await show(client, "list_schemas", {**metadata, "catalog": BIG_CATALOG}, error=False)
        await show(client, "delete_connector", {"connector_id": new_id}, error=False)
        await show(client, "delete_connector", {"connector_id": new_id, "confirm": True}, error=False)
        # The token in the file changes; the 401 makes the server re-read it.
        rotated = f"rotated-{uuid.uuid4().hex}"
        api.rotate_token(rotated)
        write_token(token_file, rotated)
        await show(client, "get_connector", {"connector_id": awkward_id}, error=False)

    secrets = secrets_in(api.get("/api/connector")) | secrets_in(api.get(f"/api/connector/{BIG_CONNECTOR_ID}"))
    secrets |= {awkward, created_password, updated_password, leaky.token, rotated}
    assert len(secrets) > 800  # the sandbox did leak: every seed connector's password, API secret and key
    for where, everything in shown:
        assert_clean(everything, secrets, where)
        assert f"'{WRONG_PASSWORD}'" not in everything  # "(using password: 'wrong')", too short for pieces
    log = errlog.read_text(encoding="utf-8")
    assert " DEBUG " in log  # the scan below read a real DEBUG log
    assert "Traceback" not in log
    assert_clean(log, secrets, "the server's stderr")
    # The scan read an audit line for every write, each naming the connector the passwords were sent for.
    audited = [line.split(" databasin_mcp.audit: ", 1)[1] for line in log.splitlines() if "databasin_mcp.audit" in line]
    assert [" ".join(line.split()[1:3]) for line in audited] == [
        "tool=create_connector outcome=ok",
        "tool=update_connector outcome=ok",
        "tool=refresh_connector_metadata outcome=ok",
        "tool=delete_connector outcome=no_change",
        "tool=delete_connector outcome=ok",
    ]
    assert all(f"connector_id={new_id} " in line for line in audited)
    written = log_file.read_text(encoding="utf-8")
    assert len([line for line in written.splitlines() if "databasin_mcp.audit" in line]) == len(audited)
    assert_clean(written, secrets, "DATABASIN_LOG_FILE")


# --- 2. more shapes, in process ------------------------------------------------------------------------------


class LeakyApi:
    """An upstream that leaks a fresh secret in every shape it can; `secrets` lists them all."""

    def __init__(self, router: respx.Router) -> None:
        self.secrets: list[str] = []
        router.route().mock(side_effect=self.answer)

    def secret(self) -> str:
        value = f"S3c-{uuid.uuid4().hex[:12]}!"
        self.secrets.append(value)
        return value

    def awkward(self) -> str:
        """A password with a URL's own separators in it: "@" and "/"."""
        value = f"p@ss/{uuid.uuid4().hex[:12]}"
        self.secrets.append(value)
        return value

    def pem(self) -> str:
        material = uuid.uuid4().hex * 2
        self.secrets.append(material)
        return f"-----BEGIN PRIVATE KEY-----\nMIIE{material}\n-----END PRIVATE KEY-----"

    def connector(self, cid: int) -> dict[str, Any]:
        s = self.secret
        return {
            "connectorID": cid,
            "connectorName": f"Leaky {cid}",
            "connectorType": "RDBMS",
            "internalID": "proj-001",
            "connectorPassword": s(),
            "sshKey": s(),
            "api_key": s(),
            "options": {"clientSecret": s(), "connectionString": f"Server=h;User Id=sa;Password={s()};Encrypt=yes"},
            "credentials": [{"user": "svc", "secret": s()}],
            "jdbcUrl": f"jdbc:postgresql://svc:{s()}@db.example.com:5432/sales",
            "mongoUri": f"mongodb+srv://admin:{s()}@cluster0.example.net/?retryWrites=true",
            "notes": f"password is {s()}",
            "lastError": f'login failed: {{"connectorPassword": "{s()}"}}',
            "auditTrail": f"apiSecret={s()}; db_password={s()}; token: {s()}",
        }

    def answer(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        s = self.secret
        if path == "/api/connector" and method == "GET":
            return httpx.Response(200, json=[self.connector(7), self.connector(8)])
        if path == "/api/connector" and method == "POST":
            return httpx.Response(400, json={"message": f"Weak password={s()}; connectorPassword={s()} rejected"})
        if path == "/api/connector/7" and method == "GET":
            return httpx.Response(200, json=json.dumps(self.connector(7)))  # encoded twice, as the real one does
        if path == "/api/connector/8" and method == "GET":
            return httpx.Response(200, json=self.connector(8))
        if path == "/api/connector/8" and method == "PUT":
            return httpx.Response(
                500, text=f"<html><body><h1>500</h1><p>postgres://admin:{s()}@db failed</p></body></html>"
            )
        if path == "/api/connector/8" and method == "DELETE":
            # Not JSON (cut short), with a key in it: the error quotes the start of the body.
            return httpx.Response(200, content=f'{{"message": "deleted", "key": "{self.pem()}'.encode())
        if path == "/api/connector/7/test":
            return httpx.Response(
                200,
                json={
                    "success": False,
                    "message": f"Login failed for 'svc' (connectorPassword={s()})",
                    "error": f"password '{s()}' rejected",
                    "details": {
                        "apiKey": s(),
                        "url": f"https://svc:{s()}@host.example.com/x",
                        "note": f"pwd={s()}",
                        "dsn": f"could not reach postgresql://svc:{self.awkward()}@db.example.com:5432/x (timeout)",
                        "config": f"auth=keypair privateKey={self.pem()} user=svc",
                    },
                },
            )
        if path == "/api/connector/7/refresh":
            return httpx.Response(502, json={"error": "Bad Gateway", "message": f"upstream secret: {s()}"})
        if path == "/api/connector/7/catalogs":
            return httpx.Response(200, json=[{"catalogName": "sales", "description": f"owner token={s()}"}])
        if path == "/api/connector/7/schemas":
            return httpx.Response(404, json={"message": f"Catalog 'x' not found [connectorPassword={s()}]"})
        if path == "/api/connector/7/tables":
            return httpx.Response(
                200, json=[{"tableName": "orders", "connectionSecret": s(), "ddlUrl": f"s3://k:{s()}@b"}]
            )
        if path == "/api/connector/7/columns":
            return httpx.Response(
                200, json=[{"columnName": "dsn", "dataType": "TEXT", "defaultValue": f"mysql://root:{s()}@h/db"}]
            )
        return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": path})


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_schemas", {"connector_id": 7, "catalog": "x"}),  # an error before anything was learnt
    (
        "create_connector",
        {"name": "N", "connector_type": "RDBMS", "institution_id": 1, "project_id": "p", "password": "Cr3ate-pass!"},
    ),
    ("list_projects", {}),
    ("list_connectors", {"project_id": "proj-001", "fields": ["*"]}),
    ("find_connectors", {"query": "leaky", "fields": ["*"]}),
    ("get_connector", {"connector_id": 7, "fields": ["*"]}),
    ("get_connector", {"connector_id": 8, "fields": ["*"]}),
    ("update_connector", {"connector_id": 8, "password": "Upd@te/pass#"}),
    ("delete_connector", {"connector_id": 8, "confirm": True}),
    ("test_connector", {"connector_id": 7, "details": True}),
    ("refresh_connector_metadata", {"connector_id": 7}),
    ("list_catalogs", {"connector_id": 7}),
    ("list_tables", {"connector_id": 7, "fields": ["*"]}),
    ("list_columns", {"connector_id": 7, "table": "t", "fields": ["*"]}),
]


async def test_no_leak_shape_survives(
    make_server: ServerFactory, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = LeakyApi(router)
    caplog.set_level(logging.DEBUG)
    shown: list[tuple[str, str]] = []
    async with Client(make_server()) as client:
        for tool, arguments in CALLS:
            result = await call(client, tool, arguments)
            assert "failed unexpectedly" not in text(result)
            shown.append((f"{tool}({arguments})", strings_of(result)))

    secrets = [*upstream.secrets, "Cr3ate-pass!", "Upd@te/pass#", API_TOKEN]
    assert len(upstream.secrets) > 60
    for where, everything in shown:
        assert_clean(everything, secrets, where)
    for record in caplog.records:
        assert_clean(record.getMessage(), secrets, f"log record {record.name}")


# --- 3. the shapes above, one by one ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leaky_text", "masked"),
    [
        # A key that ends in a secret word (the sandbox's own "[connectorPassword=...]").
        ("not found [connectorPassword=pw-1234abcd]", "not found [connectorPassword=***]"),
        ("db_password=hunter22; user=sa", "db_password=***; user=sa"),
        ('{"apiSecret": "sk_live_0123"}', '{"apiSecret": ***}'),
        # A password holding the URL's own separators is masked to the host, not to its first "@".
        ("postgresql://svc:p@ss/w0rd!@db:5432/x (timeout)", "postgresql://svc:***@db:5432/x (timeout)"),
        # A PEM key, whole or cut short by an excerpt.
        ("k=-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY----- ok", "k=*** ok"),
        ('{"key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEabc', '{"key": "***'),
        # Left alone: a port and an "@" in a path, our own URLs, ordinary words.
        ("https://h:8080/users/a@b.example", "https://h:8080/users/a@b.example"),
        ("The Databasin API at http://127.0.0.1:46077 did not answer in time.", None),
        ("tokenCount: 5, maxTokens: 7, schema: public", None),
    ],
)
def test_masking_by_shape(leaky_text: str, masked: str | None) -> None:
    assert mask_text(leaky_text) == (leaky_text if masked is None else masked)


def test_a_record_never_shows_its_own_secret_elsewhere() -> None:
    password = f"p@ss/{uuid.uuid4().hex[:8]}"
    record = {"connectorPassword": password, "jdbcUrl": f"jdbc:x://u:{password}@h/db", "note": f"set to {password}"}
    assert scrub([record]) == [{"jdbcUrl": "jdbc:x://u:***@h/db", "note": "set to ***"}]


# --- 4. issue 12: other spellings, other shapes, passwords that are ordinary words ---------------------------


@pytest.fixture(autouse=True)
def forget_learnt_secrets() -> Iterator[None]:
    """Secrets remembered by one test (a process-wide registry) must not mask another test's data."""
    saved = redact.remembered_state()
    yield
    redact.restore_remembered_state(saved)


# Field names that hold secrets, spelt the many ways upstreams spell them (#2: all of these were shown).
SPELLED_SECRET_FIELDS = [
    "connectorpassword",
    "CONNECTORPASSWORD",
    "dbpassword",
    "apitoken",
    "sshprivatekey",
    "SSHPRIVATEKEY",
    "db_pass",
    "DB-PASSWORD",
    "x.api.token",
    "client_secret",
    "sasToken",
    "pass",
    "pw",
    "PWD",
    "x-api-key",
    "Authorization",
    "Set-Cookie",
    "aws_secret_access_key",
    "AccountKey",
    "sig",
]


async def test_secret_fields_in_any_spelling_are_shown_nowhere(
    make_server: ServerFactory, router: respx.Router
) -> None:
    values = {name: f"Leak{index:02d}-{uuid.uuid4().hex[:12]}" for index, name in enumerate(SPELLED_SECRET_FIELDS)}
    record = {"connectorID": 7, "connectorName": "Spelled", "connectorType": "RDBMS", "internalID": "proj-001"}
    record |= values
    record["options"] = [{"nested": {name.upper(): value for name, value in values.items()}}]
    router.get("/api/connector/7").respond(json=record)
    router.get("/api/connector").respond(json=[record])

    async with Client(make_server()) as client:
        shown = [
            strings_of(await call(client, "get_connector", {"connector_id": 7, "fields": ["*"]})),
            strings_of(await call(client, "list_connectors", {"project_id": "proj-001", "fields": ["*"]})),
            strings_of(await call(client, "find_connectors", {"query": "spelled", "fields": ["*"]})),
        ]

    for everything in shown:
        assert "Spelled" in everything
        assert_clean(everything, values.values(), "a listing of a record with oddly spelt secret fields")
        for name in SPELLED_SECRET_FIELDS:
            assert f"{name}:" not in everything
            assert f'"{name}"' not in everything


# Secrets inside strings, in the shapes of #2 (none of which was masked) and the ones a reviewer adds.
def shaped_leaks(secret: str) -> list[str]:
    return [
        f"jdbc:oracle:thin:scott/{secret}@db:1521:ORCL",
        f"jdbc:oracle:thin:scott/{secret}@//db.example.com:1521/ORCL",
        f"could not connect as svc:{secret}@db:5432",
        f"Authorization: Bearer {secret}",
        f"Authorization: Basic {secret}",
        f"https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig={secret}&se=2030",
        f'{{"pass":"{secret}"}}',
        f"pw={secret}",
        f"sshpass -p {secret} ssh svc@bastion",
        f"mongodb+srv://app:{secret}@cluster0.example.net/db",
        f"Driver={{ODBC Driver 18}};Server=h;user=sa;password={secret};",
        f"Server=h;UID=sa;PWD={secret};",
        f"mysql -h db -u root -p{secret} sales",
        f"X-Api-Key: {secret}",
        f"aws_secret_access_key = {secret}",
    ]


async def test_secrets_in_strings_are_masked_in_answers_errors_and_test_messages(
    make_server: ServerFactory, router: respx.Router
) -> None:
    secrets: list[str] = []

    def leaks() -> list[str]:
        """Every shape once, each with a fresh secret."""
        shaped = []
        for shape in range(len(shaped_leaks(""))):
            secret = f"Zx{uuid.uuid4().hex[:10]}9"
            secrets.append(secret)
            shaped.append(shaped_leaks(secret)[shape])
        return shaped

    record = {"connectorID": 7, "connectorName": "Shapes", "connectorType": "RDBMS", "internalID": "proj-001"}
    record["notes"] = leaks()
    record["lastError"] = " | ".join(leaks())
    router.get("/api/connector/7").respond(json=record)
    router.post("/api/connector/7/test").respond(json={"success": False, "message": " ; ".join(leaks())})
    router.post("/api/connector/7/refresh").respond(
        500, text=f"<html><body><pre>{'<br>'.join(leaks())}</pre></body></html>"
    )
    router.get("/api/connector/7/catalogs").respond(400, json={"message": " ; ".join(leaks())})

    async with Client(make_server()) as client:
        shown = {
            "get_connector": strings_of(await call(client, "get_connector", {"connector_id": 7, "fields": ["*"]})),
            "test_connector": strings_of(await call(client, "test_connector", {"connector_id": 7, "details": True})),
            "refresh": strings_of(await call(client, "refresh_connector_metadata", {"connector_id": 7})),
            "list_catalogs": strings_of(await call(client, "list_catalogs", {"connector_id": 7})),
        }

    assert len(secrets) == 5 * len(shaped_leaks(""))
    for where, everything in shown.items():
        assert_clean(everything, secrets, where)
    assert "db.example.com:1521/ORCL" in shown["get_connector"]  # masked, not cut


async def test_an_ordinary_word_password_never_masks_ordinary_values(
    make_server: ServerFactory, router: respx.Router
) -> None:
    neighbour = {
        "connectorID": 8,
        "connectorName": "Warehouse 8",
        "connectorType": "RDBMS",
        "internalID": "proj-001",
        "institutionID": 1,
        "connectorHost": "postgres-8.proj-001.example.com",
        "connectorUsername": "svc_postgres_8",
    }
    created = {
        "connectorID": 9,
        "connectorName": "PG",
        "connectorType": "RDBMS",
        "internalID": "proj-001",
        "institutionID": 1,
        "connectorHost": "postgres.internal",
        "connectorUsername": "postgres",
    }
    router.get("/api/connector").respond(json=[neighbour])
    router.post("/api/connector").respond(json={"connectorID": 9, "status": "success"})
    router.get("/api/connector/9").respond(json=created)
    router.get("/api/connector/8").respond(json=neighbour)
    router.post("/api/connector/9/test").respond(
        json={"success": False, "message": 'password authentication failed for user "postgres" (password postgres)'}
    )

    async with Client(make_server()) as client:
        arguments = {"name": "PG", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"}
        arguments |= {
            "username": "postgres",
            "password": "postgres",
            "database": "postgres",
            "host": "postgres.internal",
        }
        assert not (await call(client, "create_connector", arguments)).is_error
        mine = text(await call(client, "get_connector", {"connector_id": 9, "fields": ["*"]}))
        theirs = text(await call(client, "get_connector", {"connector_id": 8, "fields": ["*"]}))
        tested = text(await call(client, "test_connector", {"connector_id": 9, "details": True}))

    assert "connectorHost: postgres.internal" in mine
    assert "connectorUsername: postgres\n" in mine  # equal to the password, in a field that says what it is
    assert "connectorHost: postgres-8.proj-001.example.com" in theirs
    assert "connectorUsername: svc_postgres_8" in theirs
    # Where it stands as a credential, it is still masked.
    assert 'for user "postgres" (password ***)' in tested


class LeakyHeaders(http.server.BaseHTTPRequestHandler):
    """A loopback upstream whose answers carry secrets in headers only."""

    secrets: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = json.dumps({"connectorID": 7, "connectorName": "Headers", "connectorType": "RDBMS"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"SESSION={self.secrets['cookie']}; Path=/; HttpOnly")
        self.send_header("X-Refresh-Token", self.secrets["refresh"])
        self.send_header("Authorization", f"Bearer {self.secrets['bearer']}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def leaky_headers() -> Iterator[str]:
    LeakyHeaders.secrets = {name: f"Hdr{name}{uuid.uuid4().hex[:12]}" for name in ("cookie", "refresh", "bearer")}
    with serving(LeakyHeaders) as url:
        yield url


@pytest.fixture
def stderr_at_debug(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """configure_logging("DEBUG") writing to a buffer; the logging set-up of the test run restored after."""
    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict},
    )
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("DEBUG")
    yield buffer
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def test_debug_logging_never_shows_upstream_header_secrets(
    leaky_headers: str, stderr_at_debug: io.StringIO
) -> None:
    server = create_server(Settings(api_url=leaky_headers, token=API_TOKEN, retry_backoff=0))
    async with Client(server) as client:
        result = await call(client, "get_connector", {"connector_id": 7})
    assert "Headers" in text(result)
    log = stderr_at_debug.getvalue()
    assert " DEBUG " in log  # a real DEBUG log was read
    assert_clean(log, [*LeakyHeaders.secrets.values(), API_TOKEN], "the DEBUG log")
    assert " httpcore." not in log  # off, not only masked: its header dumps are a format we do not own
