"""Notification's deliveries: the providers' signed delivery reports (SMS, ZNS) mark messages
delivered or not, once, and an undelivered one goes out on the next channel; each channel
adapter speaks its provider's protocol (Standard Webhooks, SMTP, the SMS gateway's and ZNS's
HTTP APIs, here the sandbox providers in process) and tells a failure for good from one that
may pass."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from motcua_contracts import CitizenNotified, MessageDelivered
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from infra.messaging import DEVELOPMENT_WEBHOOK_SECRET, Messaging, MessagingSettings, ZnsTemplate, create_app
from services.notification import templates
from services.notification.channels import Accepted, Outgoing, PermanentFailure, TransientFailure
from services.notification.channels.email import EmailChannel
from services.notification.channels.sms import SmsChannel
from services.notification.channels.webhook import WebhookChannel
from services.notification.channels.zns import ZnsChannel
from services.notification.context import Notifier
from services.notification.messages import Message, message_id
from services.notification.sender import outgoing
from services.notification.settings import WebhookSubscription
from services.runtime import utcnow
from tests.harness import Harness

from .events import APPLICANT, PERSONAL, received
from .notification_support import CODE, channel, notification_running, send

EMAIL = "an.nguyen@example.vn"
HOOKS = "https://dept.example.vn/hooks"
SUBSCRIPTIONS = json.dumps(
    [
        {"name": "dept", "url": HOOKS, "secret": DEVELOPMENT_WEBHOOK_SECRET},
        {"name": "stats", "url": HOOKS, "secret": DEVELOPMENT_WEBHOOK_SECRET, "milestones": ["result_ready"]},
    ]
)
TEMPLATES = templates.load()
RECEIVED_VALUES = {
    "name": "Nguyễn Văn An",
    "dossier_code": CODE,
    "procedure_name": "Đăng ký thường trú",
    "received_date": "24/11/2026",
    "due_date": "03/12/2026",
    "tracking_url": f"http://127.0.0.1:8001/track?code={CODE}",
}


def by_sms_then_email(code: str = CODE) -> Any:
    applicant = APPLICANT.model_copy(update={"email": EMAIL, "notify_by": ["sms", "email"]})
    return received(code, applicant=PERSONAL.seal(applicant, code))


def sms_report(harness: Harness[Notifier], request_id: str, status: str = "delivered", **changes: Any) -> dict:
    """The SMS gateway's delivery report, signed as the gateway signs it."""
    body = {
        "message_id": "gw-1",
        "request_id": request_id,
        "phone": "84912345678",
        "status": status,
        "reason": None,
        "reported_at": "2026-12-03T08:00:00+00:00",
    } | changes
    raw = json.dumps(body).encode()
    secret = harness.context.settings.sms_callback_secret
    assert secret is not None
    signature = hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
    return {"content": raw, "headers": {"Content-Type": "application/json", "X-Signature": signature}}


def zns_event(harness: Harness[Notifier], tracking_id: str, secret: str | None = None) -> dict:
    """ZNS's `user_received_message` event, with its MAC."""
    settings = harness.context.settings
    assert settings.zns_secret is not None and settings.zns_app_id is not None
    timestamp = "1796284800000"
    body = {
        "app_id": settings.zns_app_id,
        "event_name": "user_received_message",
        "timestamp": timestamp,
        "message": {"msg_id": "zns-1", "tracking_id": tracking_id, "delivery_time": timestamp},
    }
    raw = json.dumps(body).encode()
    key = secret if secret is not None else settings.zns_secret.get_secret_value()
    mac = hashlib.sha256(settings.zns_app_id.encode() + raw + timestamp.encode() + key.encode()).hexdigest()
    return {"content": raw, "headers": {"Content-Type": "application/json", "X-ZEvent-Signature": f"mac={mac}"}}


async def stored(harness: Harness[Notifier], item_id: str) -> dict[str, Any]:
    found = await harness.documents.get("messages", item_id)
    assert found is not None, item_id
    return found


# --- delivery reports ---------------------------------------------------------------------
async def test_an_sms_delivery_report_marks_the_message_delivered_once() -> None:
    sms_id = message_id(CODE, "received", "sms")
    async with notification_running() as notification:
        await notification.deliver(by_sms_then_email())
        await send(notification)
        await notification.emitted()
        async with notification.http() as client:
            forged = sms_report(notification, sms_id)
            forged["headers"]["X-Signature"] = "0" * 64
            refused = await client.post("/deliveries/sms", **forged)
            state_after_forgery = (await stored(notification, sms_id))["state"]
            taken = await client.post("/deliveries/sms", **sms_report(notification, sms_id))
            [delivered] = await notification.emitted(MessageDelivered)
            again = await client.post("/deliveries/sms", **sms_report(notification, sms_id))
            unknown = await client.post("/deliveries/sms", **sms_report(notification, f"{CODE}:survey:sms"))
        assert await notification.emitted(MessageDelivered) == []
        kept = await stored(notification, sms_id)
        email_sent = await notification.documents.get("messages", message_id(CODE, "received", "email"))
    assert refused.status_code == 401 and state_after_forgery == "sent"
    assert (taken.status_code, taken.json()) == (200, {"taken": True})
    assert (delivered.message_id, delivered.channel, delivered.template) == (sms_id, "sms", "received")
    assert (delivered.status, delivered.reason, delivered.dossier_code) == ("delivered", None, CODE)
    assert (again.status_code, again.json()) == (200, {"taken": False})
    assert unknown.status_code == 404
    assert kept["state"] == "delivered" and kept["reported_at"] is not None
    assert email_sent is None  # delivered: no fallback


async def test_a_message_reported_delivered_while_waiting_for_a_retry_is_told_once_and_not_sent_again() -> None:
    sms_id = message_id(CODE, "received", "sms")
    async with notification_running() as notification:
        # the gateway took the SMS but its answer never came back (a timeout): a retry waits
        channel(notification, "sms").script.append(TransientFailure("SMS gateway unreachable: ReadTimeout"))
        await notification.deliver(by_sms_then_email())
        await send(notification)
        assert await notification.emitted(CitizenNotified) == []
        async with notification.http() as client:
            taken = await client.post("/deliveries/sms", **sms_report(notification, sms_id))
        [told] = await notification.emitted(CitizenNotified)
        await send(notification, utcnow() + timedelta(minutes=10))  # the retry's time
        kept = await stored(notification, sms_id)
    assert taken.status_code == 200 and (told.message_id, told.channel) == (sms_id, "sms")
    assert kept["state"] == "delivered" and len(channel(notification, "sms").given) == 1  # never sent again


async def test_an_sms_not_delivered_goes_out_on_the_citizens_next_channel() -> None:
    sms_id = message_id(CODE, "received", "sms")
    async with notification_running() as notification:
        await notification.deliver(by_sms_then_email())
        await send(notification)
        await notification.emitted()
        async with notification.http() as client:
            report = sms_report(notification, sms_id, "failed", reason="subscriber unreachable")
            taken = await client.post("/deliveries/sms", **report)
        [undelivered] = await notification.emitted(MessageDelivered)
        kept = await stored(notification, sms_id)
        await send(notification)
        [told] = await notification.emitted(CitizenNotified)
        [letter] = channel(notification, "email").given
    assert taken.status_code == 200
    assert (undelivered.status, undelivered.reason) == ("undelivered", "subscriber unreachable")
    assert (kept["state"], kept["reason"]) == ("undelivered", "subscriber unreachable")
    assert (told.channel, told.template) == ("email", "received")
    assert letter.to == EMAIL and CODE in letter.text


async def test_a_zns_event_marks_the_message_delivered_when_its_mac_verifies() -> None:
    zns_id = message_id(CODE, "received", "zns")
    async with notification_running() as notification:
        await notification.deliver(received(CODE))
        await send(notification)
        await notification.emitted()
        async with notification.http() as client:
            forged = await client.post("/deliveries/zns", **zns_event(notification, zns_id, secret="not-the-secret"))
            after_forgery = (await stored(notification, zns_id))["state"]
            taken = await client.post("/deliveries/zns", **zns_event(notification, zns_id))
            again = await client.post("/deliveries/zns", **zns_event(notification, zns_id))
        [delivered] = await notification.emitted(MessageDelivered)
        states = {m["_id"]: m["state"] for m in await notification.documents.find("messages")}
    assert forged.status_code == 401 and after_forgery == "sent"
    assert (taken.status_code, taken.json(), again.json()) == (200, {"taken": True}, {"taken": False})
    assert (delivered.message_id, delivered.channel, delivered.status) == (zns_id, "zns", "delivered")
    assert states == {zns_id: "delivered"}  # no SMS fallback


# --- webhooks -------------------------------------------------------------------------------
def webhook_channel(answer: int, seen: list[httpx.Request]) -> WebhookChannel:
    subscription = WebhookSubscription(name="dept", url=HOOKS, secret=DEVELOPMENT_WEBHOOK_SECRET)
    hooks = WebhookChannel([subscription])

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answer)

    hooks.client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return hooks


async def test_a_webhook_is_signed_the_standard_webhooks_way() -> None:
    seen: list[httpx.Request] = []
    item_id = message_id(CODE, "received", "webhook", "dept")
    body = json.dumps({"milestone": "received", "dossier_code": CODE}).encode()
    hooks = webhook_channel(204, seen)
    accepted = await hooks.send(Outgoing(item_id, "dept", "", payload=body))
    await hooks.aclose()
    [request] = seen
    headers = dict(request.headers)
    assert accepted == Accepted(item_id)
    assert str(request.url) == HOOKS and request.content == body
    assert headers["webhook-id"] == item_id
    assert Webhook(DEVELOPMENT_WEBHOOK_SECRET).verify(request.content, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "b3RoZXIgc2VjcmV0").verify(request.content, headers)


@pytest.mark.parametrize(
    ("answer", "failure"), [(500, TransientFailure), (429, TransientFailure), (400, PermanentFailure)]
)
async def test_a_webhook_refused_is_tried_again_or_not_by_the_answer(answer: int, failure: type[Exception]) -> None:
    hooks = webhook_channel(answer, [])
    with pytest.raises(failure, match=str(answer)):
        await hooks.send(Outgoing(message_id(CODE, "received", "webhook", "dept"), "dept", "", payload=b"{}"))
    await hooks.aclose()


async def test_integrators_are_pushed_the_milestones_they_subscribed_to_without_personal_data() -> None:
    async with notification_running(webhooks=SUBSCRIPTIONS) as notification:
        await notification.deliver(by_sms_then_email())
        [queued] = await notification.documents.find("messages", {"channel": "webhook"})
        item = Message.model_validate(queued)
        payload = outgoing(notification.context, item).payload
        await send(notification)
        [pushed] = channel(notification, "webhook").given
    assert payload is not None and pushed.payload == payload
    assert (item.to, item.audience) == ("dept", "integrator")  # "stats" wants result_ready only
    body = json.loads(payload)
    assert (body["milestone"], body["dossier_code"], body["commune"]) == ("received", CODE, "H40.101")
    text = payload.decode()
    for personal in ("Nguyễn Văn An", "0912345678", EMAIL, "name", "phone", "email"):
        assert personal not in text


# --- e-mail ---------------------------------------------------------------------------------
@asynccontextmanager
async def sandbox(**changes: Any) -> AsyncIterator[tuple[Messaging, httpx.AsyncClient]]:
    """The sandbox providers in process: SMTP on a free port, their HTTP API through a client;
    delivery reports held back (the tests send their own)."""
    registry = TEMPLATES.zns_registry()["templates"]
    settings = MessagingSettings(
        smtp_port=0,
        delivery_delay_s=3600,
        zns_templates={name: ZnsTemplate(tuple(t["params"]), t["text"]) for name, t in registry.items()},
    )
    reports = httpx.MockTransport(lambda request: httpx.Response(200))
    async with Messaging(replace(settings, **changes), reports) as messaging:
        transport = httpx.ASGITransport(app=create_app(messaging))
        async with httpx.AsyncClient(transport=transport, base_url="http://messaging.test") as client:
            yield messaging, client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_citizens_letter_arrives_in_vietnamese_with_a_message_id_of_its_own() -> None:
    async with sandbox() as (messaging, mailbox), notification_running() as notification:
        assert messaging.smtp_port is not None
        sender = notification.context.settings.mail_from
        notification.context.channels["email"] = EmailChannel("127.0.0.1", messaging.smtp_port, sender)
        applicant = APPLICANT.model_copy(update={"email": EMAIL, "notify_by": ["email"]})
        await notification.deliver(received(CODE, applicant=PERSONAL.seal(applicant, CODE)))
        await send(notification)
        [told] = await notification.emitted(CitizenNotified)
        [mail] = (await mailbox.get("/mail/messages", params={"to": EMAIL})).json()
    assert (told.channel, told.template) == ("email", "received")
    assert mail["subject"] == f"Hồ sơ {CODE} đã được tiếp nhận"
    assert mail["text"].startswith("Kính gửi Ông/Bà Nguyễn Văn An,\n")
    assert mail["text"].strip() == TEMPLATES.render("received", "email", RECEIVED_VALUES).text.strip()
    assert mail["from"] == "Bộ phận Một cửa <motcua@localhost>"
    assert mail["message_id"] == f"<{CODE}.received.email@localhost>"
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"


async def test_every_subject_arrives_with_its_spaces() -> None:
    """Long Vietnamese subjects are folded into several encoded words: no space may be lost between them."""
    sample = RECEIVED_VALUES | {"complaint_code": f"PA-{CODE}-1", "unit_name": "Xã An Hiệp", "day": "07/12/2026"}
    subjects = {}
    for milestone, template in TEMPLATES.by_milestone.items():
        values = {name: sample.get(name, "Ủy ban nhân dân xã") for name in template.values}
        subjects[milestone] = TEMPLATES.render(milestone, "email", values).subject
    async with sandbox() as (messaging, mailbox):
        assert messaging.smtp_port is not None
        email = EmailChannel("127.0.0.1", messaging.smtp_port, "Bộ phận Một cửa <motcua@localhost>")
        for milestone, subject in subjects.items():
            await email.send(Outgoing(message_id(CODE, milestone, "email"), EMAIL, "Kính gửi Ông/Bà", subject))
        arrived = [mail["subject"] for mail in (await mailbox.get("/mail/messages")).json()]
    assert arrived == list(subjects.values())


async def test_a_mailbox_that_does_not_exist_is_a_failure_for_good_a_server_down_is_not() -> None:
    rendered = TEMPLATES.render("received", "email", RECEIVED_VALUES)
    letter = Outgoing(message_id(CODE, "received", "email"), "khongtontai@example.vn", rendered.text, rendered.subject)
    async with sandbox() as (messaging, mailbox):
        assert messaging.smtp_port is not None
        with pytest.raises(PermanentFailure, match="550"):
            await EmailChannel("127.0.0.1", messaging.smtp_port, "motcua@localhost").send(letter)
        assert (await mailbox.get("/mail/messages")).json() == []
    with pytest.raises(TransientFailure):
        await EmailChannel("127.0.0.1", free_port(), "motcua@localhost").send(replace(letter, to=EMAIL))


# --- SMS and ZNS ----------------------------------------------------------------------------
async def through(channel: SmsChannel | ZnsChannel, messaging: Messaging) -> None:
    """The channel's requests go to the sandbox providers' app, with its own base URL and credentials."""
    old = channel.client
    transport = httpx.ASGITransport(app=create_app(messaging))
    channel.client = httpx.AsyncClient(transport=transport, base_url=old.base_url, headers=old.headers)
    await old.aclose()


async def sms_channel(messaging: Messaging) -> SmsChannel:
    sms = SmsChannel(
        "http://messaging.test", "sandbox-sms-key", "MOTCUA", "http://notification.test/deliveries/sms", 20
    )
    await through(sms, messaging)
    return sms


async def zns_channel(messaging: Messaging) -> ZnsChannel:
    zns = ZnsChannel("http://messaging.test", "sandbox-zns-token", 20)
    await through(zns, messaging)
    return zns


def zns_message(phone: str, milestone: str = "received") -> Outgoing:
    rendered = TEMPLATES.render("received", "zns", RECEIVED_VALUES)
    item_id = message_id(CODE, milestone, "zns")
    return Outgoing(item_id, phone, rendered.text, zns_template=rendered.zns_template, zns_data=rendered.zns_data or {})


async def test_an_sms_is_taken_by_the_gateway_once_and_an_invalid_number_refused_for_good() -> None:
    text = TEMPLATES.render("received", "sms", RECEIVED_VALUES).text
    item_id = message_id(CODE, "received", "sms")
    async with sandbox() as (messaging, gateway):
        sms = await sms_channel(messaging)
        accepted = await sms.send(Outgoing(item_id, "0912345678", text))
        again = await sms.send(Outgoing(item_id, "0912345678", text))  # after a crash: the same SMS
        with pytest.raises(PermanentFailure, match="invalid_phone"):
            await sms.send(Outgoing(message_id(CODE, "survey", "sms"), "0212345678", text))
        outbox = (await gateway.get("/sms/v1/outbox")).json()
        await sms.aclose()
    assert accepted.provider_id and again == accepted
    [sent] = outbox
    assert (sent["phone"], sent["request_id"], sent["brandname"], sent["text"]) == (
        "84912345678",
        item_id,
        "MOTCUA",
        text,
    )


async def test_a_zns_message_is_sent_with_its_registered_template_and_a_phone_without_zalo_refused() -> None:
    async with sandbox() as (messaging, gateway):
        zns = await zns_channel(messaging)
        accepted = await zns.send(zns_message("0912345678"))
        with pytest.raises(PermanentFailure, match="-118"):
            await zns.send(zns_message("0912345999", "survey"))
        [sent] = (await gateway.get("/zns/outbox")).json()
        await zns.aclose()
    assert accepted.provider_id == sent["msg_id"]
    assert sent["tracking_id"] == message_id(CODE, "received", "zns") and sent["phone"] == "84912345678"
    assert f"Hồ sơ {CODE} (Đăng ký thường trú) đã được tiếp nhận ngày 24/11/2026" in sent["text"]


async def test_above_the_providers_rate_a_send_is_tried_again_after_retry_after() -> None:
    text = TEMPLATES.render("received", "sms", RECEIVED_VALUES).text
    async with sandbox(sms_per_second=1, zns_per_second=1) as (messaging, _):
        sms, zns = await sms_channel(messaging), await zns_channel(messaging)
        await sms.send(Outgoing(message_id(CODE, "received", "sms"), "0912345678", text))
        with pytest.raises(TransientFailure) as sms_limited:
            await sms.send(Outgoing(message_id(CODE, "survey", "sms"), "0912345678", text))
        await zns.send(zns_message("0912345678"))
        with pytest.raises(TransientFailure) as zns_limited:
            await zns.send(zns_message("0912345678", "survey"))
        await sms.aclose()
        await zns.aclose()
    assert sms_limited.value.retry_after is not None and sms_limited.value.retry_after >= 1
    assert zns_limited.value.retry_after is not None and zns_limited.value.retry_after >= 1
