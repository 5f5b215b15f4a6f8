"""A bounded code-flow load test against a running authgate (until ../shared/bench can run
against it: its warm-up needs refresh tokens, which arrive with the token-lifecycle work).

One operation = GET /authorize with a signed-in, consented session → 303 with code →
POST /token (client_secret_basic, PKCE) → verify the ID token signature, iss, aud, nonce.

    python bench/quick_flow.py --issuer http://127.0.0.1:9220 --seconds 10 --concurrency 16

Start the server first, pinned to one core, e.g.:
    AUTHGATE_REGISTRATION_TOKEN=bench-initial-access-token taskset -c 0 bench/start-authgate.sh
and run this on the other core (taskset -c 1). Speed only: never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import re
import secrets
import statistics
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def sign_in(
    http: httpx.AsyncClient, issuer: str, client: dict, user: str, pw: str, redirect: str
) -> None:
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect,
        "scope": "openid profile email",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = await http.get(f"{issuer}/authorize?{urlencode(params)}")
    for _ in range(5):
        if r.status_code == 303 and not r.headers["location"].startswith(redirect):
            r = await http.get(urljoin(issuer, r.headers["location"]))
            continue
        if r.status_code != 200:
            break
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        action = re.search(r'action="([^"]+)"', r.text)
        assert csrf and action
        data = {"csrf_token": csrf.group(1)}
        if 'type="password"' in r.text:
            data.update(username=user, password=pw)
        else:
            data["decision"] = "allow"
        r = await http.post(urljoin(issuer, action.group(1)), data=data)
    assert r.status_code == 303 and r.headers["location"].startswith(redirect), r.status_code


async def one_flow(
    http: httpx.AsyncClient, issuer: str, client: dict, redirect: str, keys: KeySet
) -> None:
    verifier, challenge = pkce()
    nonce = secrets.token_urlsafe(8)
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect,
        "scope": "openid profile email",
        "state": "s",
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = await http.get(f"{issuer}/authorize?{urlencode(params)}")
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    t = await http.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    body = t.json()
    claims = jwt.decode(body["id_token"], keys, algorithms=["RS256", "ES256", "EdDSA"]).claims
    assert claims["iss"] == issuer and claims["aud"] == client["client_id"]
    assert claims["nonce"] == nonce


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issuer", default="http://127.0.0.1:9220")
    ap.add_argument("--token", default="bench-initial-access-token")
    ap.add_argument("--user", default="alice")
    ap.add_argument("--password", default="correct-horse-battery-staple")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--alg", default="RS256", choices=["RS256", "ES256", "EdDSA"])
    args = ap.parse_args()
    redirect = "http://127.0.0.1:9249/cb"
    async with httpx.AsyncClient(timeout=30) as admin:
        client = (
            await admin.post(
                f"{args.issuer}/register",
                json={"redirect_uris": [redirect], "id_token_signed_response_alg": args.alg},
                headers={"authorization": f"Bearer {args.token}"},
            )
        ).json()
        keys = KeySet.import_key_set((await admin.get(f"{args.issuer}/jwks")).json())
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + args.seconds

    async def worker() -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30) as http:
            await sign_in(http, args.issuer, client, args.user, args.password, redirect)
            while time.monotonic() < deadline:
                start = time.perf_counter()
                try:
                    await one_flow(http, args.issuer, client, redirect, keys)
                    latencies.append(time.perf_counter() - start)
                except Exception:  # counted as an error, never retried silently
                    errors += 1

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    print(
        f"code flow ({args.alg}): {len(latencies) / elapsed:.0f} flows/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99:.1f} ms, "
        f"errors {errors}, {len(latencies)} flows in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
