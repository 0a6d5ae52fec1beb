"""The small exception taxonomy of the Databasin client.

Every message is a complete sentence that is safe to show to an agent or a
person: no token, no password, no URL with credentials, no stack trace. The
tool layer adds the next step ("Find IDs with list_connectors(...)"), which
depends on which tool was called.
"""

from __future__ import annotations


class DatabasinError(Exception):
    """Base class: `str(error)` is a safe, complete sentence."""

    # The HTTP method of the request that failed, set by the client: a failed GET before a write
    # means the write was never sent.
    request_method: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sentence(text: str) -> str:
    """`text` ending as a sentence does (the API's messages often have no final period)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def clause(text: str) -> str:
    """`text` without its final period, to go inside a longer sentence."""
    return text.strip().removesuffix(".")


class InvalidArgumentError(DatabasinError):
    """An argument was refused before any request was sent; the message names it and the fix."""


class UnknownProjectError(DatabasinError):
    """The project a call names is not one this token can see; the message says which are near."""


class ConfigurationError(DatabasinError):
    """The server is not configured well enough to call the API."""


class MissingTokenError(ConfigurationError):
    """No API token could be found in any of the places we look."""


class InvalidTokenError(ConfigurationError):
    """The token found cannot be sent as an HTTP header (a line break, a space, a non-ASCII character...).

    Raised before any request, so nothing was sent; the message names the token's source, never its value.
    """


class APIStatusError(DatabasinError):
    """The API answered with an error status."""

    status_code: int = 0

    def __init__(self, message: str, *, status_code: int, upstream_message: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        # The API's own words (its `message` field, secrets removed), for the tool layer.
        self.upstream_message = upstream_message


class UpstreamRefusedError(APIStatusError):
    """A 2xx whose body says the request failed (`"status": "error"`, `"success": false`).

    The API says it did not do it; `upstream_message` holds its words (secrets removed).
    """

    # A connector ID the same body names anyway (a create "failed" with an ID may have made one).
    connector_id: int | None = None


class QueryFailedError(APIStatusError):
    """The database refused a statement we sent (an unknown column, a type error): `upstream_message`
    holds its words (secrets removed). Nothing in the source was changed: only SELECTs are sent."""


class RedirectError(APIStatusError):
    """3xx: the API URL points somewhere else; the message says where (never credentials or a query)."""


class NotTheApiError(APIStatusError, ConfigurationError):
    """The URL answers with a web page, not the API's JSON: the base URL is the web app's, or a proxy's."""


class BadRequestError(APIStatusError):
    """400 or 422: the request was refused as invalid."""


class AuthenticationError(APIStatusError):
    """401: the token was refused, even after re-reading its source."""


class PermissionDeniedError(APIStatusError):
    """403: the token is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: the connector (or catalog, schema, table) does not exist."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state."""


class RateLimitError(APIStatusError):
    """429 with a wait longer than we are willing to sleep."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        upstream_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, upstream_message=upstream_message)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx, after the retries the method allows."""


class TransportError(DatabasinError):
    """The request did not complete: refused, reset, or dropped mid-body."""

    # False when the request certainly never reached the API (connection refused or not made).
    maybe_sent: bool = True


class UpstreamTimeoutError(TransportError):
    """The API did not answer in time."""


class ClientBusyError(DatabasinError):
    """No slot for the request came free in time: nothing was sent, the caller may try again."""


class BadResponseError(DatabasinError):
    """The API answered 2xx with a body we cannot understand."""


class ResponseTooLargeError(BadResponseError):
    """The body is larger than the configured cap; it was not read into memory."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status_code in _STATUS_ERRORS:
        return _STATUS_ERRORS[status_code]
    if status_code == 429:
        return RateLimitError
    if 300 <= status_code < 400:
        return RedirectError
    if status_code >= 500:
        return ServerError
    return APIStatusError
