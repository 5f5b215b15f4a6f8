"""Rows to frozen model dataclasses and back, written out by hand.

Explicit field lists are fast (no reflection on the request path) and make a model change that
the schema does not follow fail loudly in the contract suite rather than lose a field.
"""

from __future__ import annotations

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
    Resource,
    Session,
    SigningKeyRecord,
    TokenHash,
    User,
)

__all__ = [
    "GRANT_COLUMNS",
    "access_token_from_row",
    "access_token_values",
    "client_from_row",
    "client_values",
    "code_from_row",
    "code_values",
    "grant_from_row",
    "grant_values",
    "interaction_from_row",
    "interaction_values",
    "key_from_row",
    "key_values",
    "refresh_token_from_row",
    "resource_from_row",
    "resource_values",
    "refresh_token_values",
    "session_from_user_row",
    "session_values",
    "user_from_row",
    "user_values",
]

Values = dict[str, Any]
DbRow = Any
"""A row read by column name: SQLAlchemy's ``Row`` or the direct executor's named tuple."""


def client_values(client: Client) -> Values:
    return {
        "client_id": client.client_id,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.value,
        "grant_types": client.grant_types,
        "response_types": client.response_types,
        "secret_hash": client.secret_hash,
        "scope": client.scope,
        "client_name": client.client_name,
        "application_type": client.application_type.value,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri,
        "metadata": client.metadata,
        "created_at": client.created_at,
    }


def client_from_row(row: DbRow) -> Client:
    return Client(
        client_id=row.client_id,
        redirect_uris=row.redirect_uris,
        token_endpoint_auth_method=AuthMethod(row.token_endpoint_auth_method),
        grant_types=row.grant_types,
        response_types=row.response_types,
        secret_hash=None if row.secret_hash is None else TokenHash(row.secret_hash),
        scope=row.scope,
        client_name=row.client_name,
        application_type=ApplicationType(row.application_type),
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        post_logout_redirect_uris=row.post_logout_redirect_uris,
        jwks=row.jwks,
        jwks_uri=row.jwks_uri,
        metadata=row.metadata,
        created_at=row.created_at,
    )


def user_values(user: User) -> Values:
    return {
        "id": user.id,
        "username": user.username,
        "password_hash": user.password_hash,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def user_from_row(row: DbRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        email=row.email,
        email_verified=bool(row.email_verified),
        name=row.name,
        given_name=row.given_name,
        family_name=row.family_name,
        disabled=bool(row.disabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def grant_values(grant: Grant) -> Values:
    return {
        "id": grant.id,
        "user_id": grant.user_id,
        "client_id": grant.client_id,
        "scopes": grant.scopes,
        "created_at": grant.created_at,
        "updated_at": grant.updated_at,
        "revoked_at": grant.revoked_at,
    }


GRANT_COLUMNS = ("id", "user_id", "client_id", "scopes", "created_at", "updated_at", "revoked_at")
"""The names a row read from ``grants`` holds a grant under."""


def grant_from_row(row: DbRow, columns: tuple[str, ...] = GRANT_COLUMNS) -> Grant:
    """The grant in ``row``, read under ``columns`` (in ``GRANT_COLUMNS``'s order): its own
    names, or the prefixed ones of a statement that joins it to other tables."""
    id_, user_id, client_id, scopes, created_at, updated_at, revoked_at = (
        getattr(row, name) for name in columns
    )
    return Grant(
        id=id_,
        user_id=user_id,
        client_id=client_id,
        scopes=scopes,
        created_at=created_at,
        updated_at=updated_at,
        revoked_at=revoked_at,
    )


def code_values(code: AuthorizationCode) -> Values:
    return {
        "code_hash": code.code_hash,
        "family_id": code.family_id,
        "client_id": code.client_id,
        "user_id": code.user_id,
        "grant_id": code.grant_id,
        "redirect_uri": code.redirect_uri,
        "redirect_uri_provided": code.redirect_uri_provided,
        "scopes": code.scopes,
        "code_challenge": code.code_challenge,
        "nonce": code.nonce,
        "auth_time": code.auth_time,
        "issued_at": code.issued_at,
        "expires_at": code.expires_at,
        "consumed_at": code.consumed_at,
        "resource": code.resource,
    }


def code_from_row(row: DbRow) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=TokenHash(row.code_hash),
        family_id=row.family_id,
        client_id=row.client_id,
        user_id=row.user_id,
        grant_id=row.grant_id,
        redirect_uri=row.redirect_uri,
        redirect_uri_provided=bool(row.redirect_uri_provided),
        scopes=row.scopes,
        code_challenge=row.code_challenge,
        nonce=row.nonce,
        auth_time=row.auth_time,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
        resource=row.resource,
    )


def access_token_values(token: AccessToken) -> Values:
    return {
        "token_hash": token.token_hash,
        "client_id": token.client_id,
        "user_id": token.user_id,
        "grant_id": token.grant_id,
        "family_id": token.family_id,
        "scopes": token.scopes,
        "issued_at": token.issued_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "audience": token.audience,
    }


def access_token_from_row(row: DbRow) -> AccessToken:
    return AccessToken(
        token_hash=TokenHash(row.token_hash),
        client_id=row.client_id,
        user_id=row.user_id,
        grant_id=row.grant_id,
        family_id=row.family_id,
        scopes=row.scopes,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        audience=row.audience,
    )


def refresh_token_values(token: RefreshToken) -> Values:
    return {
        "token_hash": token.token_hash,
        "family_id": token.family_id,
        "client_id": token.client_id,
        "user_id": token.user_id,
        "grant_id": token.grant_id,
        "scopes": token.scopes,
        "auth_time": token.auth_time,
        "issued_at": token.issued_at,
        "expires_at": token.expires_at,
        "family_expires_at": token.family_expires_at,
        "rotated_at": token.rotated_at,
        "revoked_at": token.revoked_at,
        "resource": token.resource,
    }


def refresh_token_from_row(row: DbRow) -> RefreshToken:
    return RefreshToken(
        token_hash=TokenHash(row.token_hash),
        family_id=row.family_id,
        client_id=row.client_id,
        user_id=row.user_id,
        grant_id=row.grant_id,
        scopes=row.scopes,
        auth_time=row.auth_time,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        family_expires_at=row.family_expires_at,
        rotated_at=row.rotated_at,
        revoked_at=row.revoked_at,
        resource=row.resource,
    )


def session_values(session: Session) -> Values:
    return {
        "id_hash": session.id_hash,
        "user_id": session.user_id,
        "auth_time": session.auth_time,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
    }


def session_from_user_row(row: DbRow) -> Session:
    """The session of a row read with its user's columns: the user's id is ``id``, and the
    session's own times are ``session_created_at`` and ``session_expires_at`` (names the
    user's columns do not take)."""
    return Session(
        id_hash=TokenHash(row.id_hash),
        user_id=row.id,
        auth_time=row.auth_time,
        created_at=row.session_created_at,
        expires_at=row.session_expires_at,
    )


def interaction_values(interaction: Interaction) -> Values:
    return {
        "id": interaction.id,
        "browser_hash": interaction.browser_hash,
        "request": interaction.request.to_json(),
        "created_at": interaction.created_at,
        "expires_at": interaction.expires_at,
    }


def interaction_from_row(row: DbRow) -> Interaction:
    return Interaction(
        id=row.id,
        browser_hash=TokenHash(row.browser_hash),
        request=AuthorizationRequest.from_json(row.request),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def key_values(key: SigningKeyRecord) -> Values:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "private_jwk": key.private_jwk,
        "created_at": key.created_at,
        "active": key.active,
        "not_before": key.not_before,
    }


def key_from_row(row: DbRow) -> SigningKeyRecord:
    return SigningKeyRecord(
        kid=row.kid,
        alg=row.alg,
        private_jwk=row.private_jwk,
        created_at=row.created_at,
        active=bool(row.active),
        not_before=row.not_before,
    )


def resource_values(resource: Resource) -> Values:
    return {
        "identifier": resource.identifier,
        "scopes": resource.scopes,
        "token_format": resource.token_format,
        "access_token_ttl": resource.access_token_ttl,
        "name": resource.name,
        "created_at": resource.created_at,
    }


def resource_from_row(row: DbRow) -> Resource:
    return Resource(
        identifier=row.identifier,
        scopes=row.scopes,
        token_format=row.token_format,
        access_token_ttl=row.access_token_ttl,
        name=row.name,
        created_at=row.created_at,
    )
