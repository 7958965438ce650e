"""The citizen's side of notification's pages: the satisfaction survey sent with the result
(answered once), complaints about a dossier's handling (routed to the unit holding it,
answered by its officials, reminded before and after the deadline) and the choice of channels
for the messages to come. Each page opens only with its own link token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from motcua_contracts import (
    CitizenNotified,
    ComplaintAnswered,
    ComplaintReceived,
    ComplaintReminded,
    DossierCompleted,
    DossierRefused,
    FeedbackReceived,
    OfficialNotified,
)

from services.notification.context import Notifier
from services.notification.jobs import remind_complaints
from services.runtime.clock import local
from services.runtime.receipts import COMPLAINT, NOTICES, SURVEY, link_token
from tests.harness import Harness

from .events import APPLICANT, PERSONAL, received, step_started
from .notification_support import CODE, channel, notification_running, official, send
from .payment_support import official as bearer

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HOLDER, LEADER, ELSEWHERE = "h40101.hotich", "h40101.chutich", "h40102.hotich"
EMAIL = "an.nguyen@example.vn"
COMPLAINT_TEXT = "Cán bộ hẹn nhiều lần nhưng hồ sơ vẫn chưa được giải quyết"
ANSWER = "Hồ sơ đã được chuyển lãnh đạo ký, Ông/Bà nhận kết quả ngày 02/12/2026."


def token(harness: Harness[Notifier], purpose: bytes, code: str = CODE) -> dict[str, str]:
    return {"token": link_token(harness.context.settings.receipt_key(), purpose, code)}


def with_email(code: str = CODE, **changes: Any) -> Any:
    applicant = APPLICANT.model_copy(update={"email": EMAIL, **changes})
    return received(code, applicant=PERSONAL.seal(applicant, code))


# --- the survey -----------------------------------------------------------------------------
async def test_the_survey_link_sent_with_the_result_takes_one_answer() -> None:
    not_done = "H40.101-261124-0005"
    async with notification_running() as notification:
        for event in (received(CODE), received(not_done)):
            await notification.deliver(event)
        await notification.deliver(
            DossierCompleted(
                dossier_code=CODE, result_code=f"{CODE}-KQ1", completed_at=AT, due_at=AT, outcome="on_time"
            )
        )
        await send(notification)
        [invitation] = [m for m in channel(notification, "zns").given if ":survey:" in m.message_id]
        link = token(notification, SURVEY)
        async with notification.http() as client:
            form = await client.get(f"/surveys/{CODE}", params=link)
            other_token = await client.get(f"/surveys/{CODE}", params=token(notification, COMPLAINT))
            not_completed = await client.get(f"/surveys/{not_done}", params=token(notification, SURVEY, not_done))
            out_of_range = await client.post(f"/surveys/{CODE}", params=link, data={"rating": "6"})
            answered = await client.post(
                f"/surveys/{CODE}", params=link, data={"rating": "4", "comment": "Cán bộ nhiệt tình"}
            )
            [feedback] = await notification.emitted(FeedbackReceived)
            again = await client.post(f"/surveys/{CODE}", params=link, data={"rating": "1"})
            closed = await client.get(f"/surveys/{CODE}", params=link)
        assert await notification.emitted(FeedbackReceived) == []
    assert f"/surveys/{CODE}?token={link['token']}" in invitation.text
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert "Khảo sát mức độ hài lòng" in form.text and 'name="rating" value="5"' in form.text
    assert "Rất hài lòng" in form.text and 'lang="vi"' in form.text
    assert other_token.status_code == 404 and not_completed.status_code == 404
    assert out_of_range.status_code == 422
    assert answered.status_code == 200 and "Hài lòng" in answered.text
    assert (feedback.dossier_code, feedback.rating, feedback.comment) == (CODE, 4, "Cán bộ nhiệt tình")
    assert (feedback.unit, feedback.procedure_code, feedback.field) == ("H40.101", "1.004194", "Cư trú")
    assert again.status_code == 410 and closed.status_code == 410


# --- complaints -----------------------------------------------------------------------------
async def complaint_filed(notification: Harness[Notifier]) -> ComplaintReceived:
    """Dossier CODE, held by HOLDER in H40.101 (whose leader is LEADER), complained about by its owner."""
    for event in (
        official(HOLDER, name="Phạm Thị Lan", email="h40101-hotich@h40.gov.vn"),
        official(LEADER, roles=("leader",), name="Hoàng Văn Nam", email="h40101-chutich@h40.gov.vn"),
        official(ELSEWHERE, unit="H40.102", roles=("leader",), name="Lê Văn Bình", email="h40102@h40.gov.vn"),
        received(CODE),
        step_started(CODE, HOLDER),
    ):
        await notification.deliver(event)
    await send(notification)
    await notification.emitted()
    async with notification.http() as client:
        filed = await client.post(
            f"/complaints/{CODE}",
            params=token(notification, COMPLAINT),
            data={"kind": "phan_anh", "text": COMPLAINT_TEXT},
        )
    assert filed.status_code == 201, filed.text
    [complaint] = await notification.emitted(ComplaintReceived)
    assert f'<strong id="complaint">{complaint.complaint_code}</strong>' in filed.text
    return complaint


async def test_a_complaint_goes_to_the_unit_holding_the_dossier_and_its_answer_to_the_citizen() -> None:
    async with notification_running() as notification:
        async with notification.http() as client:
            forged = await client.post(
                f"/complaints/{CODE}",
                params=token(notification, SURVEY),
                data={"kind": "phan_anh", "text": COMPLAINT_TEXT},
            )
        complaint = await complaint_filed(notification)
        await send(notification)
        told = await notification.emitted(OfficialNotified, CitizenNotified)
        letter = channel(notification, "email").to("h40101-chutich@h40.gov.vn")[0]
        async with notification.http() as client:
            listed = await client.get("/complaints", headers=await bearer(LEADER))
            anonymous = await client.get("/complaints")
            path = f"/complaints/{complaint.complaint_code}/answer"
            other_unit = await client.post(path, json={"answer": ANSWER}, headers=await bearer(ELSEWHERE))
            answered = await client.post(path, json={"answer": ANSWER}, headers=await bearer(HOLDER))
            [answer] = await notification.emitted(ComplaintAnswered)
            twice = await client.post(path, json={"answer": ANSWER}, headers=await bearer(LEADER))
            still_open = (await client.get("/complaints", headers=await bearer(LEADER))).json()["complaints"]
        await send(notification)
        [reply] = [m for m in await notification.emitted(CitizenNotified) if m.template == "complaint_answered"]
        [sent_reply] = [m for m in channel(notification, "zns").given if ":complaint_answered" in m.message_id]
    calendar = notification.context.calendar
    assert forged.status_code == 404
    assert complaint.complaint_code == f"PA-{CODE}-1" and (complaint.kind, complaint.unit) == ("phan_anh", "H40.101")
    assert complaint.answer_by == calendar.postpone(complaint.received_at, 10)
    assert calendar.working_days_between(local(complaint.received_at).date(), local(complaint.answer_by).date()) == 10

    officials = sorted((m.official, m.role) for m in told if isinstance(m, OfficialNotified))
    assert officials == [(LEADER, "leader"), (HOLDER, "holder")]
    assert {m.template for m in told if isinstance(m, OfficialNotified)} == {"official_complaint"}
    assert [m.template for m in told if isinstance(m, CitizenNotified)] == ["complaint_received"]
    assert COMPLAINT_TEXT in letter.text and f"{local(complaint.answer_by):%d/%m/%Y}" in letter.text

    assert listed.status_code == 200 and listed.json()["unit"] == "H40.101"
    [shown] = listed.json()["complaints"]
    assert (shown["complaint_code"], shown["text"], shown["state"]) == (
        complaint.complaint_code,
        COMPLAINT_TEXT,
        "open",
    )
    assert anonymous.status_code == 401 and other_unit.status_code == 403
    assert answered.status_code == 200 and (answer.answered_by, answer.on_time) == (HOLDER, True)
    assert twice.status_code == 409 and still_open == []
    assert reply.dossier_code == CODE and ANSWER in sent_reply.text


async def test_an_unanswered_complaint_is_reminded_the_day_before_its_deadline_at_it_and_daily_after() -> None:
    async with notification_running() as notification:
        complaint = await complaint_filed(notification)
        await send(notification)
        await notification.emitted()
        runtime, calendar = notification.runtime, notification.context.calendar
        remind_at = calendar.working_day_before(complaint.answer_by)

        await remind_complaints(runtime, remind_at - timedelta(minutes=1))
        assert await notification.emitted(ComplaintReminded) == []

        await remind_complaints(runtime, remind_at)
        [near] = await notification.emitted(ComplaintReminded)
        await send(notification)
        reminded = await notification.emitted(OfficialNotified)
        await remind_complaints(runtime, complaint.answer_by - timedelta(minutes=1))
        assert await notification.emitted(ComplaintReminded) == []  # once before the deadline

        await remind_complaints(runtime, complaint.answer_by)
        [late] = await notification.emitted(ComplaintReminded)
        await send(notification)
        reminded_late = await notification.emitted(OfficialNotified)
        await remind_complaints(runtime, complaint.answer_by + timedelta(days=1))
        [next_day] = await notification.emitted(ComplaintReminded)

        async with notification.http() as client:
            path = f"/complaints/{complaint.complaint_code}/answer"
            assert (await client.post(path, json={"answer": ANSWER}, headers=await bearer(LEADER))).status_code == 200
        [answer] = await notification.emitted(ComplaintAnswered)
        await remind_complaints(runtime, complaint.answer_by + timedelta(days=5))
        assert await notification.emitted(ComplaintReminded) == []  # answered: no more
    assert (near.complaint_code, near.overdue, near.answer_by) == (complaint.complaint_code, False, complaint.answer_by)
    assert sorted((m.official, m.template) for m in reminded) == [
        (LEADER, "official_complaint_reminder"),
        (HOLDER, "official_complaint_reminder"),
    ]
    assert late.overdue is True and next_day.overdue is True
    assert sorted(m.official for m in reminded_late) == [LEADER, HOLDER]
    assert answer.on_time is True  # answered now, before the (future) deadline


# --- preferences ----------------------------------------------------------------------------
async def test_the_citizens_choice_of_channels_holds_for_the_next_messages() -> None:
    no_email, second = "H40.101-261124-0006", "H40.101-261124-0007"
    async with notification_running() as notification:
        await notification.deliver(with_email())
        await notification.deliver(
            received(no_email, applicant=PERSONAL.seal(APPLICANT.model_copy(update={"phone": "0987654321"}), no_email))
        )
        await send(notification)
        await notification.emitted()
        for name in ("zns", "sms", "email"):
            channel(notification, name).given.clear()
        async with notification.http() as client:
            page = await client.get(f"/preferences/{CODE}", params=token(notification, NOTICES))
            wrong = await client.get(f"/preferences/{CODE}", params=token(notification, SURVEY))
            chosen = await client.post(
                f"/preferences/{CODE}", params=token(notification, NOTICES), data={"channel": ["email", "sms"]}
            )
            without_address = await client.post(
                f"/preferences/{no_email}", params=token(notification, NOTICES, no_email), data={"channel": ["email"]}
            )
        refused = DossierRefused(
            dossier_code=CODE, reason="Không đủ điều kiện", refused_by="x", unit="H40.101", refused_at=AT
        )
        await notification.deliver(refused)
        await notification.deliver(with_email(second))  # another dossier of the same citizen
        await send(notification)
        told = sorted((m.dossier_code, m.template, m.channel) for m in await notification.emitted(CitizenNotified))
        sms, zns = channel(notification, "sms").given, channel(notification, "zns").given
    assert page.status_code == 200 and "Cách nhận thông báo" in page.text and "Thư điện tử" in page.text
    assert wrong.status_code == 404
    assert chosen.status_code == 200 and "Đã lưu: Thư điện tử, Tin nhắn SMS" in chosen.text
    assert without_address.status_code == 422
    assert told == [(CODE, "refused", "email"), (second, "received", "email")]
    assert sms == [] and zns == []
