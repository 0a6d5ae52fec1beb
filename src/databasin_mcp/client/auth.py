"""The token a request carries: read from its source when first needed, kept while the API accepts it.

Checking what a source holds (BOM and CR stripped, a token that cannot be sent refused before
anything is sent, naming its source) is `config.TokenSource`'s job; this unit decides when to read
it. After any token error nothing is kept, so the next call reads the source again: creating,
rotating or fixing the file works without a restart.

Not an httpx `Auth` flow: httpx reads the whole body of the answer an auth flow retries (a 401 body
would escape the size cap), the retry would bypass the request loop's slots and its once-per-call
re-read, and an `Auth` subclass needs httpx imported at start-up, which tools/list does not need.
"""

from __future__ import annotations

from ..errors import MissingTokenError
from ..redact import remember_secret
from ..tokens import TokenRead, TokenSource

# Stands in for the token on the few routes that need none (ping).
NO_TOKEN = TokenRead(value="", source="no token")


def bearer(token: TokenRead) -> dict[str, str]:
    """The request headers that carry `token` (none for NO_TOKEN)."""
    return {"Authorization": f"Bearer {token.value}"} if token is not NO_TOKEN else {}


class TokenKeeper:
    """The token the requests carry, and when to read its source again."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source
        self._token: TokenRead | None = None

    def current(self) -> TokenRead:
        """The kept token, or the one its source holds now (MissingTokenError, InvalidTokenError if none usable)."""
        if self._token is None:
            self._token = self._read()
        return self._token

    def reread(self) -> TokenRead | None:
        """After a 401: the token its source holds now, or None when the source has none any more."""
        try:
            self._token = self._read()
        except MissingTokenError:
            return None
        return self._token

    def forget(self) -> None:
        """The API refused the token: read the source again on the next call, it may be fixed by then."""
        self._token = None

    def _read(self) -> TokenRead:
        """The token as its source holds it now. A missing or unusable token is not kept."""
        self._token = None
        fresh = self.source.read()  # InvalidTokenError when it cannot be sent (and nothing was)
        if fresh is None:
            raise MissingTokenError(self.source.where_looked())
        remember_secret(fresh.value)
        return fresh
