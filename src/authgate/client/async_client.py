"""Internal: the public names are re-exported by ``authgate.client``.

The relying-party client, async, on httpx.

    client = await Client.from_issuer("https://auth.example.com", "my-app", "secret")
    url, flow = client.start_authorization("https://app.example.com/callback",
                                           scope="openid profile offline_access")
    # keep `flow` server-side (flow.to_dict()), send the user to `url`; then in the callback:
    tokens = await client.finish_authorization(str(request.url), flow)

Spec: RFC 8414 §3.3 (issuer must match), OIDC Discovery §4.3; see ``protocol`` for the rest.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack
from urllib.parse import quote_plus

import httpx

from authgate.client.errors import DiscoveryError, IdTokenError, TokenError
from authgate.client.protocol import (
    ClientCredentials,
    FlowState,
    TokenSet,
    authorization_url,
    check_callback,
    parse_token_response,
    token_request_auth,
    validate_id_token,
)
from authgate.crypto.jws import JwtError, read_header
from authgate.crypto.keys import Jwk
from authgate.resource.jwks_cache import JwksCache

__all__ = ["Client", "ProviderOptions"]


class ProviderOptions(TypedDict, total=False):
    """How ``from_issuer`` authenticates the client, besides its id and secret."""

    auth_method: str | None
    private_key: Jwk | None
    private_key_alg: str


def _bearer_error(response: httpx.Response) -> str:
    """The RFC 6750 error code of a protected-resource response (header, else body)."""
    challenge: str = response.headers.get("www-authenticate", "")
    marker = 'error="'
    if marker in challenge:
        return challenge.split(marker, 1)[1].split('"', 1)[0]
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else "invalid_token"


def _unvalidated(body: Mapping[str, Any]) -> TokenSet:
    expires_in = body.get("expires_in")
    refresh = body.get("refresh_token")
    return TokenSet(
        access_token=str(body["access_token"]),
        token_type=str(body.get("token_type", "Bearer")),
        expires_at=time.time() + expires_in if isinstance(expires_in, int | float) else None,
        scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
        refresh_token=refresh if isinstance(refresh, str) else None,
    )


def _auth(basic: tuple[str, str] | None) -> httpx.BasicAuth | httpx._client.UseClientDefault:
    """HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1), or nothing."""
    if basic is None:
        return httpx.USE_CLIENT_DEFAULT
    return httpx.BasicAuth(quote_plus(basic[0]), quote_plus(basic[1]))


class Client:
    """One registered client of one provider."""

    def __init__(
        self,
        metadata: Mapping[str, Any],
        credentials: ClientCredentials,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.metadata = dict(metadata)
        self.issuer: str = self.metadata["issuer"]
        self.credentials = credentials
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=10)
        self.jwks = JwksCache(self.metadata["jwks_uri"], http=self.http)
        algs = self.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        self.id_token_algs = frozenset(a for a in algs if isinstance(a, str))

    @classmethod
    async def from_issuer(
        cls,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        **options: Unpack[ProviderOptions],
    ) -> Client:
        """Discover the provider. The metadata's ``issuer`` must equal ``issuer`` exactly.
        ``auth_method`` defaults to ``private_key_jwt`` with a ``private_key``,
        ``client_secret_basic`` with a secret, else ``none``; ``private_key_alg`` to RS256.
        Spec: OIDC Discovery §4, §4.3; RFC 8414 §3.3."""
        auth_method = options.get("auth_method")
        private_key = options.get("private_key")
        private_key_alg = options.get("private_key_alg", "RS256")
        own = http or httpx.AsyncClient(timeout=10)
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = await own.get(url)
            response.raise_for_status()
            metadata = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            if http is None:
                await own.aclose()
            raise DiscoveryError(f"cannot read {url}: {exc}") from None
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
            if http is None:
                await own.aclose()
            raise DiscoveryError("the provider's metadata names another issuer")
        method = auth_method or (
            "private_key_jwt"
            if private_key is not None
            else "client_secret_basic"
            if client_secret
            else "none"
        )
        creds = ClientCredentials(client_id, method, client_secret, private_key, private_key_alg)
        client = cls(metadata, creds, http=own)
        client._own_http = http is None
        return client

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # -- authorization code flow ------------------------------------------------------------

    def start_authorization(
        self, redirect_uri: str, scope: str = "openid", **extra: str
    ) -> tuple[str, FlowState]:
        """The authorization URL and the ``FlowState`` to keep server-side."""
        return authorization_url(
            self.metadata["authorization_endpoint"],
            self.credentials.client_id,
            redirect_uri,
            scope,
            **extra,
        )

    async def finish_authorization(self, callback_url: str, flow: FlowState) -> TokenSet:
        """Check the callback, exchange the code, validate the ID token.
        Spec: RFC 6749 §4.1.2-§4.1.4; RFC 9207 §2.4; OIDC Core §3.1.3.7."""
        iss_required = self.metadata.get("authorization_response_iss_parameter_supported") is True
        code = check_callback(callback_url, flow, self.issuer, iss_required)
        body = await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": flow.redirect_uri,
                "code_verifier": flow.code_verifier,
            }
        )
        return await self._token_set(body, nonce=flow.nonce)

    async def refresh(self, tokens: TokenSet | str, scope: str | None = None) -> TokenSet:
        """Use a refresh token (it rotates: keep the new one). Spec: RFC 6749 §6; OIDC §12."""
        refresh_token = tokens if isinstance(tokens, str) else tokens.refresh_token
        if not refresh_token:
            raise TokenError("invalid_request", "no refresh token")
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            data["scope"] = scope
        body = await self._token(data)
        try:
            fresh = await self._token_set(body, nonce=None)
        except IdTokenError as exc:
            # The old refresh token is spent (rotation): hand the new one back with the error,
            # or the next attempt would replay the old one and revoke the whole family.
            raise IdTokenError(str(exc), token_set=_unvalidated(body)) from None
        previous = {} if isinstance(tokens, str) else dict(tokens.claims)
        if previous.get("sub") and fresh.claims and fresh.claims.get("sub") != previous["sub"]:
            raise IdTokenError(
                "the refreshed ID token is about another user", token_set=_unvalidated(body)
            )
        if not fresh.claims and previous:
            # No new ID token: keep the claims, so the next refresh can still check sub
            # (OIDC Core §12.2).
            fresh = TokenSet(**{**fresh.to_dict(), "claims": previous})
        if fresh.refresh_token is None and not isinstance(tokens, str):
            # No rotation by this provider: the old refresh token stays valid.
            fresh = TokenSet(**{**fresh.to_dict(), "refresh_token": refresh_token})
        return fresh

    async def client_credentials(self, scope: str | None = None, **extra: str) -> TokenSet:
        """A token for this client itself. Spec: RFC 6749 §4.4."""
        data = {"grant_type": "client_credentials", **extra}
        if scope:
            data["scope"] = scope
        return await self._token_set(await self._token(data), nonce=None)

    # -- other endpoints ---------------------------------------------------------------------

    async def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """Spec: RFC 7009 §2.1."""
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        await self._post_authenticated(self.metadata["revocation_endpoint"], data, json=False)

    async def introspect(self, token: str) -> dict[str, Any]:
        """Spec: RFC 7662 §2.1."""
        return await self._post_authenticated(
            self.metadata["introspection_endpoint"], {"token": token}
        )

    async def userinfo(self, access_token: str, expected_sub: str | None = None) -> dict[str, Any]:
        """The user's claims. Pass the ID token's ``sub`` as ``expected_sub``: a response
        about another user is refused (token substitution). Spec: OIDC Core §5.3, §5.3.2."""
        response = await self.http.get(
            self.metadata["userinfo_endpoint"], headers={"authorization": f"Bearer {access_token}"}
        )
        if response.status_code != 200:
            raise TokenError(
                _bearer_error(response),
                response.headers.get("www-authenticate"),
                response.status_code,
            )
        data = response.json()
        if not isinstance(data, dict):
            raise TokenError("invalid_response", "userinfo is not a JSON object")
        if expected_sub is not None and data.get("sub") != expected_sub:
            raise TokenError("invalid_response", "userinfo is about another user")
        return data

    # -- internals ---------------------------------------------------------------------------

    async def _token(self, data: dict[str, str]) -> dict[str, Any]:
        endpoint = self.metadata["token_endpoint"]
        form, basic = token_request_auth(self.credentials, data, self.issuer)
        response = await self.http.post(endpoint, data=form, auth=_auth(basic))
        try:
            body = response.json()
        except ValueError:
            body = None
        return parse_token_response(response.status_code, body)

    async def _post_authenticated(
        self, endpoint: str, data: dict[str, str], json: bool = True
    ) -> dict[str, Any]:
        form, basic = token_request_auth(self.credentials, data, self.issuer)
        response = await self.http.post(endpoint, data=form, auth=_auth(basic))
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise TokenError(
                str(body.get("error", "server_error")),
                body.get("error_description"),
                response.status_code,
            )
        return response.json() if json else {}

    async def _token_set(self, body: Mapping[str, Any], nonce: str | None) -> TokenSet:
        claims: dict[str, Any] = {}
        id_token = body.get("id_token")
        if isinstance(id_token, str):
            try:
                kid = read_header(id_token).get("kid")
            except JwtError:
                raise IdTokenError("ID token is malformed") from None
            key = await self.jwks.key(kid) if isinstance(kid, str) else None
            claims = validate_id_token(
                id_token,
                find_key=lambda _h: key,
                issuer=self.issuer,
                client_id=self.credentials.client_id,
                algorithms=self.id_token_algs,
                nonce=nonce,
                access_token=body["access_token"],
            )
        elif nonce is not None and "openid" in str(body.get("scope", "openid")).split():
            raise IdTokenError("an OpenID Connect response must include an ID token")
        expires_in = body.get("expires_in")
        return TokenSet(
            access_token=body["access_token"],
            token_type=str(body.get("token_type", "Bearer")),
            expires_at=time.time() + expires_in if isinstance(expires_in, int | float) else None,
            scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
            refresh_token=body.get("refresh_token")
            if isinstance(body.get("refresh_token"), str)
            else None,
            id_token=id_token if isinstance(id_token, str) else None,
            claims=claims,
        )
