"""Request parameter parsing. Spec: RFC 6749 §3.1, §3.2, Appendix B."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core.errors import InvalidRequest
from authgate.core.params import MAX_FIELDS, MAX_VALUE_LENGTH, Params, parse_urlencoded
from tests.unit.strategies import PROPERTY


def test_rfc6749_3_1_single_values_are_parsed() -> None:
    params = parse_urlencoded("response_type=code&client_id=abc&scope=openid+profile")
    assert dict(params) == {"response_type": "code", "client_id": "abc", "scope": "openid profile"}
    assert params.repeated == frozenset()


def test_rfc6749_appendix_b_percent_encoding_is_decoded_as_utf8() -> None:
    params = parse_urlencoded("state=%E2%9C%93%20ok&x=a%2Bb")
    assert params["state"] == "\u2713 ok"
    assert params["x"] == "a+b"


def test_rfc6749_3_1_bytes_body_is_parsed_like_text() -> None:
    assert dict(parse_urlencoded(b"grant_type=authorization_code&code=xyz")) == {
        "grant_type": "authorization_code",
        "code": "xyz",
    }


@pytest.mark.parametrize("query", ["scope=", "scope", "scope=&state=s", "state=s&scope"])
def test_rfc6749_3_1_parameter_without_value_is_treated_as_omitted(query: str) -> None:
    params = parse_urlencoded(query)
    assert "scope" not in params
    assert params.get_one("scope") is None
    with pytest.raises(InvalidRequest, match="missing required parameter scope"):
        params.require("scope")


def test_rfc6749_3_1_empty_string_gives_no_parameters() -> None:
    params = parse_urlencoded("")
    assert len(params) == 0
    params.reject_repeated()


def test_rfc6749_3_1_repeated_parameter_is_recorded_not_raised_when_parsing() -> None:
    params = parse_urlencoded("state=a&state=b&client_id=c")
    assert params.repeated == frozenset({"state"})
    # Other parameters stay readable, so the endpoint can validate the client first.
    assert params.get_one("client_id") == "c"
    assert params.require("client_id") == "c"
    assert "state" not in params.data


def test_rfc6749_3_1_repeated_parameter_is_invalid_request_when_read() -> None:
    params = parse_urlencoded("state=a&state=b")
    with pytest.raises(InvalidRequest, match="state is included more than once"):
        params.get_one("state")
    with pytest.raises(InvalidRequest):
        params["state"]
    with pytest.raises(InvalidRequest):
        params.require("state")


def test_rfc6749_3_1_repeated_parameter_is_invalid_request_on_reject_repeated() -> None:
    params = parse_urlencoded("b=1&a=1&b=2&a=2")
    with pytest.raises(InvalidRequest, match="parameter a is included more than once") as exc:
        params.reject_repeated()
    assert exc.value.error == "invalid_request"


def test_rfc6749_3_1_repeated_parameter_with_identical_values_is_still_repeated() -> None:
    params = parse_urlencoded("code=x&code=x")
    with pytest.raises(InvalidRequest):
        params.get_one("code")


def test_rfc6749_3_1_empty_duplicate_is_omitted_not_repeated() -> None:
    params = parse_urlencoded("scope=&scope=openid")
    assert params.get_one("scope") == "openid"


def test_rfc6749_3_1_missing_key_is_key_error_through_mapping_interface() -> None:
    params = parse_urlencoded("a=1")
    with pytest.raises(KeyError):
        params["b"]
    assert params.get("b") is None
    assert list(params) == ["a"]


@pytest.mark.parametrize(
    "data",
    ["a=x%00y", "a%00=1", b"a=\x00", "a=\x00", "%00=1"],
    ids=["nul-in-value", "nul-in-name", "raw-nul-bytes", "raw-nul-text", "nul-name-only"],
)
def test_rfc6749_3_1_nul_character_is_invalid_request(data: str | bytes) -> None:
    with pytest.raises(InvalidRequest, match="NUL"):
        parse_urlencoded(data)


def test_rfc6749_3_1_too_many_fields_is_invalid_request() -> None:
    ok = "&".join(f"p{i}=v" for i in range(MAX_FIELDS))
    assert len(parse_urlencoded(ok)) == MAX_FIELDS
    too_many = ok + "&extra=v"
    with pytest.raises(InvalidRequest):
        parse_urlencoded(too_many)


def test_rfc6749_3_1_too_many_pairs_via_from_pairs_is_invalid_request() -> None:
    pairs = [(f"p{i}", "v") for i in range(MAX_FIELDS + 1)]
    with pytest.raises(InvalidRequest, match="too many parameters"):
        Params.from_pairs(pairs)


def test_rfc6749_3_1_too_long_value_is_invalid_request() -> None:
    assert parse_urlencoded("a=" + "x" * MAX_VALUE_LENGTH)["a"] == "x" * MAX_VALUE_LENGTH
    with pytest.raises(InvalidRequest, match="too long"):
        parse_urlencoded("a=" + "x" * (MAX_VALUE_LENGTH + 1))


def test_rfc6749_3_1_too_long_name_is_invalid_request() -> None:
    assert "n" * 256 in parse_urlencoded("n" * 256 + "=1")
    with pytest.raises(InvalidRequest, match="too long"):
        parse_urlencoded("n" * 257 + "=1")


@pytest.mark.parametrize("data", [b"a=\xff", b"a=caf\xc3\xa9", b"\x80=1"])
def test_rfc6749_appendix_b_non_ascii_bytes_are_invalid_request(data: bytes) -> None:
    with pytest.raises(InvalidRequest, match="ASCII"):
        parse_urlencoded(data)


@pytest.mark.parametrize("data", ["a=%ff", "a=%C3", "%80=1", b"a=%fe%ff"])
def test_rfc6749_appendix_b_percent_encoded_invalid_utf8_is_invalid_request(
    data: str | bytes,
) -> None:
    with pytest.raises(InvalidRequest, match="malformed"):
        parse_urlencoded(data)


@pytest.mark.parametrize(("data", "value"), [("a=%zz", "%zz"), ("a=%", "%"), ("a=%4", "%4")])
def test_whatwg_stray_percent_stays_literal(data: str, value: str) -> None:
    assert dict(parse_urlencoded(data)) == {"a": value}


def test_rfc6749_3_1_semicolon_is_not_a_separator() -> None:
    # Python >= 3.10 splits on "&" only (WHATWG); a ";" stays inside the value.
    assert dict(parse_urlencoded("a=1;b=2")) == {"a": "1;b=2"}


@given(st.text())
@PROPERTY
def test_rfc6749_3_1_parse_arbitrary_text_raises_only_invalid_request(text: str) -> None:
    try:
        params = parse_urlencoded(text)
    except InvalidRequest:
        return
    assert all(value != "" for value in params.data.values())
    assert not (params.repeated & params.data.keys())


@given(st.binary())
@PROPERTY
def test_rfc6749_3_1_parse_arbitrary_bytes_raises_only_invalid_request(data: bytes) -> None:
    try:
        params = parse_urlencoded(data)
    except InvalidRequest:
        return
    assert all(isinstance(v, str) and v.isascii() for v in params.data.values())


_field_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@given(st.dictionaries(_field_text, _field_text, max_size=20))
@PROPERTY
def test_rfc6749_appendix_b_urlencode_round_trip(data: dict[str, str]) -> None:
    encoded = urlencode(data)
    assert dict(parse_urlencoded(encoded)) == data
    assert dict(parse_urlencoded(encoded.encode("ascii"))) == data
    assert parse_urlencoded(encoded).repeated == frozenset()


_URLENCODED_ALPHABET = st.sampled_from(
    [*"ab=&+%; 09AFfz\u00e9\u2713\x00", "%2", "%E2%9C%93", "%ff", "%C3", "%25", "%2B", "%3D"]
)


@PROPERTY
@given(st.lists(_URLENCODED_ALPHABET, max_size=40).map("".join))
def test_parsing_agrees_with_the_standard_librarys_parse_qsl(text: str) -> None:
    """The decoder decodes only fields with a ``+`` or an escape; it must still give exactly
    the pairs (or the error) of ``parse_qsl`` with the same options, on any input."""
    from urllib.parse import parse_qsl

    from authgate.core.params import _decoded_pairs

    try:
        expected: object = parse_qsl(
            text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        expected = type(exc)
    try:
        got: object = _decoded_pairs(text)
    except (UnicodeDecodeError, ValueError) as exc:
        got = type(exc)
    assert got == expected


def test_too_many_fields_are_refused_like_parse_qsl() -> None:
    with pytest.raises(InvalidRequest, match="malformed"):
        parse_urlencoded("&".join(["a=1"] * (MAX_FIELDS + 1)))
    assert len(parse_urlencoded("&".join(f"a{i}=1" for i in range(MAX_FIELDS)))) == MAX_FIELDS


def test_only_keeps_the_named_parameters_and_their_repeats() -> None:
    params = parse_urlencoded("code=c&scope=s&state=x&state=y&resource=r")
    kept = params.only(frozenset({"code", "state", "resource"}))
    assert dict(kept) == {"code": "c", "resource": "r"}
    assert kept.repeated == frozenset({"state"})
    assert kept.get_one("scope") is None
