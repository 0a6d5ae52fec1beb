"""SQL for the data tools: which dialect a connector speaks, and statements checked to only read.

dialects    the connector's sqlglot dialect, from its type, subtype, host, name or port
statements  one read-only SELECT or a one-sentence refusal; the row limit set in the parsed tree;
            preview statements built from quoted identifiers
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dialects import NoSql, SqlDialect, dialect_of

if TYPE_CHECKING:
    from .statements import MAX_SQL_CHARS, Limited, Refused, Statement, checked, preview, screen

# statements imports sqlglot, ~90 ms: on first use (the first data call), not when the server starts.
_FROM_STATEMENTS = frozenset({"MAX_SQL_CHARS", "Limited", "Refused", "Statement", "checked", "preview", "screen"})


def __getattr__(name: str) -> Any:
    if name in _FROM_STATEMENTS:
        from . import statements

        return getattr(statements, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_SQL_CHARS",
    "Limited",
    "NoSql",
    "Refused",
    "SqlDialect",
    "Statement",
    "checked",
    "dialect_of",
    "preview",
    "screen",
]
