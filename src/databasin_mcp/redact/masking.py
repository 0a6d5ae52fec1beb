"""The three defences applied: to one string (`mask_text`) and to a whole JSON value (`scrub`).

An ordinary remembered secret (a word such as "postgres") is masked only where it stands as a
credential: as a whole value (but not in a field that names its value, such as a user, database or host
name), right after a credential word ("password postgres"), or in one of the shapes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .names import PAIR_NAME_KEYS, PAIR_VALUE_KEYS, is_secret_field, names_its_value
from .remembered import KnownSecrets, remember_leaked
from .shapes import MASK, mask_shapes, might_hold_secret


def mask_text(text: str, known_secrets: Iterable[str] | KnownSecrets = ()) -> str:
    """Mask credentials inside a string: by shape, and the given secret values (see KnownSecrets)."""
    known = known_secrets if isinstance(known_secrets, KnownSecrets) else KnownSecrets.of(known_secrets)
    return _mask(text, known, whole_value=True)


def _mask(text: str, known: KnownSecrets, *, whole_value: bool) -> str:
    # Distinctive secrets first: a shape rule could cut one in two (at an "=" or "@") and leave a piece.
    for secret in known.anywhere:
        if secret in text:
            text = text.replace(secret, MASK)
    if whole_value and known.as_credential and text.strip() in known.as_credential:
        return MASK
    # The fast path for the table and column names that make up most text: every shape, and every
    # credential word an ordinary secret must follow, needs a character that is not a letter, a digit
    # or "_" (a space, "=", ":", "@", "."); then one scan for the words they are built from.
    if text.isalnum() or text.replace("_", "a").isalnum():
        return text
    lowered = text.lower()
    if not might_hold_secret(lowered):
        return text
    text = mask_shapes(text, lowered)
    for secret in known.as_credential:
        if secret in text:
            text = _mask_where_credential(text, secret)
    return text


# Text that ends with a credential word, as in "password: ", "(password ", "token='", "pwd is ".
_CREDENTIAL_BEFORE = re.compile(
    r"(?i)(?:pass\w*|pwd|pw|secret\w*|token|credentials?|key|auth\w*)[\"']?"
    r"(?:\s*[:=]\s*|\s+(?:is|was|of|to|set\s+to)\s+|\s+)[\"'`(\[{]?$"
)
_CONTEXT_CHARS = 40


def _mask_where_credential(text: str, secret: str) -> str:
    """Mask the whole-word occurrences of an ordinary secret that follow a credential word."""
    pieces: list[str] = []
    position = 0
    start = text.find(secret)
    while start != -1:
        end = start + len(secret)
        whole_word = not (start and text[start - 1].isalnum()) and not (end < len(text) and text[end].isalnum())
        if whole_word and _CREDENTIAL_BEFORE.search(text, max(position, start - _CONTEXT_CHARS), start):
            pieces.append(text[position:start])
            pieces.append(MASK)
            position = end
        start = text.find(secret, end if position == end else start + 1)
    pieces.append(text[position:])
    return "".join(pieces)


def scrub(value: Any, known_secrets: Iterable[str] | KnownSecrets = ()) -> Any:
    """A JSON value with secret fields removed and credentials in strings masked, in place.

    In place because a listing of 20,000 tables is megabytes of objects: a scrubbed copy would
    double the memory a large answer needs. Pass data nothing else holds (a freshly parsed body).
    """
    known = known_secrets if isinstance(known_secrets, KnownSecrets) else KnownSecrets.of(known_secrets)
    return _scrub(value, known, whole_value=True)


@dataclass(frozen=True)
class _Plan:
    """What scrubbing does to a record with a given set of field names (worked out once per set)."""

    secret_keys: tuple[str, ...]  # fields to drop
    pair_names: tuple[str, ...]  # fields that may name a secret held in `pair_value` ({"name": "password"})
    pair_value: str | None  # the field such a pair holds its value in ({"value": ...})
    whole_value: dict[str, bool]  # field -> whether an ordinary secret equal to its whole value is masked


@functools.lru_cache(maxsize=2048)
def _plan(keys: tuple[str, ...]) -> _Plan:
    pair_value = next((key for key in PAIR_VALUE_KEYS if key in keys), None)
    return _Plan(
        secret_keys=tuple(key for key in keys if is_secret_field(key)),
        pair_names=tuple(key for key in keys if key in PAIR_NAME_KEYS) if pair_value is not None else (),
        pair_value=pair_value,
        whole_value={key: not names_its_value(key) for key in keys},
    )


def _scrub(value: Any, known: KnownSecrets, *, whole_value: bool) -> Any:
    if isinstance(value, str):
        return _mask(value, known, whole_value=whole_value)
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _scrub(item, known, whole_value=whole_value)
        return value
    if not isinstance(value, dict):
        return value
    plan = _plan(tuple(str(key) for key in value))
    leaked: list[str] = []
    pair_value_key = plan.pair_value if plan.pair_names and _names_a_secret(value, plan.pair_names) else None
    if pair_value_key is not None:
        _collect_strings(value[pair_value_key], leaked)
        value[pair_value_key] = MASK
    for key in plan.secret_keys:
        if pair_value_key is not None and key in PAIR_NAME_KEYS:
            continue  # {"key": "password", "value": ...}: this "key" is a name, not a secret
        if key != pair_value_key:
            _collect_strings(value.pop(key), leaked)
    for item in leaked:
        remember_leaked(item)  # the upstream leaked it once: mask it wherever it shows up again
    # ...starting with the rest of this record (a JDBC URL next to the password it holds).
    inner = known + KnownSecrets.of(leaked) if leaked else known
    for key, item in value.items():
        if key == pair_value_key or item is None or isinstance(item, (bool, int, float)):
            continue
        scrubbed = _scrub(item, inner, whole_value=plan.whole_value.get(str(key), True))
        if scrubbed is not item:
            value[key] = scrubbed
    return value


def _names_a_secret(record: dict[Any, Any], pair_names: tuple[str, ...]) -> bool:
    """{"name": "password", "value": "x"} (config properties, headers): the value is the secret."""
    return any(isinstance(name := record[key], str) and is_secret_field(name) for key in pair_names)


def _collect_strings(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, into)
