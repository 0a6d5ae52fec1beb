"""A stand-in for the Anthropic Messages API: scripted replies, streamed as real SSE or sent as JSON.

The conversation's n-th request (n assistant messages already in `messages`) gets the script's n-th
step. Every request is logged with its body, so what the client sent the model can be read back.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .loopback import Recorded, RequestLog, kept_headers
from .script import Say, Script, Step, ToolCall

MESSAGES = "/v1/messages"
COUNT_TOKENS = "/v1/messages/count_tokens"
SIDE_ANSWER = "OK"  # what a request outside the scripted conversation (a title, a check) is told

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_standin{next(_ids):06d}"


def assistant_turns(body: dict[str, Any]) -> int:
    return sum(1 for message in body.get("messages", []) if message.get("role") == "assistant")


def is_conversation(body: dict[str, Any]) -> bool:
    """The scripted conversation is the one that offers tools; other requests are the client's own errands."""
    return bool(body.get("tools"))


def rough_tokens(body: Any) -> int:
    # Only for the usage figures a client may display or budget by: about 4 characters a token.
    return max(1, len(json.dumps(body, ensure_ascii=False)) // 4)


def content_block(step: Step) -> dict[str, Any]:
    if isinstance(step, ToolCall):
        return {"type": "tool_use", "id": _id("toolu"), "name": step.name, "input": dict(step.arguments)}
    return {"type": "text", "text": step.text}


def message(step: Step, model: str, input_tokens: int) -> dict[str, Any]:
    """The non-streaming Messages API answer for one step."""
    return {
        "id": _id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [content_block(step)],
        "stop_reason": "tool_use" if isinstance(step, ToolCall) else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 10},
    }


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def stream(answer: dict[str, Any]) -> AsyncIterator[bytes]:
    """`answer` as the Messages API streams it: start, one block (start, delta, stop), delta, stop."""
    opening = {**answer, "content": [], "stop_reason": None, "usage": {**answer["usage"], "output_tokens": 1}}
    yield sse("message_start", {"type": "message_start", "message": opening})
    for index, block in enumerate(answer["content"]):
        if block["type"] == "tool_use":
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"], ensure_ascii=False)}
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        yield sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
        yield sse("ping", {"type": "ping"})
        yield sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": answer["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": answer["usage"]["output_tokens"]},
        },
    )
    yield sse("message_stop", {"type": "message_stop"})


def error(status: int, kind: str, text: str) -> JSONResponse:
    return JSONResponse({"type": "error", "error": {"type": kind, "message": text}}, status_code=status)


async def read_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def messages_api(script: Script, log: RequestLog) -> Starlette:
    """The stand-in app: POST /v1/messages (scripted), count_tokens, and a logged answer to anything else."""

    def record(request: Request, body: Any, answered: str) -> None:
        log.add(
            Recorded(
                request.method,
                request.url.path,
                request.url.query,
                kept_headers(request.headers),
                body,
                answered,
            )
        )

    async def messages(request: Request) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            record(request, body, "unexpected")
            return error(400, "invalid_request_error", "the body must be a JSON object")
        scripted = is_conversation(body)
        record(request, body, "scripted" if scripted else "side")
        step = script.step(assistant_turns(body)) if scripted else Say(SIDE_ANSWER)
        answer = message(step, str(body.get("model", "claude-standin")), rough_tokens(body))
        if body.get("stream"):
            return StreamingResponse(stream(answer), media_type="text/event-stream")
        return JSONResponse(answer)

    async def count_tokens(request: Request) -> Response:
        body = await read_body(request)
        record(request, body, "side")
        return JSONResponse({"input_tokens": rough_tokens(body)})

    async def anything_else(request: Request) -> Response:
        body = await read_body(request)
        probe = request.method in ("HEAD", "GET") and request.url.path in ("/", "/v1", "/v1/")
        record(request, body, "probe" if probe else "unexpected")
        if probe:
            return Response(status_code=200)
        return error(404, "not_found_error", f"the stand-in does not serve {request.method} {request.url.path}")

    every_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route(MESSAGES, messages, methods=["POST"]),
        Route(COUNT_TOKENS, count_tokens, methods=["POST"]),
        Route("/{path:path}", anything_else, methods=every_method),
    ]
    return Starlette(routes=routes)
