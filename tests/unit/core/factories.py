"""Builders of core model values with valid defaults, for the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authgate.core.models import (
    ApplicationType,
    AuthMethod,
    AuthorizationRequest,
    Client,
    Grant,
    Session,
    TokenHash,
    User,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
REDIRECT_URI = "https://rp.example/cb"


def client(**fields: Any) -> Client:
    values: dict[str, Any] = {
        "client_id": "client-1",
        "redirect_uris": (REDIRECT_URI,),
        "token_endpoint_auth_method": AuthMethod.CLIENT_SECRET_BASIC,
        "grant_types": ("authorization_code", "refresh_token"),
        "application_type": ApplicationType.WEB,
    }
    values.update(fields)
    return Client(**values)


def user(**fields: Any) -> User:
    values: dict[str, Any] = {"id": "user-1", "username": "alice", "password_hash": "x"}
    values.update(fields)
    return User(**values)


def session(auth_time: datetime = NOW - timedelta(minutes=5)) -> Session:
    return Session(
        id_hash=TokenHash("00" * 32),
        user_id="user-1",
        auth_time=auth_time,
        created_at=auth_time,
        expires_at=auth_time + timedelta(hours=8),
    )


def grant(scopes: tuple[str, ...] = ("openid", "profile"), **fields: Any) -> Grant:
    values: dict[str, Any] = {
        "id": "grant-1",
        "user_id": "user-1",
        "client_id": "client-1",
        "scopes": scopes,
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
    }
    values.update(fields)
    return Grant(**values)


def auth_request(**fields: Any) -> AuthorizationRequest:
    values: dict[str, Any] = {
        "client_id": "client-1",
        "redirect_uri": REDIRECT_URI,
        "redirect_uri_provided": True,
        "scopes": ("openid", "profile"),
        "code_challenge": CHALLENGE,
    }
    values.update(fields)
    return AuthorizationRequest(**values)
