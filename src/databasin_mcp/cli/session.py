"""One command's session: its settings, one event loop per API call, and errors turned into exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import click
from pydantic import ValidationError

from ..client import DatabasinClient
from ..config import Settings, load_settings, settings_problems
from ..errors import DatabasinError
from ..ops import Operations
from ..outcomes import Failure as Outcome
from ..outcomes import explain
from ..shaping import Answer
from ..specs import ToolSpec
from .vocabulary import COMMAND_WORDS

logger = logging.getLogger(__name__)

EXIT_FAILED = 1  # the API refused or failed (not found, 5xx, unreachable), or a delete was declined
EXIT_USAGE = 2  # click's own code for usage errors; also invalid files and arguments the operations refuse
EXIT_CONFIG = 3  # invalid setting, no token, or the token was refused (401): fix the configuration
EXIT_TEST_FAILED = 4  # a connector test ran and failed
EXIT_READ_ONLY = 5  # a command that would change something, refused in read-only mode (nothing was sent)

# The character cap sizes answers for a model's context; a person or a script asked for its page.
UNCAPPED = 1_000_000_000


class Failure(click.ClickException):
    """The command failed; click prints `Error: <message>` to stderr and exits with `exit_code`."""

    exit_code = EXIT_FAILED


class UsageFailure(Failure):
    """A usage error found after parsing (a bad file, a refused argument): no usage line, unlike click's."""

    exit_code = EXIT_USAGE


class ConfigurationFailure(Failure):
    exit_code = EXIT_CONFIG


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

    def run(self, spec: ToolSpec, arguments: Mapping[str, Any]) -> Answer:
        """Run `spec`'s operation against the API on a fresh event loop; errors become `Failure`s said in
        the command line's words, with the exit code of what they mean."""
        settings = self.settings()

        async def with_client() -> Answer:
            async with DatabasinClient(settings) as client:
                operations = Operations(client, settings, words=COMMAND_WORDS)
                return await operations.bind(spec.operation)(**arguments)

        try:
            return anyio.run(with_client)
        except DatabasinError as error:
            explained = explain(error, spec, arguments, COMMAND_WORDS)
            raise _FAILURES.get(explained.failure, Failure)(explained.text) from None
        except Exception as error:  # a bug: one line like every other failure; the traceback at DEBUG
            if settings.log_level == "DEBUG":
                logger.exception("databasin failed unexpectedly")
            raise Failure(
                f"databasin failed unexpectedly ({type(error).__name__}); this is a bug. "
                "DATABASIN_LOG_LEVEL=DEBUG shows where."
            ) from None


_FAILURES: dict[Outcome, type[Failure]] = {
    Outcome.INVALID_ARGUMENT: UsageFailure,
    Outcome.CONFIGURATION: ConfigurationFailure,
}


def stdin_is_interactive() -> bool:
    """True when a person can answer a prompt (tests replace this to answer one)."""
    return sys.stdin is not None and sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()
