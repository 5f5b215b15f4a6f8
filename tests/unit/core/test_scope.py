"""Scope syntax. Spec: RFC 6749 §3.3."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core.errors import InvalidScope
from authgate.core.scope import OIDC_SCOPES, format_scope, parse_scope
from tests.unit.strategies import PROPERTY

# NQCHAR = %x21 / %x23-5B / %x5D-7E
NQCHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')
scope_token = st.text(st.sampled_from(NQCHARS), min_size=1, max_size=20)


@pytest.mark.parametrize("value", [None, ""])
def test_rfc6749_3_3_absent_or_empty_scope_is_no_scopes(value: str | None) -> None:
    assert parse_scope(value) == ()


def test_rfc6749_3_3_space_delimited_tokens_keep_order() -> None:
    assert parse_scope("openid profile email") == ("openid", "profile", "email")
    assert parse_scope("email openid") == ("email", "openid")


def test_rfc6749_3_3_every_nqchar_is_accepted() -> None:
    assert parse_scope(NQCHARS) == (NQCHARS,)
    assert parse_scope("urn:example:read https://api.example/write!#$") == (
        "urn:example:read",
        "https://api.example/write!#$",
    )


@pytest.mark.parametrize(
    "value",
    ['open"id', "open\\id", "caf\u00e9", "a\tb", "a\nb", "a\x7fb", "a\x00", "\u2003x"],
    ids=["dquote", "backslash", "non-ascii", "tab", "newline", "del", "nul", "em-space"],
)
def test_rfc6749_3_3_character_outside_nqchar_is_invalid_scope(value: str) -> None:
    with pytest.raises(InvalidScope, match="outside the allowed set"):
        parse_scope(value)


@pytest.mark.parametrize("value", ["openid  profile", " openid", "openid ", " ", "  "], ids=repr)
def test_rfc6749_3_3_empty_token_from_extra_spaces_is_invalid_scope(value: str) -> None:
    with pytest.raises(InvalidScope, match="single spaces") as exc:
        parse_scope(value)
    assert exc.value.error == "invalid_scope"


def test_rfc6749_3_3_duplicates_are_collapsed_keeping_first_order() -> None:
    assert parse_scope("profile openid profile email openid") == ("profile", "openid", "email")


def test_rfc6749_3_3_scope_tokens_are_case_sensitive() -> None:
    assert parse_scope("openid OpenID") == ("openid", "OpenID")


def test_rfc6749_3_3_format_joins_with_single_spaces() -> None:
    assert format_scope(("openid", "email")) == "openid email"
    assert format_scope(()) == ""


def test_oidc_core_5_4_standard_scopes_are_known() -> None:
    assert set(OIDC_SCOPES) >= {"openid", "profile", "email", "address", "phone", "offline_access"}


@given(st.lists(scope_token, min_size=1, max_size=10, unique=True))
@PROPERTY
def test_rfc6749_3_3_round_trip_of_valid_token_lists(tokens: list[str]) -> None:
    assert parse_scope(format_scope(tokens)) == tuple(tokens)


@given(st.lists(scope_token, min_size=1, max_size=10))
@PROPERTY
def test_rfc6749_3_3_parse_collapses_duplicates_to_first_occurrences(tokens: list[str]) -> None:
    assert parse_scope(format_scope(tokens)) == tuple(dict.fromkeys(tokens))


@given(st.text())
@PROPERTY
def test_rfc6749_3_3_arbitrary_text_raises_only_invalid_scope(text: str) -> None:
    try:
        scopes = parse_scope(text)
    except InvalidScope:
        return
    assert format_scope(scopes) == text or len(scopes) < len(text.split(" "))
    assert all(token and set(token) <= set(NQCHARS) for token in scopes)
