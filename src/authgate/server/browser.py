"""Browser identity, sign-in sessions and CSRF tokens.

Two cookies, both HttpOnly and SameSite=Lax (Secure on https): ``ag_bid`` identifies the
browser for the length of its session and binds pending interactions and CSRF tokens to it;
``ag_sid`` is the sign-in session, a random id replaced at every sign-in (no session fixation),
stored server-side by hash. The CSRF token is an HMAC of the browser id under a server key: a
per-session secret value that an attacker's page cannot read or forge.

Spec: RFC 6749 §10.12 (CSRF), RFC 9700 §4.7; OWASP CSRF Prevention (synchronizer token,
HMAC-based); OIDC Core §3.1.2.3 (authentication of the end-user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from authgate.core.models import Grant, Session, TokenHash, User
from authgate.server.context import ServerContext
from authgate.server.http import Cookie, HttpRequest
from authgate.storage.base import Transaction

__all__ = [
    "BROWSER_COOKIE",
    "SESSION_COOKIE",
    "Browser",
    "browser_of",
    "check_csrf",
    "csrf_token",
    "current_user",
    "start_session",
]

BROWSER_COOKIE = "ag_bid"
SESSION_COOKIE = "ag_sid"
_MAX_COOKIE = 100


@dataclass(frozen=True, slots=True)
class Browser:
    """The browser's id, and the cookie to set when the id is new."""

    id: str
    new_cookie: Cookie | None


def browser_of(ctx: ServerContext, request: HttpRequest) -> Browser:
    """The browser id from its cookie, or a new one to be set."""
    existing = request.cookies.get(BROWSER_COOKIE)
    if existing and 20 <= len(existing) <= _MAX_COOKIE:
        return Browser(existing, None)
    new = ctx.random.token()
    return Browser(new, Cookie(BROWSER_COOKIE, new))


def csrf_token(ctx: ServerContext, browser_id: str) -> str:
    mac = hmac.new(ctx.csrf_key, b"csrf:" + browser_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def check_csrf(ctx: ServerContext, browser_id: str | None, presented: str | None) -> bool:
    """Constant-time check of a form's CSRF token against the browser's."""
    if not browser_id or not presented:
        return False
    return hmac.compare_digest(csrf_token(ctx, browser_id), presented)


def _session_key(ctx: ServerContext, request: HttpRequest) -> TokenHash | None:
    """The storage key of the browser's session cookie, if it has a plausible one."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid or len(sid) > _MAX_COOKIE:
        return None
    return ctx.hash_token(sid)


async def current_user(
    ctx: ServerContext, tx: Transaction, request: HttpRequest
) -> tuple[Session | None, User | None]:
    """The signed-in session and its (enabled) user, if the session cookie is valid."""
    key = _session_key(ctx, request)
    if key is None:
        return None, None
    found = await tx.sessions.get_with_user(key, ctx.clock.now())
    if found is None:
        return None, None
    session, user = found
    if user.disabled:
        return None, None
    return session, user


async def signed_in_for(
    ctx: ServerContext, tx: Transaction, request: HttpRequest, client_id: str
) -> tuple[Session | None, User | None, Grant | None]:
    """As ``current_user``, with the user's newest unrevoked grant to ``client_id`` read by
    the same statement (the authorization endpoint needs all three)."""
    key = _session_key(ctx, request)
    if key is None:
        return None, None, None
    found = await tx.sessions.get_signed_in(key, ctx.clock.now(), client_id)
    if found is None or found.user.disabled:
        return None, None, None
    return found.session, found.user, found.grant


async def start_session(
    ctx: ServerContext, tx: Transaction, request: HttpRequest, user: User
) -> tuple[Session, Cookie]:
    """Sign ``user`` in: a fresh session id (the old session, if any, is ended)."""
    now = ctx.clock.now()
    old = request.cookies.get(SESSION_COOKIE)
    if old and len(old) <= _MAX_COOKIE:
        await tx.sessions.delete(ctx.hash_token(old))
    sid = ctx.random.token()
    ttl = ctx.settings.session_ttl
    session = Session(
        id_hash=ctx.hash_token(sid),
        user_id=user.id,
        auth_time=now,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    await tx.sessions.add(session)
    return session, Cookie(SESSION_COOKIE, sid, max_age=ttl)
