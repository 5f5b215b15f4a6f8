"""Resource-server side: validate bearer access tokens and enforce scopes.

    from authgate.resource import BearerTokenMiddleware, JwksCache, JwtValidator, requires_scope

    validator = JwtValidator(
        issuer="https://auth.example.com",
        audience="urn:example:notes",
        jwks=JwksCache("https://auth.example.com/jwks"),
    )
    app = BearerTokenMiddleware(starlette_app, validator)

    @requires_scope("notes:read")
    async def list_notes(request): ...

Spec: RFC 6750 (bearer tokens, errors), RFC 9068 §4 (validating JWT access tokens),
RFC 7662 (introspection), RFC 8725 (JWT BCP).
"""

from authgate.resource.jwks_cache import JwksCache
from authgate.resource.middleware import BearerTokenMiddleware
from authgate.resource.scopes import RequireScope, requires_scope
from authgate.resource.validators import (
    AccessToken,
    IntrospectionValidator,
    JwtValidator,
    TokenValidator,
)

__all__ = [
    "AccessToken",
    "BearerTokenMiddleware",
    "IntrospectionValidator",
    "JwksCache",
    "JwtValidator",
    "RequireScope",
    "TokenValidator",
    "requires_scope",
]
