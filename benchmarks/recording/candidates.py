"""Other shapes the same answer could take, counted as Claude Code would forward them (issue 13, items 1 and 6).

Computed offline from the in-process results with Claude Code's rule (JSON.stringify of
structuredContent), so that a design can be chosen by its figures before it is built:
- listings: today's structuredContent; a columnar form that also carries the title line; the
  columnar form without it; our text block alone inside JSON ({"text": ...}); our text as is.
- get_connector: as forwarded today, the minified and pretty JSON of the upstream body, and the
  minified JSON of the fields we show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..tokens import compact_json, count
from .calls import Call
from .client_views import js_stringify

LISTING_KEYS = ("items", "fields")


@dataclass(frozen=True)
class ListingShapes:
    key: str
    title: str
    structured_today: int
    columnar_with_summary: int
    columnar: int
    text_in_json: int
    text: int


@dataclass(frozen=True)
class SingleShapes:
    forwarded_today: int
    shown_fields_minified: int
    upstream_minified: int
    upstream_pretty: int


def columnar(data: dict[str, Any], summary: str | None) -> dict[str, Any]:
    """{"summary", "columns", "rows", then the other keys}: each field name once, each row a list."""
    fields = list(data["fields"])
    shape: dict[str, Any] = {} if summary is None else {"summary": summary}
    shape["columns"] = fields
    shape["rows"] = [[item.get(field) for field in fields] for item in data["items"]]
    shape.update({k: v for k, v in data.items() if k not in LISTING_KEYS})
    return shape


def listing_shapes(calls: Sequence[Call]) -> list[ListingShapes]:
    shapes: list[ListingShapes] = []
    for call in calls:
        data = call.result.structured_content
        if not data or "items" not in data:
            continue
        title_line = call.text.partition("\n")[0]
        shapes.append(
            ListingShapes(
                key=call.key,
                title=call.title,
                structured_today=count(js_stringify(data)),
                columnar_with_summary=count(js_stringify(columnar(data, title_line))),
                columnar=count(js_stringify(columnar(data, None))),
                text_in_json=count(js_stringify({"text": call.text})),
                text=count(call.text),
            )
        )
    return shapes


def single_shapes(calls: Sequence[Call]) -> SingleShapes | None:
    call = next((c for c in calls if c.key == "get_connector"), None)
    if call is None or not call.result.structured_content or not call.raw_bodies:
        return None
    (upstream,) = call.raw_bodies
    return SingleShapes(
        forwarded_today=count(js_stringify(call.result.structured_content)),
        shown_fields_minified=count(compact_json(call.result.structured_content["connector"])),
        upstream_minified=count(compact_json(upstream)),
        upstream_pretty=count(json.dumps(upstream, indent=2, ensure_ascii=False)),
    )
