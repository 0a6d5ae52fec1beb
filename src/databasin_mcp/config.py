"""Configuration: one settings model, read once at start-up.

Environment variables are the primary source (that is how MCP hosts such as
Claude Desktop pass configuration); command-line flags override them by being
passed to `Settings(...)` as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .tokens import TOKEN_ENV, TOKEN_FILE_ENV, TOKEN_FILE_FLAG, TokenSource

DEFAULT_API_URL = "http://localhost:9000"
# An HTTP auth token shorter than this is refused: it reads like a password someone chose ("changeme").
MIN_AUTH_TOKEN_LENGTH = 16
# The MCP SDK's sealing of request state (AES-256-GCM, HKDF) wants at least 32 bytes of secret.
MIN_REQUEST_STATE_KEY_BYTES = 32

Transport = Literal["stdio", "sse", "streamable-http"]


class Settings(BaseSettings):
    """Every knob of the server, each with an environment variable and a sane default."""

    model_config = SettingsConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)

    # --- the Databasin API -------------------------------------------------
    api_url: str = Field(
        DEFAULT_API_URL,
        # PUBLIC_API_URI is the name the API reference uses; ours wins when both are set.
        validation_alias=AliasChoices("DATABASIN_API_URL", "PUBLIC_API_URI"),
        description="the Databasin API's base URL",
    )
    token: SecretStr | None = Field(None, validation_alias=TOKEN_ENV, description="the API token (JWT)")
    token_file: Path | None = Field(
        None,
        validation_alias=TOKEN_FILE_ENV,
        description="a file holding the API token (else ./.token, then ~/.databasin/.token)",
    )
    # Set by load_settings when the file came from --token-file: a flag wins over every variable.
    _token_file_flag: bool = PrivateAttr(default=False)

    connect_timeout: float = Field(
        5.0, gt=0, validation_alias="DATABASIN_CONNECT_TIMEOUT", description="seconds to connect to the API"
    )
    read_timeout: float = Field(
        30.0, gt=0, validation_alias="DATABASIN_READ_TIMEOUT", description="seconds to wait for an answer"
    )
    # A metadata refresh can take minutes on a large database (API reference).
    refresh_timeout: float = Field(
        300.0, gt=0, validation_alias="DATABASIN_REFRESH_TIMEOUT", description="seconds a metadata refresh may take"
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        validation_alias="DATABASIN_MAX_ATTEMPTS",
        description="attempts for a request that is safe to retry",
    )
    retry_backoff: float = Field(
        0.5,
        ge=0,
        validation_alias="DATABASIN_RETRY_BACKOFF",
        description="seconds before the first retry (doubling, with jitter)",
    )
    retry_backoff_max: float = Field(
        8.0,
        ge=0,
        validation_alias="DATABASIN_RETRY_BACKOFF_MAX",
        description="at most this many seconds between retries",
    )
    rate_limit_max_wait: float = Field(
        10.0,
        ge=0,
        validation_alias="DATABASIN_RATE_LIMIT_MAX_WAIT",
        description="seconds of 429 waiting per call before answering 'try again at ...'",
    )
    max_response_bytes: int = Field(
        20_000_000,
        ge=1024,
        validation_alias="DATABASIN_MAX_RESPONSE_BYTES",
        description="larger API answers are refused unread",
    )
    # The reference's default connectorMaxConnections is 8: never more in flight than that.
    max_concurrency: int = Field(
        8, ge=1, le=256, validation_alias="DATABASIN_MAX_CONCURRENCY", description="simultaneous API requests"
    )
    # Connector tests and metadata refreshes can run for minutes: they share a smaller pool (always
    # below max_concurrency when it allows) so they can never hold every slot.
    max_actions: int = Field(
        2,
        ge=1,
        le=256,
        validation_alias="DATABASIN_MAX_ACTIONS",
        description="of those, simultaneous connector tests and refreshes",
    )
    # A query (preview_table, run_query) may run longer than a metadata read; it is sent once.
    query_timeout: float = Field(
        60.0, gt=0, validation_alias="DATABASIN_QUERY_TIMEOUT", description="seconds a query may take"
    )
    # How long a request waits for a free slot before answering "too many in flight; try again".
    slot_wait_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias="DATABASIN_SLOT_WAIT_TIMEOUT",
        description="seconds a call waits for a free request slot",
    )

    # --- what the tools answer --------------------------------------------
    cache_ttl: float = Field(
        60.0,
        ge=0,
        validation_alias="DATABASIN_CACHE_TTL",
        description="seconds listings are cached (0 = off); every write empties the cache",
    )
    # The listing cache's budget (estimated bytes); a listing larger than this is served but not kept.
    cache_max_bytes: int = Field(
        64_000_000, ge=0, validation_alias="DATABASIN_CACHE_MAX_BYTES", description="memory the listing cache may hold"
    )
    max_chars: int = Field(
        20_000, ge=500, validation_alias="DATABASIN_MAX_CHARS", description="character cap of every answer"
    )
    # DATABASIN_DEFAULT_PROJECT is the vendor command line's name for the same thing.
    project: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASIN_PROJECT", "DATABASIN_DEFAULT_PROJECT"),
        description="the default project_id",
    )
    read_only: bool = Field(
        False, validation_alias="DATABASIN_READ_ONLY", description="1 = no tool or command that writes"
    )
    tools: str | None = Field(
        None, validation_alias="DATABASIN_TOOLS", description="tools or groups (read, write, metadata, data) to expose"
    )
    # 0 drops the data tools (preview_table, run_query): no rows of any source reach the model.
    allow_queries: bool = Field(
        True, validation_alias="DATABASIN_ALLOW_QUERIES", description="0 = no tool that reads rows"
    )
    # Off by default: Claude Code forwards structuredContent instead of the text block, so with it on the
    # model reads JSON 1.4-2.4x the size of the compact text (benchmarks/recording). For programs.
    structured_output: bool = Field(
        False,
        validation_alias="DATABASIN_STRUCTURED_OUTPUT",
        description="1 = also answer structuredContent, for programs",
    )
    # The weaker choice, for headless automation: `password` back in the tools' schemas, so that the password
    # passes through the agent. By default the person types it on a page of ours (ask_password).
    allow_secret_arguments: bool = Field(
        False,
        validation_alias="DATABASIN_ALLOW_SECRET_ARGUMENTS",
        description="1 = the password as a tool argument again (for headless automation; weaker)",
    )

    # --- how the server is served -----------------------------------------
    transport: Transport = Field(
        "stdio", validation_alias="DATABASIN_MCP_TRANSPORT", description="stdio, streamable-http or sse"
    )
    host: str = Field("127.0.0.1", validation_alias="DATABASIN_MCP_HOST", description="HTTP bind address")
    port: int = Field(8000, ge=0, le=65535, validation_alias="DATABASIN_MCP_PORT", description="HTTP port")
    stateless: bool = Field(
        False,
        validation_alias="DATABASIN_MCP_STATELESS",
        description="1 = streamable HTTP without sessions (several workers)",
    )
    auth_token: SecretStr | None = Field(
        None,
        validation_alias="DATABASIN_MCP_AUTH_TOKEN",
        description="bearer token HTTP clients must send (16+ characters)",
    )
    # Host names (host or host:port) clients use to reach an HTTP server bound beyond loopback.
    allowed_hosts: str | None = Field(
        None,
        validation_alias="DATABASIN_MCP_ALLOWED_HOSTS",
        description="extra Host names an HTTP server answers to, comma-separated",
    )
    # Slow clients: seconds to send a request's head (from connecting, or from the first byte of the next
    # request on a kept-alive connection) and its body; connections held at most (each is a file descriptor).
    head_timeout: float = Field(
        10.0,
        gt=0,
        le=3600,
        validation_alias="DATABASIN_MCP_HEAD_TIMEOUT",
        description="seconds an HTTP request's head may take",
    )
    body_timeout: float = Field(
        30.0,
        gt=0,
        le=3600,
        validation_alias="DATABASIN_MCP_BODY_TIMEOUT",
        description="seconds an HTTP request's body may take",
    )
    max_connections: int = Field(
        200,
        ge=1,
        le=100_000,
        validation_alias="DATABASIN_MCP_MAX_CONNECTIONS",
        description="HTTP connections held open at once",
    )
    # Seals the state of a question to the person (a delete's confirmation) between the two calls of a
    # 2026-07-28 client; several workers must share it, or a retry on another worker is refused.
    request_state_key: SecretStr | None = Field(
        None,
        validation_alias="DATABASIN_MCP_REQUEST_STATE_KEY",
        description="shared by every worker: seals a question to the person between two calls (32+ bytes)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING",
        validation_alias="DATABASIN_LOG_LEVEL",
        description="DEBUG, INFO, WARNING or ERROR; logs go to stderr",
    )
    # json: one JSON object per line, for log collectors. The file: for MCP clients that hide a server's stderr.
    log_format: Literal["text", "json"] = Field(
        "text",
        validation_alias="DATABASIN_LOG_FORMAT",
        description="text, or json: one JSON object per line (time, level, logger, message, audit)",
    )
    log_file: Path | None = Field(
        None,
        validation_alias="DATABASIN_LOG_FILE",
        description="also append the log to this file (created readable by its owner only)",
    )

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://localhost:9000")
        return api_base(value)

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

    @field_validator("request_state_key")
    @classmethod
    def _check_request_state_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip().encode()) < MIN_REQUEST_STATE_KEY_BYTES:
            raise ValueError(
                f"is too short: use at least {MIN_REQUEST_STATE_KEY_BYTES} bytes of randomness, "
                "e.g. from python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @field_validator("project", "tools")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("log_file", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def token_source(self) -> TokenSource:
        """Where this configuration says the API token comes from."""
        return TokenSource(
            env_token=self.token.get_secret_value() if self.token else None,
            explicit_file=self.token_file,
            cwd=Path.cwd(),
            home=Path.home(),
            file_named_by=TOKEN_FILE_FLAG if self._token_file_flag else TOKEN_FILE_ENV,
        )


def variables() -> list[tuple[str, str, str]]:
    """(the environment variables of a setting, its default as text, what it is), for --help."""
    found = []
    for name, setting in Settings.model_fields.items():
        alias = setting.validation_alias
        names = [alias] if isinstance(alias, str) else [str(choice) for choice in getattr(alias, "choices", [])]
        meaning = setting.description or name.replace("_", " ")
        found.append((" or ".join(names), _shown_default(setting.default), meaning))
    return found


def _shown_default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def api_base(url: str) -> str:
    """The API base URL from what a person pasted: the reference's paths all start with /api, so a URL that
    already ends in /api (copied from a request) means the part before it; left as it was, every request
    would go to /api/api/... and every answer would read as "not found"."""
    url = url.strip().rstrip("/")
    return url[: -len("/api")] if url.lower().endswith("/api") and url.count("/") > 2 else url


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
    settings = Settings(**given)  # type: ignore[arg-type]
    settings._token_file_flag = "token_file" in given
    return settings
