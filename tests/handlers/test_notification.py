"""Notification: each milestone is told to the citizen once, whatever the order events arrive in."""

from __future__ import annotations

from datetime import UTC, datetime

from motcua_contracts import (
    CitizenNotified,
    DossierApologised,
    DossierCompleted,
    DossierRefused,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
)

from services.notification.app import create
from services.notification.settings import NotificationSettings
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
