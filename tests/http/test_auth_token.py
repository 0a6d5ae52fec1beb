"""The HTTP auth token is checked at start-up: one that cannot protect anything is refused, naming its source."""

from __future__ import annotations

import pytest

from databasin_mcp import __main__
from databasin_mcp.__main__ import main
from databasin_mcp.config import load_settings

GOOD_TOKEN = "k3Jx9-Qm2_vL8tRz"  # 16 characters: the shortest accepted

EMPTY = "is empty: set a token of at least 16 characters, or unset it"
SHORT = (
    "is too short: use at least 16 characters, e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe())'"
)
NOT_A_HEADER = "may hold only visible ASCII characters (no spaces): it is sent in an HTTP header"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        pytest.param("", EMPTY, id="empty"),
        pytest.param("   \t", EMPTY, id="whitespace"),
        pytest.param("changeme", SHORT, id="short"),
        pytest.param("  k3Jx9-Qm2_vL8tR  ", SHORT, id="short-once-stripped"),
        pytest.param("k3Jx9 Qm2_vL8tRz-more", NOT_A_HEADER, id="inner-space"),
        pytest.param("k3Jx9-Qm2_vL8tRz-mötley", NOT_A_HEADER, id="non-ascii"),
        pytest.param("k3Jx9-Qm2_vL8tRz\x1bmore", NOT_A_HEADER, id="control"),
    ],
)
@pytest.mark.parametrize("how", ["environment", "flag"])
def test_a_token_that_cannot_protect_the_server_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str, problem: str, how: str
) -> None:
    async def serve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr(__main__, "run", serve)
    args = ["--transport", "streamable-http", "--port", "0"]
    if how == "flag":
        args += ["--auth-token", token]
    else:
        monkeypatch.setenv("DATABASIN_MCP_AUTH_TOKEN", token)

    assert main(args) == 2

    source = "--auth-token" if how == "flag" else "DATABASIN_MCP_AUTH_TOKEN"
    error = capsys.readouterr().err
    assert error == f"databasin-mcp: invalid configuration: {source}: {problem}\n"
    assert token.strip() not in error or not token.strip()


def test_surrounding_whitespace_is_not_part_of_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_MCP_AUTH_TOKEN", f" {GOOD_TOKEN}\r\n")
    settings = load_settings(transport="streamable-http")
    assert settings.auth_token is not None
    assert settings.auth_token.get_secret_value() == GOOD_TOKEN


def test_no_token_is_still_allowed_on_loopback() -> None:
    assert load_settings(transport="streamable-http").auth_token is None
