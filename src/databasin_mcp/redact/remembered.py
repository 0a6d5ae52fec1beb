"""Defence 3: secrets by value, and the values this process remembers.

Secrets this process handled (the API token, passwords it sent, secrets an upstream leaked) are
remembered. A distinctive one (long and mixed, like a token: see `is_distinctive`) is masked wherever it
appears; an ordinary one (a word such as "postgres") only where it stands as a credential (see
masking.py), since masking an ordinary word everywhere would corrupt every host and name that contains it.
"""

from __future__ import annotations

import functools
import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass

_MIN_SECRET = 4  # a 1-3 character secret cannot be masked without masking ordinary text


@functools.lru_cache(maxsize=8192)
def is_distinctive(secret: str) -> bool:
    """Whether a secret is unlike ordinary text, so it can be masked wherever it appears.

    24+ characters; or 16+ of two kinds (lower case, upper case, digits, symbols); or 12+ of three.
    A token, a UUID, a JWT or "Cr3ate-pass!" is; "postgres", "hunter2" or "Tig3rPw1" is not, and is
    masked only where it stands as a credential.
    """
    kinds = sum(
        (
            any(c.islower() for c in secret),
            any(c.isupper() for c in secret),
            any(c.isdigit() for c in secret),
            any(not c.isalnum() for c in secret),
        )
    )
    size = len(secret)
    return size >= 24 or (size >= 16 and kinds >= 2) or (size >= 12 and kinds >= 3)


@dataclass(frozen=True)
class KnownSecrets:
    """Secret values to mask: distinctive ones anywhere, ordinary ones where they stand as credentials."""

    anywhere: tuple[str, ...] = ()  # longest first, so a secret that contains another is masked whole
    as_credential: frozenset[str] = frozenset()

    @classmethod
    def of(cls, secrets: Iterable[str]) -> KnownSecrets:
        anywhere: set[str] = set()
        ordinary: set[str] = set()
        for secret in secrets:
            if len(secret) >= _MIN_SECRET:
                (anywhere if is_distinctive(secret) else ordinary).add(secret)
        return cls(tuple(sorted(anywhere, key=len, reverse=True)), frozenset(ordinary))

    def __bool__(self) -> bool:
        return bool(self.anywhere or self.as_credential)

    def __add__(self, other: KnownSecrets) -> KnownSecrets:
        if not other:
            return self
        if not self:
            return other
        # A merge, not a new sort: each record that leaks adds a few to the thousands a process may know.
        anywhere = tuple(heapq.merge(self.anywhere, other.anywhere, key=len, reverse=True))
        return KnownSecrets(anywhere, self.as_credential | other.as_credential)


class _Registry:
    """Secret values this process has handled, for every later message and log line.

    Secrets we were given or sent (the token, passwords in creates and updates) are kept for the life of
    the process; secrets an upstream leaked are kept up to a bound, oldest forgotten first, so an upstream
    cannot grow this (and the cost of every mask) without end. Those are dropped by field name anyway.
    """

    LEAKED_LIMIT = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._given: dict[str, None] = {}
        self._leaked: dict[str, None] = {}
        self._known: KnownSecrets | None = KnownSecrets()

    def add(self, value: str, *, leaked: bool = False) -> None:
        if len(value) < _MIN_SECRET:
            return
        with self._lock:
            if value in self._given or value in self._leaked:
                return
            if leaked:
                self._leaked[value] = None
                while len(self._leaked) > self.LEAKED_LIMIT:
                    del self._leaked[next(iter(self._leaked))]
            else:
                self._given[value] = None
            self._known = None

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._given) | frozenset(self._leaked)

    def known(self) -> KnownSecrets:
        with self._lock:
            if self._known is None:
                self._known = KnownSecrets.of([*self._given, *self._leaked])
            return self._known

    def snapshot(self) -> tuple[dict[str, None], dict[str, None]]:
        with self._lock:
            return dict(self._given), dict(self._leaked)

    def restore(self, state: tuple[dict[str, None], dict[str, None]]) -> None:
        with self._lock:
            self._given, self._leaked = dict(state[0]), dict(state[1])
            self._known = None


_registry = _Registry()


def remember_secret(value: str) -> None:
    """Register a secret value so that no log line or message can ever carry it."""
    _registry.add(value)


def remember_leaked(value: str) -> None:
    """Register a secret an upstream leaked: masked wherever it shows up again, while the bound allows."""
    _registry.add(value, leaked=True)


def remembered_secrets() -> frozenset[str]:
    """Every secret value this process has handled, sent or seen."""
    return _registry.values()


def remembered_known() -> KnownSecrets:
    """Every secret value this process has handled, ready to mask."""
    return _registry.known()


def remembered_state() -> tuple[dict[str, None], dict[str, None]]:
    """For tests: the registry as it is now, to put back with `restore_remembered_state`."""
    return _registry.snapshot()


def restore_remembered_state(state: tuple[dict[str, None], dict[str, None]]) -> None:
    """For tests: forget every secret remembered since `state` was taken."""
    _registry.restore(state)
