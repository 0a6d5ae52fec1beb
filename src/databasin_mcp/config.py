"""Configuration: one settings model, read once at start-up.

Environment variables are the primary source (that is how MCP hosts such as
Claude Desktop pass configuration); command-line flags override them by being
passed to `Settings(...)` as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import InvalidTokenError

DEFAULT_API_URL = "http://localhost:9000"
TOKEN_ENV = "DATABASIN_TOKEN"
TOKEN_FILE_ENV = "DATABASIN_TOKEN_FILE"
# A JWT is a few KB; a file larger than this is not a token file (and is not read into memory).
MAX_TOKEN_FILE_BYTES = 64 * 1024
# An HTTP auth token shorter than this is refused: it reads like a password someone chose ("changeme").
MIN_AUTH_TOKEN_LENGTH = 16

Transport = Literal["stdio", "sse", "streamable-http"]


class Settings(BaseSettings):
    """Every knob of the server, each with an environment variable and a sane default."""

    model_config = SettingsConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)

    # --- the Databasin API -------------------------------------------------
    api_url: str = Field(
        DEFAULT_API_URL,
        # PUBLIC_API_URI is the name the API reference uses; ours wins when both are set.
        validation_alias=AliasChoices("DATABASIN_API_URL", "PUBLIC_API_URI"),
    )
    token: SecretStr | None = Field(None, validation_alias=TOKEN_ENV)
    token_file: Path | None = Field(None, validation_alias=TOKEN_FILE_ENV)

    connect_timeout: float = Field(5.0, gt=0, validation_alias="DATABASIN_CONNECT_TIMEOUT")
    read_timeout: float = Field(30.0, gt=0, validation_alias="DATABASIN_READ_TIMEOUT")
    # A metadata refresh can take minutes on a large database (API reference).
    refresh_timeout: float = Field(300.0, gt=0, validation_alias="DATABASIN_REFRESH_TIMEOUT")
    max_attempts: int = Field(3, ge=1, le=10, validation_alias="DATABASIN_MAX_ATTEMPTS")
    retry_backoff: float = Field(0.5, ge=0, validation_alias="DATABASIN_RETRY_BACKOFF")
    retry_backoff_max: float = Field(8.0, ge=0, validation_alias="DATABASIN_RETRY_BACKOFF_MAX")
    rate_limit_max_wait: float = Field(10.0, ge=0, validation_alias="DATABASIN_RATE_LIMIT_MAX_WAIT")
    max_response_bytes: int = Field(20_000_000, ge=1024, validation_alias="DATABASIN_MAX_RESPONSE_BYTES")
    # The reference's default connectorMaxConnections is 8: never more in flight than that.
    max_concurrency: int = Field(8, ge=1, le=256, validation_alias="DATABASIN_MAX_CONCURRENCY")
    # Connector tests and metadata refreshes can run for minutes: they share a smaller pool (always
    # below max_concurrency when it allows) so they can never hold every slot.
    max_actions: int = Field(2, ge=1, le=256, validation_alias="DATABASIN_MAX_ACTIONS")
    # A query (preview_table, run_query) may run longer than a metadata read; it is sent once.
    query_timeout: float = Field(60.0, gt=0, validation_alias="DATABASIN_QUERY_TIMEOUT")
    # How long a request waits for a free slot before answering "too many in flight; try again".
    slot_wait_timeout: float = Field(10.0, gt=0, validation_alias="DATABASIN_SLOT_WAIT_TIMEOUT")

    # --- what the tools answer --------------------------------------------
    cache_ttl: float = Field(60.0, ge=0, validation_alias="DATABASIN_CACHE_TTL")
    # The listing cache's budget (estimated bytes); a listing larger than this is served but not kept.
    cache_max_bytes: int = Field(64_000_000, ge=0, validation_alias="DATABASIN_CACHE_MAX_BYTES")
    max_chars: int = Field(20_000, ge=500, validation_alias="DATABASIN_MAX_CHARS")
    # DATABASIN_DEFAULT_PROJECT is the vendor command line's name for the same thing.
    project: str | None = Field(None, validation_alias=AliasChoices("DATABASIN_PROJECT", "DATABASIN_DEFAULT_PROJECT"))
    read_only: bool = Field(False, validation_alias="DATABASIN_READ_ONLY")
    tools: str | None = Field(None, validation_alias="DATABASIN_TOOLS")
    # 0 drops the data tools (preview_table, run_query): no rows of any source reach the model.
    allow_queries: bool = Field(True, validation_alias="DATABASIN_ALLOW_QUERIES")
    # Off by default: Claude Code forwards structuredContent instead of the text block, so with it on the
    # model reads JSON 1.4-2.4x the size of the compact text (benchmarks/recording). For programs.
    structured_output: bool = Field(False, validation_alias="DATABASIN_STRUCTURED_OUTPUT")

    # --- how the server is served -----------------------------------------
    transport: Transport = Field("stdio", validation_alias="DATABASIN_MCP_TRANSPORT")
    host: str = Field("127.0.0.1", validation_alias="DATABASIN_MCP_HOST")
    port: int = Field(8000, ge=0, le=65535, validation_alias="DATABASIN_MCP_PORT")
    stateless: bool = Field(False, validation_alias="DATABASIN_MCP_STATELESS")
    auth_token: SecretStr | None = Field(None, validation_alias="DATABASIN_MCP_AUTH_TOKEN")
    # Host names (host or host:port) clients use to reach an HTTP server bound beyond loopback.
    allowed_hosts: str | None = Field(None, validation_alias="DATABASIN_MCP_ALLOWED_HOSTS")
    # Slow clients: seconds to send a request's head (from connecting, or from the first byte of the next
    # request on a kept-alive connection) and its body; connections held at most (each is a file descriptor).
    head_timeout: float = Field(10.0, gt=0, le=3600, validation_alias="DATABASIN_MCP_HEAD_TIMEOUT")
    body_timeout: float = Field(30.0, gt=0, le=3600, validation_alias="DATABASIN_MCP_BODY_TIMEOUT")
    max_connections: int = Field(200, ge=1, le=100_000, validation_alias="DATABASIN_MCP_MAX_CONNECTIONS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("WARNING", validation_alias="DATABASIN_LOG_LEVEL")

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://localhost:9000")
        return value

    @field_validator("auth_token")
    @classmethod
    def _check_auth_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty token passed the open-bind check, then no request could match it: refused instead.
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError(f"is empty: set a token of at least {MIN_AUTH_TOKEN_LENGTH} characters, or unset it")
        if len(token) < MIN_AUTH_TOKEN_LENGTH:
            raise ValueError(
                f"is too short: use at least {MIN_AUTH_TOKEN_LENGTH} characters, "
                "e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe())'"
            )
        if not all("!" <= char <= "~" for char in token):
            raise ValueError("may hold only visible ASCII characters (no spaces): it is sent in an HTTP header")
        return SecretStr(token)

    @field_validator("project", "tools")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def token_source(self) -> TokenSource:
        """Where this configuration says the API token comes from."""
        return TokenSource(
            env_token=self.token.get_secret_value() if self.token else None,
            explicit_file=self.token_file,
            cwd=Path.cwd(),
            home=Path.home(),
        )


@dataclass(frozen=True)
class TokenRead:
    """A token and a description of where it came from (never the token itself)."""

    value: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class TokenSource:
    """The lookup chain for the API token, re-readable so a rotated file is picked up.

    Order: the DATABASIN_TOKEN variable; the file named by DATABASIN_TOKEN_FILE;
    `.token` in the working directory (the API reference's convention); and
    `~/.databasin/.token` (where the vendor's own command-line client keeps it).
    """

    env_token: str | None
    explicit_file: Path | None
    cwd: Path
    home: Path

    def candidate_files(self) -> list[Path]:
        if self.explicit_file is not None:
            # An explicit file is a promise: do not silently fall back to another one.
            return [self.explicit_file]
        return [self.cwd / ".token", self.home / ".databasin" / ".token"]

    def read(self) -> TokenRead | None:
        """The current token, or None when no source has one. Re-reads files every call.

        Raises InvalidTokenError when the first source that has a token holds one that cannot be sent
        (nothing is cached, so fixing the source works on the next call).
        """
        env_token = clean_token(self.env_token or "")
        if env_token:
            where = f"the {TOKEN_ENV} environment variable"
            _check_token(env_token, where, f"Set {TOKEN_ENV} to the token alone.")
            return TokenRead(env_token, where)
        for path in self.candidate_files():
            where = f"the token file {path}"
            value = _read_token_file(path, where)
            if value:
                _check_token(value, where, _FILE_FIX)
                return TokenRead(value, where)
        return None

    def where_looked(self) -> str:
        """One sentence for the 'no token' error: every place that was searched."""
        files = " and ".join(str(p) for p in self.candidate_files())
        if self.explicit_file is not None:
            return f"No Databasin API token found: {TOKEN_FILE_ENV} points to {files}, which is missing or empty."
        return (
            f"No Databasin API token found: {TOKEN_ENV} is not set and there is no token in {files}. "
            f"Set {TOKEN_ENV}, or save the token to {self.cwd / '.token'}."
        )


_FILE_FIX = "Put the token alone on one line in that file; it is read again on the next call."
_BOMS = {b"\xef\xbb\xbf": "utf-8", b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def clean_token(text: str) -> str:
    """The token without what editors add around it: a byte-order mark, spaces, CR/LF line ends."""
    return text.strip().lstrip("\ufeff").strip()


def token_problem(value: str) -> str | None:
    """Why `value` cannot be sent in an `Authorization: Bearer` header, or None. Never quotes the value."""
    if any(char in "\r\n" for char in value):
        return "it has a line break inside"
    if " " in value:
        return "it has a space inside"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "it has a control character inside"
    if not value.isascii():
        return "it has a character that is not ASCII"
    return None


def _check_token(value: str, where: str, fix: str) -> None:
    problem = token_problem(value)
    if problem is not None:
        raise _unusable(where, problem, fix)


def _unusable(where: str, problem: str, fix: str = _FILE_FIX) -> InvalidTokenError:
    return InvalidTokenError(f"The Databasin API token in {where} cannot be sent: {problem}. Nothing was sent. {fix}")


def _read_token_file(path: Path, where: str) -> str | None:
    """The cleaned text of a token file; None when it is missing or empty.

    Only a regular file is opened (reading a pipe could wait for ever) and only its first 64 KB.
    A byte-order mark picks the encoding (Windows Notepad writes UTF-8 or UTF-16 with one).
    """
    path = path.expanduser()
    if not path.exists():
        return None
    if not path.is_file():
        raise _unusable(where, "it is not a regular file")
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_TOKEN_FILE_BYTES + 1)
    except OSError as error:
        raise _unusable(where, f"the file cannot be read ({type(error).__name__})") from None
    if len(raw) > MAX_TOKEN_FILE_BYTES:
        raise _unusable(where, f"the file is larger than {MAX_TOKEN_FILE_BYTES // 1024} KB")
    bom = next((mark for mark in _BOMS if raw.startswith(mark)), b"")
    try:
        text = raw[len(bom) :].decode(_BOMS.get(bom, "utf-8"))
    except UnicodeDecodeError:
        raise _unusable(where, "the file is not UTF-8 text") from None
    return clean_token(text) or None


def validation_problems(error: ValidationError, renamed: Mapping[str, str] | None = None) -> str:
    """'field: reason; ...', e.g. 'DATABASIN_API_URL: must start with http:// ...' (values never shown).

    A setting from the environment is named by its variable; `renamed` names the others (a flag's
    value arrives under the field name, e.g. api_url -> --api-url).
    """
    renamed = renamed or {}
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(map(str, problem["loc"]))
        problems.append(f"{renamed.get(where, where)}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def settings_problems(error: ValidationError) -> str:
    """validation_problems for Settings: a value given by keyword came from a flag, so the flag is named."""
    return validation_problems(error, {name: "--" + name.replace("_", "-") for name in Settings.model_fields})


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with non-None keyword overrides (CLI flags) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]
