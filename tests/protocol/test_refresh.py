"""Refresh tokens end to end: issuance policy, rotation, reuse detection, scope, binding,
lifetimes, ID token on refresh, parallel refresh.

Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2; OAuth 2.1 §4.3; OIDC Core §11, §12.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

import authgate.server.issuance as token_endpoint
from authgate.core.models import AccessToken, TokenHash
from authgate.crypto.hashing import TokenHasher
from authgate.crypto.tokens import SystemRandom
from authgate.server.access_tokens import ACCESS_TOKEN_PREFIX, IssuedAccessToken
from authgate.server.context import ServerContext
from authgate.storage.base import Transaction
from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer

OFFLINE = "openid profile offline_access"
REFRESH_TOKEN_INVALID = "the refresh token is invalid, expired or revoked"


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client(grant_types=["authorization_code", "refresh_token"])


def tokens(
    api: httpx.Client,
    browser: Browser,
    client: Any,
    user: Any,
    scope: str = OFFLINE,
    prompt: str = "consent",
) -> dict[str, Any]:
    params, verifier = auth_params(client, scope=scope, prompt=prompt)
    result = sign_in_and_consent(browser, params, user)
    r = exchange(api, client, result.params["code"], verifier)
    assert r.status_code == 200, r.text
    return dict(r.json())


def refresh(api: httpx.Client, client: Any, token: str, **extra: str) -> httpx.Response:
    return api.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
        auth=(client["client_id"], client["client_secret"]),
    )


def alive(api: httpx.Client, access_token: str) -> bool:
    r = api.get("/userinfo", headers={"authorization": f"Bearer {access_token}"})
    return r.status_code == 200


def test_oidc_11_refresh_token_needs_offline_access_and_prompt_consent(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    user = make_user()
    body = tokens(api, browser, client, user)
    assert body["refresh_token"].startswith("agrt_")
    assert "offline_access" in body["scope"].split()
    without_consent = tokens(api, browser, client, user, prompt="")
    assert "refresh_token" not in without_consent
    assert "offline_access" not in without_consent["scope"].split()
    plain = tokens(api, browser, client, user, scope="openid profile")
    assert "refresh_token" not in plain


def test_rfc6749_1_5_plain_oauth_request_gets_a_refresh_token(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    assert "refresh_token" in tokens(api, browser, client, make_user(), scope="profile")


def test_client_without_refresh_grant_gets_none(
    api: httpx.Client, browser: Browser, register_client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, register_client(), make_user())
    assert "refresh_token" not in body


def test_rfc9700_4_14_2_rotation_and_reuse_revokes_the_family(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    first = tokens(api, browser, client, make_user())
    r = refresh(api, client, first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert alive(api, second["access_token"])
    reuse = refresh(api, client, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert_described(reuse.json(), "invalid_grant", "the refresh token was already used")
    # The whole family is gone: the successor and every access token of it.
    successor = refresh(api, client, second["refresh_token"]).json()
    assert successor["error"] == "invalid_grant"
    assert_described(successor, "invalid_grant", REFRESH_TOKEN_INVALID)
    assert not alive(api, second["access_token"])
    assert not alive(api, first["access_token"])


def test_rfc6749_6_scope_narrowing_and_widening(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    wide = refresh(api, client, body["refresh_token"], scope="openid profile email")
    assert wide.status_code == 400
    assert wide.json()["error"] == "invalid_scope"
    assert_described(wide.json(), "invalid_scope", "scope exceeds the original grant: email")
    narrow = refresh(api, client, body["refresh_token"], scope="profile")
    assert narrow.status_code == 200, narrow.text  # the failed attempt did not rotate it
    assert narrow.json()["scope"] == "profile"
    assert "id_token" not in narrow.json()
    # RFC 6749 §6: the new refresh token keeps the original scope.
    full = refresh(api, client, narrow.json()["refresh_token"])
    assert set(full.json()["scope"].split()) == set(OFFLINE.split())


def test_rfc6749_10_4_refresh_token_bound_to_its_client(
    api: httpx.Client, browser: Browser, client: Any, register_client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    other = register_client(grant_types=["authorization_code", "refresh_token"])
    r = refresh(api, other, body["refresh_token"])
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)
    assert refresh(api, client, body["refresh_token"]).status_code == 200


def test_oidc_12_2_id_token_on_refresh(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    jwks = KeySet.import_key_set(api.get("/jwks").json())
    original = jwt.decode(body["id_token"], jwks).claims
    renewed = jwt.decode(
        refresh(api, client, body["refresh_token"]).json()["id_token"], jwks
    ).claims
    assert renewed["sub"] == original["sub"]
    assert renewed["aud"] == original["aud"]
    assert renewed["auth_time"] == original["auth_time"]
    assert "nonce" not in renewed
    assert "at_hash" in renewed


def test_rfc9700_parallel_refresh_has_one_winner_and_reuse_revokes(
    live: LiveServer, api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=live.url, timeout=30) as h:
            return refresh(h, client, body["refresh_token"])

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(attempt, range(10)))
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in results]
    # Strict rotation (docs/design/0006): the losers presented a rotated token, so the family,
    # the winner's successor included, is revoked.
    assert refresh(api, client, winners[0].json()["refresh_token"]).status_code == 400


class _Shifted:
    def __init__(self, real: Any, delta: timedelta) -> None:
        self.real, self.delta = real, delta

    def now(self) -> datetime:
        return self.real.now() + self.delta  # type: ignore[no-any-return]


@pytest.mark.parametrize("setting", ["refresh_token_ttl", "refresh_token_absolute_ttl"])
def test_refresh_tokens_expire(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    setting: str,
) -> None:
    body = tokens(api, browser, client, make_user())
    assert live.ctx is not None
    real = live.ctx.clock
    live.ctx.clock = _Shifted(real, timedelta(seconds=getattr(live.settings, setting) + 1))
    try:
        r = refresh(api, client, body["refresh_token"])
    finally:
        live.ctx.clock = real
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)


def test_code_replay_also_revokes_the_refresh_token(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    params, verifier = auth_params(client, scope=OFFLINE, prompt="consent")
    code = sign_in_and_consent(browser, params, make_user()).params["code"]
    body = exchange(api, client, code, verifier).json()
    assert exchange(api, client, code, verifier).status_code == 400
    assert refresh(api, client, body["refresh_token"]).status_code == 400


def test_discovery_advertises_refresh(api: httpx.Client) -> None:
    meta = api.get("/.well-known/openid-configuration").json()
    assert "refresh_token" in meta["grant_types_supported"]
    assert "offline_access" in meta["scopes_supported"]


def test_per_client_refresh_lifetimes(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    register_client: Any,
    make_user: Any,
) -> None:
    short = register_client(
        grant_types=["authorization_code", "refresh_token"],
        refresh_token_ttl=120,
        refresh_token_absolute_ttl=300,
    )
    assert short["refresh_token_ttl"] == 120
    body = tokens(api, browser, short, make_user())
    assert live.ctx is not None
    real = live.ctx.clock
    live.ctx.clock = _Shifted(real, timedelta(seconds=121))
    try:
        r = refresh(api, short, body["refresh_token"])
    finally:
        live.ctx.clock = real
    assert r.json()["error"] == "invalid_grant"
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)


@pytest.mark.parametrize(
    ("metadata", "description"),
    [
        (
            {"refresh_token_ttl": 10},
            "refresh_token_ttl must be an integer number of seconds (>= 60)",
        ),
        (
            {"refresh_token_ttl": "60"},
            "refresh_token_ttl must be an integer number of seconds (>= 60)",
        ),
        (
            {"refresh_token_ttl": 600, "refresh_token_absolute_ttl": 300},
            "refresh_token_absolute_ttl must be >= refresh_token_ttl",
        ),
    ],
)
def test_invalid_client_lifetimes_are_refused(
    api: httpx.Client, metadata: dict[str, Any], description: str
) -> None:
    from tests.conftest import REGISTRATION_TOKEN

    r = api.post(
        "/register",
        json={"redirect_uris": ["https://a.example/cb"], **metadata},
        headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_client_metadata"
    assert_described(r.json(), "invalid_client_metadata", description)


def test_a_rotated_token_is_reuse_whatever_else_it_asks(
    api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    first = tokens(api, browser, client, make_user())
    second = refresh(api, client, first["refresh_token"]).json()
    wider = refresh(api, client, first["refresh_token"], scope="openid email profile admin")
    assert wider.json()["error"] == "invalid_grant"  # not invalid_scope: reuse
    assert_described(wider.json(), "invalid_grant", "the refresh token was already used")
    assert refresh(api, client, second["refresh_token"]).status_code == 400  # family revoked


def test_rfc8707_two_resources_at_the_token_endpoint(api: httpx.Client, client: Any) -> None:
    r = api.post(
        "/token",
        content="grant_type=refresh_token&refresh_token=x&resource=urn:a&resource=urn:b",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert r.json()["error"] == "invalid_target"
    assert_described(r.json(), "invalid_target", "only one resource per request is supported")


def test_a_disabled_users_refresh_token_and_pending_code_are_refused(
    live: LiveServer, api: httpx.Client, browser: Browser, client: Any, make_user: Any
) -> None:
    """Disabling revokes access tokens at once; a refresh token or a code not yet exchanged
    dies at its next use, as the token endpoint checks the user live (RFC 6749 §10.4)."""
    from authgate.cli.users import set_disabled

    user = make_user()
    issued = tokens(api, browser, client, user)
    params, verifier = auth_params(client, scope=OFFLINE)
    code = sign_in_and_consent(browser, params, user).params["code"]  # signed in: no form

    async def disable(disabled: bool) -> None:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            found = await tx.users.get_by_username(user[0])
        assert found is not None
        await set_disabled(live.ctx, found, disabled)

    live.call(disable(True))
    r = refresh(api, client, issued["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # Disabling revoked the family at once: the token is revoked, not merely orphaned.
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)
    r = exchange(api, client, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert_described(r.json(), "invalid_grant", "the authorization is no longer valid")
    # Enabled again, the refused refresh token stays dead: its family was revoked.
    live.call(disable(False))
    r = refresh(api, client, issued["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)
    # So does the access token issued before (sealed: the user's cutoff outlives the flag).
    assert not alive(api, issued["access_token"])


def test_rfc7009_2_1_withdrawing_consent_revokes_the_grant_and_its_tokens(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    client: Any,
    register_client: Any,
    make_user: Any,
) -> None:
    """``authgate users revoke-grant``: the grant and every token under it die at once, a
    pending code cannot be exchanged, the next authorization asks for consent again; the
    user's grant to another client is left alone. Spec: RFC 7009 §2.1; RFC 6749 §10.4."""
    from authgate.cli.users import revoke_grant

    user = make_user()
    other = register_client(grant_types=["authorization_code", "refresh_token"])
    issued = tokens(api, browser, client, user)
    kept = tokens(api, browser, other, user)
    params, verifier = auth_params(client, scope=OFFLINE)
    code = sign_in_and_consent(browser, params, user).params["code"]  # consented: no page

    async def withdraw(client_id: str) -> int:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            found = await tx.users.get_by_username(user[0])
        assert found is not None
        return await revoke_grant(live.ctx, found, client_id)

    assert live.call(withdraw(client["client_id"])) == 1
    assert live.call(withdraw(client["client_id"])) == 0  # nothing left to revoke
    r = refresh(api, client, issued["refresh_token"])
    assert_described(r.json(), "invalid_grant", REFRESH_TOKEN_INVALID)
    assert not alive(api, issued["access_token"])
    r = exchange(api, client, code, verifier)
    assert_described(r.json(), "invalid_grant", "the authorization is no longer valid")
    params, _ = auth_params(client, scope="openid profile")
    assert 'value="allow"' in browser.authorize(params).text  # asked again
    assert alive(api, kept["access_token"])
    assert refresh(api, other, kept["refresh_token"]).status_code == 200


async def _access_token_row(
    ctx: ServerContext,
    tx: Transaction,
    *,
    client_id: str,
    user_id: str | None,
    grant_id: str | None,
    family_id: str | None,
    scopes: tuple[str, ...],
    now: datetime,
    **_: Any,
) -> IssuedAccessToken:
    """How access tokens were issued before they were sealed: random, stored by hash."""
    value = ctx.random.token(ACCESS_TOKEN_PREFIX)
    ttl = ctx.settings.access_token_ttl
    await tx.access_tokens.add(
        AccessToken(
            token_hash=ctx.hash_token(value),
            client_id=client_id,
            user_id=user_id,
            grant_id=grant_id,
            family_id=family_id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return IssuedAccessToken(value, ttl, scopes)


SEALED = r"agat_[A-Za-z0-9_-]{100,}"


def test_tokens_issued_before_the_time_prefix_still_work_after_the_upgrade(
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Codes, tokens and sessions made before they carried their time (``crypto/tokens.py``)
    keep their plain keyed hash, and access tokens made before they were sealed keep their
    row: a refresh token and an access token of that form still work after the upgrade, and
    reuse of the old refresh token still revokes its family, rows and sealed tokens alike."""

    def untimed(self: SystemRandom, prefix: str = "") -> str:
        return prefix + secrets.token_urlsafe(32)  # the form before the upgrade

    def plain_hmac(self: TokenHasher, token: str) -> TokenHash:
        return TokenHash(hmac.new(self.key, token.encode(), hashlib.sha256).hexdigest())

    with monkeypatch.context() as before_upgrade:
        # The server as it was: tokens without the time, stored under their plain HMAC.
        before_upgrade.setattr(SystemRandom, "token", untimed)
        before_upgrade.setattr(TokenHasher, "__call__", plain_hmac)
        before_upgrade.setattr(token_endpoint, "issue_access_token", _access_token_row)
        old = tokens(api, browser, client, make_user())
    assert re.fullmatch(r"agrt_[A-Za-z0-9_-]{43}", old["refresh_token"])
    assert re.fullmatch(r"agat_[A-Za-z0-9_-]{43}", old["access_token"])
    assert alive(api, old["access_token"])
    r = refresh(api, client, old["refresh_token"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert re.fullmatch(r"agrt_[0-9a-f]{12}\.[A-Za-z0-9_-]{43}", new["refresh_token"])
    assert re.fullmatch(SEALED, new["access_token"])
    assert alive(api, new["access_token"])
    reused = refresh(api, client, old["refresh_token"]).json()
    assert reused["error"] == "invalid_grant"
    assert_described(reused, "invalid_grant", "the refresh token was already used")
    assert not alive(api, new["access_token"])
    assert not alive(api, old["access_token"])


def test_access_tokens_stored_as_rows_before_sealing_still_work_and_can_be_revoked(
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The previous version's access tokens (``agat_<time>.<random>``, a row each) are
    still found by hash after the upgrade, and revoking one (RFC 7009) still ends it."""
    with monkeypatch.context() as before_upgrade:
        before_upgrade.setattr(token_endpoint, "issue_access_token", _access_token_row)
        old = tokens(api, browser, client, make_user())
    assert re.fullmatch(r"agat_[0-9a-f]{12}\.[A-Za-z0-9_-]{43}", old["access_token"])
    assert alive(api, old["access_token"])
    r = api.post(
        "/revoke",
        data={"token": old["access_token"], "token_type_hint": "access_token"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert r.status_code == 200
    assert not alive(api, old["access_token"])
    assert alive(api, refresh(api, client, old["refresh_token"]).json()["access_token"])
