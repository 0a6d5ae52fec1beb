"""The Messages API stand-in answers as the real API does, follows its script, and logs every request."""

from __future__ import annotations

import json
from typing import Any

import httpx
from benchmarks.recording.anthropic_api import messages_api
from benchmarks.recording.loopback import RequestLog, serving
from benchmarks.recording.script import Script, ToolCall
from benchmarks.recording.transcript import forwarded_results

SCRIPT = Script.call_then_answer("mcp__databasin__list_tables", {"connector_id": 142, "limit": 5})
TOOLS = [{"name": "mcp__databasin__list_tables", "description": "List tables.", "input_schema": {"type": "object"}}]


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in text.strip().split("\n\n"):
        name, data = chunk.split("\n")
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def conversation(*messages: dict[str, Any], stream: bool) -> dict[str, Any]:
    return {"model": "claude-x", "max_tokens": 100, "tools": TOOLS, "messages": list(messages), "stream": stream}


USER = {"role": "user", "content": "list the tables"}


def test_the_first_turn_streams_the_scripted_tool_call_as_server_sent_events() -> None:
    log = RequestLog()
    with serving(messages_api(SCRIPT, log)) as url:
        response = httpx.post(f"{url}/v1/messages", json=conversation(USER, stream=True), timeout=10)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    block = events[1][1]["content_block"]
    assert (block["type"], block["name"], block["input"]) == ("tool_use", "mcp__databasin__list_tables", {})
    assert json.loads(events[3][1]["delta"]["partial_json"]) == {"connector_id": 142, "limit": 5}
    assert events[5][1]["delta"]["stop_reason"] == "tool_use"
    assert [(e.path, e.answered, e.body["messages"]) for e in log.entries] == [("/v1/messages", "scripted", [USER])]


def test_once_the_result_is_back_the_model_answers_in_text_and_stops() -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "mcp__databasin__list_tables", "input": {"connector_id": 142}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"items":[]}'}
    body = conversation(
        USER, {"role": "assistant", "content": [call]}, {"role": "user", "content": [result]}, stream=False
    )
    log = RequestLog()
    with serving(messages_api(SCRIPT, log)) as url:
        answer = httpx.post(f"{url}/v1/messages", json=body, timeout=10).json()
    assert (answer["stop_reason"], answer["content"][0]["type"]) == ("end_turn", "text")
    (forwarded,) = forwarded_results(e.body for e in log.entries)
    assert (forwarded.tool, forwarded.arguments, forwarded.content) == (
        "mcp__databasin__list_tables",
        {"connector_id": 142},
        '{"items":[]}',
    )


def test_requests_outside_the_conversation_are_answered_and_logged_as_such() -> None:
    log = RequestLog()
    with serving(messages_api(Script((ToolCall("x"),)), log)) as url:
        side = httpx.post(f"{url}/v1/messages", json={"model": "m", "messages": [USER]}, timeout=10).json()
        counted = httpx.post(f"{url}/v1/messages/count_tokens", json={"messages": [USER]}, timeout=10).json()
        missing = httpx.get(f"{url}/v1/models", timeout=10)
    assert side["content"] == [{"type": "text", "text": "OK"}]
    assert counted["input_tokens"] > 0
    assert missing.status_code == 404
    assert [(e.method, e.path, e.answered) for e in log.entries] == [
        ("POST", "/v1/messages", "side"),
        ("POST", "/v1/messages/count_tokens", "side"),
        ("GET", "/v1/models", "unexpected"),
    ]
