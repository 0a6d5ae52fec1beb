"""A stand-in for the OpenAI Responses API (POST /v1/responses, non-streaming): scripted, every request logged.

The conversation's n-th request (n function_call_output items already in `input`) gets the script's
n-th step: a function_call, or an output_text message that ends the run.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .anthropic_api import read_body
from .loopback import Recorded, RequestLog, kept_headers
from .script import Script, Step, ToolCall

RESPONSES = "/v1/responses"

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_standin{next(_ids):06d}"


def tool_turns(body: dict[str, Any]) -> int:
    items = body.get("input")
    if not isinstance(items, list):
        return 0
    return sum(1 for item in items if isinstance(item, dict) and item.get("type") == "function_call_output")


def output_item(step: Step) -> dict[str, Any]:
    if isinstance(step, ToolCall):
        return {
            "type": "function_call",
            "id": _id("fc"),
            "call_id": _id("call"),
            "name": step.name,
            "arguments": json.dumps(dict(step.arguments)),
            "status": "completed",
        }
    return {
        "type": "message",
        "id": _id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": step.text, "annotations": []}],
    }


def response(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    """A completed Response holding the step's one output item."""
    return {
        "id": _id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": str(body.get("model", "standin")),
        "output": [output_item(step)],
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "usage": {
            "input_tokens": max(1, len(json.dumps(body)) // 4),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 10,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": max(1, len(json.dumps(body)) // 4) + 10,
        },
    }


def responses_api(script: Script, log: RequestLog) -> Starlette:
    """The stand-in app: POST /v1/responses scripted; anything else logged as unexpected and refused."""

    def record(request: Request, body: Any, answered: str) -> None:
        log.add(
            Recorded(request.method, request.url.path, request.url.query, kept_headers(request.headers), body, answered)
        )

    async def responses(request: Request) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict) or body.get("stream"):
            record(request, body, "unexpected")
            return JSONResponse({"error": {"message": "the stand-in answers non-streaming JSON bodies"}}, 400)
        record(request, body, "scripted")
        return JSONResponse(response(script.step(tool_turns(body)), body))

    async def anything_else(request: Request) -> Response:
        record(request, await read_body(request), "unexpected")
        return JSONResponse({"error": {"message": f"not served: {request.method} {request.url.path}"}}, 404)

    every_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(
        routes=[
            Route(RESPONSES, responses, methods=["POST"]),
            Route("/{path:path}", anything_else, methods=every_method),
        ]
    )
