"""Internal: the public names are re-exported by ``authgate.client``.

The relying party's side of the code flow, without I/O: what to send, and what to check in
what comes back. ``Client`` (async) and ``SyncClient`` only add HTTP.

Spec: RFC 6749 §4.1.1-§4.1.4, §5.1-§5.2, §6; RFC 7636 §4.1-§4.2; RFC 9207 §2.4;
OIDC Core §3.1.2.1, §3.1.3.7, §3.1.3.8 (at_hash), §12.2; RFC 7523 §2.2 (private_key_jwt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt as jose_jwt

from authgate.client.errors import (
    AuthorizationError,
    IdTokenError,
    IssuerMismatch,
    StateMismatch,
    TokenError,
)
from authgate.crypto.jws import ASYMMETRIC_ALGS, JwtError, verify_jwt
from authgate.crypto.keys import Jwk

__all__ = [
    "ClientCredentials",
    "FlowState",
    "TokenSet",
    "authorization_url",
    "check_callback",
    "id_token_hash",
    "parse_token_response",
    "token_request_auth",
    "validate_id_token",
]


@dataclass(frozen=True, slots=True)
class FlowState:
    """What the app keeps server-side between sending the user away and the callback."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowState:
        return cls(
            **{
                k: data[k]
                for k in ("state", "nonce", "code_verifier", "redirect_uri", "created_at")
            }
        )


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A token response, with the validated ID token claims."""

    access_token: str
    token_type: str
    expires_at: float | None
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at - 5

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["claims"] = dict(self.claims)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """How this client authenticates: ``client_secret_basic``, ``client_secret_post``,
    ``private_key_jwt`` (with ``private_key``) or ``none``."""

    client_id: str
    method: str = "client_secret_basic"
    client_secret: str | None = None
    private_key: Jwk | None = None
    private_key_alg: str = "RS256"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    endpoint: str, client_id: str, redirect_uri: str, scope: str, **extra: str
) -> tuple[str, FlowState]:
    """The URL to send the user to, with fresh ``state``, ``nonce`` and PKCE S256.
    Spec: RFC 6749 §4.1.1; RFC 7636 §4.1-§4.3; OIDC Core §3.1.2.1."""
    verifier, challenge = _pkce()
    flow = FlowState(secrets.token_urlsafe(24), secrets.token_urlsafe(24), verifier, redirect_uri)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": flow.state,
        "nonce": flow.nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    separator = "&" if urlsplit(endpoint).query else "?"
    return endpoint + separator + urlencode(params), flow


def check_callback(callback_url: str, flow: FlowState, issuer: str, iss_required: bool) -> str:
    """The code from the redirect, after checking ``state`` and the RFC 9207 ``iss``; raises
    ``AuthorizationError`` for an error response. Spec: RFC 6749 §4.1.2, §10.12; RFC 9207
    §2.4."""
    pairs = parse_qsl(urlsplit(callback_url).query, keep_blank_values=True)
    names = [n for n, _ in pairs]
    if len(names) != len(set(names)):
        raise StateMismatch("the callback repeats a parameter")
    params = dict(pairs)
    if not hmac.compare_digest(params.get("state", "").encode(), flow.state.encode()):
        raise StateMismatch("state does not match this flow")
    iss = params.get("iss")
    if iss is not None and iss != issuer:
        raise IssuerMismatch(f"the response comes from {iss!r}, not {issuer!r}")
    if iss is None and iss_required:
        raise IssuerMismatch("the provider sends iss but this response has none")
    if "error" in params:
        raise AuthorizationError(params["error"], params.get("error_description"))
    code = params.get("code")
    if not code:
        raise AuthorizationError("invalid_request", "the callback carries no code")
    return code


def token_request_auth(
    creds: ClientCredentials, data: dict[str, str], audience: str
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Add client authentication to a token-endpoint form; returns (form, basic auth).
    Spec: RFC 6749 §2.3.1; RFC 7523 §2.2, §3; OIDC Core §9."""
    form = dict(data)
    if creds.method == "client_secret_basic":
        return form, (creds.client_id, creds.client_secret or "")
    if creds.method == "client_secret_post":
        form.update(client_id=creds.client_id, client_secret=creds.client_secret or "")
    elif creds.method == "private_key_jwt":
        if creds.private_key is None:
            raise ValueError("private_key_jwt needs private_key")
        now = int(time.time())
        assertion = jose_jwt.encode(
            {"alg": creds.private_key_alg, "kid": creds.private_key.kid},
            {
                "iss": creds.client_id,
                "sub": creds.client_id,
                "aud": audience,
                "iat": now,
                "exp": now + 60,
                "jti": secrets.token_urlsafe(16),
            },
            creds.private_key,
        )
        form.update(
            client_id=creds.client_id,
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=assertion,
        )
    else:
        form["client_id"] = creds.client_id
    return form, None


def parse_token_response(status: int, body: Any) -> dict[str, Any]:
    """The token response's JSON, or ``TokenError``. Spec: RFC 6749 §5.1, §5.2."""
    if not isinstance(body, dict):
        raise TokenError("invalid_response", "the response is not a JSON object", status)
    if status != 200:
        raise TokenError(
            str(body.get("error", "server_error")), body.get("error_description"), status
        )
    if not isinstance(body.get("access_token"), str):
        raise TokenError("invalid_response", "no access_token in the response", status)
    if str(body.get("token_type", "")).lower() not in ("bearer", "dpop"):
        raise TokenError("invalid_response", "unsupported token_type", status)
    return body


def id_token_hash(value: str, alg: str) -> str:
    """at_hash / c_hash. Spec: OIDC Core §3.1.3.6 (EdDSA with Ed25519: SHA-512)."""
    name = "sha512" if alg == "EdDSA" else "sha" + alg[2:]
    digest = hashlib.new(name, value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def validate_id_token(
    id_token: str,
    *,
    find_key: Callable[[Mapping[str, Any]], Jwk | None],
    issuer: str,
    client_id: str,
    algorithms: frozenset[str],
    nonce: str | None,
    access_token: str | None,
    leeway: int = 60,
    now: float | None = None,
) -> dict[str, Any]:
    """Validate an ID token and return its claims. ``nonce`` None means none is expected
    (refresh). Spec: OIDC Core §3.1.3.7 (steps 1-13), §3.1.3.8, §12.2; RFC 8725 §3.1."""
    allowed = algorithms & ASYMMETRIC_ALGS
    try:
        header, claims = verify_jwt(id_token, find_key, allowed)
    except JwtError as exc:
        raise IdTokenError(f"ID token rejected: {exc}") from None
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise IdTokenError("ID token from another issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise IdTokenError("ID token for another client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenError("ID token azp is not this client")
    if "azp" in claims and claims["azp"] != client_id:
        raise IdTokenError("ID token azp is not this client")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp <= now - leeway:
        raise IdTokenError("ID token expired")
    if not isinstance(iat, int | float) or iat > now + leeway:
        raise IdTokenError("ID token iat is missing or in the future")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("ID token has no sub")
    if nonce is not None and not hmac.compare_digest(
        str(claims.get("nonce", "")).encode(), nonce.encode()
    ):
        raise IdTokenError("ID token nonce does not match")
    if (
        access_token is not None
        and "at_hash" in claims
        and not hmac.compare_digest(
            str(claims["at_hash"]).encode(),
            id_token_hash(access_token, str(header["alg"])).encode(),
        )
    ):
        raise IdTokenError("ID token at_hash does not match the access token")
    return claims
