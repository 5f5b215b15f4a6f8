"""Redirection URI registration rules and matching.

Matching is exact string comparison (no normalisation, no prefix or wildcard), with the single
exception RFC 8252 §7.3 mandates for native apps: a loopback IP redirect URI matches on any port.

Spec: RFC 6749 §3.1.2, §3.1.2.2, §10.6; RFC 9700 §4.1.3 (exact matching);
RFC 8252 §7.1, §7.3, §8.4; OAuth 2.1 §2.3.1, §4.1.3; RFC 7591 §2.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from authgate.core.errors import InvalidRedirectUri
from authgate.core.models import ApplicationType

__all__ = ["is_loopback_host", "match_redirect_uri", "validate_redirect_uri"]

_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})
MAX_URI_LENGTH = 2000


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_loopback_ip(host: str | None) -> bool:
    return host is not None and host != "localhost" and is_loopback_host(host)


def validate_redirect_uri(uri: str, application_type: ApplicationType) -> str:
    """Check one redirect URI a client wants to register; return it unchanged.

    Web clients: ``https``, or ``http`` on a loopback host. Native clients may also use a
    private-use scheme in reverse-domain form (``com.example.app:/cb``). Never a fragment,
    user info, wildcard or a dangerous scheme.
    Spec: RFC 6749 §3.1.2; RFC 8252 §7.1, §7.3, §8.4; RFC 7591 §2; OAuth 2.1 §2.3.1.
    """
    if not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectUri("redirect URI is empty or too long")
    if any(ord(ch) <= 0x20 or ord(ch) >= 0x7F for ch in uri) or "\\" in uri:
        raise InvalidRedirectUri(
            "redirect URI contains whitespace, control or non-ASCII characters"
        )
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise InvalidRedirectUri("redirect URI is not a valid URI") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidRedirectUri("redirect URI must be absolute")
    if parts.fragment or "#" in uri:
        raise InvalidRedirectUri("redirect URI must not contain a fragment")
    if "*" in uri:
        raise InvalidRedirectUri("redirect URI must not contain wildcards")
    if scheme in _FORBIDDEN_SCHEMES:
        raise InvalidRedirectUri(f"redirect URI scheme {scheme} is not allowed")
    if scheme in ("http", "https"):
        _check_http(parts.hostname, parts.username, parts.password, port, scheme)
        return uri
    if application_type is not ApplicationType.NATIVE:
        raise InvalidRedirectUri("web clients must use https (or http on loopback) redirect URIs")
    if "." not in scheme:
        # RFC 8252 §7.1: private-use schemes must be reverse domain names to avoid collisions.
        raise InvalidRedirectUri("private-use URI schemes must be in reverse domain name form")
    return uri


def _check_http(
    host: str | None, username: str | None, password: str | None, port: int | None, scheme: str
) -> None:
    if not host:
        raise InvalidRedirectUri("redirect URI must name a host")
    if username is not None or password is not None:
        raise InvalidRedirectUri("redirect URI must not contain user information")
    if port == 0:
        raise InvalidRedirectUri("redirect URI port is invalid")
    if scheme == "http" and not is_loopback_host(host):
        raise InvalidRedirectUri("http redirect URIs are only allowed on loopback hosts")


def match_redirect_uri(
    requested: str, registered: tuple[str, ...], application_type: ApplicationType
) -> bool:
    """Whether ``requested`` is one of the registered URIs, by exact string comparison.

    For native clients only, a loopback IP URI (``http://127.0.0.1:<any>/path``) matches a
    registered one that differs only in port. Spec: RFC 6749 §3.1.2.3; RFC 9700 §4.1.3;
    RFC 8252 §7.3.
    """
    if requested in registered:
        return True
    if application_type is not ApplicationType.NATIVE:
        return False
    portless = _loopback_without_port(requested)
    return portless is not None and any(
        _loopback_without_port(uri) == portless for uri in registered
    )


def _loopback_without_port(uri: str) -> str | None:
    """``http://127.0.0.1:8000/cb`` -> ``http://127.0.0.1/cb``; None for anything that is not a
    plain loopback-IP http URI (no user info, fragment, or unusual authority spelling)."""
    if not uri.startswith("http://") or "\\" in uri or "#" in uri or "@" in uri:
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme != "http" or host is None or not _is_loopback_ip(host):
        return None
    netloc_host = f"[{host}]" if ":" in host else host
    if parts.netloc not in (netloc_host, f"{netloc_host}:{port}"):
        return None
    return urlunsplit(("http", netloc_host, parts.path, parts.query, ""))
