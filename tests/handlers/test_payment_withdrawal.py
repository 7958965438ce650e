"""The dossier's end: a withdrawn or refused dossier's fee is no longer asked for; money paid for it
anyway, or before, is captured and paid back through its gateway (the refund job)."""

from __future__ import annotations

from motcua_contracts import PaymentCancelled, PaymentRefunded, PaymentRequested

from services.payment.jobs import open_due, refund_due

from .events import received, refused, withdrawn
from .payment_support import (
    CODE,
    PLATFORM,
    REFERENCE,
    callback,
    ledger,
    payment_alone,
    payment_and_gateway,
    stored,
)


async def test_withdrawal_cancels_a_pending_fee_which_is_then_never_opened() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        await payment.deliver(received(CODE))
        await payment.emitted()
        await payment.deliver(withdrawn(CODE))
        [cancelled] = await payment.emitted()
        assert isinstance(cancelled, PaymentCancelled)
        assert (cancelled.reference, cancelled.reason) == (REFERENCE, "dossier withdrawn")
        assert (await stored(payment))["state"] == "cancelled"

        await open_due(payment.runtime)
        assert gateway.transactions == {}  # never opened at the gateway

        await payment.deliver(withdrawn(CODE))  # the same withdrawal in a new envelope: nothing more
        await payment.deliver(refused(CODE))  # nor a refusal after it
        assert await payment.emitted() == []


async def test_a_payment_made_for_a_cancelled_fee_is_paid_back_not_completed() -> None:
    async with payment_and_gateway() as sandbox:
        payment = sandbox.payment
        await sandbox.received()
        await payment.deliver(withdrawn(CODE))
        await payment.emitted()

        paid = await sandbox.pay("platform", REFERENCE)  # the citizen had the gateway's page open still
        assert paid.notifications == ['200 {"result":"recorded for refund"}']
        assert await payment.emitted() == []  # no payment.completed
        document = await stored(payment)
        assert document["state"] == "cancelled" and document["captured"] is None
        [due] = document["refunds"]
        assert (due["transaction_id"], due["reason"], due["state"]) == (
            paid.transaction_id,
            "paid after cancellation (dossier withdrawn)",
            "due",
        )

        assert await refund_due(payment.runtime)
        [refunded] = await payment.emitted()
        assert isinstance(refunded, PaymentRefunded)
        assert (refunded.gateway, refunded.gateway_transaction, refunded.reason) == (
            PLATFORM,
            paid.transaction_id,
            "paid after cancellation (dossier withdrawn)",
        )
        assert list(paid.refunds) == [due["refund_id"]]
        assert [entry["kind"] for entry in await ledger(payment)] == ["capture", "refund"]


async def test_withdrawal_of_a_paid_fee_makes_one_refund_due_and_of_a_free_dossier_nothing() -> None:
    async with payment_alone() as payment, payment.http() as gateway:
        await payment.deliver(received(CODE))
        await gateway.post("/payments/ipn", json=callback())
        free = "H40.101-261124-0002"
        await payment.deliver(received(free, fee_vnd=0))
        await payment.emitted()

        await payment.deliver(withdrawn(CODE))
        await payment.deliver(withdrawn(CODE))  # again, in a new envelope
        await payment.deliver(refused(CODE))  # and a refusal after it: one refund all the same
        await payment.deliver(withdrawn(free))
        assert await payment.emitted() == []  # nothing cancelled: the refund job pays back
        document = await stored(payment)
        assert (document["state"], document["cancel_reason"]) == ("paid", "dossier withdrawn")
        assert [(r["transaction_id"], r["reason"], r["state"]) for r in document["refunds"]] == [
            ("T1", "dossier withdrawn", "due")
        ]
        assert (await stored(payment, free))["state"] == "not_required"


async def test_a_withdrawal_that_arrives_before_the_dossier_stops_its_fee_all_the_same() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        await payment.deliver(withdrawn(CODE))  # routing's topic overtook intake's
        assert await payment.emitted() == []
        await payment.deliver(received(CODE))
        assert [type(event) for event in await payment.emitted()] == [PaymentRequested, PaymentCancelled]
        await open_due(payment.runtime)
        assert gateway.transactions == {}

        await payment.deliver(received(CODE))  # and again: nothing more
        assert await payment.emitted() == []
