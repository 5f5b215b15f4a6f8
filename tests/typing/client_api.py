"""The types of ``authgate.client``'s public API, pinned for mypy --strict (never run)."""

from __future__ import annotations

from typing import Any, assert_type

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authgate.client import (
    AuthorizationError,
    Client,
    ClientCredentials,
    ClientError,
    DiscoveryError,
    FlowState,
    IdTokenError,
    IssuerMismatch,
    MemoryTokenStore,
    RefreshingAuth,
    StateMismatch,
    SyncClient,
    TokenError,
    TokenSet,
    TokenStore,
)
from authgate.client.starlette import OidcAuth
from authgate.crypto.keys import Jwk


async def async_client(http: httpx.AsyncClient, key: Jwk) -> None:
    client = await Client.from_issuer(
        "https://auth.example.com",
        "app",
        "secret",
        auth_method="private_key_jwt",
        private_key=key,
        private_key_alg="ES256",
        http=http,
    )
    assert_type(client, Client)
    assert_type(client.metadata, dict[str, Any])
    assert_type(client.issuer, str)
    assert_type(client.credentials, ClientCredentials)
    url, flow = client.start_authorization("https://app/cb", scope="openid", prompt="login")
    assert_type(url, str)
    assert_type(flow, FlowState)
    tokens = await client.finish_authorization("https://app/cb?code=c", flow)
    assert_type(tokens, TokenSet)
    assert_type(await client.refresh(tokens, scope="openid"), TokenSet)
    assert_type(await client.refresh("refresh-token"), TokenSet)
    assert_type(await client.client_credentials(scope="api", resource="urn:x"), TokenSet)
    assert_type(await client.revoke("t", token_type_hint="refresh_token"), None)
    assert_type(await client.introspect("t"), dict[str, Any])
    assert_type(await client.userinfo("t", expected_sub="s"), dict[str, Any])
    assert_type(await client.aclose(), None)


def sync_client(key: Jwk) -> None:
    client = SyncClient.from_issuer(
        "https://auth.example.com",
        "app",
        None,
        auth_method="none",
        private_key=key,
        private_key_alg="RS256",
    )
    assert_type(client, SyncClient)
    assert_type(client.metadata, dict[str, Any])
    url, flow = client.start_authorization("https://app/cb", scope="openid")
    assert_type(url, str)
    tokens = client.finish_authorization("https://app/cb?code=c", flow)
    assert_type(tokens, TokenSet)
    assert_type(client.refresh(tokens, scope=None), TokenSet)
    assert_type(client.client_credentials(scope="api"), TokenSet)
    assert_type(client.revoke("t", token_type_hint=None), None)
    assert_type(client.introspect("t"), dict[str, Any])
    assert_type(client.userinfo("t", expected_sub=None), dict[str, Any])
    assert_type(client.close(), None)


async def values_and_stores(client: Client) -> None:
    flow = FlowState(state="s", nonce="n", code_verifier="v", redirect_uri="https://app/cb")
    assert_type(flow.created_at, float)
    assert_type(flow.to_dict(), dict[str, Any])
    assert_type(FlowState.from_dict({"state": "s"}), FlowState)
    tokens = TokenSet(access_token="a", token_type="Bearer", expires_at=None)
    assert_type(tokens.expired, bool)
    assert_type(tokens.refresh_token, str | None)
    assert_type(tokens.id_token, str | None)
    assert_type(tokens.scope, str | None)
    assert_type(tokens.expires_at, float | None)
    assert_type(TokenSet.from_dict(tokens.to_dict()), TokenSet)
    creds = ClientCredentials(client_id="app", method="client_secret_post", client_secret="s")
    assert_type(creds.private_key, Jwk | None)
    store: TokenStore = MemoryTokenStore()
    assert_type(await store.get("k"), TokenSet | None)
    assert_type(await store.set("k", tokens), None)
    assert_type(await store.delete("k"), None)
    auth = RefreshingAuth(client, store, "k")
    assert_type(auth, RefreshingAuth)
    as_auth: httpx.Auth = auth
    assert_type(as_auth, httpx.Auth)


def errors() -> None:
    assert_type(AuthorizationError("access_denied", "no").description, str | None)
    token_error = TokenError("invalid_grant", description="d", status=400)
    assert_type(token_error.error, str)
    assert_type(token_error.status, int)
    for cls in (DiscoveryError, StateMismatch, IssuerMismatch, IdTokenError, TokenError):
        assert issubclass(cls, ClientError)


async def starlette_integration(client: Client, request: Request) -> None:
    async def handle(request: Request, error: ClientError) -> Response:
        return Response(str(error))

    oidc = OidcAuth(
        client,
        secret_key="k",
        redirect_uri="https://app/cb",
        scope="openid",
        extra_params={"prompt": "login"},
        store=MemoryTokenStore(),
        cookie_name="rp",
        secure_cookie=True,
        error_handler=handle,
    )
    assert_type(oidc.routes(prefix="/auth"), list[Route])
    assert_type(await oidc.login(request), Response)
    assert_type(await oidc.callback(request), Response)
    assert_type(await oidc.logout(request), Response)
    assert_type(oidc.user(request), dict[str, Any] | None)
    assert_type(oidc.csrf_token(request), str)
    assert_type(oidc.http(request, timeout=5), httpx.AsyncClient)

    async def endpoint(request: Request) -> Response:
        return Response()

    guarded = oidc.require_login(endpoint)
    assert_type(await guarded(request), Response)
