"""Error bodies in the reference's style, and the Spring-style body for routes that do not exist."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "Invalid or expired authentication token",
    403: "Access denied",
    404: "Resource not found",
    429: "Rate limit exceeded",
    500: "An unexpected error occurred",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}


class ApiError(Exception):
    """Raised by endpoints; turned into the reference error body by the app's exception handler."""

    def __init__(self, status: int, message: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, HTTPStatus(status).phrase)
        self.headers = dict(headers or {})


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """``{"error": "Not Found", "message": "...", "status": 404}`` exactly as the reference lists them."""
    return {
        "error": HTTPStatus(status).phrase,
        "message": message or DEFAULT_MESSAGES.get(status, HTTPStatus(status).phrase),
        "status": status,
    }


def error_response(status: int, message: str | None = None, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def missing_route_response(path: str, status: int = 404, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """What a Spring Boot backend answers for a route it does not have (or a method it does not allow)."""
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "path": path,
    }
    return JSONResponse(body, status_code=status, headers=headers)
