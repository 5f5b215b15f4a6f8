"""Resource indicators and RFC 9068 JWT access tokens.

Spec: RFC 8707 §2, §2.1, §2.2; RFC 9068 §2, §2.1, §2.2, §4.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authgate.core.models import Resource
from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.protocol.test_lifecycle import post
from tests.protocol.test_refresh import refresh
from tests.support.flow import Browser, redirect_result
from tests.support.live import LiveServer


@pytest.fixture
def api_resource(live: LiveServer) -> Resource:
    return add_resource(live, "jwt")


def add_resource(live: LiveServer, token_format: str) -> Resource:
    resource = Resource(
        f"urn:example:api:{secrets.token_hex(4)}",
        ("api:read", "api:write"),
        token_format,
        600,
        "Notes API",
    )

    async def add() -> None:
        assert live.ctx is not None
        async with live.ctx.storage.transaction() as tx:
            await tx.resources.add(resource)

    live.call(add())
    return resource


@pytest.fixture
def client(register_client: Any) -> dict[str, Any]:
    return register_client(grant_types=["authorization_code", "refresh_token"])


def resource_tokens(
    api: httpx.Client, browser: Browser, client: Any, user: Any, resource: str, **extra: str
) -> dict[str, Any]:
    params, verifier = auth_params(
        client, scope="openid api:read offline_access", prompt="consent", resource=resource
    )
    result = sign_in_and_consent(browser, params, user)
    r = exchange(api, client, result.params["code"], verifier, **extra)
    assert r.status_code == 200, r.text
    return dict(r.json())


def decode(api: httpx.Client, token: str) -> Any:
    return jwt.decode(token, KeySet.import_key_set(api.get("/jwks").json()), algorithms=["RS256"])


def test_rfc9068_jwt_access_token_for_a_resource(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    api_resource: Resource,
    service: Any,
) -> None:
    body = resource_tokens(api, browser, client, make_user(), api_resource.identifier)
    assert body["scope"] == "api:read"
    assert body["expires_in"] == 600
    token = decode(api, body["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["kid"]
    claims = token.claims
    assert claims["iss"] == live.settings.issuer
    assert claims["aud"] == api_resource.identifier
    assert claims["client_id"] == client["client_id"]
    assert claims["scope"] == "api:read"
    assert claims["exp"] - claims["iat"] == 600
    assert {"sub", "jti", "auth_time"} <= claims.keys()
    # Not a token for UserInfo (audience), but introspection knows it.
    assert (
        api.get(
            "/userinfo", headers={"authorization": f"Bearer {body['access_token']}"}
        ).status_code
        == 401
    )
    info = post(api, "/introspect", service, token=body["access_token"]).json()
    assert info["active"] is True
    assert info["aud"] == api_resource.identifier
    # The ID token is still for the client.
    assert decode(api, body["id_token"]).claims["aud"] == client["client_id"]
    # Refreshing keeps the audience.
    renewed = refresh(api, client, body["refresh_token"]).json()
    assert decode(api, renewed["access_token"]).claims["aud"] == api_resource.identifier


@pytest.fixture
def service(register_client: Any) -> dict[str, Any]:
    return register_client(
        grant_types=["client_credentials"],
        response_types=[],
        redirect_uris=[],
        scope="api:read api:write",
    )


@pytest.mark.parametrize(
    ("resource", "description"),
    [
        ("urn:example:unknown", "the resource is not registered with this server"),
        ("https://api.example.com/#frag", "resource must be an absolute URI without a fragment"),
        ("not a uri", "resource must be an absolute URI"),
    ],
)
def test_rfc8707_2_unknown_or_malformed_resource_is_invalid_target(
    api: httpx.Client, client: Any, resource: str, description: str
) -> None:
    params, _ = auth_params(client, resource=resource)
    r = api.get("/authorize", params=params)
    result = redirect_result(r)
    assert result.params["error"] == "invalid_target"
    assert_described(result.params, "invalid_target", description)
    assert result.params["state"] == "state-123"


def test_rfc8707_2_several_resources_are_refused(
    api: httpx.Client, client: Any, api_resource: Resource
) -> None:
    params, _ = auth_params(client)
    pairs = [
        *params.items(),
        ("resource", api_resource.identifier),
        ("resource", "urn:example:other"),
    ]
    refused = redirect_result(api.get("/authorize", params=pairs)).params
    assert refused["error"] == "invalid_target"
    assert_described(refused, "invalid_target", "only one resource per request is supported")


def test_rfc8707_2_2_token_request_cannot_change_the_resource(
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    api_resource: Resource,
) -> None:
    params, verifier = auth_params(
        client, scope="openid api:read", resource=api_resource.identifier
    )
    code = sign_in_and_consent(browser, params, make_user()).params["code"]
    r = exchange(api, client, code, verifier, resource="urn:example:other")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_target"
    assert_described(r.json(), "invalid_target", "the resource was not part of this authorization")


def test_rfc9068_2_2_client_credentials_for_a_resource(
    api: httpx.Client, service: Any, api_resource: Resource
) -> None:
    r = post(
        api,
        "/token",
        service,
        grant_type="client_credentials",
        resource=api_resource.identifier,
        scope="api:write",
    )
    assert r.status_code == 200, r.text
    claims = decode(api, r.json()["access_token"]).claims
    assert claims["sub"] == service["client_id"] == claims["client_id"]
    assert claims["scope"] == "api:write"
    assert "auth_time" not in claims
    wrong = post(
        api,
        "/token",
        service,
        grant_type="client_credentials",
        resource=api_resource.identifier,
        scope="other:scope",
    )
    assert wrong.json()["error"] == "invalid_scope"
    assert_described(
        wrong.json(), "invalid_scope", "scope not allowed for this client: other:scope"
    )
    unknown = post(
        api, "/token", service, grant_type="client_credentials", resource="urn:example:nope"
    )
    assert unknown.json()["error"] == "invalid_target"
    assert_described(
        unknown.json(), "invalid_target", "the resource is not registered with this server"
    )


def test_opaque_tokens_for_a_resource_carry_the_audience(
    live: LiveServer, api: httpx.Client, service: Any
) -> None:
    opaque = add_resource(live, "opaque")
    r = post(
        api,
        "/token",
        service,
        grant_type="client_credentials",
        resource=opaque.identifier,
        scope="api:read",
    )
    token = r.json()["access_token"]
    assert token.startswith("agat_")
    info = post(api, "/introspect", service, token=token).json()
    assert info["aud"] == opaque.identifier
    assert info["active"] is True


def test_rfc8707_consent_for_one_resource_does_not_cover_another(
    live: LiveServer,
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    api_resource: Resource,
) -> None:
    other = add_resource(live, "jwt")  # same scope names, another API
    user = make_user()
    params, _ = auth_params(client, scope="openid api:read", resource=api_resource.identifier)
    sign_in_and_consent(browser, params, user)
    silent, _ = auth_params(
        client, scope="openid api:read", resource=other.identifier, prompt="none"
    )
    silently = redirect_result(browser.authorize(silent)).params
    assert silently["error"] == "consent_required"
    assert_described(silently, "consent_required", "the user has not consented to these scopes")
    page = browser.authorize(
        auth_params(client, scope="openid api:read", resource=other.identifier)[0]
    )
    assert other.identifier in page.text  # the consent page names the resource
    # The first resource's consent is still remembered.
    again, _ = auth_params(
        client, scope="openid api:read", resource=api_resource.identifier, prompt="none"
    )
    assert "code" in redirect_result(browser.authorize(again)).params


def test_oidc_5_4_id_token_carries_claims_when_the_token_is_for_a_resource(
    api: httpx.Client,
    browser: Browser,
    client: Any,
    make_user: Any,
    api_resource: Resource,
) -> None:
    params, verifier = auth_params(
        client, scope="openid profile email api:read", resource=api_resource.identifier
    )
    result = sign_in_and_consent(browser, params, make_user(name="Res User"))
    body = exchange(api, client, result.params["code"], verifier).json()
    claims = decode(api, body["id_token"]).claims
    assert claims["name"] == "Res User" and "email" in claims
    # Without a resource the claims stay in UserInfo.
    params, verifier = auth_params(client, scope="openid profile email")
    result = sign_in_and_consent(browser, params, make_user(name="Plain"))
    plain = decode(
        api, exchange(api, client, result.params["code"], verifier).json()["id_token"]
    ).claims
    assert "name" not in plain
