"""Which failures are outages (retry the batch later) and which are the event's fault (dead-letter);
what the HTTP edge every service shares refuses, logs and answers."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI
from pymongo.errors import DuplicateKeyError, NetworkTimeout, OperationFailure, ServerSelectionTimeoutError

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
