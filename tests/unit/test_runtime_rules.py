"""Which failures are outages (retry the batch later) and which are the event's fault (dead-letter);
what the HTTP edge every service shares refuses, logs and answers; who the client of a request is."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI, Request
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError, NetworkTimeout, OperationFailure, ServerSelectionTimeoutError

from services.runtime.clients import client_address, client_group, networks
from services.runtime.consumer import is_outage
from services.runtime.logs import JsonFormatter
from services.runtime.settings import ServiceSettings
from services.runtime.web import edge, json_problem, page_policy


def test_database_and_broker_trouble_is_an_outage() -> None:
    assert is_outage(ServerSelectionTimeoutError("no primary"))
    assert is_outage(NetworkTimeout("timed out"))
    assert is_outage(KafkaConnectionError())
    assert is_outage(KafkaTimeoutError())
    transient = OperationFailure("write conflict", code=112)
    transient._add_error_label("TransientTransactionError")
    assert is_outage(transient)


def test_handler_and_data_errors_are_not_outages() -> None:
    assert not is_outage(ValueError("dossier not awaiting a signature"))
    assert not is_outage(KeyError("due_at"))
    assert not is_outage(DuplicateKeyError("E11000 duplicate key"))
    assert not is_outage(OperationFailure("bad update", code=9))


# --- the HTTP edge every service shares (services/runtime/web.py) ---------------------------

IDENTITY = "001203004567"


def edge_app(profile: str = "development") -> FastAPI:
    """The shared edge with one route that fails unexpectedly, quoting what it was sent."""
    production = {"kafka_password": "broker-s3cret", "mongo_url": "mongodb://test:db-s3cret@db.example.vn/"}
    app = edge("test", ServiceSettings(profile=profile, **production))

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        raise ValueError(f"cannot handle {body}")

    return app


async def call(app: FastAPI, method: str, path: str, **request: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        return await client.request(method, path, **request)


def test_json_bodies_hold_finite_numbers_only() -> None:
    for number in ("NaN", "Infinity", "-Infinity", "1e999", "-1E400"):
        for body in (f"{number}", f'{{"owner": {number}}}', f'{{"a": [1, {{"b": {number}}}]}}'):
            assert (json_problem(body.encode()) or {}).get("type") == "finite_number", body
    assert json_problem(b'{"amount": 1.5e300, "name": "NaN Infinity", "n": -0.0}') is None
    assert (json_problem(b"\xff\xfe") or {}).get("type") == "json_invalid"  # not UTF-8
    assert (json_problem(b"[" * 100_000) or {}).get("type") == "json_invalid"  # nested beyond the parser


def test_a_page_runs_only_its_own_inline_script_and_style() -> None:
    page = b"<html><style>p{}</style><script src='/x.js'></script><script>go()</script></html>"
    digest = lambda text: base64.b64encode(hashlib.sha256(text).digest()).decode()  # noqa: E731
    policy = page_policy(page)
    assert f"script-src 'self' 'sha256-{digest(b'go()')}'" in policy
    assert f"style-src 'self' 'sha256-{digest(b'p{}')}'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy


async def test_every_answer_carries_the_security_headers() -> None:
    for path in ("/health", "/missing", "/docs"):
        answer = await call(edge_app(), "GET", path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_api_documents_are_served_in_the_development_profile_only() -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await call(edge_app("development"), "GET", path)).status_code == 200, path
        assert (await call(edge_app("production"), "GET", path)).status_code == 404, path


async def test_a_request_with_nan_is_refused_before_the_route_runs() -> None:
    answer = await call(
        edge_app(), "POST", "/echo", content=b'{"owner": NaN}', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422 and "finite" in answer.json()["detail"][0]["msg"]


async def test_validation_errors_never_echo_the_values_sent() -> None:
    answer = await call(
        edge_app(), "POST", "/echo", content=IDENTITY.encode() + b"\xff", headers={"content-type": "text/plain"}
    )
    assert answer.status_code == 422 and IDENTITY not in answer.text


async def test_an_unexpected_error_is_a_500_whose_log_line_holds_no_request_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="services.runtime.web"):
        answer = await call(edge_app(), "POST", "/echo", json={"identity_number": IDENTITY})
    assert answer.status_code == 500 and answer.json() == {"detail": "internal error"}
    assert answer.headers["x-content-type-options"] == "nosniff"
    [line] = [JsonFormatter("test").format(record) for record in caplog.records]
    assert IDENTITY not in line and "builtins.ValueError" in line and "/echo" in line


# --- who the client is (services/runtime/clients.py) ----------------------------------------

PROXIES = networks("10.0.0.0/8, 2001:db8:ffff::1")


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    # anyone may send X-Forwarded-For: from a peer that is not a trusted proxy it is ignored
    assert client_address("203.0.113.9", "198.51.100.1", PROXIES) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    # behind a trusted proxy: the right-most address that is not a trusted proxy; what the client wrote is left of it
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", "198.51.100.1, 10.0.0.3", PROXIES) == "198.51.100.1"  # two proxies
    assert client_address("2001:db8:ffff::1", "2001:db8:1:2::5", PROXIES) == "2001:db8:1:2::5"
    assert client_address("10.0.0.2", None, PROXIES) == "10.0.0.2"  # the proxy's own request
    assert client_address("10.0.0.2", "not-an-address, 10.0.0.3", PROXIES) == "10.0.0.3"  # the chain ends there
    assert client_address("::ffff:203.0.113.9", None, PROXIES) == "203.0.113.9"  # IPv4 on a dual-stack listener


def test_rate_limits_count_an_ipv6_client_by_its_64_network() -> None:
    assert client_group("2001:db8:1:2::5") == client_group("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert client_group("2001:db8:1:3::5") != client_group("2001:db8:1:2::5")
    assert client_group("203.0.113.9") == "203.0.113.9" and client_group("203.0.113.10") == "203.0.113.10"
    assert client_group("::ffff:203.0.113.9") == "203.0.113.9"
    assert client_group(None) == "unknown"


async def test_every_route_sees_the_client_the_edge_resolved() -> None:
    def app(proxies: str) -> FastAPI:
        served = edge("test", ServiceSettings(profile="development", trusted_proxies=proxies))

        @served.get("/who")
        async def who(request: Request) -> str:
            return request.client.host if request.client else ""

        return served

    async def asked(proxies: str, peer: str, forwarded: str) -> str:
        transport = httpx.ASGITransport(app=app(proxies), client=(peer, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            return (await client.get("/who", headers={"X-Forwarded-For": forwarded})).json()

    assert await asked("", "127.0.0.1", "198.51.100.1") == "127.0.0.1"  # no proxy is trusted by default
    assert await asked("127.0.0.1", "127.0.0.1", "1.1.1.1, 198.51.100.1") == "198.51.100.1"
    assert await asked("127.0.0.1", "203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ServiceSettings(profile="development", trusted_proxies="10.0.0.0/8, proxy.example.vn")
