"""Minting what a grant issued (one :class:`~authgate.core.grants.Issuance`): the refresh
token (stored by hash), the access token (``access_tokens``), the ID token (signed), and the
token response that carries them.

Spec: RFC 6749 §5.1 (successful response), §6; OIDC Core §2, §3.1.3.3, §3.1.3.6, §5.4, §12.2;
RFC 9700 §4.14.2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from authgate.core.claims import id_token_claims, user_claims
from authgate.core.errors import InvalidGrant
from authgate.core.grants import Issuance, RefreshPlan, Refused, UserAuthorization
from authgate.core.models import Client, RefreshToken
from authgate.core.refresh import successor_expiry
from authgate.core.scope import format_scope
from authgate.crypto.jws import sign_jwt
from authgate.server.access_tokens import IssuedAccessToken, issue_access_token
from authgate.server.context import ServerContext
from authgate.storage.base import Transaction

__all__ = [
    "REFRESH_TOKEN_PREFIX",
    "issue_refresh_token",
    "mint",
    "sign_id_token",
    "token_response",
]

REFRESH_TOKEN_PREFIX = "agrt_"  # noqa: S105 - a name, not a secret


async def mint(ctx: ServerContext, tx: Transaction, issuance: Issuance) -> dict[str, Any] | Refused:
    """The token response of a successful grant: its refresh token if planned, the access
    token (for the resource, with only its scopes) and, for OpenID Connect, the ID token
    (with the user's claims when the access token cannot reach UserInfo). Never raises an
    OAuth error: it runs after a code or refresh token was consumed.
    Spec: RFC 6749 §5.1; RFC 9068 §2; OIDC Core §2, §3.1.3.3, §5.4, §12.2."""
    client, user = issuance.client, issuance.user
    refresh = None
    if user is not None and issuance.refresh is not None:
        refresh = await issue_refresh_token(ctx, tx, client, user, issuance.refresh, issuance.now)
    access = await issue_access_token(
        ctx,
        tx,
        client_id=client.client_id,
        user_id=None if user is None else user.user_id,
        grant_id=None if user is None else user.grant_id,
        family_id=None if user is None else user.family_id,
        scopes=issuance.access_scopes,
        now=issuance.now,
        resource=issuance.resource,
        auth_time=None if user is None else user.auth_time,
        user_epoch=None if user is None else user.user_epoch,
    )
    id_token = None
    if user is not None and "openid" in issuance.scopes:
        signed = await _id_token(ctx, tx, issuance, user, access.value)
        if isinstance(signed, Refused):  # pragma: no cover - users are never deleted
            return signed
        id_token = signed
    if user is None:
        ctx.events.emit("token.issued", client_id=client.client_id, grant_type=issuance.grant_type)
    else:
        ctx.events.emit(
            "token.issued",
            client_id=client.client_id,
            user_id=user.user_id,
            grant_type=issuance.grant_type,
        )
    return token_response(access, id_token, refresh)


async def _id_token(
    ctx: ServerContext, tx: Transaction, issuance: Issuance, user: UserAuthorization, access: str
) -> str | Refused:
    """The ID token of a user's issuance. Spec: OIDC Core §3.1.3.6, §5.4, §12.2."""
    claims = None
    if issuance.resource is not None:
        # The access token cannot reach UserInfo: the ID token carries the claims.
        found = await tx.users.get(user.user_id)
        if found is None:  # pragma: no cover - users are never deleted, and this one
            # was just checked in this transaction
            return Refused(InvalidGrant("the authorization is no longer valid"))
        claims = user_claims(found, issuance.scopes)
    return sign_id_token(
        ctx,
        issuance.client,
        subject=user.user_id,
        auth_time=user.auth_time,
        nonce=user.nonce,
        access_token=access,
        now=issuance.now,
        user_claims=claims,
    )


def refresh_lifetimes(ctx: ServerContext, client: Client) -> tuple[int, int]:
    """(idle, absolute) refresh token lifetimes: the client's registered ones, never longer
    than the server's. Spec: RFC 9700 §4.14.2 (lifetimes are the server's policy)."""
    s = ctx.settings
    idle = min(
        int(client.metadata.get("refresh_token_ttl", s.refresh_token_ttl)), s.refresh_token_ttl
    )
    absolute = min(
        int(client.metadata.get("refresh_token_absolute_ttl", s.refresh_token_absolute_ttl)),
        s.refresh_token_absolute_ttl,
    )
    return min(idle, absolute), absolute


async def issue_refresh_token(
    ctx: ServerContext,
    tx: Transaction,
    client: Client,
    user: UserAuthorization,
    plan: RefreshPlan,
    now: datetime,
) -> str:
    """Store the hash of a new refresh token of the user's family; return the token once.
    A new family gets its absolute expiry here; a successor keeps its family's.
    Spec: RFC 6749 §6; RFC 9700 §4.14.2."""
    idle, absolute = refresh_lifetimes(ctx, client)
    family_expires_at = plan.family_expires_at
    if family_expires_at is None:
        family_expires_at = now + timedelta(seconds=absolute)
        await tx.refresh_tokens.start_family(
            user.family_id,
            grant_id=user.grant_id,
            client_id=client.client_id,
            user_id=user.user_id,
            expires_at=family_expires_at,
        )
    value = ctx.random.token(REFRESH_TOKEN_PREFIX)
    await tx.refresh_tokens.add(
        RefreshToken(
            token_hash=ctx.hash_token(value),
            family_id=user.family_id,
            client_id=client.client_id,
            user_id=user.user_id,
            grant_id=user.grant_id,
            scopes=plan.scopes,
            auth_time=user.auth_time,
            issued_at=now,
            expires_at=successor_expiry(now, idle, family_expires_at),
            family_expires_at=family_expires_at,
            resource=plan.resource,
        )
    )
    return value


def id_token_alg(ctx: ServerContext, client: Client) -> str:
    """The client's registered algorithm, else the server default. Spec: OIDC Registration §2."""
    return client.id_token_signed_response_alg or ctx.settings.id_token_signing_alg


def sign_id_token(
    ctx: ServerContext,
    client: Client,
    *,
    subject: str,
    auth_time: datetime,
    nonce: str | None,
    access_token: str | None,
    now: datetime,
    user_claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign an ID token for ``client``; ``user_claims`` (profile, email ...) are added when the
    access token cannot fetch them from UserInfo (it is for another resource): OIDC Core §2
    lets an ID token carry other claims, §5.4 sends them there when UserInfo is out of reach.
    Spec: OIDC Core §2, §3.1.3.6, §5.4."""
    alg = id_token_alg(ctx, client)
    key = ctx.keys.signing_key(alg)
    claims = id_token_claims(
        issuer=ctx.endpoints.issuer,
        client_id=client.client_id,
        subject=subject,
        now=now,
        lifetime_seconds=ctx.settings.id_token_ttl,
        auth_time=auth_time,
        nonce=nonce,
        access_token=access_token,
        alg=alg,
    )
    for name, value in (user_claims or {}).items():
        claims.setdefault(name, value)
    return sign_jwt(claims, key)


def token_response(
    access: IssuedAccessToken, id_token: str | None = None, refresh_token: str | None = None
) -> dict[str, Any]:
    """The successful token response body. Spec: RFC 6749 §5.1; OIDC Core §3.1.3.3."""
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
    }
    if access.scopes:
        body["scope"] = format_scope(access.scopes)
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if id_token is not None:
        body["id_token"] = id_token
    return body
