"""GET and POST /authorize in process: its branches through the real application. Errors
before the client and its redirect URI are trusted are pages; after, redirects to the client
with ``error``, ``error_description``, ``state`` and ``iss``, each pinned.

Spec: RFC 6749 §3.1, §3.1.2.3, §4.1.1, §4.1.2, §4.1.2.1; RFC 7636 §4.4; RFC 8707 §2;
RFC 9207 §2; RFC 9700 §4.1.3; OIDC Core §3.1.2.1, §3.1.2.6.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio

from tests.protocol.documented import assert_described, is_documented
from tests.protocol.inprocess import ISSUER, REDIRECT_URI, Server, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

Client = dict[str, Any]
OTHER_URI = "https://rp.example.org/cb"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("authorize")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> Client:
    return await server.register(redirect_uris=[REDIRECT_URI, OTHER_URI])


def assert_page(r: httpx.Response, title: str, error: str = "", description: str = "") -> None:
    """An error page: never a redirect; for an OAuth error, its code and description."""
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "location" not in r.headers
    assert f"<title>{title}</title>" in r.text
    if error:
        assert is_documented(error, description)
        assert f"<code>{error}</code> ({description})" in r.text


def redirected(r: httpx.Response, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """The parameters of a redirect to the client (RFC 9207: with ``iss``)."""
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["iss"] == ISSUER
    return params


def assert_redirected_error(r: httpx.Response, error: str, description: str) -> None:
    params = redirected(r)
    assert_described(params, error, description)
    assert params["state"] == "state-1"
    assert "code" not in params


async def get(server: Server, client: Client, **extra: str) -> httpx.Response:
    r, _ = await server.authorize(server.browser(), client, **extra)
    return r


# -- happy paths -------------------------------------------------------------------------------


async def test_a_new_browser_is_sent_to_sign_in(server: Server, client: Client) -> None:
    r = await get(server, client)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login/")


async def test_a_signed_in_consented_browser_gets_a_code(server: Server, client: Client) -> None:
    browser = server.browser()
    await server.sign_in(client, await server.user(), browser)
    r, _ = await server.authorize(browser, client, prompt="none")
    params = redirected(r)
    assert params["code"] and params["state"] == "state-1"
    r, _ = await server.authorize(browser, client, redirect_uri=OTHER_URI)
    assert redirected(r, OTHER_URI)["code"]


async def test_form_post_posts_the_code(server: Server, client: Client) -> None:
    browser = server.browser()
    await server.sign_in(client, await server.user(), browser)
    r, _ = await server.authorize(browser, client, response_mode="form_post")
    assert r.status_code == 200
    assert f'action="{REDIRECT_URI}"' in r.text
    assert 'name="code"' in r.text and 'name="state" value="state-1"' in r.text


async def test_a_post_continues_as_a_get(server: Server, client: Client) -> None:
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    r = await server.http.post("/authorize", data=params)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/authorize?")


# -- pages: the client or its redirect URI is not trusted ----------------------------------


@pytest.mark.parametrize(
    "override",
    [{"client_id": "no-such-client"}, {"client_id": ""}],
)
async def test_an_unknown_client_is_a_page(
    server: Server, client: Client, override: dict[str, str]
) -> None:
    assert_page(await get(server, client, **override), "Unknown application")


async def test_a_repeated_client_id_is_a_page(server: Server, client: Client) -> None:
    query = urlencode([("client_id", client["client_id"])] * 2 + [("response_type", "code")])
    assert_page(await server.http.get("/authorize?" + query), "Unknown application")


@pytest.mark.parametrize(
    "redirect_uri",
    ["", "https://rp.example.org/cb/", "https://evil.example/cb", REDIRECT_URI + "#x"],
)
async def test_an_untrusted_redirect_uri_is_a_page(
    server: Server, client: Client, redirect_uri: str
) -> None:
    assert_page(await get(server, client, redirect_uri=redirect_uri), "Invalid redirect address")


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("client_id=%ff%fe", "malformed request parameters"),
        ("client_id=%00", "parameter contains a NUL character"),
        ("a=" + "b" * 9000, "parameter too long"),
        ("&".join(f"p{i}=x" for i in range(101)), "malformed request parameters"),
    ],
)
async def test_an_unreadable_query_is_a_page(server: Server, query: str, description: str) -> None:
    r = await server.http.get("/authorize?" + query)
    assert_page(r, "Invalid request", "invalid_request", description)


async def test_parameters_in_query_and_form_is_a_page(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/authorize?client_id=" + client["client_id"], data={"response_type": "code"}
    )
    assert_page(
        r,
        "Invalid request",
        "invalid_request",
        "send parameters either in the query or in the form",
    )


async def test_a_post_that_is_not_a_form_is_a_page(server: Server) -> None:
    # The page channel's one answer to a body that is not a form (web/routes.py form=True).
    r = await server.http.post("/authorize", json={"client_id": "x"})
    assert_page(r, "Invalid form")
    assert "The form could not be read." in r.text


async def test_other_methods_are_405(server: Server) -> None:
    assert (await server.http.delete("/authorize")).status_code == 405


# -- redirects: the client and its redirect URI are trusted ---------------------------------


@pytest.mark.parametrize(
    ("override", "error", "description"),
    [
        ({"response_type": ""}, "invalid_request", "response_type is required"),
        (
            {"response_type": "token"},
            "unsupported_response_type",
            "only response_type=code is supported",
        ),
        ({"code_challenge": ""}, "invalid_request", "code_challenge is required (PKCE with S256)"),
        (
            {"code_challenge_method": "plain"},
            "invalid_request",
            "code_challenge_method must be S256",
        ),
        (
            {"code_challenge": "short"},
            "invalid_request",
            "code_challenge is not a valid S256 challenge",
        ),
        (
            {"prompt": "none login"},
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ),
        ({"prompt": "bogus"}, "invalid_request", "unsupported prompt value"),
        ({"max_age": "-1"}, "invalid_request", "max_age must be a non-negative integer"),
        ({"response_mode": "fragment"}, "invalid_request", "unsupported response_mode"),
        ({"state": "s" * 2049}, "invalid_request", "state is too long"),
        ({"nonce": "n" * 513}, "invalid_request", "nonce is too long"),
        ({"request": "e30.e30."}, "request_not_supported", "request objects are not supported"),
        ({"request_uri": "urn:x"}, "request_uri_not_supported", "request_uri is not supported"),
        (
            {"registration": "{}"},
            "registration_not_supported",
            "the registration parameter is not supported",
        ),
        (
            {"scope": "openid  email"},
            "invalid_scope",
            "scope tokens must be separated by single spaces",
        ),
        (
            {"scope": "openid \x7f"},
            "invalid_scope",
            "scope contains characters outside the allowed set",
        ),
        (
            {"resource": "urn:example:unknown"},
            "invalid_target",
            "the resource is not registered with this server",
        ),
        ({"resource": "not a uri"}, "invalid_target", "resource must be an absolute URI"),
        (
            {"resource": "https://api.example/#f"},
            "invalid_target",
            "resource must be an absolute URI without a fragment",
        ),
        ({"prompt": "none"}, "login_required", "the user is not signed in"),
    ],
)
async def test_errors_are_redirected(
    server: Server, client: Client, override: dict[str, str], error: str, description: str
) -> None:
    r = await get(server, client, **override)
    if override.get("state"):
        params = redirected(r)
        assert_described(params, error, description)
        assert "state" not in params or params["state"] == override["state"]
        return
    assert_redirected_error(r, error, description)


async def test_a_repeated_parameter_is_redirected(server: Server, client: Client) -> None:
    r, _ = await server.authorize(server.browser(), client)
    query = urlsplit(r.request.url.raw_path.decode()).query + "&scope=openid"
    r = await server.http.get("/authorize?" + query)
    assert_redirected_error(r, "invalid_request", "parameter scope is included more than once")


async def test_two_resources_are_redirected(server: Server, client: Client) -> None:
    r, _ = await server.authorize(server.browser(), client, resource="urn:a")
    query = urlsplit(r.request.url.raw_path.decode()).query + "&resource=urn:b"
    r = await server.http.get("/authorize?" + query)
    assert_redirected_error(r, "invalid_target", "only one resource per request is supported")


async def test_a_client_without_the_code_flow(server: Server) -> None:
    service = await server.register(grant_types=["client_credentials"], response_types=[])
    r = await get(server, service)
    assert_redirected_error(
        r, "unauthorized_client", "client is not registered for the authorization code flow"
    )


async def test_form_post_errors_are_posted(server: Server, client: Client) -> None:
    r = await get(server, client, response_mode="form_post", code_challenge_method="plain")
    assert r.status_code == 200
    assert 'name="error" value="invalid_request"' in r.text
    assert 'name="error_description" value="code_challenge_method must be S256"' in r.text


async def test_prompt_none_without_consent(server: Server, client: Client) -> None:
    browser = server.browser()
    await server.sign_in(client, await server.user(), browser)
    other = await server.register()
    r, _ = await server.authorize(browser, other, prompt="none")
    assert_redirected_error(r, "consent_required", "the user has not consented to these scopes")


async def test_prompt_none_after_max_age(server: Server, client: Client) -> None:
    browser = server.browser()
    await server.sign_in(client, await server.user(), browser)
    r, _ = await server.authorize(browser, client, prompt="none", max_age="0")
    assert_redirected_error(r, "login_required", "the user is not signed in")


async def test_deny_is_access_denied(server: Server, client: Client) -> None:
    browser = server.browser()
    user = await server.user()
    r, _ = await server.authorize(browser, client, prompt="consent")
    page = await browser.get(r.headers["location"])
    page = await server._submit(browser, page, user)  # the login form
    while page.status_code == 303:
        page = await browser.get(page.headers["location"])
    assert 'value="deny"' in page.text or ">Deny<" in page.text
    from tests.support.flow import forms_of

    form = forms_of(page.text)[0]
    data = dict(form["inputs"], decision="deny")
    r = await browser.post(str(page.url), data=data, headers={"origin": ISSUER})
    assert_redirected_error(r, "access_denied", "the user denied the request")
