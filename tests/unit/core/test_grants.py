"""The grants' pure parts: what each reads from the request, the checks, and ``refusal``,
which turns a raising check into the value a redemption returns after consumption."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authgate.core.errors import InvalidGrant, InvalidRequest, InvalidTarget
from authgate.core.grants import (
    Issuance,
    Refused,
    UserAuthorization,
    check_code_binding,
    check_resource_binding,
    client_credentials_request,
    code_exchange,
    refusal,
)
from authgate.core.models import AuthorizationCode, Resource, TokenHash
from authgate.core.params import Params

from . import factories as f

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
API = "https://api.example/"


def _code(**fields: object) -> AuthorizationCode:
    values: dict[str, object] = {
        "code_hash": TokenHash("h"),
        "family_id": "family-1",
        "client_id": "client-1",
        "user_id": "user-1",
        "grant_id": "grant-1",
        "redirect_uri": f.REDIRECT_URI,
        "redirect_uri_provided": True,
        "scopes": ("openid", "notes:read"),
        "code_challenge": f.CHALLENGE,
        "nonce": "n-1",
        "auth_time": f.NOW,
        "issued_at": f.NOW,
        "expires_at": f.NOW + timedelta(minutes=1),
    }
    values.update(fields)
    return AuthorizationCode(**values)  # type: ignore[arg-type]


def test_rfc7636_4_5_a_code_exchange_needs_the_code_and_its_verifier() -> None:
    with pytest.raises(InvalidRequest, match="missing required parameter code"):
        code_exchange(Params({"code_verifier": VERIFIER}))
    with pytest.raises(InvalidRequest, match=r"code_verifier is required \(PKCE\)"):
        code_exchange(Params({"code": "c"}))


def test_rfc6749_4_1_3_code_binding() -> None:
    client = f.client()
    exchange = code_exchange(
        Params({"code": "c", "code_verifier": VERIFIER, "redirect_uri": f.REDIRECT_URI})
    )
    check_code_binding(_code(), client, exchange)
    with pytest.raises(InvalidGrant, match="issued to another client"):
        check_code_binding(_code(client_id="other"), client, exchange)
    with pytest.raises(InvalidGrant, match="redirect_uri is required"):
        check_code_binding(
            _code(), client, code_exchange(Params({"code": "c", "code_verifier": VERIFIER}))
        )
    with pytest.raises(InvalidGrant, match="does not match the code_challenge"):
        check_code_binding(_code(code_challenge="x" * 43), client, exchange)


def test_rfc8707_2_2_a_token_request_cannot_change_the_resource() -> None:
    check_resource_binding(None, API)
    check_resource_binding(API, API)
    with pytest.raises(InvalidTarget, match="not part of this authorization"):
        check_resource_binding("https://other.example/", API)
    with pytest.raises(InvalidTarget, match="absolute URI"):
        check_resource_binding("not a uri", None)
    with pytest.raises(InvalidTarget):
        client_credentials_request(Params({"resource": "relative"}))


def test_refusal_returns_what_a_check_would_raise() -> None:
    assert refusal(check_resource_binding, API, API) is None
    refused = refusal(check_resource_binding, "https://other.example/", API)
    assert isinstance(refused, Refused) and isinstance(refused.error, InvalidTarget)


def test_rfc9068_2_2_3_an_issuance_for_a_resource_carries_only_its_scopes() -> None:
    code = _code()
    resource = Resource(API, ("notes:read",))
    user = UserAuthorization.of(code, 3, code.nonce)
    assert (user.user_id, user.grant_id, user.family_id) == ("user-1", "grant-1", "family-1")
    assert (user.auth_time, user.user_epoch, user.nonce) == (f.NOW, 3, "n-1")
    issuance = Issuance(
        grant_type="authorization_code",
        client=f.client(),
        now=f.NOW,
        scopes=code.scopes,
        resource=resource,
        user=user,
    )
    assert issuance.access_scopes == ("notes:read",)
    assert Issuance(
        grant_type="client_credentials", client=f.client(), now=f.NOW, scopes=("a",), resource=None
    ).access_scopes == ("a",)
