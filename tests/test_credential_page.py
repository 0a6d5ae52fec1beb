"""The password page and its pending writes (issue 15): one-time, ten minutes, bound to one write, never echoed.

The page is driven in-process over ASGI (httpx's ASGITransport) with a clock the test moves; the loopback
listener it gets over stdio is driven over a real socket, for its Host and Origin checks.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from databasin_mcp.credentials import PAGE_PATH, CredentialPage, LoopbackSite, PendingWrites, Refused, Shown
from databasin_mcp.credentials.pending import MAX_PENDING, PAGE_LIFETIME

pytestmark = pytest.mark.anyio

PASSWORD = "Typ3d-on-the-page!"
SHOWN = Shown("Create connector 'Orders'", (("Type", "RDBMS"), ("Host", "db.example.com:5432"), ("Project", "proj-1")))
BINDING = {"name": "Orders", "connector_type": "RDBMS", "host": "db.example.com", "project_id": "proj-1"}
ORIGIN = "http://page.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pending(clock: Clock) -> PendingWrites:
    return PendingWrites(clock=clock)


@pytest.fixture
async def browser(pending: PendingWrites) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=CredentialPage(pending))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def submit(browser: httpx.AsyncClient, ref: str, **form: str) -> httpx.Response:
    return await browser.post(f"{PAGE_PATH}{ref}", data=form, headers={"Origin": ORIGIN})


# --- the store ----------------------------------------------------------------------------------------------------


def test_references_are_unguessable_and_each_write_gets_its_own(pending: PendingWrites) -> None:
    refs = {pending.open("create_connector", BINDING, SHOWN).ref for _ in range(MAX_PENDING)}
    assert len(refs) == MAX_PENDING
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", ref) for ref in refs)  # 16 random bytes: 128 bits


def test_a_typed_password_is_given_once_to_the_same_write_and_then_dropped(pending: PendingWrites) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    assert pending.type(write.ref, write.csrf, PASSWORD)

    assert pending.claim(write.ref, "create_connector", dict(BINDING)) == PASSWORD
    assert write._password is None
    with pytest.raises(Refused) as again:
        pending.claim(write.ref, "create_connector", BINDING)
    assert again.value.why == "used"


def test_a_reference_refuses_another_write_and_says_what_differs(pending: PendingWrites) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    pending.type(write.ref, write.csrf, PASSWORD)

    with pytest.raises(Refused) as elsewhere:
        pending.claim(write.ref, "create_connector", {**BINDING, "host": "evil.example.com"})
    assert (elsewhere.value.why, elsewhere.value.detail) == ("other_write", "host")
    with pytest.raises(Refused) as other_tool:
        pending.claim(write.ref, "update_connector", BINDING)
    assert (other_tool.value.why, other_tool.value.detail) == ("other_write", "tool")
    # Refusing another write does not use the reference up: its own write still gets the password.
    assert pending.claim(write.ref, "create_connector", BINDING) == PASSWORD


def test_a_reference_works_ten_minutes_and_then_forgets_the_password(pending: PendingWrites, clock: Clock) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    pending.type(write.ref, write.csrf, PASSWORD)
    clock.now += PAGE_LIFETIME

    with pytest.raises(Refused) as expired:
        pending.claim(write.ref, "create_connector", BINDING)
    assert expired.value.why == "expired"
    assert write._password is None
    assert PAGE_LIFETIME == 600


def test_unknown_untyped_and_declined_references_give_no_password(pending: PendingWrites) -> None:
    with pytest.raises(Refused) as unknown:
        pending.claim("A" * 22, "create_connector", BINDING)
    assert unknown.value.why == "unknown"

    waiting = pending.open("create_connector", BINDING, SHOWN)
    with pytest.raises(Refused) as untyped:
        pending.claim(waiting.ref, "create_connector", BINDING)
    assert untyped.value.why == "not_typed"

    assert pending.decline(waiting.ref, waiting.csrf)
    with pytest.raises(Refused) as declined:
        pending.claim(waiting.ref, "create_connector", BINDING)
    assert declined.value.why == "declined"


def test_the_number_of_open_pages_is_bounded(pending: PendingWrites, clock: Clock) -> None:
    for _ in range(MAX_PENDING):
        pending.open("create_connector", BINDING, SHOWN)
    with pytest.raises(Refused) as busy:
        pending.open("create_connector", BINDING, SHOWN)
    assert busy.value.why == "busy"
    clock.now += PAGE_LIFETIME  # they expire, and room is made
    pending.open("create_connector", BINDING, SHOWN)


# --- the page -----------------------------------------------------------------------------------------------------


async def test_the_page_shows_what_the_password_is_for_and_a_form_posted_to_itself(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)

    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    assert page.status_code == 200
    assert "<h1>Create connector &#x27;Orders&#x27;</h1>" in page.text
    for label, value in SHOWN.rows:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page.text
    assert '<form method="post" autocomplete="off">' in page.text
    assert 'type="password"' in page.text
    assert csrf_of(page) == write.csrf
    assert "works once, for 10 more minutes" in page.text


async def test_the_page_is_never_cached_framed_or_allowed_anything_from_elsewhere(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)

    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    headers = page.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    policy = headers["content-security-policy"]
    assert re.fullmatch(
        r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]{44}'; form-action 'self'; "
        r"frame-ancestors 'none'; base-uri 'none'",
        policy,
    )
    assert "<script" not in page.text
    assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page.text)  # no asset from anywhere


async def test_what_the_agent_named_is_shown_as_text_never_as_markup(pending: PendingWrites, browser: Any) -> None:
    shown = Shown("Create connector '<script>alert(1)</script>'", (("Host", '"><img src=x onerror=alert(1)>'),))
    write = pending.open("create_connector", BINDING, shown)

    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    assert "<script>alert" not in page.text
    assert "<img" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_a_post_with_its_pages_token_hands_the_password_over_once(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    done = await submit(browser, write.ref, csrf=csrf_of(page), password=PASSWORD, action="save")
    again = await submit(browser, write.ref, csrf=csrf_of(page), password="Second-try-pw!", action="save")
    reloaded = await browser.get(f"{PAGE_PATH}{write.ref}")

    assert done.status_code == 200
    assert "<h1>Password received</h1>" in done.text
    assert write.answered.is_set()
    assert again.status_code == 410
    assert "The password was already received." in again.text
    assert reloaded.status_code == 410
    assert pending.claim(write.ref, "create_connector", BINDING) == PASSWORD  # the first, not the second
    for response in (page, done, again, reloaded):
        assert PASSWORD not in response.text


async def test_a_post_without_the_pages_token_is_refused_and_the_page_still_works(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)

    forged = await submit(browser, write.ref, csrf="not-the-token-at-all", password=PASSWORD, action="save")
    missing = await submit(browser, write.ref, password=PASSWORD, action="save")

    assert forged.status_code == missing.status_code == 403
    assert "This form was not sent from its page." in forged.text
    assert not write.answered.is_set()
    assert (await browser.get(f"{PAGE_PATH}{write.ref}")).status_code == 200


async def test_a_post_from_another_site_is_refused_even_with_the_token(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    form = {"csrf": write.csrf, "password": PASSWORD, "action": "save"}

    other_origin = await browser.post(f"{PAGE_PATH}{write.ref}", data=form, headers={"Origin": "http://evil.test"})
    cross_site = await browser.post(f"{PAGE_PATH}{write.ref}", data=form, headers={"Sec-Fetch-Site": "cross-site"})

    assert other_origin.status_code == cross_site.status_code == 403
    assert not write.answered.is_set()


async def test_an_expired_page_says_so_and_takes_nothing(
    pending: PendingWrites, browser: httpx.AsyncClient, clock: Clock
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    page = await browser.get(f"{PAGE_PATH}{write.ref}")
    clock.now += PAGE_LIFETIME

    late = await submit(browser, write.ref, csrf=csrf_of(page), password=PASSWORD, action="save")

    assert late.status_code == 410
    assert "This page has expired." in late.text
    assert not write.typed


async def test_the_person_can_say_no_on_the_page(pending: PendingWrites, browser: httpx.AsyncClient) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    declined = await submit(browser, write.ref, csrf=csrf_of(page), password="", action="decline")

    assert declined.status_code == 200
    assert "Nothing was written." in declined.text
    assert write.answered.is_set()
    assert write.declined


async def test_an_empty_or_oversized_password_is_asked_again_without_echoing_it(
    pending: PendingWrites, browser: httpx.AsyncClient
) -> None:
    write = pending.open("create_connector", BINDING, SHOWN)
    page = await browser.get(f"{PAGE_PATH}{write.ref}")

    blank = await submit(browser, write.ref, csrf=csrf_of(page), password="   ", action="save")
    long = await submit(browser, write.ref, csrf=csrf_of(page), password="Lo0ng-" * 200, action="save")
    huge = await browser.post(
        f"{PAGE_PATH}{write.ref}", content=b"password=" + b"x" * 20_000, headers={"Origin": ORIGIN}
    )

    assert blank.status_code == long.status_code == 400
    assert "Type the password, or choose Don&#x27;t." in blank.text
    assert "A password has at most 1,000 characters." in long.text
    assert "Lo0ng-Lo0ng-" not in long.text
    assert huge.status_code == 413
    assert not write.answered.is_set()


async def test_unknown_and_malformed_references_are_not_found(browser: httpx.AsyncClient) -> None:
    assert (await browser.get(f"{PAGE_PATH}{'A' * 22}")).status_code == 404
    assert (await browser.get(f"{PAGE_PATH}../../etc/passwd")).status_code == 404
    assert (await browser.put(f"{PAGE_PATH}{'A' * 22}")).status_code == 405


# --- the loopback listener (stdio) ---------------------------------------------------------------------------------


async def test_the_loopback_listener_answers_only_its_own_host_and_origin(pending: PendingWrites) -> None:
    site = LoopbackSite(CredentialPage(pending))
    write = pending.open("create_connector", BINDING, SHOWN)
    async with site.running():
        base = await site.base_url(None)
        port = base.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=base) as client:
            own = await client.get(f"{PAGE_PATH}{write.ref}")
            by_name = await client.get(f"{PAGE_PATH}{write.ref}", headers={"Host": f"localhost:{port}"})
            rebound = await client.get(f"{PAGE_PATH}{write.ref}", headers={"Host": f"attacker.test:{port}"})
            foreign = await client.post(
                f"{PAGE_PATH}{write.ref}",
                data={"csrf": write.csrf, "password": PASSWORD},
                headers={"Origin": "http://attacker.test"},
            )
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
    assert (own.status_code, by_name.status_code) == (200, 200)
    assert rebound.status_code == 421
    assert foreign.status_code == 403
    assert not write.answered.is_set()


async def test_the_loopback_listener_opens_when_first_needed_and_closes_with_the_server(
    pending: PendingWrites,
) -> None:
    site = LoopbackSite(CredentialPage(pending))
    async with site.running():
        assert site._port is None  # nothing listens until a page is needed
        base = await site.base_url(None)
        assert await site.base_url(None) == base  # one listener for every page
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{base}{PAGE_PATH}{'A' * 22}")
