"""Routes the real backend serves beyond the reference (``dialect="real"``), as its vendor's client reads them.

    GET /api/my/account                  the user: {"id" (the ownerID), "email", ...}
    GET /api/project/{projectId}         the project, with institutionId (404 for an unknown one)
    GET /api/pipeline?internalID=&institutionID=&ownerID=
                                         the project's pipelines; 400 without any of the three
    GET /api/connector/catalogs/{id}     a relational connector's schemas in `objects`

Only in the real dialect: the reference dialect is the reference API, and a client must be seen
degrading where a backend lacks these (the delete that cannot check pipelines, the create that
cannot look up its institution).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ApiError
from .handlers import EndpointBase
from .pipelines import seeded_pipelines
from .query import technology
from .seed import INSTITUTIONS, PROJECTS

ACCOUNT_ID = 457
ACCOUNT = {
    "id": ACCOUNT_ID,
    "email": "sandbox.user@example.com",
    "firstName": "Sandbox",
    "lastName": "User",
    "enabled": True,
    "roles": ["user"],
}
_RELATIONAL = frozenset({"postgres", "mysql", "tsql", "oracle"})


class RealApi(EndpointBase):
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/my/account", self.account, methods=["GET"]),
            Route("/api/project/{project_id}", self.project, methods=["GET"]),
            Route("/api/pipeline", self.pipelines, methods=["GET"]),
            Route("/api/connector/catalogs/{connector_id}", self.relational_schemas, methods=["GET"]),
        ]

    async def account(self, request: Request) -> Response:
        return JSONResponse(ACCOUNT)

    async def project(self, request: Request) -> Response:
        wanted = request.path_params["project_id"]
        project = next((p for p in PROJECTS if wanted in (p.internal_id, str(p.number))), None)
        if project is None:
            raise ApiError(404, f"Project not found: {wanted}")
        return JSONResponse(
            {
                "id": project.number,
                "internalId": project.internal_id,
                "name": project.name,
                "institutionId": project.institution_id,
                "organizationName": INSTITUTIONS[project.institution_id],
                "deleted": False,
            }
        )

    async def pipelines(self, request: Request) -> Response:
        params = request.query_params
        for name in ("internalID", "institutionID", "ownerID"):
            if not params.get(name):
                raise ApiError(400, f"Required request parameter '{name}' is not present")
        for name in ("institutionID", "ownerID"):
            if not params[name].isdigit():
                raise ApiError(400, f"Invalid value for parameter {name}: {params[name]}")
        project, institution = params["internalID"], int(params["institutionID"])
        listed = [
            p
            for p in seeded_pipelines(self.state.config.seed)
            if (p["internalID"], p["institutionID"]) == (project, institution)
        ]
        return JSONResponse(listed)

    async def relational_schemas(self, request: Request) -> Response:
        record = self.path_connector(request)
        dialect = technology(record)
        if dialect not in _RELATIONAL:
            raise ApiError(400, f"Connector {record['connectorID']} is not a relational database connector")
        catalog = self.state.metadata.resolve_catalog(record["connectorID"], None)
        schemas = [s["schemaName"] for s in self.state.metadata.schemas(record["connectorID"], catalog)]
        return JSONResponse(
            {
                "connectorID": record["connectorID"],
                "connectorType": record["connectorType"],
                "connectorDatabase": record.get("connectorDatabaseName"),
                "connectorName": record["connectorName"],
                "objects": schemas,
                "connectorTechnology": dialect,
            }
        )
