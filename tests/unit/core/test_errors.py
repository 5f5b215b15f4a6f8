"""OAuth errors. Spec: RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3, §3.1; RFC 7591 §3.2.2;
OIDC Core §3.1.2.6."""

from __future__ import annotations

import inspect
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core import errors
from authgate.core.errors import (
    InsufficientScope,
    InvalidClient,
    InvalidRequest,
    InvalidToken,
    OAuthError,
    safe_description,
)
from tests.unit.strategies import PROPERTY

# RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
DESCRIPTION_CHARSET = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")
ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, OAuthError) and cls is not OAuthError
]

EXPECTED_CODES = {
    "AccessDenied": ("access_denied", 403),
    "ConsentRequired": ("consent_required", 400),
    "InsufficientScope": ("insufficient_scope", 403),
    "InteractionRequired": ("interaction_required", 400),
    "InvalidClient": ("invalid_client", 401),
    "InvalidClientMetadata": ("invalid_client_metadata", 400),
    "InvalidGrant": ("invalid_grant", 400),
    "InvalidRedirectUri": ("invalid_redirect_uri", 400),
    "InvalidRequest": ("invalid_request", 400),
    "InvalidScope": ("invalid_scope", 400),
    "InvalidTarget": ("invalid_target", 400),
    "InvalidToken": ("invalid_token", 401),
    "LoginRequired": ("login_required", 400),
    "RegistrationNotSupported": ("registration_not_supported", 400),
    "RequestNotSupported": ("request_not_supported", 400),
    "RequestUriNotSupported": ("request_uri_not_supported", 400),
    "ServerError": ("server_error", 500),
    "TemporarilyUnavailable": ("temporarily_unavailable", 503),
    "UnauthorizedClient": ("unauthorized_client", 400),
    "UnsupportedGrantType": ("unsupported_grant_type", 400),
    "UnsupportedResponseType": ("unsupported_response_type", 400),
    "UnsupportedTokenType": ("unsupported_token_type", 400),
}


def test_rfc6749_5_2_one_class_per_error_code_with_status() -> None:
    assert {cls.__name__: (cls.error, cls.status_code) for cls in ERROR_CLASSES} == EXPECTED_CODES


def test_design_all_is_true() -> None:
    exported = {name for name in errors.__all__ if name not in ("OAuthError", "safe_description")}
    assert exported == {cls.__name__ for cls in ERROR_CLASSES}


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_rfc6749_5_2_error_classes_document_their_definition(cls: type[OAuthError]) -> None:
    assert cls.__doc__
    assert "RFC" in cls.__doc__ or "OpenID" in cls.__doc__


def test_rfc6749_5_2_body_has_error_and_description() -> None:
    err = InvalidRequest("missing parameter", debug="internal detail")
    assert err.body() == {"error": "invalid_request", "error_description": "missing parameter"}
    assert "internal detail" not in str(err.body())
    assert err.debug == "internal detail"
    assert err.headers() == {}


@pytest.mark.parametrize("description", [None, ""])
def test_rfc6749_5_2_body_without_description_has_only_error(description: str | None) -> None:
    err = InvalidRequest(description)
    assert err.description is None
    assert err.body() == {"error": "invalid_request"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('say "hi"', "say ?hi?"),
        ("a\\b", "a?b"),
        ("caf\u00e9 \u2713", "caf? ?"),
        ("line\nbreak\ttab\x00", "line?break?tab?"),
        ("\x7f", "?"),
        ("ok !#$%&'()*+,-./:;<=>?@[]^_`{|}~", "ok !#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
    ],
)
def test_rfc6749_5_2_description_charset_is_sanitised(text: str, expected: str) -> None:
    assert safe_description(text) == expected
    assert InvalidRequest(text).body()["error_description"] == expected


def test_rfc6749_5_2_description_is_bounded() -> None:
    assert len(safe_description("x" * 10_000)) == 500


@given(st.text(min_size=1))
@PROPERTY
def test_rfc6749_5_2_any_description_is_within_the_charset(text: str) -> None:
    err = InvalidRequest(text)
    assert err.description is not None
    assert DESCRIPTION_CHARSET.fullmatch(err.description)
    assert InvalidToken(text).headers()["WWW-Authenticate"] == (
        f'Bearer realm="authgate", error="invalid_token", error_description="{err.description}"'
    )


def test_rfc6749_5_2_invalid_client_basic_has_www_authenticate() -> None:
    err = InvalidClient("bad secret", basic=True)
    assert err.status_code == 401
    assert err.headers() == {"WWW-Authenticate": 'Basic realm="authgate"'}


def test_rfc6749_5_2_invalid_client_without_basic_has_no_challenge() -> None:
    assert InvalidClient("unknown client").headers() == {}


def test_rfc6750_3_invalid_token_challenge() -> None:
    err = InvalidToken("the token expired")
    assert err.status_code == 401
    assert err.headers() == {
        "WWW-Authenticate": (
            'Bearer realm="authgate", error="invalid_token", error_description="the token expired"'
        )
    }


def test_rfc6750_3_invalid_token_challenge_without_description() -> None:
    assert InvalidToken().headers() == {
        "WWW-Authenticate": 'Bearer realm="authgate", error="invalid_token"'
    }


def test_rfc6750_3_challenge_cannot_be_broken_by_quotes_in_description() -> None:
    header = InvalidToken('x", error="forged').headers()["WWW-Authenticate"]
    assert header.count('"') == 6
    assert 'error="forged' not in header


def test_rfc6750_3_1_insufficient_scope_challenge_carries_scope() -> None:
    err = InsufficientScope("needs more", scope="api:read api:write")
    assert err.status_code == 403
    assert err.headers() == {
        "WWW-Authenticate": (
            'Bearer realm="authgate", error="insufficient_scope", '
            'error_description="needs more", scope="api:read api:write"'
        )
    }


def test_rfc6750_3_insufficient_scope_scope_is_sanitised() -> None:
    err = InsufficientScope(scope='a" b\\')
    assert err.headers()["WWW-Authenticate"] == (
        'Bearer realm="authgate", error="insufficient_scope", scope="a? b?"'
    )
