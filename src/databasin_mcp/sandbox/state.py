"""Everything one running sandbox holds in memory, shared by its middleware and endpoints."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .config import SandboxConfig
from .faults import RandomFaults, ScriptedFaults
from .metadata import ConnectorMetadata
from .present import ConnectorPresenter
from .ratelimit import FixedWindowLimiter
from .samples import SampleDatabase
from .store import Store


@dataclass
class RequestLog:
    """Every /api request received, in order (served by GET /_sandbox/requests)."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self, method: str, path: str, query: str) -> None:
        self.entries.append({"method": method, "path": path, "query": query, "at": time.time()})

    def clear(self) -> int:
        cleared = len(self.entries)
        self.entries.clear()
        return cleared


@dataclass
class InFlight:
    """How many /api requests are being answered now, and the most at once since the last reset.

    Served by GET /_sandbox/stats: a client that promises to bound its concurrency can be checked against it.
    """

    now: int = 0
    peak: int = 0

    def enter(self) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        self.now -= 1

    def reset(self) -> int:
        """Start a new peak from the requests in flight now; returns the old peak."""
        peak, self.peak = self.peak, self.now
        return peak


@dataclass
class SandboxState:
    config: SandboxConfig
    store: Store
    token: str  # the accepted bearer token; /_sandbox/token rotates it
    metadata: ConnectorMetadata
    presenter: ConnectorPresenter
    limiter: FixedWindowLimiter
    scripted_faults: ScriptedFaults
    random_faults: RandomFaults
    requests: RequestLog
    in_flight: InFlight
    samples: SampleDatabase  # the rows the query route reads, loaded as queries name tables

    @classmethod
    def create(cls, config: SandboxConfig, store: Store | None = None) -> SandboxState:
        return cls(
            config=config,
            store=store if store is not None else Store.open(config.db, config.seed),
            token=config.token or secrets.token_urlsafe(24),
            metadata=ConnectorMetadata(config.seed, config.huge_schema_tables),
            presenter=ConnectorPresenter(config.dialect, config.leak_secrets),
            limiter=FixedWindowLimiter(config.rate_limit, config.rate_window),
            scripted_faults=ScriptedFaults(),
            random_faults=RandomFaults(config),
            requests=RequestLog(),
            in_flight=InFlight(),
            samples=SampleDatabase(config.seed),
        )
