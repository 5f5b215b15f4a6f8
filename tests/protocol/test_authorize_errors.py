"""Authorization endpoint errors: shown as a page when the client or redirect URI cannot be
trusted, redirected (with state and iss) otherwise.

Spec: RFC 6749 §3.1, §3.1.2.3, §4.1.2.1; RFC 9700 §4.1.3; RFC 9207 §2; OIDC Core §3.1.2.6.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params
from tests.support.flow import Browser, redirect_result
from tests.support.live import LiveServer

REDIRECT = "https://rp.example.org/cb"


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client(redirect_uris=[REDIRECT, "http://127.0.0.1:9999/cb"])


def _get(api: httpx.Client, params: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
    return api.get("/authorize?" + urlencode(params))


def assert_error_page(r: httpx.Response) -> None:
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "location" not in r.headers
    assert "Traceback" not in r.text


def test_rfc6749_4_1_2_1_unknown_client_is_a_page(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(client, client_id="no-such-client")
    assert_error_page(_get(api, params))


def test_rfc6749_4_1_2_1_missing_client_id_is_a_page(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(client, client_id="")
    assert_error_page(_get(api, params))


def test_rfc6749_3_1_repeated_client_id_is_a_page(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(client)
    pairs = [*params.items(), ("client_id", client["client_id"])]
    assert_error_page(_get(api, pairs))


def test_rfc6749_3_1_2_3_redirect_uri_required_with_several_registered(
    api: httpx.Client, client: Any
) -> None:
    params, _ = auth_params(client, redirect_uri="")
    assert_error_page(_get(api, params))


def test_rfc6749_3_1_2_3_single_registered_uri_may_be_omitted(
    api: httpx.Client, register_client: Any
) -> None:
    single = register_client(redirect_uris=[REDIRECT])
    params, _ = auth_params(single, redirect_uri="")
    r = _get(api, params)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login/")


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example.org/cb/",  # trailing slash
        "https://rp.example.org/CB",  # path case
        "https://RP.example.org/cb",  # host case (no normalisation)
        "https://rp.example.org/cb?x=1",  # extra query
        "https://rp.example.org:443/cb",  # explicit default port
        "https://rp.example.org:8443/cb",  # other port
        "http://rp.example.org/cb",  # scheme downgrade
        "https://rp.example.org/cb#frag",  # fragment
        "https://rp.example.org@evil.example/cb",  # userinfo trick
        "https://evil.example/https://rp.example.org/cb",  # prefix trick
        "https://rp.example.org.evil.example/cb",  # suffix trick
        "https://rp.example.org\\@evil.example/cb",  # backslash
        "https://rp.example.org/%63b",  # percent-encoded path
        "https://rp.example.org/cb/../cb",  # dot segments
        "http://127.0.0.1:9998/cb",  # other loopback port (web client)
        "http://localhost:9999/cb",  # loopback by name
        "https://rp.example.org/cb%00",  # encoded NUL
        " https://rp.example.org/cb",  # leading space
    ],
)
def test_rfc9700_4_1_3_redirect_uri_must_match_exactly(
    api: httpx.Client, client: Any, uri: str
) -> None:
    params, _ = auth_params(client, redirect_uri=uri)
    r = _get(api, params)
    assert_error_page(r)
    assert "evil" not in r.headers.get("location", "")


def redirected_error(r: httpx.Response) -> dict[str, str]:
    result = redirect_result(r)
    assert result.location.startswith(REDIRECT + "?")
    return result.params


@pytest.mark.parametrize(
    ("override", "error", "description"),
    [
        ({"response_type": ""}, "invalid_request", "response_type is required"),
        (
            {"response_type": "token"},
            "unsupported_response_type",
            "only response_type=code is supported",
        ),
        (
            {"response_type": "code id_token"},
            "unsupported_response_type",
            "only response_type=code is supported",
        ),
        ({"code_challenge": ""}, "invalid_request", "code_challenge is required (PKCE with S256)"),
        (
            {"code_challenge_method": "plain"},
            "invalid_request",
            "code_challenge_method must be S256",
        ),
        ({"code_challenge_method": ""}, "invalid_request", "code_challenge_method must be S256"),
        (
            {"code_challenge": "too-short"},
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
        ({"max_age": "ten"}, "invalid_request", "max_age must be a non-negative integer"),
        ({"response_mode": "fragment"}, "invalid_request", "unsupported response_mode"),
        (
            {"request": "eyJhbGciOiJub25lIn0.e30."},
            "request_not_supported",
            "request objects are not supported",
        ),
        (
            {"request_uri": "urn:example:1"},
            "request_uri_not_supported",
            "request_uri is not supported",
        ),
        (
            {"registration": "{}"},
            "registration_not_supported",
            "the registration parameter is not supported",
        ),
        (
            {"scope": "openid  profile"},
            "invalid_scope",
            "scope tokens must be separated by single spaces",
        ),
        ({"prompt": "none"}, "login_required", "the user is not signed in"),
    ],
)
def test_rfc6749_4_1_2_1_errors_redirect_with_state_and_iss(
    live: LiveServer,
    api: httpx.Client,
    client: Any,
    override: dict[str, str],
    error: str,
    description: str,
) -> None:
    params, _ = auth_params(client, redirect_uri=REDIRECT, **override)
    got = redirected_error(_get(api, params))
    assert got["error"] == error
    assert_described(got, error, description)
    assert got["state"] == "state-123"
    assert got["iss"] == live.settings.issuer


@pytest.mark.parametrize("name", ["scope", "state", "code_challenge", "response_type", "nonce"])
def test_rfc6749_3_1_repeated_parameter_is_invalid_request(
    api: httpx.Client, client: Any, name: str
) -> None:
    params, _ = auth_params(client, redirect_uri=REDIRECT)
    pairs = [*params.items(), (name, params.get(name, "x"))]
    got = redirected_error(_get(api, pairs))
    assert got["error"] == "invalid_request"
    assert_described(got, "invalid_request", f"parameter {name} is included more than once")
    if name == "state":
        assert "state" not in got  # which one would be a guess


def test_rfc6749_4_1_2_1_unauthorized_client_for_code_flow(
    api: httpx.Client, register_client: Any
) -> None:
    client = register_client(
        redirect_uris=[REDIRECT], grant_types=["client_credentials"], response_types=[]
    )
    params, _ = auth_params(client)
    r = _get(api, params)
    # A client that registered no code flow may still have a trusted redirect URI.
    assert redirected_error(r)["error"] == "unauthorized_client"
    assert_described(
        redirected_error(r),
        "unauthorized_client",
        "client is not registered for the authorization code flow",
    )


def test_form_post_response_mode_errors_are_posted(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(
        client, redirect_uri=REDIRECT, response_mode="form_post", code_challenge_method="plain"
    )
    r = _get(api, params)
    assert r.status_code == 200
    assert f'action="{REDIRECT}"' in r.text
    assert 'name="error" value="invalid_request"' in r.text
    assert 'name="error_description" value="code_challenge_method must be S256"' in r.text
    assert "nonce-" in r.headers["content-security-policy"]
    assert "form-action https://rp.example.org" in r.headers["content-security-policy"]


def test_error_description_cannot_inject_markup(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(client, client_id="<script>alert(1)</script>")
    r = _get(api, params)
    assert_error_page(r)
    assert "<script>alert(1)" not in r.text


def test_state_is_escaped_in_form_post(api: httpx.Client, client: Any) -> None:
    params, _ = auth_params(
        client,
        redirect_uri=REDIRECT,
        response_mode="form_post",
        state='"><script>alert(1)</script>',
        response_type="token",
    )
    r = _get(api, params)
    assert "<script>alert(1)" not in r.text
    assert "&#34;&gt;&lt;script&gt;" in r.text


def test_malformed_query_never_500(api: httpx.Client) -> None:
    for query in ["%", "client_id=%ff%fe", "a=%zz", "&&&=&=", "client_id=%00", "x=%C0%AF"]:
        r = api.get("/authorize?" + query)
        assert r.status_code == 400, query


def test_authorization_request_as_form_post_continues_as_get(browser: Browser, client: Any) -> None:
    params, _ = auth_params(client, redirect_uri=REDIRECT)
    r = browser.post("/authorize", params)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/authorize?")
    page = browser.follow_to_page(r)
    assert 'type="password"' in page.text


def test_form_post_authorization_cannot_inject_headers(browser: Browser, client: Any) -> None:
    params, _ = auth_params(client, redirect_uri=REDIRECT)
    body = urlencode(params) + "&x=a\r\nSet-Cookie:%20evil=1#frag"
    r = browser.http.post(
        "/authorize",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 303
    assert "evil" not in r.headers.get("set-cookie", "")
    assert "\r" not in r.headers["location"] and "\n" not in r.headers["location"]
    assert "#" not in r.headers["location"]
