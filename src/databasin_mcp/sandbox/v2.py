"""The newer route family (``v2_routes``): envelope-shaped metadata, POST columns, and the user's projects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ApiError
from .handlers import EndpointBase, optional_query
from .seed import INSTITUTIONS, PROJECTS, ConnectorRecord
from .validation import parse_json_object


class V2Api(EndpointBase):
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v2/connector/catalogs/{connector_id}", self.catalogs, methods=["GET"]),
            Route("/api/v2/connector/schemas/{connector_id}", self.schemas, methods=["GET"]),
            Route("/api/v2/connector/tables/{connector_id}", self.tables, methods=["GET"]),
            Route("/api/connector/columns", self.columns, methods=["POST"]),
            Route("/api/my/projects", self.projects, methods=["GET"]),
        ]

    async def catalogs(self, request: Request) -> Response:
        record = self.path_connector(request)
        names = [c["catalogName"] for c in self.state.metadata.catalogs(record["connectorID"])]
        return JSONResponse(_envelope(record, names))

    async def schemas(self, request: Request) -> Response:
        record = self.path_connector(request)
        with self.errors_about(record):
            items = self.state.metadata.schemas(record["connectorID"], optional_query(request, "catalog"))
        return JSONResponse(_envelope(record, [s["schemaName"] for s in items]))

    async def tables(self, request: Request) -> Response:
        record = self.path_connector(request)
        catalog, schema = optional_query(request, "catalog"), optional_query(request, "schema")
        with self.errors_about(record):
            items = self.state.metadata.tables(record["connectorID"], catalog, schema)
        return JSONResponse(_envelope(record, [{"name": t["tableName"], "type": t["tableType"]} for t in items]))

    async def columns(self, request: Request) -> Response:
        """Body ``{"connectorID": 101, "objects": ["orders"], "chosenDatabaseSchema": "schema", "catalog": "c"}``
        (what the vendor's client sends; answered ``{"columns": [...]}``), or the shape it also declares,
        ``{"connectorID": 101, "tableName": "orders", "schemaCatalog": "catalog.schema"}`` (answered as a list)."""
        body = parse_json_object(await request.body())
        record = self.connector(body.get("connectorID"))
        with self.errors_about(record):
            if "objects" in body:
                objects = body.get("objects")
                if not isinstance(objects, list) or len(objects) != 1 or not isinstance(objects[0], str):
                    raise ApiError(400, "Invalid value for field objects: expected one table name")
                table: Any = objects[0]
                catalog, schema = _optional(body, "catalog"), _optional(body, "chosenDatabaseSchema")
            else:
                table = body.get("tableName")
                catalog, schema = _split_schema_catalog(body.get("schemaCatalog"))
            if not isinstance(table, str) or not table:
                raise ApiError(400, "Missing required field: tableName")
            items = self.state.metadata.columns(record["connectorID"], catalog, schema, table)
        columns = [{"name": c["columnName"], "type": c["dataType"], "nullable": c["isNullable"]} for c in items]
        return JSONResponse({"columns": columns} if "objects" in body else columns)

    async def projects(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "id": project.number,
                    "internalID": project.internal_id,
                    "name": project.name,
                    "organizationId": project.institution_id,
                    "organizationName": INSTITUTIONS[project.institution_id],
                }
                for project in PROJECTS
            ]
        )


def _envelope(record: ConnectorRecord, objects: list[Any]) -> dict[str, Any]:
    return {
        "connectorID": record["connectorID"],
        "connectorName": record["connectorName"],
        "connectorType": record["connectorType"],
        "objects": objects,
    }


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"Invalid value for field {name}: expected a string")
    return value or None


def _split_schema_catalog(value: Any) -> tuple[str | None, str | None]:
    """``"catalog.schema"`` -> (catalog, schema); absent means the connector's defaults."""
    if value is None:
        return None, None
    if not isinstance(value, str) or value.count(".") != 1 or "" in value.split("."):
        raise ApiError(400, f"Invalid schemaCatalog: {value!r} (expected 'catalog.schema')")
    catalog, schema = value.split(".")
    return catalog, schema
