"""Notification: each milestone is told to the citizen once per channel, in Vietnamese, whatever
the order events arrive in and however often they are redelivered; failures are retried or
fall back to the next channel."""

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
    MessageFailed,
    PaymentExpired,
    PaymentRefunded,
    PaymentRequested,
)

from services.notification.channels import PermanentFailure, TransientFailure
from services.runtime import utcnow
from services.runtime.clock import local

from .events import APPLICANT, PERSONAL, received
from .notification_support import CODE, channel, notification_running, send

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def completed(code: str = CODE) -> DossierCompleted:
    return DossierCompleted(dossier_code=code, result_code=f"{code}-KQ1", completed_at=AT, due_at=AT, outcome="on_time")


def with_email(code: str = CODE, **changes: object) -> object:
    applicant = APPLICANT.model_copy(update={"email": "an.nguyen@example.vn", **changes})
    return received(code, applicant=PERSONAL.seal(applicant, code))


async def test_a_message_waits_for_the_contact_and_is_sent_once_per_channel() -> None:
    async with notification_running() as notification:
        early = await notification.deliver(completed(), source="routing")
        await send(notification)
        assert channel(notification, "zns").given == []  # nobody to tell yet
        await notification.deliver(with_email())
        await notification.deliver_raw(early.to_bytes(), DossierCompleted.TOPIC.name, CODE.encode())  # again
        await send(notification)
        await send(notification)  # nothing left
        told = await notification.emitted(CitizenNotified)
        zns, email = channel(notification, "zns"), channel(notification, "email")
    assert sorted((m.template, m.channel) for m in told) == [
        ("received", "email"),
        ("received", "zns"),
        ("result_ready", "email"),
        ("result_ready", "zns"),
        ("survey", "email"),
        ("survey", "zns"),
    ]
    assert {m.recipient for m in told} == {"091****678", "a***@example.vn"}  # addresses masked
    assert channel(notification, "sms").given == []  # ZNS took them: no SMS
    result = next(m for m in email.given if m.message_id.endswith(":result_ready:email"))
    assert result.subject and CODE in result.subject
    assert f"hồ sơ {CODE}" in result.text and "Kính gửi Ông/Bà Nguyễn Văn An" in result.text
    assert f"/results/{CODE}-KQ1?token=" in result.text
    [zns_result] = [m for m in zns.given if m.message_id.endswith(":result_ready:zns")]
    assert zns_result.zns_data["dossier_code"] == CODE and zns_result.to == "0912345678"


async def test_a_transient_failure_is_retried_after_the_pause_the_provider_asked_for() -> None:
    async with notification_running() as notification:
        zns = channel(notification, "zns")
        zns.script.extend([TransientFailure("ZNS 503 busy", retry_after=30)])
        await notification.deliver(received(CODE))
        await send(notification)
        assert await notification.emitted(CitizenNotified) == []
        [waiting] = await notification.documents.find("messages", {"channel": "zns"})
        assert waiting["state"] == "queued" and waiting["attempts"] == 1 and "503" in waiting["reason"]
        assert waiting["next_at"] >= utcnow() + timedelta(seconds=25)  # Retry-After honoured
        await send(notification)  # not due yet
        assert len(zns.given) == 1
        notification.context.paces.clear()  # the channel's hold has passed (the clock below is moved, not waited)
        await send(notification, utcnow() + timedelta(seconds=31))
        [told] = await notification.emitted(CitizenNotified)
    assert (told.channel, told.attempts) == ("zns", 2)
    assert zns.given[0].message_id == zns.given[1].message_id  # the same idempotency key each time


async def test_a_provider_asking_to_slow_down_never_makes_a_message_fail() -> None:
    async with notification_running(send_attempts=2) as notification:
        zns = channel(notification, "zns")
        zns.script.extend([TransientFailure("ZNS 429 Rate limit exceeded", retry_after=1, rate_limited=True)] * 5)
        await notification.deliver(received(CODE))
        later = utcnow()
        for _ in range(6):
            notification.context.paces.clear()  # the hold has passed (the clock is moved, not waited)
            later += timedelta(seconds=2)
            await send(notification, later)
        [told] = await notification.emitted(CitizenNotified)
        assert await notification.emitted(MessageFailed) == []
    assert (told.channel, told.attempts) == ("zns", 1)  # five times "too many", then taken: one attempt
    assert len(zns.given) == 6


async def test_a_permanent_failure_is_reported_with_its_reason_and_falls_back_to_sms() -> None:
    async with notification_running() as notification:
        channel(notification, "zns").script.append(PermanentFailure("ZNS error -118: Zalo account is not existed"))
        await notification.deliver(received(CODE))
        await send(notification)
        [failed] = await notification.emitted(MessageFailed)
        await send(notification)
        [told] = await notification.emitted(CitizenNotified)
        sms = channel(notification, "sms")
    assert (failed.channel, failed.fallback, failed.template) == ("zns", "sms", "received")
    assert "-118" in failed.reason
    assert (told.channel, told.template) == ("sms", "received")
    assert sms.given[0].text.startswith(f"Hồ sơ {CODE}") or CODE in sms.given[0].text


async def test_transient_failures_past_the_last_attempt_count_as_permanent() -> None:
    async with notification_running(send_attempts=2, notify_by=None) as notification:
        for name in ("zns", "sms"):
            channel(notification, name).script.extend([TransientFailure("gateway 503")] * 2)
        await notification.deliver(received(CODE))
        later = utcnow()
        for _ in range(6):
            later += timedelta(minutes=5)
            await send(notification, later)
        failed = await notification.emitted(MessageFailed)
    assert [(f.channel, f.fallback, f.attempts) for f in failed] == [("zns", "sms", 2), ("sms", None, 2)]


async def test_sms_and_zns_wait_for_the_end_of_quiet_hours_email_does_not() -> None:
    # the coming night, whenever the test runs: 22:30 in Vietnam, then 07:00 the next morning
    evening = local(utcnow()).replace(hour=22, minute=30, second=0, microsecond=0) + timedelta(days=1)
    night, morning = evening.astimezone(UTC), (evening + timedelta(hours=8, minutes=30)).astimezone(UTC)
    async with notification_running(quiet_hours="21:00-07:00") as notification:
        await notification.deliver(with_email())
        await send(notification, night)
        assert [m.channel for m in await notification.emitted(CitizenNotified)] == ["email"]
        [waiting] = await notification.documents.find("messages", {"channel": "zns"})
        assert waiting["next_at"] == morning
        await send(notification, morning - timedelta(minutes=1))  # not yet
        assert await notification.emitted(CitizenNotified) == []
        await send(notification, morning + timedelta(minutes=1))
        assert [m.channel for m in await notification.emitted(CitizenNotified)] == ["zns"]


async def test_the_citizens_choice_of_channels_is_followed() -> None:
    async with notification_running() as notification:
        await notification.deliver(with_email(notify_by=["email", "sms"]))
        await send(notification)
        assert [m.channel for m in await notification.emitted(CitizenNotified)] == ["email"]
        assert channel(notification, "zns").given == [] and channel(notification, "sms").given == []


async def test_each_supplement_request_is_a_message_of_its_own_with_its_documents() -> None:
    async with notification_running() as notification:
        await notification.deliver(received(CODE))
        for minute in (0, 30):
            request = DossierSupplementRequested(
                dossier_code=CODE,
                documents=["Giấy tờ chứng minh chỗ ở", "Bản sao Giấy khai sinh"],
                reason="Chưa rõ địa chỉ",
                requested_by="Phạm Thị Lan",
                requested_at=AT.replace(minute=minute),
            )
            await notification.deliver(request)
        await send(notification)
        told = [m.template for m in await notification.emitted(CitizenNotified)]
        texts = [m.text for m in channel(notification, "zns").given if ":supplement_requested" in m.message_id]
    assert told.count("supplement_requested") == 2
    assert "Giấy tờ chứng minh chỗ ở; Bản sao Giấy khai sinh" in texts[0] or "Chưa rõ" in texts[0]


async def test_withdrawal_refusal_and_apology_are_told_in_vietnamese() -> None:
    async with notification_running() as notification:
        await notification.deliver(with_email())
        await notification.deliver(DossierWithdrawn(dossier_code=CODE, reason="Không còn nhu cầu", withdrawn_at=AT))
        declined = DossierWithdrawalDeclined(
            dossier_code=CODE, reason="already approved", status="signing", requested_at=AT, declined_at=AT
        )
        await notification.deliver(declined)
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
        await send(notification)
        letters = {m.message_id.split(":")[1]: m for m in channel(notification, "email").given}
    assert set(letters) == {"received", "withdrawn", "withdrawal_declined", "apologised", "refused"}
    assert "02/12/2026" in letters["apologised"].text and "Chờ xác minh" in letters["apologised"].text
    assert "Không đủ điều kiện" in letters["refused"].text


async def test_the_fee_is_asked_for_with_its_amount_deadline_in_vietnam_time_and_link_once() -> None:
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=10, minute=5, second=0, microsecond=0)  # 17:05 in Vietnam
    pay_url = "https://dichvucong.example.vn/pay/H40.101-261124-0004?t=abc"
    requested = PaymentRequested(
        dossier_code=CODE,
        reference="PAY-1",
        amount_vnd=1250000,
        gateway="payment-platform",
        expires_at=tomorrow,
        pay_link=PERSONAL.seal_pay_link(pay_url, CODE),
    )
    late = "H40.101-261124-0005"
    async with notification_running() as notification:
        first = await notification.deliver(requested)  # before the contact is known: it waits
        await notification.deliver(received(CODE))
        await notification.deliver_raw(first.to_bytes(), PaymentRequested.TOPIC.name, CODE.encode())  # again
        await notification.deliver(received(late))
        await notification.deliver(requested.model_copy(update={"dossier_code": late, "expires_at": AT}))  # too late
        await send(notification)
        told = [(m.dossier_code, m.template) for m in await notification.emitted(CitizenNotified)]
        [asked] = [m for m in channel(notification, "zns").given if ":payment_requested:" in m.message_id]
    assert told.count((CODE, "payment_requested")) == 1 and (late, "payment_requested") not in told
    assert "1.250.000" in asked.text and f"17:05 {tomorrow:%d/%m/%Y}" in asked.text and pay_url in asked.text
    assert notification.dead_letters == []


async def test_an_expired_link_and_each_refund_are_told() -> None:
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

    async with notification_running() as notification:
        await notification.deliver(received(CODE))
        expired = await notification.deliver(
            PaymentExpired(dossier_code=CODE, reference="PAY-1", amount_vnd=20000, expired_at=AT)
        )
        await notification.deliver_raw(expired.to_bytes(), PaymentExpired.TOPIC.name, CODE.encode())  # again
        twice = await notification.deliver(refunded("T.2", "paid twice"))  # the second payment
        await notification.deliver_raw(twice.to_bytes(), PaymentRefunded.TOPIC.name, CODE.encode())  # again
        await notification.deliver(refunded("T.1", "dossier refused"))  # then the dossier was refused
        await send(notification)
        told = [m.template for m in await notification.emitted(CitizenNotified)]
        texts = [m.text for m in channel(notification, "zns").given]
    assert told.count("payment_expired") == 1 and told.count("payment_refunded") == 2
    assert any("20.000" in t and "hai lần" in t for t in texts)
    assert any("20.000" in t and "từ chối giải quyết" in t for t in texts)
