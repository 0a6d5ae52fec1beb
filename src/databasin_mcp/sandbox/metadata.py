"""Catalogs, schemas, tables and columns of every connector, generated lazily and deterministically.

Nothing is stored: each level is derived from (seed, connectorID, names), so any connector, including one
created at run time, has a stable metadata tree. Generated levels are memoised, so listing twice is cheap.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .samples import SAMPLE_CONNECTORS, SAMPLE_ROWS, SAMPLE_SCHEMA, SAMPLE_TABLES, sample_columns
from .seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    BIG_SCHEMA_TABLES,
    HUGE_SCHEMA,
    WIDE_TABLE,
    WIDE_TABLE_COLUMNS,
)

MetadataItem = dict[str, Any]
_SAMPLE_IDS = frozenset(SAMPLE_CONNECTORS.values())

_CATALOGS = {
    "analytics_prod": "Production analytics database",
    "sales_data": "Sales database",
    "finance": "Finance ledger and reporting",
    "crm": "Customer relationship data",
    "staging": "Staging area for ingestion",
    "raw": "Raw landed data",
    "marketing": "Marketing campaigns and attribution",
    "hr": "Human resources",
    "operations": "Operational data store",
    "archive": "Cold archive",
}
_SCHEMAS = (
    "public", "reporting", "staging", "dbo", "sales", "finance", "audit", "marketing", "ops", "raw", "curated",
    "analytics", "hr", "inventory",
)  # fmt: skip
_ENTITIES = (
    "customers", "orders", "order_items", "invoices", "payments", "products", "inventory", "shipments", "events",
    "sessions", "accounts", "contacts", "leads", "opportunities", "employees", "departments", "claims", "policies",
    "vendors", "suppliers", "transactions", "refunds", "subscriptions", "campaigns", "clicks", "page_views",
    "tickets", "stores", "regions", "currencies",
)  # fmt: skip
_TABLE_SUFFIXES = ("", "_daily", "_hist", "_stg", "_agg", "_snapshot", "_raw", "_archive")
_TABLE_BASES = tuple(entity + suffix for entity in _ENTITIES for suffix in _TABLE_SUFFIXES)
_COLUMN_TYPES = {
    "created_at": "TIMESTAMP", "updated_at": "TIMESTAMP", "name": "VARCHAR(255)", "email": "VARCHAR(255)",
    "status": "VARCHAR(32)", "amount": "DECIMAL(18,2)", "currency": "CHAR(3)", "quantity": "INT",
    "price": "DECIMAL(12,2)", "description": "TEXT", "country_code": "CHAR(2)", "region": "VARCHAR(64)",
    "customer_id": "BIGINT", "order_id": "BIGINT", "product_id": "BIGINT", "is_deleted": "BOOLEAN",
    "event_date": "DATE", "notes": "TEXT", "phone": "VARCHAR(32)", "city": "VARCHAR(128)",
    "postal_code": "VARCHAR(16)", "score": "DOUBLE", "category": "VARCHAR(64)", "source_system": "VARCHAR(32)",
    "external_ref": "VARCHAR(64)", "discount": "DECIMAL(5,2)", "tax": "DECIMAL(12,2)", "channel": "VARCHAR(32)",
    "segment": "VARCHAR(32)", "owner_id": "BIGINT",
}  # fmt: skip


class MetadataNotFound(LookupError):
    """A catalog, schema or table name that the connector does not have; str() names it."""


@dataclass(frozen=True)
class MetadataCounts:
    catalogs: int
    schemas: int
    tables: int


class ConnectorMetadata:
    """Read access to the generated metadata tree of any connector ID.

    ``catalog``/``schema`` arguments are optional, as in the reference API; when omitted the connector's
    first catalog / the catalog's first schema is used (the way JDBC falls back to a default).
    """

    def __init__(self, seed: int, huge_schema_tables: int = 0) -> None:
        self.seed = seed
        self.huge_schema_tables = huge_schema_tables

    def catalogs(self, connector_id: int) -> Sequence[MetadataItem]:
        return _catalogs(self.seed, connector_id)

    def schemas(self, connector_id: int, catalog: str | None) -> Sequence[MetadataItem]:
        return _schemas(self.seed, self.huge_schema_tables, connector_id, self.resolve_catalog(connector_id, catalog))

    def tables(self, connector_id: int, catalog: str | None, schema: str | None) -> Sequence[MetadataItem]:
        catalog, schema = self.resolve_schema(connector_id, catalog, schema)
        return _tables(self.seed, self.huge_schema_tables, connector_id, catalog, schema)

    def columns(self, connector_id: int, catalog: str | None, schema: str | None, table: str) -> Sequence[MetadataItem]:
        catalog, schema = self.resolve_schema(connector_id, catalog, schema)
        if table not in _table_names(self.seed, self.huge_schema_tables, connector_id, catalog, schema):
            raise MetadataNotFound(f"Table '{table}' not found in schema '{catalog}.{schema}'")
        return _columns(self.seed, connector_id, catalog, schema, table)

    def counts(self, connector_id: int) -> MetadataCounts:
        """Totals over the whole tree (what a metadata refresh reports)."""
        catalogs = [c["catalogName"] for c in self.catalogs(connector_id)]
        schemas = [(c, s["schemaName"]) for c in catalogs for s in self.schemas(connector_id, c)]
        tables = sum(_table_count(self.seed, self.huge_schema_tables, connector_id, c, s) for c, s in schemas)
        return MetadataCounts(len(catalogs), len(schemas), tables)

    def resolve_catalog(self, connector_id: int, catalog: str | None) -> str:
        names = [str(c["catalogName"]) for c in self.catalogs(connector_id)]
        if catalog is None:
            return names[0]
        if catalog not in names:
            raise MetadataNotFound(f"Catalog '{catalog}' not found for connector {connector_id}")
        return catalog

    def resolve_schema(self, connector_id: int, catalog: str | None, schema: str | None) -> tuple[str, str]:
        catalog = self.resolve_catalog(connector_id, catalog)
        names = [str(s["schemaName"]) for s in self.schemas(connector_id, catalog)]
        if schema is None:
            return catalog, names[0]
        if schema not in names:
            raise MetadataNotFound(f"Schema '{schema}' not found in catalog '{catalog}'")
        return catalog, schema


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random, so it is stable across runs and processes.
    return random.Random(":".join(map(str, parts)))


def _unique_names(rng: random.Random, pool: Sequence[str], count: int) -> list[str]:
    """``count`` distinct names from ``pool``, numbering later rounds ("orders_2") once the pool runs out."""
    order = list(pool)
    rng.shuffle(order)
    size = len(order)
    return [order[i % size] if i < size else f"{order[i % size]}_{i // size + 1}" for i in range(count)]


@lru_cache(maxsize=1024)
def _catalogs(seed: int, connector_id: int) -> tuple[MetadataItem, ...]:
    rng = _rng(seed, connector_id)
    names = rng.sample(sorted(_CATALOGS), rng.randint(1, 4))
    items = [{"catalogName": name, "description": _CATALOGS[name]} for name in names]
    if connector_id == BIG_CONNECTOR_ID:
        items.insert(0, {"catalogName": BIG_CATALOG, "description": "Enterprise data warehouse"})
    return tuple(items)


@lru_cache(maxsize=4096)
def _schemas(seed: int, huge_tables: int, connector_id: int, catalog: str) -> tuple[MetadataItem, ...]:
    rng = _rng(seed, connector_id, catalog)
    names = rng.sample(_SCHEMAS, rng.randint(1, 6))
    if (connector_id, catalog) == (BIG_CONNECTOR_ID, BIG_CATALOG):
        names.insert(0, BIG_SCHEMA)
        if huge_tables:
            names.append(HUGE_SCHEMA)
    if _is_sample(seed, connector_id, catalog, SAMPLE_SCHEMA):
        names.append(SAMPLE_SCHEMA)  # last: the default schema stays what it was
    return tuple({"schemaName": name, "description": f"{name.replace('_', ' ').title()} schema"} for name in names)


def _is_sample(seed: int, connector_id: int, catalog: str, schema: str) -> bool:
    """The sample schema of a sample connector: in its first catalog."""
    return (
        connector_id in _SAMPLE_IDS
        and schema == SAMPLE_SCHEMA
        and catalog == _catalogs(seed, connector_id)[0]["catalogName"]
    )


def _table_count(seed: int, huge_tables: int, connector_id: int, catalog: str, schema: str) -> int:
    if _is_sample(seed, connector_id, catalog, schema):
        return len(SAMPLE_TABLES)
    if (connector_id, catalog) == (BIG_CONNECTOR_ID, BIG_CATALOG):
        if schema == BIG_SCHEMA:
            return BIG_SCHEMA_TABLES
        if schema == HUGE_SCHEMA:
            return huge_tables
    return _rng(seed, connector_id, catalog, schema, "count").randint(3, 60)


@lru_cache(maxsize=1024)
def _tables(seed: int, huge_tables: int, connector_id: int, catalog: str, schema: str) -> tuple[MetadataItem, ...]:
    if _is_sample(seed, connector_id, catalog, schema):
        return tuple(
            {"tableName": name, "tableType": "TABLE", "rowCount": SAMPLE_ROWS, "sizeInBytes": SAMPLE_ROWS * 120}
            for name in SAMPLE_TABLES
        )
    rng = _rng(seed, connector_id, catalog, schema)
    count = _table_count(seed, huge_tables, connector_id, catalog, schema)
    is_big = (connector_id, catalog, schema) == (BIG_CONNECTOR_ID, BIG_CATALOG, BIG_SCHEMA)
    names = _unique_names(rng, _TABLE_BASES, count - 1 if is_big else count)
    if is_big:
        names.insert(0, WIDE_TABLE)
    return tuple(_table(rng, name) for name in names)


def _table(rng: random.Random, name: str) -> MetadataItem:
    is_view = rng.random() < 0.15
    rows = int(10 ** rng.uniform(1, 7.5))
    return {
        # "v_" keeps view names distinct from table names: no base name starts with it.
        "tableName": f"v_{name}" if is_view else name,
        "tableType": "VIEW" if is_view else "TABLE",
        "rowCount": rows,
        "sizeInBytes": rows * rng.randint(40, 600),
    }


@lru_cache(maxsize=1024)
def _table_names(seed: int, huge_tables: int, connector_id: int, catalog: str, schema: str) -> frozenset[str]:
    return frozenset(t["tableName"] for t in _tables(seed, huge_tables, connector_id, catalog, schema))


@lru_cache(maxsize=4096)
def _columns(seed: int, connector_id: int, catalog: str, schema: str, table: str) -> tuple[MetadataItem, ...]:
    if _is_sample(seed, connector_id, catalog, schema):
        return tuple(sample_columns(table))
    rng = _rng(seed, connector_id, catalog, schema, table)
    is_wide = (connector_id, catalog, schema, table) == (BIG_CONNECTOR_ID, BIG_CATALOG, BIG_SCHEMA, WIDE_TABLE)
    count = WIDE_TABLE_COLUMNS if is_wide else rng.randint(3, 30)
    key = {"columnName": "id", "dataType": "BIGINT", "isNullable": False, "isPrimaryKey": True}
    others = [
        {
            "columnName": name,
            "dataType": _column_type(name),
            "isNullable": rng.random() < 0.6,
            "isPrimaryKey": False,
        }
        for name in _unique_names(rng, tuple(_COLUMN_TYPES), count - 1)
    ]
    return (key, *others)


def _column_type(name: str) -> str:
    # Numbered repeats ("amount_3") share the type of their base name.
    return _COLUMN_TYPES.get(name) or _COLUMN_TYPES[name.rsplit("_", 1)[0]]
