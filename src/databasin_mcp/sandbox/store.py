"""SQLite state of the sandbox: the connectors table (metadata is generated, see metadata.py)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from .seed import ConnectorRecord, seed_connectors

# Known connector fields and their SQL types; any other field a client sends lives in the JSON "extra" column.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("connectorName", "TEXT NOT NULL"),
    ("connectorType", "TEXT NOT NULL"),
    ("connectorHost", "TEXT"),
    ("connectorPort", "TEXT"),
    ("connectorDatabaseName", "TEXT"),
    ("connectorUsername", "TEXT"),
    ("connectorPassword", "TEXT"),
    ("connectorAuthType", "INTEGER"),
    ("institutionID", "INTEGER NOT NULL"),
    ("internalID", "TEXT NOT NULL"),
    ("ownerID", "INTEGER"),
    ("active", "INTEGER NOT NULL"),
    ("connectorMaxConnections", "INTEGER NOT NULL"),
    ("testConnectorSupport", "INTEGER NOT NULL"),
    ("createdDate", "TEXT NOT NULL"),
    ("lastModifiedDate", "TEXT NOT NULL"),
)
COLUMN_NAMES = tuple(name for name, _ in _COLUMNS)
_BOOLEAN_COLUMNS = frozenset({"active", "testConnectorSupport"})  # SQLite stores them as 0/1

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS connectors (
    connectorID INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{name} {sql_type}" for name, sql_type in _COLUMNS)},
    extra TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX IF NOT EXISTS connectors_by_project ON connectors (institutionID, internalID);
"""


class Store:
    """Connector persistence. In memory by default; a file path keeps state across restarts.

    One connection shared by the whole app (``check_same_thread=False``): the sandbox serves from a single
    event loop, so calls never overlap. AUTOINCREMENT makes new IDs continue after the highest ever used.
    """

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        self.path = None if db is None else os.fspath(db)
        self._conn = sqlite3.connect(self.path or ":memory:", check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(_SCHEMA)

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None, seed: int) -> Store:
        """Open (or create) the database and load the seed connectors if it holds none yet."""
        store = cls(db)
        if store.count() == 0:
            store.insert_many(seed_connectors(seed))
        return store

    def close(self) -> None:
        self._conn.close()

    def count(self) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM connectors").fetchone()
        return int(row[0])

    def list(self, institution_id: int | None = None, internal_id: str | None = None) -> list[ConnectorRecord]:
        """All connectors in ID order, optionally narrowed to an institution and/or a project."""
        clauses: list[str] = []
        params: list[object] = []
        if institution_id is not None:
            clauses.append("institutionID = ?")
            params.append(institution_id)
        if internal_id is not None:
            clauses.append("internalID = ?")
            params.append(internal_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(f"SELECT * FROM connectors {where} ORDER BY connectorID", params)
        return [_record(row) for row in rows]

    def get(self, connector_id: int) -> ConnectorRecord | None:
        row = self._conn.execute("SELECT * FROM connectors WHERE connectorID = ?", (connector_id,)).fetchone()
        return None if row is None else _record(row)

    def insert_many(self, records: Iterable[ConnectorRecord]) -> None:
        """Insert complete records that already carry their connectorID (used for seeding)."""
        with self._conn:
            for record in records:
                self._insert(record)

    def create(self, record: ConnectorRecord) -> int:
        """Insert a complete record without connectorID; returns the new ID."""
        with self._conn:
            return self._insert({k: v for k, v in record.items() if k != "connectorID"})

    def update(self, connector_id: int, changes: Mapping[str, Any]) -> bool:
        """Apply the given fields only; returns False when the connector does not exist."""
        current = self.get(connector_id)
        if current is None:
            return False
        columns, extra = _split(current | dict(changes))
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._conn:
            self._conn.execute(
                f"UPDATE connectors SET {assignments}, extra = ? WHERE connectorID = ?",
                [*columns.values(), json.dumps(extra), connector_id],
            )
        return True

    def delete(self, connector_id: int) -> bool:
        with self._conn:
            cursor = self._conn.execute("DELETE FROM connectors WHERE connectorID = ?", (connector_id,))
        return cursor.rowcount > 0

    def _insert(self, record: ConnectorRecord) -> int:
        columns, extra = _split(record)
        if "connectorID" in record:
            columns = {"connectorID": record["connectorID"], **columns}
        names = ", ".join([*columns, "extra"])
        placeholders = ", ".join("?" * (len(columns) + 1))
        cursor = self._conn.execute(
            f"INSERT INTO connectors ({names}) VALUES ({placeholders})", [*columns.values(), json.dumps(extra)]
        )
        assert cursor.lastrowid is not None  # always set after an INSERT
        return cursor.lastrowid


def _split(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Known columns (in table order) and everything else, minus the ID which is never rewritten."""
    columns = {name: record.get(name) for name in COLUMN_NAMES}
    extra = {k: v for k, v in record.items() if k not in columns and k != "connectorID"}
    return columns, extra


def _record(row: sqlite3.Row) -> ConnectorRecord:
    record: ConnectorRecord = {"connectorID": row["connectorID"]}
    for name in COLUMN_NAMES:
        value = row[name]
        record[name] = bool(value) if name in _BOOLEAN_COLUMNS else value
    record.update(json.loads(row["extra"]))
    return record
