"""Notification on the real stack, read as a third party would: the letters from the sandbox mail
server (SMTP), the messages from the sandbox SMS and ZNS gateways' outboxes, the integrator's
webhooks from its receiver. A dossier is told of each milestone once per channel, in Vietnamese;
a phone without Zalo gets SMS instead; the citizen rates the service through the one-time link and
files a complaint from the tracking page, which the unit's leader reads in their mailbox and
answers. Under a tight rate limit, transient failures and notification killed mid-way, every
message arrives once and the providers' limits hold."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from typing import Any

import httpx
import pytest
from motcua_contracts import (
    CitizenNotified,
    ComplaintAnswered,
    ComplaintReceived,
    FeedbackReceived,
    MessageDelivered,
    MessageFailed,
)

from infra.stack import Stack

from .support import PHONE, SENT, database, events, eventually, officials, settled, submit_dossiers, wait_until
from .test_digitisation import Official
from .test_payment import submit

pytestmark = pytest.mark.e2e
LEADER, LEADER_MAIL = "h40101.chutich", "h40101-chutich@h40.gov.vn"


def international(phone: str) -> str:
    return "84" + phone[1:]


async def sandbox(stack: Stack, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(base_url=stack.messaging_url, timeout=30) as messaging:
        answer = await messaging.get(path, params=params)
    answer.raise_for_status()
    return answer.json()


async def letters(stack: Stack, to: str) -> list[dict[str, Any]]:
    return await sandbox(stack, "/mail/messages", to=to)


def milestones(stack: Stack, code: str, channel: str) -> list[str]:
    rows = database(stack, "notification")["messages"].find(
        {"subject": code, "audience": "citizen", "channel": channel, "state": {"$in": SENT}}
    )
    return sorted(row["milestone"].split("@")[0] for row in rows)


async def of_dossier(stack: Stack, code: str, event_type: type) -> list[Any]:
    found = await events(stack, event_type.TOPIC)
    return [e.payload() for e in found if e.subject == code and e.type == event_type.TYPE]


async def test_each_milestone_reaches_the_citizen_once_per_channel_and_the_citizen_answers(stack: Stack) -> None:
    mail = "nguyen.thi.hoa@example.vn"
    hoa = {"name": "Nguyễn Thị Hoa", "phone": "0912301301", "email": mail, "identity_number": "001301301301"}
    tam = {"name": "Lê Văn Tám", "phone": "0912302999", "identity_number": "001302302302"}  # not on Zalo
    async with officials(stack) as working:  # following routing's topic from before the dossiers come
        with_mail = await submit(stack, "1.004194", seed=301, applicant=hoa)
        no_zalo = await submit(stack, "1.004194", seed=302, applicant=tam)
        await settled(working, [with_mail | {"phone": "0912301301"}, no_zalo | {"phone": "0912302999"}])
    codes = [with_mail["dossier_code"], no_zalo["dossier_code"]]
    told = ["payment_requested", "received", "result_ready", "survey"]

    # the letters, read from the mail server: one per milestone, in Vietnamese
    inbox = await eventually(lambda: letters(stack, mail), lambda found: len(found) >= len(told), 180)
    subjects = sorted(letter["subject"] for letter in inbox)
    assert len(inbox) == len(told) and len({letter["message_id"] for letter in inbox}) == len(told), subjects
    assert any(s.startswith(f"Hồ sơ {codes[0]}") and "kết quả" in s for s in subjects), subjects
    result = next(letter for letter in inbox if "/results/" in letter["text"])
    assert "Kính gửi Ông/Bà Nguyễn Thị Hoa" in result["text"]

    # the phone: ZNS for a Zalo user; SMS for the one without Zalo, after ZNS refused it for good
    await wait_until(lambda: milestones(stack, codes[0], "zns") == told, "ZNS messages of the first dossier", 180)
    await wait_until(lambda: milestones(stack, codes[1], "sms") == told, "SMS messages of the second dossier", 180)
    zns = await sandbox(stack, "/zns/outbox", phone=international("0912301301"))
    assert sorted(Counter(m["tracking_id"] for m in zns).values()) == [1] * len(told)  # each once
    assert all(codes[0] in m["text"] for m in zns)
    sms = await sandbox(stack, "/sms/v1/outbox", phone=international("0912302999"))
    assert len(sms) == len(told) and all(codes[1] in m["text"] for m in sms)
    assert await sandbox(stack, "/zns/outbox", phone=international("0912302999")) == []
    failed = await of_dossier(stack, codes[1], MessageFailed)
    assert {(f.channel, f.fallback) for f in failed} == {("zns", "sms")} and all("-118" in f.reason for f in failed)
    delivered = await eventually(
        lambda: of_dossier(stack, codes[0], MessageDelivered), lambda found: len(found) >= len(told), 120
    )
    assert {d.status for d in delivered} == {"delivered"}
    notified = await of_dossier(stack, codes[0], CitizenNotified)
    assert Counter((n.template, n.channel) for n in notified) == Counter(
        [(t, "zns") for t in told] + [(t, "email") for t in told]
    )

    # the integrator's receiver took every milestone, signed, each once
    hooks = await sandbox(stack, "/hooks/sandbox/received")
    pushed = Counter(h["payload"]["milestone"] for h in hooks if h["payload"]["dossier_code"] == codes[0])
    assert pushed == Counter(told)

    # the one-time survey link from the letter
    survey_url = re.search(r"https?://\S+/surveys/\S+", next(x["text"] for x in inbox if "/surveys/" in x["text"]))
    assert survey_url is not None
    async with httpx.AsyncClient(timeout=30) as citizen:
        form = await citizen.get(survey_url.group(0))
        assert form.status_code == 200 and "Khảo sát mức độ hài lòng" in form.text
        rated = await citizen.post(survey_url.group(0), data={"rating": "5", "comment": "Cán bộ tận tình, đúng hẹn"})
        assert rated.status_code == 200, rated.text
        assert (await citizen.post(survey_url.group(0), data={"rating": "1"})).status_code == 410
    [feedback] = await eventually(lambda: of_dossier(stack, codes[0], FeedbackReceived), bool, 60)
    assert (feedback.rating, feedback.comment, feedback.unit) == (5, "Cán bộ tận tình, đúng hẹn", "H40.101")

    # a complaint from the tracking page, read by the commune's leader in their mailbox, answered
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
        tracked = await intake.post("/api/track", json={"code": codes[0], "owner": "0912301301"})
    assert tracked.status_code == 200, tracked.text
    complaint_url = tracked.json()["complaint_url"]
    async with httpx.AsyncClient(timeout=30) as citizen:
        assert (await citizen.get(complaint_url)).status_code == 200
        filed = await citizen.post(
            complaint_url.replace("/new?", "?"),
            data={"kind": "phan_anh", "text": "Bộ phận một cửa hẹn trả kết quả nhưng tôi phải chờ lâu."},
        )
    assert filed.status_code == 201, filed.text
    [received] = await eventually(lambda: of_dossier(stack, codes[0], ComplaintReceived), bool, 60)

    def about_it(letter: dict[str, Any]) -> bool:
        return received.complaint_code in letter["subject"] + letter["text"]

    to_leader = await eventually(lambda: letters(stack, LEADER_MAIL), lambda found: any(map(about_it, found)), 120)
    alert = next(x for x in to_leader if about_it(x))
    assert "Kính gửi đồng chí" in alert["text"] and "phải chờ lâu" in alert["text"]
    leader = Official(stack, LEADER)
    listed = await leader.call("notification", "GET", "/complaints")
    assert received.complaint_code in [c["complaint_code"] for c in listed.json()["complaints"]]
    answer = "Xin lỗi Ông/Bà; bộ phận một cửa đã chấn chỉnh việc hẹn trả kết quả."
    answered = await leader.call(
        "notification", "POST", f"/complaints/{received.complaint_code}/answer", json={"answer": answer}
    )
    assert answered.status_code == 200, answered.text
    [done] = await eventually(lambda: of_dossier(stack, codes[0], ComplaintAnswered), bool, 60)
    assert done.on_time and done.answered_by == LEADER
    await eventually(lambda: letters(stack, mail), lambda found: any(answer in x["text"] for x in found), 120)


async def test_under_a_tight_rate_limit_failures_and_a_crash_every_message_arrives_once(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.messaging_url, timeout=30) as messaging:
        tight = {"zns_per_second": 4, "sms_per_second": 4, "fail_rate": 0.2}
        assert (await messaging.put("/sandbox/behaviour", json=tight)).status_code == 200
        assert (await messaging.delete("/sandbox/figures")).status_code == 204  # this run's figures
        try:
            receipts = await submit_dossiers(stack, 40, rate=10, seed=303)
            codes = [r["dossier_code"] for r in receipts]
            await asyncio.sleep(2)  # some sent, most waiting
            stack.stop("notification", signal.SIGKILL)
            stack.start_service("notification")
            stack.wait_ready("notification")

            def received_told() -> int:
                return len(
                    database(stack, "notification")["messages"].distinct(
                        "subject",
                        {
                            "subject": {"$in": codes},
                            "milestone": "received",
                            "channel": {"$in": PHONE},
                            "state": {"$in": SENT},
                        },
                    )
                )

            await wait_until(lambda: received_told() == len(codes), "every citizen told of receipt", 300)
            figures = (await messaging.get("/sandbox/figures")).json()
        finally:
            await messaging.put("/sandbox/behaviour", json={"zns_per_second": 20, "sms_per_second": 20, "fail_rate": 0})
    zns = [m for m in (await sandbox(stack, "/zns/outbox")) if m["tracking_id"].split(":")[0] in codes]
    once = Counter(m["tracking_id"] for m in zns if m["tracking_id"].endswith(":received:zns"))
    assert set(once.values()) == {1}  # never twice, whatever was retried or resent after the crash
    assert figures["zns"]["max_per_second"] <= 4 and figures["sms"]["max_per_second"] <= 4
    assert figures["zns"]["transient_failures"] > 0  # failures met, retried, nothing lost
    notified = [n for n in await events(stack, CitizenNotified.TOPIC) if n.subject in codes]
    per_message = Counter(n.payload().message_id for n in notified if n.type == CitizenNotified.TYPE)
    assert set(per_message.values()) == {1}
