"""`databasin` and `databasin-mcp doctor` as real processes: stdout, stderr and exit codes as a shell sees them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from databasin_mcp.harness.processes import clean_env

from .conftest import Sandbox

pytestmark = pytest.mark.e2e

TIMEOUT = 60  # seconds: a cold start imports pydantic and httpx; a hang fails the test instead of the run


def databasin(sandbox: Sandbox, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "databasin_mcp.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**sandbox.env()),
        timeout=TIMEOUT,
        check=False,
    )


def test_get_json_is_plain_json_on_stdout(sandbox: Sandbox) -> None:
    done = databasin(sandbox, "connectors", "get", "142", "--json")
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["connector"]["connectorName"] == "Enterprise Snowflake Warehouse"


def test_an_error_goes_to_stderr_with_exit_1(sandbox: Sandbox) -> None:
    done = databasin(sandbox, "connectors", "get", "99999", "--json")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "Error: Connector 99999 not found. Find IDs with 'databasin connectors list --project PROJECT_ID' "
        "or 'databasin connectors find WORDS'.\n"
    )


def test_delete_from_a_script_without_force_refuses(sandbox: Sandbox) -> None:
    done = databasin(sandbox, "connectors", "delete", "160", stdin="y\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(
        "there is no terminal to confirm it. Whether pipelines use it could not be checked (this Databasin API has "
        "no pipeline list); any that do will fail. Add --force.\n"
    )
    assert databasin(sandbox, "connectors", "get", "160").returncode == 0


def test_a_password_piped_in_never_shows(sandbox: Sandbox) -> None:
    done = databasin(sandbox, "connectors", "update", "118", "--password-stdin", stdin="Pipe-d-s3cret\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "Updated connector 118 (Billing MySQL Replica):\nconnectorPassword: *** → *** (changed)\n"
    assert databasin(sandbox, "connectors", "test", "118").returncode == 0  # the sandbox got the new password


def test_doctor_passes_against_the_sandbox(sandbox: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "databasin_mcp", "doctor"],
        capture_output=True,
        text=True,
        env=clean_env(**sandbox.env()),
        timeout=TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"ok   configuration: API {sandbox.url} (DATABASIN_API_URL); token from the DATABASIN_TOKEN environment "
        "variable\n"
        f'ok   api reachable: {sandbox.url} (GET /api/ping answered {{"status":"ok"}})\n'
        "ok   token: the API accepted the token from the DATABASIN_TOKEN environment variable\n"
    )
    assert sandbox.token not in done.stdout
