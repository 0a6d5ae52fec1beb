"""`databasin-mcp doctor`: can this configuration reach the Databasin API, and is its token accepted?

Three checks, in order, one line each (`ok`, `FAIL` or `skip`, then what was found and the fix):

- configuration: the settings load; which API URL, set by which variable; where the token comes from
  (the source, never the token);
- api reachable: `GET /api/ping` without a token (the sandbox and the real backend both answer it); where
  it answers 401 (an API that wants a token for everything), again with the token; where it answers 404,
  an unauthenticated `GET /api/connector` answering 401 proves the API is there;
- token: one cheap authenticated call through DatabasinClient.

The exit code is 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import httpx
from pydantic import ValidationError

from .client import DatabasinClient
from .config import Settings, load_settings, settings_problems
from .errors import (
    AuthenticationError,
    DatabasinError,
    InvalidTokenError,
    NotFoundError,
    RedirectError,
    TransportError,
    UpstreamTimeoutError,
    clause,
)
from .flags import FlagParser, parse_flags
from .tokens import TOKEN_FILE_ENV, TokenRead

logger = logging.getLogger(__name__)

# A project no one has: the token check's listing is then empty, whatever the account holds.
PROBE_PROJECT = "databasin-mcp-doctor-probe"
_EXCERPT_CHARS = 80


@dataclass(frozen=True)
class Check:
    """The outcome of one check: passed (True), failed (False) or not run (None)."""

    name: str
    passed: bool | None
    detail: str

    def line(self) -> str:
        status = {True: "ok", False: "FAIL", None: "skip"}[self.passed]
        return f"{status:<4} {self.name}: {self.detail}"


def build_parser() -> argparse.ArgumentParser:
    parser = FlagParser(
        prog="databasin-mcp doctor",
        description="Check the configuration, that the Databasin API answers, and that it accepts the token.",
        epilog="Exit code 0 when every check passes, 1 otherwise.",
    )
    parser.add_argument("--api-url", help="Databasin API base URL (default: DATABASIN_API_URL, PUBLIC_API_URI)")
    parser.add_argument("--token-file", help=f"file holding the API token (default: {TOKEN_FILE_ENV}, ./.token, ...)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_flags(build_parser(), argv)
    try:
        checks = anyio.run(lambda: diagnose(api_url=args.api_url, token_file=args.token_file))
    except Exception as error:  # a bug: one line, as every other outcome (the traceback at DEBUG)
        logger.debug("doctor failed", exc_info=True)
        print(Check("doctor", False, f"failed unexpectedly ({type(error).__name__}); this is a bug").line())
        return 1
    return 0 if all(check.passed is True for check in checks) else 1


async def diagnose(*, api_url: str | None = None, token_file: str | None = None) -> list[Check]:
    """Run the checks in order, printing each line as soon as it is known."""
    checks: list[Check] = []

    def report(check: Check) -> None:
        print(check.line(), flush=True)
        checks.append(check)

    try:
        settings = load_settings(api_url=api_url, token_file=token_file)
    except ValidationError as error:
        report(Check("configuration", False, f"invalid setting: {settings_problems(error)}"))
        report(Check("api reachable", None, "needs a valid configuration"))
        report(Check("token", None, "needs a valid configuration"))
        return checks

    # A diagnosis reports what it sees: no retries, which would only make a failure slower to show.
    client = DatabasinClient(settings.model_copy(update={"max_attempts": 1}))
    source, fix = _url_source(api_url)
    api = f"API {client.safe_base_url} ({source})"
    given = api_url if api_url is not None else os.environ.get(source, "")
    if given and given.strip().rstrip("/") != settings.api_url:
        # A pasted URL ending in /api: the base is the part before it (config.api_base).
        api = (
            f"API {client.safe_base_url} ({source} ends in /api; the API's paths start with /api, so the base is this)"
        )
    unusable = False
    try:
        token = client.token_source.read()
    except InvalidTokenError as error:
        token, unusable = None, True
        report(Check("configuration", False, f"{api}; {error}"))
    else:
        if token is None:
            report(Check("configuration", False, f"{api}; {client.token_source.where_looked()}"))
        else:
            report(Check("configuration", True, f"{api}; token from {token.source}"))

    async with client:
        reachable = await check_reachable(client, fix, has_token=token is not None)
        report(reachable)
        if unusable:
            report(Check("token", None, "the token cannot be sent"))
        elif token is None:
            report(Check("token", None, "no token to try"))
        elif not reachable.passed:
            report(Check("token", None, "the API is not reachable"))
        else:
            report(await check_token(client, token))
    return checks


async def check_reachable(client: DatabasinClient, fix: str, *, has_token: bool = False) -> Check:
    """`GET /api/ping` without a token; where it answers 401, again with the token; where it answers 404,
    `GET /api/connector` answering 401 will do."""
    name, where = "api reachable", client.safe_base_url
    how = "GET /api/ping answered"
    try:
        try:
            answer = await client.ping()
        except AuthenticationError:
            # An API that wants a token even here: the 401 shows it is there; the token may get an answer.
            if not has_token:
                return Check(name, True, f"{where} (GET /api/ping answered 401: it needs a token here)")
            try:
                answer = await client.ping(with_token=True)
            except AuthenticationError:
                return Check(
                    name,
                    True,
                    f"{where} (GET /api/ping answered 401 with and without the token: the API is there and "
                    "wants a valid token)",
                )
            how = "GET /api/ping needs a token here; with the token it answered"
    except NotFoundError:
        return await _reachable_without_ping(client.settings, where, fix)
    except UpstreamTimeoutError:
        return Check(name, False, f"{where} did not answer in time: {fix}")
    except TransportError:
        return Check(name, False, f"could not connect to {where}: {fix}")
    except RedirectError as error:  # its message already says which URL to set
        return Check(name, False, f"GET /api/ping: {clause(str(error))}")
    except DatabasinError as error:  # an error status, or an answer that is not JSON
        return Check(name, False, f"GET /api/ping: {clause(str(error))} ({fix})")
    said = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    if len(said) > _EXCERPT_CHARS:
        said = said[: _EXCERPT_CHARS - 1] + "…"
    return Check(name, True, f"{where} ({how} {said})")


async def _reachable_without_ping(settings: Settings, where: str, fix: str) -> Check:
    """A backend without /api/ping: an unauthenticated GET /api/connector answering 401 shows the API is there.

    DatabasinClient sends no other request without a token, so this one goes through httpx directly,
    with the same timeouts.
    """
    name = "api reachable"
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    try:
        async with httpx.AsyncClient(base_url=settings.api_url, timeout=timeout) as http:
            response = await http.get("/api/connector", headers={"Accept": "application/json"})
    except httpx.HTTPError as error:  # never the exception's text: it holds the full URL
        return Check(name, False, f"{where} answered 404 to GET /api/ping, then {type(error).__name__}: {fix}")
    if response.status_code == 401:
        return Check(name, True, f"{where} (no /api/ping; GET /api/connector without a token answered 401)")
    return Check(
        name,
        False,
        f"{where} answered 404 to GET /api/ping and {response.status_code} to GET /api/connector without a "
        f"token, where the Databasin API answers 401: {fix}",
    )


async def check_token(client: DatabasinClient, token: TokenRead) -> Check:
    """One authenticated listing of a project that does not exist: cheap, and 401 if the token is refused."""
    try:
        await client.list_connectors(project_id=PROBE_PROJECT)
    except AuthenticationError as error:
        said = f" ({error.upstream_message})" if error.upstream_message else ""
        return Check("token", False, f"the API refused the token from {token.source}{said}: put a valid token there")
    except DatabasinError as error:
        return Check("token", False, f"could not check it: {error}")
    return Check("token", True, f"the API accepted the token from {token.source}")


def _url_source(flag: str | None) -> tuple[str, str]:
    """(where the API URL comes from, in the order Settings reads them; what to fix when it is wrong)."""
    if flag is not None:
        return "--api-url", "check --api-url"
    for name in ("DATABASIN_API_URL", "PUBLIC_API_URI"):
        if os.environ.get(name):
            return name, f"check {name}"
    return "the default", "set DATABASIN_API_URL"
