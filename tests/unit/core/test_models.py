"""Protocol values. Spec: RFC 6749 §2.1; RFC 7591 §2; RFC 7662 §2.2; OIDC Core §3.1.2.4."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core.models import (
    AccessToken,
    AuthMethod,
    AuthorizationRequest,
    ResponseMode,
    TokenHash,
    TokenStanding,
)
from tests.unit.core.factories import NOW, auth_request, client, grant


def test_rfc6749_2_1_public_client_has_auth_method_none() -> None:
    assert client(token_endpoint_auth_method=AuthMethod.NONE).is_public
    assert not client(token_endpoint_auth_method=AuthMethod.PRIVATE_KEY_JWT).is_public


def test_rfc7591_2_client_allows_only_registered_grants() -> None:
    c = client(grant_types=("authorization_code",))
    assert c.allows_grant("authorization_code")
    assert not c.allows_grant("refresh_token")


def test_oidc_core_3_1_2_4_grant_covers_subsets_only() -> None:
    g = grant(scopes=("openid", "profile"))
    assert g.covers(())
    assert g.covers(("profile",))
    assert g.covers(("profile", "openid"))
    assert not g.covers(("openid", "email"))


def test_oidc_core_3_1_2_4_revoked_grant_covers_nothing() -> None:
    assert not grant(revoked_at=NOW).covers(())


def test_rfc7662_2_2_access_token_active_until_expiry_or_revocation() -> None:
    token = AccessToken(
        token_hash=TokenHash("ab" * 32),
        client_id="client-1",
        user_id="user-1",
        grant_id="grant-1",
        family_id="fam-1",
        scopes=("openid",),
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    assert token.is_active(NOW)
    assert token.is_active(NOW + timedelta(minutes=59, seconds=59))
    assert not token.is_active(NOW + timedelta(hours=1))
    assert not dataclasses.replace(token, revoked_at=NOW).is_active(NOW)


def test_authorization_request_json_round_trip() -> None:
    request = auth_request(
        state="s",
        nonce="n",
        response_mode=ResponseMode.FORM_POST,
        prompt=frozenset({"login", "consent"}),
        max_age=0,
        login_hint="alice",
        ui_locales="en fr",
    )
    data = request.to_json()
    assert data["prompt"] == ["consent", "login"]
    assert data["response_mode"] == "form_post"
    assert AuthorizationRequest.from_json(data) == request


def test_models_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        client().client_id = "other"  # type: ignore[misc]


# --- TokenStanding: whether a sealed access token is still live (design note 0009) ---

_ISSUED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _standing(**changes: object) -> TokenStanding:
    values: dict[str, object] = {
        "client_found": True,
        "client_created_at": _ISSUED - timedelta(days=30),
        "grant_found": True,
        "grant_revoked_at": None,
        "user_found": True,
        "user_disabled": False,
        "user_token_epoch": 3,
        "family_revoked_at": None,
        "revoked_one_by_one": False,
    }
    values.update(changes)
    return TokenStanding(**values)  # type: ignore[arg-type]


def _allows(standing: TokenStanding, *, user: bool = True, epoch: int | None = 3) -> bool:
    return standing.allows(
        issued_at=_ISSUED,
        grant_id="grant-1" if user else None,
        user_id="user-1" if user else None,
        user_epoch=epoch if user else None,
    )


def test_a_token_nothing_revoked_is_live() -> None:
    assert _allows(_standing())
    assert _allows(_standing(grant_found=False, user_found=False), user=False)


@pytest.mark.parametrize(
    "changes",
    [
        {"client_found": False},  # RFC 7009 §2.1: the client was deleted
        {"client_created_at": _ISSUED + timedelta(seconds=1)},  # registered again since
        {"revoked_one_by_one": True},  # RFC 7009 §2.1
        {"family_revoked_at": _ISSUED},  # RFC 6749 §4.1.2, RFC 9700 §4.14.2
        {"grant_found": False},
        {"grant_revoked_at": _ISSUED + timedelta(hours=1)},  # RFC 6749 §10.4
        {"user_found": False},
        {"user_disabled": True},
        {"user_token_epoch": 4},  # a password change or disabling since
        {"user_token_epoch": None},  # the user row is gone
    ],
)
def test_every_route_of_revocation_ends_a_token(changes: dict[str, object]) -> None:
    assert not _allows(_standing(**changes))


def test_what_a_machine_token_does_not_depend_on_does_not_end_it() -> None:
    """A client_credentials token names no grant or user (RFC 6749 §4.4)."""
    assert _allows(_standing(grant_found=False, user_found=False, user_disabled=True), user=False)
    assert not _allows(
        _standing(grant_found=False, user_found=False, client_found=False), user=False
    )


def test_the_users_epoch_decides_whatever_the_clocks_say() -> None:
    """A token from the user's current epoch is live even if its node's clock was behind the
    revoking node's; one from an earlier epoch is revoked even if its clock ran ahead."""
    assert _allows(_standing(user_token_epoch=4), epoch=4)
    assert not _allows(_standing(user_token_epoch=4), epoch=3)
    assert not _allows(_standing(), epoch=None)  # a user token must carry its epoch
    assert _allows(_standing(client_created_at=_ISSUED))
