"""Extracting a bearer token from a request to a protected resource.

The token comes from the ``Authorization`` header, or the form body of a POST (RFC 6750 §2.2);
never from the query string (RFC 6750 §2.3 is refused: tokens in URLs leak into logs and
Referer headers, RFC 9700 §4.3.2). More than one method is an ``invalid_request``.

Spec: RFC 6750 §2.1, §2.2, §3, §3.1; OAuth 2.1 §5.2.
"""

from __future__ import annotations

import re

from authgate.core.errors import InvalidRequest, InvalidToken
from authgate.core.params import Params

__all__ = ["BearerInvalidRequest", "MissingToken", "extract_bearer"]

# b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class MissingToken(InvalidToken):
    """No credentials at all: 401 with a bare challenge and no error code or other error
    information, as RFC 6750 §3.1 asks."""

    def body(self) -> dict[str, str]:
        return {}

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="authgate"'}


class BearerInvalidRequest(InvalidRequest):
    """``invalid_request`` at a protected resource: 400 with a Bearer challenge naming the
    error. Spec: RFC 6750 §3, §3.1."""

    def headers(self) -> dict[str, str]:
        challenge = f'Bearer realm="authgate", error="{self.error}"'
        if self.description:
            challenge += f', error_description="{self.description}"'
        return {"WWW-Authenticate": challenge}


def extract_bearer(authorization: str | None, query: Params, form: Params | None) -> str:
    """The bearer token of a request. Spec: RFC 6750 §2.1-§2.3."""
    if "access_token" in query or "access_token" in query.repeated:
        raise BearerInvalidRequest("access tokens are not accepted in the query string")
    form_token = None
    if form is not None:
        form_token = form.get_one("access_token")
    if authorization is not None:
        if form_token is not None:
            raise BearerInvalidRequest("send the access token in one place only")
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer":
            raise MissingToken()
        if not _B64TOKEN.fullmatch(value):
            raise InvalidToken("malformed bearer token")
        return value
    if form_token is not None:
        return form_token
    raise MissingToken()
