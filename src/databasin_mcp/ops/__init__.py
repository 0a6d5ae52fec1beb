"""What each tool does: validated arguments -> client -> models -> shaping -> Answer, one part per resource.

This layer knows nothing of MCP or of the command line: both front ends call the same operations and
pass the `Words` they speak in, for the next steps an answer suggests.

- directory.py: which project a call means, the connector lists (cached), list_projects
- connectors.py: list, find and read connectors
- writes.py: create, update, delete, with their safety rules
- actions.py: test a connection, refresh metadata
- metadata.py: catalogs, schemas, tables, columns
- data.py: a table's first rows, one read-only SELECT
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..cache import ListingCache
from ..client import DatabasinClient
from ..config import Settings
from ..shaping import Answer
from ..wording import AGENT_WORDS, Words
from .actions import Actions
from .base import Progress, Services
from .connectors import ConnectorReads
from .data import Data
from .directory import Directory
from .metadata import Metadata, MetadataRows
from .writes import ConnectorWrites

Operation = Callable[..., Awaitable[Answer]]

__all__ = [
    "Actions",
    "ConnectorReads",
    "ConnectorWrites",
    "Data",
    "Directory",
    "Metadata",
    "MetadataRows",
    "Operation",
    "Operations",
    "Progress",
]


class Operations:
    """The operations of every resource, over one client, one listing cache and one front end's words."""

    def __init__(
        self,
        client: DatabasinClient,
        settings: Settings,
        cache: ListingCache | None = None,
        words: Words = AGENT_WORDS,
    ) -> None:
        self.client = client
        self.settings = settings
        # Not `cache or ...`: an empty cache is falsy (it has a length), and the one given would be dropped.
        self.cache = (
            cache if cache is not None else ListingCache(settings.cache_ttl, max_bytes=settings.cache_max_bytes)
        )
        services = Services(client, settings, self.cache, words)
        self.directory = Directory(services)
        self.connectors = ConnectorReads(services, self.directory)
        self.actions = Actions(services)
        self.writes = ConnectorWrites(services, self.directory, self.connectors, self.actions)
        self.metadata = Metadata(services)
        self.data = Data(services, self.connectors)
        self._parts: tuple[Any, ...] = (
            self.directory,
            self.connectors,
            self.actions,
            self.writes,
            self.metadata,
            self.data,
        )

    def bind(self, operation: Operation) -> Operation:
        """An operation as a tool spec names it (a method of one of the parts' classes), bound to this
        facade's part of that class."""
        owner = operation.__qualname__.split(".")[0]
        for part in self._parts:
            if type(part).__name__ == owner:
                bound: Operation = getattr(part, operation.__name__)  # by name: a test may have replaced it
                return bound
        raise LookupError(f"{operation.__qualname__} is not an operation of any part")
