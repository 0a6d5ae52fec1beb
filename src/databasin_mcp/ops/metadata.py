"""Browsing a connector's metadata: catalogs, schemas, tables, columns, each paged from a cached listing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import Catalog, Column, Schema, Table
from ..params import (
    CatalogName,
    ColumnLimit,
    ConnectorId,
    Fields,
    MetadataLimit,
    NameContains,
    Offset,
    SchemaName,
    TableName,
)
from ..shaping import Answer, TitleField, available_fields, choose_fields, fold, listing
from .base import Services
from .notes import defaults_used, describe_filters, primary_key_note, records_note

MetadataRecord = Catalog | Schema | Table | Column


@dataclass(frozen=True)
class MetadataRows:
    """A metadata listing as the cache keeps it: plain rows (a third of the models' memory), in order."""

    rows: list[dict[str, Any]]
    available: list[str]
    unread: str = ""  # what could not be read, said in the title ('1 table could not be fully read: ...')


@dataclass(frozen=True)
class _Level:
    """One level of the metadata tree, as listed."""

    tool: str
    model: type[MetadataRecord]
    noun: str
    sorted_by: str | None  # None keeps the API's order (a table's columns)

    @property
    def name_field(self) -> str:
        return next(iter(self.model.model_fields))


CATALOGS = _Level("list_catalogs", Catalog, "catalogs", "catalogName")
SCHEMAS = _Level("list_schemas", Schema, "schemas", "schemaName")
TABLES = _Level("list_tables", Table, "tables", "tableName")
COLUMNS = _Level("list_columns", Column, "columns", None)


class Metadata:
    """list_catalogs, list_schemas, list_tables, list_columns."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def list_catalogs(
        self,
        *,
        connector_id: ConnectorId,
        name_contains: NameContains = None,
        limit: MetadataLimit = 50,
        offset: Offset = 0,
    ) -> Answer:
        """A connector's catalogs (databases)."""
        client = self.services.client
        listed = await self._rows(CATALOGS, (connector_id,), lambda: client.list_catalogs(connector_id))
        scope = f"in connector {connector_id}"
        return self._listing(listed, CATALOGS, connector_id, scope, "", name_contains, None, limit, offset)

    async def list_schemas(
        self,
        *,
        connector_id: ConnectorId,
        catalog: CatalogName = None,
        name_contains: NameContains = None,
        limit: MetadataLimit = 50,
        offset: Offset = 0,
    ) -> Answer:
        """A connector's schemas, of one catalog or of the API's default."""
        client = self.services.client
        listed = await self._rows(
            SCHEMAS, (connector_id, catalog), lambda: client.list_schemas(connector_id, catalog=catalog)
        )
        scope = f"in connector {connector_id}" + (f", catalog {catalog}" if catalog else "")
        defaults = defaults_used(catalog=catalog)
        return self._listing(listed, SCHEMAS, connector_id, scope, defaults, name_contains, None, limit, offset)

    async def list_tables(
        self,
        *,
        connector_id: ConnectorId,
        catalog: CatalogName = None,
        schema: SchemaName = None,
        name_contains: NameContains = None,
        fields: Fields = None,
        limit: MetadataLimit = 50,
        offset: Offset = 0,
    ) -> Answer:
        """A connector's tables, of one catalog and schema or of the API's defaults."""
        client = self.services.client
        listed = await self._rows(
            TABLES,
            (connector_id, catalog, schema),
            lambda: client.list_tables(connector_id, catalog=catalog, schema=schema),
        )
        where = ".".join(part for part in (catalog, schema) if part)
        scope = f"in connector {connector_id}" + (f", {where}" if where else "")
        defaults = defaults_used(catalog=catalog, schema=schema)
        return self._listing(listed, TABLES, connector_id, scope, defaults, name_contains, fields, limit, offset)

    async def list_columns(
        self,
        *,
        connector_id: ConnectorId,
        table: TableName,
        catalog: CatalogName = None,
        schema: SchemaName = None,
        name_contains: NameContains = None,
        fields: Fields = None,
        limit: ColumnLimit = 100,
        offset: Offset = 0,
    ) -> Answer:
        """The columns of one table, in the table's order."""
        client = self.services.client
        listed = await self._rows(
            COLUMNS,
            (connector_id, catalog, schema, table),
            lambda: client.list_columns(connector_id, table=table, catalog=catalog, schema=schema),
        )
        scope = f"of {'.'.join(part for part in (catalog, schema, table) if part)} in connector {connector_id}"
        defaults = defaults_used(catalog=catalog, schema=schema)
        return self._listing(listed, COLUMNS, connector_id, scope, defaults, name_contains, fields, limit, offset)

    async def _rows(
        self, level: _Level, names: tuple[Any, ...], fetch: Callable[[], Awaitable[list[Any]]]
    ) -> MetadataRows:
        """A metadata listing as plain rows in display order, from the cache or the API."""

        async def load() -> MetadataRows:
            records = await fetch()
            available = available_fields(list(level.model.model_fields), (r.sent_fields() for r in records))
            unread = records_note(level.noun, records, level.name_field)
            rows = []
            for index, item in enumerate(records):
                rows.append(item.as_row())
                records[index] = None  # rows are what is kept: a model a row is made from may go
            if level.sorted_by is not None:
                # Sorted by name so that paging is stable and predictable; columns keep table order.
                rows.sort(key=lambda row: fold(str(row.get(level.sorted_by) or "")))
            return MetadataRows(rows, available, unread)

        return await self.services.cache.get_or_fetch((level.noun, *names), load)

    def _listing(
        self,
        listed: MetadataRows,
        level: _Level,
        connector_id: int,
        scope: str,
        defaults: str,
        name_contains: str | None,
        fields: Sequence[str] | None,
        limit: int,
        offset: int,
    ) -> Answer:
        s = self.services
        say = s.say(level.tool)
        matching = listed.rows
        if name_contains is not None:
            wanted = fold(name_contains)
            matching = [row for row in listed.rows if wanted in fold(str(row[level.name_field]))]
        shown, left_out = choose_fields(fields, level.model.DEFAULT_LIST_FIELDS, listed.available, say)
        # By default a column's isPrimaryKey is said once in the title ("primary key: id") instead of a
        # true/false cell on every row; it is a property of the table, so the note covers every column,
        # whatever the page (measured: 1,213 -> 1,015 tokens for the first 100 of 250 columns).
        key_in_title = TitleField("isPrimaryKey", lambda _shown: primary_key_note(listed.rows))
        refresh = s.words.call("refresh_connector_metadata", connector_id=connector_id)
        return listing(
            noun=level.noun,
            rows=matching,
            fields=shown,
            left_out=left_out,
            offset=offset,
            limit=limit,
            max_chars=s.settings.max_chars,
            structured=s.settings.structured_output,
            say=say,
            scope=scope,
            matched_of=len(listed.rows) if name_contains else None,
            filter_note=describe_filters(say, name_contains=name_contains),
            empty_hint="" if name_contains else f"Nothing here: check the names, or run {refresh}.",
            in_title=key_in_title if level is COLUMNS and not fields else None,
            aside="; ".join(part for part in (defaults, listed.unread) if part),
        )
