"""Notification's alerts to officials: the dossier's holder and its unit's leaders are told
once, by e-mail (SMS when they have no address, or when the e-mail is refused), that a dossier
is due soon or overdue; leaders get one digest a day of their unit's late dossiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from motcua_contracts import (
    DossierCompleted,
    DossierDueSoon,
    DossierOverdue,
    MessageFailed,
    OfficialNotified,
    OfficialUpdated,
)

from services.notification.channels import PermanentFailure
from services.notification.jobs import send_digests

from .events import received
from .notification_support import CODE, channel, notification_running, official, send

HOLDER, LEADER = "h40101.hotich", "h40101.chutich"
HOLDER_EMAIL, LEADER_EMAIL = "h40101-hotich@h40.gov.vn", "h40101-chutich@h40.gov.vn"
HOLDER_PHONE, LEADER_PHONE = "0912000274", "0912000822"
DUE = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam
SECOND = "H40.101-261124-0005"


def holder(**contact: str) -> OfficialUpdated:
    return official(HOLDER, name="Phạm Thị Lan", **(contact or {"email": HOLDER_EMAIL, "phone": HOLDER_PHONE}))


def leader() -> OfficialUpdated:
    return official(LEADER, roles=("leader",), name="Hoàng Văn Nam", email=LEADER_EMAIL, phone=LEADER_PHONE)


def overdue(code: str = CODE) -> DossierOverdue:
    return DossierOverdue(dossier_code=code, scope="dossier", step="review", due_at=DUE, unit="H40.101", holder=HOLDER)


def completed(code: str) -> DossierCompleted:
    return DossierCompleted(dossier_code=code, result_code=f"{code}-KQ1", completed_at=DUE, due_at=DUE, outcome="late")


async def test_the_holder_and_the_leader_are_told_once_by_email_that_the_dossier_is_overdue() -> None:
    async with notification_running() as notification:
        for event in (holder(), leader(), received(CODE)):
            await notification.deliver(event)
        first = await notification.deliver(overdue())
        await send(notification)
        told = await notification.emitted(OfficialNotified)
        await notification.deliver_raw(first.to_bytes(), DossierOverdue.TOPIC.name, CODE.encode())  # redelivered
        await notification.deliver(overdue())  # announced again
        await send(notification)
        again = await notification.emitted(OfficialNotified)
        email = channel(notification, "email")
        [letter] = email.to(HOLDER_EMAIL)
        [to_leader] = email.to(LEADER_EMAIL)
    assert sorted((m.official, m.role, m.channel, m.template) for m in told) == [
        (LEADER, "leader", "email", "official_overdue"),
        (HOLDER, "holder", "email", "official_overdue"),
    ]
    assert {m.dossier_code for m in told} == {CODE}
    assert again == [] and channel(notification, "sms").given == []
    assert letter.subject == f"Hồ sơ {CODE} đã quá hạn giải quyết"
    assert letter.text.startswith("Kính gửi đồng chí Phạm Thị Lan,")
    for shown in (f"Mã hồ sơ: {CODE}", "Thủ tục hành chính: Đăng ký thường trú", "Xã An Hiệp", "17:00 03/12/2026"):
        assert shown in letter.text
    assert to_leader.text.startswith("Kính gửi đồng chí Hoàng Văn Nam,")


async def test_due_soon_is_an_alert_of_its_own() -> None:
    async with notification_running() as notification:
        for event in (holder(), leader(), received(CODE)):
            await notification.deliver(event)
        await notification.deliver(DossierDueSoon(dossier_code=CODE, due_at=DUE, unit="H40.101", holder=HOLDER))
        await notification.deliver(overdue())
        await send(notification)
        told = await notification.emitted(OfficialNotified)
        [soon, late] = [m for m in channel(notification, "email").to(HOLDER_EMAIL)]
    assert sorted(m.template for m in told) == ["official_due_soon"] * 2 + ["official_overdue"] * 2
    assert "sắp đến hạn" in (soon.subject or "") and "đã quá hạn" in (late.subject or "")


async def test_an_official_without_an_email_address_is_sent_an_sms() -> None:
    async with notification_running() as notification:
        for event in (holder(phone=HOLDER_PHONE), received(CODE), overdue()):
            await notification.deliver(event)
        await send(notification)
        [told] = await notification.emitted(OfficialNotified)
        [sms] = channel(notification, "sms").given
    assert (told.official, told.role, told.channel) == (HOLDER, "holder", "sms")
    assert sms.to == HOLDER_PHONE and CODE in sms.text and "quá hạn" in sms.text
    assert channel(notification, "email").given == []


async def test_an_email_refused_for_good_falls_back_to_sms() -> None:
    async with notification_running() as notification:
        channel(notification, "email").script.append(PermanentFailure("SMTP 550 5.1.1 mailbox unavailable"))
        for event in (holder(), received(CODE), overdue()):
            await notification.deliver(event)
        await send(notification)
        [failed] = await notification.emitted(MessageFailed)
        await send(notification)
        [told] = await notification.emitted(OfficialNotified)
        [sms] = channel(notification, "sms").given
    assert (failed.channel, failed.fallback, failed.template) == ("email", "sms", "official_overdue")
    assert "550" in failed.reason
    assert (told.official, told.channel) == (HOLDER, "sms") and sms.to == HOLDER_PHONE


async def test_an_older_announcement_changes_nothing_and_an_inactive_official_is_not_told() -> None:
    newer = holder(email="lan.pt@h40101.gov.vn", phone=HOLDER_PHONE)
    older = holder().model_copy(update={"updated_at": newer.updated_at - timedelta(days=1)})
    active = leader()
    gone = active.model_copy(update={"active": False, "updated_at": active.updated_at + timedelta(seconds=1)})
    retired = official("h40101.vanhoa", name="Đặng Thị Hoa", email="h40101-vanhoa@h40.gov.vn")
    retired = retired.model_copy(update={"active": False})
    held_by_retired = overdue(SECOND).model_copy(update={"holder": "h40101.vanhoa"})
    async with notification_running() as notification:
        for event in (active, gone, newer, older, retired, received(CODE), overdue(), held_by_retired):
            await notification.deliver(event)
        await send(notification)
        [told] = await notification.emitted(OfficialNotified)
        email = channel(notification, "email")
    assert (told.official, told.role, told.dossier_code) == (HOLDER, "holder", CODE)
    assert [m.to for m in email.given] == ["lan.pt@h40101.gov.vn"]  # the newer address; the others left


async def test_leaders_get_one_digest_a_day_of_their_units_late_dossiers() -> None:
    morning = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Monday 07:00 in Vietnam
    async with notification_running() as notification:
        for event in (holder(), leader(), received(CODE), received(SECOND), overdue(CODE), overdue(SECOND)):
            await notification.deliver(event)
        await notification.deliver(completed(SECOND))  # settled: no longer late
        await send(notification)  # the alerts themselves
        await notification.emitted()
        email = channel(notification, "email")
        email.given.clear()

        assert await send_digests(notification.runtime, morning) is False  # before 07:30
        await send(notification)
        assert email.given == []

        assert await send_digests(notification.runtime, morning + timedelta(minutes=31)) is True
        await send(notification)
        told = await notification.emitted(OfficialNotified)
        [digest] = email.given

        later = morning + timedelta(hours=3)
        assert await send_digests(notification.runtime, later) is False  # queued today already
        await send(notification)
        assert await send_digests(notification.runtime, later + timedelta(hours=1)) is False
        await send(notification)
        assert len(email.given) == 1 and await notification.emitted(OfficialNotified) == []

        assert await send_digests(notification.runtime, morning + timedelta(days=1, minutes=31)) is True
        await send(notification)
        [tomorrow] = await notification.emitted(OfficialNotified)
    assert [(m.official, m.role, m.template, m.channel) for m in told] == [
        (LEADER, "leader", "official_digest", "email")
    ]
    assert digest.to == LEADER_EMAIL
    assert digest.subject == "Xã An Hiệp: 1 hồ sơ quá hạn giải quyết ngày 07/12/2026"
    assert digest.text.startswith("Kính gửi đồng chí Hoàng Văn Nam,")
    assert "Xã An Hiệp có 1 hồ sơ quá hạn" in digest.text
    assert f"\n- {CODE} — Đăng ký thường trú — hạn 03/12/2026\n" in digest.text
    assert SECOND not in digest.text
    assert tomorrow.official == LEADER and [m.to for m in email.given] == [LEADER_EMAIL, LEADER_EMAIL]
    assert "08/12/2026" in (email.given[1].subject or "")
