"""The page where the person types a password: GET shows what it is for and a form, POST takes it once.

Nothing on it comes from elsewhere (no script, no font, no image): a strict Content-Security-Policy allows
only its own style (by hash) and a form posted to itself. It is never cached, never framed, and tells no
other site its address. A POST must carry the page's anti-CSRF token and, when the browser says where it
comes from, come from the page itself. What the page shows came from the agent's arguments, so it is
escaped as text.
The password is handed to the pending write and never written anywhere: no log line, no answer.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from .pending import PendingWrite, PendingWrites

logger = logging.getLogger(__name__)

PAGE_PATH = "/credentials/"
MAX_FORM_BYTES = 16 * 1024  # a password of 1,000 characters, percent-encoded, is at most 12 KB
MAX_PASSWORD = 1000  # as params.Password
_REF = re.compile(r"[A-Za-z0-9_-]{16,64}")

STYLE = """
body{margin:0;background:#f4f5f7;color:#1d2330;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:34rem;margin:3rem auto;background:#fff;border:1px solid #d8dce3;border-radius:10px;padding:2rem}
.who{margin:0 0 .5rem;color:#5a6270;font-size:.85rem;letter-spacing:.02em}
h1{margin:0 0 1rem;font-size:1.35rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:1.25rem 0;padding:1rem;
background:#f7f8fa;border-radius:8px}
dt{color:#5a6270}dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin:1.25rem 0 .35rem}
input[type=password]{box-sizing:border-box;width:100%;padding:.6rem .7rem;font-size:1rem;
border:1px solid #aab1bd;border-radius:6px}
.actions{display:flex;gap:.75rem;margin-top:1rem}
button{padding:.6rem 1.1rem;font-size:1rem;border-radius:6px;border:1px solid #1f5fd1;background:#1f5fd1;
color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d2330;border-color:#aab1bd}
.problem{color:#a3261b;font-weight:600}
.fine{color:#5a6270;font-size:.85rem;margin-top:1.5rem}
""".strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

HEADERS = {
    # Only our own style, by hash; the form may post only to this page; nothing else loads, nothing frames it.
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # Not no-referrer: with it a browser sends `Origin: null` on the form's own POST, which must show its origin.
    # Same-origin still tells no other site the page's address (and the page links to none).
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class CredentialPage:
    """ASGI app: PAGE_PATH<ref>, GET and POST, for the pending writes of `pending`."""

    def __init__(self, pending: PendingWrites) -> None:
        self.pending = pending

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: nothing to start
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        request = Request(scope, receive)
        response = await self._respond(request)
        for name, value in HEADERS.items():
            response.headers[name] = value
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        path = request.url.path
        ref = path[len(PAGE_PATH) :] if path.startswith(PAGE_PATH) else ""
        if not _REF.fullmatch(ref):
            return _page("Not found", "<p>There is no page here.</p>", status=404)
        if request.method == "GET":
            pending = self.pending.for_page(ref)
            return _form(pending) if pending is not None else self._gone(ref)
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        return await self._post(request, ref)

    async def _post(self, request: Request, ref: str) -> Response:
        if not _same_origin(request):
            logger.info("A password form was posted from another site: refused")
            return _page("Refused", "<p>This form can only be sent from its own page.</p>", status=403)
        form = await _read_form(request)
        if form is None:
            return _page("Too large", "<p>That is more than a password.</p>", status=413)
        if self.pending.for_page(ref) is None:
            return self._gone(ref)
        csrf = form.get("csrf", "")
        if not self.pending.check_csrf(ref, csrf):
            logger.info("A password form came without its page's token: refused")
            body = "<p>This form was not sent from its page. Reload the page and type the password again.</p>"
            return _page("Refused", body, status=403)
        if form.get("action") == "decline":
            self.pending.decline(ref, csrf)
            return _page("Not used", "<p>Nothing was written. You can close this tab.</p>")
        password = form.get("password", "")
        problem = _problem(password)
        if problem:
            pending = self.pending.for_page(ref)
            assert pending is not None
            return _form(pending, problem=problem, status=400)
        self.pending.type(ref, csrf, password)
        return _page(
            "Password received",
            "<p>Thank you. You can close this tab and go back to your agent: it goes on from here.</p>",
        )

    def _gone(self, ref: str) -> Response:
        why = self.pending.why_ended(ref)
        said = {
            "used": "This page was already used.",
            "expired": "This page has expired.",
            "declined": "You chose not to use this page.",
            "withdrawn": "The agent no longer waits for this page.",
        }.get(why or "", "This page does not exist, or no longer does.")
        pending = self.pending.get(ref)
        if pending is not None and pending.typed:
            said = "The password was already received."
        body = f"<p>{said} A page works once, for 10 minutes; ask the agent for a new one if you need it.</p>"
        return _page("This link no longer works", body, status=410 if why or pending else 404)


def _form(pending: PendingWrite, *, problem: str = "", status: int = 200) -> Response:
    rows = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>" for label, value in pending.shown.rows)
    minutes = max(1, round(pending.seconds_left() / 60))
    warning = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    body = f"""
<p>An AI agent is making this change in Databasin and needs the connector's password. Type it here: it is
sent to Databasin only, and the agent never sees it.</p>
<dl>{rows}</dl>
<form method="post" autocomplete="off">
<input type="hidden" name="csrf" value="{html.escape(pending.csrf)}">
<label for="password">Password</label>
{warning}
<input id="password" name="password" type="password" maxlength="{MAX_PASSWORD}" required autofocus
 autocomplete="new-password" spellcheck="false">
<div class="actions">
<button type="submit" name="action" value="save">Use this password</button>
<button type="submit" name="action" value="decline" formnovalidate class="secondary">Don't</button>
</div>
</form>
<p class="fine">This page works once, for {minutes} more minute{"s" if minutes != 1 else ""}. If you did not ask
an agent for this, choose "Don't".</p>"""
    return _page(pending.shown.title, body, status=status)


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{html.escape(title)} · databasin-mcp</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<p class="who">databasin-mcp · your Databasin MCP server</p>
<h1>{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
    return HTMLResponse(document, status_code=status)


def _problem(password: str) -> str:
    if not password.strip():
        return "Type the password, or choose Don't."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD:,} characters."
    return ""


def _same_origin(request: Request) -> bool:
    """Whether a POST comes from this page, as far as the browser says (Origin, Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # an older browser, or not a browser: the anti-CSRF token still has to match
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


async def _read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded form, or None when it is larger than any password form."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=8)
    except ValueError:  # more fields than the form has
        return None
    return dict(fields)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
