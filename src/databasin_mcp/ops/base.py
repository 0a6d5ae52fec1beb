"""What every part of the operations shares: the API client, the settings, the listing cache, the words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..cache import ListingCache
from ..client import DatabasinClient
from ..config import Settings
from ..wording import Phrasing, Words

# Progress callback: (seconds elapsed, message). The MCP layer turns it into notifications, the CLI
# into a line on stderr.
Progress = Callable[[float, str], Awaitable[None]]
# Parameters of an operation that the front end supplies (not the caller): in no schema, no command line.
INJECTED = ("progress",)


@dataclass(frozen=True)
class Services:
    client: DatabasinClient
    settings: Settings
    cache: ListingCache
    words: Words  # the vocabulary of the front end that asked: tool calls, or commands

    def say(self, tool: str) -> Phrasing:
        return Phrasing(self.words, tool)
