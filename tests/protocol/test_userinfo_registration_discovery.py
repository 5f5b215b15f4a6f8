"""UserInfo, dynamic registration, discovery and JWKS.

Spec: OIDC Core §5.3; RFC 6750 §2-§3; RFC 7591 §3; OIDC Discovery §3-§4; RFC 8414 §3;
RFC 7517 §5.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import REGISTRATION_TOKEN
from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer


def tokens_for(
    api: httpx.Client, browser: Browser, client: Any, user: Any, scope: str = "openid profile email"
) -> dict[str, Any]:
    params, verifier = auth_params(client, scope=scope)
    result = sign_in_and_consent(browser, params, user)
    r = exchange(api, client, result.params["code"], verifier)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_oidc_5_3_userinfo_post_and_claims_by_scope(
    api: httpx.Client, browser: Browser, register_client: Any, make_user: Any
) -> None:
    tokens = tokens_for(api, browser, register_client(), make_user(), scope="openid email")
    r = api.post("/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200
    claims = r.json()
    assert "email" in claims and "name" not in claims


def test_rfc6750_3_1_no_token_is_bare_challenge(api: httpx.Client) -> None:
    r = api.get("/userinfo")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_rfc6750_3_1_invalid_token(api: httpx.Client) -> None:
    r = api.get("/userinfo", headers={"authorization": "Bearer agat_nope"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    description = "the access token is invalid, expired or revoked"
    assert_described(r.json(), "invalid_token", description)
    assert r.headers["www-authenticate"] == (
        f'Bearer realm="authgate", error="invalid_token", error_description="{description}"'
    )


def test_rfc6750_2_3_token_in_query_is_refused(api: httpx.Client) -> None:
    r = api.get("/userinfo?access_token=agat_nope")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert_described(
        r.json(), "invalid_request", "access tokens are not accepted in the query string"
    )


def test_oidc_5_3_token_without_openid_is_insufficient_scope(
    api: httpx.Client, browser: Browser, register_client: Any, make_user: Any
) -> None:
    tokens = tokens_for(api, browser, register_client(), make_user(), scope="email")
    assert "id_token" not in tokens
    r = api.get("/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    description = "the access token lacks the openid scope"
    assert_described(r.json(), "insufficient_scope", description)
    assert r.headers["www-authenticate"] == (
        'Bearer realm="authgate", error="insufficient_scope", '
        f'error_description="{description}", scope="openid"'
    )


def test_rfc7591_3_registration_response(api: httpx.Client) -> None:
    r = api.post(
        "/register",
        json={
            "redirect_uris": ["https://rp.example.org/cb"],
            "client_name": "RP",
            "scope": "openid email",
            "unknown_field": 1,
        },
        headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert r.status_code == 201
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["client_secret"].startswith("agcs_")
    assert body["client_secret_expires_at"] == 0
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert "unknown_field" not in body


@pytest.mark.parametrize(
    ("header", "description"),
    [
        (None, "an initial access token is required"),
        ("Bearer wrong", "the initial access token is invalid"),
        ("Basic abc", "an initial access token is required"),
    ],
)
def test_rfc7591_3_1_initial_access_token_required(
    api: httpx.Client, header: str | None, description: str
) -> None:
    headers = {"authorization": header} if header else {}
    r = api.post(
        "/register", json={"redirect_uris": ["https://rp.example.org/cb"]}, headers=headers
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert_described(r.json(), "invalid_token", description)


@pytest.mark.parametrize(
    ("body", "error", "description"),
    [
        (
            {"redirect_uris": ["https://rp.example.org/cb#x"]},
            "invalid_redirect_uri",
            "redirect URI must not contain a fragment",
        ),
        (
            {"redirect_uris": ["http://rp.example.org/cb"]},
            "invalid_redirect_uri",
            "http redirect URIs are only allowed on loopback hosts",
        ),
        (
            {"redirect_uris": []},
            "invalid_redirect_uri",
            "redirect_uris is required for the authorization code flow",
        ),
        (
            {"redirect_uris": "https://rp.example.org/cb"},
            "invalid_client_metadata",
            "redirect_uris must be an array of strings",
        ),
        (
            {"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]},
            "invalid_client_metadata",
            "unsupported grant type 'password'",
        ),
        (
            {
                "redirect_uris": ["https://a.example/cb"],
                "jwks_uri": "https://10.0.0.1/jwks",
                "token_endpoint_auth_method": "private_key_jwt",
            },
            "invalid_client_metadata",
            "jwks_uri must be an https URL on a public host",
        ),
        (
            {"redirect_uris": ["https://a.example/cb"], "logo_uri": "http://169.254.169.254/x"},
            "invalid_client_metadata",
            "logo_uri must be an https URL on a public host",
        ),
        (
            {"redirect_uris": ["https://a.example/cb"], "id_token_signed_response_alg": "none"},
            "invalid_client_metadata",
            "id_token_signed_response_alg must be one of ('RS256', 'ES256', 'EdDSA')",
        ),
        ([1, 2], "invalid_client_metadata", "the request body must be a JSON object"),
    ],
)
def test_rfc7591_3_2_2_invalid_metadata(
    api: httpx.Client, body: Any, error: str, description: str
) -> None:
    r = api.post("/register", json=body, headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"})
    assert r.status_code == 400
    assert r.json()["error"] == error
    assert_described(r.json(), error, description)


def test_registration_rejects_non_json(api: httpx.Client) -> None:
    r = api.post(
        "/register",
        content=b"{not json",
        headers={
            "authorization": f"Bearer {REGISTRATION_TOKEN}",
            "content-type": "application/json",
        },
    )
    assert r.status_code == 400
    assert_described(r.json(), "invalid_client_metadata", "the request body is not valid JSON")


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
)
def test_discovery_metadata(live: LiveServer, api: httpx.Client, path: str) -> None:
    meta = api.get(path).json()
    assert meta["issuer"] == live.settings.issuer
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "registration_endpoint",
    ):
        assert meta[name].startswith(live.settings.issuer)
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["response_types_supported"] == ["code"]
    assert {"RS256", "ES256", "EdDSA"} <= set(meta["id_token_signing_alg_values_supported"])


def test_jwks_has_public_keys_with_distinct_kids(api: httpx.Client) -> None:
    keys = api.get("/jwks").json()["keys"]
    assert len({k["kid"] for k in keys}) == len(keys) >= 3
    private = {"d", "p", "q", "dp", "dq", "qi"}
    assert all(not (private & k.keys()) for k in keys)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_id_token_signed_with_registered_alg(
    api: httpx.Client, browser: Browser, register_client: Any, make_user: Any, alg: str
) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    client = register_client(id_token_signed_response_alg=alg)
    tokens = tokens_for(api, browser, client, make_user())
    jwks = KeySet.import_key_set(api.get("/jwks").json())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decoded = jwt.decode(tokens["id_token"], jwks, algorithms=[alg])
    assert decoded.header["alg"] == alg
    assert decoded.claims["aud"] == client["client_id"]


def test_rfc6750_3_invalid_request_carries_a_bearer_challenge(api: httpx.Client) -> None:
    r = api.get("/userinfo?access_token=agat_nope")
    assert r.headers["www-authenticate"].startswith(
        'Bearer realm="authgate", error="invalid_request"'
    )
    r = api.post("/userinfo", data={"access_token": "a"}, headers={"authorization": "Bearer b"})
    assert r.status_code == 400
    assert 'error="invalid_request"' in r.headers["www-authenticate"]
    assert_described(r.json(), "invalid_request", "send the access token in one place only")


def test_rfc6750_3_1_missing_token_body_has_no_error_information(api: httpx.Client) -> None:
    r = api.get("/userinfo")
    assert r.json() == {}
