"""Every tool parameter, declared once: its type, bounds and description, and how a person types it.

The operations' signatures are written with these aliases. From those signatures the MCP tools get
their input schemas and validation (server.py) and the `databasin` commands their arguments and
options (cli/derive.py), so a bound or a description is never written twice.

Bounds the model gains nothing from reading (maximum lengths, the largest ID) are validated but kept
out of the schema (`AtMost`); the schema is sent to the model on every turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

ALL_FIELDS = "*"
# Java's long: the largest ID a backend can hold; anything larger is not an ID.
MAX_ID = 2**63 - 1
FIND_LIMIT_MAX = 50  # find_connectors takes no offset: past this, the query has to narrow


@dataclass(frozen=True)
class Cli:
    """How the `databasin` command line takes an argument (the default: `--name-with-dashes VALUE`)."""

    flag: str | None = None
    metavar: str | None = None
    help: str = ""
    positional: bool = False  # an argument (CONNECTOR_ID), not an option
    words: bool = False  # positional, any number of words joined by spaces (a search query)
    off_flag: str | None = None  # for a yes/no/either filter: the flag that says no ("--inactive")


@dataclass(frozen=True)
class Secret:
    """A value an agent must not hold (a password): it would sit in the model's context, the client's
    transcript and the model provider's logs. The MCP tools leave such a parameter out of their schemas
    (unless --allow-secret-arguments) and take `ask_password`/`password_ref` instead: the person types
    the value on a page of ours (credentials/). The command line reads it from stdin or a hidden prompt."""


@dataclass(frozen=True)
class PersonConfirms:
    """A yes/no that only the person should say (confirm a delete). Where the client can ask the person
    (form elicitation), the person is asked instead and the agent's value does not decide."""


@dataclass(frozen=True)
class AtMost:
    """A bound validated but kept out of the schema (the command line still enforces it)."""

    limit: int

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("must not be empty")
            if len(value) > self.limit:
                raise ValueError(f"must be at most {self.limit:,} characters")
        elif value is not None and value > self.limit:
            raise ValueError(f"must be at most {self.limit:,}")
        return value


def _not_a_flag(value: Any) -> Any:
    # Lax validation reads true as 1: connector_id=true would name connector 1, limit=true one row.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _json_boolean(value: Any) -> Any:
    # Lax validation reads "yes", "true", 1 and 1.0 as true: a yes/no argument is the JSON boolean only
    # (confirm=1 must not delete, allow_duplicate="no" must not duplicate).
    if value is not None and not isinstance(value, bool):
        raise ValueError("must be true or false (a JSON boolean, not text or a number)")
    return value


def _field_names(names: list[str] | None) -> list[str] | None:
    if names is not None and len(names) > 64:
        raise ValueError("at most 64 field names")
    for name in names or ():
        if name != ALL_FIELDS and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
            raise ValueError(f'{name!r} is not a field name; use API names like "connectorHost", or "*"')
    return names


def _reference(value: str | None) -> str | None:
    # Checked, not in the schema (the model copies it from an answer): a ref is what secrets.token_urlsafe makes.
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", value):
        raise ValueError("is not a reference an answer gave; copy the password_ref it named")
    return value


def _column_names(names: list[str] | None) -> list[str] | None:
    if names is not None and len(names) > 500:
        raise ValueError("at most 500 column names")
    for name in names or ():
        if not name.strip() or len(name) > 300:
            raise ValueError("a column name must be 1 to 300 characters, as the table names it")
    return names or None


Number = BeforeValidator(_not_a_flag)
JsonBoolean = BeforeValidator(_json_boolean)


def _bounded(limit: int) -> AfterValidator:
    return AfterValidator(AtMost(limit))


# --- what a call is about ---------------------------------------------------------------------------------

ConnectorId = Annotated[
    int, Field(ge=1), _bounded(MAX_ID), Number, Cli(positional=True, metavar="CONNECTOR_ID", help="The connector.")
]
ProjectId = Annotated[
    str | None,
    Field(description="internalID, e.g. proj-001"),
    _bounded(128),
    Cli(flag="--project", metavar="PROJECT_ID", help="Project ID (internalID); default: DATABASIN_PROJECT."),
]
InstitutionFilter = Annotated[
    int | None, Field(ge=0), _bounded(MAX_ID), Number, Cli(flag="--institution", help="Only this institution's.")
]
# A create's institution and owner: looked up from the project and the account where left out (ops/ownership.py).
InstitutionId = Annotated[
    int | None, Field(ge=0, description="default: the project's"), _bounded(MAX_ID), Number, Cli(flag="--institution")
]
OwnerId = Annotated[int | None, Field(ge=0), _bounded(MAX_ID), Number, Cli(flag="--owner")]
Query = Annotated[str, _bounded(200), Cli(words=True, metavar="WORDS")]

# --- listings: filters, fields, pages ---------------------------------------------------------------------

NameContains = Annotated[
    str | None, _bounded(200), Cli(metavar="TEXT", help="Only names containing TEXT (any case or accents).")
]
ConnectorTypeFilter = Annotated[
    str | None, _bounded(200), Cli(flag="--type", metavar="TYPE", help="Only this connector type, e.g. RDBMS.")
]
ActiveFilter = Annotated[
    bool | None, JsonBoolean, Cli(flag="--active", off_flag="--inactive", help="Only active, or only inactive.")
]
Fields = Annotated[
    list[str] | None,
    Field(description='API field names; ["*"] = all'),
    AfterValidator(_field_names),
    Cli(metavar="NAME,...", help=f'API field names to show, comma-separated; "{ALL_FIELDS}" for all.'),
]
Offset = Annotated[int, Field(ge=0), _bounded(10**9), Number, Cli(help="Rows to skip (the title says the next).")]
ConnectorLimit = Annotated[int, Field(ge=1, le=200), Number, Cli(help="Rows per page.")]
FindLimit = Annotated[int, Field(ge=1, le=FIND_LIMIT_MAX), Number, Cli(help="How many matches to show.")]
MetadataLimit = Annotated[int, Field(ge=1, le=500), Number, Cli(help="Rows per page.")]
ColumnLimit = Annotated[int, Field(ge=1, le=1000), Number, Cli(help="Rows per page.")]

# --- metadata names ---------------------------------------------------------------------------------------

CatalogName = Annotated[str | None, _bounded(200), Cli(help="The catalog (database); default: the API's.")]
SchemaName = Annotated[str | None, _bounded(200), Cli(help="The schema; default: the API's.")]
TableName = Annotated[str, _bounded(200), Cli(flag="--table", help="The table.")]

# --- data: rows of a table, the result of a query ---------------------------------------------------------

ColumnNames = Annotated[
    list[str] | None,
    AfterValidator(_column_names),
    Cli(metavar="NAME,...", help="Columns to show, comma-separated, as the table names them; default: all."),
]
RowLimit = Annotated[int, Field(ge=1, le=100), Number, Cli(help="Rows at most.")]
# The statement's own length bound (sql/statements.py MAX_SQL_CHARS) is checked where it is parsed.
SqlText = Annotated[str, _bounded(20_000), Cli(words=True, metavar="SQL")]

# --- a connector's settings -------------------------------------------------------------------------------

ConnectorName = Annotated[str, _bounded(200), Cli(help="The connector's name.")]
NewName = Annotated[str | None, _bounded(200), Cli(help="New connector name.")]
ConnectorType = Annotated[str, _bounded(200), Cli(flag="--type", help="The connector type, e.g. RDBMS.")]
Host = Annotated[str | None, _bounded(500), Cli()]
Port = Annotated[int | None, Field(ge=1, le=65535), Number, Cli()]
Database = Annotated[str | None, _bounded(500), Cli(help="Database name.")]
Username = Annotated[str | None, _bounded(500), Cli()]
# Never a command-line argument (the CLI reads stdin), and in no tool schema unless --allow-secret-arguments.
Password = Annotated[str | None, _bounded(1000), Secret()]
# What the MCP tools take instead of a password (server.py puts them where `password` was).
AskPassword = Annotated[
    bool, JsonBoolean, Field(description="have the person type the password on our page (never ask in chat)")
]
PasswordRef = Annotated[str | None, AfterValidator(_reference)]
AuthType = Annotated[int | None, Field(ge=0), _bounded(1_000_000), Number, Cli(help="connectorAuthType.")]
MaxConnections = Annotated[int | None, Field(ge=1), _bounded(1000), Number, Cli()]
SetActive = Annotated[
    bool | None, JsonBoolean, Cli(flag="--active", off_flag="--inactive", help="Activate or deactivate it.")
]

# --- yes/no switches --------------------------------------------------------------------------------------

Confirm = Annotated[bool, JsonBoolean, PersonConfirms()]
TestToo = Annotated[bool, JsonBoolean, Cli(flag="--test", help="Test the new connector's connection too.")]
AllowDuplicate = Annotated[bool, JsonBoolean, Cli(help="Create it even if the project has one of that name.")]
Details = Annotated[bool, JsonBoolean, Cli(help="Show everything the API says about the test.")]
