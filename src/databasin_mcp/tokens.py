"""The API token: where it is looked for, in which order, and what makes one unusable.

Re-read on every call that needs it (a rotated or fixed file is picked up without a restart), cleaned of
what editors add (a byte-order mark, CR/LF), and refused before anything is sent when it cannot be an HTTP
header value, naming where it came from and never the token itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidTokenError

TOKEN_ENV = "DATABASIN_TOKEN"
TOKEN_FILE_ENV = "DATABASIN_TOKEN_FILE"
TOKEN_FILE_FLAG = "--token-file"
# A JWT is a few KB; a file larger than this is not a token file (and is not read into memory).
MAX_TOKEN_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class TokenRead:
    """A token and a description of where it came from (never the token itself)."""

    value: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class TokenSource:
    """The lookup chain for the API token, re-readable so a rotated file is picked up.

    Order: the DATABASIN_TOKEN variable; the file named by DATABASIN_TOKEN_FILE; `.token` in the
    working directory (the API reference's convention); and `~/.databasin/.token` (where the vendor's
    own command-line client keeps it). A file named by --token-file comes first: flags win.
    """

    env_token: str | None
    explicit_file: Path | None
    cwd: Path
    home: Path
    file_named_by: str = TOKEN_FILE_ENV  # --token-file or DATABASIN_TOKEN_FILE: what errors name

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
        if self.file_named_by == TOKEN_FILE_FLAG:
            return self._from_files()  # --token-file wins over DATABASIN_TOKEN, and promises that file
        env_token = clean_token(self.env_token or "")
        if env_token:
            where = f"the {TOKEN_ENV} environment variable"
            _check_token(env_token, where, f"Set {TOKEN_ENV} to the token alone.")
            return TokenRead(env_token, where)
        return self._from_files()

    def _from_files(self) -> TokenRead | None:
        for path in self.candidate_files():
            where = f"the token file {path}"
            value = _read_token_file(path, where)
            if value:
                _check_token(value, where, _FILE_FIX)
                return TokenRead(value, where)
        return None

    def where_looked(self) -> str:
        """One sentence for the 'no token' error: every place that was searched, and where to put one."""
        files = " and ".join(str(p) for p in self.candidate_files())
        if self.explicit_file is not None:
            return f"No Databasin API token found: {self.file_named_by} points to {files}, which is missing or empty."
        # ~/.databasin/.token works wherever a client starts the server (Claude Desktop starts it in /).
        suggested = self.home / ".databasin" / ".token"
        return (
            f"No Databasin API token found: {TOKEN_ENV} is not set and there is no token in {files}. "
            f"Set {TOKEN_ENV}, or save the token to {suggested}."
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
