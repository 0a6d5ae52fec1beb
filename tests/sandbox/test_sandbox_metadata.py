"""The generated metadata tree: landmarks, bounds, determinism, speed."""

from __future__ import annotations

import time

import pytest

from databasin_mcp.sandbox.metadata import ConnectorMetadata, MetadataNotFound
from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    HUGE_SCHEMA,
    WIDE_TABLE,
)


def test_big_schema_has_1500_distinct_tables() -> None:
    metadata = ConnectorMetadata(seed=7)
    assert BIG_CATALOG in [c["catalogName"] for c in metadata.catalogs(BIG_CONNECTOR_ID)]
    assert BIG_SCHEMA in [s["schemaName"] for s in metadata.schemas(BIG_CONNECTOR_ID, BIG_CATALOG)]
    tables = metadata.tables(BIG_CONNECTOR_ID, BIG_CATALOG, BIG_SCHEMA)
    assert len(tables) == 1500
    assert len({t["tableName"] for t in tables}) == 1500
    assert WIDE_TABLE in {t["tableName"] for t in tables}


def test_wide_table_has_250_distinct_columns_with_one_key() -> None:
    columns = ConnectorMetadata(seed=7).columns(BIG_CONNECTOR_ID, BIG_CATALOG, BIG_SCHEMA, WIDE_TABLE)
    assert len(columns) == 250
    assert len({c["columnName"] for c in columns}) == 250
    assert [c["columnName"] for c in columns if c["isPrimaryKey"]] == ["id"]


def test_huge_schema_only_when_configured() -> None:
    assert HUGE_SCHEMA == "events_archive"
    plain = ConnectorMetadata(seed=7)
    assert HUGE_SCHEMA not in [s["schemaName"] for s in plain.schemas(BIG_CONNECTOR_ID, BIG_CATALOG)]
    huge = ConnectorMetadata(seed=7, huge_schema_tables=20_000)
    started = time.perf_counter()
    tables = huge.tables(BIG_CONNECTOR_ID, BIG_CATALOG, HUGE_SCHEMA)
    assert time.perf_counter() - started < 1.0
    assert len(tables) == 20_000
    assert len({t["tableName"] for t in tables}) == 20_000


def test_typical_connectors_stay_within_bounds() -> None:
    metadata = ConnectorMetadata(seed=7)
    for connector_id in range(101, 535, 17):
        catalogs = metadata.catalogs(connector_id)
        assert 1 <= len(catalogs) <= 4
        for catalog in catalogs:
            schemas = metadata.schemas(connector_id, catalog["catalogName"])
            assert 1 <= len(schemas) <= 6
            for schema in schemas:
                tables = metadata.tables(connector_id, catalog["catalogName"], schema["schemaName"])
                assert 3 <= len(tables) <= 60
                columns = metadata.columns(
                    connector_id, catalog["catalogName"], schema["schemaName"], tables[0]["tableName"]
                )
                assert 3 <= len(columns) <= 30


def test_field_names_and_types() -> None:
    metadata = ConnectorMetadata(seed=7)
    assert set(metadata.catalogs(101)[0]) == {"catalogName", "description"}
    assert set(metadata.schemas(101, None)[0]) == {"schemaName", "description"}
    table = metadata.tables(101, None, None)[0]
    assert set(table) == {"tableName", "tableType", "rowCount", "sizeInBytes"}
    assert table["tableType"] in ("TABLE", "VIEW")
    column = metadata.columns(101, None, None, table["tableName"])[0]
    assert set(column) == {"columnName", "dataType", "isNullable", "isPrimaryKey"}


def test_deterministic_and_cached() -> None:
    first, second = ConnectorMetadata(seed=7), ConnectorMetadata(seed=7)
    assert first.tables(230, None, None) == second.tables(230, None, None)
    assert first.tables(230, None, None) is second.tables(230, None, None)  # memoised, not regenerated
    assert ConnectorMetadata(seed=8).tables(230, None, None) != first.tables(230, None, None)


def test_connectors_created_later_have_metadata_too() -> None:
    assert ConnectorMetadata(seed=7).catalogs(10_000)


def test_omitted_catalog_and_schema_default_to_the_first_ones() -> None:
    metadata = ConnectorMetadata(seed=7)
    first_catalog = metadata.catalogs(BIG_CONNECTOR_ID)[0]["catalogName"]
    assert metadata.schemas(BIG_CONNECTOR_ID, None) == metadata.schemas(BIG_CONNECTOR_ID, first_catalog)
    assert metadata.tables(BIG_CONNECTOR_ID, None, None) == metadata.tables(BIG_CONNECTOR_ID, BIG_CATALOG, BIG_SCHEMA)


@pytest.mark.parametrize(
    ("catalog", "schema", "table", "message"),
    [
        ("nope", None, "orders", "Catalog 'nope' not found for connector 142"),
        (BIG_CATALOG, "nope", "orders", f"Schema 'nope' not found in catalog '{BIG_CATALOG}'"),
        (BIG_CATALOG, BIG_SCHEMA, "nope", f"Table 'nope' not found in schema '{BIG_CATALOG}.{BIG_SCHEMA}'"),
    ],
)
def test_unknown_names_are_reported(catalog: str, schema: str | None, table: str, message: str) -> None:
    with pytest.raises(MetadataNotFound) as missing:
        ConnectorMetadata(seed=7).columns(BIG_CONNECTOR_ID, catalog, schema, table)
    assert str(missing.value) == message


def test_counts_sum_the_tree() -> None:
    metadata = ConnectorMetadata(seed=7)
    counts = metadata.counts(BIG_CONNECTOR_ID)
    catalogs = [c["catalogName"] for c in metadata.catalogs(BIG_CONNECTOR_ID)]
    schemas = [(c, s["schemaName"]) for c in catalogs for s in metadata.schemas(BIG_CONNECTOR_ID, c)]
    assert counts.catalogs == len(catalogs)
    assert counts.schemas == len(schemas)
    assert counts.tables == sum(len(metadata.tables(BIG_CONNECTOR_ID, c, s)) for c, s in schemas)
    assert counts.tables > 1500
