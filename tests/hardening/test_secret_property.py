"""Property (issue 12): a secret planted anywhere an upstream can put one reaches no agent and no log line.

Hypothesis builds upstream bodies that carry fresh secrets
- under secret field names in every spelling (case, separators, prefixes, digits), at any depth, held as a
  string, a list or an object;
- inside strings, in every shape masking knows: URL userinfo with and without a scheme, JDBC thin and sqlplus,
  Authorization and Cookie headers and their Python reprs, Bearer, SAS sig=, key=value with spelt keys (plain,
  JSON, JSON inside JSON, ODBC), command lines, PEM keys, JWTs, "the password is x"; each secret drawn from the
  characters a password in that shape can hold;
and respx serves them as a record, a listing, a metadata listing, a JSON error, an HTML error page (raw and
entity-escaped) and test and refresh messages. Every answer (text and structured content, errors included) and
every DEBUG log line, as the stderr formatter writes it, is searched for every secret.

The other side: once an ordinary word was sent as a password, hosts, names and user names that contain it (or
equal it, in fields that name their value) are shown as they are; after "password" the word is masked.
"""

from __future__ import annotations

import html
import json
import logging
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from mcp_types import CallToolResult

from databasin_mcp import redact
from databasin_mcp.harness.results import strings_of, text
from databasin_mcp.log import FORMAT
from databasin_mcp.redact import MaskingFormatter
from tests.conftest import API_TOKEN, ServerFactory

from .conftest import HARDENING
from .test_bad_input import serving

# --- secrets and the characters each shape lets a password hold ---------------------------------------------

ALNUM = string.ascii_letters + string.digits
# After "=" or ":" with no quotes: no space, quote, ; & , ) } ] (they end the value); "@", "/", ":" are fine.
BARE = ALNUM + "!#$*+-./:=@^_~%?<>|[{äé東ß"
QUOTED = BARE + " ;&,)}]'\"\\"  # inside a JSON string, encoded by json.dumps
LINE = BARE + " ;&,)}]'\""  # the rest of a header line
BRACED = BARE + " ;&,)]"  # ODBC {…}: anything but "}"
TOKEN68 = ALNUM + "-._~+/"
BASE64URL = ALNUM + "-_"


def secrets(alphabet: str, min_size: int = 4, max_size: int = 12) -> st.SearchStrategy[str]:
    """A fresh secret from `alphabet`, with digits woven in ("Connector" -> "QzC0o1n2n3e4c5t6o7r87"): it starts
    with a letter, holds a digit, and none of its pieces can be an ordinary word of an answer."""
    return st.text(alphabet, min_size=min_size, max_size=max_size).map(
        lambda core: "Qz" + "".join(f"{c}{i % 10}" for i, c in enumerate(core)) + "7"
    )


def pieces(secret: str) -> set[str]:
    """What counts as showing a secret: any 8 characters of it in a row (all of it when shorter)."""
    size = min(8, len(secret))
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


# --- secret field names in every spelling ----------------------------------------------------------------------

SECRET_NAMES = [
    ["password"],
    ["passwd"],
    ["pwd"],
    ["pass"],
    ["pw"],
    ["secret"],
    ["client", "secret"],
    ["api", "key"],
    ["api", "token"],
    ["access", "token"],
    ["refresh", "token"],
    ["private", "key"],
    ["ssh", "private", "key"],
    ["credentials"],
    ["auth", "token"],
    ["sas", "token"],
    ["set", "cookie"],
    ["authorization"],
    ["account", "key"],
    ["access", "key", "id"],
    ["sig"],
    ["passphrase"],
    ["jwt"],
    ["aws", "secret", "access", "key"],
    ["key"],
]
PREFIXES = [[], [], ["connector"], ["db"], ["my"], ["x"], ["source"]]


@st.composite
def spelt(draw: st.DrawFn, *, spaces: bool = True) -> str:
    """connectorpassword, CONNECTOR_PASSWORD, x-Api-Key, Ssh.Private.Key, dbPw2, ..."""
    words = [*draw(st.sampled_from(PREFIXES)), *draw(st.sampled_from(SECRET_NAMES))]
    style = draw(st.sampled_from(["lower", "upper", "title", "camel", "random"]))
    if style == "lower":
        words = [w.lower() for w in words]
    elif style == "upper":
        words = [w.upper() for w in words]
    elif style == "title":
        words = [w.title() for w in words]
    elif style == "camel":
        words = [words[0], *(w.title() for w in words[1:])]
    else:
        flips = draw(st.lists(st.booleans(), min_size=sum(map(len, words)), max_size=sum(map(len, words))))
        letters = iter(flips)
        words = ["".join(c.upper() if next(letters) else c for c in w) for w in words]
    separator = draw(st.sampled_from(["", "_", "-", ".", " "] if spaces else ["", "_", "-", "."]))
    return separator.join(words) + draw(st.sampled_from(["", "", "2"]))


# --- secrets inside strings, in every shape ------------------------------------------------------------------


@dataclass
class Planted:
    """The secrets of one example and where they went."""

    secrets: list[str] = field(default_factory=list)

    def keep(self, secret: str) -> str:
        self.secrets.append(secret)
        return secret


Shape = Callable[[st.DrawFn, Planted], str]


def _shape(alphabet: str, template: str) -> Shape:
    def build(draw: st.DrawFn, planted: Planted) -> str:
        return template.format(s=planted.keep(draw(secrets(alphabet))))

    return build


def _assigned(template: str, alphabet: str = BARE) -> Shape:
    def build(draw: st.DrawFn, planted: Planted) -> str:
        name = draw(spelt(spaces=False))
        return template.format(k=name, s=planted.keep(draw(secrets(alphabet))))

    return build


def _json_pair(draw: st.DrawFn, planted: Planted) -> str:
    return json.dumps({draw(spelt()): planted.keep(draw(secrets(QUOTED))), "user": "svc"})


def _json_in_json(draw: st.DrawFn, planted: Planted) -> str:
    return json.dumps(json.dumps({draw(spelt(spaces=False)): planted.keep(draw(secrets(BARE + " ;&,)}]")))}))


def _pem(draw: st.DrawFn, planted: Planted) -> str:
    material = planted.keep(draw(secrets(ALNUM + "+/", min_size=20, max_size=40)))
    kind = draw(st.sampled_from(["", "RSA ", "OPENSSH ", "ENCRYPTED "]))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{material}\n-----END {kind}PRIVATE KEY-----"


def _jwt(draw: st.DrawFn, planted: Planted) -> str:
    parts = [draw(st.text(BASE64URL, min_size=8, max_size=30)) for _ in range(3)]
    return "auth failed for " + planted.keep(f"eyJ{parts[0]}.eyJ{parts[1]}.{parts[2]}Qz7")


SHAPES: list[Shape] = [
    _shape(BARE, "postgresql://svc:{s}@db.example.com:5432/sales"),
    _shape(BARE, "mongodb+srv://app:{s}@cluster0.example.net/db?retryWrites=true"),
    _shape(BARE, "could not connect as svc:{s}@db:5432 (timeout)"),
    _shape(BARE, "jdbc:oracle:thin:scott/{s}@db:1521:ORCL"),
    _shape(BARE, "jdbc:oracle:thin:scott/{s}@//db.example.com:1521/ORCL"),
    _shape(BARE, "sqlplus -s scott/{s}@orcl @report.sql"),
    _shape(LINE, "Authorization: Bearer {s}"),
    _shape(LINE, "authorization: Basic {s}"),
    _shape(LINE, "Proxy-Authorization: {s}"),
    _shape(LINE, "Set-Cookie: SESSION={s}; Path=/; HttpOnly"),
    _shape(TOKEN68, "sent Bearer {s} upstream"),
    _shape(BARE, "[(b'X-Refresh-Token', b'{s}'), (b'Content-Type', b'application/json')]"),
    _shape(BARE.replace("&", ""), "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig={s}&se=2030"),
    _assigned("{k}={s}"),
    _assigned("{k}: {s}"),
    _assigned("{{'{k}': '{s}'}}"),
    _assigned("Driver={{ODBC Driver 18}};Server=h;UID=sa;{k}={{{s}}};Encrypt=yes", BRACED),
    _assigned("Server=h;User ID=sa;{k}={s};Encrypt=yes"),
    _json_pair,
    _json_in_json,
    _shape(BARE, "sshpass -p {s} ssh svc@bastion"),
    _shape(BARE, "mysql -h db -P 3306 -u root -p{s} sales"),
    _shape(BARE, "sqlcmd -S db -U sa -P {s} -Q x"),
    _shape(BARE, "redis-cli -h cache -a {s} ping"),
    _shape(BARE, "curl -u admin:{s} https://x.example.com"),
    _shape(BARE, "pg_dump --password {s} --host db"),
    _shape(BARE, "the password is {s}"),
    _shape(BARE, "aws_secret_access_key = {s}"),
    _pem,
    _jwt,
]


def shaped(planted: Planted) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        return draw(st.sampled_from(SHAPES))(draw, planted)

    return build()


def secret_values(planted: Planted) -> st.SearchStrategy[Any]:
    """What a secret field holds: a string, a list of them, an object of them."""
    one = secrets(QUOTED).map(planted.keep)
    return st.one_of(one, st.lists(one, min_size=1, max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), one))


ORDINARY_KEYS = ["notes", "lastError", "connectorHost", "jdbcUrl", "description", "connectionString"]


@st.composite
def fields_and_strings(draw: st.DrawFn, planted: Planted) -> dict[str, Any]:
    """Some secret fields and some ordinary fields holding shaped strings, nested now and then."""
    body: dict[str, Any] = {}
    for _ in range(draw(st.integers(1, 2))):
        body[draw(spelt())] = draw(secret_values(planted))
    for key in draw(st.lists(st.sampled_from(ORDINARY_KEYS), min_size=1, max_size=3, unique=True)):
        body[key] = draw(shaped(planted))
    if draw(st.booleans()):
        inner = {draw(spelt()): draw(secret_values(planted)), "note": draw(shaped(planted))}
        body["options"] = draw(st.sampled_from([inner, [inner], {"level": [inner]}]))
    return body


@dataclass
class Upstream:
    """One example's upstream: every body below carries planted secrets."""

    planted: Planted
    record: dict[str, Any]
    listed: dict[str, Any]
    table: dict[str, Any]
    error_status: int
    error_body: dict[str, Any]
    html_page: str
    test_body: dict[str, Any]
    refresh_body: dict[str, Any]


@st.composite
def upstreams(draw: st.DrawFn) -> Upstream:
    planted = Planted()
    base = {"connectorID": 7, "connectorName": "Planted", "connectorType": "RDBMS", "internalID": "proj-001"}
    message = shaped(planted)
    excerpt = draw(message)
    if draw(st.booleans()):
        excerpt = html.escape(excerpt)  # an error page escapes what it quotes
    return Upstream(
        planted=planted,
        record=base | draw(fields_and_strings(planted)),
        listed=base | draw(fields_and_strings(planted)),
        table={"tableName": "orders", "tableType": "TABLE"} | draw(fields_and_strings(planted)),
        error_status=draw(st.sampled_from([400, 404, 409, 422, 500])),
        error_body={draw(st.sampled_from(["message", "error", "detail"])): draw(message)},
        html_page=f"<html><body><h1>Bad Gateway</h1><pre>{excerpt}</pre><p>nginx</p></body></html>",
        test_body={
            "success": False,
            "message": draw(message),
            "error": draw(message),
            "details": draw(fields_and_strings(planted)),
        },
        refresh_body={"status": "completed", "message": draw(message)},
    )


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_connector", {"connector_id": 7, "fields": ["*"]}),
    ("list_connectors", {"project_id": "proj-001", "fields": ["*"]}),
    ("list_tables", {"connector_id": 7, "catalog": "sales", "schema": "public", "fields": ["*"]}),
    ("get_connector", {"connector_id": 66}),  # a JSON error
    ("get_connector", {"connector_id": 67}),  # an HTML error page
    ("test_connector", {"connector_id": 7, "details": True}),
    ("refresh_connector_metadata", {"connector_id": 7}),
]


class PlantedApi:
    """Serves the current example's upstream."""

    def __init__(self, router: respx.Router) -> None:
        self.upstream: Upstream | None = None
        router.route().mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        up = self.upstream
        assert up is not None
        path = request.url.path
        # Copies: the client scrubs bodies in place, and a 500 is asked for again.
        if path == "/api/connector/7":
            return httpx.Response(200, json=json.loads(json.dumps(up.record)))
        if path == "/api/connector":
            return httpx.Response(200, json=[json.loads(json.dumps(up.listed))])
        if path == "/api/connector/7/tables":
            return httpx.Response(200, json=[json.loads(json.dumps(up.table))])
        if path == "/api/connector/66":
            return httpx.Response(up.error_status, json=up.error_body)
        if path == "/api/connector/67":
            return httpx.Response(502, text=up.html_page, headers={"Content-Type": "text/html"})
        if path == "/api/connector/7/test":
            return httpx.Response(200, json=json.loads(json.dumps(up.test_body)))
        if path == "/api/connector/7/refresh":
            return httpx.Response(200, json=up.refresh_body)
        return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": path})


@pytest.fixture(autouse=True)
def forget_learnt_secrets() -> Iterator[None]:
    saved = redact.remembered_state()
    yield
    redact.restore_remembered_state(saved)


def test_no_planted_secret_reaches_an_answer_or_a_debug_log_line(
    make_server: ServerFactory, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    api = PlantedApi(router)
    caplog.set_level(logging.DEBUG)
    formatter = MaskingFormatter(FORMAT)
    with serving(lambda: make_server(cache_ttl=0)) as invoke:

        @HARDENING
        @given(upstream=upstreams())
        def property_holds(upstream: Upstream) -> None:
            api.upstream = upstream
            caplog.clear()
            shown: list[tuple[str, str]] = []
            for tool, arguments in CALLS:
                result = invoke(tool, arguments)
                assert "failed unexpectedly" not in text(result), text(result)
                shown.append((f"{tool}({arguments})", strings_of(result)))
            shown += [(f"log: {r.name}", formatter.format(r)) for r in caplog.records]
            for where, everything in shown:
                found = [s for s in [*upstream.planted.secrets, API_TOKEN] if any(p in everything for p in pieces(s))]
                assert not found, f"{where} shows (part of) {found!r}:\n{everything[:3000]}"

        property_holds()


# --- the other side: an ordinary-word password masks nothing but itself -----------------------------------------

WORDS = ["postgres", "admin", "sales", "orders", "warehouse", "prod", "data", "oracle", "mysql", "root", "master"]


@dataclass
class OrdinaryCase:
    word: str
    around: list[str]  # values that contain the word: hosts, user names, descriptions


@st.composite
def ordinary_cases(draw: st.DrawFn) -> OrdinaryCase:
    word = draw(st.one_of(st.sampled_from(WORDS), st.text(string.ascii_lowercase, min_size=4, max_size=11)))
    around = [
        f"{word}.internal",
        f"{word}-8.proj-001.example.com",
        f"svc_{word}_8",
        f"{word}{draw(st.sampled_from(['ql', '2', 'db']))}",
        f"{draw(st.sampled_from(['my', 'x', 'old']))}{word}",
        f"the {word} warehouse",
    ]
    return OrdinaryCase(word, around)


class CreatingApi:
    """A project with one neighbour connector, a create that answers with 9, and connector 9's test."""

    def __init__(self, router: respx.Router) -> None:
        self.case: OrdinaryCase | None = None
        router.route().mock(side_effect=self.answer)

    def neighbour(self) -> dict[str, Any]:
        assert self.case is not None
        host, elsewhere, user, longer, shorter, described = self.case.around
        return {
            "connectorID": 8,
            "connectorName": f"Warehouse {longer}",
            "connectorType": "RDBMS",
            "internalID": "proj-001",
            "institutionID": 1,
            "connectorHost": elsewhere,
            "connectorUsername": user,
            "connectorDatabaseName": self.case.word,  # equal to the password, in a field that names its value
            "description": described,
            "notes": f"{shorter} on {host}",
        }

    def answer(self, request: httpx.Request) -> httpx.Response:
        assert self.case is not None
        word, path = self.case.word, request.url.path
        if path == "/api/connector" and request.method == "GET":
            return httpx.Response(200, json=[self.neighbour()])
        if path == "/api/connector" and request.method == "POST":
            return httpx.Response(200, json={"connectorID": 9, "status": "success"})
        if path == "/api/connector/8":
            return httpx.Response(200, json=self.neighbour())
        if path == "/api/connector/9/test":
            message = f'login failed for user "{word}" (password {word}) on {word}.internal'
            return httpx.Response(200, json={"success": False, "message": message})
        return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": path})


def test_an_ordinary_word_password_never_masks_values_that_contain_it(
    make_server: ServerFactory, router: respx.Router
) -> None:
    api = CreatingApi(router)
    created = iter(range(10**6))
    with serving(lambda: make_server(cache_ttl=0)) as invoke:

        @HARDENING
        @given(case=ordinary_cases())
        def property_holds(case: OrdinaryCase) -> None:
            api.case = case
            word = case.word
            arguments = {"name": f"PG {next(created)}", "connector_type": "RDBMS", "institution_id": 1}
            arguments |= {"project_id": "proj-001", "username": word, "password": word, "database": word}
            arguments |= {"host": case.around[0]}
            made: CallToolResult = invoke("create_connector", arguments)
            assert not made.is_error, text(made)
            neighbour = text(invoke("get_connector", {"connector_id": 8, "fields": ["*"]}))
            for value in case.around:
                assert value in neighbour, (value, neighbour)
            assert f"connectorDatabaseName: {word}\n" in neighbour
            tested = text(invoke("test_connector", {"connector_id": 9}))
            assert f'login failed for user "{word}" (password ***) on {word}.internal' in tested, tested

        property_holds()
