"""A withdrawn dossier's fee is no longer asked for; money paid anyway is kept for a refund."""

from __future__ import annotations

from datetime import UTC, datetime

from motcua_contracts import DossierWithdrawn, PaymentCancelled, PaymentRequested

from services.payment.app import create
from services.payment.opener import open_due
from tests.harness import Harness

from .events import received
from .test_payment import CODE, REFERENCE, callback, payment_and_gateway, settings, stored


def withdrawn(code: str = CODE) -> DossierWithdrawn:
    at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    return DossierWithdrawn(dossier_code=code, reason="Không còn nhu cầu", withdrawn_at=at, requested_at=at)


async def test_withdrawal_cancels_a_pending_fee_which_is_then_never_opened() -> None:
    async with payment_and_gateway() as (payment, gateway, _):
        await payment.deliver(received(CODE))
        await payment.emitted()
        await payment.deliver(withdrawn())
        [cancelled] = await payment.emitted()
        assert isinstance(cancelled, PaymentCancelled)
        assert (cancelled.reference, cancelled.reason) == (REFERENCE, "dossier withdrawn")
        assert (await stored(payment))["state"] == "cancelled"

        await open_due(payment.runtime)
        assert gateway.transactions == {}  # never opened at the gateway

        await payment.deliver(withdrawn())  # the same withdrawal in a new envelope: nothing more
        assert await payment.emitted() == []


async def test_a_payment_made_for_a_cancelled_fee_is_recorded_for_refund_not_completed() -> None:
    async with Harness.running(create(settings())) as payment, payment.http() as gateway:
        await payment.deliver(received(CODE))
        await payment.deliver(withdrawn())
        await payment.emitted()

        late = await gateway.post("/payments/ipn", json=callback())  # the citizen had paid on an old page
        assert late.json() == {"result": "recorded for refund"}
        assert await payment.emitted() == []  # no payment.completed
        document = await stored(payment)
        assert document["state"] == "cancelled"
        assert [(r["transaction_id"], r["reason"]) for r in document["refunds"]] == [
            ("T1", "paid after cancellation (dossier withdrawn)")
        ]


async def test_withdrawal_changes_nothing_once_paid_or_without_a_fee() -> None:
    async with Harness.running(create(settings())) as payment, payment.http() as gateway:
        await payment.deliver(received(CODE))
        await gateway.post("/payments/ipn", json=callback())
        free = "H40.101-261124-0002"
        await payment.deliver(received(free, fee_vnd=0))
        await payment.emitted()

        await payment.deliver(withdrawn(CODE))
        await payment.deliver(withdrawn(free))
        assert await payment.emitted() == []
        assert (await stored(payment))["state"] == "paid"
        assert (await stored(payment, free))["state"] == "not_required"


async def test_a_withdrawal_that_arrives_before_the_dossier_stops_its_fee_all_the_same() -> None:
    async with payment_and_gateway() as (payment, gateway, _):
        await payment.deliver(withdrawn())  # routing's topic overtook intake's
        assert await payment.emitted() == []
        await payment.deliver(received(CODE))
        assert [type(event) for event in await payment.emitted()] == [PaymentRequested, PaymentCancelled]
        await open_due(payment.runtime)
        assert gateway.transactions == {}

        await payment.deliver(received(CODE))  # and again: nothing more
        assert await payment.emitted() == []
