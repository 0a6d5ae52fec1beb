"""SQLite state: CRUD, filters, IDs, persistence with a file database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from databasin_mcp.sandbox.seed import PROJECT_95, ConnectorRecord
from databasin_mcp.sandbox.store import Store


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store.open(None, seed=7)
    yield store
    store.close()


def new_record(**fields: object) -> ConnectorRecord:
    record: ConnectorRecord = {
        "connectorName": "Ñandú Retail MySQL",
        "connectorType": "RDBMS",
        "connectorHost": "mysql.example.com",
        "connectorPort": "3306",
        "connectorDatabaseName": "retail",
        "connectorUsername": "databasin_user",
        "connectorPassword": "s3cret",
        "connectorAuthType": 2,
        "institutionID": 1,
        "internalID": "proj-001",
        "ownerID": 456,
        "active": True,
        "connectorMaxConnections": 8,
        "testConnectorSupport": True,
        "createdDate": "2025-01-15T10:30:00Z",
        "lastModifiedDate": "2025-01-15T10:30:00Z",
    }
    return record | fields


def test_filters(store: Store) -> None:
    assert len(store.list()) == 434
    assert len(store.list(internal_id=PROJECT_95)) == 95
    assert {c["institutionID"] for c in store.list(institution_id=2)} == {2}
    assert len(store.list(institution_id=3, internal_id=PROJECT_95)) == 95
    assert store.list(institution_id=1, internal_id=PROJECT_95) == []


def test_create_get_round_trip_with_extra_fields(store: Store) -> None:
    connector_id = store.create(new_record(sslMode="require"))
    assert connector_id == 535
    record = store.get(connector_id)
    assert record == {"connectorID": 535, **new_record(sslMode="require")}


def test_new_ids_continue_after_the_highest_and_are_never_reused(store: Store) -> None:
    first = store.create(new_record())
    assert store.delete(first)
    assert store.create(new_record()) == first + 1


def test_update_changes_only_the_given_fields(store: Store) -> None:
    before = store.get(101)
    assert before is not None
    assert store.update(101, {"connectorName": "Renamed", "connectorMaxConnections": 16, "note": "x"})
    assert store.get(101) == before | {"connectorName": "Renamed", "connectorMaxConnections": 16, "note": "x"}


def test_unknown_ids(store: Store) -> None:
    assert store.get(999) is None
    assert store.update(999, {"connectorName": "x"}) is False
    assert store.delete(999) is False


def test_file_database_persists_and_is_seeded_once(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    store = Store.open(path, seed=7)
    created = store.create(new_record())
    store.update(101, {"connectorName": "Changed"})
    store.delete(102)
    store.close()

    reopened = Store.open(path, seed=99)  # a different seed must not reseed a non-empty database
    try:
        assert reopened.count() == 434
        assert reopened.get(created) is not None
        assert reopened.get(101)["connectorName"] == "Changed"  # type: ignore[index]
        assert reopened.get(102) is None
    finally:
        reopened.close()
