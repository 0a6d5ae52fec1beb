"""POST /api/connector/{id}/query: real SQL over sample rows, as the vendor's backend answers it.

Body ``{"sql": "..."}``; answer ``{success, sql, columns: [names], rows: [{column: value}], rowCount,
executionTime, timestamp}``, and ``success: false`` with ``error`` for a statement the database
refuses. The statement is parsed in the connector's own dialect (sqlglot), every table it names is
looked up in the connector's metadata tree and loaded with sample rows (samples.py), the tree is
translated to SQLite and run there, read-only, within a time budget.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ApiError
from .handlers import EndpointBase
from .metadata import MetadataNotFound
from .samples import SAMPLE_ROWS, SampleDatabase
from .seed import WRONG_PASSWORD, ConnectorRecord
from .validation import parse_json_object

_BY_TYPE = {"Snowflake": "snowflake", "BigQuery": "bigquery", "Redshift": "redshift", "Databricks": "databricks"}
_BY_PORT = {"3306": "mysql", "5432": "postgres", "1433": "tsql", "1521": "oracle"}
_BY_SUBTYPE = {"postgres": "postgres", "mysql": "mysql", "sqlserver": "tsql", "mssql": "tsql", "oracle": "oracle"}
# (present.subtype names the same products for the real dialect's connectorSubType.)
QUERY_SECONDS = 5.0  # a statement running longer is interrupted, like a warehouse's statement timeout
MAX_ROWS = 1000


def technology(record: ConnectorRecord) -> str | None:
    """The sandbox connector's SQL dialect (its product, as the backend knows it), None for one without SQL."""
    ctype = str(record.get("connectorType") or "")
    if ctype in _BY_TYPE:
        return _BY_TYPE[ctype]
    if ctype != "RDBMS":
        return None
    subtype = str(record.get("connectorSubType") or "").casefold()
    if subtype in _BY_SUBTYPE:
        return _BY_SUBTYPE[subtype]
    return _BY_PORT.get(str(record.get("connectorPort") or ""), "postgres")


class QueryApi(EndpointBase):
    def routes(self) -> list[BaseRoute]:
        return [Route("/api/connector/{connector_id}/query", self.query, methods=["POST"])]

    async def query(self, request: Request) -> Response:
        record = self.path_connector(request)
        body = parse_json_object(await request.body())
        sql = body.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            raise ApiError(400, "Missing required field: sql")
        dialect = technology(record)
        if dialect is None:
            raise ApiError(400, f"Connector type {record['connectorType']} does not support SQL queries")
        try:
            self._reachable(record)
            columns, rows = self._run(record, sql, dialect)
        except _Refused as refused:
            return JSONResponse({"success": False, "sql": sql, "error": str(refused), "timestamp": _now()})
        return JSONResponse(
            {
                "success": True,
                "sql": sql,
                "columns": columns,
                "rows": [dict(zip(columns, row, strict=False)) for row in rows],
                "rowCount": len(rows),
                "executionTime": _execution_ms(columns, rows),
                "timestamp": _now(),
            }
        )

    def _reachable(self, record: ConnectorRecord) -> None:
        if "unreachable" in str(record.get("connectorHost") or ""):
            raise _Refused(f"Could not connect to {record['connectorHost']}: connection timed out")
        if record.get("connectorPassword") == WRONG_PASSWORD:
            raise _Refused(f"Authentication failed for user {record.get('connectorUsername')}")

    def _run(self, record: ConnectorRecord, sql: str, dialect: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
        except (SqlglotError, RecursionError) as error:
            raise _Refused(f"SQL compilation error: {_first_line(error)}") from None
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise _Refused("Only a single SELECT statement can be run here")
        tree = statements[0]
        database = self._samples()
        for table in _tables_named(tree):
            self._load(record, table, database, dialect)
        try:
            translated = tree.sql(dialect="sqlite")
        except SqlglotError as error:
            raise _Refused(f"SQL compilation error: {_first_line(error)}") from None
        return _execute(database.connection, translated)

    def _samples(self) -> SampleDatabase:
        return self.state.samples

    def _load(self, record: ConnectorRecord, table: exp.Table, database: SampleDatabase, dialect: str) -> None:
        """Point `table` at the sample rows of the metadata table it names (an error if there is none)."""
        metadata, connector_id = self.state.metadata, record["connectorID"]
        try:
            found = _resolve(self, connector_id, table)
        except MetadataNotFound:
            found = None
        if found is None:
            raise _Refused(f"Object '{table.sql(dialect=dialect)}' does not exist or not authorized")
        catalog, schema, name = found
        columns = metadata.columns(connector_id, catalog, schema, name)
        rows = min(SAMPLE_ROWS, _row_count(self, connector_id, catalog, schema, name))
        loaded = database.table_for((connector_id, catalog, schema, name), columns, rows)
        alias = table.alias or table.name  # "Order Items"."Qty" still names the column
        table.replace(exp.table_(loaded).as_(exp.to_identifier(alias, quoted=True)))


def _resolve(api: QueryApi, connector_id: int, table: exp.Table) -> tuple[str, str, str] | None:
    """(catalog, schema, table) of the metadata table a reference names: qualified names as given (a
    two-part name's qualifier is a schema of the default catalog, else a catalog), an unqualified
    name in the default schema, else in any schema of the default catalog. Unquoted names match in
    any case, quoted ones exactly."""
    metadata = api.state.metadata
    *qualifiers, name = [part for part in table.parts if isinstance(part, exp.Identifier)]
    catalogs = [str(c["catalogName"]) for c in metadata.catalogs(connector_id)]
    options: list[tuple[Name, Name]]
    if len(qualifiers) >= 2:
        options = [(qualifiers[-2], qualifiers[-1])]
    elif len(qualifiers) == 1:
        options = [(None, qualifiers[0]), (qualifiers[0], None)]
    else:
        schemas = [str(s["schemaName"]) for s in metadata.schemas(connector_id, catalogs[0])]
        options = [(None, None), *((None, schema) for schema in schemas)]
    for wanted_catalog, wanted_schema in options:
        catalog = _match(wanted_catalog, catalogs) if wanted_catalog is not None else catalogs[0]
        if catalog is None:
            continue
        schemas = [str(s["schemaName"]) for s in metadata.schemas(connector_id, catalog)]
        schema = _match(wanted_schema, schemas) if wanted_schema is not None else schemas[0]
        if schema is None:
            continue
        tables = [str(t["tableName"]) for t in metadata.tables(connector_id, catalog, schema)]
        found = _match(name, tables)
        if found is not None:
            return catalog, schema, found
    return None


Name = exp.Identifier | str | None


def _match(wanted: exp.Identifier | str, names: list[str]) -> str | None:
    """The name `wanted` stands for: a quoted identifier (or a plain string) exactly, an unquoted one in any case."""
    if isinstance(wanted, str):
        return wanted if wanted in names else None
    text = str(wanted.name)
    if text in names:
        return text
    if wanted.args.get("quoted"):
        return None
    return next((name for name in names if name.casefold() == text.casefold()), None)


def _row_count(api: QueryApi, connector_id: int, catalog: str, schema: str, name: str) -> int:
    tables = api.state.metadata.tables(connector_id, catalog, schema)
    found = next((t for t in tables if t["tableName"] == name), None)
    return int(found["rowCount"]) if found is not None else SAMPLE_ROWS


def _tables_named(tree: exp.Expr) -> list[exp.Table]:
    """The tables a statement reads from, less the names its WITH defines."""
    defined = {cte.alias_or_name.casefold() for cte in tree.find_all(exp.CTE)}
    return [
        table
        for table in tree.find_all(exp.Table)
        if not (not table.db and not table.catalog and table.name.casefold() in defined) and table.name
    ]


def _execute(connection: sqlite3.Connection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    deadline = time.monotonic() + QUERY_SECONDS
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        cursor = connection.execute(sql)
        rows = cursor.fetchmany(MAX_ROWS)
        columns = [str(item[0]) for item in cursor.description or ()]
    except sqlite3.Error as error:
        raise _Refused(f"SQL execution error: {error}") from None
    finally:
        connection.set_progress_handler(None, 0)
        connection.rollback()
    return columns, rows


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Refused(Exception):
    """The statement failed in the 'database': answered with success false and the error."""


def _execution_ms(columns: list[str], rows: list[tuple[Any, ...]]) -> int:
    """The duration the sandbox reports: made from the rows and columns, not read from a clock, so that the
    same call gets the same answer (tests, the demo and the benchmarks' recordings compare answers)."""
    return 4 + len(rows) * max(1, len(columns)) // 50
