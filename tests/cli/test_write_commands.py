"""`databasin connectors create|update|delete|test|refresh` against a fresh sandbox per test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest

from databasin_mcp.cli import cli, commands
from databasin_mcp.sandbox.seed import (
    BIG_CONNECTOR_ID,
    INACTIVE_CONNECTOR_ID,
    LAST_SEED_CONNECTOR_ID,
    WRONG_PASSWORD,
    WRONG_PASSWORD_CONNECTOR_ID,
)
from tests.reference import CREATE_BODY

from .conftest import Databasin, MakeSandbox, databasin_for

NEW_ID = LAST_SEED_CONNECTOR_ID + 1
NEW_PASSWORD = "n3w-Secret-pw"


def connector_file(directory: Path, body: dict[str, Any], *, mode: int = 0o600, name: str = "mysql.json") -> str:
    path = directory / name
    path.write_text(json.dumps(body), encoding="utf-8")
    path.chmod(mode)
    return str(path)


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if stdin were a terminal (CliRunner's never is): prompts read the test's `input`."""
    monkeypatch.setattr(commands, "stdin_is_interactive", lambda: True)


# --- create ---------------------------------------------------------------------------------------------


def test_create_from_the_reference_body(databasin: Databasin, tmp_path: Path) -> None:
    result = databasin("connectors", "create", connector_file(tmp_path, CREATE_BODY))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"Created connector {NEW_ID} 'Production MySQL' (RDBMS) in proj-001.\n"
    created = json.loads(databasin("connectors", "get", str(NEW_ID), "--fields", "*", "--json").stdout)["connector"]
    assert {key: created[key] for key in CREATE_BODY if key != "connectorPassword"} == {
        **{key: value for key, value in CREATE_BODY.items() if key != "connectorPassword"},
    }


def test_create_sends_the_files_password(databasin: Databasin, tmp_path: Path) -> None:
    # The sandbox fails the test of a connector whose password is "wrong": proof the password arrived.
    path = connector_file(tmp_path, {**CREATE_BODY, "connectorPassword": WRONG_PASSWORD})
    result = databasin("connectors", "create", path, "--test")
    assert result.exit_code == 4
    assert result.stdout == (
        f"Created connector {NEW_ID} 'Production MySQL' (RDBMS) in proj-001.\n"
        f"Connector {NEW_ID} test FAILED: Connection failed: Access denied for user 'databasin_user'@'10.0.0.5' "
        "(Authentication failure)\n"
    )


def test_create_with_a_passing_test_exits_0(databasin: Databasin, tmp_path: Path) -> None:
    result = databasin("connectors", "create", connector_file(tmp_path, CREATE_BODY), "--test", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "created": True,
        "connector_id": NEW_ID,
        "test": {"connector_id": NEW_ID, "success": True, "message": "Connection test successful", "error": None},
    }


def test_a_password_on_stdin_replaces_the_files(databasin: Databasin, tmp_path: Path) -> None:
    path = connector_file(tmp_path, {**CREATE_BODY, "connectorPassword": WRONG_PASSWORD})
    result = databasin("connectors", "create", path, "--test", "--password-stdin", input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0
    assert NEW_PASSWORD not in result.output


def test_a_password_echoed_by_the_api_is_masked(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    databasin = databasin_for(make_sandbox(leak_secrets=True))
    path = connector_file(tmp_path, {**CREATE_BODY, "connectorPassword": WRONG_PASSWORD})
    result = databasin("connectors", "create", path, "--test")
    assert result.exit_code == 4
    assert result.stdout == (
        f"Created connector {NEW_ID} 'Production MySQL' (RDBMS) in proj-001.\n"
        f"Connector {NEW_ID} test FAILED: Connection failed: Access denied for user 'databasin_user'@'10.0.0.5' "
        "(using password: ***) (Authentication failure)\n"
    )


def test_a_file_others_can_read_gets_a_note_on_stderr_only(databasin: Databasin, tmp_path: Path) -> None:
    path = connector_file(tmp_path, CREATE_BODY, mode=0o644)
    result = databasin("connectors", "create", path, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"created": True, "connector_id": NEW_ID}
    assert result.stderr == f"Note: {path} holds a password and other users can read it: chmod 600 it.\n"


def test_create_answers_the_existing_connector_instead_of_a_duplicate(databasin: Databasin, tmp_path: Path) -> None:
    path = connector_file(tmp_path, CREATE_BODY)
    databasin("connectors", "create", path)
    again = databasin("connectors", "create", path)
    assert again.exit_code == 0
    assert again.stdout == (
        f"Not created: proj-001 already has connector {NEW_ID} named 'Production MySQL' (RDBMS). "
        f"Use it ('databasin connectors get {NEW_ID}'), or pass --allow-duplicate to create another.\n"
    )
    as_json = json.loads(databasin("connectors", "create", path, "--json").stdout)
    assert as_json == {"created": False, "connector_id": NEW_ID, "duplicate": True}
    forced = databasin("connectors", "create", path, "--allow-duplicate")
    assert forced.stdout == f"Created connector {NEW_ID + 1} 'Production MySQL' (RDBMS) in proj-001.\n"


def test_a_re_run_with_test_tests_the_connector_that_is_there_and_exits_as_the_first_run(
    databasin: Databasin, tmp_path: Path
) -> None:
    # Before: a re-run with --test exited 1 and silently skipped the test (issue 16 #7).
    path = connector_file(tmp_path, CREATE_BODY)
    first = databasin("connectors", "create", path, "--test")
    again = databasin("connectors", "create", path, "--test")
    assert (first.exit_code, again.exit_code) == (0, 0)
    said = again.stdout.splitlines()
    assert said[0].startswith(f"Not created: proj-001 already has connector {NEW_ID} named 'Production MySQL'")
    assert said[1].startswith(f"Connector {NEW_ID} test passed: Connection test successful")
    as_json = json.loads(databasin("connectors", "create", path, "--test", "--json").stdout)
    assert (as_json["duplicate"], as_json["test"]["success"]) == (True, True)


def test_create_reads_the_file_from_stdin_and_the_project_from_the_environment(databasin: Databasin) -> None:
    body = {key: value for key, value in CREATE_BODY.items() if key not in ("internalID", "connectorPassword")}
    result = databasin("connectors", "create", "-", input=json.dumps(body), env={"DATABASIN_PROJECT": "proj-003"})
    assert result.stdout == f"Created connector {NEW_ID} 'Production MySQL' (RDBMS) in proj-003.\n"


@pytest.mark.offline
@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            "{",
            "Error: <stdin> is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)\n",
        ),
        ("[]", "Error: <stdin> must hold one JSON object with the API's field names.\n"),
        (
            '{"connectorName": "x", "active": true, "connectorID": 5}',
            "Error: <stdin>: unknown fields active, connectorID; a connector file may have connectorName, "
            "connectorType, connectorHost, connectorPort, connectorDatabaseName, connectorUsername, "
            "connectorPassword, connectorAuthType, institutionID, internalID, ownerID, connectorMaxConnections.\n",
        ),
        (
            '{"connectorName": 5, "connectorPort": "http", "institutionID": 1, "connectorPassword": "s3cr3t-value"}',
            "Error: <stdin>: connectorName: Input should be a valid string; connectorType: Field required; "
            "connectorPort: Input should be a valid integer, unable to parse string as an integer\n",
        ),
    ],
)
def test_a_bad_connector_file_is_a_usage_error(databasin: Databasin, content: str, error: str) -> None:
    result = databasin("connectors", "create", "-", input=content)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", error)


@pytest.mark.offline
def test_a_connector_file_without_a_project_is_a_usage_error(databasin: Databasin, tmp_path: Path) -> None:
    body = {key: value for key, value in CREATE_BODY.items() if key != "internalID"}
    result = databasin("connectors", "create", connector_file(tmp_path, body))
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f'Error: {tmp_path / "mysql.json"} has no "internalID" (the project) and DATABASIN_PROJECT is not set.\n'
    )


@pytest.mark.offline
def test_the_file_and_the_password_cannot_both_come_from_stdin(databasin: Databasin) -> None:
    result = databasin("connectors", "create", "-", "--password-stdin", input="{}")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: The file is read from stdin, so the password cannot be: use --password-prompt.\n"
    )


# --- update ---------------------------------------------------------------------------------------------


def test_update_renames(databasin: Databasin) -> None:
    result = databasin("connectors", "update", "142", "--name", "New Connector Name")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Updated connector 142 (Enterprise Snowflake Warehouse):\n"
        "connectorName: Enterprise Snowflake Warehouse → New Connector Name\n"
    )


def test_update_credentials_with_the_password_from_stdin(databasin: Databasin) -> None:
    connector = str(WRONG_PASSWORD_CONNECTOR_ID)
    assert databasin("connectors", "test", connector).exit_code == 4
    result = databasin(
        "connectors", "update", connector, "--username", "new_user", "--password-stdin", input=f"{NEW_PASSWORD}\n"
    )
    assert result.stdout == (
        "Updated connector 118 (Billing MySQL Replica):\n"
        "connectorUsername: readonly → new_user\n"
        "connectorPassword: *** → *** (changed)\n"
    )
    assert NEW_PASSWORD not in result.output
    assert databasin("connectors", "test", connector).exit_code == 0  # the new password arrived


def test_update_asks_for_the_password_twice_without_echo(databasin: Databasin, interactive: None) -> None:
    result = databasin(
        "connectors", "update", str(WRONG_PASSWORD_CONNECTOR_ID), "--password-prompt", "--json",
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr == "Password: \nRepeat for confirmation: \n"
    assert json.loads(result.stdout) == {
        "connector_id": WRONG_PASSWORD_CONNECTOR_ID,
        "changes": {"connectorPassword": {"before": "***", "after": "***"}},
    }
    assert NEW_PASSWORD not in result.output
    assert databasin("connectors", "test", str(WRONG_PASSWORD_CONNECTOR_ID)).exit_code == 0


def test_update_activates(databasin: Databasin) -> None:
    result = databasin("connectors", "update", str(INACTIVE_CONNECTOR_ID), "--active")
    assert result.stdout == "Updated connector 133 (Archived Oracle ERP):\nactive: false → true\n"


UPDATE_HELP = " ('databasin connectors update --help' lists the options.)"


@pytest.mark.offline
@pytest.mark.parametrize(
    ("options", "stdin", "error"),
    [
        ([], None, "Error: Nothing to update: give at least one of --name, --host, --port, --database, --username, "
         "--password-stdin/--password-prompt, --auth-type, --max-connections, --active/--inactive.\n"),
        (["--password-prompt"], f"{NEW_PASSWORD}\n",
         "Error: --password-prompt needs a terminal; pipe the password in with --password-stdin.\n"),
        (["--password-stdin"], "", "Error: --password-stdin: stdin holds no password.\n"),
        (["--password-stdin", "--password-prompt"], f"{NEW_PASSWORD}\n",
         "Error: Give either --password-stdin or --password-prompt, not both.\n"),
        (["--password", NEW_PASSWORD], None,
         "Error: No such option '--password'. (Did you mean one of: '--password-prompt', '--password-stdin', "
         f"'--port'?){UPDATE_HELP}\n"),
        ([f"--password={NEW_PASSWORD}"], None,
         "Error: No such option '--password'. (Did you mean one of: '--password-prompt', '--password-stdin', "
         f"'--port'?){UPDATE_HELP}\n"),
        (["--port", "0"], None,
         f"Error: Invalid value for '--port': '0' is not a whole number (from 1 to 65535).{UPDATE_HELP}\n"),
    ],
)  # fmt: skip
def test_update_usage_errors(databasin: Databasin, options: list[str], stdin: str | None, error: str) -> None:
    result = databasin("connectors", "update", "142", *options, input=stdin)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == error  # one line
    assert NEW_PASSWORD not in result.output


# --- delete ---------------------------------------------------------------------------------------------


def test_delete_with_force_deletes_without_asking(databasin: Databasin) -> None:
    result = databasin("connectors", "delete", "160", "--force")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Deleted connector 160 '東京 Warehouse' (Redshift, project proj-007). Pipelines that used it will now fail.\n"
    )
    assert databasin("connectors", "get", "160").exit_code == 1


def test_delete_without_force_and_without_a_terminal_refuses(databasin: Databasin) -> None:
    result = databasin("connectors", "delete", "160", input="y\n")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: Not deleted: this would delete connector 160 '東京 Warehouse' (Redshift, project proj-007), "
        "and there is no terminal to confirm it. Whether pipelines use it could not be checked (this Databasin API "
        "has no pipeline list); any that do will fail. Add --force.\n"
    )
    assert databasin("connectors", "get", "160").exit_code == 0


def test_delete_asks_and_deletes_on_yes(databasin: Databasin, interactive: None) -> None:
    result = databasin("connectors", "delete", "160", "--json", input="y\n")
    assert result.exit_code == 0
    assert result.stderr == (
        "Delete connector 160 '東京 Warehouse' (Redshift, project proj-007)? Whether pipelines use it could not be "
        "checked (this Databasin API has no pipeline list); any that do will fail. [y/N]: y\n"
    )
    assert json.loads(result.stdout) == {
        "deleted": True,
        "connector_id": 160,
        "connectorName": "東京 Warehouse",
        "connectorType": "Redshift",
        "internalID": "proj-007",
    }
    assert databasin("connectors", "get", "160").exit_code == 1


def test_delete_keeps_the_connector_on_no(databasin: Databasin, interactive: None) -> None:
    result = databasin("connectors", "delete", "160", input="n\n")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.endswith("[y/N]: n\nError: Not deleted.\n")
    assert databasin("connectors", "get", "160").exit_code == 0


# --- test and refresh -------------------------------------------------------------------------------------


def test_test_passes(databasin: Databasin) -> None:
    result = databasin("connectors", "test", str(BIG_CONNECTOR_ID))
    assert (result.exit_code, result.stdout) == (0, "Connector 142 test passed: Connection test successful in 0.9s\n")


def test_test_details(databasin: Databasin) -> None:
    result = databasin("connectors", "test", str(BIG_CONNECTOR_ID), "--details")
    assert result.stdout == (
        "Connector 142 test passed: Connection test successful\nconnectorType: Snowflake\ntestDuration: 0.9s\n"
    )


def test_a_failed_test_exits_4(databasin: Databasin) -> None:
    result = databasin("connectors", "test", str(WRONG_PASSWORD_CONNECTOR_ID), "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {
        "connector_id": 118,
        "success": False,
        "message": "Connection failed: Access denied for user 'readonly'@'10.0.0.5'",
        "error": "Authentication failure",
    }


def test_refresh_prints_the_counts_and_no_progress_without_a_terminal(databasin: Databasin) -> None:
    result = databasin("connectors", "refresh", str(BIG_CONNECTOR_ID))
    assert (result.exit_code, result.stderr) == (0, "")
    assert (
        result.stdout == "Metadata refresh of connector 142: 5 catalogs, 21 schemas, 2,105 tables. "
        "The API says: Metadata refresh initiated.\n"
    )


@pytest.fixture
def slow_refresh(make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch) -> Databasin:
    """A refresh that takes 0.5 s, with progress reported every 0.05 s instead of every second."""
    monkeypatch.setattr("databasin_mcp.ops.actions.PROGRESS_INTERVAL", 0.05)
    return databasin_for(make_sandbox(refresh_seconds=0.5))


def test_refresh_rewrites_one_progress_line_on_a_terminal(
    slow_refresh: Databasin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "stderr_is_terminal", lambda: True)
    result = slow_refresh("connectors", "refresh", "142", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tables"] == 2105
    first, *updates, last = result.stderr.split("\r\x1b[K")
    assert (first, last) == ("Refreshing metadata of connector 142…", "")
    assert updates
    assert all(re.fullmatch(r"Refreshing metadata of connector 142: \d s", update) for update in updates)


def test_refresh_progress_asked_for_without_a_terminal_is_one_line_per_report(slow_refresh: Databasin) -> None:
    result = slow_refresh("connectors", "refresh", "142", "--progress")
    assert (
        result.stdout == "Metadata refresh of connector 142: 5 catalogs, 21 schemas, 2,105 tables. "
        "The API says: Metadata refresh initiated.\n"
    )
    first, *updates, last = result.stderr.split("\n")
    assert (first, last) == ("Refreshing metadata of connector 142…", "")
    assert updates
    assert all(re.fullmatch(r"Refreshing metadata of connector 142: \d s", update) for update in updates)


# --- read-only mode ------------------------------------------------------------------------------------------

# Every command that changes something, as a person (or an agent with a shell) would type it.
WRITE_COMMANDS = {
    "create": ["connectors", "create", "{file}"],
    "create-from-stdin": ["connectors", "create", "-"],
    "update": ["connectors", "update", "160", "--name", "Renamed"],
    "update-password": ["connectors", "update", "160", "--password-stdin"],
    "delete": ["connectors", "delete", "160", "--force"],
    "delete-asking-first": ["connectors", "delete", "160"],
    "refresh": ["connectors", "refresh", "160"],
}


def _refusal(source: str, command: str) -> str:
    refused = f"read-only mode ({source}) does not allow 'databasin connectors {command}'"
    return f"Error: Refused: {refused}; nothing was sent.\n"


@pytest.mark.offline
@pytest.mark.parametrize("how", ["environment", "flag"])
@pytest.mark.parametrize("command", list(WRITE_COMMANDS))
def test_read_only_mode_refuses_every_write_command_before_any_request(
    databasin: Databasin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, command: str
) -> None:
    monkeypatch.setattr(commands, "stdin_is_interactive", lambda: True)  # a delete would ask: it must not get there
    argv = [word.format(file=connector_file(tmp_path, CREATE_BODY)) for word in WRITE_COMMANDS[command]]
    if how == "flag":
        result = databasin("--read-only", *argv, input=json.dumps(CREATE_BODY))
    else:
        result = databasin(*argv, input=json.dumps(CREATE_BODY), env={"DATABASIN_READ_ONLY": "1"})

    source = "--read-only" if how == "flag" else "DATABASIN_READ_ONLY"
    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr == _refusal(source, argv[1])  # offline: a request would have failed to connect


def test_read_only_mode_still_reads_and_tests(databasin: Databasin) -> None:
    env: dict[str, str | None] = {"DATABASIN_READ_ONLY": "true"}
    assert databasin("connectors", "get", "160", env=env).exit_code == 0
    assert databasin("--read-only", "connectors", "list", "--project", "proj-007").exit_code == 0
    assert databasin("--read-only", "connectors", "test", str(BIG_CONNECTOR_ID)).exit_code == 0
    assert databasin("--read-only", "metadata", "catalogs", str(BIG_CONNECTOR_ID)).exit_code == 0


def test_read_only_off_in_the_environment_lets_writes_through(databasin: Databasin) -> None:
    result = databasin("connectors", "delete", "160", "--force", env={"DATABASIN_READ_ONLY": "0"})
    assert result.exit_code == 0


def test_every_command_is_the_form_of_one_tool_and_the_writes_are_refused_in_read_only_mode() -> None:
    """Each tool has exactly one command, at the path its spec names; the writing ones are the refused ones."""
    from databasin_mcp.specs import TOOL_NAMES, TOOLS

    def leaves(group: click.Group, path: str) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found |= leaves(command, f"{path}{name} ")
            else:
                found[f"{path}{name}"] = command
        return found

    specs = {path: getattr(command, "spec", None) for path, command in leaves(cli, "").items()}
    assert sorted(spec.name for spec in specs.values() if spec is not None) == sorted(TOOL_NAMES), specs
    assert all(path == " ".join(spec.command) for path, spec in specs.items() if spec is not None)
    assert sorted(path for path, spec in specs.items() if spec is not None and spec.writes) == [
        "connectors create",
        "connectors delete",
        "connectors refresh",
        "connectors update",
    ]
    assert len(TOOLS) == len(specs)
