"""The gateway's callback (IPN), payment's only trusted confirmation: what it accepts and refuses."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from motcua_contracts import PaymentCompleted

from services.payment.app import create
from services.payment.context import Payments
from services.payment.gateway_protocol import gateway_time
from services.runtime import utcnow
from services.runtime.service import http_app
from tests.harness import Harness

from .events import received
from .test_payment import CODE, REFERENCE, callback, settings, stored

MINUTE = 60


@asynccontextmanager
async def pending_fee(**changes: Any) -> AsyncIterator[tuple[Harness[Payments], httpx.AsyncClient]]:
    """Payment with the sample dossier's fee (20,000 VND) pending, and a client of its HTTP edge
    calling from 127.0.0.1, the gateway's address in these settings."""
    configured = settings(**({"callback_max_age_s": 15 * MINUTE, "callback_clock_skew_s": MINUTE} | changes))
    async with Harness.running(create(configured)) as payment, payment.http() as client:
        await payment.deliver(received(CODE))
        await payment.emitted()  # payment.requested
        yield payment, client


def from_address(payment: Harness[Payments], address: str) -> httpx.AsyncClient:
    """A client of payment's HTTP edge calling from `address`."""
    transport = httpx.ASGITransport(app=http_app(payment.runtime), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def assert_nothing_changed(payment: Harness[Payments]) -> None:
    document = await stored(payment)
    assert await payment.emitted() == []
    assert (document["state"], document["refunds"], document["flagged"]) == ("pending", [], [])


def timed(seconds_from_now: float) -> str:
    return gateway_time(utcnow() + timedelta(seconds=seconds_from_now))


async def test_a_good_callback_completes_the_payment_once() -> None:
    async with pending_fee() as (payment, gateway):
        confirmed = await gateway.post("/payments/ipn", json=callback())
        assert confirmed.json() == {"result": "confirmed"}
        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted)
        assert (completed.reference, completed.amount_vnd, completed.gateway_transaction) == (REFERENCE, 20000, "T1")

        replay = await gateway.post("/payments/ipn", json=callback())  # the gateway sends it again
        assert replay.status_code == 200 and replay.json() == {"result": "already confirmed"}
        assert await payment.emitted() == []
        document = await stored(payment)
        assert (document["state"], document["transaction_id"], document["refunds"]) == ("paid", "T1", [])


async def test_duplicate_notifications_arriving_together_make_one_capture_and_no_refund() -> None:
    async with pending_fee() as (payment, gateway):
        notification = callback()  # one message, delivered five times at once
        answers = await asyncio.gather(*(gateway.post("/payments/ipn", json=notification) for _ in range(5)))
        assert all(answer.status_code == 200 for answer in answers)
        results = sorted(answer.json()["result"] for answer in answers)
        assert results == ["already confirmed"] * 4 + ["confirmed"]
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]
        document = await stored(payment)
        assert (document["state"], document["refunds"]) == ("paid", [])


async def test_a_second_transaction_for_a_paid_fee_is_recorded_for_refund_once() -> None:
    async with pending_fee() as (payment, gateway):
        await gateway.post("/payments/ipn", json=callback(transaction_id="T1"))
        await payment.emitted()
        twice = await gateway.post("/payments/ipn", json=callback(transaction_id="T2"))
        assert twice.json() == {"result": "recorded for refund"}
        for _ in range(3):  # the second transaction's notification, replayed
            again = await gateway.post("/payments/ipn", json=callback(transaction_id="T2"))
            assert again.status_code == 200 and again.json() == {"result": "already recorded for refund"}
        assert (await gateway.post("/payments/ipn", json=callback(transaction_id="T1"))).json() == {
            "result": "already confirmed"
        }
        assert await payment.emitted() == []  # no second payment.completed
        document = await stored(payment)
        assert document["transaction_id"] == "T1"
        assert [(r["transaction_id"], r["amount_vnd"], r["reason"]) for r in document["refunds"]] == [
            ("T2", 20000, "paid twice")
        ]


@pytest.mark.parametrize(
    "forged",
    [
        {"checksum": "0" * 128},
        {"amount_vnd": 1},  # changed after signing
        {"transaction_id": "T9"},
        {"error_code": "00", "checksum": "made with another secret"},
    ],
    ids=["made-up checksum", "tampered amount", "tampered transaction", "another secret"],
)
async def test_a_callback_whose_checksum_does_not_match_is_refused_and_changes_nothing(forged: dict[str, Any]) -> None:
    async with pending_fee() as (payment, gateway):
        message = callback() | forged
        if forged.get("checksum") == "made with another secret":
            message = callback(secret="guessed")
        refused = await gateway.post("/payments/ipn", json=message)
        assert refused.status_code == 401 and refused.json()["detail"] == "checksum does not match"
        await assert_nothing_changed(payment)


async def test_a_signed_callback_for_another_amount_is_refused_and_flagged_for_follow_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with pending_fee() as (payment, gateway):
        with caplog.at_level(logging.ERROR, logger="services.payment.api"):
            refused = await gateway.post("/payments/ipn", json=callback(amount_vnd=2000, transaction_id="T7"))
        assert refused.status_code == 400
        assert refused.json()["detail"] == "amount 2000 does not match the 20000 due; flagged for follow-up"
        assert await payment.emitted() == []
        document = await stored(payment)
        assert document["state"] == "pending"
        assert [(f["transaction_id"], f["amount_vnd"], f["error_code"]) for f in document["flagged"]] == [
            ("T7", 2000, "00")
        ]
        [flag_line] = [r for r in caplog.records if "flagged" in r.getMessage()]
        assert flag_line.fields == {  # type: ignore[attr-defined]
            "reference": REFERENCE,
            "transaction": "T7",
            "amount_vnd": 2000,
            "due_vnd": 20000,
        }

        again = await gateway.post("/payments/ipn", json=callback(amount_vnd=2000, transaction_id="T7"))
        assert again.status_code == 400 and len((await stored(payment))["flagged"]) == 1  # flagged once

        await gateway.post("/payments/ipn", json=callback())  # the right amount still settles the fee
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]


@pytest.mark.parametrize(
    ("changes", "status", "detail"),
    [
        ({"partner_code": "ANOTHER"}, 400, "partner code 'ANOTHER' is not ours"),
        ({"currency": "USD"}, 400, "currency 'USD' is not VND"),
        # times relative to when the test runs, not to when the suite was collected
        ({"time": partial(timed, -16 * MINUTE)}, 400, "is older than 900s"),  # a replay of an old notification
        ({"time": partial(timed, 5 * MINUTE)}, 400, "is more than 60s in the future"),
        ({"time": "20261399250000"}, 400, "is not a date"),
        ({"reference": "PAY-H40.101-261124-0999"}, 404, "unknown payment reference"),
        ({"reference": "SOMEONE-ELSES"}, 404, "unknown payment reference"),
    ],
    ids=["wrong partner", "wrong currency", "too old", "future", "not a date", "unknown", "not ours"],
)
async def test_a_signed_callback_that_is_not_for_this_fee_or_not_current_is_refused(
    changes: dict[str, Any], status: int, detail: str
) -> None:
    changes = {name: value() if callable(value) else value for name, value in changes.items()}
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", json=callback(**changes))
        assert refused.status_code == status and detail in refused.json()["detail"], refused.text
        await assert_nothing_changed(payment)


async def test_a_callback_a_little_old_or_a_little_ahead_is_taken() -> None:
    async with pending_fee() as (_, gateway):
        late = await gateway.post("/payments/ipn", json=callback(time=timed(-14 * MINUTE)))
        assert late.json() == {"result": "confirmed"}
        ahead = await gateway.post("/payments/ipn", json=callback(time=timed(40), transaction_id="T2"))
        assert ahead.json() == {"result": "recorded for refund"}


async def test_callbacks_are_taken_only_from_the_gateways_addresses() -> None:
    async with pending_fee(gateway_addresses="203.0.113.0/28, 2001:db8::7") as (payment, local):
        refused = await local.post("/payments/ipn", json=callback())  # 127.0.0.1 is not the gateway here
        assert refused.status_code == 403 and refused.json()["detail"] == "callbacks are taken only from the gateway"
        async with from_address(payment, "198.51.100.20") as stranger:
            assert (await stranger.post("/payments/ipn", json=callback())).status_code == 403
        await assert_nothing_changed(payment)

        async with from_address(payment, "203.0.113.9") as gateway:
            assert (await gateway.post("/payments/ipn", json=callback())).json() == {"result": "confirmed"}
        async with from_address(payment, "2001:db8::7") as gateway:
            again = await gateway.post("/payments/ipn", json=callback())
            assert again.json() == {"result": "already confirmed"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_callback_with_a_number_json_cannot_carry_is_refused_with_422(number: str) -> None:
    async with pending_fee() as (payment, gateway):
        body = json.dumps(callback()).replace('"amount_vnd": 20000', f'"amount_vnd": {number}')
        assert number in body
        refused = await gateway.post("/payments/ipn", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 422 and refused.json()["detail"], refused.text  # a JSON answer saying why
        await assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"reference": REFERENCE}),
        json.dumps(callback() | {"amount_vnd": 10**30}),
        json.dumps([callback()]),
        "not json",
        b"\xff\xfe",
    ],
    ids=["missing fields", "huge amount", "not an object", "not json", "not text"],
)
async def test_a_malformed_callback_is_refused_with_422(body: str | bytes) -> None:
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 422, refused.text
        await assert_nothing_changed(payment)


async def test_an_unsuccessful_transaction_leaves_the_fee_pending() -> None:
    async with pending_fee() as (payment, gateway):
        failed = await gateway.post("/payments/ipn", json=callback(error_code="24", transaction_id="T0"))
        assert failed.status_code == 200 and failed.json()["result"] == "payment not successful; nothing changed"
        await assert_nothing_changed(payment)

        await gateway.post("/payments/ipn", json=callback())  # the citizen tries again and pays
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]
