"""The person types a password on a page of ours; the agent never holds it.

- pending.py: the writes waiting for a password (one-time references, 10 minutes, values in memory only)
- page.py: the page (GET: what the password is for and a form; POST: the password, with an anti-CSRF token)
- site.py: where the page is served (a loopback listener over stdio, a path of the app over HTTP)
- asking.py: how a tool call gets the password (URL elicitation, or a link the agent passes on)
"""

from __future__ import annotations

from .page import PAGE_PATH, CredentialPage
from .pending import PAGE_LIFETIME, PendingWrite, PendingWrites, Refused, Shown
from .site import LoopbackSite, MountedSite, PageSite, with_page

__all__ = [
    "PAGE_LIFETIME",
    "PAGE_PATH",
    "CredentialPage",
    "Credentials",
    "LoopbackSite",
    "MountedSite",
    "PageSite",
    "PendingWrite",
    "PendingWrites",
    "Refused",
    "Shown",
    "with_page",
]


class Credentials:
    """One server's pending writes, their page, and where that page is served."""

    def __init__(self, *, loopback: bool) -> None:
        self.pending = PendingWrites()
        self.page = CredentialPage(self.pending)
        self.site: PageSite = LoopbackSite(self.page) if loopback else MountedSite()

    async def url(self, request: object, ref: str) -> str:
        """The page of `ref`, as the person's browser reaches it."""
        return f"{await self.site.base_url(request)}{PAGE_PATH}{ref}"
