"""Running the server on a transport: stdio, or HTTP (streamable HTTP or SSE) behind uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import logging
import re
import socket
import sys

import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from .config import Settings, load_settings
from .credentials import with_page
from .errors import ConfigurationError
from .http_guards import BearerAuth, BodyDeadline, NoEchoedInput, RefuseForeignHosts
from .http_probes import HealthEndpoints, MetricsEndpoint, Readiness
from .http_protocol import CappedListener, ConnectionLimits, GuardedH11Protocol, fit_to_descriptors
from .http_shutdown import RedundantShutdownWarnings, ShutdownGuard
from .log import configure_logging
from .server import DatabasinServer, create_server

logger = logging.getLogger(__name__)

# A JSON-RPC request to this server is a few kilobytes; a megabyte is generous and bounds memory.
MAX_REQUEST_BODY_BYTES = 1_000_000
# A request head still incomplete after this many bytes is refused with 400 (h11's own default, made explicit):
# an MCP request's head is well under a kilobyte, bearer token and session id included.
MAX_REQUEST_HEAD_BYTES = 16 * 1024
SHUTDOWN_GRACE_SECONDS = 1
# Connections waiting to be accepted; asyncio also accepts up to this many at once, each a file descriptor.
ACCEPT_BACKLOG = 64


async def serve(settings: Settings) -> int | None:
    """Serve the MCP server on the configured transport until stopped; the signal that stopped stdio, if one did."""
    check_http_exposure(settings)
    server = create_server(settings)
    if settings.transport == "stdio":
        from .stdio import run_stdio

        return await run_stdio(server)
    app = http_app(server, settings)
    limits = fit_to_descriptors(ConnectionLimits.from_settings(settings), ACCEPT_BACKLOG)
    # Bind first so the real port is known (port 0 picks a free one) and connections queue
    # in the backlog from this moment; then say where we listen, for people and for tests.
    listener = bind_socket(settings.host, settings.port)
    listener.ceiling = limits.descriptor_ceiling
    port = listener.getsockname()[1]
    path = "/sse" if settings.transport == "sse" else "/mcp"
    print(
        f"databasin-mcp: {settings.transport} on http://{_url_host(settings.host)}:{port}{path}",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        # No uvicorn logging config: its records reach our stderr handler (stdout stays clean).
        log_config=None,
        access_log=settings.log_level in ("DEBUG", "INFO"),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        lifespan="on",
        # Slow clients: deadlines for the request head and a connection cap (the protocol), for the body
        # (the app's BodyDeadline); uvicorn's keep-alive timeout closes connections idle between requests.
        http=GuardedH11Protocol.with_limits(limits),
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        backlog=ACCEPT_BACKLOG,
    )
    await _Server(config, app).serve(sockets=[listener])
    return None


def bind_socket(host: str, port: int) -> CappedListener:
    """A listening TCP socket on (host, port)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it a
    # keep-alive client waits ~40 ms per response (Nagle + delayed ACK).
    listener = CappedListener(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), port))
    except OSError as error:
        listener.close()
        raise ConfigurationError(_cannot_bind(host, port, error)) from None
    listener.listen(ACCEPT_BACKLOG)
    listener.set_inheritable(True)
    return listener


def _cannot_bind(host: str, port: int, error: OSError) -> str:
    """Why the HTTP server cannot listen on (host, port), and what to do, in one sentence."""
    where = f"{_url_host(host)}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is in use: pick another with --port (or DATABASIN_MCP_PORT), or stop what uses it."
        )
    if error.errno == errno.EACCES:
        return f"Not allowed to listen on {where}: ports below 1024 need privileges; pick another with --port."
    if error.errno == errno.EADDRNOTAVAIL:
        return f"Cannot listen on {where}: {host} is not an address of this machine; check --host (DATABASIN_MCP_HOST)."
    return f"Cannot listen on {where}: {error.strerror or type(error).__name__}."


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def app_from_environment() -> ASGIApp:
    """The streamable-HTTP app, configured from the environment: for an external process manager.

    Several worker processes behind one port, for example:
        DATABASIN_MCP_STATELESS=1 uvicorn --factory databasin_mcp.serving:app_from_environment --workers 2
    Each worker builds its own API client and cache; with --stateless no request depends on another
    worker's memory. Set DATABASIN_MCP_HOST to the address uvicorn binds (it decides which Host
    headers are accepted and whether an auth token is required).
    """
    settings = load_settings(transport="streamable-http")
    configure_logging(settings.log_level, log_format=settings.log_format, log_file=settings.log_file)
    check_http_exposure(settings)
    return http_app(create_server(settings), settings)


def http_app(server: DatabasinServer, settings: Settings) -> ShutdownGuard:
    """The Starlette app for the HTTP transports, with DNS-rebinding protection and optional bearer auth.

    The password page (credentials/) is a path of the same app, behind the same Host and Origin checks but not
    the bearer token: the person's browser has none; the page's unguessable one-time address lets it in.

    Beside the MCP endpoint: /metrics (behind the token) and /healthz, /readyz (before it), see http_probes.py.
    """
    security = transport_security(settings)
    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(
            max_request_body_size=MAX_REQUEST_BODY_BYTES, transport_security=security, host=settings.host
        )
        app = RefuseForeignHosts(app, security)
    else:
        app = server.streamable_http_app(
            stateless_http=settings.stateless,
            max_request_body_size=MAX_REQUEST_BODY_BYTES,
            transport_security=security,
            host=settings.host,
        )
    from .metrics import PrometheusMetrics

    if isinstance(server.telemetry, PrometheusMetrics):
        app = MetricsEndpoint(app, server.telemetry, security)
    if settings.auth_token is not None:
        app = BearerAuth(app, settings.auth_token.get_secret_value())
    app = HealthEndpoints(app, Readiness(settings, server.telemetry), security)
    app = with_page(app, RefuseForeignHosts(server.person.credentials.page, security))
    guard = ShutdownGuard(BodyDeadline(NoEchoedInput(app), settings.body_timeout))
    logging.getLogger("mcp.shared.jsonrpc_dispatcher").addFilter(RedundantShutdownWarnings(guard))
    return guard


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Refuse requests whose Host or Origin is not this server (DNS-rebinding protection).

    Loopback names are always allowed; a server bound elsewhere also answers to
    its bind address and to the names listed in DATABASIN_MCP_ALLOWED_HOSTS.
    """
    names = ["127.0.0.1", "localhost", "[::1]"]
    if not _is_loopback(settings.host) and settings.host not in ("0.0.0.0", "::"):
        names.append(settings.host)
    names += [item.strip() for item in (settings.allowed_hosts or "").split(",") if item.strip()]
    hosts = [name if re.search(r":\d+$", name) else f"{name}:*" for name in names]
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def check_http_exposure(settings: Settings) -> None:
    """Refuse to serve HTTP beyond this machine without an auth token."""
    if settings.transport == "stdio" or _is_loopback(settings.host) or settings.auth_token is not None:
        return
    raise ConfigurationError(
        f"Refusing to serve on {settings.host} without an auth token: anyone who can reach it could manage "
        "your connectors. Set DATABASIN_MCP_AUTH_TOKEN (or --auth-token), or bind 127.0.0.1."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn's server, cancelling the requests in flight as soon as it starts shutting down (SIGTERM, Ctrl-C).

    A tool call may wait minutes on the API; waiting for it would outlast any process manager's patience.
    """

    def __init__(self, config: uvicorn.Config, guard: ShutdownGuard) -> None:
        super().__init__(config)
        self._guard = guard

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._guard.cancel_all()
        await super().shutdown(sockets)
