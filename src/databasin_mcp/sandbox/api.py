"""The 11 endpoints of the reference connector API (plus /api/ping)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ApiError
from .handlers import EndpointBase, method_route, optional_query
from .metadata import MetadataCounts
from .probe import connection_test_body
from .validation import connector_changes, new_connector, parse_json_object


class ConnectorApi(EndpointBase):
    """Handlers for /api/connector...; ``routes()`` lists them (without the metadata ones when v2_only)."""

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/api/ping", self.ping, methods=["GET"]),
            method_route("/api/connector", {"GET": self.list_connectors, "POST": self.create_connector}),
            method_route(
                "/api/connector/{connector_id}",
                {"GET": self.get_connector, "PUT": self.update_connector, "DELETE": self.delete_connector},
            ),
            Route("/api/connector/{connector_id}/test", self.test_connector, methods=["POST"]),
            Route("/api/connector/{connector_id}/refresh", self.refresh_metadata, methods=["POST"]),
        ]
        if not self.state.config.v2_only:  # a v2-only backend no longer has these routes at all
            routes += [
                Route("/api/connector/{connector_id}/catalogs", self.catalogs, methods=["GET"]),
                Route("/api/connector/{connector_id}/schemas", self.schemas, methods=["GET"]),
                Route("/api/connector/{connector_id}/tables", self.tables, methods=["GET"]),
                Route("/api/connector/{connector_id}/columns", self.columns, methods=["GET"]),
            ]
        return routes

    async def ping(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_connectors(self, request: Request) -> Response:
        institution = request.query_params.get("institutionID")
        if institution is not None and not institution.isdigit():
            raise ApiError(400, f"Invalid value for parameter institutionID: {institution}")
        records = self.state.store.list(
            institution_id=None if institution is None else int(institution),
            internal_id=request.query_params.get("internalID"),
        )
        return JSONResponse([self.state.presenter.summary(record) for record in records])

    async def get_connector(self, request: Request) -> Response:
        body = self.state.presenter.detail(self.path_connector(request))
        if self.state.config.dialect == "real":
            # The real backend double-encodes this one: a JSON string whose content is the object.
            return JSONResponse(json.dumps(body, ensure_ascii=False))
        return JSONResponse(body)

    async def create_connector(self, request: Request) -> Response:
        real = self.state.config.dialect == "real"
        record = new_connector(parse_json_object(await request.body()), _now(), owner_required=real)
        connector_id = self.state.store.create(record)
        return JSONResponse(
            {"connectorID": connector_id, "message": "Connector created successfully", "status": "success"}
        )

    async def update_connector(self, request: Request) -> Response:
        record = self.path_connector(request)
        with self.errors_about(record):
            changes = connector_changes(parse_json_object(await request.body()), _now())
        self.state.store.update(record["connectorID"], changes)
        return JSONResponse(
            {"connectorID": record["connectorID"], "message": "Connector updated successfully", "status": "success"}
        )

    async def delete_connector(self, request: Request) -> Response:
        record = self.path_connector(request)
        self.state.store.delete(record["connectorID"])
        return JSONResponse({"message": "Connector deleted successfully", "status": "success"})

    async def test_connector(self, request: Request) -> Response:
        record = self.path_connector(request)
        if not record.get("testConnectorSupport"):
            with self.errors_about(record):
                raise ApiError(400, f"Connection testing is not supported for connector type {record['connectorType']}")
        return JSONResponse(connection_test_body(record, self.state.config.leak_secrets))

    async def refresh_metadata(self, request: Request) -> Response:
        record = self.path_connector(request)
        await anyio.sleep(self.state.config.refresh_seconds)
        counts = self.state.metadata.counts(record["connectorID"])
        if self.state.config.quirks:
            return Response(_refresh_body_as_printed(counts), media_type="application/json")
        return JSONResponse(_refresh_body(counts))

    async def catalogs(self, request: Request) -> Response:
        record = self.path_connector(request)
        return JSONResponse(list(self.state.metadata.catalogs(record["connectorID"])))

    async def schemas(self, request: Request) -> Response:
        record = self.path_connector(request)
        with self.errors_about(record):
            items = self.state.metadata.schemas(record["connectorID"], optional_query(request, "catalog"))
        return JSONResponse(list(items))

    async def tables(self, request: Request) -> Response:
        record = self.path_connector(request)
        catalog, schema = optional_query(request, "catalog"), optional_query(request, "schema")
        with self.errors_about(record):
            items = self.state.metadata.tables(record["connectorID"], catalog, schema)
        return JSONResponse(list(items))

    async def columns(self, request: Request) -> Response:
        record = self.path_connector(request)
        catalog, schema = optional_query(request, "catalog"), optional_query(request, "schema")
        table = optional_query(request, "table")
        with self.errors_about(record):
            if table is None:
                raise ApiError(400, "Missing required parameter: table")
            items = self.state.metadata.columns(record["connectorID"], catalog, schema, table)
        return JSONResponse(list(items))


def _now() -> datetime:
    return datetime.now(UTC)


def _refresh_body(counts: MetadataCounts) -> dict[str, Any]:
    return {
        "message": "Metadata refresh initiated",
        "status": "success",
        "catalogCount": counts.catalogs,
        "schemaCount": counts.schemas,
        "tableCount": counts.tables,
    }


def _refresh_body_as_printed(counts: MetadataCounts) -> bytes:
    """The refresh body exactly as the reference prints it: ``"tableCount": 1,234`` (not valid JSON above 999)."""
    fields = [
        f'"{key}": {value:,}' if isinstance(value, int) else f'"{key}": {json.dumps(value)}'
        for key, value in _refresh_body(counts).items()
    ]
    return ("{" + ", ".join(fields) + "}").encode()
