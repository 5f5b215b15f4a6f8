"""Model builders with valid defaults for the storage contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authgate.core.models import (
    AccessToken,
    ApplicationType,
    AuthMethod,
    AuthorizationCode,
    AuthorizationRequest,
    Client,
    Grant,
    Interaction,
    RefreshToken,
    ResponseMode,
    Session,
    SigningKeyRecord,
    TokenHash,
    User,
)
from authgate.storage.sql import SqlStorage

CLIENT_ID = "client-1"
USER_ID = "user-1"
GRANT_ID = "grant-1"


def client(client_id: str = CLIENT_ID, **fields: Any) -> Client:
    values: dict[str, Any] = {
        "redirect_uris": ("https://rp.example/cb", "https://rp.example/cb2"),
        "token_endpoint_auth_method": AuthMethod.CLIENT_SECRET_BASIC,
        "grant_types": ("authorization_code", "refresh_token"),
        "secret_hash": TokenHash("ab" * 32),
        "scope": ("openid", "profile"),
        "client_name": "Relying Party ✓",
        "application_type": ApplicationType.NATIVE,
        "id_token_signed_response_alg": "ES256",
        "post_logout_redirect_uris": ("https://rp.example/bye",),
        "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]},
        "metadata": {"client_uri": "https://rp.example", "contacts": ["a@rp.example"]},
    }
    values.update(fields)
    return Client(client_id=client_id, **values)


def user(user_id: str = USER_ID, username: str = "alice", **fields: Any) -> User:
    values: dict[str, Any] = {
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "email": f"{username}@example.org",
        "email_verified": True,
        "name": "Alice Example",
        "given_name": "Alice",
        "family_name": "Example",
    }
    values.update(fields)
    return User(id=user_id, username=username, **values)


def grant(now: datetime, grant_id: str = GRANT_ID, **fields: Any) -> Grant:
    values: dict[str, Any] = {
        "user_id": USER_ID,
        "client_id": CLIENT_ID,
        "scopes": ("openid", "profile"),
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return Grant(id=grant_id, **values)


def code(now: datetime, code_hash: str = "c0de", **fields: Any) -> AuthorizationCode:
    values: dict[str, Any] = {
        "family_id": "family-1",
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "grant_id": GRANT_ID,
        "redirect_uri": "https://rp.example/cb",
        "redirect_uri_provided": True,
        "scopes": ("openid", "profile"),
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "nonce": "n-0S6_WzA2Mj",
        "auth_time": now - timedelta(minutes=1),
        "issued_at": now,
        "expires_at": now + timedelta(minutes=1),
    }
    values.update(fields)
    return AuthorizationCode(code_hash=TokenHash(code_hash), **values)


def access_token(now: datetime, token_hash: str = "70ken", **fields: Any) -> AccessToken:  # noqa: S107
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "grant_id": GRANT_ID,
        "family_id": "family-1",
        "scopes": ("openid",),
        "issued_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    values.update(fields)
    return AccessToken(token_hash=TokenHash(token_hash), **values)


def refresh_token(now: datetime, token_hash: str = "r3fr", **fields: Any) -> RefreshToken:  # noqa: S107
    values: dict[str, Any] = {
        "family_id": "family-1",
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "grant_id": GRANT_ID,
        "scopes": ("openid", "offline_access"),
        "auth_time": now,
        "issued_at": now,
        "expires_at": now + timedelta(days=14),
        "family_expires_at": now + timedelta(days=30),
    }
    values.update(fields)
    return RefreshToken(token_hash=TokenHash(token_hash), **values)


def session(now: datetime, id_hash: str = "5e55", **fields: Any) -> Session:
    values: dict[str, Any] = {
        "user_id": USER_ID,
        "auth_time": now,
        "created_at": now,
        "expires_at": now + timedelta(hours=8),
    }
    values.update(fields)
    return Session(id_hash=TokenHash(id_hash), **values)


def interaction(now: datetime, interaction_id: str = "ia-1", **fields: Any) -> Interaction:
    request = AuthorizationRequest(
        client_id=CLIENT_ID,
        redirect_uri="https://rp.example/cb",
        redirect_uri_provided=False,
        scopes=("openid", "email"),
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        state="xyz",
        nonce="abc",
        response_mode=ResponseMode.FORM_POST,
        prompt=frozenset({"login", "consent"}),
        max_age=300,
        login_hint="alice",
        ui_locales="fr-CA fr",
    )
    values: dict[str, Any] = {
        "browser_hash": TokenHash("b40w5e4"),
        "request": request,
        "created_at": now,
        "expires_at": now + timedelta(minutes=10),
    }
    values.update(fields)
    return Interaction(id=interaction_id, **values)


def signing_key(now: datetime, kid: str = "key-1", **fields: Any) -> SigningKeyRecord:
    values: dict[str, Any] = {
        "alg": "ES256",
        "private_jwk": '{"kty":"EC","crv":"P-256","d":"secret"}',
        "created_at": now,
    }
    values.update(fields)
    return SigningKeyRecord(kid=kid, **values)


@dataclass(frozen=True)
class Seed:
    client: Client
    user: User
    grant: Grant


async def seed(storage: SqlStorage, now: datetime) -> Seed:
    """Store the client, user and grant that the default codes and tokens refer to."""
    rows = Seed(client(created_at=now), user(created_at=now, updated_at=now), grant(now))
    async with storage.transaction() as tx:
        await tx.clients.add(rows.client)
        await tx.users.add(rows.user)
        await tx.grants.save(rows.grant)
        # Refresh tokens belong to a family, started before the first one is added.
        for family in ("family-1", "family-2"):
            await start_family(tx, family, now + timedelta(days=30))
    return rows


async def start_family(tx: Any, family_id: str, expires_at: datetime) -> None:
    """A token family of the seeded user, client and grant, ending at ``expires_at`` (the
    ``family_expires_at`` of its refresh tokens)."""
    await tx.refresh_tokens.start_family(
        family_id, grant_id=GRANT_ID, client_id=CLIENT_ID, user_id=USER_ID, expires_at=expires_at
    )
