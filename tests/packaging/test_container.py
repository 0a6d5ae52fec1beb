"""The container image (issue 18 #5), built and probed where a container engine runs.

Where none runs (docker is only a client on the project's machines), the image test is skipped, saying
why; the Dockerfile itself is checked everywhere (test_container_config.py), and the command it runs is
run here as a process: binding every address, it refuses to start without the auth token.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
import pytest

from databasin_mcp.harness.processes import clean_env, free_port

from .published import ROOT, registry_name
from .test_container_config import instructions

pytestmark = pytest.mark.e2e
AUTH_TOKEN = "container-e2e-auth-token-8d1f"
SANDBOX_TOKEN = "container-e2e-sandbox-token"
BUILD_TIMEOUT = 900.0
HEALTHY_WITHIN = 90.0


def image_command() -> list[str]:
    (command,) = [json.loads(rest) for word, rest in instructions() if word == "CMD"]
    return list(command)


def test_the_image_s_command_refuses_to_start_without_the_auth_token() -> None:
    name, *arguments = image_command()
    done = subprocess.run(
        [sys.executable, "-m", "databasin_mcp", *arguments],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert name == "databasin-mcp"
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("databasin-mcp: Refusing to serve on 0.0.0.0 without an auth token")


def engine() -> str:
    """The container engine's command, or a skip saying why there is none."""
    command = shutil.which("docker") or shutil.which("podman")
    if command is None:
        pytest.skip("no container engine here (neither docker nor podman is installed): the image is not built")
    probe = subprocess.run([command, "info"], capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"no container engine runs here (`{command} info`: {reason[0]}): the image is not built")
    return command


@contextmanager
def container(command: str, *arguments: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`run --detach` a container; it is removed on exit whatever happened."""
    started = subprocess.run(
        [command, "run", "--detach", *arguments], capture_output=True, text=True, env=env, check=True
    )
    identifier = started.stdout.strip()
    try:
        yield identifier
    finally:
        subprocess.run([command, "rm", "--force", identifier], capture_output=True, check=False)


def inspect(command: str, what: str, template: str) -> str:
    return subprocess.run(
        [command, "inspect", "--format", template, what], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_image_builds_runs_as_its_user_and_answers_its_health_check() -> None:
    docker = engine()
    tag = f"databasin-mcp-test:{uuid.uuid4().hex[:8]}"
    network = f"databasin-mcp-test-{uuid.uuid4().hex[:8]}"
    subprocess.run([docker, "build", "--tag", tag, str(ROOT)], check=True, timeout=BUILD_TIMEOUT)
    try:
        assert inspect(docker, tag, "{{.Config.User}}") == "databasin:databasin"
        label = inspect(docker, tag, '{{index .Config.Labels "io.modelcontextprotocol.server.name"}}')
        assert label == registry_name()
        refused = subprocess.run([docker, "run", "--rm", tag], capture_output=True, text=True, timeout=120, check=False)
        assert refused.returncode == 2
        assert "without an auth token" in refused.stderr
        subprocess.run([docker, "network", "create", network], capture_output=True, check=True)
        # The sandbox API runs from the same image, on a network of the test's own; only the server is published,
        # and only on this machine's loopback.
        sandbox = ["--network", network, "--name", f"{network}-api", tag, "databasin-mcp", "sandbox"]
        with container(docker, *sandbox, "--host", "0.0.0.0", "--port", "9000", "--token", SANDBOX_TOKEN):
            port = free_port()
            server = ["--network", network, "--publish", f"127.0.0.1:{port}:8000"]
            server += ["--env", f"DATABASIN_API_URL=http://{network}-api:9000", "--env", "DATABASIN_TOKEN"]
            server += ["--env", "DATABASIN_MCP_AUTH_TOKEN", tag]
            # The tokens reach the container from this environment, never on its command line.
            env = clean_env(DATABASIN_TOKEN=SANDBOX_TOKEN, DATABASIN_MCP_AUTH_TOKEN=AUTH_TOKEN)
            with container(docker, *server, env=env) as identifier:
                wait_until_healthy(docker, identifier)
                probe(f"http://127.0.0.1:{port}")
    finally:
        subprocess.run([docker, "network", "rm", network], capture_output=True, check=False)
        subprocess.run([docker, "rmi", "--force", tag], capture_output=True, check=False)


def wait_until_healthy(docker: str, identifier: str) -> None:
    """Poll the engine's view of the HEALTHCHECK until it says healthy (an external process: a deadline, no sleep
    as synchronisation beyond the poll interval)."""
    deadline = time.monotonic() + HEALTHY_WITHIN
    status = ""
    while time.monotonic() < deadline:
        status = inspect(docker, identifier, "{{.State.Health.Status}}")
        if status == "healthy":
            return
        if inspect(docker, identifier, "{{.State.Status}}") != "running":
            logs = subprocess.run([docker, "logs", identifier], capture_output=True, text=True, check=False)
            raise AssertionError(f"the container stopped before it was healthy:\n{logs.stdout}{logs.stderr}")
        with suppress(subprocess.TimeoutExpired):
            subprocess.run([docker, "wait", "--condition", "not-running", identifier], timeout=1, capture_output=True)
    raise AssertionError(f"the container's health check said {status!r} after {HEALTHY_WITHIN:.0f} s")


def probe(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"status": "ready"}
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": f"Bearer {AUTH_TOKEN}"}).status_code == 200
        assert http.post("/mcp", json={}).status_code == 401
