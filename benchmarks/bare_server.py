"""A bare MCPServer with one tool that does nothing: the MCP SDK's own floor, for latency and start-up.

python -m benchmarks.bare_server                    stdio
python -m benchmarks.bare_server streamable-http    HTTP on a free loopback port, announced on stderr

It imports nothing of databasin_mcp, so its start-up is the SDK's alone.
"""

from __future__ import annotations

import socket
import sys

from mcp.server.mcpserver import MCPServer

# WARNING like databasin-mcp's default: at INFO the SDK logs every request, which is not the floor.
server = MCPServer("bare", log_level="WARNING")


@server.tool()
def noop() -> str:
    """Do nothing."""
    return "ok"


def serve_http() -> None:
    import anyio
    import uvicorn

    # IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted sockets (as databasin-mcp's listener does).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    print(f"bare: streamable-http on http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    config = uvicorn.Config(server.streamable_http_app(), log_config=None, access_log=False, lifespan="on")
    anyio.run(uvicorn.Server(config).serve, [listener])


if __name__ == "__main__":
    if sys.argv[1:] == ["streamable-http"]:
        serve_http()
    else:
        server.run("stdio")
