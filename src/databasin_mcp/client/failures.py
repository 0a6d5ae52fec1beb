"""The words of every failure the client reports: statuses, redirects, transport failures, limits.

Each function builds one error from what is known (a status and body, a Location, an httpx
exception, a setting) and says what happened and what to do. None of them quotes a URL with
credentials, a query string or a token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit

from ..errors import (
    APIStatusError,
    AuthenticationError,
    ClientBusyError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    TransportError,
    UpstreamTimeoutError,
    sentence,
    status_error_class,
)
from .decoding import error_text, is_web_page, not_the_api

if TYPE_CHECKING:
    from ..config import Settings


def status_error(status: int, raw: bytes, known_secrets: list[str]) -> APIStatusError:
    """A 4xx or 5xx answer: the status, and the API's own message or a short excerpt of the body."""
    import httpx

    if status == 404 and is_web_page(raw):
        return not_the_api(status)
    upstream, excerpt = error_text(raw, known_secrets)
    reason = httpx.codes.get_reason_phrase(status) or "Error"
    if upstream:
        message = f"Databasin API error {status} {reason}: {sentence(upstream)}"
    elif excerpt:
        message = f"Databasin API error {status} {reason} (not a JSON body): {sentence(excerpt)}"
    else:
        message = f"Databasin API error {status} {reason} (empty body)."
    return status_error_class(status)(message, status_code=status, upstream_message=upstream)


def token_refused(source: str, error: APIStatusError) -> AuthenticationError:
    """A 401 for the token as its source holds it now: where to put a valid one."""
    return AuthenticationError(
        f"The Databasin API refused the token from {source} (401: "
        f"{error.upstream_message or 'unauthorized'}). Put a valid token there.",
        status_code=401,
        upstream_message=error.upstream_message,
    )


def rate_limit_error(error: APIStatusError, wait: float | None, now: float) -> RateLimitError:
    """A 429 not waited out: when to try again, if the API said."""
    if wait is None:
        when = "later"
    else:
        # The full UTC date and time: "at 00:13:20" alone may be read as today when it is tomorrow.
        at = datetime.fromtimestamp(now + wait, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        when = f"in {wait:.0f} s (at {at})"
    return RateLimitError(
        f"The Databasin API is rate limiting this token; try again {when}.",
        upstream_message=error.upstream_message,
        retry_after=wait,
    )


def redirect_error(status: int, location: str | None, request_url: str, base_url: str) -> RedirectError:
    """A 3xx: where it points (scheme, host, path: never credentials or a query) and what to set."""
    import httpx

    reason = httpx.codes.get_reason_phrase(status) or "Redirect"
    target = _safe_location(location, request_url)
    if target is None:
        return RedirectError(
            f"Databasin API error {status} {reason}, without a usable Location. "
            "DATABASIN_API_URL is probably not the Databasin API's base URL.",
            status_code=status,
        )
    base = _redirected_base(target, urlsplit(request_url).path)
    if base is not None and base != base_url:
        fix = f"Set DATABASIN_API_URL to {base} (the base URL that redirect points to)."
    else:
        fix = "DATABASIN_API_URL is probably not the Databasin API's base URL."
    return RedirectError(f"Databasin API error {status} {reason}: it redirects to {target}. {fix}", status_code=status)


# Host names and IP addresses as a URL holds them; a redirect to anything else is not shown.
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def _safe_location(location: str | None, request_url: str) -> str | None:
    """A redirect's target as scheme://host[:port]/path, resolved against the request; None if unusable.

    Credentials, query and fragment are dropped; characters that do not belong in a path are %-escaped.
    """
    if not location or not location.strip():
        return None
    try:
        parts = urlsplit(urljoin(request_url, location.strip()))
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    path = quote(parts.path, safe="/%-._~!$&'()*+,;=:@")
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{path}"


def _redirected_base(target: str, request_path: str) -> str | None:
    """The base URL a redirect implies: its target less the request's own path; None when it is not that."""
    path, asked = target.rstrip("/"), request_path.rstrip("/")
    if not asked or not path.endswith(asked):
        return None
    return path[: -len(asked)] or None


def transport_error(exc: BaseException, base_url: str) -> TransportError:
    """A failed connection or a timeout, in words: never the httpx message itself (it carries the full URL)."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return UpstreamTimeoutError(f"Timed out connecting to the Databasin API at {base_url}.")
    if isinstance(exc, httpx.PoolTimeout):
        return UpstreamTimeoutError("Timed out waiting for a free connection to the Databasin API.")
    if isinstance(exc, httpx.ConnectError):
        return TransportError(
            f"Could not connect to the Databasin API at {base_url} (refused or unreachable). "
            "Check DATABASIN_API_URL and that the API is up."
        )
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return UpstreamTimeoutError(f"The Databasin API at {base_url} did not answer in time.")
    return TransportError(
        f"The connection to the Databasin API at {base_url} failed mid-request ({type(exc).__name__})."
    )


def unsendable(exc: BaseException, base_url: str) -> TransportError:
    """A request the HTTP library refused to write (a header or URL it rejects): nothing left."""
    error = TransportError(
        f"The request could not be sent to the Databasin API at {base_url} ({type(exc).__name__}); nothing was sent."
    )
    error.maybe_sent = False
    return error


def too_large(cap_bytes: int, size: int | None) -> ResponseTooLargeError:
    """A body over DATABASIN_MAX_RESPONSE_BYTES (declared or counted): how to ask for less."""
    cap_mb = cap_bytes / 1_000_000
    found = f" ({size / 1_000_000:.1f} MB)" if size else ""
    return ResponseTooLargeError(
        f"The Databasin API answer is larger than the {cap_mb:g} MB cap{found}; it was not read. "
        "Ask for less (filter by project, catalog or schema)."
    )


def busy(settings: Settings) -> ClientBusyError:
    """No general slot within DATABASIN_SLOT_WAIT_TIMEOUT."""
    n, wait = settings.max_concurrency, settings.slot_wait_timeout
    requests = f"{n} request" if n == 1 else f"{n} requests"
    return ClientBusyError(
        f"{requests} to the Databasin API {'is' if n == 1 else 'are'} already in flight, the most "
        f"allowed at once (DATABASIN_MAX_CONCURRENCY={n}), and none finished within {wait:g} s "
        "(DATABASIN_SLOT_WAIT_TIMEOUT). Nothing was sent; try again in a moment."
    )


def busy_with_actions(settings: Settings, action_limit: int) -> ClientBusyError:
    """No action slot (tests and refreshes) within DATABASIN_SLOT_WAIT_TIMEOUT."""
    n, wait = action_limit, settings.slot_wait_timeout
    setting = f"DATABASIN_MAX_ACTIONS={settings.max_actions}"
    if n < settings.max_actions:
        setting += f", kept below DATABASIN_MAX_CONCURRENCY={settings.max_concurrency}"
    running = "1 connector test or metadata refresh is" if n == 1 else f"{n} connector tests or metadata refreshes are"
    return ClientBusyError(
        f"{running} already running against the Databasin API, the most allowed at once ({setting}), and "
        f"none finished within {wait:g} s (DATABASIN_SLOT_WAIT_TIMEOUT). Nothing was sent; try again when "
        f"{'it' if n == 1 else 'one'} finishes."
    )
