"""Flow helpers for protocol tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.flow import AuthResult, Browser, pkce_pair, redirect_result


def auth_params(client: dict[str, Any], **extra: str) -> tuple[dict[str, str], str]:
    """Authorization request parameters with a fresh PKCE pair; returns (params, verifier)."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": "openid profile email",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}, verifier


def sign_in_and_consent(
    browser: Browser, params: dict[str, str], user: tuple[str, str], consent: bool = True
) -> AuthResult:
    """Run the front channel to the final redirect (login if asked, consent if asked)."""
    page = browser.authorize(params)
    if page.status_code == 200 and 'type="password"' in page.text:
        page = browser.login(page, *user)
    if page.status_code == 200 and 'value="allow"' in page.text:
        page = browser.consent(page, allow=consent)
    return redirect_result(page)


def exchange(
    api: httpx.Client, client: dict[str, Any], code: str, verifier: str, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client["redirect_uris"][0],
        "code_verifier": verifier,
    }
    data.update(extra)
    data = {k: v for k, v in data.items() if v != ""}
    method = client.get("token_endpoint_auth_method", "client_secret_basic")
    if method == "client_secret_basic":
        return api.post("/token", data=data, auth=(client["client_id"], client["client_secret"]))
    if method == "client_secret_post":
        data.update(client_id=client["client_id"], client_secret=client["client_secret"])
        return api.post("/token", data=data)
    data["client_id"] = client["client_id"]
    return api.post("/token", data=data)
