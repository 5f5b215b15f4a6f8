"""Dynamic client registration metadata. Spec: RFC 7591 §2, §2.1, §3.2.2; OIDC DCR 1.0 §2;
RFC 8252 §8.4; OIDC Core §16 / RFC 9700 (SSRF in metadata URLs)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core.errors import InvalidClientMetadata, InvalidRedirectUri
from authgate.core.models import ApplicationType, AuthMethod
from authgate.core.registration import ClientMetadata, is_public_https_url, validate_metadata
from tests.unit.strategies import PROPERTY

ALGS = ("RS256", "ES256", "EdDSA")
CB = "https://rp.example/cb"
PUBLIC_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def body(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"redirect_uris": [CB]}
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def validate(**fields: Any) -> ClientMetadata:
    return validate_metadata(body(**fields), ALGS)


def test_rfc7591_2_defaults() -> None:
    assert validate() == ClientMetadata(
        redirect_uris=(CB,),
        token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
        grant_types=("authorization_code",),
        response_types=("code",),
        application_type=ApplicationType.WEB,
        scope=None,
        client_name=None,
        id_token_signed_response_alg=None,
        post_logout_redirect_uris=(),
        jwks=None,
        jwks_uri=None,
        extra={},
    )


def test_rfc7591_2_full_metadata_is_kept() -> None:
    meta = validate(
        redirect_uris=[CB, "https://rp.example/cb2", CB],
        token_endpoint_auth_method="private_key_jwt",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        application_type="web",
        scope="openid profile profile",
        client_name="RP",
        id_token_signed_response_alg="ES256",
        post_logout_redirect_uris=["https://rp.example/bye"],
        jwks={"keys": [PUBLIC_JWK]},
        client_uri="https://rp.example/",
        logo_uri="https://cdn.rp.example/logo.png",
        policy_uri="https://rp.example/policy",
        tos_uri="https://rp.example/tos",
        contacts=["admin@rp.example"],
    )
    assert meta.redirect_uris == (CB, "https://rp.example/cb2")
    assert meta.token_endpoint_auth_method is AuthMethod.PRIVATE_KEY_JWT
    assert meta.grant_types == ("authorization_code", "refresh_token")
    assert meta.scope == ("openid", "profile")
    assert meta.client_name == "RP"
    assert meta.id_token_signed_response_alg == "ES256"
    assert meta.post_logout_redirect_uris == ("https://rp.example/bye",)
    assert meta.jwks == {"keys": [PUBLIC_JWK]}
    assert meta.extra == {
        "client_uri": "https://rp.example/",
        "logo_uri": "https://cdn.rp.example/logo.png",
        "policy_uri": "https://rp.example/policy",
        "tos_uri": "https://rp.example/tos",
        "contacts": ["admin@rp.example"],
    }


def test_rfc7591_2_unknown_metadata_is_ignored() -> None:
    meta = validate(software_statement_x=1, frobnicate={"a": [1]}, client_secret="mine")
    assert meta.extra == {}


def test_rfc7591_2_client_credentials_only_client_needs_no_redirect_uris() -> None:
    meta = validate(redirect_uris=None, grant_types=["client_credentials"])
    assert meta.grant_types == ("client_credentials",)
    assert meta.response_types == ()
    assert meta.redirect_uris == ()


def test_oidc_dcr_2_native_client_with_private_use_scheme() -> None:
    meta = validate(
        application_type="native",
        redirect_uris=["com.example.app:/cb", "http://127.0.0.1/cb"],
        token_endpoint_auth_method="none",
    )
    assert meta.application_type is ApplicationType.NATIVE
    assert meta.token_endpoint_auth_method is AuthMethod.NONE


@pytest.mark.parametrize("value", [None, [], "x", 1, True])
def test_rfc7591_3_2_2_body_not_an_object_is_invalid_client_metadata(value: Any) -> None:
    with pytest.raises(InvalidClientMetadata, match="JSON object"):
        validate_metadata(value, ALGS)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"redirect_uris": CB}, "redirect_uris must be an array of strings"),
        ({"redirect_uris": [CB, 1]}, "redirect_uris must be an array of strings"),
        ({"redirect_uris": [f"{CB}{i}" for i in range(51)]}, "too many entries"),
        ({"grant_types": "authorization_code"}, "grant_types must be an array"),
        ({"response_types": [None]}, "response_types must be an array"),
        ({"contacts": "admin@rp.example"}, "contacts must be an array"),
        ({"post_logout_redirect_uris": {}}, "post_logout_redirect_uris must be an array"),
        ({"client_name": 7}, "client_name must be a string"),
        ({"client_name": "n" * 201}, "client_name must be a string of at most 200"),
        ({"scope": ["openid"]}, "scope must be a string"),
        ({"jwks_uri": True}, "jwks_uri must be a string"),
        ({"logo_uri": {"url": "https://x.example"}}, "logo_uri must be a string"),
        ({"application_type": 1}, "application_type must be a string"),
        ({"token_endpoint_auth_method": ["none"]}, "token_endpoint_auth_method must be a string"),
        ({"id_token_signed_response_alg": 256}, "id_token_signed_response_alg must be a string"),
    ],
)
def test_rfc7591_3_2_2_wrong_types_are_invalid_client_metadata(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidClientMetadata, match=message) as exc:
        validate(**fields)
    assert exc.value.error == "invalid_client_metadata"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"application_type": "desktop"}, "unsupported application_type"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "unsupported token_endpoint"),
        ({"token_endpoint_auth_method": "tls_client_auth"}, "unsupported token_endpoint"),
        ({"grant_types": ["authorization_code", "implicit"]}, "unsupported grant type"),
        ({"grant_types": ["password"]}, "unsupported grant type"),
        ({"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}, "unsupported grant"),
        ({"response_types": ["token"]}, "only the response type 'code'"),
        ({"response_types": ["code", "id_token"]}, "only the response type 'code'"),
        ({"response_types": ["code id_token"]}, "only the response type 'code'"),
    ],
)
def test_rfc7591_2_unsupported_values_are_invalid_client_metadata(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidClientMetadata, match=message):
        validate(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"grant_types": ["refresh_token"], "response_types": ["code"]},
        {"grant_types": ["authorization_code"], "response_types": []},
        {"grant_types": ["client_credentials"], "response_types": ["code"]},
    ],
)
def test_rfc7591_2_1_code_response_type_and_authorization_code_grant_go_together(
    fields: dict[str, Any],
) -> None:
    with pytest.raises(InvalidClientMetadata, match="go together"):
        validate(**fields)


@pytest.mark.parametrize("redirect_uris", [None, []])
def test_rfc7591_2_missing_redirect_uris_for_code_flow_is_invalid_redirect_uri(
    redirect_uris: list[str] | None,
) -> None:
    fields = {"redirect_uris": redirect_uris} if redirect_uris is not None else {}
    with pytest.raises(InvalidRedirectUri, match="redirect_uris is required"):
        validate_metadata(fields, ALGS)


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb#frag",
        "http://rp.example/cb",
        "https://*.rp.example/cb",
        "javascript:alert(1)",
        "com.example.app:/cb",
        "https://u@rp.example/cb",
    ],
)
def test_rfc7591_3_2_2_bad_redirect_uri_is_invalid_redirect_uri(uri: str) -> None:
    with pytest.raises(InvalidRedirectUri) as exc:
        validate(redirect_uris=[CB, uri])
    assert exc.value.error == "invalid_redirect_uri"


def test_oidc_rp_initiated_logout_bad_post_logout_redirect_uri_is_rejected() -> None:
    with pytest.raises(InvalidRedirectUri):
        validate(post_logout_redirect_uris=["https://rp.example/bye#x"])


def test_rfc8252_8_4_web_client_cannot_register_private_use_scheme() -> None:
    with pytest.raises(InvalidRedirectUri):
        validate(application_type="web", redirect_uris=["com.example.app:/cb"])


def test_rfc6749_2_1_public_client_cannot_use_client_credentials() -> None:
    with pytest.raises(InvalidClientMetadata, match="public clients"):
        validate(
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "client_credentials"],
        )


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_rfc7517_jwks_with_private_members_is_rejected(member: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="public keys only"):
        validate(jwks={"keys": [{**PUBLIC_JWK, member: "secret"}]})


@pytest.mark.parametrize(
    "jwks",
    [
        [PUBLIC_JWK],
        {"keys": []},
        {"keys": PUBLIC_JWK},
        {"keys": [PUBLIC_JWK] * 21},
        {"keys": ["not-a-key"]},
        {"keys": [{"crv": "Ed25519"}]},
        {"keys": [{"kty": 1}]},
        "jwks",
    ],
)
def test_rfc7591_2_malformed_jwks_is_rejected(jwks: Any) -> None:
    with pytest.raises(InvalidClientMetadata, match="jwks"):
        validate(jwks=jwks)


def test_rfc7591_2_jwks_and_jwks_uri_are_mutually_exclusive() -> None:
    with pytest.raises(InvalidClientMetadata, match="mutually exclusive"):
        validate(jwks={"keys": [PUBLIC_JWK]}, jwks_uri="https://rp.example/jwks.json")


def test_rfc7591_2_jwks_uri_on_public_host_is_accepted() -> None:
    meta = validate(token_endpoint_auth_method="private_key_jwt", jwks_uri="https://rp.example/j")
    assert meta.jwks_uri == "https://rp.example/j"
    assert meta.jwks is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example/jwks.json",
        "https://localhost/jwks.json",
        "https://app.localhost/jwks.json",
        "https://printer.local/jwks.json",
        "https://metadata.internal/jwks.json",
        "https://127.0.0.1/jwks.json",
        "https://10.0.0.1/jwks.json",
        "https://192.168.1.10/jwks.json",
        "https://172.16.0.1/jwks.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/jwks.json",
        "https://[fe80::1]/jwks.json",
        "https://[fd00::1]/jwks.json",
        "https://[::ffff:10.0.0.1]/jwks.json",
        "https://0.0.0.0/jwks.json",
        "https://intranet/jwks.json",
        "https://user@rp.example/jwks.json",
        "https://rp.example/jwks.json#x",
        "https:///jwks.json",
        "https://[::1/jwks.json",
        "file:///etc/passwd",
    ],
)
def test_oidc_core_16_jwks_uri_to_non_public_host_is_rejected(uri: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="jwks_uri must be an https URL"):
        validate(token_endpoint_auth_method="private_key_jwt", jwks_uri=uri)


def test_oidc_core_9_private_key_jwt_without_keys_is_rejected() -> None:
    with pytest.raises(InvalidClientMetadata, match="requires jwks or jwks_uri"):
        validate(token_endpoint_auth_method="private_key_jwt")


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "rs256", "A" * 21])
def test_oidc_dcr_2_unsupported_id_token_alg_is_rejected(alg: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="id_token_signed_response_alg"):
        validate(id_token_signed_response_alg=alg)


@pytest.mark.parametrize("scope", ["openid  profile", 'open"id', " openid"])
def test_rfc7591_2_malformed_scope_is_invalid_client_metadata(scope: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="scope is malformed"):
        validate(scope=scope)


@pytest.mark.parametrize("name", ["client_uri", "logo_uri", "policy_uri", "tos_uri"])
@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/logo.png",
        "https://169.254.169.254/latest/meta-data",
        "http://rp.example/logo.png",
        "https://localhost/logo.png",
        "javascript:alert(1)",
    ],
)
def test_oidc_core_16_display_urls_must_be_https_on_public_hosts(name: str, url: str) -> None:
    with pytest.raises(InvalidClientMetadata, match=f"{name} must be an https URL"):
        validate(**{name: url})


@pytest.mark.parametrize(
    "url",
    ["https://rp.example/x", "https://8.8.8.8/x", "https://[2001:4860:4860::8888]/x"],
)
def test_oidc_core_16_public_https_urls(url: str) -> None:
    assert is_public_https_url(url)


@pytest.mark.parametrize("url", ["https://127.1/x", "https://10.1/x", "https://0x7f.0.0.1/x"])
def test_oidc_core_16_shorthand_ipv4_hosts_are_not_public(url: str) -> None:
    assert not is_public_https_url(url)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_known = st.sampled_from(
    [
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "application_type",
        "scope",
        "client_name",
        "id_token_signed_response_alg",
        "post_logout_redirect_uris",
        "jwks",
        "jwks_uri",
        "client_uri",
        "logo_uri",
        "contacts",
    ]
)
_plausible = st.one_of(
    _json,
    st.sampled_from(
        [
            [CB],
            ["com.example.app:/cb"],
            "none",
            "private_key_jwt",
            "native",
            ["client_credentials"],
            ["authorization_code", "refresh_token"],
            {"keys": [PUBLIC_JWK]},
            "https://rp.example/x",
            "ES256",
        ]
    ),
)


@given(st.one_of(_json, st.dictionaries(_known, _plausible, max_size=8)))
@PROPERTY
def test_rfc7591_3_2_2_arbitrary_json_raises_only_oauth_errors(value: Any) -> None:
    try:
        meta = validate_metadata(value, ALGS)
    except (InvalidClientMetadata, InvalidRedirectUri):
        return
    assert isinstance(meta, ClientMetadata)
    assert ("code" in meta.response_types) == ("authorization_code" in meta.grant_types)
