"""Keeping secrets out of everything we return, raise or log.

The API reference promises that passwords are never returned, but a server
that leaks one would leak it into an agent's context and transcript, so we
do not rely on that. Three defences, one for each way a secret shows up,
each in its own module:

1. By field name (names.py). A field whose name says it holds a secret is
   dropped from every body at any depth, and so is the value of a name/value
   pair that names one.
2. By value shape (shapes.py). Credentials inside strings are masked: URL
   userinfo, JDBC and sqlplus `user/password@host`, headers, `key=value`
   with a secret key, password flags of command lines, JWTs, PEM keys.
3. By value (remembered.py). Secrets this process handled are remembered;
   a distinctive one is masked wherever it appears, an ordinary word only
   where it stands as a credential.

masking.py applies them to a string (`mask_text`) and to a JSON value
(`scrub`); formatter.py to every log line (`MaskingFormatter`, `JsonFormatter`).
"""

from __future__ import annotations

from .formatter import JsonFormatter, MaskingFormatter
from .masking import mask_text, scrub
from .names import is_secret_field
from .remembered import (
    KnownSecrets,
    is_distinctive,
    remember_secret,
    remembered_secrets,
    remembered_state,
    restore_remembered_state,
)
from .shapes import MASK

__all__ = [
    "MASK",
    "JsonFormatter",
    "KnownSecrets",
    "MaskingFormatter",
    "is_distinctive",
    "is_secret_field",
    "mask_text",
    "remember_secret",
    "remembered_secrets",
    "remembered_state",
    "restore_remembered_state",
    "scrub",
]
