"""The seed data and its landmarks."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from databasin_mcp.sandbox.seed import (
    BIG_CONNECTOR_ID,
    CONNECTOR_TYPES,
    FIRST_CONNECTOR_ID,
    INACTIVE_CONNECTOR_ID,
    LAST_SEED_CONNECTOR_ID,
    NAMED_CONNECTORS,
    PROJECT_95,
    PROJECT_SIZES,
    PROJECTS,
    SEED_CONNECTOR_COUNT,
    UNREACHABLE_CONNECTOR_ID,
    UNTESTABLE_CONNECTOR_ID,
    UNTESTABLE_TYPES,
    WRONG_PASSWORD,
    WRONG_PASSWORD_CONNECTOR_ID,
    ConnectorRecord,
    seed_connectors,
)
from databasin_mcp.sandbox.store import Store

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def connectors() -> list[ConnectorRecord]:
    return seed_connectors(7)


def by_id(connectors: list[ConnectorRecord]) -> dict[int, ConnectorRecord]:
    return {c["connectorID"]: c for c in connectors}


def test_434_connectors_with_consecutive_ids_from_101(connectors: list[ConnectorRecord]) -> None:
    assert len(connectors) == SEED_CONNECTOR_COUNT == 434
    assert [c["connectorID"] for c in connectors] == list(range(101, 535))
    assert (FIRST_CONNECTOR_ID, LAST_SEED_CONNECTOR_ID) == (101, 534)


def test_project_sizes(connectors: list[ConnectorRecord]) -> None:
    sizes = Counter(c["internalID"] for c in connectors)
    assert sizes == PROJECT_SIZES
    assert sizes[PROJECT_95] == 95
    assert sorted(sizes) == [f"proj-{n:03d}" for n in range(1, 13)]
    assert min(sizes.values()) <= 5
    assert sum(PROJECT_SIZES.values()) == 434


def test_each_project_belongs_to_one_of_four_institutions(connectors: list[ConnectorRecord]) -> None:
    institutions = {p.internal_id: p.institution_id for p in PROJECTS}
    assert {c["institutionID"] for c in connectors} == {1, 2, 3, 4}
    assert all(c["institutionID"] == institutions[c["internalID"]] for c in connectors)


def test_names_are_unique_within_a_project(connectors: list[ConnectorRecord]) -> None:
    names = Counter((c["internalID"], c["connectorName"]) for c in connectors)
    assert max(names.values()) == 1


def test_at_least_ten_non_ascii_names(connectors: list[ConnectorRecord]) -> None:
    non_ascii = [c["connectorName"] for c in connectors if not c["connectorName"].isascii()]
    assert len(non_ascii) >= 10
    assert {"Café Orders", "Müller ERP", "São Paulo Sales", "Zürich Finance", "東京 Warehouse"} <= set(non_ascii)


def test_named_connectors_have_their_names(connectors: list[ConnectorRecord]) -> None:
    records = by_id(connectors)
    assert {cid: records[cid]["connectorName"] for cid in NAMED_CONNECTORS} == NAMED_CONNECTORS
    assert records[BIG_CONNECTOR_ID]["internalID"] == PROJECT_95


def test_connection_test_landmarks(connectors: list[ConnectorRecord]) -> None:
    records = by_id(connectors)
    assert records[WRONG_PASSWORD_CONNECTOR_ID]["connectorPassword"] == WRONG_PASSWORD
    assert "unreachable" in records[UNREACHABLE_CONNECTOR_ID]["connectorHost"]
    assert records[INACTIVE_CONNECTOR_ID]["active"] is False
    assert records[UNTESTABLE_CONNECTOR_ID]["connectorType"] == "SFTP"
    for cid in (WRONG_PASSWORD_CONNECTOR_ID, UNREACHABLE_CONNECTOR_ID, UNTESTABLE_CONNECTOR_ID):
        assert records[cid]["active"] is True


def test_about_ten_percent_inactive(connectors: list[ConnectorRecord]) -> None:
    inactive = sum(not c["active"] for c in connectors)
    assert 0.05 * 434 <= inactive <= 0.15 * 434


def test_types_and_test_support(connectors: list[ConnectorRecord]) -> None:
    assert {c["connectorType"] for c in connectors} == set(CONNECTOR_TYPES)
    for c in connectors:
        assert c["testConnectorSupport"] is (c["connectorType"] not in UNTESTABLE_TYPES)
    assert {"SFTP", "REST"} == UNTESTABLE_TYPES


def test_field_formats(connectors: list[ConnectorRecord]) -> None:
    for c in connectors:
        assert isinstance(c["connectorPort"], str)
        assert c["connectorPort"].isdigit()
        assert ISO_Z.match(c["createdDate"])
        assert ISO_Z.match(c["lastModifiedDate"])
        assert c["lastModifiedDate"] >= c["createdDate"]
        assert c["connectorPassword"]
        assert c["connectorMaxConnections"] in (4, 8, 16)
        assert c["connectorHost"]
        assert c["connectorDatabaseName"]
        assert c["connectorUsername"]
    assert Counter(c["connectorMaxConnections"] for c in connectors).most_common(1)[0][0] == 8


def test_same_seed_same_data_other_seed_other_data(connectors: list[ConnectorRecord]) -> None:
    assert seed_connectors(7) == connectors
    other = seed_connectors(8)
    assert other != connectors
    # Landmarks hold for every seed.
    assert Counter(c["internalID"] for c in other) == PROJECT_SIZES
    assert by_id(other)[WRONG_PASSWORD_CONNECTOR_ID]["connectorPassword"] == WRONG_PASSWORD


def test_two_stores_with_the_same_seed_hold_the_same_connectors() -> None:
    first, second = Store.open(None, 7), Store.open(None, 7)
    try:
        assert first.list() == second.list()
        assert len(first.list()) == 434
    finally:
        first.close()
        second.close()
