"""Asking the person through the client (elicitation), on either protocol generation.

A 2025-11-25 connection asks mid-call: the server sends `elicitation/create` on the back-channel and waits
for the answer. A 2026-07-28 connection has no back-channel: the call answers `InputRequiredResult` with
the question and a state, and the client calls again with the person's answer and that state (which the
MCP SDK seals, so it comes back as we wrote it or not at all). Either way a question is asked only in a
mode the client declared (`form` or `url`); where it cannot be asked, the caller does without.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from pydantic import ValidationError

logger = logging.getLogger(__name__)

Mode = Literal["form", "url"]
# The first protocol revision on which a call asks by answering InputRequiredResult.
INPUT_REQUIRED_VERSION = "2026-07-28"


@dataclass(frozen=True)
class Question:
    """One question for the person: `key` names it in the call's state and in the client's answers."""

    key: str
    params: ElicitRequestFormParams | ElicitRequestURLParams
    state: Mapping[str, Any]  # what the call needs again when the answer comes (2026-07-28: a second call)


def returns_questions(ctx: Context[Any, Any]) -> bool:
    """Whether this connection asks by answering InputRequiredResult (2026-07-28) rather than mid-call."""
    return is_version_at_least(ctx.protocol_version or "", INPUT_REQUIRED_VERSION)


def can_ask(ctx: Context[Any, Any], mode: Mode, *, back_channel: bool) -> bool:
    """Whether the client declared elicitation in `mode` and this connection can carry the question.

    `back_channel` is False where a 2025-11-25 connection cannot carry a request to the client and back
    (stateless streamable HTTP: the answer would reach another request's transport).
    """
    capabilities = ctx.client_capabilities
    declared = capabilities.elicitation if capabilities is not None else None
    if declared is None:
        return False
    if mode == "url" and declared.url is None:
        return False
    if mode == "form" and declared.form is None and declared.url is not None:
        return False  # an empty elicitation capability means form; one that names only url does not
    return returns_questions(ctx) or back_channel


def answer_in_retry(ctx: Context[Any, Any], key: str) -> tuple[dict[str, Any], ElicitResult | None] | None:
    """In a 2026-07-28 call that repeats one which asked `key`: the state it kept, and the person's answer
    (None when the client repeated the call without one). None when this call asked nothing before."""
    raw = ctx.request_state
    if not returns_questions(ctx) or raw is None:
        return None
    try:
        state = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("ask") != key:
        return None
    answer = (ctx.input_responses or {}).get(key)
    return state, answer if isinstance(answer, ElicitResult) else None


def input_required(question: Question) -> InputRequiredResult:
    """The answer that asks `question` (2026-07-28): the client asks the person, then calls again."""
    return InputRequiredResult(
        input_requests={question.key: ElicitRequest(params=question.params)},
        request_state=json.dumps({"ask": question.key, **question.state}, separators=(",", ":")),
    )


async def ask_mid_call(ctx: Context[Any, Any], question: Question, *, within: float) -> ElicitResult | None:
    """Ask `question` on the back-channel (2025-11-25) and wait for the answer, at most `within` seconds
    (then it counts as cancelled). None when the question could not be delivered or answered."""
    try:
        with anyio.move_on_after(within):
            answer: ElicitResult = await ctx.session.send_request(
                ElicitRequest(params=question.params),
                ElicitResult,
                metadata=ServerMessageMetadata(related_request_id=ctx.request_context.request_id),
            )
            return answer
        return ElicitResult(action="cancel")
    except (MCPError, ValidationError) as error:
        logger.info("The client could not ask the person (%s): %s", question.key, type(error).__name__)
        return None
