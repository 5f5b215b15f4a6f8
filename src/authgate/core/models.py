"""Immutable protocol values: clients, users, grants, codes, tokens, sessions, interactions.

These are what the core reasons about and what storage persists. Only *hashes* of codes, tokens,
session ids and client secrets appear here (RFC 9700 §4.14, §2.1; design rule: never store a raw
token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NewType

__all__ = [
    "AccessToken",
    "ApplicationType",
    "AuthMethod",
    "AuthorizationCode",
    "AuthorizationRequest",
    "Client",
    "Grant",
    "GrantType",
    "Interaction",
    "MAX_ACCESS_TOKEN_TTL",
    "RefreshToken",
    "Resource",
    "ResponseMode",
    "Session",
    "SigningKeyRecord",
    "TokenHash",
    "TokenStanding",
    "User",
]

TokenHash = NewType("TokenHash", str)
"""Hex keyed SHA-256 of a code, token, session id or client secret (see crypto.hashing)."""


class AuthMethod(StrEnum):
    """Token endpoint client authentication methods. Spec: RFC 7591 §2; OIDC Core §9."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a name, not a secret
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a name, not a secret
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


class GrantType(StrEnum):
    """Grant types a client may register. Spec: RFC 7591 §2."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a name, not a secret
    CLIENT_CREDENTIALS = "client_credentials"


class ApplicationType(StrEnum):
    """Spec: OpenID Connect Dynamic Client Registration 1.0 §2 (application_type)."""

    WEB = "web"
    NATIVE = "native"


class ResponseMode(StrEnum):
    """Spec: OAuth 2.0 Multiple Response Type Encoding Practices §2.1; Form Post Response Mode."""

    QUERY = "query"
    FORM_POST = "form_post"


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client. Spec: RFC 7591 §2 (client metadata), RFC 6749 §2.

    One instance may be shared by many requests (SQLite keeps clients in memory between
    transactions), so ``jwks`` and ``metadata`` are read, never changed in place."""

    client_id: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod
    grant_types: tuple[str, ...] = (GrantType.AUTHORIZATION_CODE.value,)
    response_types: tuple[str, ...] = ("code",)
    secret_hash: TokenHash | None = None
    scope: tuple[str, ...] | None = None
    client_name: str | None = None
    application_type: ApplicationType = ApplicationType.WEB
    id_token_signed_response_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    """Other registered metadata (client_uri, logo_uri, contacts, ...), echoed back as given."""
    created_at: datetime | None = None

    @property
    def is_public(self) -> bool:
        """True for clients without credentials. Spec: RFC 6749 §2.1."""
        return self.token_endpoint_auth_method is AuthMethod.NONE

    def allows_grant(self, grant_type: str) -> bool:
        """Whether the client registered this grant type. Spec: RFC 7591 §2."""
        return grant_type in self.grant_types


@dataclass(frozen=True, slots=True)
class User:
    """An end-user account (the resource owner). Profile claims per OIDC Core §5.1."""

    id: str
    username: str
    password_hash: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    disabled: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorization request. Spec: RFC 6749 §4.1.1; OIDC Core §3.1.2.1."""

    client_id: str
    redirect_uri: str
    redirect_uri_provided: bool
    scopes: tuple[str, ...]
    code_challenge: str
    state: str | None = None
    nonce: str | None = None
    response_mode: ResponseMode = ResponseMode.QUERY
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None
    resource: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, for keeping a request across the login and consent pages."""
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "redirect_uri_provided": self.redirect_uri_provided,
            "scopes": list(self.scopes),
            "code_challenge": self.code_challenge,
            "state": self.state,
            "nonce": self.nonce,
            "response_mode": self.response_mode.value,
            "prompt": sorted(self.prompt),
            "max_age": self.max_age,
            "login_hint": self.login_hint,
            "ui_locales": self.ui_locales,
            "resource": self.resource,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuthorizationRequest:
        """Inverse of :meth:`to_json`."""
        return cls(
            client_id=data["client_id"],
            redirect_uri=data["redirect_uri"],
            redirect_uri_provided=data["redirect_uri_provided"],
            scopes=tuple(data["scopes"]),
            code_challenge=data["code_challenge"],
            state=data.get("state"),
            nonce=data.get("nonce"),
            response_mode=ResponseMode(data.get("response_mode", "query")),
            prompt=frozenset(data.get("prompt", ())),
            max_age=data.get("max_age"),
            login_hint=data.get("login_hint"),
            ui_locales=data.get("ui_locales"),
            resource=data.get("resource"),
        )


@dataclass(frozen=True, slots=True)
class Grant:
    """A user's consent to a client for a set of scopes; tokens point to it, so revoking the
    grant revokes them. Spec: RFC 6749 §1.3 (authorization grant), OIDC Core §3.1.2.4."""

    id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None = None

    def covers(self, scopes: tuple[str, ...]) -> bool:
        """True when every requested scope was already consented."""
        return self.revoked_at is None and set(scopes) <= set(self.scopes)


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """An issued authorization code, stored by hash and bound to everything the token request
    must match. ``family_id`` identifies every token descending from it, so a replay can revoke
    them all. Spec: RFC 6749 §4.1.2, §10.5; RFC 7636 §4.4; OIDC Core §3.1.3.2."""

    code_hash: TokenHash
    family_id: str
    client_id: str
    user_id: str
    grant_id: str
    redirect_uri: str
    redirect_uri_provided: bool
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str | None
    auth_time: datetime
    issued_at: datetime
    expires_at: datetime
    consumed_at: datetime | None = None
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued access token as a record: a JWT's or an older random token's row (stored by
    hash), or a sealed token's claims as opened (sealed tokens have no row; design note 0009).
    Spec: RFC 6749 §1.4, §5.1."""

    token_hash: TokenHash
    client_id: str
    user_id: str | None
    grant_id: str | None
    family_id: str | None
    scopes: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    audience: str | None = None
    """The resource it is for (RFC 8707); None for the authorization server's own APIs."""

    def is_active(self, now: datetime) -> bool:
        """Not revoked and not expired. Spec: RFC 7662 §2.2 (active)."""
        return self.revoked_at is None and now < self.expires_at


MAX_ACCESS_TOKEN_TTL = 86400
"""The longest any access token lives (the settings' and every resource's bound), in
seconds: what a record that revokes access tokens without a row of theirs must outlive."""


@dataclass(frozen=True, slots=True)
class TokenStanding:
    """What the database says, at one use, about what a sealed access token depends on
    (design note 0009): read by one statement, judged by :meth:`allows`.

    ``client_found`` False: the client was deleted. The ``grant_*``, ``user_*`` and
    ``family_revoked_at`` fields are None when the token names no grant, user or family, or
    when the row is gone (``grant_found``/``user_found`` tell which)."""

    client_found: bool
    client_created_at: datetime | None = None
    grant_found: bool = False
    grant_revoked_at: datetime | None = None
    user_found: bool = False
    user_disabled: bool = False
    user_token_epoch: int | None = None
    family_revoked_at: datetime | None = None
    revoked_one_by_one: bool = False

    def allows(
        self,
        *,
        issued_at: datetime,
        grant_id: str | None,
        user_id: str | None,
        user_epoch: int | None,
    ) -> bool:
        """Live unless revoked by any route RFC 7009 §2.1 and RFC 6749 §4.1.2, §10.4 give:
        this token alone, its family (code replay, refresh token reuse), its grant, its
        user (password change, disabled), or its client (deleted; a client registered again
        under the same id does not inherit tokens issued before it existed)."""
        if not self.client_found or self.revoked_one_by_one:
            return False
        if self.client_created_at is not None and issued_at < self.client_created_at:
            return False
        if self.family_revoked_at is not None:
            return False
        if grant_id is not None and (not self.grant_found or self.grant_revoked_at is not None):
            return False
        if user_id is not None:
            if not self.user_found or self.user_disabled:
                return False
            # Issued in the user's current epoch: no password change or disabling since.
            if user_epoch is None or user_epoch != self.user_token_epoch:
                return False
        return True


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """An issued refresh token, stored by hash. Every use rotates it: the successor joins the
    same ``family_id`` (one per authorization), and presenting a rotated token again is reuse,
    which revokes the whole family. ``expires_at`` is this token's idle expiry;
    ``family_expires_at`` the absolute end of the family.
    Spec: RFC 6749 §1.5, §6, §10.4; RFC 9700 §4.14.2; OAuth 2.1 §4.3."""

    token_hash: TokenHash
    family_id: str
    client_id: str
    user_id: str
    grant_id: str
    scopes: tuple[str, ...]
    auth_time: datetime
    issued_at: datetime
    expires_at: datetime
    family_expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    resource: str | None = None

    def is_active(self, now: datetime) -> bool:
        """Not revoked, not rotated, within its idle and its family's absolute expiry (what
        ``rotate`` also requires). Spec: RFC 7662 §2.2 (active); RFC 9700 §4.14.2."""
        return (
            self.revoked_at is None
            and self.rotated_at is None
            and now < self.expires_at
            and now < self.family_expires_at
        )


@dataclass(frozen=True, slots=True)
class Resource:
    """A protected resource (API) that gets access tokens of its own: audience-restricted,
    RFC 9068 JWTs or opaque, with its own scopes and lifetime. Spec: RFC 8707 §2; RFC 9068."""

    identifier: str
    scopes: tuple[str, ...]
    token_format: str = "jwt"  # noqa: S105 - a format name, not a secret
    access_token_ttl: int = 3600
    name: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser session (server-side; the cookie holds only a random id)."""

    id_hash: TokenHash
    user_id: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Interaction:
    """An authorization request waiting for login or consent, bound to one browser."""

    id: str
    browser_hash: TokenHash
    request: AuthorizationRequest
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A stored signing key: private JWK (encrypted at rest when a key is configured)."""

    kid: str
    alg: str
    private_jwk: str
    """JSON text of the private JWK, or its encryption (prefix ``enc:v1:``)."""
    created_at: datetime
    active: bool = True
    not_before: datetime | None = None
    """When it starts signing (announced in the JWKS before); None: at creation."""

    @property
    def signs_from(self) -> datetime:
        return self.not_before or self.created_at
