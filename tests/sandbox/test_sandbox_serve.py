"""Running the sandbox for real: embedded (running_sandbox) and as a CLI process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

import databasin_mcp
from databasin_mcp.sandbox import SandboxConfig, running_sandbox
from databasin_mcp.sandbox.serve import build_parser, config_from_args

SRC_DIR = Path(databasin_mcp.__file__).resolve().parents[1]


@pytest.mark.anyio
async def test_running_sandbox_serves_on_a_free_port_and_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    async with running_sandbox(SandboxConfig(port=0)) as sandbox:
        assert {sig: signal.getsignal(sig) for sig in handlers} == handlers  # the host keeps its signals
        assert sandbox.url.startswith("http://127.0.0.1:")
        assert not sandbox.url.endswith(":0")
        assert len(sandbox.token) >= 24  # generated
        async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as client:
            response = await client.get("/api/connector/101", headers={"Authorization": f"Bearer {sandbox.token}"})
            assert response.status_code == 200
            await client.post("/_sandbox/token", json={"token": "rotated"})
            assert sandbox.token == "rotated"
            assert sandbox.store.count() == 434
    assert capfd.readouterr().out == ""


@pytest.mark.anyio
async def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(port=0, db=str(tmp_path / "sandbox.sqlite"), token="t")
    headers = {"Authorization": "Bearer t"}
    body = {"connectorName": "Kept", "connectorType": "S3", "institutionID": 2, "internalID": "proj-005"}
    async with (
        running_sandbox(config) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers=headers, trust_env=False) as client,
    ):
        created = (await client.post("/api/connector", json=body)).json()["connectorID"]
        await client.delete("/api/connector/101")
    async with (
        running_sandbox(config) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers=headers, trust_env=False) as client,
    ):
        assert (await client.get(f"/api/connector/{created}")).json()["connectorName"] == "Kept"
        assert (await client.get("/api/connector/101")).status_code == 404
        assert len((await client.get("/api/connector")).json()) == 434  # 434 - 1 + 1, not reseeded


def test_every_config_field_has_a_flag() -> None:
    argv = [
        "--host", "0.0.0.0", "--port", "0", "--db", "x.sqlite", "--token", "tok", "--seed", "3",
        "--rate-limit", "5", "--rate-window", "2.5", "--refresh-seconds", "0", "--huge-schema-tables", "20000",
        "--quirks", "--v2-routes", "--v2-only", "--dialect", "real", "--leak-secrets", "--latency-ms", "7",
        "--error-rate", "0.1", "--burst-429-every", "9", "--html-502-rate", "0.2", "--fault-seed", "4",
    ]  # fmt: skip
    config = config_from_args(build_parser().parse_args(argv))
    assert config == SandboxConfig(
        host="0.0.0.0", port=0, db="x.sqlite", token="tok", seed=3, rate_limit=5, rate_window=2.5,
        refresh_seconds=0.0, huge_schema_tables=20000, quirks=True, v2_routes=True, v2_only=True, dialect="real",
        leak_secrets=True, latency_ms=7, error_rate=0.1, burst_429_every=9, html_502_rate=0.2, fault_seed=4,
    )  # fmt: skip
    assert {f.name for f in fields(SandboxConfig)} <= set(vars(build_parser().parse_args([])))
    assert config_from_args(build_parser().parse_args([])) == SandboxConfig()


def test_startup_problems_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from databasin_mcp.sandbox import main

    assert main(["--port", "0", "--db", str(tmp_path / "missing-dir" / "db.sqlite")]) == 1
    assert "cannot open database" in capsys.readouterr().err


def test_invalid_settings_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from databasin_mcp.sandbox import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--error-rate", "2"])
    assert exit_info.value.code == 2
    assert "error_rate must be between 0 and 1" in capsys.readouterr().err


@pytest.mark.e2e  # a real sandbox process, stopped with SIGTERM
def test_cli_process_serves_until_sigterm(tmp_path: Path) -> None:
    ready_file = tmp_path / "ready.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "databasin_mcp.sandbox", "--port", "0", "--ready-file", str(ready_file)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not ready_file.exists():  # the file appears atomically once the server listens
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "sandbox did not become ready"
            time.sleep(0.02)
        ready = json.loads(ready_file.read_text())
        assert ready["pid"] == process.pid
        headers = {"Authorization": f"Bearer {ready['token']}"}
        # trust_env=False: a proxy configured in the environment must not intercept loopback traffic.
        response = httpx.get(f"{ready['url']}/api/connector/160", headers=headers, trust_env=False)
        assert response.json()["connectorName"] == "東京 Warehouse"

        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=5)
        assert process.returncode == 0
        assert stdout.splitlines() == [
            f"Databasin sandbox API on {ready['url']}",
            f"Token: {ready['token']}",
            f"export DATABASIN_API_URL={ready['url']} DATABASIN_TOKEN={ready['token']}",
        ]
        assert not ready_file.exists()  # removed on exit, so a stale file never signals readiness
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
