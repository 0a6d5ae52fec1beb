"""What the server reports about its own work, for metrics: calls, upstream requests, retries, cache lookups.

The client, the cache and the server report to a `Telemetry`; this base class reports nowhere, so stdio
and the command line pay nothing and load no metrics library. An HTTP server reports to
metrics.PrometheusMetrics, which /metrics shows. Labels are fixed words (a tool's name, a route
family, a status code), never a value a caller chose: each label value is a series kept for ever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import anyio

# What a finished tool call is counted as.
OK, ERROR, CANCELLED = "ok", "error", "cancelled"


class Telemetry:
    """Reports nothing. Every method is called on the request path: an implementation must be cheap."""

    def tool_call_started(self, tool: str) -> None:
        """A tool call began (`tool` is a served tool's name, or "unknown")."""

    def tool_call_finished(self, tool: str, outcome: str, seconds: float) -> None:
        """A tool call ended: OK, ERROR (it answered an error) or CANCELLED."""

    def upstream_answered(self, route: str, status: str) -> None:
        """One request to the API ended: its status code, or "unreachable"/"no_answer" when it had none."""

    def upstream_retry(self, route: str) -> None:
        """A failed request is sent again after a back-off."""

    def rate_limit_wait(self, route: str, seconds: float) -> None:
        """The API answered 429 and the request waits `seconds`, as asked, before it is sent again."""

    def cache_lookup(self, hit: bool) -> None:
        """A listing was asked of the cache: served from it (hit) or fetched (miss)."""

    def readiness_checked(self, result: str) -> None:
        """/readyz asked the API whether it answers and accepts the token: "ready" or why not."""


NO_TELEMETRY = Telemetry()


@dataclass
class CallRecord:
    """What the caller of `measured` says about the call before it ends."""

    failed: bool = False


@contextmanager
def measured(telemetry: Telemetry, tool: str) -> Iterator[CallRecord]:
    """Count one tool call in flight while the block runs, then as finished, with its duration and outcome."""
    record = CallRecord()
    telemetry.tool_call_started(tool)
    started = time.perf_counter()
    outcome = ERROR
    try:
        yield record
        outcome = ERROR if record.failed else OK
    except anyio.get_cancelled_exc_class():
        outcome = CANCELLED
        raise
    finally:
        telemetry.tool_call_finished(tool, outcome, time.perf_counter() - started)
