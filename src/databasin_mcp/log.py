"""Logging set-up: everything to stderr, with secrets masked.

In stdio mode stdout carries protocol messages only, so no handler may ever
write there; this is the one place that installs handlers.
"""

from __future__ import annotations

import logging
import sys

from .redact import MaskingFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# HTTP libraries that log the wire at INFO and DEBUG: httpx every request URL, httpcore every response
# header (Set-Cookie, refresh tokens) as Python reprs, hpack/h2 decoded HTTP/2 headers. Our client logs
# what matters without them; the masking formatter would catch the header shapes, but a format we do
# not own is safer not produced at all. Both package generations are named (httpx2, httpcore2).
QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2", "hpack", "h2", "h11")


def configure_logging(level: str) -> None:
    """Send all logging to stderr at `level`, replacing any handler installed before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
