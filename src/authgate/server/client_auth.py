"""Authenticating clients at the token, introspection and revocation endpoints, and the
client-authenticated POST that all three begin with.

The method used must be the one the client registered; secrets are compared as keyed hashes
in constant time; ``private_key_jwt`` assertions are verified against the client's keys with an
asymmetric-only algorithm allow-list, and their ``jti`` is accepted once.

Spec: RFC 6749 §2.3, §3.2.1, §5.2; RFC 7521 §4.2; RFC 7523 §2.2, §3; OIDC Core §9;
RFC 8725 §3.1.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from authgate.core.client_auth import ClientCredentials, extract_credentials
from authgate.core.errors import InvalidClient
from authgate.core.models import AuthMethod, Client
from authgate.core.params import Params
from authgate.crypto.jws import JwtError, read_claims_unverified, read_header, verify_jwt
from authgate.crypto.keys import Jwk
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest
from authgate.server.remote_jwks import RemoteJwksError, RemoteJwksFetcher
from authgate.storage.base import Transaction

__all__ = [
    "ASSERTION_ALGS",
    "ClientRequest",
    "authenticate_client",
    "prefetch_client_keys",
    "read_client_request",
]

ASSERTION_ALGS = frozenset({"RS256", "PS256", "ES256", "ES384", "EdDSA"})
_MAX_ASSERTION_LIFETIME = timedelta(minutes=10)
_fetcher = RemoteJwksFetcher()


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A client-authenticated POST: its parameters, the credentials it presented, and the
    value of the one parameter its endpoint requires."""

    params: Params
    credentials: ClientCredentials
    required: str


async def read_client_request(
    ctx: ServerContext,
    request: HttpRequest,
    required: str,
    *,
    first: Callable[[Params], None] | None = None,
) -> ClientRequest:
    """The form (``first`` checks it before repeated parameters are refused), the client's
    credentials, the ``required`` parameter, and the client's keys fetched before the
    endpoint's transaction opens. Spec: RFC 6749 §2.3, §3.1, §3.2; RFC 7009 §2.1;
    RFC 7662 §2.1."""
    params = request.form_params()
    if first is not None:
        first(params)
    params.reject_repeated()
    credentials = extract_credentials(request.headers.get("authorization"), params)
    value = params.require(required)
    await prefetch_client_keys(ctx, credentials)
    return ClientRequest(params, credentials, value)


async def authenticate_client(
    ctx: ServerContext, tx: Transaction, creds: ClientCredentials
) -> Client:
    """Return the authenticated client or raise ``invalid_client``. Spec: RFC 6749 §2.3."""
    basic = creds.method is AuthMethod.CLIENT_SECRET_BASIC
    client_id = creds.client_id
    claims: dict[str, Any] = {}
    if creds.method is AuthMethod.PRIVATE_KEY_JWT:
        claims = _assertion_claims(creds)
        client_id = claims["sub"]
    client = await tx.clients.get(client_id) if client_id else None
    if client is None:
        raise InvalidClient("client authentication failed", basic=basic, debug="unknown client")
    if creds.method is not client.token_endpoint_auth_method:
        # The same answer as for an unknown client: no hint that the client_id exists.
        raise InvalidClient(
            "client authentication failed",
            basic=basic,
            debug=f"expected {client.token_endpoint_auth_method.value}",
        )
    if creds.method in (AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST):
        presented = ctx.hash_token(creds.secret or "")
        if client.secret_hash is None or not hmac.compare_digest(presented, client.secret_hash):
            raise InvalidClient("client authentication failed", basic=basic)
    elif creds.method is AuthMethod.PRIVATE_KEY_JWT:
        await _verify_assertion(ctx, tx, client, creds.assertion or "", claims)
    return client


async def prefetch_client_keys(ctx: ServerContext, creds: ClientCredentials) -> None:
    """Fetch a ``private_key_jwt`` client's ``jwks_uri`` *before* the token request opens its
    database transaction, so a slow or failing key server never holds a connection."""
    if creds.method is not AuthMethod.PRIVATE_KEY_JWT:
        return
    try:
        client_id = _assertion_claims(creds)["sub"]
    except InvalidClient:
        return  # authenticate_client reports it
    async with ctx.storage.transaction() as tx:
        client = await tx.clients.get(client_id)
    if client is None or client.jwks_uri is None:
        return
    cached = _fetcher.cached(client.jwks_uri)
    kid = _header_kid(creds.assertion or "")
    if cached is not None and (kid is None or _has_kid(cached, kid)):
        return
    try:
        # Unknown kid: the client may have rotated its keys (refetch at most once a minute).
        await _fetcher.get(client.jwks_uri, refresh=cached is not None)
    except RemoteJwksError:
        return  # remembered by the fetcher; authenticate_client reports it


def _header_kid(assertion: str) -> str | None:
    try:
        kid = read_header(assertion).get("kid")
    except JwtError:
        return None
    return kid if isinstance(kid, str) else None


def _has_kid(jwks: dict[str, Any], kid: str) -> bool:
    return any(isinstance(k, dict) and k.get("kid") == kid for k in jwks.get("keys", []))


def _assertion_claims(creds: ClientCredentials) -> dict[str, Any]:
    """Who the assertion claims to be; checked again after signature verification."""
    try:
        claims = read_claims_unverified(creds.assertion or "")
    except JwtError:
        raise InvalidClient("client_assertion is malformed") from None
    sub, iss = claims.get("sub"), claims.get("iss")
    if not isinstance(sub, str) or not sub or sub != iss:
        raise InvalidClient("client_assertion iss and sub must both be the client_id")
    if creds.client_id and creds.client_id != sub:
        raise InvalidClient("client_id does not match the client_assertion")
    return claims


def _client_keys(client: Client) -> list[Jwk]:
    """The client's keys: inline, or the ``jwks_uri`` set prefetched before the transaction."""
    if client.jwks is not None:
        raw = client.jwks.get("keys", [])
    elif client.jwks_uri is not None:
        cached = _fetcher.cached(client.jwks_uri)
        if cached is None:
            raise InvalidClient("the client's jwks_uri could not be used")
        raw = cached.get("keys", [])
    else:
        raw = []
    keys: list[Jwk] = []
    for entry in raw:
        try:
            keys.append(JWKRegistry.import_key(entry))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return keys


def _pick(keys: list[Jwk], header: Mapping[str, Any]) -> Jwk | None:
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.kid == kid]
    return candidates[0] if len(candidates) == 1 or (candidates and kid) else None


def _check_audience(ctx: ServerContext, aud: Any) -> None:
    """``aud`` must name this server alone: the issuer (preferred) or the token endpoint, as
    a string or a one-element list. A list with other audiences could be a token minted for
    another server (the 2025 audience-injection issue; draft-ietf-oauth-rfc7523bis).
    Spec: RFC 7523 §3 (3); OIDC Core §9."""
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if aud not in (ctx.endpoints.issuer, ctx.endpoints.token):
        raise InvalidClient("client_assertion aud must be the issuer")


async def _verify_assertion(
    ctx: ServerContext, tx: Transaction, client: Client, assertion: str, unverified: dict[str, Any]
) -> None:
    """Spec: RFC 7523 §3 (iss, sub, aud, exp, jti), OIDC Core §9 (aud = token endpoint)."""
    # Only cached keys here: any fetch happened in prefetch_client_keys, before the
    # transaction, so a slow key server never holds the database.
    keys = _client_keys(client)
    try:
        _, claims = verify_jwt(assertion, lambda h: _pick(keys, h), ASSERTION_ALGS)
    except JwtError as exc:
        raise InvalidClient("client_assertion signature is invalid", debug=str(exc)) from None
    if claims.get("sub") != unverified.get("sub") or claims.get("iss") != client.client_id:
        raise InvalidClient("client_assertion iss and sub must both be the client_id")
    _check_audience(ctx, claims.get("aud"))
    now = ctx.clock.now()
    exp = claims.get("exp")
    now_ts = now.timestamp()
    if (
        not isinstance(exp, int | float)
        or isinstance(exp, bool)
        or not now_ts - 30 < exp <= now_ts + _MAX_ASSERTION_LIFETIME.total_seconds()
    ):
        raise InvalidClient("client_assertion exp is missing, past or too far ahead")
    expires = datetime.fromtimestamp(exp, UTC)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise InvalidClient("client_assertion must have a jti")
    # The throttle counter doubles as a replay cache: the first use counts 1 for this jti.
    window = expires - now + timedelta(seconds=60)
    if await tx.throttle.hit(f"jti:{client.client_id}:{jti}", now, window) > 1:
        raise InvalidClient("client_assertion was already used")
