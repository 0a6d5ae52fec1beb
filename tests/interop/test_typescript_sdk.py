"""The TypeScript SDK client over stdio: progress notifications during a refresh, and a delete that needs confirm."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from databasin_mcp import __version__
from databasin_mcp.harness.children import run_bounded
from databasin_mcp.harness.node import PINS, TS_SDK, NodeTools, node_env
from databasin_mcp.harness.processes import Sandbox, sandbox_process
from databasin_mcp.sandbox.seed import BIG_CONNECTOR_ID, PROJECT_95

from .servers import SERVER_SCRIPT

pytestmark = pytest.mark.e2e

CLIENT = Path(__file__).with_name("ts_client.mjs")
REFRESH_SECONDS = "2.5"  # the server reports progress once a second while the API refreshes
TOKYO_CONNECTOR_ID = 160  # "東京 Warehouse": also checks non-ASCII text through the Node client


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[Sandbox]:
    """Its own sandbox, so the request log holds only this test's calls."""
    with sandbox_process("--refresh-seconds", REFRESH_SECONDS) as running:
        yield running


def api_get(sandbox: Sandbox, path: str) -> Any:
    request = urllib.request.Request(f"{sandbox.url}{path}", headers={"Authorization": f"Bearer {sandbox.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_progress_arrives_during_a_refresh_and_an_unconfirmed_delete_deletes_nothing(
    node_tools: NodeTools, slow_sandbox: Sandbox, home: Path
) -> None:
    config = {
        "nodeDir": str(node_tools.dir),
        "command": SERVER_SCRIPT,
        "args": [],
        "env": slow_sandbox.env(HOME=str(home)),
        "refreshConnectorId": BIG_CONNECTOR_ID,
        "deleteConnectorId": TOKYO_CONNECTOR_ID,
        "timeoutMs": 60_000,
    }
    done = run_bounded([node_tools.node, str(CLIENT), json.dumps(config)], env=node_env(home), timeout=120, check=False)
    summary = json.loads(done.stdout)
    assert "error" not in summary, summary["error"]
    assert done.returncode == 0, done.stderr
    assert summary["sdkVersion"] == PINS[TS_SDK]
    assert summary["protocolVersion"] == "2025-11-25"  # the handshake generation
    assert summary["serverInfo"] == {"name": "databasin", "version": __version__}

    refresh = summary["refresh"]
    assert refresh["isError"] is False
    assert refresh["text"] == [
        f"Metadata refresh of connector {BIG_CONNECTOR_ID}: 5 catalogs, 21 schemas, 2,105 tables. "
        "The API says: Metadata refresh initiated."
    ]
    assert refresh["structuredContent"] is None  # off by default: the text is the answer
    # Progress: notifications for the token the SDK sent, each before the answer, about one a second
    # (two in a 2.5 s refresh unless the machine is very busy), and each handed to the SDK's onprogress.
    notifications = refresh["notifications"]
    assert len(notifications) >= 1, refresh
    assert {n["progressToken"] for n in notifications} == {refresh["progressToken"]}
    assert all(n["beforeResult"] for n in notifications)
    progress = [n["progress"] for n in notifications]
    assert progress == sorted(set(progress))
    assert progress[0] > 0.9  # the first report comes after about a second
    assert [n["message"] for n in notifications] == [
        f"Refreshing metadata of connector {BIG_CONNECTOR_ID}: {value:.0f} s" for value in progress
    ]
    assert refresh["reported"] == [{"progress": n["progress"], "message": n["message"]} for n in notifications]

    unconfirmed = summary["delete"]
    assert unconfirmed["isError"] is False
    assert unconfirmed["text"] == [
        f"Not deleted: confirm is false. This would delete connector {TOKYO_CONNECTOR_ID} '東京 Warehouse' "
        f"(Redshift, project {PROJECT_95}). Whether pipelines use it could not be checked (this Databasin API has "
        "no pipeline list); any that do will fail. "
        f"To delete it, call delete_connector(connector_id={TOKYO_CONNECTOR_ID}, confirm=true)."
    ]
    assert unconfirmed["structuredContent"] is None

    # Through the sandbox: the refresh reached the API, no DELETE did, and the connector is still there.
    calls = [(r["method"], r["path"]) for r in slow_sandbox.requests()]
    assert ("POST", f"/api/connector/{BIG_CONNECTOR_ID}/refresh") in calls
    assert [call for call in calls if call[0] == "DELETE"] == []
    assert api_get(slow_sandbox, f"/api/connector/{TOKYO_CONNECTOR_ID}")["connectorName"] == "東京 Warehouse"
