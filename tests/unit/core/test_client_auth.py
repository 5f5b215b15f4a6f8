"""Extracting client credentials. Spec: RFC 6749 §2.3, §2.3.1; RFC 7523 §2.2; OIDC Core §9."""

from __future__ import annotations

import base64

import pytest

from authgate.core.client_auth import JWT_BEARER_ASSERTION, ClientCredentials, extract_credentials
from authgate.core.errors import InvalidClient, InvalidRequest
from authgate.core.models import AuthMethod
from authgate.core.params import Params, parse_urlencoded

NO_PARAMS = Params({})


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


def test_rfc6749_2_3_1_basic_credentials_are_extracted() -> None:
    creds = extract_credentials(basic("client-1:s3cret"), NO_PARAMS)
    assert creds == ClientCredentials(AuthMethod.CLIENT_SECRET_BASIC, "client-1", secret="s3cret")


def test_rfc6749_2_3_1_basic_id_and_secret_are_form_urlencoded() -> None:
    creds = extract_credentials(basic("a+b:p%3Ass%2Bw+rd%25"), NO_PARAMS)
    assert creds.client_id == "a b"
    assert creds.secret == "p:ss+w rd%"


def test_rfc6749_2_3_1_basic_secret_may_contain_raw_colons() -> None:
    creds = extract_credentials(basic("client:a:b"), NO_PARAMS)
    assert (creds.client_id, creds.secret) == ("client", "a:b")


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_rfc7617_2_basic_scheme_is_case_insensitive(scheme: str) -> None:
    token = base64.b64encode(b"c:s").decode()
    assert extract_credentials(f"{scheme} {token}", NO_PARAMS).client_id == "c"


def test_rfc6749_2_3_1_basic_with_matching_body_client_id_is_ok() -> None:
    creds = extract_credentials(basic("c:s"), parse_urlencoded("client_id=c"))
    assert creds.method is AuthMethod.CLIENT_SECRET_BASIC


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":secret").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b"c\x00:s").decode(),
        "Basic " + base64.b64encode(b"c:%00").decode(),
        "Basic " + base64.b64encode(b"c:s").decode()[:-1],
        "Basic",
        "Basic   ",
        "Bearer abc",
        "",
    ],
    ids=[
        "bad-base64",
        "no-colon",
        "empty-id",
        "not-utf8",
        "nul-in-id",
        "nul-in-secret",
        "truncated",
        "no-value",
        "blank-value",
        "other-scheme",
        "empty-header",
    ],
)
def test_rfc6749_5_2_malformed_basic_is_invalid_client_with_challenge(header: str) -> None:
    with pytest.raises(InvalidClient) as exc:
        extract_credentials(header, NO_PARAMS)
    assert exc.value.status_code == 401
    assert exc.value.basic is True
    assert exc.value.headers()["WWW-Authenticate"].startswith("Basic ")


def test_rfc6749_2_3_basic_and_client_secret_in_body_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="exactly one"):
        extract_credentials(basic("c:s"), parse_urlencoded("client_id=c&client_secret=s"))


def test_rfc6749_2_3_basic_and_client_assertion_is_invalid_request() -> None:
    body = parse_urlencoded(f"client_assertion=x.y.z&client_assertion_type={JWT_BEARER_ASSERTION}")
    with pytest.raises(InvalidRequest, match="exactly one"):
        extract_credentials(basic("c:s"), body)


def test_rfc6749_2_3_client_secret_and_client_assertion_is_invalid_request() -> None:
    body = parse_urlencoded(
        "client_id=c&client_secret=s&client_assertion=x.y.z"
        f"&client_assertion_type={JWT_BEARER_ASSERTION}"
    )
    with pytest.raises(InvalidRequest, match="exactly one"):
        extract_credentials(None, body)


def test_rfc6749_2_3_1_body_client_id_differing_from_basic_is_invalid_client() -> None:
    with pytest.raises(InvalidClient, match="does not match") as exc:
        extract_credentials(basic("c:s"), parse_urlencoded("client_id=other"))
    assert exc.value.basic is True
    assert "WWW-Authenticate" in exc.value.headers()


def test_rfc6749_2_3_1_client_secret_post() -> None:
    creds = extract_credentials(None, parse_urlencoded("client_id=c&client_secret=s%3Ax"))
    assert creds == ClientCredentials(AuthMethod.CLIENT_SECRET_POST, "c", secret="s:x")


def test_rfc6749_2_3_1_client_secret_without_client_id_is_invalid_client() -> None:
    with pytest.raises(InvalidClient, match="required") as exc:
        extract_credentials(None, parse_urlencoded("client_secret=s"))
    assert exc.value.basic is False
    assert exc.value.headers() == {}


def test_rfc6749_2_1_public_client_sends_only_client_id() -> None:
    creds = extract_credentials(None, parse_urlencoded("client_id=public-app"))
    assert creds == ClientCredentials(AuthMethod.NONE, "public-app")
    assert creds.secret is None
    assert creds.assertion is None


def test_rfc7523_2_2_private_key_jwt_assertion() -> None:
    body = parse_urlencoded(
        f"client_id=c&client_assertion=a.b.c&client_assertion_type={JWT_BEARER_ASSERTION}"
    )
    creds = extract_credentials(None, body)
    assert creds == ClientCredentials(AuthMethod.PRIVATE_KEY_JWT, "c", assertion="a.b.c")


def test_rfc7523_3_private_key_jwt_client_id_is_optional() -> None:
    body = parse_urlencoded(f"client_assertion=a.b.c&client_assertion_type={JWT_BEARER_ASSERTION}")
    creds = extract_credentials(None, body)
    assert creds.method is AuthMethod.PRIVATE_KEY_JWT
    assert creds.client_id == ""


@pytest.mark.parametrize(
    "assertion_type",
    ["", "&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:saml2-bearer"],
    ids=["missing", "saml"],
)
def test_rfc7523_2_2_wrong_client_assertion_type_is_invalid_request(assertion_type: str) -> None:
    body = parse_urlencoded("client_id=c&client_assertion=a.b.c" + assertion_type)
    with pytest.raises(InvalidRequest, match="client_assertion_type"):
        extract_credentials(None, body)


def test_rfc6749_2_3_no_credentials_at_all_is_invalid_client() -> None:
    with pytest.raises(InvalidClient, match="required") as exc:
        extract_credentials(None, NO_PARAMS)
    assert exc.value.status_code == 401
    assert exc.value.basic is False


def test_rfc6749_3_1_repeated_client_secret_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="more than once"):
        extract_credentials(None, parse_urlencoded("client_id=c&client_secret=a&client_secret=b"))
