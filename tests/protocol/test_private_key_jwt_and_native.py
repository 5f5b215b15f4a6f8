"""private_key_jwt client authentication and native (public) clients.

Spec: RFC 7523 §2.2, §3; OIDC Core §9; RFC 8252 §7.3, §8.1; RFC 7636.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer


@pytest.fixture
def key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"}, private=True)


@pytest.fixture
def jwt_client(register_client: Any, key: ECKey) -> dict[str, Any]:
    return register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [key.as_dict(private=False)]},
    )


def assertion(live: LiveServer, client_id: str, key: ECKey, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{live.url}/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    body.update(claims)
    return jwt.encode({"alg": "ES256", "kid": "rp-key-1"}, body, key)


def redeem(
    api: httpx.Client, client: Any, code: str, verifier: str, client_assertion: str
) -> httpx.Response:
    return api.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": client["redirect_uris"][0],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        },
    )


def code_for(browser: Browser, client: Any, user: Any) -> tuple[str, str]:
    params, verifier = auth_params(client)
    return sign_in_and_consent(browser, params, user).params["code"], verifier


def test_rfc7523_private_key_jwt_flow(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    key: ECKey,
    make_user: Any,
) -> None:
    assert "client_secret" not in jwt_client
    code, verifier = code_for(browser, jwt_client, make_user())
    r = redeem(api, jwt_client, code, verifier, assertion(live, jwt_client["client_id"], key))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"aud": "https://other.example/token"}, "client_assertion aud must be the issuer"),
        ({"exp": int(time.time()) - 600}, "client_assertion exp is missing, past or too far ahead"),
        (
            {"exp": int(time.time()) + 86400},
            "client_assertion exp is missing, past or too far ahead",
        ),
        ({"jti": ""}, "client_assertion must have a jti"),
        ({"iss": "someone-else"}, "client_assertion iss and sub must both be the client_id"),
    ],
)
def test_rfc7523_3_bad_assertion_claims_are_invalid_client(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    key: ECKey,
    make_user: Any,
    claims: dict[str, Any],
    description: str,
) -> None:
    code, verifier = code_for(browser, jwt_client, make_user())
    r = redeem(
        api, jwt_client, code, verifier, assertion(live, jwt_client["client_id"], key, **claims)
    )
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert_described(r.json(), "invalid_client", description)


def test_rfc7523_3_assertion_replay_is_refused(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    key: ECKey,
    make_user: Any,
) -> None:
    user = make_user()
    one = assertion(live, jwt_client["client_id"], key)
    code, verifier = code_for(browser, jwt_client, user)
    assert redeem(api, jwt_client, code, verifier, one).status_code == 200
    code2, verifier2 = code_for(browser, jwt_client, user)
    r = redeem(api, jwt_client, code2, verifier2, one)
    assert r.status_code == 401


def test_rfc8725_assertion_signed_by_another_key_or_alg_none(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    make_user: Any,
) -> None:
    code, verifier = code_for(browser, jwt_client, make_user())
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"}, private=True)
    r = redeem(api, jwt_client, code, verifier, assertion(live, jwt_client["client_id"], stranger))
    assert r.status_code == 401
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    import base64
    import json

    payload = (
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "iss": jwt_client["client_id"],
                    "sub": jwt_client["client_id"],
                    "aud": f"{live.url}/token",
                    "exp": int(time.time()) + 60,
                    "jti": "x",
                }
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    r = redeem(api, jwt_client, code, verifier, f"{header}.{payload}.")
    assert r.status_code == 401


def test_rfc8252_7_3_native_loopback_redirect_any_port(
    api: httpx.Client, browser: Browser, register_client: Any, make_user: Any
) -> None:
    native = register_client(
        application_type="native",
        token_endpoint_auth_method="none",
        redirect_uris=["http://127.0.0.1/callback"],
    )
    params, verifier = auth_params(native, redirect_uri="http://127.0.0.1:51004/callback")
    result = sign_in_and_consent(browser, params, make_user())
    assert result.location.startswith("http://127.0.0.1:51004/callback?")
    r = api.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result.params["code"],
            "code_verifier": verifier,
            "client_id": native["client_id"],
            "redirect_uri": "http://127.0.0.1:51004/callback",
        },
    )
    assert r.status_code == 200, r.text


def test_rfc8252_native_private_use_scheme(
    register_client: Any, browser: Browser, make_user: Any
) -> None:
    native = register_client(
        application_type="native",
        token_endpoint_auth_method="none",
        redirect_uris=["com.example.app:/oauth2redirect"],
    )
    params, _ = auth_params(native)
    result = sign_in_and_consent(browser, params, make_user())
    assert result.location.startswith("com.example.app:/oauth2redirect?code=")


def test_rfc7523bis_audience_must_name_only_this_server(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    key: ECKey,
    make_user: Any,
) -> None:
    user = make_user()
    code, verifier = code_for(browser, jwt_client, user)
    injected = assertion(
        live, jwt_client["client_id"], key, aud=["https://evil.example/token", f"{live.url}/token"]
    )
    assert redeem(api, jwt_client, code, verifier, injected).status_code == 401
    as_issuer = assertion(live, jwt_client["client_id"], key, aud=live.settings.issuer)
    assert redeem(api, jwt_client, code, verifier, as_issuer).status_code == 200


@pytest.mark.parametrize("exp", [1e300, 1e18, -1e18, "soon", True])
def test_absurd_assertion_exp_is_invalid_client_not_500(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    jwt_client: Any,
    key: ECKey,
    make_user: Any,
    exp: Any,
) -> None:
    code, verifier = code_for(browser, jwt_client, make_user())
    r = redeem(
        api, jwt_client, code, verifier, assertion(live, jwt_client["client_id"], key, exp=exp)
    )
    assert r.status_code == 401, r.text


def test_symmetric_keys_are_refused_at_registration(api: httpx.Client) -> None:
    from tests.conftest import REGISTRATION_TOKEN

    r = api.post(
        "/register",
        json={
            "redirect_uris": ["https://a.example/cb"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        },
        headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert r.status_code == 400
