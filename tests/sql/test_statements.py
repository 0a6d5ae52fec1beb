"""Only one read-only SELECT is ever run: refusals in one sentence, the limit set in the tree (issue 17 #2)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from databasin_mcp.sql import Refused, checked, preview, screen
from databasin_mcp.sql.dialects import KNOWN_DIALECTS

# --- refusals, each in one sentence that says why --------------------------------------------------------

REFUSED = [
    ("DELETE FROM orders", "sql is a DELETE statement; only a read-only SELECT is run, so it was not."),
    ("update orders set x = 1", "sql is an UPDATE statement; only a read-only SELECT is run, so it was not."),
    ("DROP TABLE orders", "sql is a DROP statement; only a read-only SELECT is run, so it was not."),
    ("SELECT 1; DROP TABLE orders", "sql holds 2 statements; only one SELECT is run at a time, so none was."),
    (
        "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
        "sql holds a DELETE inside its SELECT (a data-modifying WITH or subquery); only a read-only SELECT is run, "
        "so it was not.",
    ),
    ("SELECT * INTO backup FROM orders", "sql is a SELECT INTO, which writes a table; only a read-only SELECT is run."),
    (
        "SELECT * FROM orders FOR UPDATE",
        "sql locks rows (FOR UPDATE or FOR SHARE); only a SELECT without locks is run.",
    ),
    ("SELECT pg_sleep(30)", "sql calls pg_sleep, which waits; only a SELECT that just reads is run."),
    (
        "SELECT nextval('order_ids')",
        "sql calls nextval, which can write or act outside the query; only a SELECT that just reads is run.",
    ),
    (
        "SELECT dbms_lock.sleep(5) FROM dual",
        "sql calls dbms_lock.sleep, which waits; only a SELECT that just reads is run.",
    ),
    ("CALL refresh_all()", "sql is a CALL statement; only a read-only SELECT is run, so it was not."),
    ("COPY orders TO STDOUT", "sql is a COPY statement; only a read-only SELECT is run, so it was not."),
    ("SET search_path = x", "sql is a SET statement; only a read-only SELECT is run, so it was not."),
    ("EXPLAIN SELECT 1", "sql is an EXPLAIN statement; only a read-only SELECT is run, so it was not."),
    (
        "SELECT * FROM orders WITH (UPDLOCK)",
        "sql asks for locks (table hint UPDLOCK); only a SELECT without locks is run.",
    ),
    ("   ", "sql is empty: give one SELECT statement."),
    ("SELEC 1", "sql could not be parsed as SQL of any dialect this server knows; nothing was run."),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED)
def test_a_statement_that_is_not_one_read_only_select_is_refused_before_anything_is_sent(sql: str, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        screen(sql)
    assert str(refused.value) == reason


def test_a_statement_the_connectors_dialect_cannot_parse_is_refused_with_where() -> None:
    with pytest.raises(Refused) as refused:
        checked("SELECT TOP 5 * FROM orders", "postgres")
    assert str(refused.value) == (
        "sql could not be parsed as postgres SQL at line 1, column 12 (Invalid expression / Unexpected token); "
        "only a statement this server can parse is run, so nothing was."
    )


def test_a_backslash_that_ends_no_string_in_mysql_is_refused_where_another_dialect_reads_two_statements() -> None:
    # MySQL reads one SELECT of a string; standard SQL reads a SELECT, a DELETE and a comment.
    with pytest.raises(Refused, match="statements"):
        screen("SELECT 'a\\'; DELETE FROM orders; -- '")


# --- what is allowed, and the limit set in the tree ------------------------------------------------------

ALLOWED = [
    ("SELECT * FROM orders", "postgres", "SELECT * FROM orders LIMIT 10"),
    ("select id from orders limit 500", "postgres", "SELECT id FROM orders LIMIT 10"),
    ("SELECT id FROM orders LIMIT 3 OFFSET 6", "postgres", "SELECT id FROM orders LIMIT 3 OFFSET 6"),
    ("SELECT * FROM orders", "tsql", "SELECT TOP 10 * FROM orders"),
    ("SELECT TOP 500 * FROM orders", "tsql", "SELECT TOP 10 * FROM orders"),
    ("SELECT * FROM orders", "oracle", "SELECT * FROM orders FETCH FIRST 10 ROWS ONLY"),
    (
        "WITH big AS (SELECT id FROM orders WHERE total > 100) SELECT id FROM big UNION SELECT id FROM refunds",
        "postgres",
        "WITH big AS (SELECT id FROM orders WHERE total > 100) SELECT id FROM big UNION SELECT id FROM refunds "
        "LIMIT 10",
    ),
    (
        "SELECT a FROM t UNION ALL SELECT b FROM u",
        "tsql",
        "SELECT TOP 10 * FROM (SELECT a FROM t UNION ALL SELECT b FROM u) AS _l_0",
    ),
    (
        "SELECT * FROM (SELECT id FROM orders) AS o /* a note */",
        "mysql",
        "SELECT * FROM (SELECT id FROM orders) AS o LIMIT 10",
    ),
    ("SELECT 1 /*! ; DROP TABLE x */", "mysql", "SELECT 1 LIMIT 10"),
    ("SELECT * FROM orders WITH (NOLOCK)", "tsql", "SELECT TOP 10 * FROM orders WITH (NOLOCK)"),
    ("SELECT * FROM (VALUES (1, 2)) AS v(a, b)", "postgres", "SELECT * FROM (VALUES (1, 2)) AS v(a, b) LIMIT 10"),
]


@pytest.mark.parametrize(("sql", "dialect", "sent"), ALLOWED)
def test_a_read_only_select_is_sent_as_its_checked_tree_with_the_limit_set_in_it(
    sql: str, dialect: str, sent: str
) -> None:
    screen(sql)
    assert checked(sql, dialect).limited(10).text() == sent


def test_the_statements_own_smaller_limit_is_kept_and_said_to_be_its_own() -> None:
    limited = checked("SELECT * FROM orders LIMIT 3", "postgres").limited(10)
    assert (limited.limit, limited.own_limit) == (3, True)
    larger = checked("SELECT * FROM orders LIMIT 300", "postgres").limited(10)
    assert (larger.limit, larger.own_limit) == (10, False)


def test_the_shape_names_no_table_column_or_value() -> None:
    statement = checked("SELECT secret_col FROM payroll p JOIN people q ON p.id = q.id WHERE q.name = 'Ann'", "mysql")
    shape = statement.shape()
    assert shape == "SELECT in mysql: 2 tables, 1 join, 0 CTEs, 0 subqueries, 0 set operations"


def test_sqlglot_warnings_that_quote_the_statement_never_reach_a_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(Refused):
        screen("CALL secret_procedure('hunter2')")
    assert "hunter2" not in caplog.text
    assert "secret_procedure" not in caplog.text


# --- preview statements: every identifier quoted as the dialect quotes -----------------------------------

AWKWARD = ["Order ID", "select", "MixedCase", "größe", "東京", 'a"b']


@pytest.mark.parametrize(
    ("dialect", "levels", "sent"),
    [
        (
            "postgres",
            3,
            'SELECT "Order ID", "select", "MixedCase", "größe", "東京", "a""b" FROM "db"."Sample Data"."Order Items" '
            "LIMIT 10",
        ),
        (
            "mysql",
            2,
            'SELECT `Order ID`, `select`, `MixedCase`, `größe`, `東京`, `a"b` FROM `Sample Data`.`Order Items` '
            "LIMIT 10",
        ),
        (
            "snowflake",
            3,
            'SELECT "Order ID", "select", "MixedCase", "größe", "東京", "a""b" FROM "db"."Sample Data"."Order Items" '
            "LIMIT 10",
        ),
        (
            "bigquery",
            3,
            'SELECT `Order ID`, `select`, `MixedCase`, `größe`, `東京`, `a"b` FROM `db`.`Sample Data`.`Order Items` '
            "LIMIT 10",
        ),
        (
            "tsql",
            3,
            'SELECT TOP 10 [Order ID], [select], [MixedCase], [größe], [東京], [a"b] '
            "FROM [db].[Sample Data].[Order Items]",
        ),
        (
            "oracle",
            2,
            'SELECT "Order ID", "select", "MixedCase", "größe", "東京", "a""b" FROM "Sample Data"."Order Items" '
            "FETCH FIRST 10 ROWS ONLY",
        ),
    ],
)
def test_a_preview_quotes_every_awkward_name_as_its_dialect_does(dialect: str, levels: int, sent: str) -> None:
    built = preview(dialect, "Order Items", schema="Sample Data", catalog="db", columns=AWKWARD, levels=levels)
    assert built.limited(10).text() == sent


def test_a_preview_without_columns_selects_star_and_a_two_level_dialect_takes_the_catalog_without_a_schema() -> None:
    built = preview("mysql", "orders", schema=None, catalog="shop", columns=None, levels=2)
    assert built.limited(5).text() == "SELECT * FROM `shop`.`orders` LIMIT 5"


# --- a generated corpus: every write or multi-statement form is refused ----------------------------------

_POSTGRES = Dialect.get_or_raise("postgres")


def _plain_name(name: str) -> bool:
    """A word the dialect reads as a name, not a keyword (`ON`, `SELECT`, `LIMIT`): as its tokenizer says."""
    tokens = _POSTGRES.tokenize(name)
    return len(tokens) == 1 and tokens[0].token_type == TokenType.VAR


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True).filter(_plain_name)
values = st.one_of(st.integers(-1000, 1000).map(str), st.from_regex(r"'[a-z ]{0,8}'", fullmatch=True))
SAFE = st.builds(lambda c, t: f"SELECT {c} FROM {t}", names, names)


def _writes(t: str, c: str, v: str, t2: str) -> list[str]:
    return [
        f"INSERT INTO {t} ({c}) VALUES ({v})",
        f"INSERT INTO {t} SELECT * FROM {t2}",
        f"UPDATE {t} SET {c} = {v}",
        f"UPDATE {t} SET {c} = {v} WHERE {c} = {v}",
        f"DELETE FROM {t}",
        f"DELETE FROM {t} WHERE {c} = {v}",
        f"MERGE INTO {t} USING {t2} ON {t}.{c} = {t2}.{c} WHEN MATCHED THEN DELETE",
        f"CREATE TABLE {t} ({c} INT)",
        f"CREATE TABLE {t} AS SELECT * FROM {t2}",
        f"CREATE VIEW {t} AS SELECT * FROM {t2}",
        f"DROP TABLE {t}",
        f"DROP VIEW IF EXISTS {t}",
        f"ALTER TABLE {t} ADD COLUMN {c} INT",
        f"TRUNCATE TABLE {t}",
        f"GRANT SELECT ON {t} TO {c}",
        f"REVOKE SELECT ON {t} FROM {c}",
        f"COPY {t} TO STDOUT",
        f"CALL {c}()",
        f"EXEC {c}",
        f"EXECUTE {c}",
        f"SET {c} = {v}",
        f"USE {t}",
        f"PRAGMA {c}",
        f"LOCK TABLE {t}",
        f"BEGIN; DELETE FROM {t}; COMMIT",
        f"SELECT * INTO {t} FROM {t2}",
        f"SELECT * FROM {t} FOR UPDATE",
        f"SELECT * FROM {t} FOR SHARE",
        f"WITH x AS (DELETE FROM {t} RETURNING *) SELECT * FROM x",
        f"WITH x AS (UPDATE {t} SET {c} = {v} RETURNING *) SELECT * FROM x",
        f"WITH x AS (INSERT INTO {t} ({c}) VALUES ({v}) RETURNING *) SELECT * FROM x",
        f"SELECT pg_sleep({v})",
        f"SELECT SLEEP(5) FROM {t}",
        f"SELECT setval('{c}', 1)",
        f"SELECT * FROM {t} WHERE {c} = (SELECT pg_terminate_backend(1))",
    ]


@st.composite
def write_forms(draw: st.DrawFn) -> str:
    t, c, t2 = draw(names), draw(names), draw(names)
    v = draw(values)
    form = draw(st.sampled_from(_writes(t, c, v, t2)))
    # Alone, after a SELECT, before one, in odd case and spacing, with comments around.
    wrapping = draw(st.sampled_from(["{w}", "{s}; {w}", "{w}; {s}", "{s};\n{w};", "/* x */ {w} -- y", "{s} ;{w}"]))
    cased = draw(st.sampled_from([str, str.lower, str.upper]))
    return wrapping.format(w=cased(form), s=draw(SAFE))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_forms())
def test_every_generated_write_or_multi_statement_form_is_refused_in_every_dialect(sql: str) -> None:
    with pytest.raises(Refused):
        screen(sql)
    for dialect in (*KNOWN_DIALECTS, ""):
        with pytest.raises(Refused):
            checked(sql, dialect)


@settings(max_examples=100, deadline=None)
@given(SAFE, st.integers(1, 100))
def test_every_generated_plain_select_passes_and_is_sent_with_its_limit(sql: str, limit: int) -> None:
    screen(sql)
    sent = checked(sql, "postgres").limited(limit).text()
    assert sent.endswith(f" LIMIT {limit}")
