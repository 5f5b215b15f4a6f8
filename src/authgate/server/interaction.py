"""The sign-in and consent pages of the authorization endpoint.

Each form carries the browser's CSRF token; each pending request (interaction) is bound to the
browser that started it and completes at most once.

Spec: OIDC Core §3.1.2.3 (authenticate the end-user), §3.1.2.4 (obtain consent), §3.1.2.6
(access_denied); RFC 6749 §10.12 (CSRF); RFC 9700 §4.7; OWASP Authentication Cheat Sheet
(generic error, throttling).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authgate.core.authorization import (
    RedirectTarget,
    Step,
    consent_items,
    next_step,
    scopes_union,
)
from authgate.core.errors import AccessDenied, OAuthError
from authgate.core.models import Client, Grant, Interaction, Session, User
from authgate.core.params import Params
from authgate.server.authorize import error_response, issue_code
from authgate.server.browser import (
    BROWSER_COOKIE,
    check_csrf,
    csrf_token,
    current_user,
    start_session,
)
from authgate.server.context import ServerContext
from authgate.server.http import (
    Cookie,
    HttpRequest,
    PageResponse,
    RedirectResponse,
    Response,
    error_page,
)
from authgate.storage.base import Transaction

__all__ = ["consent_page", "consent_submit", "login_page", "login_submit", "scope_descriptions"]

_SCOPE_WORDS = {
    "openid": "Confirm your identity (your account identifier)",
    "profile": "See your name and username",
    "email": "See your email address",
    "address": "See your postal address",
    "phone": "See your phone number",
    "offline_access": "Keep access when you are not using the application",
}
_EXPIRED = (
    "Sign-in link expired",
    "This sign-in request has expired or was started in another browser. Go back to the "
    "application and start again.",
)


def scope_descriptions(
    scopes: tuple[str, ...], resource: str | None = None
) -> list[dict[str, str]]:
    """Plain-language lines for the consent page; a resource's permissions name it."""
    lines = []
    for s in scopes:
        text = _SCOPE_WORDS.get(s)
        if text is None:
            text = f"Use the permission \u201c{s}\u201d"
            if resource is not None:
                text += f" at {resource}"
        lines.append({"scope": s, "text": text})
    return lines


@dataclass(frozen=True, slots=True)
class _Pending:
    interaction: Interaction
    client: Client
    browser_id: str


async def _pending(
    ctx: ServerContext, tx: Transaction, request: HttpRequest, interaction_id: str
) -> _Pending | None:
    """The interaction, if it exists, has not expired and belongs to this browser."""
    browser_id = request.cookies.get(BROWSER_COOKIE)
    if not browser_id or len(interaction_id) > 64:
        return None
    interaction = await tx.interactions.get(interaction_id, ctx.clock.now())
    if interaction is None or interaction.browser_hash != ctx.hash_token(browser_id):
        return None
    client = await tx.clients.get(interaction.request.client_id)
    if client is None:
        return None
    return _Pending(interaction, client, browser_id)


def _target(interaction: Interaction) -> RedirectTarget:
    req = interaction.request
    return RedirectTarget(req.redirect_uri, req.state, req.response_mode)


def _login_form(
    ctx: ServerContext,
    pending: _Pending,
    *,
    error: str | None = None,
    username: str = "",
    status: int = 200,
) -> PageResponse:
    context: dict[str, Any] = {
        "client_name": pending.client.client_name or pending.client.client_id,
        "action": ctx.endpoints.login_path(pending.interaction.id),
        "csrf_token": csrf_token(ctx, pending.browser_id),
        "username": username or (pending.interaction.request.login_hint or ""),
        "error": error,
    }
    return PageResponse("login.html", context, status=status)


async def login_page(ctx: ServerContext, request: HttpRequest, interaction_id: str) -> Response:
    async with ctx.storage.transaction() as tx:
        pending = await _pending(ctx, tx, request, interaction_id)
    if pending is None:
        return error_page(*_EXPIRED, status=400)
    return _login_form(ctx, pending)


def _throttle_keys(username: str, ip: str) -> tuple[str, str]:
    return f"login:{username}|{ip}", f"login-ip:{ip}"


async def _claim_attempt(ctx: ServerContext, tx: Transaction, username: str, ip: str) -> bool:
    """Count this attempt *before* the password is checked and say whether it may proceed.

    The per-account counter is one atomic upsert, so parallel guesses cannot all slip under
    the limit; a successful sign-in clears it. The per-IP counter only counts failures.
    """
    s = ctx.settings
    window = timedelta(seconds=s.login_throttle_window)
    now = ctx.clock.now()
    account_key, ip_key = _throttle_keys(username, ip)
    attempts = await tx.throttle.hit(account_key, now, window)
    if attempts > s.login_max_failures:
        return False
    return await tx.throttle.count(ip_key, now, window) < s.login_max_failures_per_ip


async def login_submit(ctx: ServerContext, request: HttpRequest, interaction_id: str) -> Response:
    """Check the password, start a session, continue to consent or to the client."""
    try:
        form = request.form_params()
    except OAuthError:
        return error_page("Invalid form", "The form could not be read.", 400)
    async with ctx.storage.transaction() as tx:
        pending = await _pending(ctx, tx, request, interaction_id)
        if pending is None:
            return error_page(*_EXPIRED, status=400)
        if not check_csrf(ctx, pending.browser_id, form.data.get("csrf_token")):
            return error_page("Form expired", "Reload the page and try again.", 403)
        username = form.data.get("username", "").strip().lower()[:256]
        if not await _claim_attempt(ctx, tx, username, request.client_ip):
            ctx.events.emit("login.throttled", ip=request.client_ip)
            return _login_form(
                ctx,
                pending,
                username=username,
                status=429,
                error="Too many failed sign-in attempts. Wait a few minutes and try again.",
            )
        user = await tx.users.get_by_username(username) if username else None
    password = form.data.get("password", "")[:1024]
    ok = await asyncio.to_thread(
        ctx.passwords.verify, user.password_hash if user else None, password
    )
    if not ok or user is None or user.disabled:
        return await _login_failed(ctx, request, pending, username)
    if ctx.passwords.needs_rehash(user.password_hash):
        # The argon2 settings changed since this hash was made: upgrade it now that the
        # password is known.
        new_hash = await asyncio.to_thread(ctx.passwords.hash, password)
        async with ctx.storage.transaction() as tx:
            await tx.users.set_password(user.id, new_hash, ctx.clock.now())
    return await _after_login(ctx, request, pending, user)


async def _login_failed(
    ctx: ServerContext, request: HttpRequest, pending: _Pending, username: str
) -> Response:
    window = timedelta(seconds=ctx.settings.login_throttle_window)
    now = ctx.clock.now()
    async with ctx.storage.transaction() as tx:
        # The account's counter already holds this attempt (_claim_attempt).
        await tx.throttle.hit(_throttle_keys(username, request.client_ip)[1], now, window)
    ctx.events.emit("login.failed", ip=request.client_ip)
    # One message for unknown user and wrong password (no account enumeration).
    return _login_form(
        ctx, pending, username=username, error="The username or password is incorrect."
    )


async def _after_login(
    ctx: ServerContext, request: HttpRequest, pending: _Pending, user: User
) -> Response:
    async with ctx.storage.transaction() as tx:
        await tx.throttle.clear(_throttle_keys(user.username, request.client_ip)[0])
        session, cookie = await start_session(ctx, tx, request, user)
        ctx.events.emit("login.succeeded", user_id=user.id, ip=request.client_ip)
        interaction = pending.interaction
        grant = await tx.grants.find(user.id, interaction.request.client_id)
        try:
            step = _next_step(ctx, interaction, session, user, grant)
        except OAuthError as exc:  # pragma: no cover - prompt=none never reaches the login page
            return error_response(ctx, _target(interaction), exc, (cookie,))
        if step is Step.CONSENT or grant is None:  # Step.ISSUE implies a covering grant
            return RedirectResponse(ctx.endpoints.consent_path(interaction.id), cookies=(cookie,))
        return await _complete(ctx, tx, interaction, user, grant, session.auth_time, (cookie,))


async def _complete(
    ctx: ServerContext,
    tx: Transaction,
    interaction: Interaction,
    user: User,
    grant: Grant,
    auth_time: datetime,
    cookies: tuple[Cookie, ...] = (),
) -> Response:
    if not await tx.interactions.delete(interaction.id):
        return error_page(*_EXPIRED, status=400)
    return await issue_code(
        ctx,
        tx,
        interaction.request,
        _target(interaction),
        user_id=user.id,
        grant_id=grant.id,
        auth_time=auth_time,
        cookies=cookies,
    )


def _next_step(
    ctx: ServerContext,
    interaction: Interaction,
    session: Session | None,
    user: User | None,
    grant: Grant | None,
) -> Step:
    """What the interaction's request needs next, now. Spec: OIDC Core §3.1.2.1-§3.1.2.4."""
    return next_step(
        interaction.request,
        session=session,
        user=user,
        grant=grant,
        now=ctx.clock.now(),
        interaction_started=interaction.created_at,
    )


def _login_first(
    ctx: ServerContext, pending: _Pending, session: Session | None, user: User | None
) -> Response | None:
    """A redirect to the sign-in page when this request still needs one (no session, or
    ``prompt=login`` / ``max_age`` not yet satisfied by a sign-in during this interaction):
    the consent page must not be a way around re-authentication. Spec: OIDC Core §3.1.2.1."""
    interaction = pending.interaction
    try:
        step = _next_step(ctx, interaction, session, user, None)
    except OAuthError:
        step = Step.LOGIN
    if step is Step.LOGIN:
        return RedirectResponse(ctx.endpoints.login_path(interaction.id))
    return None


async def consent_page(ctx: ServerContext, request: HttpRequest, interaction_id: str) -> Response:
    async with ctx.storage.transaction() as tx:
        pending = await _pending(ctx, tx, request, interaction_id)
        session, user = await current_user(ctx, tx, request)
    if pending is None:
        return error_page(*_EXPIRED, status=400)
    redirect = _login_first(ctx, pending, session, user)
    if redirect is not None or user is None:
        return redirect or error_page(*_EXPIRED, status=400)
    client = pending.client
    context = {
        "client_name": client.client_name or client.client_id,
        "client_uri": client.metadata.get("client_uri"),
        "username": user.username,
        "scopes": scope_descriptions(
            pending.interaction.request.scopes, pending.interaction.request.resource
        ),
        "action": ctx.endpoints.consent_path(interaction_id),
        "csrf_token": csrf_token(ctx, pending.browser_id),
    }
    return PageResponse("consent.html", context)


async def consent_submit(ctx: ServerContext, request: HttpRequest, interaction_id: str) -> Response:
    """Allow: remember the consent (a Grant) and issue the code. Deny: ``access_denied``."""
    try:
        form: Params = request.form_params()
    except OAuthError:
        return error_page("Invalid form", "The form could not be read.", 400)
    async with ctx.storage.transaction() as tx:
        pending = await _pending(ctx, tx, request, interaction_id)
        session, user = await current_user(ctx, tx, request)
        if pending is None:
            return error_page(*_EXPIRED, status=400)
        if not check_csrf(ctx, pending.browser_id, form.data.get("csrf_token")):
            return error_page("Form expired", "Reload the page and try again.", 403)
        redirect = _login_first(ctx, pending, session, user)
        if redirect is not None or session is None or user is None:
            return redirect or error_page(*_EXPIRED, status=400)
        interaction = pending.interaction
        decision = form.data.get("decision")
        if decision != "allow":
            if not await tx.interactions.delete(interaction.id):
                return error_page(*_EXPIRED, status=400)
            ctx.events.emit("consent.denied", user_id=user.id, client_id=pending.client.client_id)
            return error_response(
                ctx, _target(interaction), AccessDenied("the user denied the request")
            )
        grant = await _remember(ctx, tx, user, pending.client, consent_items(interaction.request))
        return await _complete(ctx, tx, interaction, user, grant, session.auth_time)


async def _remember(
    ctx: ServerContext, tx: Transaction, user: User, client: Client, scopes: tuple[str, ...]
) -> Grant:
    """Create or widen the user's grant to this client. Spec: OIDC Core §3.1.2.4."""
    now = ctx.clock.now()
    existing = await tx.grants.find(user.id, client.client_id)
    if existing is None:
        grant = Grant(ctx.random.identifier(), user.id, client.client_id, scopes, now, now)
    else:
        grant = Grant(
            existing.id,
            user.id,
            client.client_id,
            scopes_union(existing.scopes, scopes),
            existing.created_at,
            now,
        )
    await tx.grants.save(grant)
    ctx.events.emit("consent.granted", user_id=user.id, client_id=client.client_id)
    return grant
