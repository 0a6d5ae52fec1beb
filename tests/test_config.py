"""Settings: environment names, fallbacks, defaults and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from databasin_mcp.config import DEFAULT_API_URL, load_settings
from databasin_mcp.tokens import clean_token, token_problem


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.api_url == DEFAULT_API_URL
    assert settings.token is None
    assert (settings.max_attempts, settings.cache_ttl, settings.max_chars) == (3, 60.0, 20_000)
    assert (settings.rate_limit_max_wait, settings.max_response_bytes, settings.max_concurrency) == (
        10.0,
        20_000_000,
        8,
    )
    assert (settings.transport, settings.host, settings.read_only) == ("stdio", "127.0.0.1", False)


def test_public_api_uri_is_the_fallback_for_the_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_API_URI", "https://api.databasin.example/")
    assert load_settings().api_url == "https://api.databasin.example"

    monkeypatch.setenv("DATABASIN_API_URL", "http://127.0.0.1:9000")
    assert load_settings().api_url == "http://127.0.0.1:9000"


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", "http://from-env:1")
    monkeypatch.setenv("DATABASIN_READ_ONLY", "1")
    monkeypatch.setenv("DATABASIN_CACHE_TTL", "5")

    settings = load_settings(api_url="http://from-flag:2", read_only=None, project="proj-007")

    assert settings.api_url == "http://from-flag:2"
    assert settings.read_only is True  # None means "flag not given": the environment stands
    assert settings.cache_ttl == 5.0
    assert settings.project == "proj-007"


def test_token_comes_from_the_environment_and_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_TOKEN", "  abc.def.ghi\n")
    settings = load_settings()
    token = settings.token_source().read()
    assert token is not None
    assert token.value == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(settings)
    assert "abc.def.ghi" not in repr(token)


def test_a_bad_api_url_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_API_URL", "localhost:9000")
    with pytest.raises(ValidationError, match="must start with http:// or https://"):
        load_settings()


def test_blank_project_means_no_default_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_PROJECT", "  ")
    assert load_settings().project is None


def test_slot_settings_have_defaults_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (load_settings().max_actions, load_settings().slot_wait_timeout) == (2, 10.0)
    monkeypatch.setenv("DATABASIN_MAX_ACTIONS", "3")
    monkeypatch.setenv("DATABASIN_SLOT_WAIT_TIMEOUT", "2.5")
    assert (load_settings().max_actions, load_settings().slot_wait_timeout) == (3, 2.5)
    monkeypatch.setenv("DATABASIN_SLOT_WAIT_TIMEOUT", "0")
    with pytest.raises(ValidationError, match="DATABASIN_SLOT_WAIT_TIMEOUT"):
        load_settings()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\ufeffabc.def\r\n", "abc.def"),
        ("  abc.def \n\n", "abc.def"),
        ("\ufeff  abc.def\t", "abc.def"),
        ("\r\n", ""),
    ],
)
def test_a_token_is_cleaned_of_what_editors_add(raw: str, clean: str) -> None:
    assert clean_token(raw) == clean


def test_a_token_variable_with_a_bom_and_crlf_is_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_TOKEN", "\ufeffabc.def.ghi\r\n")
    token = load_settings().token_source().read()
    assert token is not None
    assert token.value == "abc.def.ghi"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc.def-ghi_~+/=", None),
        ("a\nb", "it has a line break inside"),
        ("a b", "it has a space inside"),
        ("a\x1bb", "it has a control character inside"),
        ("a\u00e9b", "it has a character that is not ASCII"),
        ("a\u0085b", "it has a character that is not ASCII"),
    ],
)
def test_what_cannot_be_a_header_value_is_named(value: str, problem: str | None) -> None:
    assert token_problem(value) == problem


# --- flags win over variables, the token file included (issue 16 #6) -------------------------------------------


def test_a_token_file_given_by_flag_wins_over_the_token_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASIN_TOKEN", "from-the-variable-1234")
    token_file = tmp_path / "token"
    token_file.write_text("from-the-flag-file-5678\n")

    read = load_settings(token_file=str(token_file)).token_source().read()

    assert read is not None
    assert (read.value, read.source) == ("from-the-flag-file-5678", f"the token file {token_file}")


def test_a_token_file_named_by_the_variable_still_loses_to_the_token_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file-5678\n")
    monkeypatch.setenv("DATABASIN_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("DATABASIN_TOKEN", "from-the-variable-1234")

    read = load_settings().token_source().read()

    assert read is not None
    assert read.source == "the DATABASIN_TOKEN environment variable"


@pytest.mark.parametrize(("by_flag", "named"), [(True, "--token-file"), (False, "DATABASIN_TOKEN_FILE")])
def test_a_missing_token_file_is_named_by_what_the_person_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by_flag: bool, named: str
) -> None:
    missing = tmp_path / "nonexistent"
    if by_flag:
        settings = load_settings(token_file=str(missing))
    else:
        monkeypatch.setenv("DATABASIN_TOKEN_FILE", str(missing))
        settings = load_settings()

    source = settings.token_source()

    assert source.read() is None
    assert source.where_looked() == (
        f"No Databasin API token found: {named} points to {missing}, which is missing or empty."
    )


def test_with_no_token_the_hint_names_a_place_that_works_wherever_the_server_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Claude Desktop starts servers in /: "save the token to /.token" was the hint there.
    monkeypatch.chdir("/")
    source = load_settings().token_source()
    assert source.where_looked().endswith(f"or save the token to {Path.home() / '.databasin' / '.token'}.")
