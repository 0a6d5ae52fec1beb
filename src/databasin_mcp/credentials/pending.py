"""Writes waiting for a password the person types on our page: one-time, short-lived, in memory only.

A pending write is opened by a tool call that needs a password (create or update with ask_password). Its
reference is the page's address and what the agent passes back as password_ref: 128 random bits, so it
cannot be guessed. It is bound to that write (the tool and its arguments), lives at most PAGE_LIFETIME
seconds, takes one password, and gives it to one call; then it is gone, and so is the password.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from ..redact import remember_secret

PAGE_LIFETIME = 600.0  # seconds: long enough to find the password, short enough that a link lying about is dead
MAX_PENDING = 64  # an agent in a loop cannot fill memory with pages
REF_BYTES = 16  # 128 bits
_ENDED_KEPT = 256  # how many ended references still say why they ended (used, expired, declined)

Ended = Literal["used", "expired", "declined", "withdrawn"]


@dataclass(frozen=True)
class Shown:
    """What the page says the password is for (never anything secret): a title and labelled values."""

    title: str  # "Create connector 'Orders'"
    rows: tuple[tuple[str, str], ...]  # (("Type", "RDBMS"), ("Host", "db.example.com:5432"), ...)


@dataclass(eq=False)
class PendingWrite:
    """One write waiting for its password."""

    ref: str
    csrf: str  # the page's form must send it back: a POST not made from our page is refused
    tool: str
    binding: Mapping[str, Any]  # the write's arguments the password is for: another write cannot use it
    shown: Shown
    expires: float  # on `clock`
    clock: Callable[[], float] = field(repr=False)
    answered: anyio.Event = field(default_factory=anyio.Event)  # typed, or declined on the page
    declined: bool = False
    _password: str | None = field(default=None, repr=False)

    @property
    def typed(self) -> bool:
        return self._password is not None

    def seconds_left(self) -> float:
        return max(0.0, self.expires - self.clock())


class Refused(Exception):
    """Why a reference gives no password; the message is for whoever holds the reference."""

    def __init__(self, why: Literal["unknown", "not_typed", "other_write", "busy"] | Ended, detail: str = "") -> None:
        super().__init__(why)
        self.why = why
        self.detail = detail  # for other_write: which arguments differ


class PendingWrites:
    """The pending writes of this process, by reference."""

    def __init__(self, lifetime: float = PAGE_LIFETIME, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._open: dict[str, PendingWrite] = {}
        self._ended: OrderedDict[str, Ended] = OrderedDict()

    def open(self, tool: str, binding: Mapping[str, Any], shown: Shown) -> PendingWrite:
        """A new pending write for `tool` with these arguments; Refused("busy") when too many are open."""
        self._sweep()
        if len(self._open) >= MAX_PENDING:
            raise Refused("busy")
        ref = secrets.token_urlsafe(REF_BYTES)
        pending = PendingWrite(
            ref=ref,
            csrf=secrets.token_urlsafe(REF_BYTES),
            tool=tool,
            binding=dict(binding),
            shown=shown,
            expires=self.clock() + self.lifetime,
            clock=self.clock,
        )
        self._open[ref] = pending
        return pending

    def for_page(self, ref: str) -> PendingWrite | None:
        """The pending write whose page may still be shown and answered (live, not yet typed or declined)."""
        self._sweep()
        pending = self._open.get(ref)
        return pending if pending is not None and not pending.answered.is_set() else None

    def type(self, ref: str, csrf: str, password: str) -> bool:
        """The person typed `password` on the page of `ref`; False if that page is not open or `csrf` is wrong."""
        pending = self._answerable(ref, csrf)
        if pending is None:
            return False
        remember_secret(password)  # masked from now on, wherever it might show up
        pending._password = password
        pending.answered.set()
        return True

    def decline(self, ref: str, csrf: str) -> bool:
        """The person said no on the page of `ref`."""
        pending = self._answerable(ref, csrf)
        if pending is None:
            return False
        pending.declined = True
        pending.answered.set()
        return True

    def check_csrf(self, ref: str, csrf: str) -> bool:
        pending = self.for_page(ref)
        return pending is not None and hmac.compare_digest(pending.csrf.encode(), csrf.encode())

    def _answerable(self, ref: str, csrf: str) -> PendingWrite | None:
        return self._open[ref] if self.check_csrf(ref, csrf) else None

    def claim(self, ref: str, tool: str, binding: Mapping[str, Any]) -> str:
        """The password typed for `ref`, for this write (once: the reference ends here). Raises Refused."""
        self._sweep()
        pending = self._open.get(ref)
        if pending is None:
            raise Refused(self._ended.get(ref, "unknown"))
        if pending.tool != tool or dict(pending.binding) != dict(binding):
            raise Refused("other_write", _differences(pending.tool, pending.binding, tool, binding))
        if pending.declined:
            self._end(ref, "declined")
            raise Refused("declined")
        if pending._password is None:
            raise Refused("not_typed")
        password = pending._password
        self._end(ref, "used")
        return password

    def withdraw(self, ref: str, why: Ended = "withdrawn") -> None:
        """The call that opened `ref` is done with it (given up, cancelled, declined): the page stops working."""
        if ref in self._open:
            self._end(ref, why)

    def get(self, ref: str) -> PendingWrite | None:
        self._sweep()
        return self._open.get(ref)

    def why_ended(self, ref: str) -> Ended | None:
        return self._ended.get(ref)

    def _end(self, ref: str, why: Ended) -> None:
        pending = self._open.pop(ref)
        pending._password = None  # dropped now, not when the object happens to be collected
        pending.answered.set()  # a call still waiting on it wakes up and finds it ended
        self._ended[ref] = why
        while len(self._ended) > _ENDED_KEPT:
            self._ended.popitem(last=False)

    def _sweep(self) -> None:
        now = self.clock()
        for ref in [ref for ref, pending in self._open.items() if pending.expires <= now]:
            self._end(ref, "expired")


def _differences(tool: str, binding: Mapping[str, Any], other_tool: str, other: Mapping[str, Any]) -> str:
    """'host' or 'tool': what differs between the write a password was typed for and this one."""
    if tool != other_tool:
        return "tool"
    names = sorted(name for name in {*binding, *other} if binding.get(name) != other.get(name))
    return ", ".join(names)
