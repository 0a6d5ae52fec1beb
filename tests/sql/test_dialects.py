"""Which SQL a connector speaks, from what its record says, and refusing to guess (issue 17 #1)."""

from __future__ import annotations

import pytest

from databasin_mcp.sql import NoSql, SqlDialect, dialect_of


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"connector_type": "database", "subtype": "postgres"}, SqlDialect("postgres", 'connectorSubType "postgres"')),
        ({"connector_type": "database", "subtype": "mssql"}, SqlDialect("tsql", 'connectorSubType "mssql"')),
        ({"connector_type": "Snowflake"}, SqlDialect("snowflake", 'connectorType "Snowflake"')),
        ({"connector_type": "BigQuery"}, SqlDialect("bigquery", 'connectorType "BigQuery"')),
        ({"connector_type": "Redshift"}, SqlDialect("redshift", 'connectorType "Redshift"')),
        ({"connector_type": "Databricks"}, SqlDialect("databricks", 'connectorType "Databricks"')),
        (
            {"connector_type": "RDBMS", "name": "Orders", "host": "orders.database.windows.net", "port": "3306"},
            SqlDialect("tsql", "its host"),
        ),
        (
            {"connector_type": "RDBMS", "name": "Orders", "host": "mysql-02.db.example.com"},
            SqlDialect("mysql", "its host"),
        ),
        ({"connector_type": "RDBMS", "name": "Billing MySQL Replica", "port": "5432"}, SqlDialect("mysql", "its name")),
        ({"connector_type": "RDBMS", "name": "Archived Oracle ERP"}, SqlDialect("oracle", "its name")),
        ({"connector_type": "RDBMS", "name": "Finance SQL Server"}, SqlDialect("tsql", "its name")),
        ({"connector_type": "RDBMS", "name": "Orders", "port": "5432"}, SqlDialect("postgres", "port 5432")),
        ({"connector_type": "RDBMS", "name": "Orders", "port": "1521"}, SqlDialect("oracle", "port 1521")),
    ],
)
def test_the_dialect_is_read_from_subtype_then_type_then_host_name_and_port(
    record: dict[str, str], expected: SqlDialect
) -> None:
    assert dialect_of(**record) == expected


def test_a_connector_that_holds_no_sql_says_so() -> None:
    assert dialect_of(connector_type="S3") == NoSql("its type, S3, holds no SQL tables")
    assert dialect_of(connector_type="file & api", subtype="csv") == NoSql("its type, csv, holds no SQL tables")


def test_a_relational_connector_whose_product_nothing_names_is_not_guessed() -> None:
    assert dialect_of(connector_type="RDBMS", name="Orders", port="6000") == NoSql(
        "its type RDBMS does not say which database it is, and its name, host and port do not name one either"
    )
