"""Keeping secrets out of everything we return, raise or log.

The API reference promises that passwords are never returned, but a server
that leaks one would leak it into an agent's context and transcript, so we
do not rely on that. Three defences, one for each way a secret shows up:

1. By field name. A field whose name, folded (case, separators and Unicode
   width removed: `DB-PASSWORD`, `db_pass`, `SSHPRIVATEKEY`), says it holds
   a secret is dropped from every body at any depth; so is the value of a
   name/value pair that names one (`{"name": "password", "value": ...}`).
2. By value shape. Credentials inside strings are masked: URL userinfo (with
   or without a scheme), JDBC thin and sqlplus `user/password@host`,
   `Authorization`/`Cookie` headers, `Bearer`/`Basic` credentials, any
   `key=value` or `"key": "value"` whose key is a secret field name (SAS
   `sig=`, `PWD=`, `X-Api-Key:`, `aws_secret_access_key = ...`), password
   flags of command lines (`sshpass -p`, `mysql -p...`, `--password x`), JWTs
   and PEM private keys.
3. By value. Secrets this process handled (the API token, passwords it sent,
   secrets an upstream leaked) are remembered. A distinctive one (long and
   mixed, like a token: see `is_distinctive`) is masked wherever it appears;
   an ordinary one (a word such as "postgres") only where it stands as a
   credential: as a whole value (but not in a field that names its value, such
   as a user, database or host name), right after a credential word
   ("password postgres"), or in one of the shapes above. Masking an ordinary
   word everywhere would corrupt every host and name that contains it.
"""

from __future__ import annotations

import functools
import heapq
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MASK = "***"

# --- 1. secret field names ---------------------------------------------------------------------

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
_PAIR_NAME_KEYS = frozenset(
    {"name", "key", "property", "propertyName", "field", "fieldName", "parameter", "param", "paramName"}
    | {"attribute", "setting", "option", "label", "header", "headerName", "Name", "Key"}
)
_PAIR_VALUE_KEYS = ("value", "Value", "val", "values", "defaultValue", "default")


# --- 2. secrets by shape --------------------------------------------------------------------------

# Every pattern below needs one of these (in lower case): text without any cannot hold a credential by
# shape. Matched against lowered text: an alternation with (?i) cannot skip ahead and costs 6x more.
# The patterns bound every run they scan ({0,255}, {0,200}): text from an upstream can be megabytes,
# and an unbounded run tried from every start is quadratic ("http://a:" repeated took seconds).
_MIGHT_HOLD_SECRET = re.compile(
    r"@|://|-----begin|p(?:ass|w)|s(?:ecret|ig|ql(?:cmd|plus|ldr))|key|token|auth|cookie|b(?:earer|asic|cp)"
    r"|credential|jwt|eyj|m(?:ysql|ariadb)|osql|isql|redis-cli|curl|rman|expdp|impdp|dgmgrl"
)
# A PEM private key anywhere in text; cut short (an excerpt), everything after its first line.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----|.*)",
    re.DOTALL,
)
# scheme://user:password@host  ->  scheme://user:***@host; the password runs to the last "@" before the
# host, since passwords contain "@" and "/" too (p@ss/word), unencoded in what backends echo. A port
# (host:8080/path@x) is not a password.
_URL_CREDENTIALS = re.compile(
    r"(?i)(?<![\w+.-])([a-z][a-z0-9+.\-]{0,31}://[^\s/:@]{0,255}):(?!\d{1,5}(?:[/?#\s]|$))(\S{1,255})@(?=[^\s@]*(?:\s|$))"
)
# The same without a scheme: "svc:pw@db:5432". The user starts a word and the password cannot start
# with "/" (that is "https://..."), so ordinary "a: b@c" and URLs are left to the rule above; nor is
# the user a scheme of its own ("mailto:bob@x", "jdbc:oracle:..." which the next rule reads).
_BARE_USERINFO = re.compile(
    r"(?i)(?<![\w.+%/:@-])(?!(?:mailto|jdbc|sips?|urn|xmpp|tel):)([\w.+%-]{1,255}):([^\s@/]\S{0,255})@"
    r"(?=[\w\[][^\s@]*(?:\s|$))"
)
# Oracle's user/password@host: JDBC thin (jdbc:oracle:thin:scott/tiger@db:1521:X and @//db/X) and the
# command-line tools (sqlplus scott/tiger@orcl).
_ORACLE_CREDENTIALS = re.compile(
    r"(?i)((?:\bjdbc:oracle:[a-z0-9]+:|\b(?:sqlplus|sqlldr|rman|expdp|impdp|dgmgrl)(?:\s+-\S+)*\s+)"
    r"[^\s/@:\"']*)/(\"[^\"]*\"|\S+)"
)
# Headers whose whole value is a credential, whatever its scheme: up to the end of the line.
_HEADER_LINE = re.compile(r"(?i)(?<![\w-])((?:proxy-)?authorization|(?:set-)?cookie)(\s*[:=]\s*)(?![\s\"'])([^\r\n]+)")
# ('Set-Cookie', 'x'), (b'X-Refresh-Token', b'x'): headers as httpx and httpcore print them.
_HEADER_PAIR = re.compile(r"\(b?'([\w.-]{1,255})',\s*b?(?:'((?:[^'\\\r\n]|\\.)*)'|\"((?:[^\"\\\r\n]|\\.)*)\")\)")
# key=value, key: value, "key": "value" (also escaped, HTML-escaped, URL-encoded, ODBC {braced}) where the key
# contains a secret word; the key is then checked with is_secret_field (pw=, PWD=, sig=, X-Api-Key:).
_ASSIGNED = re.compile(
    r"""(?ix)
    (?<![\w.\-])
    ([a-z0-9_.\-]{0,128}?(?:pass|pw|secret|token|key|auth|cookie|credential|sig|jwt)[a-z0-9_.\-]{0,128})
    ((?:\\?["']|&quot;|&\#0*3[49];|&\#x0*2[27];|&apos;)?\s*(?:[=:]|%3d|%3a)\s*)
    ((?:(?:bearer|basic|token|digest|negotiate|ntlm|sharedkey|apikey|key)\s+)?
     (?:\\"(?:[^"\\]|\\\\)*?\\"|"(?:[^"\\]|\\.)*"|'[^']*'|(?:&quot;|&\#0*3[49];|&\#x0*2[27];|&apos;).{0,1024}?(?:&quot;|&\#0*3[49];|&\#x0*2[27];|&apos;)
        |\{[^}]*\}|[^\s;&,)"'}\]]+))
    """
)
# A password flag and the word after it: --password hunter2, --api-key k, -password x (a one-dash flag is a
# lower-case word, so "-pS3cret sales" is left to the mysql rule below).
_FLAG = re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*|-[a-z]{3,}(?:[-_][a-z]+)*)(\s+)(?!-)(\"[^\"]*\"|'[^']*'|\S+)")
# Command lines that take a password in their own way.
_COMMAND_PASSWORDS = (
    re.compile(r"(?i)(\bsshpass\s+-p\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
    re.compile(r"(?i)(\b(?:mysql|mariadb)[\w-]*\b[^\r\n|;&]{0,200}?\s(?-i:-p))([^\s-]\S*)"),  # -p<pw>; -P is the port
    re.compile(r"(?i)(\b(?:sqlcmd|bcp|osql|isql)\b[^\r\n|;&]{0,200}?\s(?-i:-P)\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
    re.compile(r"(?i)(\bredis-cli\b[^\r\n|;&]{0,200}?\s-a\s+)(\"[^\"]*\"|'[^']*'|\S+)"),
    re.compile(r"(?i)(\bcurl\b[^\r\n|;&]{0,200}?\s(?:-u|--user)\s*[^\s:]+:)(\"[^\"]*\"|'[^']*'|\S+)"),
)
# "Bearer <token>", "Basic <credentials>" outside a header: a token-like word (not "Basic authentication").
_SCHEME_CREDENTIAL = re.compile(r"(?i)(?<![\w-])(bearer|basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)")
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]*")
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*")
# "password 'x'", "password is hunter2": a quoted value, or a word with a digit or symbol in it.
_STATED_SECRET = re.compile(
    r"""(?ix)
    \b(password|passwd|pwd|secret)(\s+(?:is\s+)?)
    ("[^"]*"|'[^']*'|(?=[^\s]*[\d@\#$%^&*!+=_/\-])[^\s;&,)"'}]{4,})
    """
)


def _masked_userinfo(match: re.Match[str]) -> str:
    return f"{match.group(1)}:{MASK}@"


def _masked_oracle(match: re.Match[str]) -> str:
    # The password runs to the last "@" (the host follows it); without one, all of it is the password.
    _, at, host = match.group(2).rpartition("@")
    return f"{match.group(1)}/{MASK}{at}{host}" if at else f"{match.group(1)}/{MASK}"


def _masked_header_pair(match: re.Match[str]) -> str:
    if not is_secret_field(match.group(1)):
        return match.group()
    start, end = match.span(2 if match.group(2) is not None else 3)
    whole, offset = match.group(), match.start()
    return whole[: start - offset] + MASK + whole[end - offset :]


def _masked_assignment(match: re.Match[str]) -> str:
    if not is_secret_field(match.group(1)):
        return match.group()
    return f"{match.group(1)}{match.group(2)}{MASK}"


def _masked_flag(match: re.Match[str]) -> str:
    if not is_secret_field(match.group(1)):
        return match.group()
    return f"{match.group(1)}{match.group(2)}{MASK}"


def _masked_scheme_credential(match: re.Match[str]) -> str:
    credential = match.group(3)
    if len(credential) < 16 and _PLAIN_WORD.fullmatch(credential):
        return match.group()  # "Basic authentication", "Bearer required": a word, not a credential
    return f"{match.group(1)}{match.group(2)}{MASK}"


def _mask_shapes(text: str, lowered: str) -> str:
    """Every shape above, each tried only when the text has what it is built from (a substring test
    costs 50 ns, a pattern several microseconds): most text that passes the pre-check is a name with
    "key" or "pass" in it and needs none."""
    if "-----begin" in lowered:
        text = _PRIVATE_KEY.sub(MASK, text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(_masked_userinfo, text)
    if "/" in text:
        text = _ORACLE_CREDENTIALS.sub(_masked_oracle, text)
    if "@" in text:
        text = _BARE_USERINFO.sub(_masked_userinfo, text)
    if "authorization" in lowered or "cookie" in lowered:
        text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    if "('" in text or "(b'" in text:
        text = _HEADER_PAIR.sub(_masked_header_pair, text)
    if "=" in text or ":" in text or "%3" in text:
        text = _ASSIGNED.sub(_masked_assignment, text)
    if "-" in text:
        text = _FLAG.sub(_masked_flag, text)
        for command in _COMMAND_PASSWORDS:
            text = command.sub(lambda m: f"{m.group(1)}{MASK}", text)
    if "bearer" in lowered or "basic" in lowered:
        text = _SCHEME_CREDENTIAL.sub(_masked_scheme_credential, text)
    if "eyJ" in text:
        text = _JWT.sub(MASK, text)
    if "pass" in lowered or "pwd" in lowered or "secret" in lowered:
        text = _STATED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


# --- 3. secrets by value ----------------------------------------------------------------------------

_MIN_SECRET = 4  # a 1-3 character secret cannot be masked without masking ordinary text
# Text that ends with a credential word, as in "password: ", "(password ", "token='", "pwd is ".
_CREDENTIAL_BEFORE = re.compile(
    r"(?i)(?:pass\w*|pwd|pw|secret\w*|token|credentials?|key|auth\w*)[\"']?"
    r"(?:\s*[:=]\s*|\s+(?:is|was|of|to|set\s+to)\s+|\s+)[\"'`(\[{]?$"
)
_CONTEXT_CHARS = 40


@functools.lru_cache(maxsize=8192)
def is_distinctive(secret: str) -> bool:
    """Whether a secret is unlike ordinary text, so it can be masked wherever it appears.

    24+ characters; or 16+ of two kinds (lower case, upper case, digits, symbols); or 12+ of three.
    A token, a UUID, a JWT or "Cr3ate-pass!" is; "postgres", "hunter2" or "Tig3rPw1" is not, and is
    masked only where it stands as a credential.
    """
    kinds = sum(
        (
            any(c.islower() for c in secret),
            any(c.isupper() for c in secret),
            any(c.isdigit() for c in secret),
            any(not c.isalnum() for c in secret),
        )
    )
    size = len(secret)
    return size >= 24 or (size >= 16 and kinds >= 2) or (size >= 12 and kinds >= 3)


@dataclass(frozen=True)
class KnownSecrets:
    """Secret values to mask: distinctive ones anywhere, ordinary ones where they stand as credentials."""

    anywhere: tuple[str, ...] = ()  # longest first, so a secret that contains another is masked whole
    as_credential: frozenset[str] = frozenset()

    @classmethod
    def of(cls, secrets: Iterable[str]) -> KnownSecrets:
        anywhere: set[str] = set()
        ordinary: set[str] = set()
        for secret in secrets:
            if len(secret) >= _MIN_SECRET:
                (anywhere if is_distinctive(secret) else ordinary).add(secret)
        return cls(tuple(sorted(anywhere, key=len, reverse=True)), frozenset(ordinary))

    def __bool__(self) -> bool:
        return bool(self.anywhere or self.as_credential)

    def __add__(self, other: KnownSecrets) -> KnownSecrets:
        if not other:
            return self
        if not self:
            return other
        # A merge, not a new sort: each record that leaks adds a few to the thousands a process may know.
        anywhere = tuple(heapq.merge(self.anywhere, other.anywhere, key=len, reverse=True))
        return KnownSecrets(anywhere, self.as_credential | other.as_credential)


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


class _Registry:
    """Secret values this process has handled, for every later message and log line.

    Secrets we were given or sent (the token, passwords in creates and updates) are kept for the life of
    the process; secrets an upstream leaked are kept up to a bound, oldest forgotten first, so an upstream
    cannot grow this (and the cost of every mask) without end. Those are dropped by field name anyway.
    """

    LEAKED_LIMIT = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._given: dict[str, None] = {}
        self._leaked: dict[str, None] = {}
        self._known: KnownSecrets | None = KnownSecrets()

    def add(self, value: str, *, leaked: bool = False) -> None:
        if len(value) < _MIN_SECRET:
            return
        with self._lock:
            if value in self._given or value in self._leaked:
                return
            if leaked:
                self._leaked[value] = None
                while len(self._leaked) > self.LEAKED_LIMIT:
                    del self._leaked[next(iter(self._leaked))]
            else:
                self._given[value] = None
            self._known = None

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._given) | frozenset(self._leaked)

    def known(self) -> KnownSecrets:
        with self._lock:
            if self._known is None:
                self._known = KnownSecrets.of([*self._given, *self._leaked])
            return self._known

    def snapshot(self) -> tuple[dict[str, None], dict[str, None]]:
        with self._lock:
            return dict(self._given), dict(self._leaked)

    def restore(self, state: tuple[dict[str, None], dict[str, None]]) -> None:
        with self._lock:
            self._given, self._leaked = dict(state[0]), dict(state[1])
            self._known = None


_registry = _Registry()


def remember_secret(value: str) -> None:
    """Register a secret value so that no log line or message can ever carry it."""
    _registry.add(value)


def remembered_secrets() -> frozenset[str]:
    """Every secret value this process has handled, sent or seen."""
    return _registry.values()


def remembered_state() -> tuple[dict[str, None], dict[str, None]]:
    """For tests: the registry as it is now, to put back with `restore_remembered_state`."""
    return _registry.snapshot()


def restore_remembered_state(state: tuple[dict[str, None], dict[str, None]]) -> None:
    """For tests: forget every secret remembered since `state` was taken."""
    _registry.restore(state)


# --- masking and scrubbing ---------------------------------------------------------------------------


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
    if not _MIGHT_HOLD_SECRET.search(lowered):
        return text
    text = _mask_shapes(text, lowered)
    for secret in known.as_credential:
        if secret in text:
            text = _mask_where_credential(text, secret)
    return text


def scrub(value: Any, known_secrets: Iterable[str] | KnownSecrets = ()) -> Any:
    """A JSON value with secret fields removed and credentials in strings masked, in place.

    In place because a listing of 20,000 tables is megabytes of objects: a scrubbed copy would
    double the memory a large answer needs. Pass data nothing else holds (a freshly parsed body).
    """
    known = known_secrets if isinstance(known_secrets, KnownSecrets) else KnownSecrets.of(known_secrets)
    return _scrub(value, known, whole_value=True)


# A value under one of these is what its field says (a user, a database, a host), not a credential: an
# ordinary-word password equal to it ("postgres") is not masked there, or every connector with that
# user name would show "***".
_NAMES_ITS_VALUE = re.compile(
    r"(?:user|username|login|owner|database|databasename|db|dbname|host|hostname|server|servername|name|schema"
    r"|catalog|type|id|port|project|region|account|tenant|warehouse|role)$"
)


@dataclass(frozen=True)
class _Plan:
    """What scrubbing does to a record with a given set of field names (worked out once per set)."""

    secret_keys: tuple[str, ...]  # fields to drop
    pair_names: tuple[str, ...]  # fields that may name a secret held in `pair_value` ({"name": "password"})
    pair_value: str | None  # the field such a pair holds its value in ({"value": ...})
    whole_value: dict[str, bool]  # field -> whether an ordinary secret equal to its whole value is masked


@functools.lru_cache(maxsize=2048)
def _plan(keys: tuple[str, ...]) -> _Plan:
    pair_value = next((key for key in _PAIR_VALUE_KEYS if key in keys), None)
    return _Plan(
        secret_keys=tuple(key for key in keys if is_secret_field(key)),
        pair_names=tuple(key for key in keys if key in _PAIR_NAME_KEYS) if pair_value is not None else (),
        pair_value=pair_value,
        whole_value={key: not _NAMES_ITS_VALUE.search(_fold(key)) for key in keys},
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
        if pair_value_key is not None and key in _PAIR_NAME_KEYS:
            continue  # {"key": "password", "value": ...}: this "key" is a name, not a secret
        if key != pair_value_key:
            _collect_strings(value.pop(key), leaked)
    for item in leaked:
        _registry.add(item, leaked=True)  # the upstream leaked it once: mask it wherever it shows up again
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


class MaskingFormatter(logging.Formatter):
    """A log formatter that masks credentials and the given secret values in the final text.

    Used for the stderr handler as a last line of defence: our code never logs
    bodies or headers, but a third-party library or a traceback might carry one.
    Masking the formatted text covers messages, arguments and tracebacks alike.
    """

    def __init__(self, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = KnownSecrets.of(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record), self.secrets + _registry.known())
