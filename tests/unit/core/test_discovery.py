"""Authorization server metadata. Spec: OIDC Discovery 1.0 §3; RFC 8414 §2; RFC 9207 §3."""

from __future__ import annotations

from typing import Any

from authgate.core.claims import SUPPORTED_CLAIMS
from authgate.core.discovery import server_metadata

ISSUER = "https://op.example"


def metadata(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "userinfo_endpoint": f"{ISSUER}/userinfo",
        "introspection_endpoint": f"{ISSUER}/introspect",
        "revocation_endpoint": f"{ISSUER}/revoke",
        "jwks_uri": f"{ISSUER}/jwks",
        "registration_endpoint": f"{ISSUER}/register",
        "scopes": ("openid", "profile"),
        "signing_algs": ("RS256", "ES256"),
        "auth_methods": ("client_secret_basic", "none"),
        "auth_methods_confidential": ("client_secret_basic",),
        "assertion_algs": ("RS256",),
        "grant_types": ("authorization_code", "refresh_token"),
    }
    values.update(overrides)
    return server_metadata(**values)


def test_oidc_discovery_3_required_fields_are_present() -> None:
    meta = metadata()
    for name in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert meta[name], name
    assert meta["issuer"] == ISSUER
    assert meta["registration_endpoint"] == f"{ISSUER}/register"


def test_oidc_discovery_3_lists_reflect_the_arguments() -> None:
    meta = metadata()
    assert meta["scopes_supported"] == ["openid", "profile"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "none"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["claims_supported"] == list(SUPPORTED_CLAIMS)


def test_rfc8414_2_only_what_is_supported_is_advertised() -> None:
    meta = metadata()
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "none" not in meta["id_token_signing_alg_values_supported"]
    assert meta["request_parameter_supported"] is False
    assert meta["request_uri_parameter_supported"] is False
    assert meta["claims_parameter_supported"] is False


def test_rfc9207_3_iss_parameter_is_advertised() -> None:
    assert metadata()["authorization_response_iss_parameter_supported"] is True


def test_rfc8414_2_registration_endpoint_omitted_when_closed() -> None:
    assert "registration_endpoint" not in metadata(registration_endpoint=None)
