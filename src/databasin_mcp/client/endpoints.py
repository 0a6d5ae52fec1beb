"""The endpoint catalogue: one short method per API route, saying its method, path, body, policy and model.

Adding an endpoint is one method here: the transport sends it (auth, retries, slots, caps), the
decoding turns its body into the model, the routes module knows the real backend's variants.
"""

from __future__ import annotations

from collections.abc import Awaitable
from functools import cached_property
from typing import Any
from urllib.parse import quote

from ..errors import NotFoundError
from ..models import (
    Catalog,
    Column,
    Connector,
    ConnectorChanges,
    DeleteResult,
    RefreshResult,
    Schema,
    Table,
    TestResult,
    WriteResult,
)
from ..real_records import Account, Pipeline, Project, QueryResult
from .decoding import record, records
from .policies import CREATE, IDEMPOTENT_WRITE, QUERY, REFRESH, TEST
from .routes import RouteFamilies, connector_path, query, schema_catalog, v2_path
from .transport import Transport


class DatabasinClient(Transport):
    """Async client for the 11 connector endpoints of the Databasin API (and the real backend's extras)."""

    @cached_property
    def _routes(self) -> RouteFamilies:
        """Which routes this client's backend serves, learnt as it answers."""
        return RouteFamilies()

    # --- the 11 endpoints of the reference ---------------------------------------------

    async def list_connectors(
        self, *, institution_id: int | None = None, project_id: str | None = None
    ) -> list[Connector]:
        """GET /api/connector, optionally filtered by institution and project (internalID)."""
        params = query(institutionID=institution_id, internalID=project_id)
        return records(await self._request("GET", "/api/connector", params=params), Connector, "connectors")

    async def get_connector(self, connector_id: int) -> Connector:
        """GET /api/connector/{id}."""
        return record(await self._request("GET", connector_path(connector_id)), Connector, "connector")

    async def create_connector(self, changes: ConnectorChanges) -> WriteResult:
        """POST /api/connector. Never re-sent once it may have reached the server."""
        data = await self._request(
            "POST", "/api/connector", body=changes.to_body(), policy=CREATE, secrets=changes.secret_values()
        )
        return record(data or {}, WriteResult, "create result")

    async def update_connector(self, connector_id: int, changes: ConnectorChanges) -> WriteResult:
        """PUT /api/connector/{id} with only the fields that were set."""
        path, body = connector_path(connector_id), changes.to_body()
        data = await self._request("PUT", path, body=body, policy=IDEMPOTENT_WRITE, secrets=changes.secret_values())
        return record(data or {}, WriteResult, "update result")

    async def delete_connector(self, connector_id: int) -> DeleteResult:
        """DELETE /api/connector/{id}."""
        data = await self._request("DELETE", connector_path(connector_id), policy=IDEMPOTENT_WRITE)
        return record(data or {}, DeleteResult, "delete result")

    async def test_connector(self, connector_id: int) -> TestResult:
        """POST /api/connector/{id}/test: sent once (see TEST); a failed test is an answer, not an error."""
        data = await self._request("POST", f"{connector_path(connector_id)}/test", body={}, policy=TEST)
        return record(data or {}, TestResult, "test result")

    async def refresh_metadata(self, connector_id: int) -> RefreshResult:
        """POST /api/connector/{id}/refresh; may take minutes, so it has its own timeout. Sent once."""
        path, timeout = f"{connector_path(connector_id)}/refresh", self.settings.refresh_timeout
        data = await self._request("POST", path, body={}, policy=REFRESH, read_timeout=timeout)
        return record(data or {}, RefreshResult, "refresh result")

    async def list_catalogs(self, connector_id: int) -> list[Catalog]:
        """GET /api/connector/{id}/catalogs (or the real backend's v2 route)."""
        path = connector_path(connector_id)  # validates the ID whichever route is used
        data = await self._routes.metadata_rows(
            "catalogs",
            lambda: self._request("GET", f"{path}/catalogs"),
            lambda: self._request("GET", v2_path("catalogs", connector_id)),
        )
        return records(data, Catalog, "catalogs")

    async def list_schemas(self, connector_id: int, *, catalog: str | None = None) -> list[Schema]:
        """GET /api/connector/{id}/schemas?catalog=... (or the real backend's v2 route)."""
        path, params = connector_path(connector_id), query(catalog=catalog)

        def v2_schemas() -> Awaitable[Any]:
            return self._request("GET", v2_path("schemas", connector_id), params=params)

        async def v2() -> Any:
            if catalog is not None:
                return await v2_schemas()
            # Without a catalog, a relational connector's schemas are what the non-v2 catalogs route lists
            # (its `objects`): the vendor's client reads them there. Asked only where v2 refuses the call.
            return await self._routes.one_shape_then_other(
                v2_schemas, lambda: self._request("GET", f"/api/connector/catalogs/{connector_id}")
            )

        data = await self._routes.metadata_rows(
            "schemas", lambda: self._request("GET", f"{path}/schemas", params=params), v2
        )
        return records(data, Schema, "schemas")

    async def list_tables(
        self, connector_id: int, *, catalog: str | None = None, schema: str | None = None
    ) -> list[Table]:
        """GET /api/connector/{id}/tables?catalog=...&schema=... (or the real backend's v2 route)."""
        path, params = connector_path(connector_id), query(catalog=catalog, schema=schema)
        data = await self._routes.metadata_rows(
            "tables",
            lambda: self._request("GET", f"{path}/tables", params=params),
            lambda: self._request("GET", v2_path("tables", connector_id), params=params),
        )
        return records(data, Table, "tables")

    async def list_columns(
        self, connector_id: int, *, table: str, catalog: str | None = None, schema: str | None = None
    ) -> list[Column]:
        """GET /api/connector/{id}/columns?... (or the real backend's POST /api/connector/columns)."""
        path, params = connector_path(connector_id), query(catalog=catalog, schema=schema, table=table)
        # The shape the vendor's client sends; the other one it declares (tableName, schemaCatalog) only
        # where a backend refuses this one's shape.
        used: dict[str, Any] = {"connectorID": connector_id, "objects": [table]}
        if schema is not None:
            used["chosenDatabaseSchema"] = schema
        if catalog is not None:
            used["catalog"] = catalog
        declared: dict[str, Any] = {"connectorID": connector_id, "tableName": table}
        if (combined := schema_catalog(catalog, schema)) is not None:
            declared["schemaCatalog"] = combined
        data = await self._routes.metadata_rows(
            "columns",
            lambda: self._request("GET", f"{path}/columns", params=params),
            lambda: self._routes.one_shape_then_other(
                lambda: self._request("POST", "/api/connector/columns", body=used),
                lambda: self._request("POST", "/api/connector/columns", body=declared),
            ),
        )
        return records(data, Column, "columns")

    # --- beyond the reference: what the real backend also serves ----------------------

    async def list_my_projects(self) -> list[Project] | None:
        """GET /api/my/projects (the real backend's project list), or None where it does not exist."""
        path = "/api/my/projects"
        served, data = await self._routes.if_served(path, lambda: self._request("GET", path))
        return records(data, Project, "projects") if served else None

    async def run_query(self, connector_id: int, sql: str) -> QueryResult:
        """POST /api/connector/{id}/query {"sql": ...}: a statement already checked to only read; sent once,
        with DATABASIN_QUERY_TIMEOUT. A statement the database refused is an answer (`success: false`)."""
        path, timeout = f"{connector_path(connector_id)}/query", self.settings.query_timeout
        data = await self._request("POST", path, body={"sql": sql}, policy=QUERY, read_timeout=timeout)
        return record(data or {}, QueryResult, "query result")

    async def get_project(self, project_id: str) -> Project | None:
        """GET /api/project/{id} (the real backend's; it names the institution), or None on a 404: no such
        route (then remembered), or no such project (the callers look further either way)."""
        if self._routes.missing("/api/project"):
            return None
        try:
            segment = quote(project_id, safe="")
            if segment in (".", ".."):  # a dot segment would be resolved away: /api/project/.. is /api/
                segment = segment.replace(".", "%2E")
            data = await self._request("GET", f"/api/project/{segment}")
        except NotFoundError as error:
            # A missing route answers the framework's bare "Not Found"; a missing project says so in words.
            if (error.upstream_message or "Not Found").strip().casefold() == "not found":
                self._routes.note_missing("/api/project")
            return None
        return record(data, Project, "project")

    async def my_account(self) -> Account | None:
        """GET /api/my/account (the real backend's: the user, whose `id` is the ownerID), or None where absent."""
        path = "/api/my/account"
        served, data = await self._routes.if_served(path, lambda: self._request("GET", path))
        return record(data, Account, "account") if served else None

    async def list_pipelines(
        self, *, project_id: str, institution_id: int | str, owner_id: int | str
    ) -> list[Pipeline] | None:
        """GET /api/pipeline?internalID=&institutionID=&ownerID= (all three required by the real backend), or
        None where the backend has no pipeline list (404)."""
        path, params = "/api/pipeline", query(internalID=project_id, institutionID=institution_id, ownerID=owner_id)
        served, data = await self._routes.if_served(path, lambda: self._request("GET", path, params=params))
        return records(data, Pipeline, "pipelines") if served else None

    async def ping(self, *, with_token: bool = False) -> Any:
        """GET /api/ping, which answers without a token where the API allows: is the API there at all?"""
        return await self._request("GET", "/api/ping", authenticated=with_token)
