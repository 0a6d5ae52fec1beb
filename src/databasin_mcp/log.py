"""Logging set-up: to stderr and, when asked, to a file; as text or as JSON lines; with secrets masked.

In stdio mode stdout carries protocol messages only, so no handler may ever
write there; this is the one place that installs handlers. The audit log of
writes (audit.py) is written at INFO whatever the level, to the same places.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from .audit import AUDIT_LOGGER
from .errors import ConfigurationError
from .redact import JsonFormatter, MaskingFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_ENV = "DATABASIN_LOG_FILE"

# HTTP libraries that log the wire at INFO and DEBUG: httpx every request URL, httpcore every response
# header (Set-Cookie, refresh tokens) as Python reprs, hpack/h2 decoded HTTP/2 headers. Our client logs
# what matters without them; the masking formatter would catch the header shapes, but a format we do
# not own is safer not produced at all. Both package generations are named (httpx2, httpcore2).
QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2", "hpack", "h2", "h11")


def configure_logging(level: str, *, log_format: str = "text", log_file: Path | None = None) -> None:
    """Send all logging to stderr (and to `log_file`) at `level`, replacing any handler installed before.

    Raises ConfigurationError, naming DATABASIN_LOG_FILE, when the file cannot be opened for appending.
    """
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else MaskingFormatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(_file_handler(log_file))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Every write is recorded, whatever level the rest of the log is at.
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)


def _file_handler(path: Path) -> logging.Handler:
    """An appending handler that reopens the file when log rotation moves it; created readable by its owner only."""
    path = path.expanduser()
    try:
        # The log names hosts, projects and connectors: a new file is not left readable by every user.
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        return logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigurationError(
            f"{LOG_FILE_ENV}: cannot append to {path} ({reason}). Point it at a file in a directory that exists "
            "and that this user may write to, or unset it to log to stderr only."
        ) from None
