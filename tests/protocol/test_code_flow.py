"""The authorization code flow end to end through real HTTP.

Spec: RFC 6749 §4.1; RFC 7636; RFC 9207; OIDC Core §3.1.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer


def verify_id_token(api: httpx.Client, token: str, alg: str = "RS256") -> dict[str, Any]:
    jwks = KeySet.import_key_set(api.get("/jwks").json())
    decoded = jwt.decode(token, jwks, algorithms=[alg])
    return dict(decoded.claims)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none"])
def test_rfc6749_4_1_full_flow_for_each_client_type(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    register_client: Any,
    make_user: Any,
    method: str,
) -> None:
    client = register_client(token_endpoint_auth_method=method)
    user = make_user(email="alice@example.com", name="Alice Example")
    params, verifier = auth_params(client)
    result = sign_in_and_consent(browser, params, user)
    assert result.location.startswith(client["redirect_uris"][0] + "?")
    assert result.params["state"] == "state-123"
    assert result.params["iss"] == live.settings.issuer
    r = exchange(api, client, result.params["code"], verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == live.settings.access_token_ttl
    assert body["scope"] == "openid profile email"
    claims = verify_id_token(api, body["id_token"])
    assert claims["iss"] == live.settings.issuer
    assert claims["aud"] == client["client_id"]
    assert claims["azp"] == client["client_id"]
    assert claims["nonce"] == "nonce-456"
    assert {"sub", "exp", "iat", "auth_time", "at_hash"} <= claims.keys()
    info = api.get("/userinfo", headers={"authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["email"] == "alice@example.com"
    assert info.json()["email_verified"] is True
    assert info.json()["name"] == "Alice Example"
