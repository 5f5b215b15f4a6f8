"""The token endpoint's grants, pure: what each one reads from the request, the checks it makes,
and the two outcomes of a redemption (design note 0011).

A grant is checked in two places. Before anything is consumed, a check may raise: the
transaction rolls back and nothing is lost. Once a code or refresh token is consumed, the
redemption may only *return* a :class:`Refused`, so the transaction that consumed it (and any
revocation a replay triggered) commits; the endpoint raises the error after the commit. The
raising checks below are therefore called after consumption only through :func:`refusal`.

Spec: RFC 6749 §4.1.3, §4.4.2, §5.2, §6; RFC 7636 §4.6; RFC 8707 §2.2; RFC 9068 §2.2.3;
OAuth 2.1 §4.1.3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec

from authgate.core import pkce
from authgate.core.errors import InvalidGrant, InvalidRequest, InvalidTarget, OAuthError
from authgate.core.models import AuthorizationCode, Client, RefreshToken, Resource
from authgate.core.params import Params
from authgate.core.resource import validate_resource_identifier

__all__ = [
    "ClientCredentialsRequest",
    "CodeExchange",
    "Issuance",
    "RefreshExchange",
    "RefreshPlan",
    "Refused",
    "UserAuthorization",
    "check_code_binding",
    "check_resource_binding",
    "client_credentials_request",
    "code_exchange",
    "for_resource",
    "refresh_exchange",
    "refusal",
]

_P = ParamSpec("_P")


@dataclass(frozen=True, slots=True)
class Refused:
    """The answer of a redemption that failed: an OAuth error returned, never raised, so the
    transaction commits what was consumed; the endpoint raises ``error`` after the commit."""

    error: OAuthError


def refusal(check: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs) -> Refused | None:
    """Run a raising check where raising is not allowed (after consumption): its error as a
    :class:`Refused`, or None if it passed."""
    try:
        check(*args, **kwargs)
    except OAuthError as exc:
        return Refused(exc)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAuthorization:
    """What a user's authorization carries into every token minted from it."""

    user_id: str
    grant_id: str
    family_id: str
    auth_time: datetime
    user_epoch: int | None
    """The user's token epoch, which the sealed access token carries (design note 0009)."""
    nonce: str | None = None
    """Only for the ID token of a code exchange (OIDC Core §12.2: none at refresh)."""

    @classmethod
    def of(
        cls,
        credential: AuthorizationCode | RefreshToken,
        user_epoch: int | None,
        nonce: str | None = None,
    ) -> UserAuthorization:
        """The authorization a code or refresh token was issued under."""
        return cls(
            user_id=credential.user_id,
            grant_id=credential.grant_id,
            family_id=credential.family_id,
            auth_time=credential.auth_time,
            user_epoch=user_epoch,
            nonce=nonce,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshPlan:
    """The refresh token to mint: a new family's first (``family_expires_at`` None) or a
    successor keeping its family's absolute expiry. Spec: RFC 6749 §6; RFC 9700 §4.14.2."""

    scopes: tuple[str, ...]
    resource: str | None
    family_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Issuance:
    """Everything a successful grant mints, described once: the access token (for
    ``resource``, with the scopes it defines), the refresh token if planned and, for OpenID
    Connect, the ID token. Spec: RFC 6749 §5.1; RFC 9068 §2; OIDC Core §3.1.3.3, §12.2."""

    grant_type: str
    client: Client
    now: datetime
    scopes: tuple[str, ...]
    resource: Resource | None
    user: UserAuthorization | None = None
    refresh: RefreshPlan | None = None

    @property
    def access_scopes(self) -> tuple[str, ...]:
        """The access token's scopes. Spec: RFC 9068 §2.2.3."""
        return for_resource(self.scopes, self.resource)


@dataclass(frozen=True, slots=True)
class CodeExchange:
    """The parameters of ``grant_type=authorization_code``. Spec: RFC 6749 §4.1.3."""

    code: str
    verifier: str
    redirect_uri: str | None
    resource: str | None


@dataclass(frozen=True, slots=True)
class RefreshExchange:
    """The parameters of ``grant_type=refresh_token``. Spec: RFC 6749 §6."""

    refresh_token: str
    scope: str | None
    resource: str | None


@dataclass(frozen=True, slots=True)
class ClientCredentialsRequest:
    """The parameters of ``grant_type=client_credentials``. Spec: RFC 6749 §4.4.2."""

    scope: str | None
    resource: str | None


def code_exchange(params: Params) -> CodeExchange:
    """Spec: RFC 6749 §4.1.3; RFC 7636 §4.5 (the verifier is required: OAuth 2.1 §4.1.3)."""
    code = params.require("code")
    verifier = params.get_one("code_verifier")
    if verifier is None:
        raise InvalidRequest("code_verifier is required (PKCE)")
    return CodeExchange(code, verifier, params.get_one("redirect_uri"), params.data.get("resource"))


def refresh_exchange(params: Params) -> RefreshExchange:
    """Spec: RFC 6749 §6."""
    return RefreshExchange(
        params.require("refresh_token"), params.get_one("scope"), params.data.get("resource")
    )


def client_credentials_request(params: Params) -> ClientCredentialsRequest:
    """Spec: RFC 6749 §4.4.2; RFC 8707 §2 (the resource, validated in form)."""
    resource = params.data.get("resource")
    if resource is not None:
        validate_resource_identifier(resource)
    return ClientCredentialsRequest(params.get_one("scope"), resource)


def check_code_binding(code: AuthorizationCode, client: Client, exchange: CodeExchange) -> None:
    """The code must come from the client it was issued to, with the same redirect URI and
    the PKCE verifier. Spec: RFC 6749 §4.1.3; RFC 7636 §4.6; OAuth 2.1 §4.1.3."""
    if code.client_id != client.client_id:
        raise InvalidGrant("the authorization code was issued to another client")
    if code.redirect_uri_provided and exchange.redirect_uri is None:
        raise InvalidGrant("redirect_uri is required: it was sent in the authorization request")
    if exchange.redirect_uri is not None and exchange.redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    pkce.verify(exchange.verifier, code.code_challenge)


def check_resource_binding(asked: str | None, bound: str | None) -> None:
    """A ``resource`` in a token request must name the one the authorization was for (RFC
    8707 §2.2: a token request may not widen the audience)."""
    if asked is not None and validate_resource_identifier(asked) != bound:
        raise InvalidTarget("the resource was not part of this authorization")


def for_resource(scopes: tuple[str, ...], resource: Resource | None) -> tuple[str, ...]:
    """A resource's token carries only the scopes that resource defines (RFC 9068 §2.2.3);
    OpenID Connect scopes are about this server's own APIs."""
    if resource is None:
        return scopes
    return tuple(s for s in scopes if s in resource.scopes)
