"""Client authentication at the token, introspection and revocation endpoints: extracting the
credentials a request carries, exactly one method per request.

Spec: RFC 6749 §2.3.1 (Basic with form-urlencoded id and secret; body parameters), §3.2.1;
RFC 7523 §2.2 and OIDC Core §9 (private_key_jwt); OAuth 2.1 §2.4.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from authgate.core.errors import InvalidClient, InvalidRequest
from authgate.core.models import AuthMethod
from authgate.core.params import Params

__all__ = ["JWT_BEARER_ASSERTION", "ClientCredentials", "extract_credentials"]

JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What the request presented: the method, the claimed client_id and its proof."""

    method: AuthMethod
    client_id: str
    secret: str | None = None
    assertion: str | None = None


def _parse_basic(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidClient("unsupported Authorization scheme", basic=True)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient("malformed Basic credentials", basic=True) from None
    if ":" not in decoded:
        raise InvalidClient("malformed Basic credentials", basic=True)
    raw_id, _, raw_secret = decoded.partition(":")
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if not client_id or "\x00" in client_id or "\x00" in secret:
        raise InvalidClient("malformed Basic credentials", basic=True)
    return client_id, secret


def extract_credentials(authorization: str | None, params: Params) -> ClientCredentials:
    """Identify the client and its authentication method; reject ambiguous requests.

    Spec: RFC 6749 §2.3 ("MUST NOT use more than one authentication method in each request"),
    §2.3.1; RFC 7523 §2.2, §3; OIDC Core §9.
    """
    body_id = params.get_one("client_id")
    body_secret = params.get_one("client_secret")
    assertion = params.get_one("client_assertion")
    assertion_type = params.get_one("client_assertion_type")
    used = [authorization is not None, body_secret is not None, assertion is not None]
    if sum(used) > 1:
        raise InvalidRequest("use exactly one client authentication method")
    if authorization is not None:
        client_id, secret = _parse_basic(authorization)
        if body_id is not None and body_id != client_id:
            raise InvalidClient("client_id does not match the Basic credentials", basic=True)
        return ClientCredentials(AuthMethod.CLIENT_SECRET_BASIC, client_id, secret=secret)
    if assertion is not None:
        if assertion_type != JWT_BEARER_ASSERTION:
            raise InvalidRequest("unsupported client_assertion_type")
        return ClientCredentials(AuthMethod.PRIVATE_KEY_JWT, body_id or "", assertion=assertion)
    if body_id is None:
        raise InvalidClient("client authentication is required")
    if body_secret is not None:
        return ClientCredentials(AuthMethod.CLIENT_SECRET_POST, body_id, secret=body_secret)
    return ClientCredentials(AuthMethod.NONE, body_id)
