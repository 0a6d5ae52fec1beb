"""One command's session: its settings, one event loop per API call, and errors turned into exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import click
from pydantic import ValidationError

from ..client import DatabasinClient
from ..config import Settings, load_settings, settings_problems
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    DatabasinError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    UpstreamRefusedError,
)
from ..operations import Operations
from ..shaping import Answer

logger = logging.getLogger(__name__)

EXIT_FAILED = 1  # the API refused or failed (not found, 5xx, unreachable), or a delete was declined
EXIT_USAGE = 2  # click's own code for usage errors; also invalid files and arguments the operations refuse
EXIT_CONFIG = 3  # invalid setting, no token, or the token was refused (401): fix the configuration
EXIT_TEST_FAILED = 4  # a connector test ran and failed
EXIT_READ_ONLY = 5  # a command that would change something, refused in read-only mode (nothing was sent)

# The character cap sizes answers for a model's context; a person or a script asked for its page.
UNCAPPED = 1_000_000_000

Call = Callable[[Operations], Awaitable[Answer]]


class Failure(click.ClickException):
    """The command failed; click prints `Error: <message>` to stderr and exits with `exit_code`."""

    exit_code = EXIT_FAILED


class UsageFailure(Failure):
    """A usage error found after parsing (a bad file, a refused argument): no usage line, unlike click's."""

    exit_code = EXIT_USAGE


class ConfigurationFailure(Failure):
    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class Subject:
    """What a command acts on, for the next step an error message suggests."""

    connector_id: int | None = None
    # Said after a 5xx or a dropped connection, when the request may have changed something.
    uncertain_change: str | None = None
    metadata: bool = False


@dataclass
class Session:
    """The global options, and the settings built from them (and the environment) on first use."""

    api_url: str | None = None
    token_file: Path | None = None
    read_only: bool | None = None  # --read-only; None leaves DATABASIN_READ_ONLY to decide
    _settings: Settings | None = field(default=None, init=False, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                loaded = load_settings(api_url=self.api_url, token_file=self.token_file, read_only=self.read_only)
            except ValidationError as error:
                raise ConfigurationFailure(f"invalid configuration: {settings_problems(error)}") from None
            self._settings = loaded.model_copy(update={"max_chars": UNCAPPED})
        return self._settings

    def run(self, call: Call, subject: Subject | None = None) -> Answer:
        """Run one operation against the API on a fresh event loop; errors become `Failure`s."""
        settings = self.settings()

        async def with_client() -> Answer:
            async with DatabasinClient(settings) as client:
                return await call(Operations(client, settings))

        try:
            return anyio.run(with_client)
        except DatabasinError as error:
            raise failure(error, subject or Subject()) from None
        except Exception as error:  # a bug: one line like every other failure; the traceback at DEBUG
            if settings.log_level == "DEBUG":
                logger.exception("databasin failed unexpectedly")
            raise Failure(
                f"databasin failed unexpectedly ({type(error).__name__}); this is a bug. "
                "DATABASIN_LOG_LEVEL=DEBUG shows where."
            ) from None


def failure(error: DatabasinError, subject: Subject) -> Failure:
    """The error's safe sentence with the next step, as a command line says it, and its exit code."""
    if isinstance(error, InvalidArgumentError):
        return UsageFailure(str(error))
    if isinstance(error, (ConfigurationError, AuthenticationError)):
        return ConfigurationFailure(str(error))
    upstream = error.upstream_message if isinstance(error, APIStatusError) else None
    connector_id = subject.connector_id
    if isinstance(error, NotFoundError):
        # "Catalog 'x' not found for connector 142" is about the catalog; "Connector with ID 9 ..." is not.
        about_connector = not subject.metadata or upstream is None or upstream.lower().startswith("connector")
        if connector_id is not None and about_connector:
            return Failure(
                f"Connector {connector_id} not found. Find IDs with 'databasin connectors list --project ID' "
                "or 'databasin connectors find WORDS'."
            )
        return Failure(
            f"Not found: {upstream or 'the API answered 404'}. Check the names with "
            f"'databasin metadata catalogs|schemas|tables {connector_id or 'CONNECTOR_ID'}'."
        )
    if isinstance(error, BadRequestError):
        return Failure(f"The Databasin API refused the request: {upstream or error}")
    if isinstance(error, PermissionDeniedError):
        return Failure(
            f"{_sentence(error)} This token may not do that; use one with access to the connector's project."
        )
    if subject.uncertain_change is None:  # a read, a test or a refresh: the error says it all
        return Failure(str(error))
    # A write: say what is known of it. The look-up before it failed, or it never left: nothing happened.
    if error.request_method == "GET" or (isinstance(error, TransportError) and not error.maybe_sent):
        return Failure(f"{_sentence(error)} Nothing was changed; run the command again.")
    if isinstance(error, UpstreamRefusedError):
        check = (
            f"Check with 'databasin connectors get {connector_id}'."
            if connector_id is not None
            else "Fix what the API names and run the command again."
        )
        return Failure(f"{_sentence(error)} {check}")
    if isinstance(error, (ServerError, TransportError, BadResponseError)):
        return Failure(f"{_sentence(error)} {subject.uncertain_change}")
    return Failure(str(error))


def _sentence(error: DatabasinError) -> str:
    """The error's message ending like a sentence (an API's own words may not), so another can follow."""
    text = str(error)
    return text if text.endswith((".", "!", "?")) else f"{text}."


def stdin_is_interactive() -> bool:
    """True when a person can answer a prompt (tests replace this to answer one)."""
    return sys.stdin is not None and sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()
