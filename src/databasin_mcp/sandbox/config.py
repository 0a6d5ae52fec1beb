"""Settings of one sandbox instance (what the CLI flags map to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dialect = Literal["reference", "real"]
DIALECTS: tuple[Dialect, ...] = ("reference", "real")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that shapes how the sandbox behaves; defaults mimic the reference API."""

    host: str = "127.0.0.1"
    port: int = 9000  # 0 = let the OS pick a free port
    db: str | None = None  # None = in-memory SQLite; a path persists across restarts
    token: str | None = None  # None = a random token per start
    seed: int = 7
    rate_limit: int = 1000  # requests per window per token; 0 disables limiting
    rate_window: float = 60.0
    refresh_seconds: float = 0.5  # simulated duration of a metadata refresh
    huge_schema_tables: int = 0  # > 0 adds HUGE_SCHEMA with that many tables to BIG_CONNECTOR_ID
    quirks: bool = False  # answer refresh counts with thousands separators, as the reference prints them
    v2_routes: bool = False
    v2_only: bool = False  # implies v2_routes; the reference metadata routes then answer 404
    dialect: Dialect = "reference"
    leak_secrets: bool = False  # deliberately echo secrets so client-side scrubbing can be tested
    latency_ms: int = 0
    error_rate: float = 0.0
    burst_429_every: int = 0
    html_502_rate: float = 0.0
    fault_seed: int = 0

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, not {self.dialect!r}")
        for name in ("error_rate", "html_502_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("port", "rate_limit", "huge_schema_tables", "latency_ms", "burst_429_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be positive")
        if self.refresh_seconds < 0:
            raise ValueError("refresh_seconds must not be negative")

    @property
    def serves_v2(self) -> bool:
        """True when the v2 route family is mounted (v2_only implies it)."""
        return self.v2_routes or self.v2_only
