"""Bearer token extraction at a protected resource. Spec: RFC 6750 §2.1-§2.3, §3, §3.1;
RFC 9700 §4.3.2; OAuth 2.1 §5.2."""

from __future__ import annotations

import pytest

from authgate.core.bearer import MissingToken, extract_bearer
from authgate.core.errors import InvalidRequest, InvalidToken
from authgate.core.params import Params, parse_urlencoded

EMPTY = Params({})
TOKEN = "agat_abc-DEF.123~+/=="


def test_rfc6750_2_1_authorization_header() -> None:
    assert extract_bearer(f"Bearer {TOKEN}", EMPTY, None) == TOKEN


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_rfc6750_2_1_scheme_is_case_insensitive(scheme: str) -> None:
    assert extract_bearer(f"{scheme} abc", EMPTY, EMPTY) == "abc"


def test_rfc6750_2_1_surrounding_whitespace_is_ignored() -> None:
    assert extract_bearer("Bearer   abc  ", EMPTY, None) == "abc"


def test_rfc6750_2_2_form_encoded_body() -> None:
    form = parse_urlencoded("access_token=abc&other=1")
    assert extract_bearer(None, EMPTY, form) == "abc"


def test_rfc6750_2_both_header_and_body_is_invalid_request() -> None:
    form = parse_urlencoded("access_token=abc")
    with pytest.raises(InvalidRequest, match="one place only") as exc:
        extract_bearer("Bearer abc", EMPTY, form)
    assert exc.value.status_code == 400


@pytest.mark.parametrize("header", [None, "Bearer abc"])
def test_rfc9700_4_3_2_token_in_query_is_invalid_request(header: str | None) -> None:
    with pytest.raises(InvalidRequest, match="query string"):
        extract_bearer(header, parse_urlencoded("access_token=abc"), None)


def test_rfc9700_4_3_2_repeated_token_in_query_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer(None, parse_urlencoded("access_token=a&access_token=b"), None)


def test_rfc6750_2_2_repeated_token_in_body_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="more than once"):
        extract_bearer(None, EMPTY, parse_urlencoded("access_token=a&access_token=b"))


@pytest.mark.parametrize("header", ["Basic YTpi", "Token abc", "abc", "", "Bearerabc"])
def test_rfc6750_3_1_non_bearer_scheme_is_missing_token_with_bare_challenge(header: str) -> None:
    with pytest.raises(MissingToken) as exc:
        extract_bearer(header, EMPTY, None)
    assert exc.value.status_code == 401
    assert exc.value.headers() == {"WWW-Authenticate": 'Bearer realm="authgate"'}
    assert "error=" not in exc.value.headers()["WWW-Authenticate"]


@pytest.mark.parametrize("form", [None, EMPTY, parse_urlencoded("access_token=")])
def test_rfc6750_3_1_no_token_at_all_is_missing_token(form: Params | None) -> None:
    with pytest.raises(MissingToken) as exc:
        extract_bearer(None, EMPTY, form)
    assert exc.value.body() == {}  # RFC 6750 §3.1: no error information


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer =abc", "Bearer a=b", "Bearer \u00e9"],
)
def test_rfc6750_2_1_malformed_b64token_is_invalid_token(header: str) -> None:
    with pytest.raises(InvalidToken, match="malformed") as exc:
        extract_bearer(header, EMPTY, None)
    assert not isinstance(exc.value, MissingToken)
    assert exc.value.headers()["WWW-Authenticate"].startswith('Bearer realm="authgate", error=')
