"""`databasin projects`, `connectors list|find|get` and `metadata ...`: tables for people, JSON for scripts."""

from __future__ import annotations

import json

import pytest

from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    LONG_EXTRAS_CONNECTOR_ID,
    SMALLEST_PROJECT,
    WIDE_TABLE,
)

from .conftest import Databasin

# Nothing here writes: one sandbox for the module.
pytestmark = pytest.mark.shared_sandbox


def test_projects_prints_one_aligned_row_per_project_and_cuts_nothing(databasin: Databasin) -> None:
    # Piped (as here), a row is one line however long: the types were cut at 80 characters (issue 16 #8).
    result = databasin("projects", "--institution", "2")
    assert result.exit_code == 0
    assert result.stdout == (
        "2 projects with 84 connectors in institution 2\n"
        "project_id  institution_id  connectors  types\n"
        "proj-005                 2          72  RDBMS:22 S3:11 Redshift:9 SFTP:6 Salesforce:6 Snowflake:6 MongoDB:4 "
        "REST:3 BigQuery:3 Databricks:2\n"
        "proj-006                 2          12  RDBMS:6 S3:2 MongoDB:2 Redshift:1 Snowflake:1\n"
    )
    assert result.stderr == ""


def test_in_a_terminal_a_long_cell_wraps_to_the_width_instead_of_being_cut(
    databasin: Databasin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("databasin_mcp.cli.output.stdout_is_terminal", lambda: True)
    monkeypatch.setattr("databasin_mcp.cli.output.terminal_width", lambda: 80)
    lines = databasin("projects", "--institution", "2").stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[1:5] == [
        "project_id  institution_id  connectors  types",
        "proj-005                 2          72  RDBMS:22 S3:11 Redshift:9 SFTP:6",
        "                                        Salesforce:6 Snowflake:6 MongoDB:4",
        "                                        REST:3 BigQuery:3 Databricks:2",
    ]


def test_projects_json_is_the_operation_data_in_the_apis_types(databasin: Databasin) -> None:
    data = json.loads(databasin("projects", "--json").stdout)
    assert data["total"] == 12
    assert data["items"][2] == {
        "project_id": SMALLEST_PROJECT,
        "institution_id": 1,  # a number, as the connectors carry it (it was the string "1")
        "connectors": 3,
        "types": {"Redshift": 2, "SFTP": 1},  # an object (it was one string)
    }


def test_connectors_list_shows_the_title_line_and_a_table(databasin: Databasin) -> None:
    result = databasin("connectors", "list", "--project", SMALLEST_PROJECT)
    assert result.exit_code == 0
    assert result.stdout == (
        "3 connectors in proj-003 (inactive: 244, 364)\n"
        "connectorID  connectorName         connectorType  active\n"
        "        114  Logistics Redshift    Redshift       true\n"
        "        244  Support Redshift      Redshift       false\n"
        "        364  Production SFTP Drop  SFTP           false\n"
    )


def test_connectors_list_filters_projects_and_pages(databasin: Databasin) -> None:
    result = databasin(
        "connectors", "list", "--project", SMALLEST_PROJECT, "--inactive", "--fields", "connectorName, connectorPort",
        "--limit", "1", "--offset", "1",
    )  # fmt: skip
    assert result.stdout == (
        "2 of 3 connectors in proj-003 matching --inactive, showing 2–2\n"
        "connectorName         connectorPort\n"
        "Production SFTP Drop  22\n"
    )


def test_connectors_list_takes_the_project_from_the_environment(databasin: Databasin) -> None:
    result = databasin(
        "connectors", "list", "--name-contains", "redshift", "--type", "REDSHIFT", "--active", "--json",
        env={"DATABASIN_PROJECT": SMALLEST_PROJECT},
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["items"] == [
        {"connectorID": 114, "connectorName": "Logistics Redshift", "connectorType": "Redshift", "active": True}
    ]
    assert (data["total"], data["offset"], data["limit"], data["next_offset"]) == (1, 0, 25, None)


def test_connectors_list_json_pages_like_the_tool(databasin: Databasin) -> None:
    result = databasin("connectors", "list", "--project", "proj-007", "--limit", "2", "--offset", "4", "--json")
    data = json.loads(result.stdout)
    assert [item["connectorID"] for item in data["items"]] == [118, 123]
    assert data["fields"] == ["connectorID", "connectorName", "connectorType", "active"]
    assert (data["total"], data["offset"], data["limit"], data["next_offset"], data["truncated"]) == (
        95, 4, 2, 6, False
    )  # fmt: skip


def test_connectors_list_is_not_cut_by_the_agents_character_cap(databasin: Databasin) -> None:
    result = databasin(
        "connectors", "list", "--project", "proj-007", "--fields", "*", "--limit", "95", "--json",
        env={"DATABASIN_MAX_CHARS": "500"},
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert (len(data["items"]), data["truncated"]) == (95, False)


def test_connectors_find_joins_its_words(databasin: Databasin) -> None:
    result = databasin("connectors", "find", "finance", "snowflake", "--limit", "2")
    assert result.stdout == (
        "17 of 434 connectors match 'finance snowflake', showing 1–2 (1 inactive, none on this page); "
        "more: add words to the query, or raise --limit (up to 50)\n"
        "connectorID  connectorName      connectorType  active  internalID\n"
        "        148  Finance Snowflake  Snowflake      true    proj-002\n"
        "        240  Finance Snowflake  Snowflake      true    proj-001\n"
    )


def test_wide_characters_keep_the_columns_aligned(databasin: Databasin) -> None:
    result = databasin("connectors", "find", "東京", "--fields", "connectorID,connectorName,connectorType")
    assert result.stdout == (
        "2 of 434 connectors match '東京'\n"
        "connectorID  connectorName    connectorType\n"
        "        160  東京 Warehouse   Redshift\n"
        "        257  東京 PostgreSQL  RDBMS\n"
    )


def test_connectors_find_with_no_match_says_so(databasin: Databasin) -> None:
    result = databasin("connectors", "find", "zzz")
    assert result.exit_code == 0
    assert result.stdout == (
        "0 of 434 connectors match 'zzz'\nTry fewer or shorter words; the match covers name, host, database and type.\n"
    )


def test_connectors_get_prints_the_record(databasin: Databasin) -> None:
    result = databasin("connectors", "get", "142", "--fields", "connectorHost,connectorPort")
    assert result.exit_code == 0
    assert result.stdout == (
        "connectorID: 142\n"
        "connectorHost: enterprisesnowflakewarehouse09.us-east-1.snowflakecomputing.com\n"
        "connectorPort: 443\n"
        "more fields: testConnectorSupport (ask with --fields NAME,...)\n"
    )


def test_connectors_get_json_is_the_connector(databasin: Databasin) -> None:
    data = json.loads(databasin("connectors", "get", "142", "--json").stdout)
    assert data["connector"]["connectorName"] == "Enterprise Snowflake Warehouse"
    assert data["connector"]["internalID"] == "proj-007"
    assert data["connector"]["testConnectorSupport"] is True  # a short extra is shown, a long one named
    assert data["omitted_fields"] == []
    assert not any("password" in name.lower() for name in data["connector"])


def test_connectors_get_names_long_extras_instead_of_showing_them(databasin: Databasin) -> None:
    data = json.loads(databasin("connectors", "get", str(LONG_EXTRAS_CONNECTOR_ID), "--json").stdout)
    assert data["omitted_fields"] == ["connectorDescription", "connectionOptions"]
    assert "connectorDescription" not in data["connector"]


def test_metadata_catalogs(databasin: Databasin) -> None:
    result = databasin("metadata", "catalogs", str(BIG_CONNECTOR_ID), "--name-contains", "A", "--limit", "1")
    assert result.stdout == (
        "2 of 5 catalogs in connector 142 matching --name-contains A, showing 1–1; next: --offset 1\n"
        "catalogName  description\n"
        "marketing    Marketing campaigns and attribution\n"
    )


def test_metadata_schemas_of_a_catalog(databasin: Databasin) -> None:
    result = databasin("metadata", "schemas", str(BIG_CONNECTOR_ID), "--catalog", BIG_CATALOG, "--offset", "3")
    assert result.stdout == (
        "5 schemas in connector 142, catalog enterprise_dw, showing 4–5\n"
        "schemaName     description\n"
        "sales_history  Sales History schema\n"
        "staging        Staging schema\n"
    )


def test_metadata_tables_right_align_numbers(databasin: Databasin) -> None:
    result = databasin(
        "metadata", "tables", str(BIG_CONNECTOR_ID), "--catalog", BIG_CATALOG, "--schema", BIG_SCHEMA,
        "--fields", "*", "--limit", "3",
    )  # fmt: skip
    assert result.stdout == (
        "1,500 tables in connector 142, enterprise_dw.sales_history, showing 1–3; next: --offset 3\n"
        "tableName   tableType  rowCount  sizeInBytes\n"
        "accounts    TABLE       2302083    750479058\n"
        "accounts_2  TABLE           613       242748\n"
        "accounts_3  TABLE          6902      1704794\n"
    )


def test_metadata_columns_json(databasin: Databasin) -> None:
    result = databasin(
        "metadata", "columns", str(BIG_CONNECTOR_ID), "--catalog", BIG_CATALOG, "--schema", BIG_SCHEMA,
        "--table", WIDE_TABLE, "--fields", "columnName,dataType", "--limit", "2", "--offset", "2", "--json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["items"] == [
        {"columnName": "updated_at", "dataType": "TIMESTAMP"},
        {"columnName": "name", "dataType": "VARCHAR(255)"},
    ]
    assert (data["total"], data["next_offset"]) == (250, 4)
