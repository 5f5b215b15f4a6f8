"""The token endpoint: authenticate the client, run the grant, answer with tokens.

One database transaction per request. Errors found after a code was consumed are *returned*
from the grant and raised after the commit, so the consumption (and any revocation a replay
triggers) is never rolled back.

Spec: RFC 6749 §3.2, §4.1.3, §4.1.4, §5.1, §5.2; RFC 7636 §4.5-§4.6; OAuth 2.1 §4.1.3;
OIDC Core §3.1.3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from authgate.core import pkce
from authgate.core.claims import user_claims
from authgate.core.client_auth import extract_credentials
from authgate.core.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidTarget,
    OAuthError,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from authgate.core.models import AuthorizationCode, Client, GrantType, Resource
from authgate.core.params import Params
from authgate.core.refresh import client_credentials_scopes, issues_refresh_token, narrow_scope
from authgate.core.resource import requested_resource
from authgate.server.client_auth import authenticate_client, prefetch_client_keys
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.server.tokens import (
    issue_access_token,
    issue_refresh_token,
    revoke_code_family,
    revoke_family,
    sign_id_token,
    token_response,
)
from authgate.storage.base import Replayed, Reused, Transaction

__all__ = ["token"]

GrantHandler = Callable[
    [ServerContext, Transaction, Client, Params], Awaitable[dict[str, Any] | OAuthError]
]


async def token(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Spec: RFC 6749 §3.2 (POST only, form-encoded), §5."""
    if request.method != "POST":
        raise InvalidRequest("the token endpoint accepts POST only")
    params = request.form_params()
    if "resource" in params.repeated:
        raise InvalidTarget("only one resource per request is supported")
    params.reject_repeated()
    credentials = extract_credentials(request.headers.get("authorization"), params)
    grant_type = params.require("grant_type")
    handler = GRANTS.get(grant_type)
    await prefetch_client_keys(ctx, credentials)
    async with ctx.storage.transaction() as tx:
        client = await authenticate_client(ctx, tx, credentials)
        if handler is None:
            raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
        if not client.allows_grant(grant_type):
            raise UnauthorizedClient(f"client is not registered for {grant_type}")
        outcome = await handler(ctx, tx, client, params)
    if isinstance(outcome, OAuthError):
        raise outcome
    return JsonResponse(outcome)


async def _authorization_code(
    ctx: ServerContext, tx: Transaction, client: Client, params: Params
) -> dict[str, Any] | OAuthError:
    """Exchange a code. Spec: RFC 6749 §4.1.3, §4.1.2 (replay), §10.5; RFC 7636 §4.6."""
    code_value = params.require("code")
    verifier = params.get_one("code_verifier")
    if verifier is None:
        raise InvalidRequest("code_verifier is required (PKCE)")
    now = ctx.clock.now()
    result = await tx.codes.consume(ctx.hash_token(code_value), now)
    if result is None:
        return InvalidGrant("the authorization code is invalid or expired")
    if isinstance(result, Replayed):
        if result.code.client_id != client.client_id:
            # Another client cannot use someone's spent code to revoke their tokens.
            return InvalidGrant("the authorization code is invalid or expired")
        revoked = await revoke_code_family(tx, result.code, now)
        ctx.events.emit(
            "code.replayed",
            client_id=client.client_id,
            family=result.code.family_id,
            revoked=revoked,
        )
        return InvalidGrant("the authorization code was already used")
    code = result.code
    problem = _check_code_binding(code, client, params, verifier)
    if problem is not None:
        return problem
    if result.live_grant_id != code.grant_id:
        # The user was disabled, or the grant revoked or replaced (RFC 6749 §10.4).
        return InvalidGrant("the authorization is no longer valid")
    try:
        resource = await _bound_resource(tx, code.resource, params)
    except OAuthError as exc:
        return exc
    refresh = None
    if issues_refresh_token(client, code.scopes):
        refresh = await issue_refresh_token(
            ctx,
            tx,
            client=client,
            user_id=code.user_id,
            grant_id=code.grant_id,
            family_id=code.family_id,
            scopes=code.scopes,
            auth_time=code.auth_time,
            now=now,
            resource=code.resource,
        )
    return await _mint(
        ctx,
        tx,
        client,
        code.user_id,
        code.grant_id,
        code.family_id,
        code.scopes,
        resource,
        code.auth_time,
        code.nonce,
        now,
        refresh,
        "authorization_code",
        result.user_epoch,
    )


async def _refresh_token(
    ctx: ServerContext, tx: Transaction, client: Client, params: Params
) -> dict[str, Any] | OAuthError:
    """Rotate a refresh token: the old one dies, a successor of the same family and scope is
    issued with a new access token (narrowed if asked) and, for OpenID, a new ID token.
    Presenting a rotated token again revokes the whole family.
    Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2; OIDC Core §12.1-§12.2; OAuth 2.1 §4.3."""
    token_hash = ctx.hash_token(params.require("refresh_token"))
    # Read with the family locked (and checked not revoked), for the rotation below, and
    # with the user's live grant.
    locked = await tx.refresh_tokens.lock(token_hash)
    if locked is None or locked.token.client_id != client.client_id:
        return InvalidGrant("the refresh token is invalid, expired or revoked")
    current = locked.token
    now = ctx.clock.now()
    scopes: tuple[str, ...] = ()
    resource = None
    if current.rotated_at is None:
        # Checked before rotating, so a bad request does not cost the client its token. A
        # rotated token skips them: whatever else it asks, it is reuse (below).
        scopes = narrow_scope(params.get_one("scope"), current.scopes)
        resource = await _bound_resource(tx, current.resource, params)
    result = await tx.refresh_tokens.rotate(token_hash, client.client_id, now, locked=current)
    if isinstance(result, Reused):
        revoked = await revoke_family(tx, result.token.family_id, now)
        ctx.events.emit(
            "refresh_token.reused",
            client_id=client.client_id,
            family=result.token.family_id,
            revoked=revoked,
        )
        return InvalidGrant("the refresh token was already used")
    if result is None:
        return InvalidGrant("the refresh token is invalid, expired or revoked")
    old = result.token
    if locked.live_grant_id != old.grant_id:
        # The user was disabled, or the grant revoked or replaced: the token dies with it.
        await revoke_family(tx, old.family_id, now)
        return InvalidGrant("the authorization is no longer valid")
    refresh = await issue_refresh_token(
        ctx,
        tx,
        client=client,
        user_id=old.user_id,
        grant_id=old.grant_id,
        family_id=old.family_id,
        scopes=old.scopes,
        auth_time=old.auth_time,
        now=now,
        family_expires_at=old.family_expires_at,
        resource=old.resource,
    )
    # OIDC Core §12.2: same sub and aud, original auth_time, no nonce.
    return await _mint(
        ctx,
        tx,
        client,
        old.user_id,
        old.grant_id,
        old.family_id,
        scopes,
        resource,
        old.auth_time,
        None,
        now,
        refresh,
        "refresh_token",
        locked.user_epoch,
    )


async def _mint(
    ctx: ServerContext,
    tx: Transaction,
    client: Client,
    user_id: str,
    grant_id: str,
    family_id: str,
    scopes: tuple[str, ...],
    resource: Resource | None,
    auth_time: datetime,
    nonce: str | None,
    now: datetime,
    refresh: str | None,
    grant_type: str,
    user_epoch: int | None,
) -> dict[str, Any]:
    """The access token (for the resource, with only its scopes) and, for OpenID Connect, the
    ID token (with the user's claims when the access token cannot reach UserInfo) of a grant
    for a user. Spec: RFC 6749 §5.1; RFC 9068 §2; OIDC Core §2, §3.1.3.3, §5.4, §12.2."""
    access = await issue_access_token(
        ctx,
        tx,
        client_id=client.client_id,
        user_id=user_id,
        grant_id=grant_id,
        family_id=family_id,
        scopes=_for_resource(scopes, resource),
        now=now,
        resource=resource,
        auth_time=auth_time,
        user_epoch=user_epoch,
    )
    id_token = None
    if "openid" in scopes:
        claims = None
        if resource is not None:
            # The access token cannot reach UserInfo: the ID token carries the claims.
            user = await tx.users.get(user_id)
            if user is None:  # pragma: no cover - users are never deleted, and this one
                # was just checked in this transaction
                raise InvalidGrant("the authorization is no longer valid")
            claims = user_claims(user, scopes)
        id_token = sign_id_token(
            ctx,
            client,
            subject=user_id,
            auth_time=auth_time,
            nonce=nonce,
            access_token=access.value,
            now=now,
            user_claims=claims,
        )
    ctx.events.emit(
        "token.issued", client_id=client.client_id, user_id=user_id, grant_type=grant_type
    )
    return token_response(access, id_token, refresh)


def _check_code_binding(
    code: AuthorizationCode, client: Client, params: Params, verifier: str
) -> OAuthError | None:
    """The code must come from the client it was issued to, with the same redirect URI and
    the PKCE verifier. Spec: RFC 6749 §4.1.3; RFC 7636 §4.6; OAuth 2.1 §4.1.3."""
    if code.client_id != client.client_id:
        return InvalidGrant("the authorization code was issued to another client")
    redirect_uri = params.get_one("redirect_uri")
    if code.redirect_uri_provided and redirect_uri is None:
        return InvalidGrant("redirect_uri is required: it was sent in the authorization request")
    if redirect_uri is not None and redirect_uri != code.redirect_uri:
        return InvalidGrant("redirect_uri does not match the authorization request")
    try:
        pkce.verify(verifier, code.code_challenge)
    except OAuthError as exc:
        return exc
    return None


async def _client_credentials(
    ctx: ServerContext, tx: Transaction, client: Client, params: Params
) -> dict[str, Any] | OAuthError:
    """A token for the client itself: no user, no refresh token, no ID token.
    Spec: RFC 6749 §4.4.2, §4.4.3; OAuth 2.1 §4.2."""
    identifier = requested_resource(params)
    resource = await tx.resources.get(identifier) if identifier else None
    if identifier and resource is None:
        raise InvalidTarget("the resource is not registered with this server")
    supported = ctx.supported_scopes | frozenset(resource.scopes if resource else ())
    scopes = client_credentials_scopes(params.get_one("scope"), client, supported)
    access = await issue_access_token(
        ctx,
        tx,
        client_id=client.client_id,
        user_id=None,
        grant_id=None,
        family_id=None,
        scopes=_for_resource(scopes, resource),
        now=ctx.clock.now(),
        resource=resource,
    )
    ctx.events.emit("token.issued", client_id=client.client_id, grant_type="client_credentials")
    return token_response(access)


async def _bound_resource(tx: Transaction, bound: str | None, params: Params) -> Resource | None:
    """The resource the authorization was for. A ``resource`` in the token request must name
    that same one (RFC 8707 §2.2: a token request may not widen the audience)."""
    asked = requested_resource(params)
    if asked is not None and asked != bound:
        raise InvalidTarget("the resource was not part of this authorization")
    if bound is None:
        return None
    resource = await tx.resources.get(bound)
    if resource is None:
        raise InvalidTarget("the resource is no longer registered")
    return resource


def _for_resource(scopes: tuple[str, ...], resource: Resource | None) -> tuple[str, ...]:
    """A resource's token carries only the scopes that resource defines (RFC 9068 §2.2.3);
    OpenID Connect scopes are about this server's own APIs."""
    if resource is None:
        return scopes
    return tuple(s for s in scopes if s in resource.scopes)


GRANTS: dict[str, GrantHandler] = {
    GrantType.AUTHORIZATION_CODE.value: _authorization_code,
    GrantType.REFRESH_TOKEN.value: _refresh_token,
    GrantType.CLIENT_CREDENTIALS.value: _client_credentials,
}
