"""Secret detection and masking: by field name, by value shape, by remembered value."""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Iterator

import pytest

from databasin_mcp import redact
from databasin_mcp.redact import (
    MaskingFormatter,
    is_distinctive,
    is_secret_field,
    mask_text,
    remember_secret,
    remembered_secrets,
    scrub,
)


@pytest.fixture(autouse=True)
def forget_learnt_secrets() -> Iterator[None]:
    saved = redact.remembered_state()
    yield
    redact.restore_remembered_state(saved)


# --- field names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        # camelCase and snake_case, as before
        "connectorPassword",
        "password",
        "api_key",
        "apiKey",
        "clientSecret",
        "accessToken",
        "sshKey",
        "privateKey",
        "connectorCredentials",
        "AWSSecretAccessKey",
        "key",
        "refresh_token",
        "passphrase",
        # issue 12 #2: case and separators folded
        "connectorpassword",
        "CONNECTORPASSWORD",
        "dbpassword",
        "apitoken",
        "sshprivatekey",
        "SSHPRIVATEKEY",
        "sshPrivateKey",
        "db_pass",
        "DB-PASSWORD",
        "x.api.token",
        "client_secret",
        "sasToken",
        "ＤＢ＿ＰＡＳＳＷＯＲＤ",  # full-width letters fold to ASCII
        "pass\u200bword",  # a zero-width space in the middle
        "password2",
        # short words, whole or at the end
        "pass",
        "PASS",
        "userPass",
        "pass_hash",
        "pw",
        "sshpw",
        "PWD",
        "sig",
        "basicAuth",
        # header names
        "Authorization",
        "Proxy-Authorization",
        "Set-Cookie",
        "x-api-key",
        "X-Refresh-Token",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
        "Ocp-Apim-Subscription-Key",
        "x-functions-key",
        # keys of other kinds that open something (accessKeyId: half of a credential pair)
        "aws_secret_access_key",
        "accessKeyId",
        "AccountKey",
        "SharedAccessSignature",
        "encryptionKeyId",
        "vendorKey",
        "kerberosKeytab",
        "tokenizerPassword",  # an ordinary word never hides the secret word after it
        "jwt",
    ],
)
def test_secret_field_names(name: str) -> None:
    assert is_secret_field(name)


SECRET_WORDS = [
    ["password"],
    ["passwd"],
    ["pwd"],
    ["pass"],
    ["pw"],
    ["sig"],
    ["key"],
    ["secret"],
    ["client", "secret"],
    ["api", "key"],
    ["api", "token"],
    ["refresh", "token"],
    ["ssh", "private", "key"],
    ["credentials"],
    ["set", "cookie"],
    ["authorization"],
    ["access", "key", "id"],
    ["passphrase"],
    ["jwt"],
]


def test_secret_field_names_in_every_spelling() -> None:
    """Every prefix x word x separator x case x digit: connectorsig, DB.PW2, my-Api-Token, XSETCOOKIE..."""
    missed = []
    for prefix, words in itertools.product([[], ["connector"], ["db"], ["my"], ["x"], ["source"]], SECRET_WORDS):
        for separator, case, digit in itertools.product(
            ["", "_", "-", ".", " "], ["lower", "upper", "camel"], ["", "2"]
        ):
            spelt = [*prefix, *words]
            if case == "lower":
                spelt = [w.lower() for w in spelt]
            elif case == "upper":
                spelt = [w.upper() for w in spelt]
            else:
                spelt = [spelt[0], *(w.title() for w in spelt[1:])]
            name = separator.join(spelt) + digit
            if not is_secret_field(name):
                missed.append(name)
    assert missed == []


@pytest.mark.parametrize(
    "name",
    [
        "connectorName",
        "isPrimaryKey",
        "primaryKey",
        "sortKey",
        "partitionKey",
        "foreignKey",
        "isKey",
        "keyspace",
        "keyName",
        "publicKey",
        "hostKey",
        "connectorAuthType",
        "authorName",
        "tableCount",
        "ownerID",
        "jdbcUrl",
        "description",
        "tokenizer",
        "tokenization",
        "tokenCount",
        "maxTokens",
        "tokenType",
        "bypassCache",
        "passive",
        "passengerCount",
        "compass",
        "passthrough",
        "testsPassed",
        "signal",
        "design",
        "config",
        "assignee",
    ],
)
def test_ordinary_field_names(name: str) -> None:
    assert not is_secret_field(name)


# --- shapes ----------------------------------------------------------------------------------------------

PW = "Tig3rPw1"  # ordinary enough that only its position can give it away


@pytest.mark.parametrize(
    ("leaky", "masked"),
    [
        ("postgresql://bob:hunter2@db:5432/x", "postgresql://bob:***@db:5432/x"),
        (f"mongodb+srv://app:{PW}@cluster0.example.net/db", "mongodb+srv://app:***@cluster0.example.net/db"),
        (f"redis://:{PW}@cache:6379/0", "redis://:***@cache:6379/0"),
        # userinfo without a scheme; a password with "@" and "/" in it runs to the last "@"
        (f"could not connect as svc:{PW}@db:5432", "could not connect as svc:***@db:5432"),
        ("login svc:p@ss/w0rd@db.example.com failed", "login svc:***@db.example.com failed"),
        # Oracle: JDBC thin in both forms, and sqlplus
        (f"jdbc:oracle:thin:scott/{PW}@db:1521:ORCL", "jdbc:oracle:thin:scott/***@db:1521:ORCL"),
        (
            f"jdbc:oracle:thin:scott/{PW}@//db.example.com:1521/ORCL",
            "jdbc:oracle:thin:scott/***@//db.example.com:1521/ORCL",
        ),
        (f"sqlplus -s scott/{PW}@orcl @report.sql", "sqlplus -s scott/***@orcl @report.sql"),
        # headers, in the shapes texts, JSON and Python reprs give them
        (f"Authorization: Bearer {PW} (expired)", "Authorization: ***"),
        (f"Authorization: Basic {PW}", "Authorization: ***"),
        (f'{{"Authorization": "Bearer {PW}", "x": 1}}', '{"Authorization": ***, "x": 1}'),
        (f"Set-Cookie: SESSION={PW}; Path=/; HttpOnly", "Set-Cookie: ***"),
        (f"X-Api-Key: {PW}", "X-Api-Key: ***"),
        (
            f"[(b'Set-Cookie', b'SESSION={PW}; Path=/'), (b'X-Refresh-Token', b'{PW}'), (b'Content-Length', b'12')]",
            "[(b'Set-Cookie', b'***'), (b'X-Refresh-Token', b'***'), (b'Content-Length', b'12')]",
        ),
        (f"{{'x-auth-token': '{PW}', 'accept': '*/*'}}", "{'x-auth-token': ***, 'accept': '*/*'}"),
        (f"sent Bearer {PW}", "sent Bearer ***"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok", "*** ok"),
        # key=value and "key": "value" with keys of every spelling
        (
            f"https://a.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig={PW}%3D&se=2030",
            "https://a.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=***&se=2030",
        ),
        (f'{{"pass":"{PW}"}}', '{"pass":***}'),
        (f'{{\\"pass\\": \\"{PW}\\", \\"user\\": \\"svc\\"}}', '{\\"pass\\": ***, \\"user\\": \\"svc\\"}'),
        (f"pw={PW}", "pw=***"),
        (f"db_password: {PW}; user=sa", "db_password: ***; user=sa"),
        (
            f"Driver={{ODBC Driver 18}};Server=h;user=sa;password={PW};",
            "Driver={ODBC Driver 18};Server=h;user=sa;password=***;",
        ),
        (f"Server=h;UID=sa;PWD={{{PW};x}};Encrypt=yes", "Server=h;UID=sa;PWD=***;Encrypt=yes"),
        (f"aws_secret_access_key = {PW}", "aws_secret_access_key = ***"),
        (f"AccountName=a;AccountKey={PW}==;EndpointSuffix=x", "AccountName=a;AccountKey=***;EndpointSuffix=x"),
        (f"redirect=%2Fx%3Fpassword%3D{PW}", "redirect=%2Fx%3Fpassword%3D***"),
        (
            f"<p>{{&quot;pass&quot;:&quot;{PW}&quot;, &quot;user&quot;:&quot;svc&quot;}}</p>",
            "<p>{&quot;pass&quot;:***, &quot;user&quot;:&quot;svc&quot;}</p>",
        ),
        (f"{{&#x27;apiKey&#x27;: &#x27;{PW}&#x27;}}", "{&#x27;apiKey&#x27;: ***}"),
        # command lines
        (f"sshpass -p {PW} ssh svc@bastion", "sshpass -p *** ssh svc@bastion"),
        (f"sshpass -p'{PW}' ssh svc@bastion", "sshpass -p*** ssh svc@bastion"),
        (f"mysql -h db -P 3306 -u root -p{PW} sales", "mysql -h db -P 3306 -u root -p*** sales"),
        (f"sqlcmd -S h -U sa -P {PW} -Q x", "sqlcmd -S h -U sa -P *** -Q x"),
        (f"redis-cli -h h -a {PW} ping", "redis-cli -h h -a *** ping"),
        (f"curl -u admin:{PW} https://x", "curl -u admin:*** https://x"),
        (f"pg_dump --password {PW} --host h", "pg_dump --password *** --host h"),
        # stated in prose
        ("password is hunter2!", "password is ***"),
        ("using password 'wrong'", "using password ***"),
        # PEM keys, whole or cut short
        ("k=-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY----- ok", "k=*** ok"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQO", "***"),
    ],
)
def test_masking_by_shape(leaky: str, masked: str) -> None:
    assert mask_text(leaky) == masked


@pytest.mark.parametrize(
    "ordinary",
    [
        "Connector with ID 999 not found",
        "https://h:8080/users/a@b.example",
        "The Databasin API at http://127.0.0.1:46077 did not answer in time.",
        "mailto:bob@example.com",
        "Contact: bob@example.com, at 10:30",
        "jdbc:oracle:thin:@//db.example.com:1521/ORCL",
        "jdbc:postgresql://db.example.com:5432/sales?ssl=true",
        "tokenCount: 5, maxTokens: 7, schema: public",
        "sortKey: region, isPrimaryKey: true, keyspace: ks",
        'Key (id)=(5) already exists; duplicate key value violates unique constraint "orders_pkey"',
        "Basic authentication failed",
        "Bearer token required",
        "mysql -h db -P 3306 -u root -p sales",
        "postgres-8.proj-001.example.com",
        "svc_postgres_8",
        "passengers, bypass_log, compass_heading, signal_strength",
    ],
)
def test_ordinary_text_is_left_alone(ordinary: str) -> None:
    assert mask_text(ordinary) == ordinary


# --- remembered values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "distinctive"),
    [
        ("tok-abcdef123456", True),  # the test token: 16, three kinds
        ("Cr3ate-pass!", True),  # 12, four kinds
        ("0123456789abcdef0123456789abcdef", True),  # hex
        ("correcthorsebatterystaple", True),  # 24+ of anything
        ("postgres", False),
        ("hunter2", False),
        ("Tig3rPw1", False),  # mixed but short
        ("administrator", False),  # a 13-letter word
        ("postgres_admin", False),  # 14, two kinds
    ],
)
def test_which_secrets_are_distinctive(secret: str, distinctive: bool) -> None:
    assert is_distinctive(secret) is distinctive


def test_a_distinctive_secret_is_masked_anywhere() -> None:
    text = "host tok-abcdef123456.internal, echo xtok-abcdef123456x"
    assert mask_text(text, ["tok-abcdef123456"]) == "host ***.internal, echo x***x"


def test_an_ordinary_secret_is_masked_only_where_it_stands_as_a_credential() -> None:
    known = ["postgres"]
    assert mask_text("postgres", known) == "***"  # a whole value
    assert mask_text(" postgres ", known) == "***"
    assert mask_text("password: 'postgres'", known) == "password: ***"
    assert (
        mask_text('failed for user "postgres" (password postgres)', known)
        == 'failed for user "postgres" (password ***)'
    )
    assert (
        mask_text("the password is postgres, the user is postgres", known)
        == "the password is ***, the user is postgres"
    )
    assert mask_text("token=postgres", known) == "token=***"
    assert mask_text("postgres://postgres:postgres@postgres.internal/postgres", known) == (
        "postgres://postgres:***@postgres.internal/postgres"
    )
    for ordinary in ("postgres.internal", "postgres-8.proj-001.example.com", "svc_postgres_8", "user postgres"):
        assert mask_text(ordinary, known) == ordinary
    # In a word that only contains it after a credential word: not the secret either.
    assert mask_text("password postgresql", known) == "password postgresql"


def test_scrub_keeps_an_ordinary_secret_in_fields_that_name_their_value() -> None:
    record = {
        "connectorUsername": "postgres",
        "connectorDatabaseName": "postgres",
        "connectorHost": "postgres.internal",
        "connectorName": "postgres",
        "note": "postgres",  # a field that does not say what it holds: the whole value is masked
        "options": ["postgres", {"value": "postgres"}],
        "lastError": "password authentication failed: password postgres",
    }
    assert scrub(record, ["postgres"]) == {
        "connectorUsername": "postgres",
        "connectorDatabaseName": "postgres",
        "connectorHost": "postgres.internal",
        "connectorName": "postgres",
        "note": "***",
        "options": ["***", {"value": "***"}],
        "lastError": "password authentication failed: password ***",
    }


def test_a_remembered_ordinary_password_never_masks_substrings() -> None:
    remember_secret("postgres")
    neighbour = {"connectorHost": "postgres-8.proj-001.example.com", "connectorUsername": "svc_postgres_8"}
    assert scrub(dict(neighbour), remembered_secrets()) == neighbour


# --- scrub -------------------------------------------------------------------------------------------------


def test_scrub_drops_secret_fields_at_any_depth() -> None:
    body = [{"name": "m", "connectorPassword": "x", "nested": {"api_key": "k", "url": "https://u:p@h/x"}}]
    assert scrub(body) == [{"name": "m", "nested": {"url": "https://u:***@h/x"}}]


def test_scrub_drops_secret_fields_in_any_spelling_and_remembers_what_they_held() -> None:
    body = {
        "CONNECTORPASSWORD": "Leaked-Pw-0001",
        "db_pass": ["Leaked-Pw-0002", {"x": "Leaked-Pw-0003"}],
        "pw": "Leaked-Pw-0004",
        "seen": "again: Leaked-Pw-0001, Leaked-Pw-0003",
    }
    assert scrub(body) == {"seen": "again: ***, ***"}
    assert {"Leaked-Pw-0001", "Leaked-Pw-0002", "Leaked-Pw-0003", "Leaked-Pw-0004"} <= remembered_secrets()


def test_scrub_masks_the_value_of_a_name_value_pair_that_names_a_secret() -> None:
    body = {
        "properties": [
            {"name": "password", "value": "Tig3rPw1"},
            {"key": "X-Api-Key", "value": "k-123"},
            {"name": "host", "value": "db.example.com"},
            {"key": "Tig3rPw2"},  # a bare "key" is a secret itself
        ]
    }
    assert scrub(body) == {
        "properties": [
            {"name": "password", "value": "***"},
            {"key": "X-Api-Key", "value": "***"},
            {"name": "host", "value": "db.example.com"},
            {},
        ]
    }


def test_a_record_never_shows_its_own_ordinary_secret_elsewhere() -> None:
    record = {"pw": "Tig3rPw1", "jdbcUrl": "jdbc:oracle:thin:scott/Tig3rPw1@db:1521:X", "note": "password Tig3rPw1"}
    assert scrub(record) == {"jdbcUrl": "jdbc:oracle:thin:scott/***@db:1521:X", "note": "password ***"}


def test_leaked_secrets_are_remembered_up_to_a_bound_and_given_ones_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact.remembered._Registry, "LEAKED_LIMIT", 3)
    redact.restore_remembered_state(({}, {}))
    remember_secret("given-secret-1")
    for index in range(5):
        scrub({"password": f"leaked-secret-{index}"})
    remembered = remembered_secrets()
    assert "given-secret-1" in remembered
    assert {f"leaked-secret-{index}" for index in range(5)} & remembered == {
        "leaked-secret-2",
        "leaked-secret-3",
        "leaked-secret-4",
    }


# --- the log formatter ---------------------------------------------------------------------------------


def test_masking_formatter_masks_messages_arguments_and_tracebacks() -> None:
    formatter = MaskingFormatter("%(message)s", secrets=["tok-abcdef123456"])
    try:
        raise RuntimeError("failed with tok-abcdef123456")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "sent %s to %s", ("tok-abcdef123456", "https://a:b@h"), sys.exc_info()
        )
    formatted = formatter.format(record)
    assert "tok-abcdef123456" not in formatted
    assert "sent *** to https://a:***@h" in formatted
    assert "failed with ***" in formatted


def test_masking_formatter_masks_remembered_secrets_and_header_dumps() -> None:
    remember_secret("Remembered-0123")
    formatter = MaskingFormatter("%(message)s")
    record = logging.LogRecord(
        "httpcore.http11",
        logging.DEBUG,
        __file__,
        1,
        "receive_response_headers.complete return_value=%r",
        ((b"HTTP/1.1", 200, b"OK", [(b"Set-Cookie", b"S=abc123; Path=/"), (b"X-Note", b"Remembered-0123")]),),
        None,
    )
    assert formatter.format(record) == (
        "receive_response_headers.complete return_value="
        "(b'HTTP/1.1', 200, b'OK', [(b'Set-Cookie', b'***'), (b'X-Note', b'***')])"
    )


def test_a_record_masks_its_own_leaked_secrets_and_the_known_ones_together() -> None:
    record = {
        "apiToken": "Leaked-Token-0001",
        "notes": "sent tok-abcdef123456, got Leaked-Token-0001; password Tig3rPw1",
        "pw": "Tig3rPw1",
    }
    assert scrub(record, ["tok-abcdef123456"]) == {"notes": "sent ***, got ***; password ***"}
