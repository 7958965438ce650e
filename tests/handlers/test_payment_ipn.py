"""The gateway's callback (IPN), payment's only trusted confirmation: what it accepts and refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from motcua_contracts import PaymentCompleted

from services.payment.app import create
from services.payment.context import Payments
from services.payment.gateway_protocol import gateway_time
from services.runtime import utcnow
from tests.harness import Harness

from .events import received
from .test_payment import CODE, REFERENCE, callback, settings, stored


@asynccontextmanager
async def pending_fee() -> AsyncIterator[tuple[Harness[Payments], httpx.AsyncClient]]:
    """Payment with the sample dossier's fee (20,000 VND) pending, and a client of its HTTP edge."""
    async with Harness.running(create(settings(callback_window_s=600))) as payment, payment.http() as client:
        await payment.deliver(received(CODE))
        await payment.emitted()  # payment.requested
        yield payment, client


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
        assert (await stored(payment))["state"] == "paid"


@pytest.mark.parametrize(
    "forged",
    [
        {"checksum": "0" * 64},
        {"amount_vnd": 1},  # changed after signing
        {"transaction_id": "T9"},
    ],
    ids=["made-up checksum", "tampered amount", "tampered transaction"],
)
async def test_a_callback_whose_checksum_does_not_match_is_refused(forged: dict[str, Any]) -> None:
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", json=callback() | forged)
        assert refused.status_code == 401
        assert await payment.emitted() == [] and (await stored(payment))["state"] == "pending"


HOUR = 3600


@pytest.mark.parametrize(
    ("changes", "status", "because"),
    [
        ({"amount_vnd": 2000}, 400, "does not match"),
        ({"partner_code": "ANOTHER"}, 400, "partner code"),
        ({"currency": "USD"}, 400, "currency"),
        ({"time": -HOUR}, 400, "from now"),  # stale: a replay
        ({"time": HOUR}, 400, "from now"),
        ({"time": "20261399250000"}, 400, "not a date"),
        ({"reference": "PAY-H40.101-261124-0999"}, 404, "unknown"),
        ({"reference": "SOMEONE-ELSES"}, 404, "unknown"),
    ],
    ids=["wrong amount", "wrong partner", "wrong currency", "stale", "future", "not a date", "unknown", "not ours"],
)
async def test_a_signed_callback_that_does_not_fit_the_payment_is_refused(
    changes: dict[str, Any], status: int, because: str
) -> None:
    if isinstance(changes.get("time"), int):  # seconds from now, taken when the test runs
        changes = changes | {"time": gateway_time(utcnow() + timedelta(seconds=changes["time"]))}
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", json=callback(**changes))
        assert refused.status_code == status and because in refused.json()["detail"], refused.text
        assert await payment.emitted() == [] and (await stored(payment))["state"] == "pending"


async def test_a_malformed_callback_is_refused() -> None:
    async with pending_fee() as (_, gateway):
        assert (await gateway.post("/payments/ipn", json={"reference": REFERENCE})).status_code == 422


async def test_an_unsuccessful_transaction_leaves_the_fee_pending() -> None:
    async with pending_fee() as (payment, gateway):
        failed = await gateway.post("/payments/ipn", json=callback(error_code="24", transaction_id="T0"))
        assert failed.status_code == 200 and "still pending" in failed.json()["result"]
        assert await payment.emitted() == [] and (await stored(payment))["state"] == "pending"

        await gateway.post("/payments/ipn", json=callback())  # the citizen tries again and pays
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]


async def test_a_second_transaction_for_a_paid_fee_is_recorded_for_refund() -> None:
    async with pending_fee() as (payment, gateway):
        await gateway.post("/payments/ipn", json=callback(transaction_id="T1"))
        await payment.emitted()
        twice = await gateway.post("/payments/ipn", json=callback(transaction_id="T2"))
        assert twice.json() == {"result": "recorded for refund"}
        again = await gateway.post("/payments/ipn", json=callback(transaction_id="T2"))
        assert again.json() == {"result": "already recorded for refund"}
        assert await payment.emitted() == []  # no second payment.completed
        document = await stored(payment)
        assert document["transaction_id"] == "T1"
        assert [(r["transaction_id"], r["amount_vnd"], r["reason"]) for r in document["refunds"]] == [
            ("T2", 20000, "paid twice")
        ]
