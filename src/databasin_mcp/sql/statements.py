"""One read-only SELECT, or a refusal that says why in one sentence; the row limit set in the parsed tree.

A statement is run only if it parses (sqlglot, in the connector's dialect) as exactly one SELECT
(WITH, UNION/INTERSECT/EXCEPT and subqueries allowed) with nothing in its tree that writes, locks,
waits or acts outside the query: no DML or DDL anywhere (a data-modifying WITH is a DELETE inside a
SELECT), no SELECT INTO, no FOR UPDATE/SHARE or locking table hint, no function known to write or to
sleep, no COPY, CALL, EXECUTE, PRAGMA, SET, USE or other command. What cannot be parsed is refused.

What is sent is not the caller's text but the checked tree written back by sqlglot, comments left
out (a MySQL `/*! ... */` comment is executed by MySQL), with the row limit set in the tree; that
text is parsed and checked once more before it goes.

`screen` runs before the connector's dialect is known (before any request): it refuses a statement
that any dialect this server knows reads as something other than one safe SELECT, so a write is
refused without a single request, whatever the connector turns out to be.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import ErrorLevel, exp
from sqlglot.errors import ParseError, SqlglotError

from .dialects import KNOWN_DIALECTS

# sqlglot warns through logging with the statement's text ("'CALL p()' contains unsupported syntax"):
# nothing of a statement but its shape may reach a log, so its logger is silenced.
# (A level above CRITICAL: handlers a host attaches to the logger itself see nothing either.)
_SQLGLOT_LOG = logging.getLogger("sqlglot")
_SQLGLOT_LOG.setLevel(logging.CRITICAL + 1)
_SQLGLOT_LOG.propagate = False

MAX_SQL_CHARS = 20_000

# Statement kinds by the tree node that says them, for "sql is a DELETE statement".
_KINDS: tuple[tuple[str, str], ...] = (
    ("Insert", "INSERT"),
    ("Update", "UPDATE"),
    ("Delete", "DELETE"),
    ("Merge", "MERGE"),
    ("Copy", "COPY"),
    ("Create", "CREATE"),
    ("Drop", "DROP"),
    ("Alter", "ALTER"),
    ("TruncateTable", "TRUNCATE"),
    ("Grant", "GRANT"),
    ("Revoke", "REVOKE"),
    ("Execute", "EXECUTE"),
    ("Pragma", "PRAGMA"),
    ("Set", "SET"),
    ("Use", "USE"),
    ("Transaction", "BEGIN"),
    ("Commit", "COMMIT"),
    ("Rollback", "ROLLBACK"),
    ("Kill", "KILL"),
    ("LoadData", "LOAD DATA"),
    ("Cache", "CACHE"),
    ("Uncache", "UNCACHE"),
    ("Refresh", "REFRESH"),
    ("Attach", "ATTACH"),
    ("Detach", "DETACH"),
    ("Install", "INSTALL"),
    ("Analyze", "ANALYZE"),
    ("Describe", "DESCRIBE"),
    ("Show", "SHOW"),
    ("Values", "VALUES"),
    ("Summarize", "SUMMARIZE"),
)
_KIND_OF = {getattr(exp, name): kind for name, kind in _KINDS if hasattr(exp, name)}
# Any of these anywhere in the tree is a statement that does more than read.
# (VALUES is a row source inside a SELECT, not a statement there.)
_NEVER_INSIDE: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Command,
    *(node for node in _KIND_OF if node is not getattr(exp, "Values", None)),
)

# Functions known to wait, or to act outside the query (write, lock, signal, read server files, reach
# other servers), by name; and name prefixes of whole families (Oracle's DBMS_/UTL_ packages, ...).
_WAITS = frozenset({"pg_sleep", "pg_sleep_for", "pg_sleep_until", "sleep", "benchmark", "waitfor", "system$wait"})
_ACTS = frozenset(
    {
        "nextval", "setval", "set_config", "txid_current", "pg_current_xact_id",
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal",
        "pg_promote", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
        "pg_file_rename", "pg_file_unlink", "pg_import_system_collations", "pg_notify",
        "query_to_xml", "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
        "get_lock", "release_lock", "release_all_locks", "load_file", "master_pos_wait", "source_pos_wait",
        "wait_for_executed_gtid_set", "openrowset", "opendatasource", "openquery", "external_query",
    }
)  # fmt: skip
_ACTING_PREFIXES = (
    "pg_advisory", "pg_try_advisory", "pg_logical", "pg_replication", "pg_create_", "pg_drop_", "lo_",
    "dblink", "dbms_", "utl_", "sys_exec", "sys_eval", "xp_", "sp_", "system$",
)  # fmt: skip
# SQL Server table hints that take locks (NOLOCK and READPAST only read).
_LOCKING_HINTS = ("UPDLOCK", "XLOCK", "TABLOCK", "TABLOCKX", "HOLDLOCK", "PAGLOCK", "ROWLOCK", "SERIALIZABLE")


class Refused(ValueError):
    """The statement is not one read-only SELECT; str() is one sentence saying why (the SQL not quoted)."""


@dataclass(frozen=True)
class Statement:
    """A checked read-only SELECT in one dialect."""

    tree: exp.Query
    dialect: str

    def limited(self, limit: int) -> Limited:
        """The statement returning at most `limit` rows: its own smaller limit is kept, a larger or
        non-literal one replaced; set in the tree (sqlglot writes LIMIT, TOP or FETCH FIRST)."""
        own = _literal_limit(self.tree)
        if own is not None and own <= limit:
            return Limited(self, own, own_limit=True)
        # A copy (ours stays as it was). Where a dialect has no limit on a UNION (tsql), sqlglot selects
        # TOP n from it as a subquery: still one SELECT.
        tree = self.tree.limit(limit)
        return Limited(Statement(tree, self.dialect), limit, own_limit=False)

    def shape(self) -> str:
        """What may be logged of a statement: its kind and counts, never names, values or text."""
        tree = self.tree
        counts = [
            ("table", len(list(tree.find_all(exp.Table)))),
            ("join", len(list(tree.find_all(exp.Join)))),
            ("CTE", len(list(tree.find_all(exp.CTE)))),
            ("subquery", len(list(tree.find_all(exp.Subquery)))),
            ("set operation", len(list(tree.find_all(exp.SetOperation)))),
        ]
        said = ", ".join(_counted(count, noun) for noun, count in counts)
        return f"{type(tree).__name__.upper()} in {self.dialect or 'generic SQL'}: {said}"


@dataclass(frozen=True)
class Limited:
    """A statement with its row limit set, and whether that limit is the statement's own (smaller) one."""

    statement: Statement
    limit: int
    own_limit: bool

    def text(self) -> str:
        """The SQL to send: the checked tree written back in its dialect, without comments, checked again."""
        statement = self.statement
        try:
            text = statement.tree.sql(dialect=statement.dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
        except SqlglotError:
            raise Refused(
                f"sql could not be written back as {_named(statement.dialect)} SQL after its limit was set; "
                "nothing was run."
            ) from None
        checked(text, statement.dialect)  # what goes is what was checked: one read-only SELECT
        return text


def screen(sql: str, dialects: Iterable[str] = (*KNOWN_DIALECTS, "")) -> None:
    """Refuse, before the connector's dialect is known, a statement that any known dialect reads as
    other than one read-only SELECT, or that none can read at all."""
    _check_text(sql)
    read_by_any = False
    for dialect in dialects:
        try:
            statements = _parse(sql, dialect)
        except Refused:
            continue
        read_by_any = True
        _check(statements, dialect)
    if not read_by_any:
        raise Refused("sql could not be parsed as SQL of any dialect this server knows; nothing was run.")


def checked(sql: str, dialect: str) -> Statement:
    """`sql` as one read-only SELECT in `dialect`, or Refused saying why."""
    _check_text(sql)
    return _check(_parse(sql, dialect, explain=True), dialect)


def preview(
    dialect: str, table: str, *, schema: str | None, catalog: str | None, columns: Sequence[str] | None, levels: int
) -> Statement:
    """SELECT the columns (or *) of a table, every identifier quoted as the dialect quotes, so that names
    with spaces, capitals, reserved words or other scripts reach the database as they are listed.

    `levels` is how many name parts the dialect's tables have: 3 (catalog.schema.table) or 2, where the
    schema (else the catalog) qualifies the table (MySQL's database, Oracle's schema)."""
    if levels == 2:
        schema, catalog = schema or catalog, None
    picked = [exp.column(name, quoted=True) for name in columns] if columns else [exp.Star()]
    source = exp.table_(table, db=schema, catalog=catalog, quoted=True)
    return _check([exp.select(*picked).from_(source)], dialect)


# --- the checks ---------------------------------------------------------------------------------


def _check_text(sql: str) -> None:
    if not sql.strip():
        raise Refused("sql is empty: give one SELECT statement.")
    if len(sql) > MAX_SQL_CHARS:
        raise Refused(f"sql is longer than {MAX_SQL_CHARS:,} characters; nothing was run.")


def _parse(sql: str, dialect: str, *, explain: bool = False) -> list[exp.Expr]:
    try:
        parsed = sqlglot.parse(sql, read=dialect or None)
    except ParseError as error:
        if not explain:
            raise Refused("unparsable") from None
        where = _where(error)
        raise Refused(
            f"sql could not be parsed as {_named(dialect)} SQL{where}; only a statement this server can parse "
            "is run, so nothing was."
        ) from None
    except (SqlglotError, RecursionError):
        raise Refused(f"sql could not be parsed as {_named(dialect)} SQL; nothing was run.") from None
    return [statement for statement in parsed if statement is not None]


def _where(error: ParseError) -> str:
    problems = error.errors[:1]
    if not problems:
        return ""
    first = problems[0]
    description = str(first.get("description") or "").strip().rstrip(".")
    line, column = first.get("line"), first.get("col")
    at = f" at line {line}, column {column}" if line and column else ""
    return f"{at} ({description})" if description else at


def _check(statements: list[exp.Expr], dialect: str) -> Statement:
    if not statements:
        raise Refused("sql holds no statement: give one SELECT statement.")
    if len(statements) > 1:
        raise Refused(f"sql holds {len(statements)} statements; only one SELECT is run at a time, so none was.")
    root = statements[0]
    while isinstance(root, exp.Subquery):  # "(SELECT ...)" is the SELECT
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise Refused(f"sql is {_article(_kind(root))} statement; only a read-only SELECT is run, so it was not.")
    for node in root.walk():
        _refuse_node(node)
    return Statement(root, dialect)


def _refuse_node(node: exp.Expr) -> None:
    if isinstance(node, _NEVER_INSIDE):
        raise Refused(
            f"sql holds {_article(_kind(node))} inside its SELECT (a data-modifying WITH or subquery); "
            "only a read-only SELECT is run, so it was not."
        )
    if isinstance(node, exp.Select):
        if node.args.get("into") is not None:
            raise Refused("sql is a SELECT INTO, which writes a table; only a read-only SELECT is run.")
        if node.args.get("locks"):
            raise Refused("sql locks rows (FOR UPDATE or FOR SHARE); only a SELECT without locks is run.")
    elif isinstance(node, exp.Into):
        raise Refused("sql writes its result into a table or file (INTO); only a read-only SELECT is run.")
    elif isinstance(node, exp.Lock):
        raise Refused("sql locks rows (FOR UPDATE or FOR SHARE); only a SELECT without locks is run.")
    elif isinstance(node, exp.WithTableHint):
        hints = node.sql().upper()
        taken = next((hint for hint in _LOCKING_HINTS if hint in hints), None)
        if taken is not None:
            raise Refused(f"sql asks for locks (table hint {taken}); only a SELECT without locks is run.")
    elif isinstance(node, exp.Func):
        _refuse_function(node)


def _refuse_function(node: exp.Func) -> None:
    name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).casefold()
    parts = [name]
    if isinstance(node.parent, exp.Dot) and node.parent.expression is node:  # dbms_lock.sleep(5)
        parts.insert(0, node.parent.this.sql().casefold().strip('"`[]'))
    called = ".".join(parts)
    if any(part in _WAITS for part in parts):
        raise Refused(f"sql calls {called}, which waits; only a SELECT that just reads is run.")
    if any(part in _ACTS or part.startswith(_ACTING_PREFIXES) for part in parts):
        raise Refused(
            f"sql calls {called}, which can write or act outside the query; only a SELECT that just reads is run."
        )


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper() or "command"
    for cls in type(node).__mro__:
        if cls in _KIND_OF:
            return _KIND_OF[cls]
    return type(node).__name__.upper()


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "AEIOU" else f"a {kind}"


def _literal_limit(tree: exp.Query) -> int | None:
    """The statement's own row limit when it is a plain number (LIMIT 5, TOP 5, FETCH FIRST 5 ROWS)."""
    found = tree.args.get("limit")
    if isinstance(found, exp.Limit):
        count = found.expression
    elif isinstance(found, exp.Fetch):
        options = found.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            return None
        count = found.args.get("count")
    else:
        return None
    if isinstance(count, exp.Literal) and not count.is_string and str(count.this).isdigit():
        return int(str(count.this))
    return None


def _named(dialect: str) -> str:
    return dialect or "generic"


def _counted(count: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{count} {noun if count == 1 else plural}"
