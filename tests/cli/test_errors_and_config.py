"""Errors on stderr with distinct exit codes; the server's configuration; help, version and completion."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from databasin_mcp import __version__
from databasin_mcp.cli import cli
from databasin_mcp.ops import Directory

from .conftest import Databasin, Sandbox

# Nothing here writes (scripted faults answer instead of the API): one sandbox for the module.
pytestmark = pytest.mark.shared_sandbox
NOT_FOUND = (
    "Error: Connector 99999 not found. Find IDs with 'databasin connectors list --project PROJECT_ID' "
    "or 'databasin connectors find WORDS'.\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("output", [[], ["--json"]])
def test_not_found_is_exit_1_on_stderr(databasin: Databasin, output: list[str]) -> None:
    result = databasin("connectors", "get", "99999", *output)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_FOUND)


def test_metadata_of_an_unknown_connector(databasin: Databasin) -> None:
    result = databasin("metadata", "catalogs", "99999")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_FOUND)


def test_an_unknown_catalog_is_not_an_unknown_connector(databasin: Databasin) -> None:
    result = databasin("metadata", "schemas", "142", "--catalog", "nope")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: Catalog 'nope' not found for connector 142. "
        "Check the names with 'databasin metadata catalogs 142' or 'databasin metadata schemas 142'.\n"
    )


def test_a_failed_refresh_is_exit_1(databasin: Databasin) -> None:
    result = databasin("connectors", "refresh", "99999", "--progress")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Refreshing metadata of connector 99999…\n{NOT_FOUND}"


@pytest.mark.offline
def test_the_connector_id_is_checked_before_any_request(databasin: Databasin) -> None:
    result = databasin("connectors", "test", "0")  # offline: a request would have failed to connect
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for 'CONNECTOR_ID': '0' is not a connector ID (1 or more). "
        "('databasin connectors test --help' lists the options.)\n"
    )


def test_an_unknown_field_is_a_usage_error(databasin: Databasin) -> None:
    result = databasin("connectors", "get", "142", "--fields", "connectorHost,nope")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Error: Unknown field in --fields: nope. Available: connectorID, connectorName,")


@pytest.mark.offline
def test_a_limit_below_1_is_a_usage_error(databasin: Databasin) -> None:
    result = databasin("metadata", "catalogs", "142", "--limit", "0")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for '--limit': '0' is not a whole number (from 1 to 500). "
        "('databasin metadata catalogs --help' lists the options.)\n"
    )


@pytest.mark.offline
def test_listing_connectors_needs_a_project(databasin: Databasin) -> None:
    result = databasin("connectors", "list")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: --project is required: pass --project PROJECT_ID (the project's internalID; 'databasin projects' "
        "shows them).\n"
    )


def test_a_server_error_during_a_write_says_the_change_may_have_happened(
    databasin: Databasin, sandbox: Sandbox
) -> None:
    sandbox.script_faults("/api/connector/142", {"status": 503}, method="PUT")
    result = databasin("connectors", "update", "142", "--host", "db.example.com", env={"DATABASIN_MAX_ATTEMPTS": "1"})
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: Databasin API error 503 Service Unavailable: Service temporarily unavailable. "
        "The change may or may not have been applied: check with 'databasin connectors get 142' before retrying.\n"
    )


def test_no_token_is_exit_3_with_where_it_looked(refused_url: str, isolated_environment: Path) -> None:
    status, out, err = run("projects", env={"DATABASIN_API_URL": refused_url})
    assert (status, out) == (3, "")
    home = isolated_environment.parent / "home"
    assert err == (
        "Error: No Databasin API token found: DATABASIN_TOKEN is not set and there is no token in "
        f"{isolated_environment / '.token'} and {home / '.databasin' / '.token'}. "
        f"Set DATABASIN_TOKEN, or save the token to {home / '.databasin' / '.token'}.\n"
    )


def test_a_refused_token_is_exit_3(sandbox: Sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "stale.token"
    token_file.write_text("stale-token-123\n")
    status, out, err = run("--token-file", str(token_file), "projects", env={"DATABASIN_API_URL": sandbox.url})
    assert (status, out) == (3, "")
    assert err == (
        f"Error: The Databasin API refused the token from the token file {token_file} "
        "(401: Invalid or expired authentication token). Put a valid token there.\n"
    )
    assert "stale-token-123" not in err


def test_the_global_options_point_at_the_api_and_the_token(sandbox: Sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(sandbox.token)
    status, out, _ = run(
        "--api-url", sandbox.url, "--token-file", str(token_file), "connectors", "get", "142", "--fields",
        "connectorName", env={"DATABASIN_API_URL": "http://127.0.0.1:9", "DATABASIN_TOKEN": ""},
    )  # fmt: skip
    assert (status, out) == (
        0,
        "connectorID: 142\n"
        "connectorName: Enterprise Snowflake Warehouse\n"
        "more fields: testConnectorSupport (ask with --fields NAME,...)\n",
    )


def test_an_unreachable_api_is_exit_1(refused_url: str) -> None:
    status, out, err = run(
        "--api-url", refused_url, "connectors", "get", "142",
        env={"DATABASIN_TOKEN": "tok-123456", "DATABASIN_RETRY_BACKOFF": "0"},
    )  # fmt: skip
    assert (status, out) == (1, "")
    assert err == (
        f"Error: Could not connect to the Databasin API at {refused_url} (refused or unreachable). "
        "Check DATABASIN_API_URL and that the API is up. Try again; if it keeps failing, the Databasin API is "
        "having trouble.\n"
    )


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["projects"], {"DATABASIN_API_URL": "localhost:9000"}, "DATABASIN_API_URL"),
        (["--api-url", "localhost:9000", "projects"], {}, "--api-url"),
    ],
)
def test_an_invalid_setting_is_exit_3_naming_where_it_came_from(
    args: list[str], env: dict[str, str], named: str
) -> None:
    status, out, err = run(*args, env=env)
    assert (status, out) == (3, "")
    assert err == (
        f"Error: invalid configuration: {named}: must start with http:// or https://, e.g. http://localhost:9000\n"
    )


def test_help_needs_no_configuration_and_documents_exit_codes_and_completion() -> None:
    status, out, err = run("--help", env={"DATABASIN_API_URL": "not a url"})
    assert (status, err) == (0, "")
    assert out.startswith("Usage: databasin [OPTIONS] COMMAND [ARGS]...\n")
    for line in (
        "  connectors  List, find, read, create, update, delete, test and refresh...",
        "  metadata    Browse a connector's catalogs, schemas, tables and columns.",
        "  projects    Projects (project IDs) with their connector counts by type.",
        "    2  usage: a bad option, argument or connector file; a delete without",
        "    3  configuration: an invalid setting, no token, or the token was refused",
        "    4  a connector test ran and failed",
        '    eval "$(_DATABASIN_COMPLETE=bash_source databasin)"',
    ):
        assert line in out.splitlines()


def test_every_command_has_help() -> None:
    commands = [
        ["projects"],
        *(["connectors", name] for name in ("list", "find", "get", "create", "update", "delete", "test", "refresh")),
        *(["metadata", name] for name in ("catalogs", "schemas", "tables", "columns")),
    ]
    for command in commands:
        status, out, _ = run(*command, "--help")
        assert status == 0
        assert out.startswith(f"Usage: databasin {' '.join(command)} [OPTIONS]")
        assert "--password " not in out  # a password is never an argument


def test_version() -> None:
    assert run("--version") == (0, f"databasin, version {__version__}\n", "")


@pytest.mark.e2e  # click runs bash to check its version before printing the script
def test_bash_completion_script_and_completions() -> None:
    status, script, _ = run(env={"_DATABASIN_COMPLETE": "bash_source"})
    assert status == 0
    assert "_databasin_completion()" in script
    status, completions, _ = run(
        env={"_DATABASIN_COMPLETE": "bash_complete", "COMP_WORDS": "databasin conn", "COMP_CWORD": "1"}
    )
    assert (status, completions) == (0, "plain,connectors\n")
    status, completions, _ = run(
        env={"_DATABASIN_COMPLETE": "bash_complete", "COMP_WORDS": "databasin metadata c", "COMP_CWORD": "2"}
    )
    assert (status, completions) == (0, "plain,catalogs\nplain,columns\n")


def test_a_token_that_cannot_be_sent_is_exit_3_in_one_line(refused_url: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tök-123456\n", encoding="utf-8")
    status, out, err = run("--token-file", str(token_file), "projects", env={"DATABASIN_API_URL": refused_url})
    assert (status, out) == (3, "")
    assert err == (
        f"Error: The Databasin API token in the token file {token_file} cannot be sent: it has a character that "
        "is not ASCII. Nothing was sent. Put the token alone on one line in that file; it is read again on the "
        "next call.\n"
    )


def test_a_delete_refused_in_a_200_body_is_exit_1(databasin: Databasin, sandbox: Sandbox) -> None:
    sandbox.script_faults(
        "/api/connector/142", {"kind": "body", "body": {"status": "error", "message": "Connector is in use"}},
        method="DELETE",
    )  # fmt: skip
    result = databasin("connectors", "delete", "142", "--force")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: The Databasin API reported that the delete of connector 142 failed: Connector is in use. "
        "It is most likely still there: 'databasin connectors get 142' shows it.\n"
    )


@pytest.mark.offline
def test_an_unexpected_error_is_one_line_without_a_traceback(
    databasin: Databasin, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: object, **arguments: object) -> None:
        raise RuntimeError("internal detail that may hold anything")

    monkeypatch.setattr(Directory, "list_projects", broken)
    result = databasin("projects")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: databasin failed unexpectedly (RuntimeError); this is a bug. DATABASIN_LOG_LEVEL=DEBUG shows where.\n"
    )
