"""Notification: each milestone is told to the citizen once, whatever the order events arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from motcua_contracts import (
    CitizenNotified,
    DossierApologised,
    DossierCompleted,
    DossierRefused,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
    PaymentExpired,
    PaymentRefunded,
    PaymentRequested,
)

from services.notification.app import create
from services.notification.settings import NotificationSettings
from services.runtime import utcnow
from tests.harness import Harness

from .events import received

CODE = "H40.101-261124-0004"
AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def completed() -> DossierCompleted:
    return DossierCompleted(dossier_code=CODE, result_code=f"{CODE}-KQ1", completed_at=AT, due_at=AT, outcome="on_time")


async def test_a_message_waits_for_the_contact_and_is_sent_once() -> None:
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        early = await notification.deliver(completed(), source="routing")
        assert await notification.emitted() == []  # nobody to tell yet
        await notification.deliver(received(CODE))
        await notification.deliver_raw(early.to_bytes(), DossierCompleted.TOPIC.name, CODE.encode())  # again
        [told] = await notification.emitted()
        assert isinstance(told, CitizenNotified)
        assert (told.template, told.recipient) == ("result_ready", "091****678")  # the number masked


async def test_each_supplement_request_is_a_message_of_its_own() -> None:
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        await notification.deliver(received(CODE))
        for minute in (0, 30):
            request = DossierSupplementRequested(
                dossier_code=CODE,
                documents=["Giấy tờ chứng minh chỗ ở"],
                reason="Chưa rõ",
                requested_by="Phạm Thị Lan",
                requested_at=AT.replace(minute=minute),
            )
            await notification.deliver(request)
        assert [m.template for m in await notification.emitted(CitizenNotified)] == ["supplement_requested"] * 2


async def test_the_answer_to_a_withdrawal_request_is_told() -> None:
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        await notification.deliver(received(CODE))
        await notification.deliver(DossierWithdrawn(dossier_code=CODE, reason="Không còn nhu cầu", withdrawn_at=AT))
        declined = DossierWithdrawalDeclined(
            dossier_code=CODE, reason="already approved", status="signing", requested_at=AT, declined_at=AT
        )
        await notification.deliver(declined)
        assert [m.template for m in await notification.emitted(CitizenNotified)] == ["withdrawn", "withdrawal_declined"]


async def test_a_refusal_and_an_apology_with_its_new_date_are_told() -> None:
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        await notification.deliver(received(CODE))
        await notification.deliver(
            DossierApologised(
                dossier_code=CODE,
                reason="Chờ xác minh",
                due_at=AT,
                new_due_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),  # 17:00 in Vietnam
                apologised_by="Phạm Thị Lan",
                unit="H40.101",
                apologised_at=AT,
            )
        )
        await notification.deliver(
            DossierRefused(
                dossier_code=CODE, reason="Không đủ điều kiện", refused_by="x", unit="H40.101", refused_at=AT
            )
        )
        assert [m.template for m in await notification.emitted(CitizenNotified)] == ["apologised", "refused"]
        stored = await notification.documents.get("dossiers", CODE)
    assert "02/12/2026" in stored["messages"]["apologised"]["text"]


async def test_the_fee_is_asked_for_with_its_amount_deadline_in_vietnam_time_and_link_once() -> None:
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=10, minute=5, second=0, microsecond=0)  # 17:05 in Vietnam
    pay_url = "https://dichvucong.example.vn/pay/H40.101-261124-0004?t=abc"
    requested = PaymentRequested(
        dossier_code=CODE,
        reference="PAY-1",
        amount_vnd=1250000,
        gateway="payment-platform",
        expires_at=tomorrow,
        pay_link=NotificationSettings(profile="development").personal_data().seal_pay_link(pay_url, CODE),
    )
    late = "H40.101-261124-0005"
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        first = await notification.deliver(requested)  # before the contact is known: it waits
        await notification.deliver(received(CODE))
        await notification.deliver_raw(first.to_bytes(), PaymentRequested.TOPIC.name, CODE.encode())  # again
        await notification.deliver(received(late))
        past = requested.model_copy(update={"dossier_code": late, "expires_at": AT})
        await notification.deliver(past)  # its link no longer works: not sent
        told = await notification.emitted(CitizenNotified)
        stored = await notification.documents.get("dossiers", CODE)
        assert (await notification.documents.get("dossiers", late))["messages"] == {}
    assert [(m.dossier_code, m.template) for m in told] == [(CODE, "payment_requested")]
    text = stored["messages"]["payment_requested"]["text"]
    assert "1.250.000 dong" in text and f"{tomorrow:%d/%m/%Y} 17:05" in text and pay_url in text
    assert notification.dead_letters == []


async def test_an_expired_link_sends_the_citizen_to_the_counter() -> None:
    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        await notification.deliver(received(CODE))
        expired = PaymentExpired(dossier_code=CODE, reference="PAY-1", amount_vnd=20000, expired_at=AT)
        envelope = await notification.deliver(expired)
        await notification.deliver_raw(envelope.to_bytes(), PaymentExpired.TOPIC.name, CODE.encode())  # again
        assert [m.template for m in await notification.emitted(CitizenNotified)] == ["payment_expired"]
        stored = await notification.documents.get("dossiers", CODE)
    text = stored["messages"]["payment_expired"]["text"]
    assert "het han" in text and "20.000 dong tai Bo phan Mot cua" in text


async def test_each_refund_is_told_with_its_amount_and_reason() -> None:
    def refunded(transaction: str, reason: str) -> PaymentRefunded:
        return PaymentRefunded(
            dossier_code=CODE,
            reference="PAY-1",
            amount_vnd=20000,
            reason=reason,
            gateway="payment-platform",
            gateway_transaction=transaction,
            refunded_at=AT,
        )

    async with Harness.running(create(NotificationSettings(profile="development"))) as notification:
        await notification.deliver(received(CODE))
        twice = await notification.deliver(refunded("T.2", "paid twice"))  # the second payment
        await notification.deliver_raw(twice.to_bytes(), PaymentRefunded.TOPIC.name, CODE.encode())  # again
        await notification.deliver(refunded("T.1", "dossier refused"))  # then the dossier was refused
        assert [m.template for m in await notification.emitted(CitizenNotified)] == ["payment_refunded"] * 2
        stored = await notification.documents.get("dossiers", CODE)
    texts = [message["text"] for message in stored["messages"].values()]
    assert texts == [
        f"Ho so {CODE}: da hoan tra 20.000 dong phi, le phi (phi da duoc nop hai lan).",
        f"Ho so {CODE}: da hoan tra 20.000 dong phi, le phi (ho so bi tu choi giai quyet).",
    ]
    assert notification.dead_letters == []
