"""Asking the API to do something with a connector's source: test its connection, refresh its metadata."""

from __future__ import annotations

from typing import Any

import anyio

from ..errors import DatabasinError
from ..params import ConnectorId, Details
from ..shaping import Answer, cap_text, counted, plain
from .base import Progress, Services

PROGRESS_INTERVAL = 1.0


class Actions:
    """test_connector and refresh_connector_metadata."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def test_connector(self, *, connector_id: ConnectorId, details: Details = False) -> Answer:
        """Test a connector's connection to its source; a failed test is an answer, not an error."""
        result = await self.services.client.test_connector(connector_id)
        outcome = "passed" if result.success else "FAILED"
        line = f"Connector {connector_id} test {outcome}: {plain(result.message or result.status or 'no message')}"
        if result.error and not _said_already(result.error, line):
            line += f" ({plain(result.error)})"  # unless the message already said it
        duration = (result.details or {}).get("testDuration")
        if result.success and duration and not details:
            line += f" in {plain(duration)}"
        lines = [line]
        if details and result.details:
            lines += [f"{plain(key)}: {plain(value)}" for key, value in result.details.items()]
        data: dict[str, Any] = {
            "connector_id": connector_id,
            "success": result.success,
            "message": result.message,
            "error": result.error,
        }
        if details:
            data["details"] = result.details
        return Answer(cap_text("\n".join(lines), self.services.settings.max_chars), data)

    async def refresh_connector_metadata(
        self, *, connector_id: ConnectorId, progress: Progress | None = None
    ) -> Answer:
        """Re-read catalogs, schemas and tables from the source (minutes, on a large one), reporting progress."""

        async def report_while_waiting() -> None:
            assert progress is not None
            started = anyio.current_time()
            while True:
                await anyio.sleep(PROGRESS_INTERVAL)
                elapsed = anyio.current_time() - started
                await progress(elapsed, f"Refreshing metadata of connector {connector_id}: {elapsed:.0f} s")

        failure: DatabasinError | None = None
        try:
            async with anyio.create_task_group() as tasks:
                if progress is not None:
                    tasks.start_soon(report_while_waiting)
                try:
                    result = await self.services.client.refresh_metadata(connector_id)
                except DatabasinError as error:
                    failure = error  # raised below: out of a task group it is wrapped in an ExceptionGroup
                tasks.cancel_scope.cancel()
        finally:
            self.services.cache.clear()  # cached catalogs/schemas/tables are stale now
        if failure is not None:
            raise failure
        counts = {"catalogs": result.catalogCount, "schemas": result.schemaCount, "tables": result.tableCount}
        known = ", ".join(counted(n, noun) for noun, n in counts.items() if n is not None)
        # The API's own words, not ours: it may say the refresh finished or only that it started
        # ("Metadata refresh initiated"), and the text must not claim more than the data (issue 16 #12).
        said = f" The API says: {plain(result.message).rstrip('.')}." if result.message else ""
        text = f"Metadata refresh of connector {connector_id}: {known or 'no counts returned'}.{said}"
        return Answer(text, {"connector_id": connector_id, **counts, "message": result.message})


_FILLER = frozenset({"a", "an", "the", "is", "are", "was", "be", "to", "of", "for", "connection", "test"})


def _said_already(error: str, line: str) -> bool:
    """Whether every word of `error` is in `line` already ("Connector inactive" after "connector is inactive")."""
    words = {word.strip(".,:;()'\"").casefold() for word in error.split()} - _FILLER
    said = {word.strip(".,:;()'\"").casefold() for word in line.split()}
    return words <= said
