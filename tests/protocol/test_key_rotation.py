"""Key rotation with tokens in flight: announce, switch, keep the retired key published.

Spec: OIDC Core §10.1.1; RFC 7517 §5.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from authgate.server.keys import load_keys, rotate_keys
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer


def id_token(api: httpx.Client, browser: Browser, client: Any, user: Any) -> str:
    params, verifier = auth_params(client)
    code = sign_in_and_consent(browser, params, user).params["code"]
    return str(exchange(api, client, code, verifier).json()["id_token"])


def rotate_and_reload(live: LiveServer, announce: timedelta) -> str:
    """What `authgate keys rotate` and each process's reload loop do."""

    async def run() -> str:
        ctx = live.ctx
        assert ctx is not None
        now = ctx.clock.now()
        records = await rotate_keys(ctx.storage, ctx.key_encryptor, ("RS256",), now, announce)
        ctx.keys = await load_keys(ctx.settings, ctx.storage, ctx.key_encryptor, now)
        return records[0].kid

    return live.call(run())


def kids(api: httpx.Client) -> set[str]:
    return {k["kid"] for k in api.get("/jwks").json()["keys"]}


def test_oidc_10_1_1_rotation_with_tokens_in_flight(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    register_client: Any,
    make_user: Any,
) -> None:
    client = register_client()
    user = make_user()
    before = id_token(api, browser, client, user)
    old_kid = jwt.decode(before, KeySet.import_key_set(api.get("/jwks").json())).header["kid"]

    # Announced: published at once, not signing yet.
    announced = rotate_and_reload(live, timedelta(hours=1))
    assert {old_kid, announced} <= kids(api)
    during = id_token(api, browser, client, user)
    assert (
        jwt.decode(during, KeySet.import_key_set(api.get("/jwks").json())).header["kid"] == old_kid
    )

    # Immediate: the new key signs, the old one stays published for tokens in flight.
    switched = rotate_and_reload(live, timedelta(0))
    after = id_token(api, browser, client, user)
    jwks = KeySet.import_key_set(api.get("/jwks").json())
    assert jwt.decode(after, jwks).header["kid"] == switched
    assert jwt.decode(before, jwks).header["kid"] == old_kid  # still verifies
    assert old_kid in kids(api)
