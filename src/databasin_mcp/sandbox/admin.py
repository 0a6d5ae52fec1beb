"""The /_sandbox admin routes: fault scripts, the request log, in-flight stats, token rotation.

No auth, no rate limit, no log.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import error_response
from .faults import FaultScriptError
from .handlers import method_route
from .state import SandboxState
from .validation import parse_json_object


class AdminApi:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            method_route(
                "/_sandbox/faults", {"POST": self.add_faults, "GET": self.pending_faults, "DELETE": self.clear_faults}
            ),
            method_route("/_sandbox/requests", {"GET": self.requests, "DELETE": self.clear_requests}),
            method_route("/_sandbox/stats", {"GET": self.stats, "DELETE": self.reset_stats}),
            Route("/_sandbox/token", self.rotate_token, methods=["POST"]),
        ]

    async def add_faults(self, request: Request) -> Response:
        """Body ``{"path"?: prefix, "method"?: "GET", "script": [action, ...]}``; see faults.FaultAction."""
        try:
            queued = self.state.scripted_faults.add(parse_json_object(await request.body()))
        except FaultScriptError as problem:
            return error_response(400, f"Invalid fault script: {problem}")
        return JSONResponse({"queued": queued, "pending": self.state.scripted_faults.pending()})

    async def pending_faults(self, request: Request) -> Response:
        return JSONResponse({"pending": self.state.scripted_faults.pending()})

    async def clear_faults(self, request: Request) -> Response:
        return JSONResponse({"cleared": self.state.scripted_faults.clear()})

    async def requests(self, request: Request) -> Response:
        return JSONResponse(self.state.requests.entries)

    async def clear_requests(self, request: Request) -> Response:
        return JSONResponse({"cleared": self.state.requests.clear()})

    async def stats(self, request: Request) -> Response:
        """``{"in_flight": n, "max_in_flight": m}``: /api requests being answered now, and the most at once."""
        in_flight = self.state.in_flight
        return JSONResponse({"in_flight": in_flight.now, "max_in_flight": in_flight.peak})

    async def reset_stats(self, request: Request) -> Response:
        """Start measuring max_in_flight afresh; answers the previous maximum."""
        return JSONResponse({"max_in_flight": self.state.in_flight.reset()})

    async def rotate_token(self, request: Request) -> Response:
        """Body ``{"token": "new"}``; without a token a fresh random one is issued. Answers the token now valid."""
        token = parse_json_object(await request.body()).get("token") or secrets.token_urlsafe(24)
        if not isinstance(token, str):
            return error_response(400, "token must be a string")
        self.state.token = token
        return JSONResponse({"token": token})
