"""The log formatter that masks what the code never meant to log."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .masking import mask_text
from .remembered import KnownSecrets, remembered_known


class MaskingFormatter(logging.Formatter):
    """A log formatter that masks credentials and the given secret values in the final text.

    Used for the stderr handler as a last line of defence: our code never logs
    bodies or headers, but a third-party library or a traceback might carry one.
    Masking the formatted text covers messages, arguments and tracebacks alike.
    """

    def __init__(self, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = KnownSecrets.of(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record), self.secrets + remembered_known())
