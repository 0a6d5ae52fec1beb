"""Defence 2: secrets by the shape of the text around them.

Credentials inside strings are masked: URL userinfo (with or without a scheme), JDBC thin and sqlplus
`user/password@host`, `Authorization`/`Cookie` headers, `Bearer`/`Basic` credentials, any `key=value` or
`"key": "value"` whose key is a secret field name (SAS `sig=`, `PWD=`, `X-Api-Key:`,
`aws_secret_access_key = ...`), password flags of command lines (`sshpass -p`, `mysql -p...`,
`--password x`), JWTs and PEM private keys.
"""

from __future__ import annotations

import re

from .names import is_secret_field

# What a secret is replaced with, wherever it is found.
MASK = "***"

# Every pattern below needs one of these (in lower case): text without any cannot hold a credential by
# shape. Matched against lowered text: an alternation with (?i) cannot skip ahead and costs 6x more.
# The patterns bound every run they scan ({0,255}, {0,200}): text from an upstream can be megabytes,
# and an unbounded run tried from every start is quadratic ("http://a:" repeated took seconds).
_MIGHT_HOLD_SECRET = re.compile(
    r"@|://|-----begin|p(?:ass|w)|s(?:ecret|ig|ql(?:cmd|plus|ldr))|key|token|auth|cookie|b(?:earer|asic|cp)"
    r"|credential|jwt|eyj|m(?:ysql|ariadb)|osql|isql|redis-cli|curl|rman|expdp|impdp|dgmgrl"
)


def might_hold_secret(lowered: str) -> bool:
    """Whether lower-cased text has any word a shape (or a credential word before a secret) is built from."""
    return _MIGHT_HOLD_SECRET.search(lowered) is not None


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


def mask_shapes(text: str, lowered: str) -> str:
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
