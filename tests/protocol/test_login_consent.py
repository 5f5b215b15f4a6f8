"""Sign-in and consent pages: CSRF, generic errors, throttling, remembered consent, prompt.

Spec: OIDC Core §3.1.2.1 (prompt, max_age), §3.1.2.3, §3.1.2.4, §3.1.2.6; RFC 6749 §10.12;
RFC 9700 §4.7, §4.16.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser, forms_of, redirect_result
from tests.support.live import LiveServer


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client()


def login_page(browser: Browser, client: Any) -> httpx.Response:
    params, _ = auth_params(client)
    page = browser.authorize(params)
    assert page.status_code == 200 and 'type="password"' in page.text
    return page


def test_login_form_shape_and_security_headers(browser: Browser, client: Any) -> None:
    page = login_page(browser, client)
    form = forms_of(page.text)[0]
    assert form["method"] == "post"
    assert list(form["types"].values()).count("password") == 1
    assert "username" in form["inputs"] and "csrf_token" in form["inputs"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.request.headers.get("cookie", "") or ""
    assert "ag_bid" in cookie


def test_cookies_are_httponly_and_samesite_lax(browser: Browser, client: Any) -> None:
    params, _ = auth_params(client)
    r = browser.get("/authorize", params=params)
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert "secure" not in set_cookie  # http loopback issuer


def test_wrong_password_shows_form_again_with_generic_message(
    browser: Browser, client: Any, make_user: Any
) -> None:
    username, _ = make_user()
    page = browser.login(login_page(browser, client), username, "wrong-password")
    assert page.status_code == 200
    assert "username or password is incorrect" in page.text
    unknown = browser.login(page, "nobody-" + username, "wrong-password")
    assert "username or password is incorrect" in unknown.text


def test_rfc6749_10_12_login_without_csrf_token_is_refused(
    browser: Browser, client: Any, make_user: Any
) -> None:
    page = login_page(browser, client)
    form = forms_of(page.text)[0]
    username, password = make_user()
    r = browser.post(str(page.url), {"username": username, "password": password})
    assert r.status_code == 403
    r = browser.post(
        str(page.url),
        {
            "username": username,
            "password": password,
            "csrf_token": form["inputs"]["csrf_token"] + "x",
        },
    )
    assert r.status_code == 403


def test_csrf_token_of_another_browser_is_refused(
    live: LiveServer, browser: Browser, client: Any, make_user: Any
) -> None:
    attacker = Browser(live.url)
    try:
        attacker_page = login_page(attacker, client)
        attacker_token = forms_of(attacker_page.text)[0]["inputs"]["csrf_token"]
    finally:
        attacker.close()
    page = login_page(browser, client)
    username, password = make_user()
    r = browser.post(
        str(page.url), {"username": username, "password": password, "csrf_token": attacker_token}
    )
    assert r.status_code == 403


def test_interaction_is_bound_to_the_browser(
    live: LiveServer, browser: Browser, client: Any
) -> None:
    page = login_page(browser, client)
    other = Browser(live.url)
    try:
        r = other.get(str(page.url))
        assert r.status_code == 400
        assert "expired" in r.text
    finally:
        other.close()


def test_consent_csrf_and_deny(browser: Browser, client: Any, make_user: Any) -> None:
    page = browser.login(login_page(browser, client), *make_user())
    assert 'value="allow"' in page.text and ">Allow<" in page.text and ">Deny<" in page.text
    r = browser.post(str(page.url), {"decision": "allow"})
    assert r.status_code == 403
    denied = redirect_result(browser.consent(page, allow=False))
    assert denied.params["error"] == "access_denied"
    assert_described(denied.params, "access_denied", "the user denied the request")
    assert denied.params["state"] == "state-123"


def test_consent_is_remembered_and_prompt_consent_forces_it(
    browser: Browser, client: Any, make_user: Any
) -> None:
    user = make_user()
    params, _ = auth_params(client)
    sign_in_and_consent(browser, params, user)
    again, _ = auth_params(client)
    r = browser.authorize(again)
    assert r.status_code == 303 and "code=" in r.headers["location"]
    forced, _ = auth_params(client, prompt="consent")
    page = browser.authorize(forced)
    assert page.status_code == 200 and 'value="allow"' in page.text


def test_consent_not_remembered_for_wider_scopes(
    browser: Browser, client: Any, make_user: Any
) -> None:
    user = make_user()
    params, _ = auth_params(client, scope="openid")
    sign_in_and_consent(browser, params, user)
    wider, _ = auth_params(client, scope="openid email")
    page = browser.authorize(wider)
    assert page.status_code == 200 and "email address" in page.text


def test_oidc_prompt_none_with_session_and_consent_issues_code(
    browser: Browser, client: Any, make_user: Any
) -> None:
    sign_in_and_consent(browser, auth_params(client)[0], make_user())
    params, _ = auth_params(client, prompt="none")
    assert "code" in redirect_result(browser.authorize(params)).params


def test_oidc_prompt_none_without_consent_is_consent_required(
    browser: Browser, client: Any, register_client: Any, make_user: Any
) -> None:
    sign_in_and_consent(browser, auth_params(client)[0], make_user())
    other = register_client()
    params, _ = auth_params(other, prompt="none")
    silently = redirect_result(browser.authorize(params)).params
    assert silently["error"] == "consent_required"
    assert_described(silently, "consent_required", "the user has not consented to these scopes")


def test_oidc_prompt_login_forces_sign_in_and_updates_auth_time(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    user = make_user()
    sign_in_and_consent(browser, auth_params(client)[0], user)
    params, verifier = auth_params(client, prompt="login")
    page = browser.authorize(params)
    assert 'type="password"' in page.text
    result = redirect_result(browser.login(page, *user))
    assert exchange(api, client, result.params["code"], verifier).status_code == 200


def test_oidc_max_age_zero_forces_sign_in(browser: Browser, client: Any, make_user: Any) -> None:
    user = make_user()
    sign_in_and_consent(browser, auth_params(client)[0], user)
    page = browser.authorize(auth_params(client, max_age="0")[0])
    assert 'type="password"' in page.text


def test_login_throttling_blocks_the_account_not_others(
    live: LiveServer, browser: Browser, client: Any, make_user: Any
) -> None:
    victim, password = make_user()
    page = login_page(browser, client)
    for _ in range(live.settings.login_max_failures):
        page = browser.login(page, victim, "wrong-password")
    blocked = browser.login(page, victim, password)
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text
    # Another account from the same address still signs in.
    other = Browser(live.url)
    try:
        result = sign_in_and_consent(other, auth_params(client)[0], make_user())
        assert "code" in result.params
    finally:
        other.close()


def test_disabled_user_cannot_sign_in_and_their_tokens_die(
    live: LiveServer, api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    from authgate.cli.users import set_disabled

    username, password = make_user()
    params, verifier = auth_params(client)
    result = sign_in_and_consent(browser, params, (username, password))
    token = exchange(api, client, result.params["code"], verifier).json()["access_token"]

    async def disable() -> None:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            user = await tx.users.get_by_username(username)
        assert user is not None
        await set_disabled(live.ctx, user, True)

    live.call(disable())
    assert api.get("/userinfo", headers={"authorization": f"Bearer {token}"}).status_code == 401
    other = Browser(live.url)
    try:
        page = other.login(login_page(other, client), username, password)
        assert "username or password is incorrect" in page.text
    finally:
        other.close()


def test_oidc_prompt_login_cannot_be_skipped_via_the_consent_page(
    browser: Browser, client: Any, make_user: Any
) -> None:
    user = make_user()
    sign_in_and_consent(browser, auth_params(client)[0], user)
    page = browser.authorize(auth_params(client, prompt="login")[0])
    assert 'type="password"' in page.text
    consent_url = str(page.url).replace("/login/", "/consent/")
    r = browser.get(consent_url)
    assert r.status_code == 303
    assert "/login/" in r.headers["location"]
    form = forms_of(page.text)[0]
    r = browser.post(consent_url, {"csrf_token": form["inputs"]["csrf_token"], "decision": "allow"})
    assert r.status_code == 303
    assert "/login/" in r.headers["location"]
    assert "code=" not in r.headers["location"]


def test_parallel_wrong_passwords_cannot_outrun_the_throttle(
    live: LiveServer, client: Any, make_user: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    victim, _ = make_user()
    b = Browser(live.url)
    try:
        page = login_page(b, client)
        form = forms_of(page.text)[0]
        data = dict(form["inputs"], username=victim, password="wrong-password")
        url = str(page.url)

        def attempt(_: int) -> int:
            with httpx.Client(cookies=b.http.cookies, timeout=30) as h:
                return h.post(url, data=data).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(attempt, range(16)))
    finally:
        b.close()
    assert statuses.count(200) <= live.settings.login_max_failures, statuses
    assert statuses.count(429) >= 16 - live.settings.login_max_failures


def test_password_change_ends_sessions_and_revokes_tokens(
    live: LiveServer, api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    from authgate.cli.users import change_password

    username, password = make_user()
    params, verifier = auth_params(client)
    result = sign_in_and_consent(browser, params, (username, password))
    token = exchange(api, client, result.params["code"], verifier).json()["access_token"]

    async def change() -> int:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            user = await tx.users.get_by_username(username)
        assert user is not None
        return await change_password(live.ctx, user, "a-brand-new-password")

    assert live.call(change()) == 1
    r = api.get("/userinfo", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401
    page = browser.authorize(auth_params(client)[0])
    assert 'type="password"' in page.text


def test_redirects_to_pages_are_not_cacheable(browser: Browser, client: Any) -> None:
    params, _ = auth_params(client)
    r = browser.get("/authorize", params=params)
    assert r.status_code == 303
    assert r.headers["cache-control"] == "no-store"


def test_password_hash_is_upgraded_at_sign_in_when_parameters_change(
    live: LiveServer, browser: Browser, client: Any, make_user: Any
) -> None:
    from authgate.crypto.hashing import PasswordHashing

    username, password = make_user()
    assert live.ctx is not None

    async def stored_hash() -> str:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            user = await tx.users.get_by_username(username)
        assert user is not None
        return user.password_hash

    before = live.call(stored_hash())
    real = live.ctx.passwords
    live.ctx.passwords = PasswordHashing(time_cost=2, memory_kib=8192)
    try:
        sign_in_and_consent(browser, auth_params(client)[0], (username, password))
    finally:
        live.ctx.passwords = real
    after = live.call(stored_hash())
    assert before != after
    assert "t=2" in after and "t=1" in before
