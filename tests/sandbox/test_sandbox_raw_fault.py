"""The "raw" fault: answer one request with exactly the text scripted (issue 12: bodies no seed can hold)."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.anyio

SURROGATE_RECORD = '{"connectorID": 101, "connectorName": "Broken \\ud83d name"}'  # valid JSON, half an emoji


async def test_a_raw_fault_answers_with_the_scripted_text_once(client: httpx.AsyncClient) -> None:
    script = {"script": [{"kind": "raw", "raw": SURROGATE_RECORD}], "path": "/api/connector/101"}
    queued = await client.post("/_sandbox/faults", json=script)
    assert queued.status_code == 200
    answered = await client.get("/api/connector/101")
    assert (answered.status_code, answered.content) == (200, SURROGATE_RECORD.encode())
    assert answered.headers["content-type"] == "application/json"
    assert (await client.get("/api/connector/101")).json()["connectorName"] != "Broken \ud83d name"  # once


async def test_a_real_lone_surrogate_in_a_raw_fault_is_sent_as_the_bytes_a_broken_encoder_makes(
    client: httpx.AsyncClient,
) -> None:
    script = {"script": [{"kind": "raw", "raw": '{"connectorName": "x\ud83d"}', "status": 500}]}
    queued = await client.post("/_sandbox/faults", content=json.dumps(script).encode())  # the surrogate as \\ud83d
    assert queued.status_code == 200, queued.text
    answered = await client.get("/api/connector")
    assert (answered.status_code, answered.content) == (500, b'{"connectorName": "x\xed\xa0\xbd"}')


async def test_a_raw_fault_needs_a_string(client: httpx.AsyncClient) -> None:
    refused = await client.post("/_sandbox/faults", json={"script": [{"kind": "raw", "raw": {"a": 1}}]})
    assert refused.status_code == 400
    assert (
        refused.json()["message"] == 'Invalid fault script: fault "raw" needs a "raw" string: the text to answer with'
    )
