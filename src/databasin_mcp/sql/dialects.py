"""Which SQL a connector speaks: its sqlglot dialect, decided from what the connector record says.

The rules, in order (the first that names a product decides):
1. connectorSubType, where the backend sends one (the real backend names the product there:
   "postgres", "mysql", "snowflake"; its connectorType is then a category such as "database");
2. connectorType, when it names a product (the reference's "Snowflake", "BigQuery", "Redshift");
3. for a generic relational type (RDBMS, database, JDBC): the product in the host name
   (".snowflakecomputing.com", ".database.windows.net", "mysql-01.example.com"), then in the
   connector's name ("Billing MySQL Replica"), then the product's well-known port (5432, 3306,
   1433, 1521, 5439).
A type that holds no SQL (S3, SFTP, Salesforce, REST, MongoDB, files, apps) says so; a relational
connector whose product none of these name is refused rather than guessed: a statement checked in
the wrong dialect can mean something else to the database (a MySQL backslash ends no string in
standard SQL), so the check would not hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words a record uses for a product -> the sqlglot dialect that parses and writes its SQL.
_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("postgresql", "postgres"),
    ("postgres", "postgres"),
    ("pgsql", "postgres"),
    ("alloydb", "postgres"),
    ("cockroach", "postgres"),
    ("greenplum", "postgres"),
    ("redshift", "redshift"),
    ("mariadb", "mysql"),
    ("mysql", "mysql"),
    ("sql server", "tsql"),
    ("sqlserver", "tsql"),
    ("mssql", "tsql"),
    ("azure sql", "tsql"),
    ("azuresql", "tsql"),
    ("synapse", "tsql"),
    ("tsql", "tsql"),
    ("oracle", "oracle"),
    ("snowflake", "snowflake"),
    ("bigquery", "bigquery"),
    ("databricks", "databricks"),
    ("lakehouse", "databricks"),
    ("delta lake", "databricks"),
    ("spark", "spark"),
    ("hive", "hive"),
    ("trino", "trino"),
    ("starburst", "trino"),
    ("presto", "presto"),
    ("athena", "athena"),
    ("duckdb", "duckdb"),
    ("sqlite", "sqlite"),
    ("clickhouse", "clickhouse"),
    ("teradata", "teradata"),
)
# Host name endings that name the product whatever the connector is called.
_HOSTS: tuple[tuple[str, str], ...] = (
    (".snowflakecomputing.com", "snowflake"),
    (".redshift.amazonaws.com", "redshift"),
    (".redshift-serverless.amazonaws.com", "redshift"),
    (".database.windows.net", "tsql"),
    (".sql.azuresynapse.net", "tsql"),
    (".azuredatabricks.net", "databricks"),
    (".cloud.databricks.com", "databricks"),
    ("bigquery.googleapis.com", "bigquery"),
)
_PORTS = {"5432": "postgres", "3306": "mysql", "1433": "tsql", "1521": "oracle", "5439": "redshift"}
# Types that hold no SQL to run: object stores, file drops, SaaS apps, document stores.
_NOT_SQL = (
    "s3", "sftp", "ftp", "salesforce", "rest", "api", "mongodb", "mongo", "file", "csv", "excel", "app",
    "gcs", "blob", "adls", "kafka", "hubspot", "sharepoint",
)  # fmt: skip
_GENERIC = ("rdbms", "database", "jdbc", "odbc", "sql", "relational", "warehouse", "")
# The dialects whose statements are screened before anything is sent (statements.screen).
KNOWN_DIALECTS = tuple(dict.fromkeys(dialect for _, dialect in _PRODUCTS))


@dataclass(frozen=True)
class SqlDialect:
    """The dialect a connector speaks, and what said so (for the answer's title and for errors)."""

    name: str  # a sqlglot dialect: "postgres", "tsql", ...
    because: str  # 'connectorSubType "postgres"', 'port 3306'


@dataclass(frozen=True)
class NoSql:
    """Why no SQL can be run on this connector (its type holds none, or its product is not named)."""

    reason: str


def dialect_of(
    *,
    connector_type: str | None,
    subtype: str | None = None,
    name: str | None = None,
    host: str | None = None,
    port: str | None = None,
) -> SqlDialect | NoSql:
    """The connector's SQL dialect by the rules of this module, or why there is none."""
    for field, value in (("connectorSubType", subtype), ("connectorType", connector_type)):
        if (found := _product(value)) is not None:
            return SqlDialect(found, f'{field} "{value}"')
    kind = (subtype or connector_type or "").strip()
    if _is_one_of(kind, _NOT_SQL):
        return NoSql(f"its type, {kind}, holds no SQL tables")
    for where, value in (("host", host), ("name", name)):
        if (found := _product(value) if where == "name" else _by_host(value)) is not None:
            return SqlDialect(found, f"its {where}")
    if port is not None and (found := _PORTS.get(str(port).strip())) is not None:
        return SqlDialect(found, f"port {str(port).strip()}")
    generic = "does not say which database it is" if _is_one_of(kind, _GENERIC) else "is not one whose SQL is known"
    return NoSql(f"its type {kind or '(none)'} {generic}, and its name, host and port do not name one either")


def _words(value: str) -> str:
    # "SQL_Server-2019" -> " sql server 2019 ": products are matched as whole words.
    return " " + re.sub(r"[^a-z0-9]+", " ", value.casefold()) + " "


def _product(value: str | None) -> str | None:
    if not value:
        return None
    words = _words(value)
    squeezed = words.replace(" ", "")
    for word, dialect in _PRODUCTS:
        if f" {word} " in words or (" " in word and word.replace(" ", "") in squeezed):
            return dialect
        if words.strip() == word.replace(" ", ""):
            return dialect
    return None


def _by_host(host: str | None) -> str | None:
    if not host:
        return None
    lowered = host.strip().casefold()
    for ending, dialect in _HOSTS:
        if lowered.endswith(ending):
            return dialect
    # A host label naming the product: "mysql-01.db.example.com", "pg.orders.internal".
    labels = re.split(r"[.\-_0-9]+", lowered)
    for label in labels:
        found = _product(label) or {"pg": "postgres", "mssql": "tsql"}.get(label)
        if found is not None:
            return found
    return None


def _is_one_of(kind: str, words: tuple[str, ...]) -> bool:
    folded = _words(kind)
    return any(f" {word} " in folded for word in words)
