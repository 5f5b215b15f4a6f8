"""Client credentials, introspection and revocation.

Spec: RFC 6749 §4.4; RFC 7662 §2; RFC 7009 §2.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.protocol.documented import assert_described
from tests.protocol.test_refresh import alive, refresh, tokens


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client(grant_types=["authorization_code", "refresh_token"])


@pytest.fixture
def service(register_client: Any) -> dict[str, Any]:
    """A machine client (and resource server) registered for client_credentials."""
    return register_client(grant_types=["client_credentials"], response_types=[], redirect_uris=[])


def post(api: httpx.Client, path: str, client: Any, **data: str) -> httpx.Response:
    return api.post(path, data=data, auth=(client["client_id"], client["client_secret"]))


def test_rfc9700_code_replay_by_another_client_revokes_nothing(
    api: httpx.Client, browser: Any, client: Any, register_client: Any, make_user: Any
) -> None:
    from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
    from tests.protocol.test_refresh import alive

    params, verifier = auth_params(client)
    code = sign_in_and_consent(browser, params, make_user()).params["code"]
    body = exchange(api, client, code, verifier).json()
    other = register_client()
    replayed = exchange(api, other, code, verifier).json()
    assert replayed["error"] == "invalid_grant"
    assert_described(replayed, "invalid_grant", "the authorization code is invalid or expired")
    assert alive(api, body["access_token"])


def test_rfc6749_4_4_client_credentials(api: httpx.Client, service: Any) -> None:
    r = post(api, "/token", service, grant_type="client_credentials")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body and "id_token" not in body and "scope" not in body
    info = post(api, "/introspect", service, token=body["access_token"]).json()
    assert info["active"] is True
    assert info["client_id"] == service["client_id"]
    assert "sub" not in info


def test_client_credentials_scopes_are_denied_by_default(
    api: httpx.Client, register_client: Any, live: Any
) -> None:
    """A client that registered no scope gets tokens without scope, nothing more."""
    plain = register_client(grant_types=["client_credentials"], response_types=[], redirect_uris=[])
    assert post(api, "/token", plain, grant_type="client_credentials").status_code == 200
    r = post(api, "/token", plain, grant_type="client_credentials", scope="api:read")
    assert r.json()["error"] == "invalid_scope"
    assert_described(r.json(), "invalid_scope", "scope not allowed for this client: api:read")


@pytest.mark.parametrize(
    ("scope", "refused"),
    [
        ("openid", "openid"),
        ("profile", "profile"),
        ("unknown-scope", "unknown-scope"),
        ("a b", "a b"),
    ],
)
def test_rfc6749_4_4_2_scopes_outside_the_clients_are_invalid(
    api: httpx.Client, service: Any, scope: str, refused: str
) -> None:
    r = post(api, "/token", service, grant_type="client_credentials", scope=scope)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"
    assert_described(r.json(), "invalid_scope", f"scope not allowed for this client: {refused}")


def test_client_credentials_needs_the_grant(api: httpx.Client, client: Any) -> None:
    r = post(api, "/token", client, grant_type="client_credentials")
    assert r.json()["error"] == "unauthorized_client"
    assert_described(
        r.json(), "unauthorized_client", "client is not registered for client_credentials"
    )


def test_rfc7662_2_2_active_access_and_refresh_tokens(
    api: httpx.Client, browser: Any, client: Any, service: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    at = post(api, "/introspect", service, token=body["access_token"])
    assert at.status_code == 200
    assert at.headers["cache-control"] == "no-store"
    info = at.json()
    assert info["active"] is True
    assert info["client_id"] == client["client_id"]
    assert info["token_type"] == "Bearer"
    assert {"scope", "sub", "exp", "iat", "iss", "aud"} <= info.keys()
    # A wrong hint is looked past (RFC 7662 §2.1).
    hinted = post(
        api, "/introspect", service, token=body["access_token"], token_type_hint="refresh_token"
    ).json()
    assert hinted["active"] is True
    # Refresh tokens are described only to the client they were issued to (RFC 7662 §4).
    assert post(api, "/introspect", service, token=body["refresh_token"]).json() == {
        "active": False
    }
    rt = post(api, "/introspect", client, token=body["refresh_token"]).json()
    assert rt["active"] is True and rt["token_type"] == "refresh_token"


@pytest.mark.parametrize("token", ["agat_unknown", "x", "agrt_unknown"])
def test_rfc7662_2_2_unknown_tokens_are_only_inactive(
    api: httpx.Client, service: Any, token: str
) -> None:
    assert post(api, "/introspect", service, token=token).json() == {"active": False}


def test_rfc7662_2_1_introspection_requires_a_confidential_client(
    api: httpx.Client, register_client: Any
) -> None:
    assert api.post("/introspect", data={"token": "x"}).status_code == 401
    public = register_client(token_endpoint_auth_method="none")
    r = api.post("/introspect", data={"token": "x", "client_id": public["client_id"]})
    assert r.status_code == 401
    bad = dict(public, client_secret="nope", client_id=public["client_id"])
    assert post(api, "/introspect", bad, token="x").status_code == 401


def test_rfc7009_revoking_a_refresh_token_revokes_its_family(
    api: httpx.Client, browser: Any, client: Any, service: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    r = post(api, "/revoke", client, token=body["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200
    assert refresh(api, client, body["refresh_token"]).status_code == 400
    assert not alive(api, body["access_token"])
    assert post(api, "/introspect", service, token=body["access_token"]).json() == {"active": False}


def test_rfc7009_revoking_an_access_token_with_a_wrong_hint(
    api: httpx.Client, browser: Any, client: Any, make_user: Any
) -> None:
    body = tokens(api, browser, client, make_user())
    r = post(api, "/revoke", client, token=body["access_token"], token_type_hint="refresh_token")
    assert r.status_code == 200
    assert not alive(api, body["access_token"])
    # Only that token: the refresh token still works.
    assert refresh(api, client, body["refresh_token"]).status_code == 200


def test_rfc7009_2_2_unknown_token_is_200_and_others_tokens_are_left_alone(
    api: httpx.Client, browser: Any, client: Any, register_client: Any, make_user: Any
) -> None:
    assert post(api, "/revoke", client, token="agrt_whatever").status_code == 200
    body = tokens(api, browser, client, make_user())
    thief = register_client()
    assert post(api, "/revoke", thief, token=body["access_token"]).status_code == 200
    assert post(api, "/revoke", thief, token=body["refresh_token"]).status_code == 200
    assert alive(api, body["access_token"])
    assert refresh(api, client, body["refresh_token"]).status_code == 200


def test_rfc7009_2_1_revocation_requires_client_authentication(api: httpx.Client) -> None:
    r = api.post("/revoke", data={"token": "x"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert_described(r.json(), "invalid_client", "client authentication is required")


def test_discovery_advertises_lifecycle_endpoints(api: httpx.Client) -> None:
    meta = api.get("/.well-known/openid-configuration").json()
    assert meta["introspection_endpoint"].endswith("/introspect")
    assert meta["revocation_endpoint"].endswith("/revoke")
    assert "client_credentials" in meta["grant_types_supported"]
    assert "none" not in meta["introspection_endpoint_auth_methods_supported"]


def test_rfc7009_a_deleted_clients_tokens_stay_dead_if_its_id_is_registered_again(
    api: httpx.Client, service: Any, register_client: Any, live: Any
) -> None:
    """Deleting a client revokes what was issued to it, and a client registered again under
    the same id does not inherit those tokens (sealed tokens check the client's row and its
    creation time at each use; design note 0009)."""
    import dataclasses

    token = post(api, "/token", service, grant_type="client_credentials").json()["access_token"]
    resource_server = register_client(
        grant_types=["client_credentials"], response_types=[], redirect_uris=[]
    )
    assert post(api, "/introspect", resource_server, token=token).json()["active"] is True

    async def delete() -> Any:
        ctx = live.ctx
        assert ctx is not None
        async with ctx.storage.transaction() as tx:
            found = await tx.clients.get(service["client_id"])
            assert found is not None
            assert await tx.clients.delete(service["client_id"])
        return found

    async def register_again(found: Any) -> None:
        ctx = live.ctx
        assert ctx is not None
        async with ctx.storage.transaction() as tx:
            await tx.clients.add(dataclasses.replace(found, created_at=ctx.clock.now()))

    found = live.call(delete())
    assert post(api, "/introspect", resource_server, token=token).json() == {"active": False}
    live.call(register_again(found))
    assert post(api, "/introspect", resource_server, token=token).json() == {"active": False}
    fresh = post(api, "/token", service, grant_type="client_credentials").json()["access_token"]
    assert post(api, "/introspect", resource_server, token=fresh).json()["active"] is True


def test_a_sealed_token_with_a_lifetime_the_server_never_issues_is_refused(
    api: httpx.Client, service: Any, register_client: Any, live: Any
) -> None:
    """Defence in depth: even a validly sealed token is refused if it claims to live longer
    than any access token does (what revokes a sealed token is kept only that long)."""
    from datetime import timedelta

    from authgate.core.models import MAX_ACCESS_TOKEN_TTL
    from authgate.crypto.sealed import SealedClaims

    assert live.ctx is not None
    now = live.ctx.clock.now()

    def sealed(lifetime: timedelta) -> str:
        claims = SealedClaims(service["client_id"], None, None, None, (), now, now + lifetime, None)
        token: str = live.ctx.seal.seal(claims)
        return token

    longest = timedelta(seconds=MAX_ACCESS_TOKEN_TTL)
    assert post(api, "/introspect", service, token=sealed(longest)).json()["active"] is True
    too_long = sealed(longest + timedelta(seconds=1))
    assert post(api, "/introspect", service, token=too_long).json() == {"active": False}
    # Expired a second ago (issued an hour before): inactive, without asking the database.
    issued = now - timedelta(hours=1)
    expired = live.ctx.seal.seal(
        SealedClaims(
            service["client_id"], None, None, None, (), issued, now - timedelta(seconds=1), None
        )
    )
    assert post(api, "/introspect", service, token=expired).json() == {"active": False}


def test_forged_and_malformed_sealed_tokens_are_unknown_everywhere(
    api: httpx.Client, service: Any
) -> None:
    """Look-alikes of the sealed form (right prefix and length, nothing this server sealed)
    are invalid tokens: 401 at UserInfo, inactive at introspection, a no-op 200 at revocation;
    never a 500. Spec: RFC 6750 §3.1; RFC 7662 §2.2; RFC 7009 §2.2."""
    import secrets

    real = post(api, "/token", service, grant_type="client_credentials").json()["access_token"]
    flipped = real[:-10] + ("A" if real[-10] != "A" else "B") + real[-9:]
    for fake in (
        "agat_" + secrets.token_urlsafe(150),
        "agat_" + "A" * 300,
        flipped,
        real + "=",
        real[:-1],
        "agat_" + "%" * 100,
    ):
        r = api.get("/userinfo", headers={"authorization": f"Bearer {fake}"})
        assert r.status_code in (400, 401), (fake, r.status_code)
        assert post(api, "/introspect", service, token=fake).json() == {"active": False}
        assert post(api, "/revoke", service, token=fake).status_code == 200
    assert post(api, "/introspect", service, token=real).json()["active"] is True
