"""Minting and finding tokens: sealed opaque access tokens (no row; design note 0009), JWT
access tokens for resources that ask for them (stored by hash), and signed ID tokens.

Spec: RFC 6749 §5.1 (successful response), §10.10; RFC 6750; OIDC Core §2, §3.1.3.3,
§3.1.3.6; RFC 9700 §4.14.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authgate.core.claims import id_token_claims
from authgate.core.models import (
    MAX_ACCESS_TOKEN_TTL,
    AccessToken,
    AuthorizationCode,
    Client,
    RefreshToken,
    Resource,
    TokenHash,
    TokenStanding,
    User,
)
from authgate.core.refresh import successor_expiry
from authgate.core.resource import JWT_ACCESS_TOKEN_TYPE, access_token_claims
from authgate.core.scope import format_scope
from authgate.crypto.jws import sign_jwt
from authgate.crypto.sealed import SealedClaims
from authgate.server.context import ServerContext
from authgate.storage.base import Transaction

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "REFRESH_TOKEN_PREFIX",
    "IssuedAccessToken",
    "find_access_token",
    "find_access_token_and_user",
    "issue_access_token",
    "issue_refresh_token",
    "revoke_access_token",
    "revoke_code_family",
    "revoke_family",
    "sign_id_token",
]

ACCESS_TOKEN_PREFIX = "agat_"  # noqa: S105 - a name, not a secret
REFRESH_TOKEN_PREFIX = "agrt_"  # noqa: S105 - a name, not a secret
_LONGEST = timedelta(seconds=MAX_ACCESS_TOKEN_TTL)


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    value: str
    expires_in: int
    scopes: tuple[str, ...]


async def issue_access_token(
    ctx: ServerContext,
    tx: Transaction,
    *,
    client_id: str,
    user_id: str | None,
    grant_id: str | None,
    family_id: str | None,
    scopes: tuple[str, ...],
    now: datetime,
    resource: Resource | None = None,
    auth_time: datetime | None = None,
    user_epoch: int | None = None,
) -> IssuedAccessToken:
    """Issue an access token; return it once.

    Without a resource: an opaque token for this server's own APIs (UserInfo). For a
    registered resource: a token restricted to it, an RFC 9068 JWT (``typ: at+jwt``, signed
    with ``access_token_signing_alg``, stored by hash) or an opaque one, as the resource is
    registered. Opaque tokens are sealed (``crypto.sealed``): their claims travel inside
    them, encrypted, and nothing is written; ``find_access_token`` checks at each use that
    nothing revoked them since.
    Spec: RFC 6749 §1.4; RFC 8707 §2.2; RFC 9068 §2.
    """
    if user_id is not None and grant_id is None:
        # Revoking a user's tokens finds them through the user's grants (storage contract).
        raise ValueError("a token issued to a user must carry the grant it was issued under")
    ttl = ctx.settings.access_token_ttl if resource is None else resource.access_token_ttl
    # What revokes a sealed token is kept this long and no longer (storage purge).
    ttl = min(ttl, MAX_ACCESS_TOKEN_TTL)
    expires_at = now + timedelta(seconds=ttl)
    audience = resource.identifier if resource is not None else None
    if resource is None or resource.token_format != "jwt":  # noqa: S105 - a format
        if user_id is not None and user_epoch is None:
            # It would be refused at its first use (TokenStanding.allows).
            raise ValueError("a sealed token issued to a user must carry the user's epoch")
        value = ctx.seal.seal(
            SealedClaims(
                client_id=client_id,
                user_id=user_id,
                grant_id=grant_id,
                family_id=family_id,
                scopes=scopes,
                issued_at=now,
                expires_at=expires_at,
                audience=audience,
                user_epoch=user_epoch,
            )
        )
        return IssuedAccessToken(value, ttl, scopes)
    claims = access_token_claims(
        issuer=ctx.endpoints.issuer,
        resource=resource,
        subject=user_id or client_id,
        client_id=client_id,
        scopes=scopes,
        jti=ctx.random.identifier(),
        now=now,
        auth_time=auth_time,
    )
    key = ctx.keys.signing_key(ctx.settings.access_token_signing_alg)
    value = sign_jwt(claims, key, typ=JWT_ACCESS_TOKEN_TYPE)
    await tx.access_tokens.add(
        AccessToken(
            token_hash=ctx.hash_token(value),
            client_id=client_id,
            user_id=user_id,
            grant_id=grant_id,
            family_id=family_id,
            scopes=scopes,
            issued_at=now,
            expires_at=expires_at,
            audience=audience,
        )
    )
    return IssuedAccessToken(value, ttl, scopes)


async def find_access_token(
    ctx: ServerContext, tx: Transaction, token: str, now: datetime
) -> AccessToken | None:
    """The access token ``token`` names, or None if this server did not issue it.

    A sealed token is opened, then its standing read in one statement: it comes back with
    ``revoked_at`` set (so ``is_active`` is False) if it was revoked on its own, or its
    family, grant, user or client was since (``TokenStanding.allows``). Any other token is
    looked up by hash (JWT access tokens, and random ones issued before tokens were sealed).
    Spec: RFC 6749 §1.4, §4.1.2, §10.4; RFC 7009 §2.1; RFC 7662 §2.2; RFC 6750 §3.1.
    """
    record, _ = await _find(ctx, tx, token, now, with_user=False)
    return record


async def find_access_token_and_user(
    ctx: ServerContext, tx: Transaction, token: str, now: datetime
) -> tuple[AccessToken | None, User | None]:
    """``find_access_token`` and the user it was issued to (None for a client's own token,
    or a user gone), for UserInfo: a sealed token's user comes with its standing, in the
    same statement. Spec: OIDC Core §5.3."""
    return await _find(ctx, tx, token, now, with_user=True)


async def _find(
    ctx: ServerContext, tx: Transaction, token: str, now: datetime, *, with_user: bool
) -> tuple[AccessToken | None, User | None]:
    token_hash = ctx.hash_token(token)
    if not ctx.seal.is_sealed(token):
        record = await tx.access_tokens.get(token_hash)
        if not with_user or record is None or record.user_id is None:
            return record, None
        return record, await tx.users.get(record.user_id)
    claims = _open(ctx, token)
    if claims is None:
        return None, None
    if now >= claims.expires_at:
        return _sealed_record(token_hash, claims, None, now), None  # no need to ask
    repository, user_id = tx.access_tokens, claims.user_id
    if with_user and user_id is not None:
        standing, user = await repository.standing_with_user(
            token_hash,
            client_id=claims.client_id,
            grant_id=claims.grant_id,
            user_id=user_id,
            family_id=claims.family_id,
        )
        return _sealed_record(token_hash, claims, standing, now), user
    standing = await repository.standing(
        token_hash,
        client_id=claims.client_id,
        grant_id=claims.grant_id,
        user_id=user_id,
        family_id=claims.family_id,
    )
    return _sealed_record(token_hash, claims, standing, now), None


def _open(ctx: ServerContext, token: str) -> SealedClaims | None:
    claims = ctx.seal.open(token)
    if claims is None or claims.expires_at - claims.issued_at > _LONGEST:
        # Not ours, or (defence in depth) a lifetime this server never issues.
        return None
    return claims


def _sealed_record(
    token_hash: TokenHash, claims: SealedClaims, standing: TokenStanding | None, now: datetime
) -> AccessToken:
    """The token as a record; ``standing`` None for an expired one (inactive either way)."""
    live = standing is not None and standing.allows(
        issued_at=claims.issued_at,
        grant_id=claims.grant_id,
        user_id=claims.user_id,
        user_epoch=claims.user_epoch,
    )
    return AccessToken(
        token_hash=token_hash,
        client_id=claims.client_id,
        user_id=claims.user_id,
        grant_id=claims.grant_id,
        family_id=claims.family_id,
        scopes=claims.scopes,
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        revoked_at=None if live else now,
        audience=claims.audience,
    )


async def revoke_access_token(
    ctx: ServerContext, tx: Transaction, token: str, record: AccessToken, now: datetime
) -> bool:
    """Revoke one access token (``record``, as ``find_access_token`` returned it); True if
    it was not revoked before. Spec: RFC 7009 §2.1."""
    if ctx.seal.is_sealed(token):
        return await tx.access_tokens.revoke_sealed(record.token_hash, record.expires_at)
    return await tx.access_tokens.revoke(record.token_hash, now)


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
    *,
    client: Client,
    user_id: str,
    grant_id: str,
    family_id: str,
    scopes: tuple[str, ...],
    auth_time: datetime,
    now: datetime,
    family_expires_at: datetime | None = None,
    resource: str | None = None,
) -> str:
    """Store the hash of a new refresh token of ``family_id``; return the token once.
    A new family gets its absolute expiry here; a successor keeps its family's.
    Spec: RFC 6749 §6; RFC 9700 §4.14.2."""
    idle, absolute = refresh_lifetimes(ctx, client)
    if family_expires_at is None:
        family_expires_at = now + timedelta(seconds=absolute)
        await tx.refresh_tokens.start_family(
            family_id,
            grant_id=grant_id,
            client_id=client.client_id,
            user_id=user_id,
            expires_at=family_expires_at,
        )
    value = ctx.random.token(REFRESH_TOKEN_PREFIX)
    await tx.refresh_tokens.add(
        RefreshToken(
            token_hash=ctx.hash_token(value),
            family_id=family_id,
            client_id=client.client_id,
            user_id=user_id,
            grant_id=grant_id,
            scopes=scopes,
            auth_time=auth_time,
            issued_at=now,
            expires_at=successor_expiry(now, idle, family_expires_at),
            family_expires_at=family_expires_at,
            resource=resource,
        )
    )
    return value


async def revoke_code_family(tx: Transaction, code: AuthorizationCode, now: datetime) -> int:
    """Revoke every token a replayed code led to. Its family may have no row yet (no refresh
    token was issued): one is made, so that the sealed access tokens of the family, which
    check it at each use, find it revoked. Spec: RFC 6749 §4.1.2, §10.5."""
    await tx.refresh_tokens.start_family(
        code.family_id,
        grant_id=code.grant_id,
        client_id=code.client_id,
        user_id=code.user_id,
        # Ended: it is kept past its end as long as an access token can live (purge).
        expires_at=now,
    )
    return await revoke_family(tx, code.family_id, now)


async def revoke_family(tx: Transaction, family_id: str, now: datetime) -> int:
    """Revoke every access and refresh token descending from one authorization (a replayed
    code or a reused refresh token): sealed access tokens through the family's row, which
    they check at each use. Spec: RFC 6749 §4.1.2, §10.4; RFC 9700 §4.14.2."""
    # Refresh tokens first: that marks the family and waits for a rotation in progress, so the
    # access tokens it issued are visible to the statement after.
    refresh = await tx.refresh_tokens.revoke_family(family_id, now)
    access = await tx.access_tokens.revoke_family(family_id, now)
    return access + refresh


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
