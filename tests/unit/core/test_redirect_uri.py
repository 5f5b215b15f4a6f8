"""Redirect URI registration rules and exact matching.

Spec: RFC 6749 §3.1.2, §3.1.2.3; RFC 9700 §4.1.3; RFC 8252 §7.1, §7.3, §8.3, §8.4;
OAuth 2.1 §2.3.1; RFC 7591 §2.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core.errors import InvalidRedirectUri
from authgate.core.models import ApplicationType
from authgate.core.redirect_uri import is_loopback_host, match_redirect_uri, validate_redirect_uri
from tests.unit.strategies import PROPERTY

WEB = ApplicationType.WEB
NATIVE = ApplicationType.NATIVE
REGISTERED = "https://client.example/cb"


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example/cb",
        "https://client.example:8443/cb?x=1",
        "https://client.example",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:9000/cb",
        "http://[::1]:9000/cb",
        "http://localhost:3000/cb",
    ],
)
@pytest.mark.parametrize("app", [WEB, NATIVE])
def test_oauth21_2_3_1_https_and_loopback_http_are_registrable(
    uri: str, app: ApplicationType
) -> None:
    assert validate_redirect_uri(uri, app) == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://client.example/cb#frag", "fragment"),
        ("https://client.example/cb#", "fragment"),
        ("http://client.example/cb", "only allowed on loopback"),
        ("HTTP://client.example/cb", "only allowed on loopback"),
        ("http://10.0.0.1/cb", "only allowed on loopback"),
        ("https://user@client.example/cb", "user information"),
        ("https://user:pw@client.example/cb", "user information"),
        ("https://client.example@evil.example/cb", "user information"),
        ("https://*.client.example/cb", "wildcard"),
        ("https://client.example/*", "wildcard"),
        ("javascript:alert(1)", "not allowed"),
        ("JavaScript://client.example/%0aalert(1)", "not allowed"),
        ("data:text/html,hi", "not allowed"),
        ("file:///etc/passwd", "not allowed"),
        ("vbscript:msgbox", "not allowed"),
        ("https://client.example/c b", "whitespace"),
        ("https://client.example/cb\n", "whitespace"),
        (" https://client.example/cb", "whitespace"),
        ("https://client.example\\@evil.example/cb", "whitespace"),
        ("https://client.ex\u00e4mple/cb", "non-ASCII"),
        ("https://client.example/cb\x7f", "control"),
        ("/cb", "absolute"),
        ("//client.example/cb", "absolute"),
        ("https:///cb", "must name a host"),
        ("https://client.example:0/cb", "port is invalid"),
        ("https://client.example:99999/cb", "not a valid URI"),
        ("https://[::1/cb", "not a valid URI"),
        ("", "empty or too long"),
        ("https://client.example/" + "a" * 2000, "empty or too long"),
    ],
)
def test_rfc6749_3_1_2_invalid_web_redirect_uri_is_rejected(uri: str, message: str) -> None:
    with pytest.raises(InvalidRedirectUri, match=message) as exc:
        validate_redirect_uri(uri, WEB)
    assert exc.value.error == "invalid_redirect_uri"


@pytest.mark.parametrize("uri", ["com.example.app:/cb", "com.example.app://oauth/cb"])
def test_rfc8252_7_1_native_private_use_scheme_in_reverse_domain_form_is_ok(uri: str) -> None:
    assert validate_redirect_uri(uri, NATIVE) == uri


def test_rfc8252_7_1_native_private_use_scheme_without_dot_is_rejected() -> None:
    with pytest.raises(InvalidRedirectUri, match="reverse domain name"):
        validate_redirect_uri("myapp:/cb", NATIVE)


def test_rfc8252_8_4_web_client_cannot_register_private_use_scheme() -> None:
    with pytest.raises(InvalidRedirectUri, match="web clients must use https"):
        validate_redirect_uri("com.example.app:/cb", WEB)


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:/cb#x",
        "javascript:alert(1)",
        "data:text/html,x",
        "com.example.app:/*",
        "com.example.app:/c b",
        "http://client.example/cb",
    ],
)
def test_rfc8252_8_4_native_dangerous_redirect_uri_is_rejected(uri: str) -> None:
    with pytest.raises(InvalidRedirectUri):
        validate_redirect_uri(uri, NATIVE)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("localhost.evil.example", False),
        ("", False),
        (None, False),
        ("not-an-ip", False),
    ],
)
def test_rfc8252_7_3_loopback_hosts(host: str | None, expected: bool) -> None:
    assert is_loopback_host(host) is expected


# --- matching --------------------------------------------------------------------------------


def test_rfc6749_3_1_2_3_exactly_registered_uri_matches() -> None:
    assert match_redirect_uri(REGISTERED, (REGISTERED,), WEB)
    assert match_redirect_uri(REGISTERED, ("https://other.example/cb", REGISTERED), WEB)


@pytest.mark.parametrize(
    "requested",
    [
        "https://client.example/CB",
        "https://CLIENT.example/cb",
        "HTTPS://client.example/cb",
        "https://client.example/cb/",
        "https://client.example/cb?extra=1",
        "https://client.example/cb?",
        "https://client.example/cb#",
        "https://client.example:443/cb",
        "https://client.example:8443/cb",
        "https://client.example/cb/../cb",
        "https://client.example/%63b",
        "https://client.example/c%62",
        "https://client.example%2Fcb",
        "https://client.example/cb%20",
        "http://client.example/cb",
        "https://client.example@evil.example/cb",
        "https://client.example/cb@evil.example",
        "https://evil.example/https://client.example/cb",
        "https://client.example\\@evil.example/cb",
        "https://client.example\\.evil.example/cb",
        "https://client.example.evil.example/cb",
        "https://client.example/cbx",
        "https://client.example/c",
        " https://client.example/cb",
        "https://client.example/cb ",
        "",
    ],
)
@pytest.mark.parametrize("app", [WEB, NATIVE])
def test_rfc9700_4_1_3_anything_but_the_exact_string_does_not_match(
    requested: str, app: ApplicationType
) -> None:
    assert not match_redirect_uri(requested, (REGISTERED,), app)


def test_rfc9700_4_1_3_no_registered_uris_matches_nothing() -> None:
    assert not match_redirect_uri(REGISTERED, (), WEB)


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1:9000/cb"),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1/cb"),
        ("http://[::1]/cb", "http://[::1]:4000/cb"),
        ("http://127.0.0.1/cb?x=1", "http://127.0.0.1:1/cb?x=1"),
    ],
)
def test_rfc8252_7_3_native_loopback_ip_matches_on_any_port(
    registered: str, requested: str
) -> None:
    assert match_redirect_uri(requested, (registered,), NATIVE)


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"),
        ("http://[::1]/cb", "http://[::1]:4000/cb"),
    ],
)
def test_rfc8252_7_3_port_variance_is_not_allowed_for_web_clients(
    registered: str, requested: str
) -> None:
    assert not match_redirect_uri(requested, (registered,), WEB)


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://localhost/cb", "http://localhost:5000/cb"),
        ("http://localhost:3000/cb", "http://localhost:5000/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5000/other"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb/"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb?x=1"),
        ("http://127.0.0.1/cb?x=1", "http://127.0.0.1:5000/cb?x=2"),
        ("http://127.0.0.1/cb", "http://127.0.0.2:5000/cb"),
        ("http://127.0.0.1/cb", "http://[::1]:5000/cb"),
        ("http://127.0.0.1/cb", "https://127.0.0.1:5000/cb"),
        ("https://127.0.0.1/cb", "https://127.0.0.1:5000/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb#x"),
        ("http://127.0.0.1/cb", "http://u@127.0.0.1:5000/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5000\\@evil.example/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:05000/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:99999/cb"),
        ("http://127.0.0.1/cb", "http://[::1:5000/cb"),
        ("com.example.app:/cb", "com.example.app:/cb2"),
    ],
)
def test_rfc8252_7_3_native_port_exception_covers_only_the_port_of_loopback_ips(
    registered: str, requested: str
) -> None:
    assert not match_redirect_uri(requested, (registered,), NATIVE)


def test_rfc8252_7_1_native_private_use_scheme_matches_exactly() -> None:
    assert match_redirect_uri("com.example.app:/cb", ("com.example.app:/cb",), NATIVE)


_registered = st.lists(
    st.sampled_from(
        [
            REGISTERED,
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost/cb",
            "com.example.app:/cb",
        ]
    ),
    max_size=4,
    unique=True,
).map(tuple)
_uri_like = st.one_of(
    st.text(),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["http", "https", "HTTP", "com.example.app"]),
        st.sampled_from(["127.0.0.1", "[::1]", "localhost", "client.example", "[::1", "u@x"]),
        st.one_of(st.just(""), st.integers(-1, 100000).map(lambda p: f":{p}"), st.text(max_size=5)),
        st.text(max_size=10),
    ),
)


@given(_uri_like, _registered, st.sampled_from([WEB, NATIVE]))
@PROPERTY
def test_rfc9700_4_1_3_match_never_raises_and_web_matches_only_exact(
    requested: str, registered: tuple[str, ...], app: ApplicationType
) -> None:
    result = match_redirect_uri(requested, registered, app)
    assert isinstance(result, bool)
    if app is WEB or not requested.lower().startswith("http://"):
        assert result is (requested in registered)
    elif result and requested not in registered:
        # Only the RFC 8252 §7.3 exception: a loopback IP literal, another port.
        assert any(host in requested for host in ("127.0.0.1", "[::1]"))


@given(st.text())
@PROPERTY
def test_rfc6749_3_1_2_validate_raises_only_invalid_redirect_uri(uri: str) -> None:
    for app in (WEB, NATIVE):
        try:
            accepted = validate_redirect_uri(uri, app)
        except InvalidRedirectUri:
            continue
        assert accepted == uri
        assert "#" not in uri
        assert all(0x20 < ord(ch) < 0x7F for ch in uri)
