"""Authorization server metadata. Spec: OIDC Discovery 1.0 §3; RFC 8414 §2; RFC 9207 §3."""

from __future__ import annotations

from typing import Any

from authgate.core.claims import SUPPORTED_CLAIMS

__all__ = ["server_metadata"]


def server_metadata(
    *,
    issuer: str,
    authorization_endpoint: str,
    token_endpoint: str,
    userinfo_endpoint: str,
    introspection_endpoint: str,
    revocation_endpoint: str,
    jwks_uri: str,
    registration_endpoint: str | None,
    scopes: tuple[str, ...],
    signing_algs: tuple[str, ...],
    auth_methods: tuple[str, ...],
    auth_methods_confidential: tuple[str, ...],
    assertion_algs: tuple[str, ...],
    grant_types: tuple[str, ...],
) -> dict[str, Any]:
    """Everything the server supports, and nothing it does not (clients rely on it)."""
    meta: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": authorization_endpoint,
        "token_endpoint": token_endpoint,
        "userinfo_endpoint": userinfo_endpoint,
        "introspection_endpoint": introspection_endpoint,
        "revocation_endpoint": revocation_endpoint,
        "jwks_uri": jwks_uri,
        "scopes_supported": list(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": list(grant_types),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(signing_algs),
        "token_endpoint_auth_methods_supported": list(auth_methods),
        "token_endpoint_auth_signing_alg_values_supported": list(assertion_algs),
        "introspection_endpoint_auth_methods_supported": list(auth_methods_confidential),
        "introspection_endpoint_auth_signing_alg_values_supported": list(assertion_algs),
        "revocation_endpoint_auth_methods_supported": list(auth_methods),
        "revocation_endpoint_auth_signing_alg_values_supported": list(assertion_algs),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(SUPPORTED_CLAIMS),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["en"],
        "claim_types_supported": ["normal"],
    }
    if registration_endpoint is not None:
        meta["registration_endpoint"] = registration_endpoint
    return meta
