"""The authorization endpoint: redirect URI resolution, request validation, next step.

Spec: RFC 6749 §3.1, §3.1.2.3, §4.1.1, §4.1.2.1; RFC 7636 §4.3; OAuth 2.1 §4.1.1;
OIDC Core §3.1.2.1-§3.1.2.6, §11; OAuth 2.0 Form Post Response Mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from authgate.core.authorization import (
    PageError,
    RedirectTarget,
    Step,
    error_target,
    next_step,
    resolve_redirect_uri,
    scopes_union,
    validate_request,
)
from authgate.core.errors import (
    ConsentRequired,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from authgate.core.models import ApplicationType, AuthorizationRequest, ResponseMode
from authgate.core.params import Params, parse_urlencoded
from tests.unit.core.factories import (
    CHALLENGE,
    NOW,
    REDIRECT_URI,
    auth_request,
    client,
    grant,
    session,
    user,
)

SUPPORTED = frozenset({"openid", "profile", "email", "offline_access", "api:read"})
BASE = {
    "response_type": "code",
    "client_id": "client-1",
    "scope": "openid profile",
    "code_challenge": CHALLENGE,
    "code_challenge_method": "S256",
    "state": "xyz",
}


def params(_query: str = "", **overrides: str | None) -> Params:
    values = {**BASE, **overrides}
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return parse_urlencoded(query + _query)


def validate(p: Params, **client_fields: object) -> AuthorizationRequest:
    return validate_request(p, client(**client_fields), REDIRECT_URI, True, SUPPORTED)


# --- resolve_redirect_uri ----------------------------------------------------------------------


def test_rfc6749_3_1_2_3_omitted_redirect_uri_with_one_registered_is_used() -> None:
    assert resolve_redirect_uri(params(), client()) == (REDIRECT_URI, False)


def test_rfc6749_3_1_2_3_omitted_redirect_uri_with_two_registered_is_page_error() -> None:
    c = client(redirect_uris=(REDIRECT_URI, "https://rp.example/cb2"))
    with pytest.raises(PageError) as exc:
        resolve_redirect_uri(params(), c)
    assert isinstance(exc.value.error, InvalidRequest)
    assert "redirect_uri is required" in str(exc.value.error.description)


def test_rfc6749_3_1_2_3_given_redirect_uri_matching_exactly_is_used() -> None:
    c = client(redirect_uris=(REDIRECT_URI, "https://rp.example/cb2"))
    assert resolve_redirect_uri(params(redirect_uri="https://rp.example/cb2"), c) == (
        "https://rp.example/cb2",
        True,
    )


@pytest.mark.parametrize(
    "uri", ["https://rp.example/cb/", "https://evil.example/cb", "https://rp.example/cb?x=1"]
)
def test_rfc6749_4_1_2_1_mismatching_redirect_uri_is_page_error_not_redirect(uri: str) -> None:
    with pytest.raises(PageError) as exc:
        resolve_redirect_uri(params(redirect_uri=uri), client())
    assert isinstance(exc.value.error, InvalidRequest)
    assert "does not match" in str(exc.value.error.description)


def test_rfc6749_4_1_2_1_repeated_redirect_uri_is_page_error() -> None:
    p = params("&redirect_uri=https%3A%2F%2Frp.example%2Fcb&redirect_uri=https%3A%2F%2Fx.example")
    with pytest.raises(PageError) as exc:
        resolve_redirect_uri(p, client())
    assert isinstance(exc.value.error, InvalidRequest)
    assert "more than once" in str(exc.value.error.description)


def test_rfc8252_7_3_native_loopback_redirect_uri_on_other_port_is_resolved() -> None:
    c = client(redirect_uris=("http://127.0.0.1/cb",), application_type=ApplicationType.NATIVE)
    assert resolve_redirect_uri(params(redirect_uri="http://127.0.0.1:6543/cb"), c) == (
        "http://127.0.0.1:6543/cb",
        True,
    )


# --- error_target ------------------------------------------------------------------------------


def test_rfc6749_4_1_2_1_error_target_carries_state() -> None:
    assert error_target(params(), REDIRECT_URI) == RedirectTarget(
        REDIRECT_URI, "xyz", ResponseMode.QUERY
    )


def test_rfc6749_4_1_2_1_error_target_omits_repeated_state() -> None:
    target = error_target(params("&state=other"), REDIRECT_URI)
    assert target.state is None


def test_rfc6749_4_1_2_1_error_target_omits_overlong_state() -> None:
    assert error_target(params(state="s" * 2049), REDIRECT_URI).state is None
    assert error_target(params(state="s" * 2048), REDIRECT_URI).state == "s" * 2048


def test_form_post_response_mode_is_detected_for_errors() -> None:
    target = error_target(params(response_mode="form_post"), REDIRECT_URI)
    assert target.response_mode is ResponseMode.FORM_POST


@pytest.mark.parametrize(
    "extra", ["&response_mode=fragment", "&response_mode=form_post&response_mode=form_post"]
)
def test_form_post_unknown_or_repeated_response_mode_falls_back_to_query(extra: str) -> None:
    assert error_target(params(extra), REDIRECT_URI).response_mode is ResponseMode.QUERY


# --- validate_request --------------------------------------------------------------------------


def test_rfc6749_4_1_1_valid_request_is_accepted() -> None:
    p = params(nonce="n-1", max_age="300", login_hint="alice", ui_locales="en", prompt="login")
    request = validate(p)
    assert request == AuthorizationRequest(
        client_id="client-1",
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided=True,
        scopes=("openid", "profile"),
        code_challenge=CHALLENGE,
        state="xyz",
        nonce="n-1",
        response_mode=ResponseMode.QUERY,
        prompt=frozenset({"login"}),
        max_age=300,
        login_hint="alice",
        ui_locales="en",
    )
    assert AuthorizationRequest.from_json(request.to_json()) == request


def test_rfc6749_4_1_1_missing_response_type_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="response_type is required"):
        validate(params(response_type=None))


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "CODE"])
def test_oauth21_4_1_1_other_response_type_is_unsupported_response_type(
    response_type: str,
) -> None:
    with pytest.raises(UnsupportedResponseType):
        validate(params(response_type=response_type))


@pytest.mark.parametrize(
    "fields",
    [
        {"response_types": ()},
        {"grant_types": ("client_credentials",)},
    ],
    ids=["no-code-response-type", "no-authorization-code-grant"],
)
def test_rfc6749_4_1_2_1_client_not_registered_for_code_is_unauthorized_client(
    fields: dict[str, object],
) -> None:
    with pytest.raises(UnauthorizedClient):
        validate(params(), **fields)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code_challenge": None}, "code_challenge is required"),
        ({"code_challenge_method": None}, "must be S256"),
        ({"code_challenge_method": "plain"}, "must be S256"),
        ({"code_challenge": "short"}, "not a valid S256 challenge"),
    ],
)
def test_oauth21_4_1_1_pkce_s256_is_required(
    overrides: dict[str, str | None], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        validate(params(**overrides))


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("request", RequestNotSupported),
        ("request_uri", RequestUriNotSupported),
        ("registration", RegistrationNotSupported),
    ],
)
def test_oidc_core_3_1_2_6_unsupported_request_parameters(name: str, error: type) -> None:
    with pytest.raises(error) as exc:
        validate(params(**{name: "eyJhbGciOiJub25lIn0.e30."}))
    assert exc.value.error == f"{name}_not_supported"


@pytest.mark.parametrize("prompt", ["none login", "consent none", "none select_account"])
def test_oidc_core_3_1_2_1_prompt_none_with_other_values_is_invalid_request(prompt: str) -> None:
    with pytest.raises(InvalidRequest, match="prompt=none"):
        validate(params(prompt=prompt))


@pytest.mark.parametrize("prompt", ["create", "page", "login bogus"])
def test_oidc_core_3_1_2_1_unknown_prompt_is_invalid_request(prompt: str) -> None:
    with pytest.raises(InvalidRequest, match="unsupported prompt"):
        validate(params(prompt=prompt))


def test_oidc_core_3_1_2_1_multiple_prompt_values_are_accepted() -> None:
    assert validate(params(prompt="login consent")).prompt == frozenset({"login", "consent"})


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "1e3", " 1", "\u0661", "12345678901"])
def test_oidc_core_3_1_2_1_max_age_not_a_non_negative_integer_is_invalid_request(
    max_age: str,
) -> None:
    with pytest.raises(InvalidRequest, match="max_age"):
        validate(params(max_age=max_age))


def test_oidc_core_3_1_2_1_max_age_zero_is_accepted() -> None:
    assert validate(params(max_age="0")).max_age == 0


def test_form_post_response_mode_is_accepted() -> None:
    assert validate(params(response_mode="form_post")).response_mode is ResponseMode.FORM_POST


def test_oauth_multiple_response_types_2_1_unsupported_response_mode_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="response_mode"):
        validate(params(response_mode="fragment"))


def test_rfc6749_4_1_1_overlong_state_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="state is too long"):
        validate(params(state="s" * 2049))


def test_oidc_core_3_1_2_1_overlong_nonce_is_invalid_request() -> None:
    assert validate(params(nonce="n" * 512)).nonce == "n" * 512
    with pytest.raises(InvalidRequest, match="nonce is too long"):
        validate(params(nonce="n" * 513))


def test_oidc_core_3_1_2_1_hints_are_truncated() -> None:
    request = validate(params(login_hint="h" * 300, ui_locales="l" * 300))
    assert request.login_hint == "h" * 256
    assert request.ui_locales == "l" * 256


def test_oidc_core_3_1_2_1_unknown_scopes_are_ignored() -> None:
    assert validate(params(scope="openid unknown profile other")).scopes == ("openid", "profile")


def test_rfc6749_3_3_scopes_outside_client_registration_are_dropped() -> None:
    request = validate(params(scope="openid profile email api:read"), scope=("openid", "email"))
    assert request.scopes == ("openid", "email")


def test_rfc6749_3_3_malformed_scope_is_invalid_scope() -> None:
    with pytest.raises(InvalidScope):
        validate(params(scope="openid  profile"))


def test_oidc_core_11_offline_access_kept_with_prompt_consent_and_refresh_grant() -> None:
    request = validate(params(scope="openid offline_access", prompt="consent"))
    assert request.scopes == ("openid", "offline_access")


def test_oidc_core_11_offline_access_dropped_without_prompt_consent() -> None:
    assert validate(params(scope="openid offline_access")).scopes == ("openid",)
    assert validate(params(scope="openid offline_access", prompt="login")).scopes == ("openid",)


def test_oidc_core_11_offline_access_dropped_without_refresh_token_grant() -> None:
    request = validate(
        params(scope="openid offline_access", prompt="consent"),
        grant_types=("authorization_code",),
    )
    assert request.scopes == ("openid",)


@pytest.mark.parametrize("name", ["scope", "state", "response_type", "nonce", "code_challenge"])
def test_rfc6749_3_1_repeated_parameter_is_invalid_request(name: str) -> None:
    p = parse_urlencoded(urlencode(BASE) + f"&{name}=again&{name}=twice")
    with pytest.raises(InvalidRequest, match=f"{name} is included more than once"):
        validate(p)


def test_rfc6749_4_1_1_redirect_uri_provided_flag_is_kept() -> None:
    request = validate_request(params(), client(), REDIRECT_URI, False, SUPPORTED)
    assert request.redirect_uri_provided is False


# --- next_step ---------------------------------------------------------------------------------

STARTED = NOW - timedelta(minutes=2)


def test_oidc_core_3_1_2_3_no_session_needs_login() -> None:
    step = next_step(auth_request(), session=None, user=None, grant=grant(), now=NOW)
    assert step is Step.LOGIN


def test_oidc_core_3_1_2_3_session_without_user_needs_login() -> None:
    step = next_step(auth_request(), session=session(), user=None, grant=grant(), now=NOW)
    assert step is Step.LOGIN


def test_oidc_core_3_1_2_3_disabled_user_needs_login() -> None:
    step = next_step(
        auth_request(), session=session(), user=user(disabled=True), grant=grant(), now=NOW
    )
    assert step is Step.LOGIN


def test_oidc_core_3_1_2_6_prompt_none_without_session_is_login_required() -> None:
    with pytest.raises(LoginRequired) as exc:
        next_step(
            auth_request(prompt=frozenset({"none"})), session=None, user=None, grant=None, now=NOW
        )
    assert exc.value.error == "login_required"


@pytest.mark.parametrize("prompt", ["login", "select_account"])
def test_oidc_core_3_1_2_1_prompt_login_with_old_session_needs_login(prompt: str) -> None:
    step = next_step(
        auth_request(prompt=frozenset({prompt})),
        session=session(auth_time=STARTED - timedelta(seconds=1)),
        user=user(),
        grant=grant(),
        now=NOW,
        interaction_started=STARTED,
    )
    assert step is Step.LOGIN


def test_oidc_core_3_1_2_1_prompt_login_without_interaction_start_needs_login() -> None:
    step = next_step(
        auth_request(prompt=frozenset({"login"})),
        session=session(auth_time=NOW),
        user=user(),
        grant=grant(),
        now=NOW,
    )
    assert step is Step.LOGIN


@pytest.mark.parametrize("auth_time", [STARTED, STARTED + timedelta(seconds=30)])
def test_oidc_core_3_1_2_1_prompt_login_satisfied_by_login_after_interaction_start(
    auth_time: datetime,
) -> None:
    step = next_step(
        auth_request(prompt=frozenset({"login"})),
        session=session(auth_time=auth_time),
        user=user(),
        grant=grant(),
        now=NOW,
        interaction_started=STARTED,
    )
    assert step is Step.ISSUE


def test_oidc_core_3_1_2_1_max_age_exceeded_needs_login() -> None:
    request = auth_request(max_age=60)
    old = session(auth_time=NOW - timedelta(seconds=61))
    assert next_step(request, session=old, user=user(), grant=grant(), now=NOW) is Step.LOGIN
    recent = session(auth_time=NOW - timedelta(seconds=60))
    assert next_step(request, session=recent, user=user(), grant=grant(), now=NOW) is Step.ISSUE


def test_oidc_core_3_1_2_1_max_age_zero_forces_login_unless_fresh() -> None:
    request = auth_request(max_age=0)
    s = session(auth_time=NOW - timedelta(seconds=1))
    assert next_step(request, session=s, user=user(), grant=grant(), now=NOW) is Step.LOGIN
    fresh = session(auth_time=STARTED)
    step = next_step(
        request, session=fresh, user=user(), grant=grant(), now=NOW, interaction_started=STARTED
    )
    assert step is Step.ISSUE


def test_oidc_core_3_1_2_6_prompt_none_with_max_age_exceeded_is_login_required() -> None:
    request = auth_request(prompt=frozenset({"none"}), max_age=10)
    with pytest.raises(LoginRequired):
        next_step(request, session=session(), user=user(), grant=grant(), now=NOW)


def test_oidc_core_3_1_2_4_no_grant_needs_consent() -> None:
    step = next_step(auth_request(), session=session(), user=user(), grant=None, now=NOW)
    assert step is Step.CONSENT


def test_oidc_core_3_1_2_4_grant_not_covering_scopes_needs_consent() -> None:
    step = next_step(
        auth_request(scopes=("openid", "email")),
        session=session(),
        user=user(),
        grant=grant(scopes=("openid", "profile")),
        now=NOW,
    )
    assert step is Step.CONSENT


def test_oidc_core_3_1_2_4_revoked_grant_needs_consent() -> None:
    step = next_step(
        auth_request(), session=session(), user=user(), grant=grant(revoked_at=NOW), now=NOW
    )
    assert step is Step.CONSENT


def test_oidc_core_3_1_2_1_prompt_consent_needs_consent_even_with_grant() -> None:
    step = next_step(
        auth_request(prompt=frozenset({"consent"})),
        session=session(),
        user=user(),
        grant=grant(),
        now=NOW,
    )
    assert step is Step.CONSENT


def test_oidc_core_3_1_2_6_prompt_none_needing_consent_is_consent_required() -> None:
    with pytest.raises(ConsentRequired) as exc:
        next_step(
            auth_request(prompt=frozenset({"none"})),
            session=session(),
            user=user(),
            grant=None,
            now=NOW,
        )
    assert exc.value.error == "consent_required"


def test_oidc_core_3_1_2_3_signed_in_with_covering_grant_issues() -> None:
    step = next_step(auth_request(), session=session(), user=user(), grant=grant(), now=NOW)
    assert step is Step.ISSUE


def test_oidc_core_3_1_2_6_prompt_none_with_session_and_grant_issues() -> None:
    step = next_step(
        auth_request(prompt=frozenset({"none"})),
        session=session(),
        user=user(),
        grant=grant(),
        now=NOW,
    )
    assert step is Step.ISSUE


def test_oidc_core_3_1_2_4_grant_covering_empty_scopes_issues() -> None:
    step = next_step(
        auth_request(scopes=()), session=session(), user=user(), grant=grant(), now=NOW
    )
    assert step is Step.ISSUE


def test_scopes_union_keeps_order_without_duplicates() -> None:
    assert scopes_union(("openid", "profile"), ("email", "openid")) == (
        "openid",
        "profile",
        "email",
    )
