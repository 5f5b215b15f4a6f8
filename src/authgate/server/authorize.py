"""The authorization endpoint: validate, find the signed-in user, then ask for login or
consent, or issue the code.

Spec: RFC 6749 §4.1.1-§4.1.2.1; OAuth 2.1 §4.1; RFC 7636 §4.4; RFC 9207 §2 (``iss``);
OIDC Core §3.1.2; RFC 9700 §4.12 (303 after POST).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from authgate.core.authorization import (
    PageError,
    RedirectTarget,
    Step,
    error_target,
    next_step,
    resolve_redirect_uri,
    validate_request,
)
from authgate.core.errors import InvalidRequest, InvalidTarget, OAuthError
from authgate.core.models import (
    AuthorizationCode,
    AuthorizationRequest,
    Client,
    Interaction,
    Resource,
)
from authgate.core.params import Params
from authgate.core.resource import requested_resource
from authgate.server.browser import Browser, browser_of, signed_in_for
from authgate.server.context import ServerContext
from authgate.server.http import (
    AuthorizationResponse,
    Cookie,
    HttpRequest,
    RedirectResponse,
    Response,
    error_page,
)
from authgate.storage.base import Transaction

__all__ = ["authorize", "error_response", "issue_code"]


async def authorize(ctx: ServerContext, request: HttpRequest) -> Response:
    """Handle GET and form POST authorization requests. Spec: OIDC Core §3.1.2.1."""
    try:
        params = _read_params(request)
    except OAuthError as exc:
        return error_page("Invalid request", "The authorization request is malformed.", 400, exc)
    async with ctx.storage.transaction() as tx:
        client, redirect = await _client_and_redirect(tx, params)
        if client is None or redirect is None:
            return _bad_client_page(client)
        redirect_uri, provided = redirect
        target = error_target(params, redirect_uri)
        if request.method == "POST":
            # Continue as a GET so the browser's SameSite=Lax cookies come along (a cross-site
            # form POST does not carry them). The parameters were in the form, not secret.
            return RedirectResponse(f"{ctx.endpoints.prefix}/authorize?{_reencode(request.body)}")
        try:
            resource = await _resource(tx, params)
            scopes = ctx.supported_scopes | frozenset(resource.scopes if resource else ())
            auth_request = validate_request(
                params,
                client,
                redirect_uri,
                provided,
                scopes,
                resource=resource.identifier if resource else None,
            )
            return await _proceed(ctx, tx, request, auth_request, target)
        except OAuthError as exc:
            return error_response(ctx, target, exc)


async def _resource(tx: Transaction, params: Params) -> Resource | None:
    """The registered resource the request names, if any. Spec: RFC 8707 §2, §2.1."""
    identifier = requested_resource(params)
    if identifier is None:
        return None
    resource = await tx.resources.get(identifier)
    if resource is None:
        raise InvalidTarget("the resource is not registered with this server")
    return resource


def _reencode(body: bytes) -> str:
    """The form as a query string, re-encoded from the parsed pairs so nothing raw (CR, LF,
    ``#``) from the body reaches the Location header; repeated parameters are kept."""
    return urlencode(parse_qsl(body.decode("ascii"), keep_blank_values=True))


def _read_params(request: HttpRequest) -> Params:
    if request.method == "POST":
        params = request.form_params()
        if request.query:
            raise InvalidRequest("send parameters either in the query or in the form")
        return params
    return request.query_params()


async def _client_and_redirect(
    tx: Transaction, params: Params
) -> tuple[Client | None, tuple[str, bool] | None]:
    """Look up the client and its redirect URI; anything wrong here is shown, not redirected.
    Spec: RFC 6749 §4.1.2.1 (first paragraph)."""
    if "client_id" in params.repeated or not params.data.get("client_id"):
        return None, None
    client = await tx.clients.get(params.data["client_id"])
    if client is None:
        return None, None
    try:
        return client, resolve_redirect_uri(params, client)
    except PageError:
        return client, None


def _bad_client_page(client: Client | None) -> Response:
    if client is None:
        return error_page(
            "Unknown application",
            "The application that sent you here is not registered with this server, or its "
            "request is missing its client_id.",
            400,
        )
    return error_page(
        "Invalid redirect address",
        "The application asked to send you back to an address it has not registered. "
        "For your safety you were not redirected.",
        400,
    )


async def _proceed(
    ctx: ServerContext,
    tx: Transaction,
    request: HttpRequest,
    auth_request: AuthorizationRequest,
    target: RedirectTarget,
) -> Response:
    session, user, grant = await signed_in_for(ctx, tx, request, auth_request.client_id)
    now = ctx.clock.now()
    step = next_step(auth_request, session=session, user=user, grant=grant, now=now)
    if step is Step.ISSUE and session is not None and user is not None and grant is not None:
        return await issue_code(
            ctx,
            tx,
            auth_request,
            target,
            user_id=user.id,
            grant_id=grant.id,
            auth_time=session.auth_time,
        )
    browser = browser_of(ctx, request)
    interaction = await _start_interaction(ctx, tx, browser, auth_request)
    path = (
        ctx.endpoints.login_path(interaction.id)
        if step is Step.LOGIN
        else ctx.endpoints.consent_path(interaction.id)
    )
    cookies = (browser.new_cookie,) if browser.new_cookie else ()
    return RedirectResponse(path, cookies=cookies)


async def _start_interaction(
    ctx: ServerContext, tx: Transaction, browser: Browser, auth_request: AuthorizationRequest
) -> Interaction:
    now = ctx.clock.now()
    interaction = Interaction(
        id=ctx.random.identifier(),
        browser_hash=ctx.hash_token(browser.id),
        request=auth_request,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.interaction_ttl),
    )
    await tx.interactions.add(interaction)
    return interaction


async def issue_code(
    ctx: ServerContext,
    tx: Transaction,
    auth_request: AuthorizationRequest,
    target: RedirectTarget,
    *,
    user_id: str,
    grant_id: str,
    auth_time: datetime,
    cookies: tuple[Cookie, ...] = (),
) -> AuthorizationResponse:
    """Issue a single-use code bound to the request and send it to the client.

    Spec: RFC 6749 §4.1.2, §10.5 (short-lived, single use, bound to client and redirect URI);
    RFC 7636 §4.4 (bound to the challenge); OIDC Core §3.1.2.5; RFC 9207 §2.
    """
    now = ctx.clock.now()
    code = ctx.random.token()
    await tx.codes.add(
        AuthorizationCode(
            code_hash=ctx.hash_token(code),
            family_id=ctx.random.sortable_identifier(),
            client_id=auth_request.client_id,
            user_id=user_id,
            grant_id=grant_id,
            redirect_uri=auth_request.redirect_uri,
            redirect_uri_provided=auth_request.redirect_uri_provided,
            scopes=auth_request.scopes,
            code_challenge=auth_request.code_challenge,
            nonce=auth_request.nonce,
            auth_time=auth_time,
            issued_at=now,
            expires_at=now + timedelta(seconds=ctx.settings.code_ttl),
            resource=auth_request.resource,
        )
    )
    ctx.events.emit("code.issued", client_id=auth_request.client_id, user_id=user_id)
    params = {"code": code}
    if target.state is not None:
        params["state"] = target.state
    params["iss"] = ctx.endpoints.issuer
    return AuthorizationResponse(target, params, cookies)


def error_response(
    ctx: ServerContext, target: RedirectTarget, error: OAuthError, cookies: tuple[Cookie, ...] = ()
) -> AuthorizationResponse:
    """An error for the client, to go to its validated redirect URI (``target``): the
    parameters, which the web layer delivers by the target's response mode and logs with the
    error's ``debug``. Spec: RFC 6749 §4.1.2.1; RFC 9207 §2."""
    params = {"error": error.error}
    if error.description:
        params["error_description"] = error.description
    if target.state is not None:
        params["state"] = target.state
    params["iss"] = ctx.endpoints.issuer
    return AuthorizationResponse(target, params, cookies, error)


def redirect_url(redirect_uri: str, params: dict[str, str]) -> str:
    """Append parameters to the redirect URI, keeping its own query. Spec: RFC 6749 §3.1.2."""
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(params)
