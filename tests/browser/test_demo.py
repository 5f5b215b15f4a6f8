"""The three-role demo in a real browser: the notes app signs the user in at authgate, shows
notes from the notes API, refreshes the access token behind the scenes, signs out.
Screenshots of the login and consent pages go to test-artifacts/.

Spec: RFC 6749 §4.1 end to end; RFC 8707 / RFC 9068 (the API's token); RFC 6749 §6.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from examples.demo import Demo, run

from tests.browser.test_login_consent_browser import ARTIFACTS, chromium  # noqa: F401
from tests.support.live import free_port

pytestmark = pytest.mark.browser
PASSWORD = "demo-browser-password"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    base = free_port()
    while base > 60000:  # the app and the API take the next two ports
        base = free_port()
    holder: list[Demo] = []
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    thread = threading.Thread(
        target=lambda: asyncio.run(run(base, f"sqlite:///{db}", PASSWORD, holder=holder)),
        daemon=True,
    )
    thread.start()
    for _ in range(600):
        if holder:
            break
        time.sleep(0.05)
    assert holder, "the demo did not start"
    yield holder[0]
    holder[0].stop()
    thread.join(timeout=15)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:  # noqa: F811 - the shared browser fixture
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def sign_in(page: Any, demo: Demo, password: str) -> None:
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_three_roles_in_a_real_browser(page: Any, demo: Demo) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(demo.app_url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Password").wait_for()
    assert page.url.startswith(demo.issuer)
    page.screenshot(path=str(ARTIFACTS / "demo-login.png"))

    sign_in(page, demo, "not-the-password")
    assert page.get_by_role("alert").inner_text() == "The username or password is incorrect."
    sign_in(page, demo, PASSWORD)
    page.get_by_role("button", name="Allow").wait_for()
    assert "Notes" in page.content() and "notes:read" in page.content()
    page.screenshot(path=str(ARTIFACTS / "demo-consent.png"))
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{demo.app_url}/callback**")
    assert "access_denied" in page.content()

    page.goto(demo.app_url + "/notes")
    page.get_by_role("button", name="Allow").click()  # still signed in at authgate
    page.wait_for_url(f"{demo.app_url}/notes")
    notes = page.locator("#notes li").all_inner_texts()
    assert "Buy coffee beans" in notes
    assert "Demo User" in page.content()

    # The access token expires: the app refreshes it behind the scenes (rotation).
    auth = demo.app.state.auth  # type: ignore[attr-defined]
    store = auth.store
    ((sid, tokens),) = store._tokens.items()
    store._tokens[sid] = dataclasses.replace(tokens, expires_at=time.time() - 60)
    page.reload()
    assert "Buy coffee beans" in page.locator("#notes").inner_text()
    refreshed = store._tokens[sid]
    assert refreshed.refresh_token != tokens.refresh_token
    assert refreshed.access_token != tokens.access_token

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{demo.app_url}/")
    assert "You are not signed in." in page.content()
    assert not store._tokens


def test_the_api_refuses_requests_without_a_token(demo: Demo) -> None:
    import httpx

    r = httpx.get(f"{demo.api_url}/notes")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="notes"'
    forged = httpx.get(f"{demo.api_url}/notes", headers={"authorization": "Bearer a.b.c"})
    assert forged.status_code == 401
