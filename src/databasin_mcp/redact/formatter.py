"""The log formatters that mask what the code never meant to log: text lines, and one JSON object per line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger, message, and the
    exception and audit fields when there are any.

    Every string is masked before it is encoded, so masking can never break the JSON (as masking the
    encoded text could, inside an escaped quote); the encoding escapes line breaks and every character
    beyond ASCII, so a record is always exactly one line.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = KnownSecrets.of(secrets)

    def format(self, record: logging.LogRecord) -> str:
        known = self.secrets + remembered_known()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_text(record.getMessage(), known),
        }
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info), known)
        audit = getattr(record, "audit", None)
        if isinstance(audit, dict):
            entry["audit"] = {
                key: mask_text(value, known) if isinstance(value, str) else value for key, value in audit.items()
            }
        return json.dumps(entry, ensure_ascii=True, default=str)
