"""Logging set-up: everything to stderr, with secrets masked.

In stdio mode stdout carries protocol messages only, so no handler may ever
write there; this is the one place that installs handlers.
"""

from __future__ import annotations

import logging
import sys

from .redact import MaskingFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send all logging to stderr at `level`, replacing any handler installed before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; our client logs what matters, without query strings.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
