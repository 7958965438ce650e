"""The sandbox messaging providers: outside parties, played in development by one process.

The platform tells citizens and integrators what became of their dossiers through four
providers; this process plays all of them on 127.0.0.1, good and bad:

- the SMS brandname gateway: `POST /sms/v1/messages` (bearer API key) takes
  `{brandname, phone, text, request_id, callback_url}` and answers 202 `{message_id, status,
  segments}`; the same request_id again answers 200 with the same message_id and
  `"duplicate": true` (one SMS only). Phones are Vietnamese mobiles in international form
  (84 then 9 digits starting with 3, 5, 7, 8 or 9), else 400 `invalid_phone`; an empty text, or
  one over 612 characters, 400 `invalid_text`. A text in GSM-7 takes 160 characters in one part,
  153 in each of several; any other character (Vietnamese diacritics) makes it UCS-2: 70, 67.
  After the delivery delay the report (`delivered`; `failed` for a phone ending in 0000) is
  POSTed to callback_url with `X-Signature: hex HMAC-SHA256(callback secret, raw body)`.
  `GET /sms/v1/outbox?phone=&request_id=` lists what was sent.
- the ZNS gateway (Zalo's template messages): `POST /message/template` with an `access_token`
  header and `{phone, template_id, template_data, tracking_id}`; HTTP 200 with Zalo's `error`
  code (0 success, -124 bad token, -108 invalid phone, -118 a phone ending in 999 has no Zalo
  account, -1124 unknown template, -1123 a template parameter missing, -32 transient, -201 a
  malformed request); 429 with -1500 above the rate. Idempotent by tracking_id. After the delay,
  the `user_received_message` event is POSTed to MOTCUA_ZNS_WEBHOOK_URL with
  `X-ZEvent-Signature: mac=hex sha256(app_id + raw body + timestamp + OA secret key)`.
  Templates come from MOTCUA_ZNS_TEMPLATES_FILE (`{"templates": {id: {"params": [...],
  "text": "Hồ sơ {dossier_code} ..."}}}`) and `PUT /sandbox/zns/templates/{template_id}`.
  `GET /zns/outbox?phone=&tracking_id=` lists what was sent.
- the mailbox: an SMTP server taking mail for anyone but `khongtontai@…` (550 at RCPT), read
  on `GET /mail/messages?to=` (subject and parts decoded) and emptied by `DELETE /mail/messages`;
- an integrator receiving the platform's webhooks: `POST /hooks/{name}` checks the Standard
  Webhooks signature (401 if bad, missing or stale), answers 200 `{"replay": true}` to a
  webhook-id already received and 204 otherwise; `GET /hooks/{name}/received` lists them.

Each provider keeps to its rate (429 with Retry-After above it) and fails now and then, at
random, with a transient error (SMS 503, ZNS -32, SMTP 451 at DATA) without keeping the message.
`PUT /sandbox/behaviour` changes the failure rate and the rates while it runs;
`GET /sandbox/figures` counts what each provider accepted, refused and throttled, and the most
messages it accepted in one second (`DELETE /sandbox/figures` counts afresh). Everything is kept
in memory: development only.

Environment (each has a development default, so the process starts alone):
    MOTCUA_HTTP_PORT              HTTP port on 127.0.0.1 (default 8013)
    MOTCUA_SMTP_PORT              SMTP port on 127.0.0.1 (default 8025)
    MOTCUA_SMS_API_KEY            the SMS gateway's bearer key (default sandbox-sms-key)
    MOTCUA_SMS_CALLBACK_SECRET    the key of delivery reports' X-Signature (default sandbox-sms-callback)
    MOTCUA_SMS_PER_SECOND         SMS requests taken in any one second (default 20)
    MOTCUA_ZNS_ACCESS_TOKEN       the ZNS gateway's access token (default sandbox-zns-token)
    MOTCUA_ZNS_APP_ID             the app id in ZNS events and their signature (default motcua-oa)
    MOTCUA_ZNS_SECRET             the OA secret key of ZNS events' signature (default sandbox-zns-secret)
    MOTCUA_ZNS_PER_SECOND         ZNS requests taken in any one second (default 20)
    MOTCUA_ZNS_WEBHOOK_URL        where ZNS delivery events are POSTed (default: nowhere)
    MOTCUA_ZNS_TEMPLATES_FILE     the ZNS templates registered at start (default: none)
    MOTCUA_SMTP_USERNAME          with MOTCUA_SMTP_PASSWORD: AUTH required (PLAIN or LOGIN, no TLS
    MOTCUA_SMTP_PASSWORD            on the loopback); unset, any login is taken and none is needed
    MOTCUA_WEBHOOK_SECRET         the integrators' Standard Webhooks secret, "whsec_<base64>"
    MOTCUA_MESSAGING_FAIL_RATE    share of requests failing transiently, at random (default 0)
    MOTCUA_DELIVERY_DELAY_S       how long after acceptance delivery is reported (default 0.5)
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import logging
import math
import os
import random
import re
import time
import uuid
import warnings
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notification.templates import sms_segments  # the same count the platform makes
from services.runtime.clock import LOCAL_TZ
from services.runtime.retry import backoff

log = logging.getLogger("infra.messaging")
HOST = "127.0.0.1"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_bW90Y3VhIHNhbmRib3ggaW50ZWdyYXRvcnMgaG9va3M="
MAX_SMS_TEXT = 612  # four concatenated GSM-7 parts
ZNS_DAILY_QUOTA = 500_000
CALLBACK_TIMEOUT_S = 10.0
# aiosmtpd's warnings on every connection that tell nothing here: AUTH without TLS is deliberate on the
# loopback, and the deprecated attribute is aiosmtpd's own doing
QUIET_SMTP_WARNINGS = ("auth_required == True but auth_require_tls == False", "Session.login_data is deprecated")
MOBILE = re.compile(r"84[35789]\d{8}")


@dataclass(frozen=True)
class ZnsTemplate:
    """A ZNS template (mẫu ZNS): its parameters and its text, where `{param}` stands for each."""

    params: tuple[str, ...]
    text: str

    def missing(self, data: Mapping[str, str]) -> str | None:
        """The first parameter `data` lacks (or leaves blank), if any."""
        return next((param for param in self.params if not str(data.get(param, "")).strip()), None)

    def fill(self, data: Mapping[str, str]) -> str:
        text = self.text
        for param in self.params:
            text = text.replace(f"{{{param}}}", data[param])
        return text


def load_templates(path: Path) -> dict[str, ZnsTemplate]:
    """The templates of a file `{"templates": {id: {"params": [...], "text": "..."}}}`."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {
        template_id: ZnsTemplate(tuple(template["params"]), template["text"])
        for template_id, template in document["templates"].items()
    }


@dataclass(frozen=True)
class MessagingSettings:
    http_port: int = 8013
    smtp_port: int = 8025  # 0: any free port (tests)
    sms_api_key: str = "sandbox-sms-key"
    sms_callback_secret: str = "sandbox-sms-callback"
    sms_per_second: int = 20
    zns_access_token: str = "sandbox-zns-token"
    zns_app_id: str = "motcua-oa"
    zns_secret: str = "sandbox-zns-secret"
    zns_per_second: int = 20
    zns_webhook_url: str | None = None
    zns_templates: Mapping[str, ZnsTemplate] = field(default_factory=dict)
    smtp_username: str | None = None  # with smtp_password: AUTH required
    smtp_password: str | None = None
    webhook_secret: str = DEVELOPMENT_WEBHOOK_SECRET
    fail_rate: float = 0.0
    delivery_delay_s: float = 0.5
    callback_retry_s: float = 0.5  # first pause before a report is sent again; it doubles
    callback_attempts: int = 6

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> MessagingSettings:
        templates = environ.get("MOTCUA_ZNS_TEMPLATES_FILE")
        return cls(
            http_port=int(environ.get("MOTCUA_HTTP_PORT", cls.http_port)),
            smtp_port=int(environ.get("MOTCUA_SMTP_PORT", cls.smtp_port)),
            sms_api_key=environ.get("MOTCUA_SMS_API_KEY", cls.sms_api_key),
            sms_callback_secret=environ.get("MOTCUA_SMS_CALLBACK_SECRET", cls.sms_callback_secret),
            sms_per_second=int(environ.get("MOTCUA_SMS_PER_SECOND", cls.sms_per_second)),
            zns_access_token=environ.get("MOTCUA_ZNS_ACCESS_TOKEN", cls.zns_access_token),
            zns_app_id=environ.get("MOTCUA_ZNS_APP_ID", cls.zns_app_id),
            zns_secret=environ.get("MOTCUA_ZNS_SECRET", cls.zns_secret),
            zns_per_second=int(environ.get("MOTCUA_ZNS_PER_SECOND", cls.zns_per_second)),
            zns_webhook_url=environ.get("MOTCUA_ZNS_WEBHOOK_URL") or None,
            zns_templates=load_templates(Path(templates)) if templates else {},
            smtp_username=environ.get("MOTCUA_SMTP_USERNAME") or None,
            smtp_password=environ.get("MOTCUA_SMTP_PASSWORD") or None,
            webhook_secret=environ.get("MOTCUA_WEBHOOK_SECRET", cls.webhook_secret),
            fail_rate=float(environ.get("MOTCUA_MESSAGING_FAIL_RATE", cls.fail_rate)),
            delivery_delay_s=float(environ.get("MOTCUA_DELIVERY_DELAY_S", cls.delivery_delay_s)),
        )


# --- the providers' rules ------------------------------------------------------------------
def is_mobile_number(phone: str) -> bool:
    """A Vietnamese mobile number in international form: 84, then 9 digits starting with 3, 5, 7, 8 or 9."""
    return MOBILE.fullmatch(phone) is not None


def sms_signature(secret: str, body: bytes) -> str:
    """A delivery report's X-Signature: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def zns_signature(app_id: str, body: str, timestamp: str, secret: str) -> str:
    """A ZNS event's X-ZEvent-Signature: `mac=` hex SHA-256 of app id, raw body, timestamp and OA secret key."""
    return "mac=" + hashlib.sha256(f"{app_id}{body}{timestamp}{secret}".encode()).hexdigest()


def epoch_ms(moment: datetime) -> str:
    """Zalo's times: milliseconds since the epoch, as a string."""
    return str(int(moment.timestamp() * 1000))


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class RateWindow:
    """What went through in the last second (a sliding window), and the most that ever did."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()
        self.most = 0

    def count(self, now: float) -> int:
        while self._times and self._times[0] <= now - 1.0:
            self._times.popleft()
        return len(self._times)

    def add(self, now: float) -> None:
        self.count(now)
        self._times.append(now)
        self.most = max(self.most, len(self._times))

    def wait_s(self, now: float) -> int:
        """Whole seconds until one more fits (Retry-After), at least 1."""
        return max(1, math.ceil(self._times[0] + 1.0 - now)) if self._times else 1


@dataclass
class Channel:
    """One provider's rate and figures."""

    taken: RateWindow = field(default_factory=RateWindow)  # requests let through the rate limit
    sent: RateWindow = field(default_factory=RateWindow)  # messages accepted
    accepted: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    transient_failures: int = 0

    def admit(self, per_second: int) -> int | None:
        """None if the request is within the rate (and counts towards it); else seconds to wait."""
        now = time.monotonic()
        if self.taken.count(now) >= per_second:
            self.rate_limited += 1
            return self.taken.wait_s(now)
        self.taken.add(now)
        return None

    def accept(self) -> None:
        self.accepted += 1
        self.sent.add(time.monotonic())

    def figures(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rate_limited": self.rate_limited,
            "transient_failures": self.transient_failures,
            "max_per_second": self.sent.most,
        }


# --- what the providers keep ----------------------------------------------------------------
@dataclass
class Sms:
    message_id: str
    request_id: str
    brandname: str
    phone: str
    text: str
    segments: int
    accepted_at: datetime
    status: Literal["accepted", "delivered", "failed"] = "accepted"

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"accepted_at": self.accepted_at.isoformat()}


@dataclass
class Zns:
    msg_id: str
    tracking_id: str
    phone: str
    template_id: str
    template_data: dict[str, str]
    text: str
    sent_at: datetime
    answer: dict[str, Any]  # what the sender was told; told again to a duplicate
    status: Literal["sent", "delivered"] = "sent"

    def as_json(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        del fields["answer"]
        return fields | {"sent_at": self.sent_at.isoformat()}


@dataclass
class Mail:
    id: str
    message_id: str | None
    sender: str
    recipients: list[str]  # the envelope's accepted recipients (Bcc included)
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]
    received_at: datetime

    @classmethod
    def read(cls, raw: bytes, envelope_from: str, recipients: list[str]) -> Mail:
        # lines end in CRLF on the wire; readers of the text want them as Python writes them
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # the default policy's message class
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        headers: dict[str, str] = {}
        for name, value in message.items():
            headers.setdefault(name, str(value))  # a repeated header (Received): its first value
        return cls(
            id=uuid.uuid4().hex,
            message_id=str(message["Message-ID"]) if message["Message-ID"] else None,
            sender=str(message["From"] or envelope_from),
            recipients=recipients,
            subject=str(message["Subject"] or ""),
            text=plain.get_content() if isinstance(plain, EmailMessage) else "",
            html=html.get_content() if isinstance(html, EmailMessage) else None,
            headers=headers,
            received_at=datetime.now(UTC),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "from": self.sender,
            "to": self.recipients,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "headers": self.headers,
            "received_at": self.received_at.isoformat(),
        }


@dataclass
class HookDelivery:
    id: str  # its webhook-id
    name: str
    received_at: datetime
    payload: Any
    headers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"received_at": self.received_at.isoformat()}


@dataclass(frozen=True)
class Answer:
    """A provider's answer, for the HTTP edge to send as it is (no body: 204)."""

    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)


class SmsRequest(BaseModel):
    brandname: str = Field(min_length=1)
    phone: str
    text: str
    request_id: str = Field(min_length=1)
    callback_url: str | None = None


class ZnsRequest(BaseModel):
    phone: str
    template_id: str = Field(min_length=1)
    template_data: dict[str, str] = Field(default_factory=dict)
    tracking_id: str = Field(min_length=1)


def zns_error(code: int, message: str) -> Answer:
    """Zalo answers HTTP 200 and says what went wrong in `error`."""
    return Answer(200, {"error": code, "message": message})


def problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())


# --- the providers --------------------------------------------------------------------------
class Messaging:
    """The four providers' state and their messages out; `async with` it while it serves
    (it then listens for SMTP and sends delivery reports, through `callback_transport` if given)."""

    def __init__(self, settings: MessagingSettings, callback_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.templates: dict[str, ZnsTemplate] = dict(settings.zns_templates)
        self.sms: dict[str, Sms] = {}  # by request_id
        self.zns: dict[str, Zns] = {}  # by tracking_id
        self.mail: list[Mail] = []
        self.hooks: defaultdict[str, list[HookDelivery]] = defaultdict(list)  # by integrator
        self._hook_ids: set[tuple[str, str]] = set()  # (integrator, webhook-id) received
        self.reset_figures()
        self.smtp_port: int | None = None  # where SMTP listens, once it does
        self._zns_sent_on: defaultdict[str, int] = defaultdict(int)  # the daily quota's use, by Vietnam day
        self._random = random.Random()
        self._transport = callback_transport
        self._client: httpx.AsyncClient | None = None
        self._smtp: asyncio.Server | None = None
        self._smtp_sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Messaging:
        self._client = httpx.AsyncClient(transport=self._transport, timeout=CALLBACK_TIMEOUT_S)
        loop = asyncio.get_running_loop()
        self._smtp = await loop.create_server(self._smtp_session, HOST, self.settings.smtp_port)
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.smtp_port = None
        if self._smtp is not None:
            self._smtp.close()
            for session in list(self._smtp_sessions):  # an idle client would hold the server open
                if session.transport is not None:
                    session.transport.close()
            await self._smtp.wait_closed()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def reset_figures(self) -> None:
        """Count afresh (the rate windows too); what was sent is kept."""
        self.sms_channel, self.zns_channel = Channel(), Channel()
        self.mail_figures = {"accepted": 0, "refused": 0, "transient_failures": 0}
        self.hook_figures = {"received": 0, "replays": 0, "refused": 0}

    def figures(self) -> dict[str, dict[str, int]]:
        return {
            "sms": self.sms_channel.figures(),
            "zns": self.zns_channel.figures(),
            "mail": dict(self.mail_figures),
            "hooks": dict(self.hook_figures),
        }

    def fails(self) -> bool:
        """Whether this request meets a transient failure (the sandbox's bad day)."""
        return self._random.random() < self.settings.fail_rate

    # --- SMS --------------------------------------------------------------------------------
    def send_sms(self, api_key: str, body: bytes) -> Answer:
        if not same_secret(api_key, self.settings.sms_api_key):
            return Answer(401, {"error": "unauthorized"})
        wait_s = self.sms_channel.admit(self.settings.sms_per_second)
        if wait_s is not None:
            return Answer(429, {"error": "rate_limited"}, {"Retry-After": str(wait_s)})
        try:
            request = SmsRequest.model_validate_json(body)
        except ValidationError as error:
            return Answer(400, {"error": "invalid_request", "message": problems(error)})
        if not is_mobile_number(request.phone):
            return Answer(400, {"error": "invalid_phone", "message": "not a Vietnamese mobile number as 84xxxxxxxxx"})
        if not 0 < len(request.text) <= MAX_SMS_TEXT:
            return Answer(400, {"error": "invalid_text", "message": f"a text has 1 to {MAX_SMS_TEXT} characters"})
        known = self.sms.get(request.request_id)
        if known is not None:
            self.sms_channel.duplicates += 1
            return Answer(
                200,
                {"message_id": known.message_id, "status": "accepted", "segments": known.segments, "duplicate": True},
            )
        if self.fails():
            self.sms_channel.transient_failures += 1
            return Answer(503, {"error": "temporarily_unavailable"})
        sms = Sms(
            message_id=uuid.uuid4().hex,
            request_id=request.request_id,
            brandname=request.brandname,
            phone=request.phone,
            text=request.text,
            segments=sms_segments(request.text),
            accepted_at=datetime.now(UTC),
        )
        self.sms[sms.request_id] = sms
        self.sms_channel.accept()
        self._spawn(self._deliver_sms(sms, request.callback_url))
        return Answer(202, {"message_id": sms.message_id, "status": "accepted", "segments": sms.segments})

    def sms_outbox(self, phone: str | None = None, request_id: str | None = None) -> list[Sms]:
        return [
            sms
            for sms in self.sms.values()
            if (phone is None or sms.phone == phone) and (request_id is None or sms.request_id == request_id)
        ]

    async def _deliver_sms(self, sms: Sms, callback_url: str | None) -> None:
        await asyncio.sleep(self.settings.delivery_delay_s)
        unreachable = sms.phone.endswith("0000")
        sms.status = "failed" if unreachable else "delivered"
        if not callback_url:
            return
        report = {
            "message_id": sms.message_id,
            "request_id": sms.request_id,
            "phone": sms.phone,
            "status": sms.status,
            "reason": "subscriber unreachable" if unreachable else None,
            "reported_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(report).encode()
        signature = sms_signature(self.settings.sms_callback_secret, body)
        await self._post(callback_url, body, {"X-Signature": signature}, f"delivery report of SMS {sms.message_id}")

    # --- ZNS --------------------------------------------------------------------------------
    def send_zns(self, access_token: str, body: bytes) -> Answer:
        if not same_secret(access_token, self.settings.zns_access_token):
            return zns_error(-124, "Access token is invalid")
        wait_s = self.zns_channel.admit(self.settings.zns_per_second)
        if wait_s is not None:
            return Answer(429, {"error": -1500, "message": "Rate limit exceeded"}, {"Retry-After": str(wait_s)})
        try:
            request = ZnsRequest.model_validate_json(body)
        except ValidationError as error:
            return zns_error(-201, f"Parameters are invalid: {problems(error)}")
        if not is_mobile_number(request.phone):
            return zns_error(-108, "Phone number is invalid")
        template = self.templates.get(request.template_id)
        if template is None:
            return zns_error(-1124, "Template is invalid")
        missing = template.missing(request.template_data)
        if missing is not None:
            return zns_error(-1123, f"Template data is invalid: {missing}")
        if request.phone.endswith("999"):
            return zns_error(-118, "Zalo account is not existed")
        known = self.zns.get(request.tracking_id)
        if known is not None:
            self.zns_channel.duplicates += 1
            return Answer(200, known.answer)
        if self.fails():
            self.zns_channel.transient_failures += 1
            return zns_error(-32, "System error, please retry")
        sent_at = datetime.now(UTC)
        day = sent_at.astimezone(LOCAL_TZ).date().isoformat()
        self._zns_sent_on[day] += 1
        msg_id = uuid.uuid4().hex
        quota = {"dailyQuota": str(ZNS_DAILY_QUOTA), "remainingQuota": str(ZNS_DAILY_QUOTA - self._zns_sent_on[day])}
        answer = {
            "error": 0,
            "message": "Success",
            "data": {"msg_id": msg_id, "sent_time": epoch_ms(sent_at), "quota": quota},
        }
        zns = Zns(
            msg_id=msg_id,
            tracking_id=request.tracking_id,
            phone=request.phone,
            template_id=request.template_id,
            template_data=request.template_data,
            text=template.fill(request.template_data),
            sent_at=sent_at,
            answer=answer,
        )
        self.zns[zns.tracking_id] = zns
        self.zns_channel.accept()
        self._spawn(self._deliver_zns(zns))
        return Answer(200, answer)

    def zns_outbox(self, phone: str | None = None, tracking_id: str | None = None) -> list[Zns]:
        return [
            zns
            for zns in self.zns.values()
            if (phone is None or zns.phone == phone) and (tracking_id is None or zns.tracking_id == tracking_id)
        ]

    async def _deliver_zns(self, zns: Zns) -> None:
        await asyncio.sleep(self.settings.delivery_delay_s)
        zns.status = "delivered"
        if not self.settings.zns_webhook_url:
            return
        timestamp = epoch_ms(datetime.now(UTC))
        event = {
            "app_id": self.settings.zns_app_id,
            "event_name": "user_received_message",
            "timestamp": timestamp,
            "message": {"msg_id": zns.msg_id, "tracking_id": zns.tracking_id, "delivery_time": timestamp},
            "recipient": {"phone": zns.phone},
        }
        body = json.dumps(event)
        signature = zns_signature(self.settings.zns_app_id, body, timestamp, self.settings.zns_secret)
        await self._post(
            self.settings.zns_webhook_url,
            body.encode(),
            {"X-ZEvent-Signature": signature},
            f"delivery event of ZNS {zns.msg_id}",
        )

    # --- the mailbox (aiosmtpd's handler hooks) ---------------------------------------------
    def _smtp_session(self) -> SMTP:
        """One SMTP connection's protocol. AUTH without TLS is deliberate: it listens on the loopback only."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            session = SMTP(
                self,
                hostname="localhost",
                ident="motcua sandbox mailbox",
                enable_SMTPUTF8=True,
                auth_required=self.settings.smtp_username is not None,
                auth_require_tls=False,
                authenticator=self._authenticate,
                loop=asyncio.get_running_loop(),
            )
        self._smtp_sessions.add(session)
        return session

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """PLAIN or LOGIN with the configured credentials; any, if none are configured."""
        expected = (self.settings.smtp_username, self.settings.smtp_password)
        if expected[0] is None or expected[1] is None:
            return AuthResult(success=True, auth_data=auth_data)
        good = (
            isinstance(auth_data, LoginPassword)
            and same_secret(auth_data.login.decode(errors="replace"), expected[0])
            and same_secret(auth_data.password.decode(errors="replace"), expected[1])
        )
        return AuthResult(success=good, handled=False)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[0].lower() == "khongtontai":  # "does not exist"
            self.mail_figures["refused"] += 1
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fails():
            self.mail_figures["transient_failures"] += 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content or b""
        raw = raw if isinstance(raw, bytes) else raw.encode()
        self.mail.append(Mail.read(raw, envelope.mail_from or "", list(envelope.rcpt_tos)))
        self.mail_figures["accepted"] += 1
        return "250 OK"

    def mailbox(self, to: str | None = None) -> list[Mail]:
        wanted = to.lower() if to else None
        return [mail for mail in self.mail if wanted is None or wanted in (r.lower() for r in mail.recipients)]

    # --- the integrators' webhook receiver --------------------------------------------------
    def receive_hook(self, name: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """A Standard Webhooks delivery: signature and timestamp checked, each webhook-id kept once."""
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            Webhook(self.settings.webhook_secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            self.hook_figures["refused"] += 1
            return Answer(401, {"error": "invalid_signature", "message": str(error)})
        except ValueError:  # a signature that is not "v1,<base64>", a body that is not UTF-8
            self.hook_figures["refused"] += 1
            return Answer(401, {"error": "invalid_signature", "message": "Malformed signature or body"})
        hook_id = headers["webhook-id"]
        if (name, hook_id) in self._hook_ids:
            self.hook_figures["replays"] += 1
            return Answer(200, {"replay": True})
        try:
            payload = json.loads(body)
        except ValueError:
            self.hook_figures["refused"] += 1
            return Answer(400, {"error": "invalid_payload", "message": "the body is not JSON"})
        self._hook_ids.add((name, hook_id))
        self.hooks[name].append(HookDelivery(hook_id, name, datetime.now(UTC), payload, headers))
        self.hook_figures["received"] += 1
        return Answer(204, None)

    # --- messages out -----------------------------------------------------------------------
    async def _post(self, url: str, body: bytes, headers: Mapping[str, str], what: str) -> None:
        """POST until a 2xx; a 4xx is logged and not sent again, nor is anything after the last attempt."""
        if self._client is None:
            raise RuntimeError("the sandbox has not started (use `async with messaging`)")
        for attempt in itertools.count(1):
            try:
                response = await self._client.post(
                    url, content=body, headers={"Content-Type": "application/json", **headers}
                )
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                problem = type(error).__name__
            else:
                if response.is_success:
                    return
                if response.is_client_error:
                    log.error("%s refused by %s (HTTP %s); not sent again", what, url, response.status_code)
                    return
                problem = f"HTTP {response.status_code}"
            if attempt >= self.settings.callback_attempts:
                log.error("%s not delivered to %s (%s); given up after %d attempts", what, url, problem, attempt)
                return
            pause = backoff(attempt, self.settings.callback_retry_s)
            log.warning("%s not delivered to %s (%s); again in %.1fs", what, url, problem, pause)
            await asyncio.sleep(pause)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class Behaviour(BaseModel):
    """What a test or a demo changes while the sandbox runs; what is left out stays."""

    fail_rate: float | None = Field(None, ge=0, le=1, description="share of requests failing transiently")
    sms_per_second: int | None = Field(None, ge=1, description="SMS requests taken in any one second")
    zns_per_second: int | None = Field(None, ge=1, description="ZNS requests taken in any one second")


class TemplateIn(BaseModel):
    params: list[str]
    text: str = Field(examples=["Hồ sơ {dossier_code} đã có kết quả."])


def create_app(messaging: Messaging) -> FastAPI:
    """The providers' HTTP app; serving it runs `messaging` (its SMTP server and delivery reports)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with messaging:
            yield

    app = FastAPI(title="motcua sandbox messaging providers (development only)", version="0.1.0", lifespan=lifespan)

    def respond(answer: Answer) -> Response:
        if answer.body is None:
            return Response(status_code=answer.status, headers=dict(answer.headers))
        return JSONResponse(answer.body, answer.status, dict(answer.headers))

    @app.post("/sms/v1/messages", tags=["sms"])
    async def send_sms(request: Request, authorization: Annotated[str, Header()] = "") -> Response:
        """Send one SMS under a brandname: `{brandname, phone, text, request_id, callback_url}`."""
        scheme, _, key = authorization.partition(" ")
        return respond(messaging.send_sms(key if scheme.lower() == "bearer" else "", await request.body()))

    @app.get("/sms/v1/outbox", tags=["sms"])
    async def sms_outbox(phone: str | None = None, request_id: str | None = None) -> list[dict[str, Any]]:
        """The SMS sent, oldest first."""
        return [sms.as_json() for sms in messaging.sms_outbox(phone, request_id)]

    @app.post("/message/template", tags=["zns"])
    async def send_zns(
        request: Request, access_token: Annotated[str, Header(convert_underscores=False)] = ""
    ) -> Response:
        """Send one ZNS template message: `{phone, template_id, template_data, tracking_id}`."""
        return respond(messaging.send_zns(access_token, await request.body()))

    @app.get("/zns/outbox", tags=["zns"])
    async def zns_outbox(phone: str | None = None, tracking_id: str | None = None) -> list[dict[str, Any]]:
        """The ZNS messages sent, oldest first."""
        return [zns.as_json() for zns in messaging.zns_outbox(phone, tracking_id)]

    @app.put("/sandbox/zns/templates/{template_id}", tags=["zns"])
    async def register_template(template_id: str, template: TemplateIn) -> dict[str, Any]:
        """Register (or replace) a ZNS template."""
        messaging.templates[template_id] = ZnsTemplate(tuple(template.params), template.text)
        return {"template_id": template_id, "params": template.params, "text": template.text}

    @app.get("/mail/messages", tags=["mail"])
    async def mail_messages(to: str | None = None) -> list[dict[str, Any]]:
        """The mail received (for recipient `to`), in order of arrival."""
        return [mail.as_json() for mail in messaging.mailbox(to)]

    @app.delete("/mail/messages", tags=["mail"], status_code=204)
    async def clear_mail() -> None:
        """Empty the mailbox."""
        messaging.mail.clear()

    @app.post("/hooks/{name}", tags=["hooks"])
    async def receive_hook(name: str, request: Request) -> Response:
        """An integrator `name` receives a webhook signed the Standard Webhooks way."""
        return respond(messaging.receive_hook(name, await request.body(), request.headers))

    @app.get("/hooks/{name}/received", tags=["hooks"])
    async def hooks_received(name: str) -> list[dict[str, Any]]:
        """What integrator `name` received, each webhook-id once, in order of arrival."""
        return [delivery.as_json() for delivery in messaging.hooks.get(name, [])]

    @app.put("/sandbox/behaviour", tags=["sandbox"])
    async def behaviour(change: Behaviour) -> dict[str, Any]:
        """Change the failure rate and the providers' rates while the sandbox runs."""
        messaging.settings = dataclasses.replace(
            messaging.settings, **{k: v for k, v in change.model_dump().items() if v is not None}
        )
        return {
            "fail_rate": messaging.settings.fail_rate,
            "sms_per_second": messaging.settings.sms_per_second,
            "zns_per_second": messaging.settings.zns_per_second,
        }

    @app.get("/sandbox/figures", tags=["sandbox"])
    async def figures() -> dict[str, dict[str, int]]:
        """What each provider accepted, refused, throttled; the most messages it accepted in one second."""
        return messaging.figures()

    @app.delete("/sandbox/figures", tags=["sandbox"], status_code=204)
    async def reset_figures() -> None:
        """Count afresh from now (a test measures its own run)."""
        messaging.reset_figures()

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], response_model=None)
    async def ready() -> Any:
        """Readiness: the SMTP server listens."""
        if messaging.smtp_port is None:
            return JSONResponse({"status": "starting"}, 503)
        return {"status": "ok"}

    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    smtp_log = logging.getLogger("mail.log")  # aiosmtpd's
    smtp_log.setLevel(logging.WARNING)  # it logs every SMTP command at INFO
    smtp_log.addFilter(lambda record: not record.getMessage().startswith(QUIET_SMTP_WARNINGS))
    settings = MessagingSettings.from_environment(os.environ)
    log.warning("sandbox messaging providers: development only, messages in memory; SMTP on %s", settings.smtp_port)
    uvicorn.run(create_app(Messaging(settings)), host=HOST, port=settings.http_port, log_level="info")


if __name__ == "__main__":
    main()
