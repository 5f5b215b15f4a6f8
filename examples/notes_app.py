"""The notes web app: signs users in with authgate (``authgate.client``) and shows their notes
fetched from the notes API with the user's access token, kept server-side and refreshed
transparently. The browser only ever holds a session cookie."""

from __future__ import annotations

import html

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from authgate.client import Client, ClientError
from authgate.client.starlette import OidcAuth

_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}
_STYLE = (
    "body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "button,a.button{font:inherit;padding:.5rem 1rem}li{margin:.3rem 0}"
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style><h1>{html.escape(title)}</h1>{body}",
        status_code=status,
        headers=_HEADERS,
    )


def create_notes_app(
    client: Client, *, app_url: str, api_url: str, resource: str, secret_key: str
) -> Starlette:
    async def on_error(request: Request, error: ClientError) -> Response:
        return page(
            "Sign-in failed",
            f'<p>{html.escape(str(error))}</p><p><a href="/">Back</a></p>',
            status=400,
        )

    auth = OidcAuth(
        client,
        secret_key=secret_key,
        redirect_uri=f"{app_url}/callback",
        scope="openid profile email notes:read offline_access",
        extra_params={"resource": resource, "prompt": "consent"},
        error_handler=on_error,
    )

    async def home(request: Request) -> Response:
        user = auth.user(request)
        if user is None:
            return page(
                "Notes",
                "<p>You are not signed in.</p>"
                '<p><a class=button href="/login?next=/notes">Sign in</a></p>',
            )
        return page(
            "Notes",
            f"<p>Signed in as {html.escape(str(user.get('name', user['sub'])))}"
            '.</p><p><a href="/notes">Your notes</a></p>' + logout_form(request),
        )

    @auth.require_login
    async def notes(request: Request) -> Response:
        user = auth.user(request) or {}
        async with auth.http(request) as http:
            try:
                r = await http.get(f"{api_url}/notes")
            except ClientError as exc:
                return page(
                    "Notes", f"<p>Could not reach the API: {html.escape(str(exc))}</p>", status=502
                )
        if r.status_code != 200:
            return page("Notes", f"<p>The API answered {r.status_code}.</p>", status=502)
        items = "".join(f"<li>{html.escape(n)}</li>" for n in r.json()["notes"])
        name = html.escape(str(user.get("name", user.get("sub", ""))))
        return page(f"{name}'s notes", f"<ul id=notes>{items}</ul>" + logout_form(request))

    def logout_form(request: Request) -> str:
        csrf = html.escape(auth.csrf_token(request))
        return (
            f'<form method=post action="/logout"><input type=hidden name=csrf '
            f'value="{csrf}"><button>Sign out</button></form>'
        )

    app = Starlette(routes=[Route("/", home), Route("/notes", notes), *auth.routes()])
    app.state.auth = auth
    return app
