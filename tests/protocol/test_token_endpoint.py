"""Token endpoint: code exchange rules, client authentication, errors.

Spec: RFC 6749 §2.3.1, §3.2, §4.1.3, §5.2, §10.5; RFC 7636 §4.6; OAuth 2.1 §4.1.3.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client()


@pytest.fixture
def issued(browser: Browser, client: Any, make_user: Any) -> tuple[str, str]:
    """A fresh code and its verifier."""
    params, verifier = auth_params(client)
    result = sign_in_and_consent(browser, params, make_user())
    return result.params["code"], verifier


def assert_oauth_error(r: httpx.Response, status: int, error: str, description: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["error"] == error
    assert_described(r.json(), error, description)


def test_rfc6749_4_1_2_code_is_single_use_and_replay_revokes_tokens(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    first = exchange(api, client, code, verifier)
    assert first.status_code == 200
    token = first.json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    assert api.get("/userinfo", headers=auth).status_code == 200
    assert_oauth_error(
        exchange(api, client, code, verifier),
        400,
        "invalid_grant",
        "the authorization code was already used",
    )
    # RFC 6749 §4.1.2: tokens issued from a replayed code are revoked.
    r = api.get("/userinfo", headers=auth)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_rfc7636_4_6_wrong_verifier_is_invalid_grant_and_burns_the_code(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    wrong = verifier[:-1] + ("A" if verifier[-1] != "A" else "B")
    assert_oauth_error(
        exchange(api, client, code, wrong),
        400,
        "invalid_grant",
        "code_verifier does not match the code_challenge",
    )
    assert_oauth_error(
        exchange(api, client, code, verifier),
        400,
        "invalid_grant",
        "the authorization code was already used",
    )


def test_rfc7636_pkce_downgrade_without_verifier_is_refused(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, _ = issued
    assert_oauth_error(
        exchange(api, client, code, ""), 400, "invalid_request", "code_verifier is required (PKCE)"
    )


def test_rfc6749_4_1_3_redirect_uri_must_match(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    r = exchange(api, client, code, verifier, redirect_uri="http://127.0.0.1:9999/other")
    assert_oauth_error(
        r, 400, "invalid_grant", "redirect_uri does not match the authorization request"
    )


def test_rfc6749_4_1_3_redirect_uri_required_when_sent_in_request(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    assert_oauth_error(
        exchange(api, client, code, verifier, redirect_uri=""),
        400,
        "invalid_grant",
        "redirect_uri is required: it was sent in the authorization request",
    )


def test_rfc6749_4_1_3_code_bound_to_client(
    api: httpx.Client, client: Any, issued: tuple[str, str], register_client: Any
) -> None:
    code, verifier = issued
    other = register_client()
    assert_oauth_error(
        exchange(api, other, code, verifier),
        400,
        "invalid_grant",
        "the authorization code was issued to another client",
    )


def test_rfc6749_4_1_2_code_expires(
    live: LiveServer, api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    assert live.ctx is not None
    real = live.ctx.clock

    class Later:
        def now(self) -> datetime:
            return real.now() + timedelta(seconds=live.settings.code_ttl + 1)

    live.ctx.clock = Later()
    try:
        assert_oauth_error(
            exchange(api, client, code, verifier),
            400,
            "invalid_grant",
            "the authorization code is invalid or expired",
        )
    finally:
        live.ctx.clock = real


def test_unknown_code_is_invalid_grant(api: httpx.Client, client: Any) -> None:
    assert_oauth_error(
        exchange(api, client, "not-a-code", "x" * 43),
        400,
        "invalid_grant",
        "the authorization code is invalid or expired",
    )


def test_rfc6749_5_2_wrong_secret_is_401_with_basic_challenge(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    bad = dict(client, client_secret="wrong")
    r = exchange(api, bad, code, verifier)
    assert_oauth_error(r, 401, "invalid_client", "client authentication failed")
    assert r.headers["www-authenticate"].startswith("Basic")
    # The failed authentication did not consume the code.
    assert exchange(api, client, code, verifier).status_code == 200


def test_rfc6749_2_3_registered_auth_method_is_enforced(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    as_post = dict(client, token_endpoint_auth_method="client_secret_post")
    r = exchange(api, as_post, code, verifier)
    assert_oauth_error(r, 401, "invalid_client", "client authentication failed")
    assert "www-authenticate" not in r.headers


def test_rfc6749_2_3_public_client_cannot_impersonate_confidential(
    api: httpx.Client, client: Any, issued: tuple[str, str]
) -> None:
    code, verifier = issued
    as_public = dict(client, token_endpoint_auth_method="none")
    assert_oauth_error(
        exchange(api, as_public, code, verifier),
        401,
        "invalid_client",
        "client authentication failed",
    )


def test_rfc6749_2_3_only_one_auth_method(api: httpx.Client, client: Any) -> None:
    r = api.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_secret": "y",
            "code_verifier": "z" * 43,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_oauth_error(r, 400, "invalid_request", "use exactly one client authentication method")


def test_rfc6749_5_2_unsupported_grant_type(api: httpx.Client, client: Any) -> None:
    r = api.post(
        "/token",
        data={"grant_type": "password", "username": "a", "password": "b"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_oauth_error(r, 400, "unsupported_grant_type", "grant_type password is not supported")


def test_rfc6749_5_2_grant_not_registered_is_unauthorized_client(
    api: httpx.Client, register_client: Any
) -> None:
    cc = register_client(grant_types=["client_credentials"], response_types=[])
    r = api.post(
        "/token",
        data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43},
        auth=(cc["client_id"], cc["client_secret"]),
    )
    assert_oauth_error(
        r, 400, "unauthorized_client", "client is not registered for authorization_code"
    )


def test_rfc6749_3_1_repeated_token_parameter(api: httpx.Client, client: Any) -> None:
    r = api.post(
        "/token",
        content="grant_type=authorization_code&code=a&code=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_oauth_error(r, 400, "invalid_request", "parameter code is included more than once")


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("content", "content_type", "error", "description"),
    [
        (
            b'{"grant_type": "authorization_code"}',
            "application/json",
            "invalid_request",
            f"the request body must be {FORM}",
        ),
        (b"grant_type=%ZZ", FORM, "invalid_client", "client authentication is required"),
        (b"\xff\xfe", FORM, "invalid_request", "request parameters must be URL-encoded ASCII"),
        (b"", FORM, "invalid_client", "client authentication is required"),
    ],
)
def test_malformed_token_requests_are_400(
    api: httpx.Client, content: bytes, content_type: str, error: str, description: str
) -> None:
    r = api.post("/token", content=content, headers={"content-type": content_type})
    assert r.status_code in (400, 401), r.text
    assert "error" in r.json()
    assert_described(r.json(), error, description)


def test_missing_client_authentication_is_invalid_client(api: httpx.Client) -> None:
    r = api.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    assert_oauth_error(r, 401, "invalid_client", "client authentication is required")


def test_oversized_body_is_413(api: httpx.Client) -> None:
    r = api.post(
        "/token",
        content=b"a=" + b"b" * 70000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_repeated_authorization_header_is_rejected(api: httpx.Client, client: Any) -> None:
    r = api.post(
        "/token",
        data={"grant_type": "authorization_code"},
        headers=[("authorization", "Basic eDp5"), ("authorization", "Basic eTp6")],
    )
    assert_oauth_error(r, 400, "invalid_request", "the Authorization header is repeated")


def test_get_on_token_endpoint_is_405(api: httpx.Client) -> None:
    assert api.get("/token").status_code == 405
