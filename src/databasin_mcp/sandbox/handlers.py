"""Helpers shared by the endpoint modules: connector lookup, error translation, method dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError
from .metadata import MetadataNotFound
from .seed import ConnectorRecord
from .state import SandboxState

Endpoint = Callable[[Request], Awaitable[Response]]


class EndpointBase:
    """Gives endpoint classes access to the sandbox state and the common lookups."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def connector(self, raw_id: object) -> ConnectorRecord:
        """The stored connector for a path or body ID: 400 when it is not an integer, 404 when unknown."""
        connector_id = parse_connector_id(raw_id)
        record = self.state.store.get(connector_id)
        if record is None:
            raise ApiError(404, f"Connector with ID {connector_id} not found")
        return record

    def path_connector(self, request: Request) -> ConnectorRecord:
        return self.connector(request.path_params["connector_id"])

    @contextmanager
    def errors_about(self, record: ConnectorRecord) -> Iterator[None]:
        """Turn metadata misses into 404 bodies; with leak_secrets, put the connector's password in the message."""
        try:
            yield
        except MetadataNotFound as missing:
            raise self._leaky(ApiError(404, str(missing)), record) from None
        except ApiError as error:
            raise self._leaky(error, record) from None

    def _leaky(self, error: ApiError, record: ConnectorRecord) -> ApiError:
        if self.state.config.leak_secrets:
            error.message += f" [connectorPassword={record.get('connectorPassword')}]"
        return error


def parse_connector_id(raw_id: object) -> int:
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        return raw_id
    if isinstance(raw_id, str) and raw_id.isdigit():
        return int(raw_id)
    raise ApiError(400, f"Invalid connector ID: {raw_id}")


def optional_query(request: Request, name: str) -> str | None:
    """A query parameter, treating an empty value like a missing one."""
    return request.query_params.get(name) or None


def method_route(path: str, handlers: Mapping[str, Endpoint]) -> Route:
    """One route per path, dispatching on the method, so a 405 lists every allowed method in its Allow header."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))
