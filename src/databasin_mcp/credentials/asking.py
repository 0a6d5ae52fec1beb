"""How a tool call gets a password the agent never holds.

`ask_password=true` opens a pending write and its page. A client that declared URL elicitation is asked to
open the page: on 2025-11-25 mid-call, on 2026-07-28 by answering InputRequiredResult; either way the
call waits for the person to type the password, then writes and answers as usual. Declined or cancelled,
nothing is written. Any other client gets a short answer for the agent: ask the person to open the link,
then call again with `password_ref`. The reference gives the password once, to the same write only.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import ElicitRequestURLParams, InputRequiredResult

from ..elicitation import Question, answer_in_retry, ask_mid_call, can_ask, input_required, returns_questions
from ..errors import InvalidArgumentError
from ..ops import Operations
from ..shaping import Answer, plain
from ..wording import Words
from . import Credentials
from .pending import PAGE_LIFETIME, PendingWrite, Refused, Shown

logger = logging.getLogger(__name__)

QUESTION = "password"  # the question's key in the call's state and the client's answers
# Arguments that do not decide where a password goes: a password typed for a write is bound to the rest.
UNBOUND = frozenset({"test", "ask_password", "password_ref", "password"})


@dataclass(frozen=True)
class PasswordRequest:
    """What a call said about its password: type it on a page (ask), or use the one typed for `ref`."""

    ask: bool = False
    ref: str | None = None


@dataclass(frozen=True)
class PasswordAsker:
    """Gets a call's password from the person, for one server."""

    credentials: Credentials
    back_channel: bool  # whether a 2025-11-25 connection can carry a question mid-call
    words: Words

    async def password(
        self,
        ctx: Context[Any, Any],
        tool: str,
        arguments: Mapping[str, Any],
        request: PasswordRequest,
        ops: Operations,
    ) -> str | Answer | InputRequiredResult:
        """The password for this write, or what to answer instead (a link to pass on, a question, a refusal)."""
        binding = {name: value for name, value in arguments.items() if name not in UNBOUND}
        if request.ref is not None:
            return await self._claim(ctx, tool, binding, request.ref)
        retried = answer_in_retry(ctx, QUESTION)
        if retried is not None:
            return await self._after_answer(ctx, tool, binding, retried[0], retried[1])
        try:
            pending = self.credentials.pending.open(tool, binding, await _shown(tool, arguments, ops))
        except Refused:
            raise InvalidArgumentError(
                f"Too many password pages are open; let the person finish them, or wait up to "
                f"{PAGE_LIFETIME / 60:.0f} minutes. Nothing was written."
            ) from None
        url = await self.credentials.url(ctx.request_context.request, pending.ref)
        if not can_ask(ctx, "url", back_channel=self.back_channel):
            return self._link_for_agent(tool, pending, url)
        question = _question(pending, url)
        if returns_questions(ctx):
            return input_required(question)
        try:
            answer = await ask_mid_call(ctx, question, within=pending.seconds_left())
        except BaseException:  # the call was cancelled while the client asked: nobody will use the page
            self.credentials.pending.withdraw(pending.ref)
            raise
        if answer is None:  # declared, yet it could not ask: the agent passes the link on instead
            return self._link_for_agent(tool, pending, url)
        if answer.action != "accept":
            return self._declined(tool, pending, answer.action)
        typed = await self._typed(tool, binding, pending)
        if isinstance(typed, str):  # the client may stop showing that it waits for the page
            await ctx.session.send_elicit_complete(question.state["id"], ctx.request_context.request_id)
        return typed

    async def _after_answer(
        self, ctx: Context[Any, Any], tool: str, binding: Mapping[str, Any], state: dict[str, Any], answer: Any
    ) -> str | Answer | InputRequiredResult:
        """2026-07-28: the call again, after the client asked the person to open the page."""
        pending = self.credentials.pending.get(str(state.get("ref")))
        if pending is None:
            raise self._refusal(tool, Refused(self.credentials.pending.why_ended(str(state.get("ref"))) or "unknown"))
        if answer is None:  # repeated without an answer: ask again
            return input_required(_question(pending, str(state["url"]), state["id"]))
        if answer.action != "accept":
            return self._declined(tool, pending, answer.action)
        return await self._typed(tool, binding, pending)

    async def _typed(self, tool: str, binding: Mapping[str, Any], pending: PendingWrite) -> str | Answer:
        """Wait for the person to type the password (or decline) on the page, at most until it expires."""
        try:
            with anyio.move_on_after(pending.seconds_left()):
                await pending.answered.wait()
            if pending.declined:
                return self._declined(tool, pending, "decline")
            return self.credentials.pending.claim(pending.ref, tool, binding)
        except Refused as refused:
            raise self._refusal(tool, refused) from None
        finally:
            self.credentials.pending.withdraw(pending.ref)  # given up or done: the page stops working

    async def _claim(self, ctx: Context[Any, Any], tool: str, binding: Mapping[str, Any], ref: str) -> str:
        pending = self.credentials.pending.get(ref)
        try:
            return self.credentials.pending.claim(ref, tool, binding)
        except Refused as refused:
            if refused.why == "not_typed" and pending is not None:
                url = await self.credentials.url(ctx.request_context.request, ref)
                raise InvalidArgumentError(
                    f"The person has not typed the password yet: ask them to open {url} "
                    f"({_minutes(pending.seconds_left())} left), then {self.words.again(tool)}. Nothing was written."
                ) from None
            raise self._refusal(tool, refused) from None

    def _link_for_agent(self, tool: str, pending: PendingWrite, url: str) -> Answer:
        ref = self.words.setting(tool, "password_ref", pending.ref)
        text = (
            f"Nothing written yet: ask the person to open {url} and type the password there (it works once, "
            f"for {_minutes(pending.seconds_left())}). Then {self.words.again(tool)} with the same arguments and {ref}."
        )
        return Answer(text, _outcome(pending, written=False, password_ref=pending.ref, url=url))

    def _declined(self, tool: str, pending: PendingWrite, action: str) -> Answer:
        self.credentials.pending.withdraw(pending.ref, "declined")
        said = "declined" if action == "decline" else "cancelled"
        return Answer(f"Nothing written: the person {said} typing the password.", _outcome(pending, written=False))

    def _refusal(self, tool: str, refused: Refused) -> InvalidArgumentError:
        again = f"{self.words.again(tool)} with {self.words.setting(tool, 'ask_password', True)} for a new page"
        said = {
            "used": f"password_ref was already used (a typed password serves one call): {again}",
            "expired": f"The password page expired (it works for {_minutes(PAGE_LIFETIME)}): {again}",
            "declined": "The person declined on the password page",
            "withdrawn": f"password_ref no longer works (its call ended): {again}",
            "other_write": (
                f"password_ref was typed for another write (not the same {refused.detail}): use the arguments it "
                f"was typed for, or {again}"
            ),
            "busy": "Too many password pages are open",
        }.get(refused.why, f"password_ref is unknown to this server (it may have restarted): {again}")
        return InvalidArgumentError(f"{said}. Nothing was written.")


def _question(pending: PendingWrite, url: str, elicitation_id: str | None = None) -> Question:
    """Ask the person to open the page of `pending` (the id lets the client match the completion notice)."""
    elicitation_id = elicitation_id or secrets.token_urlsafe(12)
    message = f"{pending.shown.title}: type the connector's password on this page. The AI agent never sees it."
    params = ElicitRequestURLParams(message=message, url=url, elicitation_id=elicitation_id)
    return Question(QUESTION, params, {"ref": pending.ref, "url": url, "id": elicitation_id})


async def _shown(tool: str, arguments: Mapping[str, Any], ops: Operations) -> Shown:
    """What the page says the password is for: the connector as it will be (an update's, as it is now with
    the changes it makes). Only what decides where the password goes; nothing secret."""
    values = {name: value for name, value in arguments.items() if value is not None}
    connector_id = arguments.get("connector_id")
    if connector_id is not None:
        now = await ops.connectors.connector(int(connector_id), before="changed")
        current = {
            "name": now.connectorName,
            "connector_type": now.connectorType,
            "host": now.connectorHost,
            "port": now.connectorPort,
            "database": now.connectorDatabaseName,
            "username": now.connectorUsername,
            "project_id": now.internalID,
        }
        values = {name: value for name, value in current.items() if value not in (None, "")} | values
        title = f"Update connector {connector_id} {plain(values.get('name'))!r}"
    else:
        values.setdefault("project_id", ops.settings.project)
        title = f"Create connector {plain(values.get('name'))!r}"
    host = plain(values.get("host"))
    if host and values.get("port") is not None:
        host = f"{host}:{plain(values['port'])}"
    rows = (
        ("Type", plain(values.get("connector_type"))),
        ("Host", host),
        ("Database", plain(values.get("database"))),
        ("User", plain(values.get("username"))),
        ("Project", plain(values.get("project_id"))),
    )
    return Shown(title, tuple((label, value) for label, value in rows if value))


def _outcome(pending: PendingWrite, **facts: Any) -> dict[str, Any]:
    return {"connector_id": pending.binding.get("connector_id"), **facts}


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
