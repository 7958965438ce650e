"""Officials' tokens: the development issuer served for real on a free localhost port,
and `TokenVerifier` checking its tokens over HTTP."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, HTTPException, Request

from infra.issuer import create_app, load_or_create_key, public_jwk
from services.runtime.auth import AuthError, IdentityProviderUnavailable, TokenVerifier, bearer_token


@dataclass
class Issuer:
    """A development issuer served by uvicorn on the test's event loop; `restart` swaps its key."""

    port: int
    key_file: Path
    requests: Counter[str] = field(default_factory=Counter)  # path -> requests served
    server: uvicorn.Server | None = None
    task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = create_app(self.url, self.key_file)
        app.middleware("http")(self._count)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            assert not self.task.done(), "issuer did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.task is not None
        self.server.should_exit = True
        await self.task

    async def restart(self, key_file: Path) -> None:
        await self.stop()
        self.key_file = key_file
        await self.start()

    async def token(self, username: str = "cb.h40101.tn", **fields: str) -> str:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.url}/token", data={"username": username, **fields})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def _count(self, request: Request, call_next: Callable):
        self.requests[request.url.path] += 1
        return await call_next(request)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def issuer(tmp_path: Path) -> AsyncIterator[Issuer]:
    issuer = Issuer(free_port(), tmp_path / "keys" / "issuer-key.pem")
    await issuer.start()
    try:
        yield issuer
    finally:
        await issuer.stop()


def signed(claims: dict, key: rsa.RSAPrivateKey, kid: str, algorithm: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def claims_for(issuer: Issuer, **overrides: object) -> dict:
    now = int(time.time())
    return {"iss": issuer.url, "sub": "cb.h40101.tn", "aud": "motcua", "iat": now, "exp": now + 600, **overrides}


async def test_a_good_token_verifies_and_names_the_official(issuer: Issuer) -> None:
    token = await issuer.token("cb.h40101.tn", name="Nguyễn Văn An", expires_in="120")
    claims = await TokenVerifier(issuer.url, "motcua").verify(token)
    assert claims["sub"] == "cb.h40101.tn"
    assert claims["name"] == "Nguyễn Văn An"
    assert claims["exp"] - claims["iat"] == 120
    assert claims["nbf"] == claims["iat"] and uuid.UUID(claims["jti"])
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == public_jwk(load_or_create_key(issuer.key_file))["kid"]


async def test_the_key_and_its_id_survive_a_restart(issuer: Issuer) -> None:
    kid = jwt.get_unverified_header(await issuer.token())["kid"]
    await issuer.restart(issuer.key_file)
    assert jwt.get_unverified_header(await issuer.token())["kid"] == kid


async def test_expired_token_is_refused(issuer: Issuer) -> None:
    key = load_or_create_key(issuer.key_file)
    now = int(time.time())
    token = signed(claims_for(issuer, iat=now - 3600, exp=now - 60), key, public_jwk(key)["kid"])
    with pytest.raises(AuthError, match="token expired"):
        await TokenVerifier(issuer.url, "motcua").verify(token)


async def test_leeway_accepts_a_token_that_just_expired(issuer: Issuer) -> None:
    key = load_or_create_key(issuer.key_file)
    now = int(time.time())
    token = signed(claims_for(issuer, iat=now - 600, exp=now - 10), key, public_jwk(key)["kid"])
    assert (await TokenVerifier(issuer.url, "motcua").verify(token))["sub"] == "cb.h40101.tn"


async def test_wrong_audience_is_refused(issuer: Issuer) -> None:
    token = await issuer.token(audience="another-system")
    with pytest.raises(AuthError, match="wrong audience"):
        await TokenVerifier(issuer.url, "motcua").verify(token)


async def test_audience_list_containing_ours_is_accepted(issuer: Issuer) -> None:
    key = load_or_create_key(issuer.key_file)
    token = signed(claims_for(issuer, aud=["account", "motcua"]), key, public_jwk(key)["kid"])
    assert (await TokenVerifier(issuer.url, "motcua").verify(token))["aud"] == ["account", "motcua"]


async def test_wrong_issuer_and_missing_subject_are_refused(issuer: Issuer) -> None:
    key = load_or_create_key(issuer.key_file)
    kid = public_jwk(key)["kid"]
    verifier = TokenVerifier(issuer.url, "motcua")
    with pytest.raises(AuthError, match="wrong issuer"):
        await verifier.verify(signed(claims_for(issuer, iss="http://elsewhere.example"), key, kid))
    no_subject = claims_for(issuer)
    del no_subject["sub"]
    with pytest.raises(AuthError, match="'sub' claim"):
        await verifier.verify(signed(no_subject, key, kid))


async def test_token_signed_by_another_key_with_the_same_kid_is_refused(issuer: Issuer) -> None:
    kid = public_jwk(load_or_create_key(issuer.key_file))["kid"]
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError, match="bad signature"):
        await TokenVerifier(issuer.url, "motcua").verify(signed(claims_for(issuer), forger, kid))


async def test_unsigned_and_shared_secret_tokens_are_refused(issuer: Issuer) -> None:
    kid = public_jwk(load_or_create_key(issuer.key_file))["kid"]
    verifier = TokenVerifier(issuer.url, "motcua")
    unsigned = jwt.encode(claims_for(issuer), None, algorithm="none", headers={"kid": kid})
    with pytest.raises(AuthError, match="'none' not accepted"):
        await verifier.verify(unsigned)
    # A shared-secret (HMAC) token: anyone holding the secret could forge; a verifier never accepts one.
    secret = jwt.encode(
        claims_for(issuer), "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256", headers={"kid": kid}
    )
    with pytest.raises(AuthError, match="'HS256' not accepted"):
        await verifier.verify(secret)
    with pytest.raises(AuthError, match="malformed token"):
        await verifier.verify("not-a-jwt")
    assert issuer.requests["/jwks.json"] == 0  # refused before any key was needed


async def test_unknown_kid_refetches_at_most_once_per_interval(issuer: Issuer) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = TokenVerifier(issuer.url, "motcua")  # default: at most one refetch per 30 s
    for kid in ("unknown-1", "unknown-2", "unknown-3"):
        with pytest.raises(AuthError, match="unknown signing key"):
            await verifier.verify(signed(claims_for(issuer), stranger, kid))
    assert issuer.requests["/.well-known/openid-configuration"] == 1
    assert issuer.requests["/jwks.json"] == 1  # the first load; the others were within 30 s of it


async def test_concurrent_first_requests_share_one_fetch(issuer: Issuer) -> None:
    token = await issuer.token()
    verifier = TokenVerifier(issuer.url, "motcua", refresh_interval=0)
    results = await asyncio.gather(*(verifier.verify(token) for _ in range(10)))
    assert {claims["sub"] for claims in results} == {"cb.h40101.tn"}
    assert issuer.requests["/jwks.json"] == 1


async def test_a_rotated_key_is_picked_up_with_one_refetch(issuer: Issuer, tmp_path: Path) -> None:
    verifier = TokenVerifier(issuer.url, "motcua", refresh_interval=0.2)
    old_token = await issuer.token()
    await verifier.verify(old_token)
    assert issuer.requests["/jwks.json"] == 1

    await issuer.restart(tmp_path / "rotated" / "issuer-key.pem")  # a new key, a new kid
    new_token = await issuer.token()
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    await asyncio.sleep(0.25)
    assert (await verifier.verify(new_token))["sub"] == "cb.h40101.tn"
    assert (await verifier.verify(new_token))["sub"] == "cb.h40101.tn"  # cached now
    assert issuer.requests["/jwks.json"] == 2
    assert issuer.requests["/.well-known/openid-configuration"] == 1  # discovery is read once
    await asyncio.sleep(0.25)
    with pytest.raises(AuthError, match="unknown signing key"):  # the old key is gone from the set
        await verifier.verify(old_token)


async def test_issuer_down_is_reported_not_crashed(issuer: Issuer) -> None:
    token = await issuer.token()
    await issuer.stop()
    try:
        with pytest.raises(IdentityProviderUnavailable, match="identity provider unreachable"):
            await TokenVerifier(issuer.url, "motcua", timeout=2).verify(token)
    finally:
        await issuer.start()  # the fixture stops it


async def test_token_endpoint_validates_its_input(issuer: Issuer) -> None:
    async with httpx.AsyncClient(base_url=issuer.url) as client:
        for username in ("", "a" * 65, "cb h40101", "cán.bộ", "x/y"):
            response = await client.post("/token", data={"username": username})
            assert response.status_code == 422, username
            assert "username" in response.json()["detail"]
        assert (await client.post("/token", data={"password": "x"})).status_code == 422
        assert (await client.post("/token", data={"username": "cb", "expires_in": "86401"})).status_code == 422
        assert (await client.post("/token", data={"username": "cb", "grant_type": "implicit"})).status_code == 400
        json_body = await client.post("/token", json={"username": "cb.json", "expires_in": 60})
        assert json_body.status_code == 200 and json_body.json()["expires_in"] == 60
        assert json_body.json()["token_type"] == "Bearer"
        discovery = (await client.get("/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == issuer.url and discovery["jwks_uri"] == f"{issuer.url}/jwks.json"
        assert (await client.get("/ready")).status_code == 200


def test_bearer_token_is_read_from_the_authorization_header() -> None:
    app = FastAPI()

    def request(authorization: str | None) -> Request:
        headers = [(b"authorization", authorization.encode())] if authorization is not None else []
        return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "app": app})

    assert bearer_token(request("Bearer abc.def.ghi")) == "abc.def.ghi"
    assert bearer_token(request("bearer abc.def.ghi")) == "abc.def.ghi"
    for bad in (None, "", "Bearer ", "Basic dXNlcjpwdw==", "abc.def.ghi"):
        with pytest.raises(HTTPException) as refused:
            bearer_token(request(bad))
        assert refused.value.status_code == 401
        assert refused.value.headers == {"WWW-Authenticate": "Bearer"}
