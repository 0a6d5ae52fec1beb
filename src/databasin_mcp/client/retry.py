"""What to do after one attempt: the retry decision, and the headers it reads. No HTTP, no clock, no sleep.

`decide` is a pure function of the attempt's outcome, what the earlier attempts of the same call
left (`AttemptState`), the request's policy and the settings. The request loop (`transport`) sends,
asks, and does what it is told: deliver the body, re-read the token, wait, back off, or raise.

The rules, in the order `decide` applies them:
- 2xx: deliver.
- 401 on a route sent without a token: raise the status error (no verdict on the token).
- 401 the first time in a call: re-read the token (the file may have been rotated) and send again
  if it changed; a re-read that gives the same token (or none), or a second 401, raises "the API
  refused the token from <source>", and the token is not kept.
- 429: wait as the API asks (Retry-After, else X-RateLimit-Reset), while the waits of the whole
  call add up to at most DATABASIN_RATE_LIMIT_MAX_WAIT and there were fewer than 10; else raise.
- 5xx, or a failure after which the request may have reached the server: back off and retry, only
  for a request that is safe to repeat, at most DATABASIN_MAX_ATTEMPTS failures per call.
- A failure before the request left: back off and retry, whatever the request (nothing reached
  the server), at most DATABASIN_MAX_ATTEMPTS failures per call.
- No slot within the wait: raise; after an attempt the API may have acted on, raise that instead,
  since it, not "busy", is what the caller must know.
- Any other status: raise it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from ..errors import APIStatusError, ClientBusyError, DatabasinError, TransportError
from .failures import rate_limit_error, token_refused
from .policies import RequestPolicy

if TYPE_CHECKING:
    from ..config import Settings

# Guard against a server that answers 429 with "Retry-After: 0" forever.
MAX_RATE_LIMIT_RETRIES = 10
# No rate limit anyone means lasts longer than a day: a longer wait is a broken header, ignored.
MAX_PLAUSIBLE_WAIT = 86_400.0


# --- what one attempt gave -------------------------------------------------------------------


@dataclass(frozen=True)
class Success:
    """The API answered 2xx."""

    status: int
    body: bytes


@dataclass(frozen=True)
class ErrorAnswer:
    """The API answered 4xx or 5xx (a 3xx is raised where it is met: redirects are never followed)."""

    # What the status and body say, as the error to raise.
    error: APIStatusError
    headers: Mapping[str, str]
    # When it arrived (epoch seconds): Retry-After dates and X-RateLimit-Reset are read against it.
    received_at: float

    @property
    def status(self) -> int:
        return self.error.status_code


@dataclass(frozen=True)
class NotSent:
    """The request never left (connection refused, not made in time): the server cannot have acted."""

    error: TransportError


@dataclass(frozen=True)
class MaybeSent:
    """The connection failed after the request may have reached the server."""

    error: TransportError


@dataclass(frozen=True)
class NoSlot:
    """No slot was free within DATABASIN_SLOT_WAIT_TIMEOUT: nothing was sent."""

    error: ClientBusyError


Outcome = Success | ErrorAnswer | NotSent | MaybeSent | NoSlot


@dataclass(frozen=True)
class AttemptState:
    """What the earlier attempts of one call left behind."""

    # The source of the token the attempts carry; None for a route sent without one.
    token_from: str | None
    token_reread: bool = False
    failures: int = 0  # 5xx answers and transport failures so far
    rate_limit_waited: float = 0.0
    rate_limit_retries: int = 0
    # The last failure after which the API may have acted: it, not "no slot", is what the caller must know.
    maybe_acted: DatabasinError | None = None


# --- what to do next ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deliver:
    """A 2xx: decode its body and return it."""

    answer: Success


@dataclass(frozen=True)
class WaitAsAsked:
    """A 429 within budget: wait `seconds`, as the API asked, then send again."""

    seconds: float


@dataclass(frozen=True)
class Backoff:
    """A transient failure: wait a random time up to `ceiling` seconds (full jitter), then send again."""

    ceiling: float
    error: DatabasinError  # what failed, for the log line


@dataclass(frozen=True)
class Raise:
    """Give up: this is the call's error."""

    error: DatabasinError
    # The API refused the token: keep none, so the next call reads its source again (it may be fixed by then).
    forget_token: bool = False


@dataclass(frozen=True)
class RereadToken:
    """A 401: read the token source again; send again at once if the token changed, else do `otherwise`."""

    otherwise: Raise


Decision = Deliver | RereadToken | WaitAsAsked | Backoff | Raise


def decide(
    outcome: Outcome, state: AttemptState, policy: RequestPolicy, settings: Settings
) -> tuple[Decision, AttemptState]:
    """What to do after `outcome`, and the state the next attempt starts from. See the module's rules."""
    if isinstance(outcome, Success):
        return Deliver(outcome), state
    if isinstance(outcome, NoSlot):
        return Raise(state.maybe_acted or outcome.error), state
    if isinstance(outcome, NotSent):
        state = replace(state, failures=state.failures + 1)
        if state.failures >= settings.max_attempts:
            return Raise(state.maybe_acted or outcome.error), state
        return Backoff(_backoff_ceiling(state.failures, settings), outcome.error), state
    if isinstance(outcome, MaybeSent):
        state = replace(state, failures=state.failures + 1)
        if not policy.after_ambiguous_failure or state.failures >= settings.max_attempts:
            return Raise(outcome.error), state
        state = replace(state, maybe_acted=outcome.error)
        return Backoff(_backoff_ceiling(state.failures, settings), outcome.error), state
    return _decide_error_answer(outcome, state, policy, settings)


def _decide_error_answer(
    answer: ErrorAnswer, state: AttemptState, policy: RequestPolicy, settings: Settings
) -> tuple[Decision, AttemptState]:
    status, error = answer.status, answer.error
    if status == 401:
        if state.token_from is None:
            return Raise(error), state  # this route needs a token here: no verdict on ours
        refused = Raise(token_refused(state.token_from, error), forget_token=True)
        if not state.token_reread:
            return RereadToken(otherwise=refused), replace(state, token_reread=True)
        return refused, state
    if status == 429:
        wait = rate_limit_wait(answer.headers, answer.received_at)
        # Waits add up across retries: the cap bounds the whole call, not one wait.
        if (
            wait is not None
            and state.rate_limit_waited + wait <= settings.rate_limit_max_wait
            and state.rate_limit_retries < MAX_RATE_LIMIT_RETRIES
        ):
            waited = replace(
                state, rate_limit_waited=state.rate_limit_waited + wait, rate_limit_retries=state.rate_limit_retries + 1
            )
            return WaitAsAsked(wait), waited
        return Raise(rate_limit_error(error, wait, answer.received_at)), state
    if status >= 500:
        state = replace(state, failures=state.failures + 1)
        if policy.after_ambiguous_failure and state.failures < settings.max_attempts:
            state = replace(state, maybe_acted=error)
            return Backoff(_backoff_ceiling(state.failures, settings), error), state
    return Raise(error), state


def _backoff_ceiling(failures: int, settings: Settings) -> float:
    """Capped exponential: the longest wait after the n-th failure (the wait itself is drawn below it)."""
    return float(min(settings.retry_backoff_max, settings.retry_backoff * 2 ** (failures - 1)))


# --- the headers the decision reads ----------------------------------------------------------


@dataclass(frozen=True)
class RateLimitInfo:
    """The latest X-RateLimit-* values the API sent."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds


# A plain decimal in ASCII digits: no sign, exponent, "inf", "nan", underscore or another script's digits.
_HEADER_NUMBER = re.compile(r"\s*([0-9]{1,20}(?:\.[0-9]{1,9})?)\s*")


def header_number(value: str | None, *, highest: float) -> float | None:
    """A numeric header's value (`120`, ` 2.5 `), or None when missing, malformed or above `highest`.

    Every numeric header the client reads goes through here: a header is advice, and no value of one
    may fail a call (or turn a write that succeeded into an error).
    """
    if value is None:
        return None
    match = _HEADER_NUMBER.fullmatch(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number if number <= highest else None


def _reset_at(headers: Mapping[str, str], now: float) -> float | None:
    """X-RateLimit-Reset as epoch seconds: the reference sends epoch seconds; some servers ms or a delta."""
    reset = header_number(headers.get("X-RateLimit-Reset"), highest=1e15)
    if reset is None:
        return None
    at = reset / 1000 if reset > 1e12 else reset if reset > 1e9 else now + reset
    return at if at <= now + MAX_PLAUSIBLE_WAIT else None


def rate_limit_info(headers: Mapping[str, str], now: float) -> RateLimitInfo | None:
    """The X-RateLimit-* values worth keeping (absurd ones dropped), or None when there are none."""
    limit, remaining = (
        header_number(headers.get(f"X-RateLimit-{name}"), highest=1e12) for name in ("Limit", "Remaining")
    )
    reset_at = _reset_at(headers, now)
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(
        limit=None if limit is None else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset_at=reset_at,
    )


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before retrying a 429: Retry-After first, then X-RateLimit-Reset; None if unknown."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        wait = header_number(retry_after, highest=MAX_PLAUSIBLE_WAIT)
        if wait is None:
            wait = _http_date_wait(retry_after, now)
        if wait is not None:
            return wait
    reset_at = _reset_at(headers, now)
    return None if reset_at is None else max(0.0, reset_at - now)


def _http_date_wait(value: str, now: float) -> float | None:
    """Retry-After as an HTTP date (`Fri, 31 Dec 2027 23:59:59 GMT`): seconds from now, if plausible."""
    try:
        wait = max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return wait if wait <= MAX_PLAUSIBLE_WAIT else None
