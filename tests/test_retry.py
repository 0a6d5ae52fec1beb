"""The retry decision as a table: one attempt's outcome and the call's state in, what to do next out. No HTTP.

Each row is one branch of `retry.decide`: 2xx; 401 on a route without a token, the first time, the
second time; 429 within budget, over budget, past the retry count, with absurd headers; 5xx for an
idempotent request, a create and an action; not sent; maybe sent; attempts exhausted; no slot, alone
and after an attempt the API may have acted on; any other status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from databasin_mcp.client.policies import CREATE, IDEMPOTENT, IDEMPOTENT_WRITE, REFRESH, TEST, RequestPolicy
from databasin_mcp.client.retry import (
    AttemptState,
    Backoff,
    Decision,
    Deliver,
    ErrorAnswer,
    MaybeSent,
    NoSlot,
    NotSent,
    Outcome,
    Raise,
    RereadToken,
    Success,
    WaitAsAsked,
    decide,
)
from databasin_mcp.config import Settings
from databasin_mcp.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClientBusyError,
    DatabasinError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
TOKEN_FILE = "the token file /home/me/.databasin/.token"

# The errors an attempt may bring; a row expecting one of these expects that very object back.
E400 = BadRequestError("Databasin API error 400 Bad Request: name is required.", status_code=400)
E401 = AuthenticationError(
    "Databasin API error 401 Unauthorized: token expired.", status_code=401, upstream_message="token expired"
)
E401_BARE = AuthenticationError("Databasin API error 401 Unauthorized (empty body).", status_code=401)
E404 = NotFoundError("Databasin API error 404 Not Found: no connector 7.", status_code=404)
E429 = RateLimitError("Databasin API error 429 Too Many Requests: slow down.", upstream_message="slow down")
E500 = ServerError("Databasin API error 500 Internal Server Error (empty body).", status_code=500)
E503 = ServerError("Databasin API error 503 Service Unavailable (empty body).", status_code=503)
REFUSED = TransportError("Could not connect to the Databasin API at http://api.test (refused or unreachable).")
REFUSED.maybe_sent = False
DROPPED = TransportError("The connection to the Databasin API at http://api.test failed mid-request (ReadError).")
BUSY = ClientBusyError("8 requests to the Databasin API are already in flight ... Nothing was sent.")
NAMED: dict[int, str] = {
    id(error): name
    for name, error in {
        "E400": E400,
        "E401": E401,
        "E401_BARE": E401_BARE,
        "E404": E404,
        "E429": E429,
        "E500": E500,
        "E503": E503,
        "REFUSED": REFUSED,
        "DROPPED": DROPPED,
        "BUSY": BUSY,
    }.items()
}

OK = Success(200, b'{"connectorID": 7}')


def answer(error: APIStatusError, **headers: str) -> ErrorAnswer:
    """The API answered with `error`'s status, and these headers (X_RateLimit_Reset for X-RateLimit-Reset)."""
    return ErrorAnswer(error, {name.replace("_", "-"): value for name, value in headers.items()}, NOW)


def state(**changes: Any) -> AttemptState:
    return AttemptState(**({"token_from": TOKEN_FILE} | changes))


def refused_token(said: str) -> tuple[Any, ...]:
    message = f"The Databasin API refused the token from {TOKEN_FILE} (401: {said}). Put a valid token there."
    return ("raise", f"AuthenticationError: {message}", True)


def rate_limited(when: str) -> tuple[Any, ...]:
    return ("raise", f"RateLimitError: The Databasin API is rate limiting this token; try again {when}.", False)


@dataclass(frozen=True)
class Row:
    id: str
    outcome: Outcome
    expected: tuple[Any, ...]  # the decision, as `summary` writes it
    before: AttemptState = field(default_factory=state)
    policy: RequestPolicy = IDEMPOTENT
    after: dict[str, Any] = field(default_factory=dict)  # the state fields the decision changes
    settings: dict[str, Any] = field(default_factory=dict)


ROWS = [
    # --- 2xx: delivered, whatever the request ----------------------------------------------------
    Row("2xx read", OK, ("deliver", OK)),
    Row("2xx create", Success(201, b""), ("deliver", Success(201, b"")), policy=CREATE),
    Row("2xx after failures", OK, ("deliver", OK), before=state(failures=2, maybe_acted=E500)),
    # --- 401: re-read the token once per call ----------------------------------------------------
    Row("401 first time", answer(E401), ("reread", refused_token("token expired")), after={"token_reread": True}),
    Row("401 second time", answer(E401), refused_token("token expired"), before=state(token_reread=True)),
    Row("401 without a message", answer(E401_BARE), refused_token("unauthorized"), before=state(token_reread=True)),
    Row("401 on a route sent without a token", answer(E401), ("raise", "E401", False), before=state(token_from=None)),
    # --- 429: wait as asked, within the call's budget (10 s) and at most 10 times ------------------
    Row(
        "429 Retry-After within budget",
        answer(E429, Retry_After="2"),
        ("wait", 2.0),
        after={"rate_limit_waited": 2.0, "rate_limit_retries": 1},
    ),
    Row(
        "429 X-RateLimit-Reset in epoch seconds",
        answer(E429, X_RateLimit_Reset=str(int(NOW) + 3)),
        ("wait", 3.0),
        after={"rate_limit_waited": 3.0, "rate_limit_retries": 1},
    ),
    Row(
        "429 Retry-After as an HTTP date",
        answer(E429, Retry_After="Tue, 14 Nov 2023 22:13:25 GMT"),
        ("wait", 5.0),
        after={"rate_limit_waited": 5.0, "rate_limit_retries": 1},
    ),
    Row(
        "429 filling the budget exactly",
        answer(E429, Retry_After="2"),
        ("wait", 2.0),
        before=state(rate_limit_waited=8.0, rate_limit_retries=3),
        after={"rate_limit_waited": 10.0, "rate_limit_retries": 4},
    ),
    Row(
        "429 over the call's budget",
        answer(E429, Retry_After="2"),
        rate_limited("in 2 s (at 2023-11-14T22:13:22Z)"),
        before=state(rate_limit_waited=9.0, rate_limit_retries=3),
    ),
    Row(
        "429 one wait longer than the budget",
        answer(E429, Retry_After="60"),
        rate_limited("in 60 s (at 2023-11-14T22:14:20Z)"),
    ),
    Row(
        "429 after 10 waits",
        answer(E429, Retry_After="0"),
        rate_limited("in 0 s (at 2023-11-14T22:13:20Z)"),
        before=state(rate_limit_retries=10),
    ),
    Row("429 without a wait", answer(E429), rate_limited("later")),
    Row("429 Retry-After over a day", answer(E429, Retry_After="90000"), rate_limited("later")),
    Row("429 Retry-After negative", answer(E429, Retry_After="-1"), rate_limited("later")),
    Row("429 Retry-After not a number", answer(E429, Retry_After="inf"), rate_limited("later")),
    Row(
        "429 X-RateLimit-Reset a year away",
        answer(E429, X_RateLimit_Reset=str(int(NOW) + 365 * 86_400)),
        rate_limited("later"),
    ),
    Row(
        "429 absurd Retry-After, usable X-RateLimit-Reset",
        answer(E429, Retry_After="1e3", X_RateLimit_Reset="4"),
        ("wait", 4.0),
        after={"rate_limit_waited": 4.0, "rate_limit_retries": 1},
    ),
    # --- 5xx: backed off and retried only where sending again is safe ----------------------------
    Row(
        "5xx idempotent, first",
        answer(E500),
        ("backoff", 0.25, "E500"),
        after={"failures": 1, "maybe_acted": "E500"},
    ),
    Row(
        "5xx idempotent, second: the ceiling doubles",
        answer(E503),
        ("backoff", 0.5, "E503"),
        before=state(failures=1, maybe_acted=E500),
        after={"failures": 2, "maybe_acted": "E503"},
    ),
    Row(
        "5xx idempotent, the ceiling capped",
        answer(E500),
        ("backoff", 5.0, "E500"),
        before=state(failures=3),
        after={"failures": 4, "maybe_acted": "E500"},
        settings={"max_attempts": 10, "retry_backoff": 4.0, "retry_backoff_max": 5.0},
    ),
    Row(
        "5xx update or delete",
        answer(E500),
        ("backoff", 0.25, "E500"),
        policy=IDEMPOTENT_WRITE,
        after={"failures": 1, "maybe_acted": "E500"},
    ),
    Row("5xx create: never sent twice", answer(E500), ("raise", "E500", False), policy=CREATE, after={"failures": 1}),
    Row("5xx test: sent once", answer(E500), ("raise", "E500", False), policy=TEST, after={"failures": 1}),
    Row("5xx refresh: sent once", answer(E500), ("raise", "E500", False), policy=REFRESH, after={"failures": 1}),
    Row(
        "5xx idempotent, attempts exhausted",
        answer(E503),
        ("raise", "E503", False),
        before=state(failures=2, maybe_acted=E500),
        after={"failures": 3},
    ),
    Row(
        "5xx with one attempt allowed",
        answer(E500),
        ("raise", "E500", False),
        after={"failures": 1},
        settings={"max_attempts": 1},
    ),
    # --- not sent: the server cannot have acted, so even a create is sent again -------------------
    Row("not sent, read", NotSent(REFUSED), ("backoff", 0.25, "REFUSED"), after={"failures": 1}),
    Row("not sent, create", NotSent(REFUSED), ("backoff", 0.25, "REFUSED"), policy=CREATE, after={"failures": 1}),
    Row("not sent, test", NotSent(REFUSED), ("backoff", 0.25, "REFUSED"), policy=TEST, after={"failures": 1}),
    Row(
        "not sent, attempts exhausted",
        NotSent(REFUSED),
        ("raise", "REFUSED", False),
        before=state(failures=2),
        after={"failures": 3},
    ),
    Row(
        "not sent, attempts exhausted after a maybe-applied attempt",
        NotSent(REFUSED),
        ("raise", "DROPPED", False),
        before=state(failures=2, maybe_acted=DROPPED),
        after={"failures": 3},
    ),
    # --- maybe sent: retried only where sending again is safe -------------------------------------
    Row(
        "maybe sent, read",
        MaybeSent(DROPPED),
        ("backoff", 0.25, "DROPPED"),
        after={"failures": 1, "maybe_acted": "DROPPED"},
    ),
    Row("maybe sent, create", MaybeSent(DROPPED), ("raise", "DROPPED", False), policy=CREATE, after={"failures": 1}),
    Row("maybe sent, refresh", MaybeSent(DROPPED), ("raise", "DROPPED", False), policy=REFRESH, after={"failures": 1}),
    Row(
        "maybe sent, attempts exhausted",
        MaybeSent(DROPPED),
        ("raise", "DROPPED", False),
        before=state(failures=2, maybe_acted=E500),
        after={"failures": 3},
    ),
    # --- no slot: nothing was sent; what an earlier attempt may have done matters more -----------
    Row("no slot", NoSlot(BUSY), ("raise", "BUSY", False)),
    Row(
        "no slot on the retry after a maybe-applied attempt",
        NoSlot(BUSY),
        ("raise", "E500", False),
        before=state(failures=1, maybe_acted=E500),
    ),
    # --- every other status is the answer ---------------------------------------------------------
    Row("400", answer(E400), ("raise", "E400", False)),
    Row("404", answer(E404), ("raise", "E404", False), before=state(failures=1, maybe_acted=E500)),
]


def label(error: DatabasinError | None) -> str | None:
    if error is None:
        return None
    return NAMED.get(id(error), f"{type(error).__name__}: {error}")


def summary(decision: Decision) -> tuple[Any, ...]:
    """A decision as a comparable tuple: errors by name, or by class and message when new."""
    if isinstance(decision, Deliver):
        return ("deliver", decision.answer)
    if isinstance(decision, RereadToken):
        return ("reread", summary(decision.otherwise))
    if isinstance(decision, WaitAsAsked):
        return ("wait", decision.seconds)
    if isinstance(decision, Backoff):
        return ("backoff", decision.ceiling, label(decision.error))
    return ("raise", label(decision.error), decision.forget_token)


def settings_for(row: Row) -> Settings:
    values = {"api_url": "http://api.test", "token": "t", "max_attempts": 3, "retry_backoff": 0.25}
    return Settings(**(values | {"rate_limit_max_wait": 10.0} | row.settings))


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_the_retry_decision(row: Row) -> None:
    decision, after = decide(row.outcome, row.before, row.policy, settings_for(row))

    assert summary(decision) == row.expected
    expected_after = {name: getattr(row.before, name) for name in AttemptState.__dataclass_fields__}
    expected_after |= row.after
    actual_after = {name: getattr(after, name) for name in AttemptState.__dataclass_fields__}
    actual_after["maybe_acted"] = label(after.maybe_acted)
    expected_after["maybe_acted"] = (
        row.after["maybe_acted"] if "maybe_acted" in row.after else label(row.before.maybe_acted)
    )
    assert actual_after == expected_after


def test_a_rate_limit_error_says_how_long_the_api_asked_to_wait() -> None:
    decision, _ = decide(answer(E429, Retry_After="60"), state(), IDEMPOTENT, settings_for(ROWS[0]))
    assert isinstance(decision, Raise)
    assert isinstance(decision.error, RateLimitError)
    assert (decision.error.retry_after, decision.error.upstream_message) == (60.0, "slow down")


def test_the_refused_token_error_keeps_the_apis_words() -> None:
    decision, _ = decide(answer(E401), state(token_reread=True), IDEMPOTENT, settings_for(ROWS[0]))
    assert isinstance(decision, Raise)
    assert isinstance(decision.error, AuthenticationError)
    assert (decision.error.status_code, decision.error.upstream_message) == (401, "token expired")


def test_the_table_reaches_every_outcome_and_every_decision() -> None:
    outcomes = {type(row.outcome) for row in ROWS}
    decisions = {type(decide(row.outcome, row.before, row.policy, settings_for(row))[0]) for row in ROWS}
    assert outcomes == set(Outcome.__args__)  # type: ignore[attr-defined]
    assert decisions == set(Decision.__args__)  # type: ignore[attr-defined]
