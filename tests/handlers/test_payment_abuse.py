"""Correct under abuse, in process with the real sandbox gateway, for both protocols (the national
platform's, `platform`, and the card gateway's, `card`): duplicated, tampered, wrongly priced,
unknown, late and concurrent notifications; lost ones found by the query job; money the fee did
not need paid back through its gateway; expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from motcua_contracts import PaymentCompleted, PaymentExpired, PaymentRefunded, PaymentRequested

from infra.gateway import Protocol, Transaction
from services.payment.gateways import sorted_hmac as card
from services.payment.jobs import expire_due, query_due, refund_due
from services.runtime import utcnow

from .events import refused, withdrawn
from .payment_support import (
    CARD,
    CARD_REFERENCE,
    CODE,
    PLATFORM,
    REFERENCE,
    Sandbox,
    callback,
    card_notice,
    ledger,
    payment_and_gateway,
    receipts_issued,
    stored,
    token_of,
)

PROTOCOLS = ["platform", "card"]
GATEWAY_OF: dict[str, str] = {"platform": PLATFORM, "card": CARD}
REFERENCE_OF: dict[str, str] = {"platform": REFERENCE, "card": CARD_REFERENCE}
QUERY_AFTER = timedelta(minutes=31)  # past the 30 minutes an order waits for its notification


async def ordered(sandbox: Sandbox, protocol: Protocol, code: str = CODE, **changes: Any) -> str:
    """The dossier's fee asked for, its platform order opened, and (card) the citizen on the card
    gateway's page: the reference of the order at the gateway speaking `protocol`."""
    await sandbox.received(code, **changes)
    if protocol == "card":
        return (await sandbox.card_order(code)).reference
    return f"PAY-{code}"


async def notify(sandbox: Sandbox, client: httpx.AsyncClient, transaction: Transaction) -> httpx.Response:
    """The gateway's notification of `transaction`, sent by hand (as the sandbox signs it)."""
    message = sandbox.gateway.notification(transaction)
    if transaction.protocol == "platform":
        return await client.post("/payments/ipn", json=message)
    return await client.get(f"/payments/ipn/card?{urlencode(message)}")


def taken(answer: str) -> str:
    """What payment's answer (as the sandbox recorded it) says the notification did."""
    for said, words in [
        ('"result":"confirmed"', "confirmed"),
        ('"RspCode":"00"', "confirmed"),
        ('"result":"already confirmed"', "already"),
        ('"RspCode":"02"', "already"),
    ]:
        if said in answer:
            return words
    return answer


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_duplicated_notification_makes_one_capture_and_one_receipt(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        paid = await sandbox.pay(protocol, reference, "duplicate", notifications=3)  # twice at once, once later
        assert sorted(taken(answer) for answer in paid.notifications) == ["already", "already", "confirmed"]
        assert all(answer.startswith("200 ") for answer in paid.notifications)

        requested, completed = await payment.emitted()
        assert isinstance(requested, PaymentRequested) and isinstance(completed, PaymentCompleted)
        assert (completed.gateway, completed.gateway_transaction) == (GATEWAY_OF[protocol], paid.transaction_id)
        assert [(e["kind"], e["transaction_id"]) for e in await ledger(payment)] == [("capture", paid.transaction_id)]
        assert await receipts_issued(payment) == 1
        document = await stored(payment)
        assert (document["state"], document["refunds"]) == ("paid", [])
        assert document["captured"]["receipt_number"] == completed.receipt_number


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_tampered_notification_is_refused_with_401_and_changes_nothing(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()
        before = await stored(payment)

        tampered = await sandbox.pay(protocol, reference, "tampered")  # its amount changed after signing
        assert tampered.notifications[0].startswith("401 ")
        assert len(tampered.notifications) == 1  # refused: not sent again

        by_hand = callback(reference=reference) | {"transaction_id": "T9"}  # one field changed after signing
        if protocol == "card":
            by_hand = card_notice(vnp_TxnRef=reference) | {"vnp_TransactionNo": "C9"}
        async with payment.http() as gateway:
            answer = await (
                gateway.post("/payments/ipn", json=by_hand)
                if protocol == "platform"
                else gateway.get(f"/payments/ipn/card?{urlencode(by_hand)}")
            )
        assert answer.status_code == 401

        assert await stored(payment) == before
        assert await payment.emitted() == [] and await ledger(payment) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_signed_notification_for_another_amount_is_refused_flagged_and_not_captured(
    protocol: Protocol,
) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()
        async with payment.http() as gateway:
            if protocol == "platform":
                answer = await gateway.post("/payments/ipn", json=callback(amount_vnd=2000, transaction_id="T7"))
            else:
                wrong = card_notice(vnp_TxnRef=reference, vnp_Amount=card.amount_param(2000), vnp_TransactionNo="T7")
                answer = await gateway.get(f"/payments/ipn/card?{urlencode(wrong)}")
        assert answer.status_code == 400
        assert answer.json()["result" if protocol == "platform" else "RspCode"] == (
            "amount" if protocol == "platform" else "04"
        )
        document = await stored(payment)
        assert [(f["gateway"], f["transaction_id"], f["amount_vnd"]) for f in document["flagged"]] == [
            (GATEWAY_OF[protocol], "T7", 2000)
        ]
        assert (document["state"], document["captured"], document["received"]) == ("pending", None, [])
        assert await payment.emitted() == [] and await ledger(payment) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_notification_for_an_unknown_reference_is_404(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        await ordered(sandbox, protocol)
        await payment.emitted()
        unknown = "PAY-H40.101-261124-0999"
        async with payment.http() as gateway:
            if protocol == "platform":
                answer = await gateway.post("/payments/ipn", json=callback(reference=unknown))
            else:
                answer = await gateway.get(f"/payments/ipn/card?{urlencode(card_notice(vnp_TxnRef=unknown))}")
        assert answer.status_code == 404
        if protocol == "card":
            assert answer.json()["RspCode"] == "01"
        assert (await stored(payment))["state"] == "pending" and await ledger(payment) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_expired_payment_cannot_be_started_but_a_late_notification_is_still_captured(
    protocol: Protocol,
) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()
        expires_at = (await stored(payment))["expires_at"]
        assert await expire_due(payment.runtime, expires_at + timedelta(seconds=1))
        [expired] = await payment.emitted()
        assert isinstance(expired, PaymentExpired)

        for gateway in (PLATFORM, CARD):
            refused_start = await sandbox.start(gateway)
            assert refused_start.status_code == 410, refused_start.text

        late = await sandbox.pay(protocol, reference, "late")  # paid before the deadline, told after it
        assert taken(late.notifications[0]) == "confirmed"
        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted) and completed.gateway_transaction == late.transaction_id
        document = await stored(payment)
        assert (document["state"], document["refunds"]) == ("paid", [])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_concurrent_identical_notifications_make_one_capture(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()
        sandbox.to_payment.target = None  # the gateway's own notification does not get through
        paid = sandbox.gateway.settle(protocol, reference)
        assert paid is not None
        async with payment.http() as gateway:
            answers = await asyncio.gather(*(notify(sandbox, gateway, paid) for _ in range(10)))
        assert all(answer.status_code == 200 for answer in answers)
        assert sorted(taken(answer.text) for answer in answers) == ["already"] * 9 + ["confirmed"]
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]
        assert len(await ledger(payment)) == 1 and await receipts_issued(payment) == 1
        assert (await stored(payment))["refunds"] == []


async def test_two_transactions_for_one_fee_arriving_together_make_one_capture_and_the_other_is_paid_back() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        await ordered(sandbox, "card")  # the citizen opened both gateways' pages, and paid on both
        await payment.emitted()
        sandbox.to_payment.target = None
        on_platform, on_card = gateway.settle("platform", REFERENCE), gateway.settle("card", CARD_REFERENCE)
        assert on_platform is not None and on_card is not None
        async with payment.http() as client:
            answers = await asyncio.gather(notify(sandbox, client, on_platform), notify(sandbox, client, on_card))
        assert all(answer.status_code == 200 for answer in answers)

        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted)
        kept, twice = (on_platform, on_card) if completed.gateway == PLATFORM else (on_card, on_platform)
        assert completed.gateway_transaction == kept.transaction_id
        [due] = (await stored(payment))["refunds"]
        assert (due["transaction_id"], due["reason"], due["state"]) == (twice.transaction_id, "paid twice", "due")

        assert await refund_due(payment.runtime)  # through the gateway it was paid at
        assert await refund_due(payment.runtime)  # and again: nothing more
        [refunded] = await payment.emitted()
        assert isinstance(refunded, PaymentRefunded)
        assert (refunded.gateway, refunded.gateway_transaction, refunded.reason) == (
            GATEWAY_OF[twice.protocol],
            twice.transaction_id,
            "paid twice",
        )
        assert list(twice.refunds) == [due["refund_id"]] and kept.refunds == {}
        entries = [(e["kind"], e["transaction_id"]) for e in await ledger(payment)]
        assert sorted(entries) == sorted(
            [("capture", kept.transaction_id), ("capture", twice.transaction_id), ("refund", twice.transaction_id)]
        )
        assert (await stored(payment))["refunds"][0]["state"] == "done"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_lost_notification_is_found_by_the_query_job_and_captured(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()
        sandbox.to_payment.target = None  # the notification never arrives
        paid = sandbox.gateway.settle(protocol, reference)
        assert paid is not None and paid.state == "success"

        assert await query_due(payment.runtime)  # too early: the notification may still come
        assert await payment.emitted() == []
        assert await query_due(payment.runtime, utcnow() + QUERY_AFTER)
        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted)
        assert (completed.gateway, completed.gateway_transaction) == (GATEWAY_OF[protocol], paid.transaction_id)
        document = await stored(payment)
        [order] = [o for o in document["orders"] if o["reference"] == reference]
        assert (document["state"], order["state"], order["next_query_at"]) == ("paid", "paid", None)
        assert [e["kind"] for e in await ledger(payment)] == ["capture"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_pending_order_is_asked_again_later_until_it_is_paid(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        await payment.emitted()

        def queries() -> list[int]:
            return [o["queries"] for o in document["orders"] if o["reference"] == reference]

        now = utcnow()
        assert await query_due(payment.runtime, now + QUERY_AFTER)  # still pending at the gateway
        document = await stored(payment)
        assert queries() == [1] and document["state"] == "pending"
        assert await query_due(payment.runtime, now + QUERY_AFTER + timedelta(minutes=5))  # not yet again
        document = await stored(payment)
        assert queries() == [1]
        assert await query_due(payment.runtime, now + QUERY_AFTER + timedelta(minutes=11))  # ten minutes later
        document = await stored(payment)
        assert queries() == [2] and document["state"] == "pending"

        sandbox.to_payment.target = None
        paid = sandbox.gateway.settle(protocol, reference)
        assert paid is not None
        assert await query_due(payment.runtime, now + QUERY_AFTER + timedelta(minutes=22))
        assert [type(event) for event in await payment.emitted()] == [PaymentCompleted]
        assert (await stored(payment))["state"] == "paid"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_order_older_than_three_days_is_left_to_reconciliation(protocol: Protocol) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol, pay_by=utcnow() + timedelta(days=10))
        await payment.emitted()
        sandbox.to_payment.target = None
        paid = sandbox.gateway.settle(protocol, reference)
        assert paid is not None

        assert await query_due(payment.runtime, utcnow() + timedelta(days=3, minutes=1))
        document = await stored(payment)
        [order] = [o for o in document["orders"] if o["reference"] == reference]
        assert (order["state"], order["queries"], order["next_query_at"]) == ("open", 0, None)
        assert document["state"] == "pending" and await payment.emitted() == []


@pytest.mark.parametrize(
    ("protocol", "end"),
    [("platform", "refused"), ("card", "refused"), ("platform", "withdrawn"), ("card", "withdrawn")],
)
async def test_a_paid_dossier_refused_or_withdrawn_is_paid_back_through_the_same_gateway(
    protocol: Protocol, end: str
) -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        reference = await ordered(sandbox, protocol)
        paid = await sandbox.pay(protocol, reference)
        await payment.emitted()

        await payment.deliver((refused if end == "refused" else withdrawn)(CODE))
        assert await payment.emitted() == []  # the refund is the job's
        assert await refund_due(payment.runtime)
        [refunded] = await payment.emitted()
        reason = f"dossier {end}"
        assert isinstance(refunded, PaymentRefunded)
        assert (refunded.gateway, refunded.gateway_transaction, refunded.amount_vnd, refunded.reason) == (
            GATEWAY_OF[protocol],
            paid.transaction_id,
            20000,
            reason,
        )
        [refund] = (await stored(payment))["refunds"]
        assert list(paid.refunds) == [refund["refund_id"]]
        assert paid.refunds[refund["refund_id"]] == refund["refund_transaction"]
        assert [(e["kind"], e["reason"]) for e in await ledger(payment)] == [("capture", None), ("refund", reason)]

        assert await refund_due(payment.runtime)  # nothing more is due
        assert await payment.emitted() == [] and len(paid.refunds) == 1


async def test_a_refund_the_gateway_cannot_take_now_is_paid_back_later() -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        paid = await sandbox.pay("platform", await ordered(sandbox, "platform"))
        await payment.deliver(refused(CODE))
        await payment.emitted()
        working, sandbox.to_gateway.target = sandbox.to_gateway.target, None
        assert not await refund_due(payment.runtime)  # unreachable: the round backs off
        assert (await stored(payment))["refunds"][0]["state"] == "due" and paid.refunds == {}
        sandbox.to_gateway.target = working
        assert await refund_due(payment.runtime)
        assert [type(event) for event in await payment.emitted()] == [PaymentRefunded]


async def test_a_fee_not_paid_in_time_expires_once() -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        await sandbox.received()
        await payment.emitted()
        expires_at = (await stored(payment))["expires_at"]
        assert await expire_due(payment.runtime)  # not yet
        assert await expire_due(payment.runtime, expires_at - timedelta(seconds=1))
        assert await payment.emitted() == []

        assert await expire_due(payment.runtime, expires_at + timedelta(minutes=1))
        [expired] = await payment.emitted()
        assert isinstance(expired, PaymentExpired)
        assert (expired.reference, expired.amount_vnd) == (REFERENCE, 20000)
        assert await expire_due(payment.runtime, expires_at + timedelta(hours=1))
        assert await payment.emitted() == []
        assert (await stored(payment))["state"] == "expired"

        # not paid online any more: the page says so, its link no longer starts a payment
        async with sandbox.browser() as browser:
            page = await browser.get(f"/pay/{CODE}", params={"token": token_of(CODE)})
        assert "Đã hết hạn thanh toán trực tuyến" in page.text and "/start?" not in page.text
