"""The relying party's checks, without I/O: callback and ID token validation.

Spec: RFC 6749 §4.1.2, §10.12; RFC 9207 §2.4; OIDC Core §3.1.3.7, §3.1.3.8.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from authgate.client import AuthorizationError, IdTokenError, IssuerMismatch, StateMismatch
from authgate.client.protocol import (
    ClientCredentials,
    authorization_url,
    check_callback,
    id_token_hash,
    token_request_auth,
    validate_id_token,
)

ISSUER = "https://op.example"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)


def flow() -> Any:
    return authorization_url(f"{ISSUER}/authorize", "rp", "https://rp.example/cb", "openid")[1]


def test_authorization_url_has_pkce_state_nonce() -> None:
    url, f = authorization_url(
        f"{ISSUER}/authorize", "rp", "https://rp.example/cb", "openid email", prompt="consent"
    )
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["state"] == f.state and q["nonce"] == f.nonce and q["prompt"] == "consent"
    assert 43 <= len(f.code_verifier) <= 128


def test_callback_checks() -> None:
    f = flow()
    good = f"https://rp.example/cb?code=c&state={f.state}&iss={ISSUER}"
    assert check_callback(good, f, ISSUER, iss_required=True) == "c"
    with pytest.raises(StateMismatch):
        check_callback(f"https://rp.example/cb?code=c&state=other&iss={ISSUER}", f, ISSUER, True)
    with pytest.raises(IssuerMismatch):
        check_callback(
            f"https://rp.example/cb?code=c&state={f.state}&iss=https://evil", f, ISSUER, True
        )
    with pytest.raises(IssuerMismatch):
        check_callback(f"https://rp.example/cb?code=c&state={f.state}", f, ISSUER, True)
    with pytest.raises(AuthorizationError) as exc:
        check_callback(
            f"https://rp.example/cb?error=access_denied&state={f.state}", f, ISSUER, False
        )
    assert exc.value.error == "access_denied"
    with pytest.raises(StateMismatch):
        check_callback(f"https://rp.example/cb?code=a&code=b&state={f.state}", f, ISSUER, False)


def id_token(key: Any = KEY, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u1",
        "aud": "rp",
        "exp": now + 300,
        "iat": now,
        "nonce": "n1",
        "at_hash": id_token_hash("at", alg),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def validate(token: str, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "find_key": lambda h: KEY if h.get("kid") == "k1" else None,
        "issuer": ISSUER,
        "client_id": "rp",
        "algorithms": frozenset({"RS256", "ES256"}),
        "nonce": "n1",
        "access_token": "at",
    }
    args.update(kw)
    return validate_id_token(token, **args)


def test_valid_id_token() -> None:
    assert validate(id_token())["sub"] == "u1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.example"},
        {"aud": "other"},
        {"aud": ["rp", "other"]},  # several audiences need azp
        {"aud": ["rp", "other"], "azp": "other"},
        {"azp": "other"},
        {"exp": int(time.time()) - 3600},
        {"iat": int(time.time()) + 3600},
        {"iat": None},
        {"sub": None},
        {"nonce": "other"},
        {"nonce": None},
        {"at_hash": "wrong"},
    ],
)
def test_oidc_3_1_3_7_every_failing_claim(overrides: dict[str, Any]) -> None:
    with pytest.raises(IdTokenError):
        validate(id_token(**overrides))


def test_signature_key_and_algorithm_checks() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    with pytest.raises(IdTokenError):
        validate(id_token(other))  # right kid, wrong key
    ec = ECKey.generate_key("P-256", parameters={"kid": "k2"}, private=True)
    with pytest.raises(IdTokenError):
        validate(id_token(ec, "ES256"))  # unknown kid
    with pytest.raises(IdTokenError):
        validate(id_token(), algorithms=frozenset({"ES256"}))  # alg not allowed
    head = id_token().split(".")[0]
    with pytest.raises(IdTokenError):
        validate(f"{head}.e30.")


def test_client_authentication_forms() -> None:
    data = {"grant_type": "refresh_token"}
    form, basic = token_request_auth(
        ClientCredentials("c", "client_secret_basic", "s"), data, ISSUER
    )
    assert basic == ("c", "s") and "client_secret" not in form
    form, basic = token_request_auth(
        ClientCredentials("c", "client_secret_post", "s"), data, ISSUER
    )
    assert basic is None and form["client_secret"] == "s"
    form, _ = token_request_auth(ClientCredentials("c", "none"), data, ISSUER)
    assert form["client_id"] == "c" and "client_secret" not in form
    form, _ = token_request_auth(
        ClientCredentials("c", "private_key_jwt", private_key=KEY), data, ISSUER
    )
    claims = jwt.decode(form["client_assertion"], KEY).claims
    assert claims["iss"] == claims["sub"] == "c" and claims["aud"] == ISSUER
