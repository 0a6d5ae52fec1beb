"""The audit log: one line for every write a tool made, tried or was refused, and never a secret.

Written by the `databasin_mcp.audit` logger at INFO, whatever DATABASIN_LOG_LEVEL says (log.py), to
wherever the log goes: stderr, DATABASIN_LOG_FILE, as text or JSON. A line says when (the log's own
time), which tool, the outcome, the project and connector it was about (as far as the call or its answer
says), and who asked: the client's name and version as it gave them, a digest of its MCP session ID (the ID
itself lets a holder of the auth token use the session, so it is not written) and the peer's address.
Argument values other than the connector's name, project and ID are never written: a password is one.

Outcomes: ok (the write was made), no_change (answered without writing: the create found the
connector already there, the delete was not confirmed, the password is still to be typed on our page or
the person declined to type it), refused (not sent: a read-only server, a write
tool not offered, invalid arguments, an argument the server checked and refused), failed (the API
refused it or did not answer; `reason` is the kind of failure; after "no_answer" it may have been made).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import anyio

from .errors import DatabasinError, InvalidArgumentError, TransportError, UnknownProjectError

AUDIT_LOGGER = "databasin_mcp.audit"
logger = logging.getLogger(AUDIT_LOGGER)

Outcome = Literal["ok", "no_change", "refused", "failed"]
# A value written as it is in the text line; any other is written as a JSON string (quotes, escapes).
_BARE = re.compile(r"[A-Za-z0-9._:/@+-]{1,200}")
# What a client says its name is: kept to a size a log line can carry.
_MAX_CLAIMED = 80
# A refused call's arguments can be anything: a name is cut to this many characters.
_MAX_TEXT = 200


@dataclass(frozen=True)
class Caller:
    """Who made a call, as far as the transport tells: all None over stdio before the handshake."""

    client: str | None = None  # "name/version" from the client's initialize, as the client gave them
    session: str | None = None  # a digest of the MCP session ID, enough to tell sessions apart
    peer: str | None = None  # the HTTP client's address


@dataclass(frozen=True)
class AuditEntry:
    tool: str
    outcome: Outcome
    reason: str | None = None
    project: str | None = None
    connector_id: int | None = None
    connector_name: str | None = None
    caller: Caller = field(default_factory=Caller)

    def fields(self) -> dict[str, Any]:
        """The entry as flat fields, the unknown ones left out (the JSON log's `audit` object)."""
        flat = {key: value for key, value in asdict(self).items() if key != "caller"} | asdict(self.caller)
        return {key: value for key, value in flat.items() if value is not None}

    def line(self) -> str:
        """`write tool=... outcome=... key=value ...`: one line, whatever the names hold."""
        return "write " + " ".join(f"{key}={_shown(value)}" for key, value in self.fields().items())


def record(entry: AuditEntry) -> None:
    """Write the entry to the audit log."""
    logger.info("%s", entry.line(), extra={"audit": entry.fields()})


def answered(
    tool: str, arguments: Mapping[str, Any], data: Mapping[str, Any], default_project: str | None, caller: Caller
) -> AuditEntry:
    """The entry for a write that answered: made, or not needed (`created`/`deleted` false)."""
    unchanged = any(data.get(fact) is False for fact in ("created", "deleted", "written"))
    return AuditEntry(
        tool,
        "no_change" if unchanged else "ok",
        reason=_why_unchanged(data) if unchanged else None,
        project=_text(data.get("internalID") or data.get("project") or _project(tool, arguments, default_project)),
        connector_id=_id(data.get("connector_id") or arguments.get("connector_id")),
        connector_name=_text(data.get("connectorName") or data.get("connector_name") or arguments.get("name")),
        caller=caller,
    )


def failed(
    tool: str, arguments: Mapping[str, Any], error: BaseException, default_project: str | None, caller: Caller
) -> AuditEntry:
    """The entry for a write that raised: refused before sending (a checked argument), or failed."""
    refused = isinstance(error, InvalidArgumentError | UnknownProjectError)
    if isinstance(error, TransportError):
        reason = "no_answer" if error.maybe_sent else "unreachable"
    elif isinstance(error, DatabasinError):
        reason = type(error).__name__
    else:
        cancelled = isinstance(error, anyio.get_cancelled_exc_class())
        reason = "cancelled" if cancelled else f"crashed:{type(error).__name__}"
    return AuditEntry(
        tool,
        "refused" if refused else "failed",
        reason=reason,
        project=_text(_project(tool, arguments, default_project)),
        connector_id=_id(arguments.get("connector_id")),
        connector_name=_text(arguments.get("name")),
        caller=caller,
    )


def refused(tool: str, arguments: Mapping[str, Any], reason: str, caller: Caller) -> AuditEntry:
    """The entry for a write the server would not run: read-only, not offered, or arguments it cannot take."""
    return AuditEntry(
        tool,
        "refused",
        reason=reason,
        project=_text(arguments.get("project_id")),
        connector_id=_id(arguments.get("connector_id")),
        connector_name=_text(arguments.get("name")),
        caller=caller,
    )


def caller_of(context: Any) -> Caller:
    """Who made the call in `context` (an MCP Context), as far as it says; never raises."""
    if context is None:
        return Caller()
    try:
        request_context = context.request_context
    except (AttributeError, ValueError, LookupError):
        return Caller()
    client = None
    params = getattr(getattr(request_context, "session", None), "client_params", None)
    info = getattr(params, "client_info", None)
    if info is not None:
        client = f"{info.name}/{info.version}"[:_MAX_CLAIMED]
    request = getattr(request_context, "request", None)
    headers = getattr(request, "headers", None) or {}
    session_id = headers.get("mcp-session-id") or getattr(request, "query_params", {}).get("session_id")
    address = getattr(request, "client", None)
    return Caller(
        client=client,
        session=hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else None,
        peer=getattr(address, "host", None),
    )


def _project(tool: str, arguments: Mapping[str, Any], default_project: str | None) -> Any:
    given = arguments.get("project_id")
    # Only a create takes a project; the others find the connector by ID wherever it is.
    return given if given is not None or tool != "create_connector" else default_project


def _why_unchanged(data: Mapping[str, Any]) -> str:
    if data.get("deleted") is False:
        return "not_confirmed"
    if data.get("written") is False:  # the password is typed by the person on our page, or was not
        return "waiting_for_password" if data.get("url") else "password_declined"
    if data.get("pending"):
        return "earlier_create_unanswered"
    return "already_exists"


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…"


def _shown(value: Any) -> str:
    text = str(value)
    # ensure_ascii: control characters, line separators and bidi overrides all become \u escapes.
    return text if isinstance(value, int) or _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=True)
