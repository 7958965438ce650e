"""The gateways' notifications (IPN), payment's only trusted confirmation, in both protocols: what
they accept and refuse. Notifications are made by hand here (signed as the gateways sign them);
the sandbox gateway sending them: test_payment_abuse.py."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from motcua_contracts import PaymentCompleted

from services.payment.context import Payments
from services.payment.gateways.platform import gateway_time
from services.runtime import utcnow
from services.runtime.service import http_app
from tests.harness import Harness

from .events import received
from .payment_support import (
    CARD,
    CARD_REFERENCE,
    CODE,
    PLATFORM,
    REFERENCE,
    callback,
    card_notice,
    ledger,
    payment_alone,
    stored,
    token_of,
)

MINUTE = 60


@asynccontextmanager
async def pending_fee(**changes: Any) -> AsyncIterator[tuple[Harness[Payments], httpx.AsyncClient]]:
    """Payment with the sample dossier's fee (20,000 VND) pending, an order at each gateway (the
    platform's, and the card gateway's the citizen picked on the page), and a client of its HTTP
    edge calling from 127.0.0.1, the gateways' address in these settings."""
    configured = {"callback_max_age_s": 15 * MINUTE, "callback_clock_skew_s": MINUTE} | changes
    async with payment_alone(**configured) as payment, payment.http() as client:
        await payment.deliver(received(CODE))
        started = await client.get(f"/pay/{CODE}/start", params={"gateway": CARD, "token": token_of()})
        assert started.status_code == 303, started.text  # the card page's address is signed here: no call
        await payment.emitted()  # payment.requested
        yield payment, client


def from_address(payment: Harness[Payments], address: str) -> httpx.AsyncClient:
    """A client of payment's HTTP edge calling from `address`."""
    transport = httpx.ASGITransport(app=http_app(payment.runtime), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def card_ipn(client: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    return await client.get(f"/payments/ipn/card?{urlencode(params)}")


async def assert_nothing_changed(payment: Harness[Payments]) -> None:
    document = await stored(payment)
    assert await payment.emitted() == []
    assert (document["state"], document["refunds"], document["flagged"], document["received"]) == (
        "pending",
        [],
        [],
        [],
    )
    assert await ledger(payment) == []


def timed(seconds_from_now: float) -> str:
    return gateway_time(utcnow() + timedelta(seconds=seconds_from_now))


async def test_a_good_notification_completes_the_payment_once() -> None:
    async with pending_fee() as (payment, gateway):
        confirmed = await gateway.post("/payments/ipn", json=callback())
        assert confirmed.status_code == 200 and confirmed.json() == {"result": "confirmed"}
        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted)
        assert (completed.reference, completed.amount_vnd, completed.gateway_transaction) == (REFERENCE, 20000, "T1")
        assert (completed.channel, completed.gateway, completed.method) == ("online", PLATFORM, "gateway")

        replay = await gateway.post("/payments/ipn", json=callback())  # the gateway sends it again
        assert replay.status_code == 200 and replay.json() == {"result": "already confirmed"}
        assert await payment.emitted() == []
        document = await stored(payment)
        assert (document["state"], document["captured"]["transaction_id"], document["refunds"]) == ("paid", "T1", [])
        assert document["captured"]["receipt_number"] == completed.receipt_number
        [entry] = await ledger(payment)
        assert (entry["_id"], entry["kind"], entry["amount_vnd"]) == (f"capture:{PLATFORM}:T1", "capture", 20000)


async def test_a_good_card_notification_completes_the_payment_once() -> None:
    async with pending_fee() as (payment, gateway):
        confirmed = await card_ipn(gateway, card_notice(vnp_CardType="QRCODE"))
        assert confirmed.status_code == 200
        assert confirmed.json() == {"RspCode": "00", "Message": "Confirm Success"}
        [completed] = await payment.emitted()
        # the event names the payment by its request's reference; the capture keeps the order's
        assert (completed.reference, completed.gateway_transaction, completed.gateway) == (REFERENCE, "C1", CARD)
        assert completed.method == "bank_transfer"  # paid by a QR transfer on the card gateway's page
        assert (await stored(payment))["captured"]["reference"] == CARD_REFERENCE

        replay = await card_ipn(gateway, card_notice(vnp_CardType="QRCODE"))
        assert replay.status_code == 200 and replay.json() == {"RspCode": "02", "Message": "Order already confirmed"}
        assert await payment.emitted() == []
        assert [entry["_id"] for entry in await ledger(payment)] == [f"capture:{CARD}:C1"]


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
        assert len(await ledger(payment)) == 1


async def test_a_second_transaction_for_a_paid_fee_is_captured_and_refunded_once() -> None:
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
        card_twice = await card_ipn(gateway, card_notice(vnp_TransactionNo="C2"))  # and on the card gateway
        assert card_twice.json() == {"RspCode": "00", "Message": "Confirm Success"}
        card_again = await card_ipn(gateway, card_notice(vnp_TransactionNo="C2"))
        assert card_again.json() == {"RspCode": "02", "Message": "Order already confirmed"}
        assert await payment.emitted() == []  # no second payment.completed
        document = await stored(payment)
        assert document["captured"]["transaction_id"] == "T1"
        assert [
            (r["gateway"], r["transaction_id"], r["amount_vnd"], r["reason"], r["state"]) for r in document["refunds"]
        ] == [
            (PLATFORM, "T2", 20000, "paid twice", "due"),
            (CARD, "C2", 20000, "paid twice", "due"),
        ]
        # every transaction is money received: each has its capture, the refund its own entry later
        assert sorted(entry["_id"] for entry in await ledger(payment)) == [
            f"capture:{CARD}:C2",
            f"capture:{PLATFORM}:T1",
            f"capture:{PLATFORM}:T2",
        ]


@pytest.mark.parametrize(
    "forged",
    [
        {"checksum": "0" * 64},
        {"amount_vnd": 1},  # changed after signing
        {"transaction_id": "T9"},
        {"error_code": "00", "checksum": "made with another secret"},
    ],
    ids=["made-up checksum", "tampered amount", "tampered transaction", "another secret"],
)
async def test_a_notification_whose_checksum_does_not_match_is_refused_and_changes_nothing(
    forged: dict[str, Any],
) -> None:
    async with pending_fee() as (payment, gateway):
        message = callback() | forged
        if forged.get("checksum") == "made with another secret":
            message = callback(secret="guessed")
        refused = await gateway.post("/payments/ipn", json=message)
        assert refused.status_code == 401 and refused.json()["detail"] == "checksum does not match"
        await assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "forged",
    [
        {"vnp_SecureHash": "0" * 128},
        {"vnp_Amount": "200000000"},  # changed after signing
        {"vnp_TransactionNo": "C9"},
        {"vnp_BankCode": ""},  # an empty parameter is not signed, but dropping a signed one shows
        {"vnp_Extra": "1"},  # a parameter added after signing
    ],
    ids=["made-up hash", "tampered amount", "tampered transaction", "dropped parameter", "added parameter"],
)
async def test_a_card_notification_whose_signature_does_not_match_is_refused_and_changes_nothing(
    forged: dict[str, str],
) -> None:
    async with pending_fee() as (payment, gateway):
        refused = await card_ipn(gateway, card_notice() | forged)
        assert refused.status_code == 401 and refused.json()["RspCode"] == "97"
        assert (await card_ipn(gateway, card_notice(secret="guessed"))).status_code == 401
        await assert_nothing_changed(payment)


async def test_a_signed_notification_for_another_amount_is_refused_and_flagged_for_follow_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with pending_fee() as (payment, gateway):
        with caplog.at_level(logging.ERROR, logger="services.payment"):
            refused = await gateway.post("/payments/ipn", json=callback(amount_vnd=2000, transaction_id="T7"))
        assert refused.status_code == 400
        assert refused.json() == {"detail": "the amount is not the fee's; flagged for follow-up", "result": "amount"}
        assert await payment.emitted() == []
        document = await stored(payment)
        assert document["state"] == "pending" and await ledger(payment) == []
        assert [(f["gateway"], f["transaction_id"], f["amount_vnd"], f["code"]) for f in document["flagged"]] == [
            (PLATFORM, "T7", 2000, "00")
        ]
        [flag_line] = [r for r in caplog.records if "flagged" in r.getMessage()]
        assert flag_line.fields == {"reference": REFERENCE, "transaction": "T7", "gateway": PLATFORM}  # type: ignore[attr-defined]

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
        ({"reference": f"{REFERENCE}-7"}, 404, "unknown payment reference"),  # no such order
        ({"reference": CARD_REFERENCE}, 404, "unknown payment reference"),  # the card gateway's order
    ],
    ids=[
        "wrong partner",
        "wrong currency",
        "too old",
        "future",
        "not a date",
        "unknown",
        "not ours",
        "no such order",
        "another gateway's order",
    ],
)
async def test_a_signed_notification_that_is_not_for_this_fee_or_not_current_is_refused(
    changes: dict[str, Any], status: int, detail: str
) -> None:
    changes = {name: value() if callable(value) else value for name, value in changes.items()}
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", json=callback(**changes))
        assert refused.status_code == status and detail in refused.json()["detail"], refused.text
        await assert_nothing_changed(payment)


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"vnp_TmnCode": "ANOTHER"}, 400, "99"),
        ({"vnp_CurrCode": "USD"}, 400, "99"),
        ({"vnp_PayDate": partial(timed, 5 * MINUTE)}, 400, "99"),  # ahead of us
        ({"vnp_TxnRef": "PAY-H40.101-261124-0999"}, 404, "01"),
        ({"vnp_TxnRef": REFERENCE}, 404, "01"),  # the platform's order
        ({"vnp_Amount": "200000"}, 400, "04"),
    ],
    ids=["wrong terminal", "wrong currency", "future", "unknown", "another gateway's order", "wrong amount"],
)
async def test_a_signed_card_notification_that_is_not_for_this_fee_or_not_current_is_refused(
    changes: dict[str, Any], status: int, code: str
) -> None:
    changes = {name: value() if callable(value) else value for name, value in changes.items()}
    async with pending_fee() as (payment, gateway):
        refused = await card_ipn(gateway, card_notice(**changes))
        assert refused.status_code == status and refused.json()["RspCode"] == code, refused.text
        document = await stored(payment)
        assert document["state"] == "pending" and await ledger(payment) == [] and await payment.emitted() == []
        assert len(document["flagged"]) == (1 if code == "04" else 0)


async def test_a_notification_a_little_old_or_a_little_ahead_is_taken() -> None:
    async with pending_fee() as (_, gateway):
        late = await gateway.post("/payments/ipn", json=callback(time=timed(-14 * MINUTE)))
        assert late.json() == {"result": "confirmed"}
        ahead = await gateway.post("/payments/ipn", json=callback(time=timed(40), transaction_id="T2"))
        assert ahead.json() == {"result": "recorded for refund"}
        old_card = await card_ipn(gateway, card_notice(vnp_PayDate=timed(-3 * 86400), vnp_TransactionNo="C3"))
        assert old_card.json()["RspCode"] == "00"  # its pay date repeats on every attempt: no age limit


async def test_notifications_are_taken_only_from_the_gateways_addresses() -> None:
    async with pending_fee(gateway_addresses="203.0.113.0/28, 2001:db8::7") as (payment, local):
        refused = await local.post("/payments/ipn", json=callback())  # 127.0.0.1 is not a gateway here
        assert refused.status_code == 403
        assert refused.json()["detail"] == "notifications are taken only from the gateways"
        assert (await card_ipn(local, card_notice())).status_code == 403
        async with from_address(payment, "198.51.100.20") as stranger:
            assert (await stranger.post("/payments/ipn", json=callback())).status_code == 403
        await assert_nothing_changed(payment)

        async with from_address(payment, "203.0.113.9") as gateway:
            assert (await gateway.post("/payments/ipn", json=callback())).json() == {"result": "confirmed"}
        async with from_address(payment, "2001:db8::7") as gateway:
            again = await gateway.post("/payments/ipn", json=callback())
            assert again.json() == {"result": "already confirmed"}
            assert (await card_ipn(gateway, card_notice())).json()["RspCode"] == "00"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_notification_with_a_number_json_cannot_carry_is_refused_with_422(number: str) -> None:
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
        json.dumps(callback() | {"transaction_id": "T1|00"}),  # would shift the checksum's fields
        json.dumps([callback()]),
        "not json",
        b"\xff\xfe",
    ],
    ids=["missing fields", "huge amount", "separator in a value", "not an object", "not json", "not text"],
)
async def test_a_malformed_notification_is_refused_with_422(body: str | bytes) -> None:
    async with pending_fee() as (payment, gateway):
        refused = await gateway.post("/payments/ipn", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 422, refused.text
        await assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"vnp_TxnRef": CARD_REFERENCE},
        card_notice(vnp_Amount="2000050"),  # not a whole number of dong
        card_notice(vnp_Amount="-2000000"),
        card_notice(vnp_TransactionNo=""),
    ],
    ids=["nothing", "no hash", "fraction of a dong", "negative", "no transaction"],
)
async def test_a_malformed_card_notification_is_refused_with_422(params: dict[str, str]) -> None:
    async with pending_fee() as (payment, gateway):
        refused = await card_ipn(gateway, params)
        assert refused.status_code == 422, refused.text
        await assert_nothing_changed(payment)


async def test_an_unsuccessful_transaction_leaves_the_fee_pending() -> None:
    async with pending_fee() as (payment, gateway):
        failed = await gateway.post("/payments/ipn", json=callback(error_code="24", transaction_id="T0"))
        assert failed.status_code == 200
        assert failed.json() == {
            "result": "not paid",
            "detail": "payment not successful; nothing paid",
            "error_code": "24",
        }
        declined = await card_ipn(gateway, card_notice(vnp_ResponseCode="51", vnp_TransactionStatus="02"))
        assert declined.json() == {"RspCode": "00", "Message": "Confirm Success"}  # taken: nothing paid
        document = await stored(payment)
        assert [order["state"] for order in document["orders"]] == ["failed", "failed"]
        assert (document["state"], document["received"]) == ("pending", [])
        assert await payment.emitted() == [] and await ledger(payment) == []

        await gateway.post("/payments/ipn", json=callback())  # the citizen tries again and pays
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]
