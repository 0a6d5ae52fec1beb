"""A local, Databasin-compatible connector API for tests and demos (what stripe-mock is for Stripe).

Serves the 11 endpoints of the connector API reference from seeded SQLite state, with generated metadata,
rate limiting, and fault injection driven by config or by the /_sandbox admin routes.

Modules: config (settings), seed (seed connectors and landmark constants), metadata (generated catalog tree),
store (SQLite), present (response shapes), validation (request bodies), probe (simulated connection tests),
ratelimit, faults, state, gate (the /api middleware), api / v2 / admin (endpoints), app (assembly),
serve (embedding and CLI).
"""

from .app import create_app
from .config import SandboxConfig
from .serve import RunningSandbox, main, running_sandbox

__all__ = ["RunningSandbox", "SandboxConfig", "create_app", "main", "running_sandbox"]
