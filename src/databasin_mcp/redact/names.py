"""Defence 1: secrets by field name.

A field whose name, folded (case, separators and Unicode width removed: `DB-PASSWORD`, `db_pass`,
`SSHPRIVATEKEY`), says it holds a secret is dropped from every body at any depth; so is the value of a
name/value pair that names one (`{"name": "password", "value": ...}`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

# A folded name (lower case, letters and digits only) holding one of these anywhere is a secret.
_SECRET_PARTS = re.compile(
    r"password|passwd|passphrase|pwd|secret|credential|token|jwt|keytab|authorization|cookie|signature"
    # "<something>key" where the something says it opens a door (accessKeyId is hidden too: it is
    # half of a credential pair, and a false positive only hides a field).
    r"|(?:api|private|priv|access|secret|session|signing|encryption|master|account|shared|storage|ssh"
    r"|sas|subscription|functions?|license|client|auth|app|consumer|deploy|hmac|service)key"
)
# Ordinary names that contain a secret word: removed before the test above.
_HARMLESS_PARTS = re.compile(
    r"tokeni[sz](?:ation|ers?|ed|e)?|bypass|compass|passthr(?:ough|u)"
    r"|tokens?(?:count|limit|type|expiry|expires(?:at|in)?|ttl|lifetime|url|uri|endpoint)"
    r"|(?:max|min|total|num|input|output|prompt|completion)tokens?"
)
# "...key" is a secret unless it names a kind of key that is a column or a path, not a credential.
_HARMLESS_KEYS = re.compile(
    r"(?:primary|foreign|sort|partition|partitioning|dist|distribution|cluster|clustering|shard|hash|range"
    r"|row|unique|natural|surrogate|composite|candidate|business|join|lookup|object|routing|idempotency|cache"
    r"|index|parent|public|host|dedup|dedupe|merge|match|group|sequence|s3|is|has)key$"
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_NOT_ALNUM = re.compile(r"[\W_]+")


def _fold(name: str) -> str:
    """`DB-Password`, `db_password`, `ＤＢＰＡＳＳＷＯＲＤ` -> `dbpassword`."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", name).casefold())


@functools.lru_cache(maxsize=8192)
def is_secret_field(name: str) -> bool:
    """Whether a field name says it holds a secret, in any spelling (connectorPassword, DB-PASSWORD,
    sshprivatekey, x.api.token, client_secret, pw, sig, Set-Cookie, ...).

    False positives hide a field, false negatives leak a secret, so the rules lean to hiding; the
    ordinary names that would match (isPrimaryKey, sortKey, tokenizer, bypass) are excepted by name.
    Cached: a listing asks about the same few names for every one of thousands of records.
    """
    folded = _HARMLESS_PARTS.sub("", _fold(name))
    if not folded:
        return False
    if _SECRET_PARTS.search(folded):
        return True
    stem = folded.rstrip("0123456789")  # password2, key1
    if stem == "key" or (stem.endswith("key") and not _HARMLESS_KEYS.search(stem)):
        return True
    # Short words that are secrets only as a whole word or at the end: pass, db_pass, pw, sshpw, sig, basicAuth.
    if stem.endswith(("pass", "pw", "sig", "auth")):
        return True
    words = {w.lower() for w in _WORD.findall(unicodedata.normalize("NFKC", name))}
    return not words.isdisjoint({"pass", "pw", "sig"})


# A dict with one of these naming a secret field holds the secret in one of the value keys.
PAIR_NAME_KEYS = frozenset(
    {"name", "key", "property", "propertyName", "field", "fieldName", "parameter", "param", "paramName"}
    | {"attribute", "setting", "option", "label", "header", "headerName", "Name", "Key"}
)
PAIR_VALUE_KEYS = ("value", "Value", "val", "values", "defaultValue", "default")


# A value under one of these is what its field says (a user, a database, a host), not a credential: an
# ordinary-word password equal to it ("postgres") is not masked there, or every connector with that
# user name would show "***".
_NAMES_ITS_VALUE = re.compile(
    r"(?:user|username|login|owner|database|databasename|db|dbname|host|hostname|server|servername|name|schema"
    r"|catalog|type|id|port|project|region|account|tenant|warehouse|role)$"
)


def names_its_value(name: str) -> bool:
    """Whether a field's value is what its name says (a user, a host), so not a credential when it equals one."""
    return _NAMES_ITS_VALUE.search(_fold(name)) is not None
