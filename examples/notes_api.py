"""The notes API: a resource server that accepts RFC 9068 JWT access tokens from authgate.

Every request needs a bearer token for this API (audience ``resource``) with scope
``notes:read``; the notes shown are the token subject's.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authgate.resource import BearerTokenMiddleware, JwksCache, JwtValidator, requires_scope

DEMO_NOTES = [
    "Buy coffee beans",
    "Rotate the signing keys (authgate keys rotate)",
    "Read RFC 9700 §4.14 on refresh token protection",
]


@requires_scope("notes:read")
async def list_notes(request: Request) -> Response:
    token = request.state.access_token
    return JSONResponse({"owner": token.subject, "client": token.client_id, "notes": DEMO_NOTES})


def create_notes_api(issuer: str, resource: str) -> BearerTokenMiddleware:
    validator = JwtValidator(issuer=issuer, audience=resource, jwks=JwksCache(f"{issuer}/jwks"))
    app = Starlette(routes=[Route("/notes", list_notes)])
    return BearerTokenMiddleware(app, validator, realm="notes")
