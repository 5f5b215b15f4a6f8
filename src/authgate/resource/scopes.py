"""Internal: the public names are re-exported by ``authgate.resource``.

Requiring scopes at endpoints: a decorator for Starlette endpoints and a dependency class
for FastAPI, both answering RFC 6750 errors (401 without a valid token, 403
``insufficient_scope`` naming the scope needed).

Spec: RFC 6750 §3.1 (insufficient_scope); RFC 6749 §3.3.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authgate.resource.validators import AccessToken

__all__ = ["RequireScope", "requires_scope"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _challenge(realm: str, error: str | None, scope: str) -> str:
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def _check(request: Request, scopes: tuple[str, ...], realm: str) -> AccessToken | Response:
    realm = getattr(request.state, "bearer_realm", None) or realm
    token = getattr(request.state, "access_token", None)
    if not isinstance(token, AccessToken):
        return JSONResponse(
            {},
            status_code=401,
            headers={"www-authenticate": _challenge(realm, None, ""), "cache-control": "no-store"},
        )
    if not token.has_scopes(*scopes):
        needed = " ".join(scopes)
        return JSONResponse(
            {"error": "insufficient_scope", "error_description": f"requires scope {needed}"},
            status_code=403,
            headers={
                "www-authenticate": _challenge(realm, "insufficient_scope", needed),
                "cache-control": "no-store",
            },
        )
    return token


def requires_scope(*scopes: str, realm: str = "api") -> Callable[[Endpoint], Endpoint]:
    """Decorate a Starlette endpoint: it runs only with a valid token holding ``scopes``.
    Challenges use the middleware's realm (``realm`` is the fallback without it)."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            checked = _check(request, scopes, realm)
            if isinstance(checked, Response):
                return checked
            return await endpoint(request)

        return guarded

    return decorate


class RequireScope:
    """A FastAPI dependency: ``token: AccessToken = Depends(RequireScope("notes:read"))``."""

    def __init__(self, *scopes: str, realm: str = "api") -> None:
        self.scopes = scopes
        self.realm = realm

    async def __call__(self, request: Request) -> AccessToken:
        checked = _check(request, self.scopes, self.realm)
        if isinstance(checked, Response):
            # FastAPI renders {"detail": ...}: the RFC 6750 error code goes there.
            raise HTTPException(
                status_code=checked.status_code,
                detail="insufficient_scope" if checked.status_code == 403 else "invalid_token",
                headers={
                    "www-authenticate": checked.headers["www-authenticate"],
                    "cache-control": "no-store",
                },
            )
        return checked
