"""The same data in the encodings we compare our answers with.

- pretty: what the API reference's CLI examples print (JSON.stringify(x, null, 2));
- minified: the same JSON without any whitespace;
- TOON: Token-Oriented Object Notation (https://github.com/toon-format/spec), through its official
  Python implementation `toon-format` (uniform arrays of objects become one header and CSV-like rows);
- vendor CSV: the most frugal listing of the vendor's own CLI (Databasin-AI/databasin-cli).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Render = Callable[[Any], str]


def pretty(body: Any) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False)


def minified(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def toon(body: Any) -> str:
    import toon_format  # here, not at the top: the budget test never needs TOON

    return toon_format.encode(body)


def joined(render: Render, bodies: Iterable[Any]) -> str:
    """Several bodies (e.g. create, then test) as one text, one after the other."""
    return "\n".join(render(body) for body in bodies)


def vendor_csv(rows: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """The vendor CLI's CSV: header of field names; quotes only when needed; true/false; null empty.

    Lines are joined by "\\n" with no newline after the last one (the cheaper reading of the peer).
    """
    lines = [",".join(fields)]
    lines += [",".join(_csv_cell(row.get(name)) for name in fields) for row in rows]
    return "\n".join(lines)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
