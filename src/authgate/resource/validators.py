"""Internal: the public names are re-exported by ``authgate.resource``.

Validating access tokens at a resource server.

``JwtValidator`` checks RFC 9068 JWT access tokens locally: ``typ`` at+jwt, an asymmetric
algorithm from an allow-list (``none`` and HMAC never, whatever the header says), the
signature with the issuer's published key, ``iss``, ``aud`` = this resource, ``exp`` and
``iat`` with a small leeway. ``IntrospectionValidator`` asks the authorization server
(RFC 7662), caching answers briefly.

Spec: RFC 9068 §4; RFC 7662 §2; RFC 8725 §3.1-§3.2, §3.9 (audience); RFC 6750 §3.1.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from authgate.core.errors import InvalidToken, TemporarilyUnavailable
from authgate.crypto.jws import JwtError, read_header, verify_jwt
from authgate.resource.jwks_cache import JwksCache

__all__ = ["AccessToken", "IntrospectionValidator", "JwtValidator", "TokenValidator"]

_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})


@dataclass(frozen=True, slots=True)
class AccessToken:
    """What a valid access token says about the request."""

    subject: str | None
    client_id: str | None
    scopes: frozenset[str]
    audience: tuple[str, ...]
    expires_at: int | None
    claims: Mapping[str, Any] = field(default_factory=dict)

    def has_scopes(self, *required: str) -> bool:
        return set(required) <= self.scopes


class TokenValidator(Protocol):
    async def validate(self, token: str) -> AccessToken:
        """The token's meaning, or raise ``InvalidToken`` (``TemporarilyUnavailable`` when the
        authorization server cannot be asked)."""


def _audiences(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _scopes(value: Any) -> frozenset[str]:
    return frozenset(value.split()) if isinstance(value, str) else frozenset()


class JwtValidator:
    """RFC 9068 JWT access tokens for one resource (``audience``)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA"),
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.algorithms = frozenset(algorithms)
        self.leeway = leeway_seconds
        self.clock = clock

    async def validate(self, token: str) -> AccessToken:
        """Spec: RFC 9068 §4 (steps 1-9)."""
        try:
            header = read_header(token)
        except JwtError:
            raise InvalidToken("malformed access token") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _JWT_TYPES:
            raise InvalidToken("not a JWT access token (typ must be at+jwt)")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise InvalidToken("access token algorithm not allowed")
        key = await self.jwks.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("access token signed with an unknown key")
        try:
            _, claims = verify_jwt(token, lambda _h: key, self.algorithms)
        except JwtError:
            raise InvalidToken("access token signature is invalid") from None
        self._check_claims(claims)
        exp = claims.get("exp")
        return AccessToken(
            subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None,
            client_id=claims.get("client_id") if isinstance(claims.get("client_id"), str) else None,
            scopes=_scopes(claims.get("scope")),
            audience=_audiences(claims.get("aud")),
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            claims=claims,
        )

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise InvalidToken("access token from another issuer")
        if self.audience not in _audiences(claims.get("aud")):
            raise InvalidToken("access token for another audience")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - self.leeway:
            raise InvalidToken("access token expired")
        if isinstance(iat, int | float) and iat > now + self.leeway:
            raise InvalidToken("access token issued in the future")


class IntrospectionValidator:
    """Asks the authorization server about each token (RFC 7662), authenticating as a client,
    and caches the answer for ``cache_seconds`` (never past the token's ``exp``).

    ``audience`` is required on purpose: this API's resource identifier, so a token issued for
    another API is refused (RFC 8707, RFC 9068 §4); pass None only for an API that accepts the
    authorization server's own, audience-less tokens."""

    def __init__(
        self,
        *,
        introspection_endpoint: str,
        client_id: str,
        client_secret: str,
        audience: str | None,
        cache_seconds: float = 30.0,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = introspection_endpoint
        self._auth = (client_id, client_secret)
        self.audience = audience
        self.cache_seconds = cache_seconds
        self._http = http
        self.clock = clock
        self._cache: dict[str, tuple[float, AccessToken | None]] = {}

    async def validate(self, token: str) -> AccessToken:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            result = cached[1]
        else:
            answer = await self._ask(token)
            result = self._interpret(answer)
            until = now + self.cache_seconds
            if result is not None and result.expires_at is not None:
                until = min(until, result.expires_at)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (until, result)
        if result is None:
            raise InvalidToken("the access token is not active")
        return result

    async def _ask(self, token: str) -> Mapping[str, Any]:
        try:
            if self._http is None:
                async with httpx.AsyncClient(timeout=5) as http:
                    response = await http.post(
                        self.endpoint, data={"token": token}, auth=self._auth
                    )
            else:
                response = await self._http.post(
                    self.endpoint, data={"token": token}, auth=self._auth
                )
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError):
            raise TemporarilyUnavailable("the authorization server cannot be reached") from None
        return answer if isinstance(answer, dict) else {}

    def _interpret(self, answer: Mapping[str, Any]) -> AccessToken | None:
        if answer.get("active") is not True or answer.get("token_type") == "refresh_token":
            return None
        audience = _audiences(answer.get("aud"))
        if self.audience is not None and self.audience not in audience:
            return None
        exp = answer.get("exp")
        return AccessToken(
            subject=answer.get("sub") if isinstance(answer.get("sub"), str) else None,
            client_id=answer.get("client_id") if isinstance(answer.get("client_id"), str) else None,
            scopes=_scopes(answer.get("scope")),
            audience=audience,
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            claims=dict(answer),
        )
