"""The token endpoint: authenticate the client, run the grant, answer with tokens.

One database transaction per request. Errors found after a code was consumed are *returned*
from the grant and raised after the commit, so the consumption (and any revocation a replay
triggers) is never rolled back.

Spec: RFC 6749 §3.2, §4.1.3, §4.1.4, §5.1, §5.2; RFC 7636 §4.5-§4.6; OAuth 2.1 §4.1.3;
OIDC Core §3.1.3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from authgate.core import pkce
from authgate.core.client_auth import extract_credentials
from authgate.core.errors import (
    InvalidGrant,
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from authgate.core.models import AuthorizationCode, Client, GrantType
from authgate.core.params import Params
from authgate.server.client_auth import authenticate_client, prefetch_client_keys
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.server.tokens import issue_access_token, sign_id_token, token_response
from authgate.storage.base import Replayed, Transaction

__all__ = ["token"]

GrantHandler = Callable[
    [ServerContext, Transaction, Client, Params], Awaitable[dict[str, Any] | OAuthError]
]


async def token(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Spec: RFC 6749 §3.2 (POST only, form-encoded), §5."""
    if request.method != "POST":
        raise InvalidRequest("the token endpoint accepts POST only")
    params = request.form_params()
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
        revoked = await tx.access_tokens.revoke_family(result.code.family_id, now)
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
    user = await tx.users.get(code.user_id)
    grant = await tx.grants.find(code.user_id, client.client_id)
    if user is None or user.disabled or grant is None or grant.id != code.grant_id:
        return InvalidGrant("the authorization is no longer valid")
    access = await issue_access_token(
        ctx,
        tx,
        client_id=client.client_id,
        user_id=user.id,
        grant_id=grant.id,
        family_id=code.family_id,
        scopes=code.scopes,
        now=now,
    )
    id_token = None
    if "openid" in code.scopes:
        id_token = sign_id_token(
            ctx,
            client,
            subject=user.id,
            auth_time=code.auth_time,
            nonce=code.nonce,
            access_token=access.value,
            now=now,
        )
    ctx.events.emit(
        "token.issued", client_id=client.client_id, user_id=user.id, grant_type="authorization_code"
    )
    return token_response(access, id_token)


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


GRANTS: dict[str, GrantHandler] = {
    GrantType.AUTHORIZATION_CODE.value: _authorization_code,
}
