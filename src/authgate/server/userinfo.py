"""The UserInfo endpoint. Spec: OIDC Core §5.3; RFC 6750 §2, §3."""

from __future__ import annotations

from authgate.core.bearer import BearerInvalidRequest, extract_bearer
from authgate.core.claims import user_claims
from authgate.core.errors import InsufficientScope, InvalidToken, OAuthError
from authgate.core.params import Params
from authgate.server.access_tokens import find_access_token
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse

__all__ = ["userinfo"]


async def userinfo(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Claims about the signed-in user that the token's scopes release. Spec: OIDC Core §5.3.1,
    §5.3.2, §5.3.3 (errors per RFC 6750 §3)."""
    form: Params | None = None
    if request.method == "POST" and request.body:
        try:
            form = request.form_params()
        except OAuthError as exc:
            raise BearerInvalidRequest(exc.description) from None
    token = extract_bearer(request.headers.get("authorization"), request.query_params(), form)
    now = ctx.clock.now()
    async with ctx.storage.transaction() as tx:
        record, user = await find_access_token(ctx, tx, token, now, with_user=True)
        # A token for another resource (RFC 8707 audience) is not one for this endpoint.
        if (
            record is None
            or not record.is_active(now)
            or record.user_id is None
            or record.audience is not None
        ):
            raise InvalidToken("the access token is invalid, expired or revoked")
        if "openid" not in record.scopes:
            raise InsufficientScope("the access token lacks the openid scope", scope="openid")
    if user is None or user.disabled:
        raise InvalidToken("the access token is invalid, expired or revoked")
    return JsonResponse(user_claims(user, record.scopes))
