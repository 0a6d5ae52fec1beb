"""`databasin-mcp doctor`: one line per check, the cause and the fix on each failing one, exit 0 only if all pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from databasin_mcp.__main__ import main as databasin_mcp
from databasin_mcp.doctor import main as doctor

from .conftest import Sandbox

# Doctor only reads (scripted faults answer instead of the API): one sandbox for the module.
pytestmark = pytest.mark.shared_sandbox
TOKEN_ENV = "the DATABASIN_TOKEN environment variable"


def diagnose(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = doctor(list(args))
    captured = capsys.readouterr()
    assert captured.err == ""
    return status, captured.out.splitlines()


@pytest.fixture
def configured(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    monkeypatch.setenv("DATABASIN_TOKEN", sandbox.token)
    return sandbox


def test_all_checks_pass(configured: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = diagnose(capsys)
    assert status == 0
    assert lines == [
        f"ok   configuration: API {configured.url} (DATABASIN_API_URL); token from {TOKEN_ENV}",
        f'ok   api reachable: {configured.url} (GET /api/ping answered {{"status":"ok"}})',
        f"ok   token: the API accepted the token from {TOKEN_ENV}",
    ]
    assert configured.token not in "\n".join(lines)


def test_a_url_pasted_with_api_is_the_base_and_doctor_says_so(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "the API refused the token from no token", and every tool's "not found" (issue 16 #5).
    monkeypatch.setenv("DATABASIN_API_URL", f"{sandbox.url}/api/")
    monkeypatch.setenv("DATABASIN_TOKEN", sandbox.token)
    status, lines = diagnose(capsys)
    assert status == 0
    assert lines[0] == (
        f"ok   configuration: API {sandbox.url} (DATABASIN_API_URL ends in /api; the API's paths start with /api, "
        f"so the base is this); token from {TOKEN_ENV}"
    )
    assert lines[2] == f"ok   token: the API accepted the token from {TOKEN_ENV}"


def test_the_flags_win_and_the_token_file_is_named(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUBLIC_API_URI", "http://127.0.0.1:9")
    token_file = tmp_path / "token"
    token_file.write_text(f"{sandbox.token}\n")
    status, lines = diagnose(capsys, "--api-url", sandbox.url, "--token-file", str(token_file))
    assert status == 0
    assert lines[0] == f"ok   configuration: API {sandbox.url} (--api-url); token from the token file {token_file}"
    assert lines[2] == f"ok   token: the API accepted the token from the token file {token_file}"


def test_no_token(
    sandbox: Sandbox, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUBLIC_API_URI", sandbox.url)
    status, lines = diagnose(capsys)
    assert status == 1
    work, home = isolated_environment, isolated_environment.parent / "home"
    assert lines == [
        f"FAIL configuration: API {sandbox.url} (PUBLIC_API_URI); No Databasin API token found: DATABASIN_TOKEN "
        f"is not set and there is no token in {work / '.token'} and {home / '.databasin' / '.token'}. "
        f"Set DATABASIN_TOKEN, or save the token to {home / '.databasin' / '.token'}.",
        f'ok   api reachable: {sandbox.url} (GET /api/ping answered {{"status":"ok"}})',
        "skip token: no token to try",
    ]


def test_wrong_url(refused_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", refused_url)
    monkeypatch.setenv("DATABASIN_TOKEN", "tok-123456")
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines == [
        f"ok   configuration: API {refused_url} (DATABASIN_API_URL); token from {TOKEN_ENV}",
        f"FAIL api reachable: could not connect to {refused_url}: check DATABASIN_API_URL",
        "skip token: the API is not reachable",
    ]


def test_rejected_token(
    sandbox: Sandbox, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    (isolated_environment / ".token").write_text("expired-token-42\n")
    status, lines = diagnose(capsys)
    assert status == 1
    token_file = isolated_environment / ".token"
    assert (
        lines[0] == f"ok   configuration: API {sandbox.url} (DATABASIN_API_URL); token from the token file {token_file}"
    )
    assert lines[2] == (
        f"FAIL token: the API refused the token from the token file {token_file} "
        "(Invalid or expired authentication token): put a valid token there"
    )
    assert "expired-token-42" not in "\n".join(lines)


@pytest.mark.parametrize("given_as", ["DATABASIN_API_URL", "--api-url"])
def test_an_invalid_url_skips_the_other_checks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given_as: str
) -> None:
    if given_as == "--api-url":
        status, lines = diagnose(capsys, "--api-url", "api.databasin.example")
    else:
        monkeypatch.setenv("DATABASIN_API_URL", "api.databasin.example")
        status, lines = diagnose(capsys)
    assert status == 1
    assert lines == [
        f"FAIL configuration: invalid setting: {given_as}: must start with http:// or https://, "
        "e.g. http://localhost:9000",
        "skip api reachable: needs a valid configuration",
        "skip token: needs a valid configuration",
    ]


def test_without_ping_a_401_from_the_connector_list_proves_the_api(
    configured: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    configured.script_faults("/api/ping", {"status": 404})
    status, lines = diagnose(capsys)
    assert status == 0
    assert (
        lines[1]
        == f"ok   api reachable: {configured.url} (no /api/ping; GET /api/connector without a token answered 401)"
    )


def test_without_ping_and_without_a_401_it_is_not_the_api(
    configured: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    configured.script_faults("/api/ping", {"status": 404})
    configured.script_faults("/api/connector", {"status": 200})
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines[1:] == [
        f"FAIL api reachable: {configured.url} answered 404 to GET /api/ping and 200 to GET /api/connector without "
        "a token, where the Databasin API answers 401: check DATABASIN_API_URL",
        "skip token: the API is not reachable",
    ]


def test_a_proxy_error_page_is_not_the_api(configured: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    configured.script_faults("/api/ping", {"kind": "html"})
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines[1] == (
        "FAIL api reachable: GET /api/ping: Databasin API error 502 Bad Gateway (not a JSON body): 502 Bad Gateway "
        "(check DATABASIN_API_URL)"
    )


def test_databasin_mcp_dispatches_doctor(configured: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert databasin_mcp(["doctor"]) == 0
    assert capsys.readouterr().out.count("\nok   ") == 2
    with pytest.raises(SystemExit) as exited:
        databasin_mcp(["--help"])
    assert exited.value.code == 0
    assert "  databasin-mcp doctor           check the configuration, that the API answers, and the token\n" in (
        capsys.readouterr().out
    )


def test_a_token_file_saved_by_notepad_passes(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    token_file = tmp_path / "token"
    token_file.write_bytes(f"\ufeff{sandbox.token}\r\n".encode())
    status, lines = diagnose(capsys, "--token-file", str(token_file))
    assert status == 0
    assert lines[2] == f"ok   token: the API accepted the token from the token file {token_file}"


def test_a_token_that_cannot_be_sent_is_one_line(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    token_file = tmp_path / "token"
    token_file.write_text("first-half-of-it\nsecond-half-of-it\n")
    status, lines = diagnose(capsys, "--token-file", str(token_file))  # stderr is empty: no traceback
    assert status == 1
    assert lines == [
        f"FAIL configuration: API {sandbox.url} (DATABASIN_API_URL); The Databasin API token in the token file "
        f"{token_file} cannot be sent: it has a line break inside. Nothing was sent. Put the token alone on one "
        "line in that file; it is read again on the next call.",
        f'ok   api reachable: {sandbox.url} (GET /api/ping answered {{"status":"ok"}})',
        "skip token: the token cannot be sent",
    ]
    assert "half-of-it" not in "\n".join(lines)


def test_a_ping_that_needs_a_token_is_asked_again_with_it(
    configured: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    configured.script_faults("/api/ping", {"status": 401})
    status, lines = diagnose(capsys)
    assert status == 0
    assert lines[1] == (
        f"ok   api reachable: {configured.url} (GET /api/ping needs a token here; with the token it answered "
        '{"status":"ok"})'
    )
    assert lines[2] == f"ok   token: the API accepted the token from {TOKEN_ENV}"


def test_a_ping_that_needs_a_token_with_a_refused_one_blames_the_token_once(
    sandbox: Sandbox, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    (isolated_environment / ".token").write_text("expired-token-42\n")
    sandbox.script_faults("/api/ping", {"status": 401}, {"status": 401})
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines[1] == (
        f"ok   api reachable: {sandbox.url} (GET /api/ping answered 401 with and without the token: the API is "
        "there and wants a valid token)"
    )
    assert lines[2].startswith("FAIL token: the API refused the token from the token file ")


def test_a_ping_that_needs_a_token_without_one(
    sandbox: Sandbox, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", sandbox.url)
    sandbox.script_faults("/api/ping", {"status": 401})
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines[1:] == [
        f"ok   api reachable: {sandbox.url} (GET /api/ping answered 401: it needs a token here)",
        "skip token: no token to try",
    ]


def test_a_redirect_says_which_url_to_set(configured: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    configured.script_faults(
        "/api/ping", {"kind": "empty", "status": 301, "headers": {"Location": "https://x.test/api/ping"}}
    )
    status, lines = diagnose(capsys)
    assert status == 1
    assert lines[1] == (
        "FAIL api reachable: GET /api/ping: Databasin API error 301 Moved Permanently: it redirects to "
        "https://x.test/api/ping. Set DATABASIN_API_URL to https://x.test (the base URL that redirect points to)"
    )
