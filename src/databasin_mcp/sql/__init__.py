"""SQL for the data tools: which dialect a connector speaks, and statements checked to only read.

dialects    the connector's sqlglot dialect, from its type, subtype, host, name or port
statements  one read-only SELECT or a one-sentence refusal; the row limit set in the parsed tree;
            preview statements built from quoted identifiers
"""

from .dialects import NoSql, SqlDialect, dialect_of
from .statements import MAX_SQL_CHARS, Limited, Refused, Statement, checked, preview, screen

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
