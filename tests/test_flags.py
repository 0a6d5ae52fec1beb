"""Flag values that start with a dash (random tokens do, 1 time in 64) are values, not unknown flags."""

from __future__ import annotations

import pytest

from databasin_mcp import doctor
from databasin_mcp.__main__ import build_parser, main, settings_from
from databasin_mcp.flags import parse_flags
from databasin_mcp.sandbox.serve import build_parser as sandbox_parser

DASHED = "-Xk3_9fQ-2Lr8vT0w"  # an auth token must be 16 characters or more


def test_a_dash_leading_auth_token_is_the_flags_value() -> None:
    args = parse_flags(build_parser(), ["--transport", "streamable-http", "--auth-token", DASHED, "--read-only"])
    settings = settings_from(args)
    assert settings.auth_token is not None
    assert settings.auth_token.get_secret_value() == DASHED
    assert settings.read_only is True
    assert settings.transport == "streamable-http"


def test_the_equals_form_and_ordinary_values_are_unchanged() -> None:
    args = parse_flags(build_parser(), [f"--auth-token={DASHED}", "--port", "0", "--project", "proj-007"])
    assert (args.auth_token, args.port, args.project) == (DASHED, 0, "proj-007")


def test_a_flag_after_a_value_flag_is_still_a_missing_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_flags(build_parser(), ["--auth-token", "--read-only"])
    assert exited.value.code == 2
    assert "argument --auth-token: expected one argument" in capsys.readouterr().err


def test_a_value_flag_at_the_end_is_still_a_missing_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_flags(build_parser(), ["--auth-token"])
    assert "argument --auth-token: expected one argument" in capsys.readouterr().err


def test_unknown_flags_are_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_flags(build_parser(), ["-Xk3"])
    assert "unrecognized arguments: -Xk3" in capsys.readouterr().err


def test_the_sandbox_token_and_doctor_paths_take_dash_values() -> None:
    assert parse_flags(sandbox_parser(), ["--token", DASHED, "--port", "0"]).token == DASHED
    assert parse_flags(doctor.build_parser(), ["--token-file", "-odd/.token"]).token_file == "-odd/.token"


def test_the_server_command_gets_past_parsing_with_a_dashed_token(capsys: pytest.CaptureFixture[str]) -> None:
    # An invalid URL stops it right after parsing: the error is the configuration's (naming the flag), not argparse's.
    assert main(["--auth-token", DASHED, "--api-url", "localhost:9000"]) == 2
    assert capsys.readouterr().err == (
        "databasin-mcp: invalid configuration: --api-url: "
        "must start with http:// or https://, e.g. http://localhost:9000\n"
    )
