"""Assembles the sandbox ASGI app from its parts (see the package docstring for the whole picture)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from .admin import AdminApi
from .api import ConnectorApi
from .config import SandboxConfig
from .errors import ApiError, error_response, missing_route_response
from .gate import ApiGate
from .query import QueryApi
from .real import RealApi
from .state import SandboxState
from .store import Store
from .v2 import V2Api


def create_app(config: SandboxConfig | None = None, store: Store | None = None) -> Starlette:
    """A Databasin-compatible connector API; ``store`` defaults to ``Store.open(config.db, config.seed)``."""
    return build_sandbox(config or SandboxConfig(), store)[0]


def build_sandbox(config: SandboxConfig, store: Store | None = None) -> tuple[Starlette, SandboxState]:
    """The app and its state (running_sandbox needs the state to report the live token)."""
    state = SandboxState.create(config, store)
    routes: list[BaseRoute] = [*ConnectorApi(state).routes(), *QueryApi(state).routes(), *AdminApi(state).routes()]
    if config.serves_v2:
        routes += V2Api(state).routes()
    if config.dialect == "real":
        routes += RealApi(state).routes()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(ApiGate, state=state)],
        exception_handlers={ApiError: _api_error, HTTPException: _missing_route},
    )
    app.state.sandbox = state
    return app, state


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


async def _missing_route(request: Request, exc: Exception) -> Response:
    """Unknown routes and methods answer like the Spring backend does, not with Starlette's plain text."""
    assert isinstance(exc, HTTPException)
    return missing_route_response(request.url.path, exc.status_code, exc.headers)
