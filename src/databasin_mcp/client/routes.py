"""Which URL serves what: the reference's paths, the real backend's v2 metadata routes, and which one answers.

Besides the reference's GET /api/connector/{id}/catalogs|schemas|tables|columns, the
backend serves (as seen in the vendor's own command-line client):
    GET  /api/v2/connector/catalogs/{id}                       {..., "objects": ["name", ...]}
    GET  /api/v2/connector/schemas/{id}?catalog=               {..., "objects": ["name", ...]}
    GET  /api/v2/connector/tables/{id}?catalog=&schema=        {..., "objects": [{"name", "type"}, ...]}
    POST /api/connector/columns  {connectorID, objects: [table], chosenDatabaseSchema, catalog}
                                                               {"columns": [{"name", "type", "nullable"}, ...]}
                                 (the shape its client sends; the one it also declares, {connectorID,
                                 tableName, schemaCatalog: "catalog.schema"}, only where that is refused)
    GET  /api/connector/catalogs/{id}                          a relational connector's schemas in `objects`
Older deployments wrap the lists as {"catalogs": [...]}, {"schemas": [...]}, {"columns": [...]}.
`v2_rows` turns any of those shapes into rows with the reference's field names, so both route
families end in the same models and the same output. `RouteFamilies` learns, per client, which
family the backend serves and which optional routes it lacks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from ..errors import APIStatusError, BadRequestError, BadResponseError, NotFoundError
from ..params import MAX_ID

logger = logging.getLogger(__name__)

# route kind -> (the reference's name field, the reference's field for the v2 `type`)
_SHAPES = {
    "catalogs": ("catalogName", None),
    "schemas": ("schemaName", None),
    "tables": ("tableName", "tableType"),
    "columns": ("columnName", "dataType"),
}

Call = Callable[[], Awaitable[Any]]


def connector_path(connector_id: int) -> str:
    """/api/connector/{id}, for a valid ID only."""
    # IDs are validated by the tools already; this guards every other caller, so a
    # string can never be spliced into a path.
    if isinstance(connector_id, bool) or not isinstance(connector_id, int) or not 1 <= connector_id <= MAX_ID:
        raise ValueError(f"connector_id must be a positive integer, got {connector_id!r}")
    return f"/api/connector/{connector_id}"


def query(**values: object) -> dict[str, str]:
    """Query parameters with the unset ones left out (httpx URL-encodes the rest)."""
    return {key: str(value) for key, value in values.items() if value is not None}


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


class RouteFamilies:
    """What this client has learnt of the backend's routes: its metadata family, the optional routes it lacks."""

    def __init__(self) -> None:
        # Learnt from the first metadata call.
        self.metadata: Literal["reference", "v2"] | None = None
        self._missing: set[str] = set()

    async def metadata_rows(self, kind: str, reference: Call, v2: Call) -> Any:
        """Call the reference's route; where it is missing (404), the v2 one, and remember which works.

        A 404 from the reference route means either "no such connector" or "no such route". While
        the family is unknown, the v2 route is tried once: if it answers, the backend has the v2
        family and it is used from then on; if it is missing too, the reference's 404 stands.
        """
        if self.metadata == "v2":
            return v2_rows(kind, await v2())
        try:
            data = await reference()
        except NotFoundError as missing:
            if self.metadata == "reference":
                raise
            try:
                data = await v2()
            except APIStatusError as v2_error:
                # 404 or 405 (the path exists for another method): no v2 family either.
                if v2_error.status_code in (404, 405):
                    raise missing from None
                raise
            logger.info("The reference's %s route is missing; using the v2 metadata routes from now on", kind)
            self.metadata = "v2"
            return v2_rows(kind, data)
        self.metadata = "reference"
        return data

    def missing(self, route: str) -> bool:
        """Whether `route` is known to be missing on this backend."""
        return route in self._missing

    def note_missing(self, route: str) -> None:
        self._missing.add(route)

    async def one_shape_then_other(self, first: Call, second: Call) -> Any:
        """`first`; where the backend refuses its shape (400 or 422), `second`, once. Any other failure of
        `first` stands (a 404 says no such connector or table, whichever shape is sent)."""
        try:
            return await first()
        except BadRequestError:
            logger.info("A route refused the request's shape; sending its other shape")
            return await second()

    async def if_served(self, route: str, call: Call) -> tuple[bool, Any]:
        """(True, the answer) from a route beyond the reference, or (False, None) where the backend lacks it (404).

        A missing route is remembered: no second request for it.
        """
        if route in self._missing:
            return False, None
        try:
            return True, await call()
        except NotFoundError:
            self._missing.add(route)
            return False, None


_CONNECTOR_ROUTE = re.compile(r"/api/connector/\d+(?:/(test|refresh|catalogs|schemas|tables|columns))?")
_V2_ROUTE = re.compile(r"/api/v2/connector/(catalogs|schemas|tables)/\d+")
_METHOD_WORDS = {"GET": "get", "PUT": "update", "DELETE": "delete"}


def route_family(method: str, path: str) -> str:
    """A fixed name for the route a request goes to ("connectors.list", "metadata.tables"), for metrics.

    Never an ID or a name from the path: every label value is a series a metrics store keeps.
    """
    if path == "/api/connector":
        return "connectors.create" if method == "POST" else "connectors.list"
    if path == "/api/connector/columns":
        return "metadata.columns"
    if (v2 := _V2_ROUTE.fullmatch(path)) is not None:
        return f"metadata.{v2.group(1)}"
    if (connector := _CONNECTOR_ROUTE.fullmatch(path)) is not None:
        action = connector.group(1)
        if action is None:
            return f"connector.{_METHOD_WORDS.get(method, 'other')}"
        return f"connector.{action}" if action in ("test", "refresh") else f"metadata.{action}"
    return {"/api/ping": "ping", "/api/my/projects": "projects"}.get(path, "other")
