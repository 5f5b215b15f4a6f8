"""The authorization endpoint: validating the request and deciding what happens next.

Validation is split in two because of where errors may go: until the client and redirect URI
are established, an error must be shown to the user and never redirected (RFC 6749 §4.1.2.1,
§3.1.2.4); after that, errors go back to the client's redirect URI.

Spec: RFC 6749 §4.1.1, §4.1.2.1; OAuth 2.1 §4.1.1; RFC 7636 §4.3; OIDC Core §3.1.2.1-§3.1.2.6,
§11 (offline_access); OAuth 2.0 Form Post Response Mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from authgate.core import pkce
from authgate.core.errors import (
    ConsentRequired,
    InvalidRequest,
    InvalidTarget,
    LoginRequired,
    OAuthError,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from authgate.core.models import (
    AuthorizationRequest,
    Client,
    Grant,
    GrantType,
    ResponseMode,
    Session,
    User,
)
from authgate.core.params import Params
from authgate.core.redirect_uri import match_redirect_uri
from authgate.core.scope import OIDC_SCOPES, parse_scope

__all__ = [
    "PROMPTS",
    "RedirectTarget",
    "Step",
    "error_target",
    "next_step",
    "resolve_redirect_uri",
    "validate_request",
    "consent_items",
]

PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_STATE_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class RedirectTarget:
    """Where and how an authorization response (success or error) goes back to the client."""

    redirect_uri: str
    state: str | None
    response_mode: ResponseMode


class Step(Enum):
    """What the authorization endpoint must do next. Spec: OIDC Core §3.1.2.3-§3.1.2.4."""

    LOGIN = "login"
    CONSENT = "consent"
    ISSUE = "issue"


class PageError(Exception):
    """An authorization error that must be shown to the user, not redirected."""

    def __init__(self, error: OAuthError) -> None:
        super().__init__(str(error))
        self.error = error


def resolve_redirect_uri(params: Params, client: Client) -> tuple[str, bool]:
    """The redirect URI to use and whether the request named it.

    It may be omitted only when exactly one is registered. Any problem here is a page error.
    Spec: RFC 6749 §3.1.2.3, §4.1.2.1; OAuth 2.1 §2.3.2; OIDC Core §3.1.2.1 (required for OIDC,
    still enforced as exact match when given).
    """
    try:
        requested = params.get_one("redirect_uri")
    except OAuthError as exc:
        raise PageError(exc) from None
    if requested is None:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0], False
        raise PageError(InvalidRequest("redirect_uri is required for this client"))
    if not match_redirect_uri(requested, client.redirect_uris, client.application_type):
        raise PageError(InvalidRequest("redirect_uri does not match a registered redirect URI"))
    return requested, True


def error_target(params: Params, redirect_uri: str) -> RedirectTarget:
    """Where to send an error once the redirect URI is trusted. A repeated or malformed
    ``state`` / ``response_mode`` is left out rather than guessed. Spec: RFC 6749 §4.1.2.1."""
    state = params.data.get("state") if "state" not in params.repeated else None
    if state is not None and len(state) > MAX_STATE_LENGTH:
        state = None
    mode_value = (
        params.data.get("response_mode") if "response_mode" not in params.repeated else None
    )
    mode = ResponseMode.FORM_POST if mode_value == "form_post" else ResponseMode.QUERY
    return RedirectTarget(redirect_uri, state, mode)


def _response_mode(value: str | None) -> ResponseMode:
    if value is None:
        return ResponseMode.QUERY
    try:
        return ResponseMode(value)
    except ValueError:
        raise InvalidRequest("unsupported response_mode") from None


def _prompt(value: str | None) -> frozenset[str]:
    prompts = frozenset(value.split()) if value else frozenset()
    if not prompts <= PROMPTS:
        raise InvalidRequest("unsupported prompt value")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return prompts


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise InvalidRequest("max_age must be a non-negative integer")
    return int(value)


def _scopes(
    value: str | None, client: Client, supported: frozenset[str], prompt: frozenset[str]
) -> tuple[str, ...]:
    """Requested scopes the server knows and the client may use; others are ignored as OIDC
    Core §3.1.2.1 asks. ``offline_access`` needs ``prompt=consent`` (OIDC Core §11) and a client
    registered for refresh tokens."""
    allowed = supported if client.scope is None else supported & set(client.scope)
    scopes = [s for s in parse_scope(value) if s in allowed]
    if "offline_access" in scopes and (
        "consent" not in prompt or not client.allows_grant(GrantType.REFRESH_TOKEN)
    ):
        scopes.remove("offline_access")
    return tuple(scopes)


def validate_request(
    params: Params,
    client: Client,
    redirect_uri: str,
    redirect_uri_provided: bool,
    supported_scopes: frozenset[str],
    resource: str | None = None,
) -> AuthorizationRequest:
    """Validate everything after client and redirect URI; errors raised here are redirected.

    Spec: RFC 6749 §3.1 (no repeated parameters), §4.1.1, §4.1.2.1; RFC 7636 §4.3-§4.4.1;
    OIDC Core §3.1.2.1, §3.1.2.6, §6 (request objects not supported).
    """
    if "resource" in params.repeated:
        raise InvalidTarget("only one resource per request is supported")
    params.reject_repeated()
    response_mode = _response_mode(params.get_one("response_mode"))
    state = params.get_one("state")
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise InvalidRequest("state is too long")
    if params.get_one("request") is not None:
        raise RequestNotSupported("request objects are not supported")
    if params.get_one("request_uri") is not None:
        raise RequestUriNotSupported("request_uri is not supported")
    if params.get_one("registration") is not None:
        raise RegistrationNotSupported("the registration parameter is not supported")
    response_type = params.get_one("response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only response_type=code is supported")
    if "code" not in client.response_types or not client.allows_grant(GrantType.AUTHORIZATION_CODE):
        raise UnauthorizedClient("client is not registered for the authorization code flow")
    challenge = pkce.validate_challenge(
        params.get_one("code_challenge"), params.get_one("code_challenge_method")
    )
    prompt = _prompt(params.get_one("prompt"))
    nonce = params.get_one("nonce")
    if nonce is not None and len(nonce) > 512:
        raise InvalidRequest("nonce is too long")
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_provided=redirect_uri_provided,
        scopes=_scopes(params.get_one("scope"), client, supported_scopes, prompt),
        code_challenge=challenge,
        state=state,
        nonce=nonce,
        response_mode=response_mode,
        prompt=prompt,
        max_age=_max_age(params.get_one("max_age")),
        login_hint=_bounded(params.get_one("login_hint"), 256),
        ui_locales=_bounded(params.get_one("ui_locales"), 256),
        resource=resource,
    )


def _bounded(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


def next_step(
    request: AuthorizationRequest,
    *,
    session: Session | None,
    user: User | None,
    grant: Grant | None,
    now: datetime,
    interaction_started: datetime | None = None,
) -> Step:
    """Decide whether to ask the user to log in, to consent, or to issue the code.

    A login counts as fresh for ``prompt=login`` / ``max_age`` when it happened after this
    interaction began. ``prompt=none`` turns a needed page into ``login_required`` /
    ``consent_required``. Spec: OIDC Core §3.1.2.1 (prompt, max_age), §3.1.2.3, §3.1.2.4,
    §3.1.2.6.
    """
    signed_in = session is not None and user is not None and not user.disabled
    fresh = (
        session is not None
        and interaction_started is not None
        and session.auth_time >= interaction_started
    )
    needs_login = not signed_in
    if session is not None and signed_in and not fresh:
        reauth = "login" in request.prompt or "select_account" in request.prompt
        too_old = request.max_age is not None and now - session.auth_time > timedelta(
            seconds=request.max_age
        )
        needs_login = reauth or too_old
    if needs_login:
        if "none" in request.prompt:
            raise LoginRequired("the user is not signed in")
        return Step.LOGIN
    needs_consent = (
        grant is None or not grant.covers(consent_items(request)) or ("consent" in request.prompt)
    )
    if needs_consent:
        if "none" in request.prompt:
            raise ConsentRequired("the user has not consented to these scopes")
        return Step.CONSENT
    return Step.ISSUE


def consent_items(request: AuthorizationRequest) -> tuple[str, ...]:
    """What the user consents to: the scopes, with those of a resource qualified by it
    (``urn:example:api#read``), so consenting to ``read`` at one API does not cover ``read`` at
    another. OpenID Connect scopes are about this server and stay as they are.
    Spec: RFC 8707 §2 (the resource is part of the authorization); OIDC Core §3.1.2.4."""
    if request.resource is None:
        return request.scopes
    return tuple(s if s in OIDC_SCOPES else f"{request.resource}#{s}" for s in request.scopes)


def scopes_union(a: Iterable[str], b: Iterable[str]) -> tuple[str, ...]:
    """Scopes of ``a`` then those of ``b`` not already present (for growing a grant)."""
    out = list(a)
    out.extend(s for s in b if s not in out)
    return tuple(out)
