"""Access tokens: minting them (sealed opaque tokens with no row, design note 0009; RFC 9068
JWTs, stored by hash, for resources that ask for them), finding one a client presents, and
revoking one.

Spec: RFC 6749 §1.4, §5.1, §10.10; RFC 6750; RFC 7009 §2.1; RFC 7662 §2.2; RFC 8707 §2.2;
RFC 9068 §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.core.models import (
    MAX_ACCESS_TOKEN_TTL,
    AccessToken,
    Resource,
    TokenHash,
    TokenStanding,
    User,
)
from authgate.core.resource import JWT_ACCESS_TOKEN_TYPE, access_token_claims
from authgate.crypto.jws import sign_jwt
from authgate.crypto.sealed import SealedClaims
from authgate.server.context import ServerContext
from authgate.storage.base import Transaction

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "IssuedAccessToken",
    "find_access_token",
    "issue_access_token",
    "revoke_access_token",
]

ACCESS_TOKEN_PREFIX = "agat_"  # noqa: S105 - a name, not a secret
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
    claims = SealedClaims(
        client_id=client_id,
        user_id=user_id,
        grant_id=grant_id,
        family_id=family_id,
        scopes=scopes,
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl),
        audience=resource.identifier if resource is not None else None,
        user_epoch=user_epoch,
    )
    if resource is None or resource.token_format != "jwt":  # noqa: S105 - a format
        if user_id is not None and user_epoch is None:
            # It would be refused at its first use (TokenStanding.allows).
            raise ValueError("a sealed token issued to a user must carry the user's epoch")
        value = ctx.seal.seal(claims)
    else:
        value = await _jwt(ctx, tx, claims, resource, auth_time)
    return IssuedAccessToken(value, ttl, scopes)


async def _jwt(
    ctx: ServerContext,
    tx: Transaction,
    claims: SealedClaims,
    resource: Resource,
    auth_time: datetime | None,
) -> str:
    """An RFC 9068 JWT for ``resource`` with what ``claims`` say, stored by hash so that it
    can be revoked. Spec: RFC 9068 §2."""
    jwt_claims = access_token_claims(
        issuer=ctx.endpoints.issuer,
        resource=resource,
        subject=claims.user_id or claims.client_id,
        client_id=claims.client_id,
        scopes=claims.scopes,
        jti=ctx.random.identifier(),
        now=claims.issued_at,
        auth_time=auth_time,
    )
    key = ctx.keys.signing_key(ctx.settings.access_token_signing_alg)
    value = sign_jwt(jwt_claims, key, typ=JWT_ACCESS_TOKEN_TYPE)
    await tx.access_tokens.add(_record(ctx.hash_token(value), claims, None))
    return value


async def find_access_token(
    ctx: ServerContext, tx: Transaction, token: str, now: datetime, *, with_user: bool = False
) -> tuple[AccessToken | None, User | None]:
    """The access token ``token`` names (None if this server did not issue it) and, with
    ``with_user``, the user it was issued to (None for a client's own token, or a user gone;
    for UserInfo, OIDC Core §5.3).

    A sealed token is opened, then its standing (and user) read in one statement: it comes
    back with ``revoked_at`` set (so ``is_active`` is False) if it was revoked on its own, or
    its family, grant, user or client was since (``TokenStanding.allows``). Any other token
    is looked up by hash (JWT access tokens, and random ones issued before tokens were
    sealed). Spec: RFC 6749 §1.4, §4.1.2, §10.4; RFC 7009 §2.1; RFC 7662 §2.2; RFC 6750 §3.1.
    """
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
    standing, user = await tx.access_tokens.standing(
        token_hash,
        client_id=claims.client_id,
        grant_id=claims.grant_id,
        user_id=claims.user_id,
        family_id=claims.family_id,
        with_user=with_user and claims.user_id is not None,
    )
    return _sealed_record(token_hash, claims, standing, now), user


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
    return _record(token_hash, claims, None if live else now)


def _record(
    token_hash: TokenHash, claims: SealedClaims, revoked_at: datetime | None
) -> AccessToken:
    """The record of a token with these claims: a JWT's row, or a sealed token as opened."""
    return AccessToken(
        token_hash=token_hash,
        client_id=claims.client_id,
        user_id=claims.user_id,
        grant_id=claims.grant_id,
        family_id=claims.family_id,
        scopes=claims.scopes,
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        revoked_at=revoked_at,
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
