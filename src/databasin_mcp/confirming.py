"""A delete the person confirms by typing the connector's name, where the client can ask (form elicitation).

`confirm=true` is an argument the model sets itself: it is not the person's consent. A client that declared
form elicitation shows the person what would be deleted and asks them to type the connector's name; only the
right name deletes, once. A wrong name, a decline or a cancel deletes nothing. Where the client cannot ask,
the agent's confirm decides, as before (without it the call only says what would be deleted).

This is consent, not a security boundary: the client renders the question and returns the answer, and a
client that answers for the person defeats it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp_types import ElicitRequestFormParams, ElicitResult, InputRequiredResult

from .elicitation import Question, answer_in_retry, ask_mid_call, can_ask, input_required, returns_questions
from .ops import Operation, Operations
from .shaping import Answer, plain

QUESTION = "confirm_delete"
ANSWER_WITHIN = 600.0  # seconds a 2025-11-25 call waits for the person, as long as a password page lives
TYPED_NAME = {
    "type": "object",
    "properties": {"name": {"type": "string", "title": "Connector name", "description": "Type it exactly to delete"}},
    "required": ["name"],
}


@dataclass(frozen=True)
class DeleteConfirmation:
    """Asks the person to confirm a delete, for one server."""

    back_channel: bool  # whether a 2025-11-25 connection can carry a question mid-call

    async def confirm(
        self, ctx: Context[Any, Any], operation: Operation, arguments: Mapping[str, Any], confirm: str, ops: Operations
    ) -> dict[str, Any] | Answer | InputRequiredResult | None:
        """The arguments to delete with (`confirm` true), what to answer instead (not deleted, or the question),
        or None when the person cannot be asked here, so the agent's `confirm` decides."""
        if not can_ask(ctx, "form", back_channel=self.back_channel):
            return None
        run = ops.bind(operation)
        preview = await run(**{**arguments, confirm: False})  # what would be deleted, as it is now
        retried = answer_in_retry(ctx, QUESTION)
        answer: ElicitResult | None = retried[1] if retried is not None else None
        if answer is None:
            question = _question(preview.data)
            if returns_questions(ctx):
                return input_required(question)
            answer = await ask_mid_call(ctx, question, within=ANSWER_WITHIN)
            if answer is None:
                return None  # declared, yet the question could not be delivered
        if answer.action != "accept":
            said = "declined" if answer.action == "decline" else "cancelled"
            return Answer(f"Not deleted: the person {said}.", {**preview.data, "deleted": False})
        typed = (answer.content or {}).get("name")
        if not isinstance(typed, str) or not _same(typed, _expected(preview.data)):
            text = "Not deleted: the name the person typed is not the connector's."
            return Answer(text, {**preview.data, "deleted": False})
        return {**arguments, confirm: True}


def _question(preview: Mapping[str, Any]) -> Question:
    what = (
        f"connector {preview['connector_id']} {plain(preview.get('connectorName'))!r} "
        f"({plain(preview.get('connectorType'))}, project {plain(preview.get('internalID'))})"
    )
    message = f"Delete {what}? Pipelines using it will fail. To delete it, type its name: {_expected(preview)}"
    params = ElicitRequestFormParams(message=message, requested_schema=TYPED_NAME)
    return Question(QUESTION, params, {"connector_id": preview["connector_id"]})


def _expected(preview: Mapping[str, Any]) -> str:
    """What the person types: the connector's name (its ID, for a connector without one)."""
    name = preview.get("connectorName")
    return name.strip() if isinstance(name, str) and name.strip() else str(preview["connector_id"])


def _same(typed: str, expected: str) -> bool:
    """Exactly the name, but for spaces around it and how the Unicode is composed (é typed as e + ´)."""
    return unicodedata.normalize("NFC", typed.strip()) == unicodedata.normalize("NFC", expected)
