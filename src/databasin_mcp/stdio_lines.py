"""One line of stdio and one JSON-RPC message: what an incoming line is, and how a message is written.

Pure, apart from a log line for a message that cannot be encoded. The MCP SDK's own stdio transport
- dropped a line that was not a valid message (invalid JSON, a batch, "jsonrpc": "1.0", params as an
  array, a lone surrogate) without an answer, so the client waited forever for that id; here each such
  line becomes a Refusal, which the transport answers with a JSON-RPC error when it has an id;
- ended the process on a message it could not encode (a lone surrogate in a result); here every message
  is encoded, anything that cannot be replaced.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from mcp.shared.message import SessionMessage
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)
from pydantic import BaseModel, ValidationError

from .untrusted import has_surrogate, surrogates_replaced, without_surrogates

logger = logging.getLogger(__name__)

# As for an HTTP request body (serving.MAX_REQUEST_BODY_BYTES): a message is a few kilobytes.
MAX_MESSAGE_BYTES = 1_000_000
# Line breaks some readers split on that JSON writers leave raw inside strings (str.splitlines does).
_RAW_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


@dataclass(frozen=True)
class TooLong:
    """A line longer than MAX_MESSAGE_BYTES; its start is kept to find its id."""

    start: bytes


@dataclass(frozen=True)
class Refusal:
    """A line that is not a message this server can take: answered if it has an id, else logged."""

    id: RequestId | None
    code: int
    message: str


# --- reading: a line -> a message, or a refusal ------------------------------------------------------------


def read_line(line: bytes | TooLong) -> list[SessionMessage | Refusal]:
    """What one line of input is: a message for the server, refusals to answer or log, or nothing (blank)."""
    if isinstance(line, TooLong):
        text = line.start.decode("utf-8", errors="replace")
        limit = f"{MAX_MESSAGE_BYTES:,}"
        return [Refusal(_id_of_broken(text), INVALID_REQUEST, f"Invalid request: a message is at most {limit} bytes.")]
    if not line.strip():
        return []
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", errors="replace")
        return [Refusal(_id_of_broken(text), PARSE_ERROR, "Parse error: the message is not valid UTF-8.")]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return [Refusal(_id_of_broken(text), PARSE_ERROR, f"Parse error: {error.msg} at column {error.colno}.")]
    except RecursionError:
        return [Refusal(_id_of_broken(text), PARSE_ERROR, "Parse error: the message is nested too deeply.")]
    if isinstance(value, list):
        # MCP has no batches (2025-06-18 removed them): each request in one is answered on its own.
        ids = [_id_in(item) for item in value]
        refusal = "Invalid request: batches are not supported; send one message per line."
        return [Refusal(each, INVALID_REQUEST, refusal) for each in ids if each is not None] or [
            Refusal(None, INVALID_REQUEST, refusal)
        ]
    return [_message(value)]


def _message(value: Any) -> SessionMessage | Refusal:
    if not isinstance(value, dict):
        return Refusal(None, INVALID_REQUEST, "Invalid request: a message is a JSON object.")
    request_id = _id_in(value)
    where = _surrogate_in(value, "")
    if where is not None:
        return Refusal(
            request_id,
            PARSE_ERROR,
            f"Parse error: the message is not valid Unicode: {where or 'it'} holds a lone surrogate escape "
            "(half of a UTF-16 pair, such as \\ud83d); send whole characters.",
        )
    if value.get("jsonrpc") != "2.0":
        return Refusal(request_id, INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".')
    model: type[BaseModel]
    if "method" in value:
        if not isinstance(value["method"], str):
            return Refusal(request_id, INVALID_REQUEST, 'Invalid request: "method" must be a string.')
        params = value.get("params")
        if params is not None and not isinstance(params, dict):
            kind = "an array" if isinstance(params, list) else f"a {type(params).__name__}"
            return Refusal(
                request_id,
                INVALID_PARAMS,
                f'Invalid params: "params" must be an object (named parameters), not {kind}.',
            )
        model = JSONRPCRequest if "id" in value else JSONRPCNotification
    elif "error" in value:
        model = JSONRPCError
    elif "result" in value:
        model = JSONRPCResponse
    else:
        return Refusal(
            request_id,
            INVALID_REQUEST,
            'Invalid request: a message has a "method" (a request or a notification), or a "result" or an "error".',
        )
    try:
        message: JSONRPCMessage = model.model_validate(value, by_name=False)
    except ValidationError as error:
        return Refusal(request_id, INVALID_REQUEST, f"Invalid request: {_problems(error)}.")
    return SessionMessage(message)


def _id_in(value: Any) -> RequestId | None:
    """The id of a parsed message, if it has one that can be answered (a string, or an integer)."""
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) or (isinstance(found, int) and not isinstance(found, bool)) else None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_ID_VALUE = re.compile(r'\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


def _id_of_broken(text: str) -> RequestId | None:
    """The id of a message that is not valid JSON, when the top-level object says it once, plainly.

    Only a top-level "id" counts (not one inside params), so a broken message is never answered as if it
    were another request the client is still waiting for.
    """
    if not text.lstrip().startswith("{"):
        return None
    depth = 0
    found: list[str] = []
    for token in _TOKEN.finditer(text):
        symbol = token.group()
        if symbol in "{[":
            depth += 1
        elif symbol in "}]":
            depth -= 1
        elif depth == 1 and symbol == '"id"' and (value := _ID_VALUE.match(text, token.end())):
            found.append(value.group(1))
    if len(found) != 1:
        return None
    try:
        request_id = json.loads(found[0])
    except ValueError:
        return None
    return _id_in({"id": request_id})


def _surrogate_in(value: Any, path: str) -> str | None:
    """Where a lone surrogate is in a parsed message ("params.arguments.name"), or None."""
    if isinstance(value, str):
        return path if has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if has_surrogate(key):
                return f"{path}.{without_surrogates(key)}".lstrip(".") + " (a key)"
            if (where := _surrogate_in(item, f"{path}.{key}".lstrip("."))) is not None:
                return where
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (where := _surrogate_in(item, f"{path}.{index}".lstrip("."))) is not None:
                return where
    return None


def _problems(error: ValidationError) -> str:
    """What is wrong with a message, by field, without the values (they may be a password)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'message'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)[:3]
    )


# --- writing: a message -> one line ----------------------------------------------------------------------


def encode_message(message: JSONRPCMessage) -> bytes:
    """One message as one line of UTF-8 JSON. Never raises on content: what cannot be encoded is replaced."""
    try:
        text = message.model_dump_json(by_alias=True, exclude_unset=True)
    except (ValueError, UnicodeError):  # pydantic's serialisation error for a lone surrogate is a ValueError
        try:
            data = message.model_dump(by_alias=True, exclude_unset=True)
            text = json.dumps(surrogates_replaced(data), ensure_ascii=False, separators=(",", ":"))
        except (ValueError, TypeError):
            logger.exception("A message could not be encoded")
            request_id = getattr(message, "id", None)
            if request_id is None or isinstance(message, JSONRPCNotification):
                return b""
            failure = ErrorData(code=INTERNAL_ERROR, message="The answer could not be encoded; see the server log.")
            text = JSONRPCError(jsonrpc="2.0", id=request_id, error=failure).model_dump_json(by_alias=True)
    if not text.isascii():
        text = text.translate(_RAW_LINE_BREAKS)
    return (text + "\n").encode("utf-8")


def refusal_message(refusal: Refusal) -> JSONRPCError:
    assert refusal.id is not None
    return JSONRPCError(jsonrpc="2.0", id=refusal.id, error=ErrorData(code=refusal.code, message=refusal.message))
