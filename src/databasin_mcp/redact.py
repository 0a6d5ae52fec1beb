"""Keeping secrets out of everything we return, raise or log.

The API reference promises that passwords are never returned, but a server
that leaks one would leak it into an agent's context and transcript, so we
do not rely on that: secret-looking fields are dropped from every body, and
credentials embedded in strings (URLs, connection strings, echoed values)
are masked.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

MASK = "***"

# A field is secret when one of its words is one of these...
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "secrets", "token", "tokens", "credential", "credentials", "passphrase"}
    | {"apikey", "privatekey", "accesskey", "secretkey", "sessionkey", "clientsecret"}
)
# ...or when "key" follows one of these (apiKey, ssh_key), but not primaryKey or sortKey.
_KEY_QUALIFIERS = frozenset(
    {"api", "private", "access", "secret", "auth", "client", "session", "encryption", "master"}
    | {"account", "signing", "ssh", "sas", "shared", "storage", "service", "app", "license"}
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# scheme://user:password@host  ->  scheme://user:***@host; the password runs to the last "@" before the
# host, since passwords contain "@" and "/" too (p@ss/word), unencoded in what backends echo. A port
# (host:8080/path@x) is not a password.
_URL_CREDENTIALS = re.compile(
    r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@]*):(?!\d{1,5}(?:[/?#\s]|$))(\S+)@(?=[^\s@]*(?:\s|$))"
)
# password=..., pwd: ..., "secret": "..." inside free text and connection strings; also a key that only
# ends in one of these words (connectorPassword=..., db_password: ..., "apiSecret": "..."), as APIs echo them.
_ASSIGNED_SECRET = re.compile(
    r"""(?ix)
    \b([a-z0-9_]*?(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|secret[_-]?key|token|passphrase))
    (["']?\s*[=:]\s*)
    ("[^"]*"|'[^']*'|[^\s;&,)"'}]+)
    """
)
# A PEM private key anywhere in text; cut short (an excerpt), everything after its first line.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)", re.DOTALL
)
# Every pattern above and below needs one of these: text without any cannot hold a credential.
_MIGHT_HOLD_SECRET = re.compile(r"(?i)://|-----BEGIN|pass|pwd|secret|key|token")
# "password 'x'", "password is hunter2": a quoted value, or a word with a digit or symbol in it.
_STATED_SECRET = re.compile(
    r"""(?ix)
    \b(password|passwd|pwd|secret)(\s+(?:is\s+)?)
    ("[^"]*"|'[^']*'|(?=[^\s]*[\d@\#$%^&*!+=_/\-])[^\s;&,)"'}]{4,})
    """
)


# Secret values this process has handled (tokens read, passwords sent): the log formatter masks them.
_remembered: set[str] = set()


def remember_secret(value: str) -> None:
    """Register a secret value so that no log line or message can ever carry it."""
    if len(value) >= 4:
        _remembered.add(value)


def remembered_secrets() -> frozenset[str]:
    """Every secret value this process has handled, sent or seen."""
    return frozenset(_remembered)


@functools.lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """Whether a field name looks like it holds a secret (connectorPassword, api_key, ...).

    Cached: a listing asks about the same few names for every one of thousands of records.
    """
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return False
    if words == ["key"] or any(w in _SECRET_WORDS for w in words):
        return True
    return any(second == "key" and first in _KEY_QUALIFIERS for first, second in pairwise(words))


def mask_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Mask credentials inside a string: URL passwords, `password=...`, and known secret values."""
    for secret in known_secrets:
        # Short values would mask ordinary words; a 1-3 character secret is not worth protecting that way.
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, MASK)
    if not _MIGHT_HOLD_SECRET.search(text):
        return text  # one scan instead of four for the table and column names that make up most text
    text = _PRIVATE_KEY.sub(MASK, text)
    text = _URL_CREDENTIALS.sub(rf"\1:{MASK}@", text)
    text = _ASSIGNED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _STATED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def scrub(value: Any, known_secrets: Iterable[str] = ()) -> Any:
    """A JSON value with secret fields removed and credentials in strings masked, in place.

    In place because a listing of 20,000 tables is megabytes of objects: a scrubbed copy would
    double the memory a large answer needs. Pass data nothing else holds (a freshly parsed body).
    """
    return _scrub(value, tuple(known_secrets))


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        secret_keys = [key for key in value if is_secret_field(str(key))]
        leaked = tuple(item for key in secret_keys if isinstance(item := value.pop(key), str))
        for item in leaked:
            remember_secret(item)  # the upstream leaked it once: mask it wherever it shows up again
        # ...starting with the rest of this record (a JDBC URL next to the password it holds).
        inner = secrets + leaked
        for key, item in value.items():
            value[key] = _scrub(item, inner)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _scrub(item, secrets)
        return value
    if isinstance(value, str):
        return mask_text(value, secrets)
    return value


class MaskingFormatter(logging.Formatter):
    """A log formatter that masks credentials and the given secret values in the final text.

    Used for the stderr handler as a last line of defence: our code never logs
    bodies or headers, but a third-party library or a traceback might carry one.
    Masking the formatted text covers messages, arguments and tracebacks alike.
    """

    def __init__(self, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = set(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record), self.secrets | _remembered)
