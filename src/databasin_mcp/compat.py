"""The real Databasin backend's other metadata routes, and how their answers map to the reference's.

Besides the reference's GET /api/connector/{id}/catalogs|schemas|tables|columns, the
backend serves (as seen in the vendor's own command-line client):
    GET  /api/v2/connector/catalogs/{id}                       {..., "objects": ["name", ...]}
    GET  /api/v2/connector/schemas/{id}?catalog=               {..., "objects": ["name", ...]}
    GET  /api/v2/connector/tables/{id}?catalog=&schema=        {..., "objects": [{"name", "type"}, ...]}
    POST /api/connector/columns  {connectorID, tableName, schemaCatalog: "catalog.schema"}
                                                               [{"name", "type", "nullable"}, ...]
Older deployments wrap the lists as {"catalogs": [...]}, {"schemas": [...]}, {"columns": [...]}.
These functions turn any of those shapes into rows with the reference's field names, so both
route families end in the same models and the same output.
"""

from __future__ import annotations

from typing import Any

from .errors import BadResponseError

# route kind -> (the reference's name field, the reference's field for the v2 `type`)
_SHAPES = {
    "catalogs": ("catalogName", None),
    "schemas": ("schemaName", None),
    "tables": ("tableName", "tableType"),
    "columns": ("columnName", "dataType"),
}


def v2_path(kind: str, connector_id: int) -> str:
    """The v2 GET route for catalogs, schemas or tables of a connector."""
    return f"/api/v2/connector/{kind}/{connector_id}"


def schema_catalog(catalog: str | None, schema: str | None) -> str | None:
    """The v2 columns route's `schemaCatalog`: 'catalog.schema', or whichever of the two is known."""
    parts = [part for part in (catalog, schema) if part]
    return ".".join(parts) or None


def v2_rows(kind: str, data: Any) -> list[Any]:
    """Rows with reference field names from a v2 answer (an envelope or a bare list)."""
    name_field, type_field = _SHAPES[kind]
    items = _items(kind, data)
    rows = []
    for item in items:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            rows.append({name_field: item})  # a name; a number is read as one (a catalog called 2024)
        elif isinstance(item, dict) and name_field in item:
            rows.append(item)  # already in the reference's shape
        elif isinstance(item, dict) and "name" in item:
            row = {key: value for key, value in item.items() if key not in ("name", "type", "nullable")}
            row[name_field] = item["name"]
            if type_field and "type" in item:
                row[type_field] = item["type"]
            if kind == "columns" and "nullable" in item:
                row["isNullable"] = item["nullable"]
            rows.append(row)
        else:
            # Passed on as it is: the models leave out (and the listing names) what cannot be read,
            # so one odd entry never fails the whole listing.
            rows.append(item)
    return rows


def _items(kind: str, data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("objects", kind):
            if isinstance(data.get(key), list):
                return list(data[key])
    raise BadResponseError(f"The Databasin API answered the v2 {kind} route with a shape this client cannot read.")
