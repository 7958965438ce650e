"""The sandbox messaging providers (infra/messaging.py) behave like the real ones: the SMS
brandname gateway, the ZNS gateway, the mailbox and an integrator's webhook receiver, with
their rates, their idempotency, their signed delivery reports and their failures."""

from __future__ import annotations

import asyncio
import email.policy
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from infra.messaging import (
    DEVELOPMENT_WEBHOOK_SECRET,
    Messaging,
    MessagingSettings,
    ZnsTemplate,
    create_app,
    sms_segments,
)

SMS_KEY = {"Authorization": "Bearer sandbox-sms-key"}
ZNS_TOKEN = {"access_token": "sandbox-zns-token"}
CALLBACKS = "http://platform.test/notifications"
ZNS_WEBHOOK = "http://platform.test/zns/events"
CODE = "H40.101-261203-0001"
RESULT = ZnsTemplate(("citizen_name", "dossier_code"), "Kính gửi {citizen_name}, hồ sơ {dossier_code} đã có kết quả.")
SETTINGS = MessagingSettings(
    smtp_port=0,
    delivery_delay_s=0.01,
    callback_retry_s=0.01,
    zns_webhook_url=ZNS_WEBHOOK,
    zns_templates={"result-ready": RESULT},
)


class Recorder:
    """The platform's side of delivery reports: keeps each request, answers `status`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answered: list[int] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.answered.append(self.status)
        return httpx.Response(self.status)


@asynccontextmanager
async def sandbox(**changes: Any) -> AsyncIterator[tuple[Messaging, httpx.AsyncClient, Recorder]]:
    recorder = Recorder()
    async with Messaging(replace(SETTINGS, **changes), httpx.MockTransport(recorder)) as messaging:
        transport = httpx.ASGITransport(app=create_app(messaging))
        async with httpx.AsyncClient(transport=transport, base_url="http://messaging.test") as client:
            yield messaging, client, recorder


async def until(condition: Callable[[], Any], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


def sms(request_id: str = "N-1", phone: str = "84912345678", **changes: Any) -> dict[str, Any]:
    return {"brandname": "MOTCUA", "phone": phone, "text": "Ho so da co ket qua", "request_id": request_id} | changes


def zns(tracking_id: str = "T-1", phone: str = "84912345678", **changes: Any) -> dict[str, Any]:
    data = {"citizen_name": "Nguyễn Văn An", "dossier_code": CODE}
    return {"phone": phone, "template_id": "result-ready", "template_data": data, "tracking_id": tracking_id} | changes


# --- SMS ------------------------------------------------------------------------------------
async def test_an_sms_is_accepted_once_per_request_id() -> None:
    async with sandbox() as (_, client, _):
        first = await client.post("/sms/v1/messages", json=sms(), headers=SMS_KEY)
        again = await client.post("/sms/v1/messages", json=sms(), headers=SMS_KEY)
        assert first.status_code == 202
        assert first.json() == {"message_id": first.json()["message_id"], "status": "accepted", "segments": 1}
        assert again.status_code == 200
        assert again.json()["message_id"] == first.json()["message_id"] and again.json()["duplicate"] is True
        outbox = (await client.get("/sms/v1/outbox", params={"request_id": "N-1"})).json()
        assert len(outbox) == 1 and outbox[0]["phone"] == "84912345678"
        figures = (await client.get("/sandbox/figures")).json()["sms"]
        assert figures["accepted"] == 1 and figures["duplicates"] == 1


async def test_an_sms_needs_the_api_key_a_mobile_number_and_a_text() -> None:
    async with sandbox() as (_, client, _):
        refused = await client.post("/sms/v1/messages", json=sms(), headers={"Authorization": "Bearer wrong"})
        assert (refused.status_code, refused.json()) == (401, {"error": "unauthorized"})
        for phone in ("0912345678", "84212345678", "8491234567", "+84912345678"):
            answer = await client.post("/sms/v1/messages", json=sms(phone=phone), headers=SMS_KEY)
            assert (answer.status_code, answer.json()["error"]) == (400, "invalid_phone"), phone
        for text in ("", "x" * 613):
            answer = await client.post("/sms/v1/messages", json=sms(text=text), headers=SMS_KEY)
            assert (answer.status_code, answer.json()["error"]) == (400, "invalid_text")
        no_brandname = {k: v for k, v in sms().items() if k != "brandname"}
        assert (await client.post("/sms/v1/messages", json=no_brandname, headers=SMS_KEY)).status_code == 400
        assert (await client.get("/sms/v1/outbox")).json() == []


async def test_above_its_rate_the_sms_gateway_answers_429_with_retry_after() -> None:
    async with sandbox(sms_per_second=3) as (_, client, _):
        answers = [await client.post("/sms/v1/messages", json=sms(f"N-{n}"), headers=SMS_KEY) for n in range(5)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
        assert answers[3].json() == {"error": "rate_limited"} and int(answers[3].headers["Retry-After"]) >= 1
        figures = (await client.get("/sandbox/figures")).json()["sms"]
        assert figures["rate_limited"] == 2 and figures["max_per_second"] == 3


def test_a_vietnamese_text_is_sent_in_ucs2_parts() -> None:
    text = f"Hồ sơ {CODE} đã có kết quả. Mời ông/bà đến Bộ phận Một cửa UBND xã nhận kết quả."
    assert 70 < len(text) <= 134
    assert sms_segments(text) == 2  # 67 characters a part
    assert sms_segments("Ho so da co ket qua. " * 7) == 1  # 147 GSM-7 characters: one part of 160
    assert sms_segments("x" * 161) == 2 and sms_segments("{" * 80) == 1 and sms_segments("{" * 81) == 2


async def test_a_transient_failure_answers_503_and_keeps_nothing() -> None:
    async with sandbox(fail_rate=1) as (_, client, _):
        answer = await client.post("/sms/v1/messages", json=sms(), headers=SMS_KEY)
        assert (answer.status_code, answer.json()) == (503, {"error": "temporarily_unavailable"})
        assert (await client.get("/sms/v1/outbox")).json() == []
        await client.put("/sandbox/behaviour", json={"fail_rate": 0})
        assert (await client.post("/sms/v1/messages", json=sms(), headers=SMS_KEY)).status_code == 202
        assert (await client.get("/sandbox/figures")).json()["sms"]["transient_failures"] == 1


async def test_delivery_reports_are_signed_and_sent_again_until_taken() -> None:
    async with sandbox() as (_, client, platform):
        platform.status = 503  # the platform is down at first
        await client.post("/sms/v1/messages", json=sms(callback_url=CALLBACKS), headers=SMS_KEY)
        await client.post("/sms/v1/messages", json=sms("N-2", "84912340000", callback_url=CALLBACKS), headers=SMS_KEY)
        await until(lambda: len(platform.requests) >= 4)
        platform.status = 200
        await until(lambda: platform.answered.count(200) == 2)
        for request in platform.requests:
            expected = hmac.new(b"sandbox-sms-callback", request.content, hashlib.sha256).hexdigest()
            assert request.headers["X-Signature"] == expected and str(request.url) == CALLBACKS
        taken = [r for r, status in zip(platform.requests, platform.answered, strict=True) if status == 200]
        reports = {json.loads(r.content)["request_id"]: json.loads(r.content) for r in taken}
        assert (reports["N-1"]["status"], reports["N-1"]["reason"]) == ("delivered", None)
        assert (reports["N-2"]["status"], reports["N-2"]["reason"]) == ("failed", "subscriber unreachable")
        outbox = (await client.get("/sms/v1/outbox")).json()
        assert {m["request_id"]: m["status"] for m in outbox} == {"N-1": "delivered", "N-2": "failed"}


# --- ZNS ------------------------------------------------------------------------------------
async def test_a_zns_message_is_sent_once_per_tracking_id_and_its_delivery_signed() -> None:
    async with sandbox() as (_, client, platform):
        first = await client.post("/message/template", json=zns(), headers=ZNS_TOKEN)
        again = await client.post("/message/template", json=zns(), headers=ZNS_TOKEN)
        assert first.status_code == 200 and first.json()["error"] == 0 and first.json()["message"] == "Success"
        assert again.json() == first.json()
        data = first.json()["data"]
        assert data["sent_time"].isdigit() and data["quota"] == {"dailyQuota": "500000", "remainingQuota": "499999"}
        outbox = (await client.get("/zns/outbox", params={"tracking_id": "T-1"})).json()
        assert len(outbox) == 1
        assert outbox[0]["text"] == f"Kính gửi Nguyễn Văn An, hồ sơ {CODE} đã có kết quả."

        await until(lambda: platform.requests)
        event = platform.requests[0]
        body = json.loads(event.content)
        assert str(event.url) == ZNS_WEBHOOK and body["event_name"] == "user_received_message"
        assert body["message"] == {
            "msg_id": data["msg_id"],
            "tracking_id": "T-1",
            "delivery_time": body["message"]["delivery_time"],
        }
        signed = f"motcua-oa{event.content.decode()}{body['timestamp']}sandbox-zns-secret".encode()
        assert event.headers["X-ZEvent-Signature"] == f"mac={hashlib.sha256(signed).hexdigest()}"
        assert (await client.get("/zns/outbox")).json()[0]["status"] == "delivered"
        assert len(platform.requests) == 1


async def test_zns_refusals_come_with_zalos_error_codes() -> None:
    async with sandbox(zns_per_second=4) as (_, client, _):

        async def error(payload: dict[str, Any], headers: dict[str, str] = ZNS_TOKEN) -> tuple[int, str]:
            answer = await client.post("/message/template", json=payload, headers=headers)
            assert answer.status_code == 200
            return answer.json()["error"], answer.json()["message"]

        assert await error(zns(), {"access_token": "wrong"}) == (-124, "Access token is invalid")
        assert await error(zns(phone="0912345678")) == (-108, "Phone number is invalid")
        assert await error(zns(phone="84912345999")) == (-118, "Zalo account is not existed")
        assert await error(zns(template_id="unknown")) == (-1124, "Template is invalid")
        partial = zns(template_data={"citizen_name": "Nguyễn Văn An"})
        assert await error(partial) == (-1123, "Template data is invalid: dossier_code")
        assert (await client.get("/zns/outbox")).json() == []
        throttled = await client.post("/message/template", json=zns(), headers=ZNS_TOKEN)
        assert throttled.status_code == 429 and throttled.json()["error"] == -1500
        assert int(throttled.headers["Retry-After"]) >= 1


async def test_zns_transient_failures_and_templates_registered_while_running() -> None:
    async with sandbox(fail_rate=1) as (_, client, _):
        template = {"params": ["dossier_code"], "text": "Hồ sơ {dossier_code} đã được tiếp nhận."}
        assert (await client.put("/sandbox/zns/templates/received", json=template)).status_code == 200
        payload = zns(template_id="received", template_data={"dossier_code": CODE})
        failed = await client.post("/message/template", json=payload, headers=ZNS_TOKEN)
        assert failed.json() == {"error": -32, "message": "System error, please retry"}
        await client.put("/sandbox/behaviour", json={"fail_rate": 0.0})
        sent = await client.post("/message/template", json=payload, headers=ZNS_TOKEN)
        assert sent.json()["error"] == 0
        assert (await client.get("/zns/outbox")).json()[0]["text"] == f"Hồ sơ {CODE} đã được tiếp nhận."


# --- the mailbox ----------------------------------------------------------------------------
def letter(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Một cửa tỉnh <motcua@tinh.gov.vn>"
    message["To"] = to
    message["Subject"] = f"Thông báo kết quả hồ sơ {CODE}"
    message.set_content(f"Hồ sơ {CODE} đã có kết quả.")
    message.add_alternative(f"<p>Hồ sơ <b>{CODE}</b> đã có kết quả.</p>", subtype="html")
    return message


async def test_mail_is_kept_with_its_vietnamese_subject_decoded() -> None:
    async with sandbox() as (messaging, client, _):
        port = messaging.smtp_port
        await aiosmtplib.send(letter("an.nguyen@example.vn"), hostname="127.0.0.1", port=port)
        [mail] = (await client.get("/mail/messages", params={"to": "an.nguyen@example.vn"})).json()
        assert mail["subject"] == f"Thông báo kết quả hồ sơ {CODE}"
        assert mail["text"] == f"Hồ sơ {CODE} đã có kết quả.\n"
        assert "<b>" in mail["html"] and mail["to"] == ["an.nguyen@example.vn"]
        assert mail["from"] == "Một cửa tỉnh <motcua@tinh.gov.vn>" and mail["headers"]["Subject"] == mail["subject"]
        assert (await client.get("/mail/messages", params={"to": "someone@example.vn"})).json() == []

        encoded = letter("binh.tran@example.vn").as_bytes(policy=email.policy.SMTP)  # "=?utf-8?...?=" words
        assert b"=?utf-8?" in encoded
        await aiosmtplib.send(
            encoded, sender="motcua@tinh.gov.vn", recipients=["binh.tran@example.vn"], hostname="127.0.0.1", port=port
        )
        [mail] = (await client.get("/mail/messages", params={"to": "Binh.Tran@example.vn"})).json()
        assert (
            mail["subject"] == f"Thông báo kết quả hồ sơ {CODE}" and mail["from"] == "Một cửa tỉnh <motcua@tinh.gov.vn>"
        )
        assert (await client.delete("/mail/messages")).status_code == 204
        assert (await client.get("/mail/messages")).json() == []


async def test_a_mailbox_that_does_not_exist_is_refused_at_rcpt() -> None:
    async with sandbox() as (messaging, client, _):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(letter("khongtontai@example.vn"), hostname="127.0.0.1", port=messaging.smtp_port)
        assert refused.value.recipients[0].code == 550
        assert (await client.get("/mail/messages")).json() == []
        assert (await client.get("/sandbox/figures")).json()["mail"] == {
            "accepted": 0,
            "refused": 1,
            "transient_failures": 0,
        }


async def test_a_transient_failure_answers_451_at_data() -> None:
    async with sandbox(fail_rate=1) as (messaging, client, _):
        with pytest.raises(aiosmtplib.SMTPDataError) as failed:
            await aiosmtplib.send(letter("an.nguyen@example.vn"), hostname="127.0.0.1", port=messaging.smtp_port)
        assert failed.value.code == 451
        assert (await client.get("/mail/messages")).json() == []


async def test_with_credentials_configured_smtp_auth_is_required() -> None:
    async with sandbox(smtp_username="motcua", smtp_password="s3cret") as (messaging, client, _):
        port = messaging.smtp_port
        with pytest.raises(aiosmtplib.SMTPException):
            await aiosmtplib.send(letter("an.nguyen@example.vn"), hostname="127.0.0.1", port=port)
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await aiosmtplib.send(
                letter("an.nguyen@example.vn"), hostname="127.0.0.1", port=port, username="motcua", password="no"
            )
        await aiosmtplib.send(
            letter("an.nguyen@example.vn"), hostname="127.0.0.1", port=port, username="motcua", password="s3cret"
        )
        assert len((await client.get("/mail/messages")).json()) == 1


# --- the integrators' webhook receiver ------------------------------------------------------
def signed(payload: dict[str, Any], msg_id: str = "msg_1", at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    body = json.dumps(payload)
    return {
        "content": body,
        "headers": {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(DEVELOPMENT_WEBHOOK_SECRET).sign(msg_id, at, body),
        },
    }


async def test_the_webhook_receiver_checks_signatures_and_keeps_each_id_once() -> None:
    payload = {"type": "dossier.result_ready", "data": {"dossier_code": CODE}}
    async with sandbox() as (_, client, _):
        accepted = await client.post("/hooks/ketnoi", **signed(payload))
        assert accepted.status_code == 204
        replay = await client.post("/hooks/ketnoi", **signed(payload))
        assert (replay.status_code, replay.json()) == (200, {"replay": True})

        tampered = signed(payload, "msg_2")
        tampered["content"] = json.dumps(payload | {"type": "dossier.rejected"})
        assert (await client.post("/hooks/ketnoi", **tampered)).status_code == 401
        stale = await client.post("/hooks/ketnoi", **signed(payload, "msg_3", datetime.now(UTC) - timedelta(minutes=6)))
        assert stale.status_code == 401 and "too old" in stale.json()["message"]
        assert (await client.post("/hooks/ketnoi", content=json.dumps(payload))).status_code == 401

        [received] = (await client.get("/hooks/ketnoi/received")).json()
        assert received["id"] == "msg_1" and received["payload"] == payload and received["name"] == "ketnoi"
        assert (await client.get("/sandbox/figures")).json()["hooks"] == {"received": 1, "replays": 1, "refused": 3}


async def test_health_and_readiness() -> None:
    async with sandbox() as (_, client, _):
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/ready")).status_code == 200
