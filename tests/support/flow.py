"""A scripted browser for the authorization code flow: follows redirects by hand, fills the
login and consent forms, and hands back the final redirect to the client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


class FormParser(HTMLParser):
    """Collects forms: action, method, inputs (name -> value) and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "inputs": {},
                    "buttons": [],
                    "types": {},
                }
            )
        elif self.forms and tag == "input" and "name" in a:
            self.forms[-1]["inputs"][a["name"]] = a.get("value", "")
            self.forms[-1]["types"][a["name"]] = a.get("type", "text")
        elif self.forms and tag == "button" and "name" in a:
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class AuthResult:
    """Where the browser ended: the client's redirect URI and its parameters."""

    location: str
    params: dict[str, str]
    response: httpx.Response


@dataclass
class Browser:
    base_url: str
    http: httpx.Client = field(init=False)
    last: httpx.Response | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=20)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, **kw: Any) -> httpx.Response:
        self.last = self.http.get(url, **kw)
        return self.last

    def post(self, url: str, data: dict[str, str], **kw: Any) -> httpx.Response:
        self.last = self.http.post(url, data=data, **kw)
        return self.last

    def follow_to_page(self, response: httpx.Response) -> httpx.Response:
        """Follow same-server redirects until a page (or an outside redirect)."""
        for _ in range(10):
            if response.status_code not in (302, 303):
                return response
            location = response.headers["location"]
            absolute = urljoin(str(response.url), location)
            if not absolute.startswith(self.base_url):
                return response
            response = self.get(absolute)
        raise AssertionError("redirect loop")

    def authorize(self, params: dict[str, str]) -> httpx.Response:
        return self.follow_to_page(self.get("/authorize?" + urlencode(params)))

    def submit(
        self, page: httpx.Response, values: dict[str, str], button: tuple[str, str] | None = None
    ) -> httpx.Response:
        form = forms_of(page.text)[0]
        data = dict(form["inputs"])
        data.update(values)
        if button:
            data[button[0]] = button[1]
        action = urljoin(str(page.url), form["action"])
        return self.follow_to_page(self.post(action, data))

    def login(self, page: httpx.Response, username: str, password: str) -> httpx.Response:
        return self.submit(page, {"username": username, "password": password})

    def consent(self, page: httpx.Response, allow: bool = True) -> httpx.Response:
        return self.submit(page, {}, ("decision", "allow" if allow else "deny"))


def redirect_result(response: httpx.Response) -> AuthResult:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["location"]
    query = parse_qs(urlsplit(location).query)
    return AuthResult(location, {k: v[0] for k, v in query.items()}, response)
