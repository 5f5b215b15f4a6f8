"""Dynamic client registration: validating client metadata.

Unknown metadata is ignored; known metadata of the wrong type or value is rejected with
``invalid_client_metadata`` (``invalid_redirect_uri`` for redirect URIs). URLs a server might
show or fetch must be https on a public host name (no private, loopback or link-local address).

Spec: RFC 7591 §2, §2.1 (grant/response type consistency), §3.2.2; OIDC Dynamic Client
Registration 1.0 §2; RFC 8252 §8.4; RFC 9700 §4.1 / OIDC Core §16 (SSRF in metadata URLs).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authgate.core.errors import InvalidClientMetadata, InvalidRedirectUri
from authgate.core.models import ApplicationType, AuthMethod, GrantType
from authgate.core.redirect_uri import validate_redirect_uri
from authgate.core.scope import parse_scope

__all__ = ["ClientMetadata", "is_public_https_url", "validate_metadata"]

_URL_FIELDS = ("client_uri", "logo_uri", "policy_uri", "tos_uri")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Validated registration metadata (what the server will store and echo back)."""

    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    application_type: ApplicationType
    scope: tuple[str, ...] | None
    client_name: str | None
    id_token_signed_response_alg: str | None
    post_logout_redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    extra: dict[str, Any]


def is_public_https_url(url: str) -> bool:
    """An https URL whose host is a name or a public IP (never private, loopback, link-local).

    Names still have to be resolved and checked again before anything is fetched from them.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme != "https" or not host or parts.username is not None or "#" in url:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # No top-level domain is numeric: a host like 127.1, 10.1 or 0x7f.0.0.1 is an IPv4
        # shorthand that resolvers and browsers turn into a (possibly private) address.
        last = host.rsplit(".", 1)[-1]
        return "." in host and not (last.isdigit() or last.lower().startswith("0x"))
    return address.is_global


def _string_list(body: dict[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings")
    if len(value) > 50:
        raise InvalidClientMetadata(f"{name} has too many entries")
    return tuple(dict.fromkeys(value))


def _optional_string(body: dict[str, Any], name: str, limit: int = 2000) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidClientMetadata(f"{name} must be a string of at most {limit} characters")
    return value


def _enum(body: dict[str, Any], name: str, kind: type[Any], default: Any) -> Any:
    value = _optional_string(body, name, 100)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise InvalidClientMetadata(f"unsupported {name} {value!r}") from None


def _grant_and_response_types(body: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    grant_types = _string_list(body, "grant_types", (GrantType.AUTHORIZATION_CODE.value,))
    for grant in grant_types:
        if grant not in {g.value for g in GrantType}:
            raise InvalidClientMetadata(f"unsupported grant type {grant!r}")
    has_code_grant = GrantType.AUTHORIZATION_CODE.value in grant_types
    default_responses = ("code",) if has_code_grant else ()
    response_types = _string_list(body, "response_types", default_responses)
    if any(r != "code" for r in response_types):
        raise InvalidClientMetadata("only the response type 'code' is supported")
    if ("code" in response_types) != has_code_grant:
        raise InvalidClientMetadata(
            "response_types 'code' and grant type 'authorization_code' go together"
        )
    return grant_types, response_types


def _jwks(body: dict[str, Any]) -> dict[str, Any] | None:
    jwks = body.get("jwks")
    if jwks is None:
        return None
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys or len(keys) > 20:
        raise InvalidClientMetadata("jwks must be a JWK Set with 1 to 20 keys")
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kty"), str):
            raise InvalidClientMetadata("jwks contains an invalid key")
        if _PRIVATE_MEMBERS & key.keys():
            raise InvalidClientMetadata("jwks must contain public keys only")
        if key["kty"] not in ("RSA", "EC", "OKP"):
            # Symmetric keys have no place in a public key set (RFC 8725 §3.1).
            raise InvalidClientMetadata("jwks keys must be RSA, EC or OKP public keys")
    return {"keys": keys}


def _key_source(
    body: dict[str, Any], method: AuthMethod
) -> tuple[dict[str, Any] | None, str | None]:
    """``jwks`` or ``jwks_uri`` (never both); one is required for private_key_jwt."""
    jwks = _jwks(body)
    jwks_uri = _optional_string(body, "jwks_uri")
    if jwks is not None and jwks_uri is not None:
        raise InvalidClientMetadata("jwks and jwks_uri are mutually exclusive")
    if jwks_uri is not None and not is_public_https_url(jwks_uri):
        raise InvalidClientMetadata("jwks_uri must be an https URL on a public host")
    if method is AuthMethod.PRIVATE_KEY_JWT and jwks is None and jwks_uri is None:
        raise InvalidClientMetadata("private_key_jwt requires jwks or jwks_uri")
    return jwks, jwks_uri


LIFETIME_FIELDS = ("refresh_token_ttl", "refresh_token_absolute_ttl")
"""authgate extension: per-client refresh token lifetimes (seconds), within the server's."""


def _lifetimes(body: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in LIFETIME_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= 315360000:
            raise InvalidClientMetadata(f"{name} must be an integer number of seconds (>= 60)")
        out[name] = value
    idle = out.get("refresh_token_ttl")
    absolute = out.get("refresh_token_absolute_ttl")
    if idle is not None and absolute is not None and absolute < idle:
        raise InvalidClientMetadata("refresh_token_absolute_ttl must be >= refresh_token_ttl")
    return out


def _display_metadata(body: dict[str, Any]) -> dict[str, Any]:
    """URLs shown to users (https on public hosts only, never fetched), contacts, and the
    per-client refresh token lifetimes."""
    extra: dict[str, Any] = dict(_lifetimes(body))
    for name in _URL_FIELDS:
        url = _optional_string(body, name)
        if url is not None:
            if not is_public_https_url(url):
                raise InvalidClientMetadata(f"{name} must be an https URL on a public host")
            extra[name] = url
    contacts = _string_list(body, "contacts", ())
    if contacts:
        extra["contacts"] = list(contacts)
    return extra


def validate_metadata(body: Any, supported_algs: tuple[str, ...]) -> ClientMetadata:
    """Validate a registration request body. Spec: RFC 7591 §2, §3.1, §3.2.2."""
    if not isinstance(body, dict):
        raise InvalidClientMetadata("the request body must be a JSON object")
    application_type = _enum(body, "application_type", ApplicationType, ApplicationType.WEB)
    method = _enum(body, "token_endpoint_auth_method", AuthMethod, AuthMethod.CLIENT_SECRET_BASIC)
    grant_types, response_types = _grant_and_response_types(body)
    redirect_uris = _string_list(body, "redirect_uris", ())
    if "code" in response_types and not redirect_uris:
        raise InvalidRedirectUri("redirect_uris is required for the authorization code flow")
    for uri in redirect_uris:
        validate_redirect_uri(uri, application_type)
    post_logout = _string_list(body, "post_logout_redirect_uris", ())
    for uri in post_logout:
        validate_redirect_uri(uri, application_type)
    if method is AuthMethod.NONE and GrantType.CLIENT_CREDENTIALS.value in grant_types:
        raise InvalidClientMetadata("public clients cannot use the client_credentials grant")
    jwks, jwks_uri = _key_source(body, method)
    alg = _optional_string(body, "id_token_signed_response_alg", 20)
    if alg is not None and alg not in supported_algs:
        raise InvalidClientMetadata(f"id_token_signed_response_alg must be one of {supported_algs}")
    scope_text = _optional_string(body, "scope")
    try:
        scope = parse_scope(scope_text) if scope_text is not None else None
    except Exception:
        raise InvalidClientMetadata("scope is malformed") from None
    extra = _display_metadata(body)
    return ClientMetadata(
        redirect_uris=redirect_uris,
        token_endpoint_auth_method=method,
        grant_types=grant_types,
        response_types=response_types,
        application_type=application_type,
        scope=scope,
        client_name=_optional_string(body, "client_name", 200),
        id_token_signed_response_alg=alg,
        post_logout_redirect_uris=post_logout,
        jwks=jwks,
        jwks_uri=jwks_uri,
        extra=extra,
    )
