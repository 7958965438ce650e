"""Providers' delivery reports: the SMS gateway's (`X-Signature`: hex HMAC-SHA256 of the body
under the callback secret) and ZNS's `user_received_message` events (`X-ZEvent-Signature`:
`mac=` + hex SHA-256 of app id + body + timestamp + the official account's secret). A report
that does not verify is refused (401) and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from motcua_contracts import MessageDelivered

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from .. import store
from ..context import Notifier, secret
from ..sender import announce_sent, give_up_fallback
from .pages import NotifierDep

router = APIRouter(tags=["delivery reports"])


@router.post("/deliveries/sms", responses=answers(400, 401, 404))
async def sms_report(request: Request, runtime: RuntimeDep, notifier: NotifierDep) -> dict[str, Any]:
    """The SMS gateway reports a message delivered to the handset, or not."""
    body = await request.body()
    expected = hmac.new(secret(notifier.settings.sms_callback_secret).encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
        raise HTTPException(401, "delivery report signature does not verify")
    report = parsed(body)
    status = report.get("status")
    if status not in ("delivered", "failed") or not isinstance(report.get("request_id"), str):
        raise HTTPException(400, "a report names its request_id and a status of delivered or failed")
    return await take(runtime, report["request_id"], status == "delivered", report.get("reason"))


@router.post("/deliveries/zns", responses=answers(400, 401, 404))
async def zns_event(request: Request, runtime: RuntimeDep, notifier: NotifierDep) -> dict[str, Any]:
    """ZNS events: `user_received_message` marks a message delivered; other events are acknowledged."""
    body = await request.body()
    event = parsed(body)
    settings = notifier.settings
    mac = hashlib.sha256(
        f"{settings.zns_app_id}{body.decode(errors='replace')}{event.get('timestamp', '')}"
        f"{secret(settings.zns_secret)}".encode()
    ).hexdigest()
    if not hmac.compare_digest(f"mac={mac}", request.headers.get("x-zevent-signature", "")):
        raise HTTPException(401, "event signature does not verify")
    if event.get("event_name") != "user_received_message":
        return {"taken": False}
    tracking = (event.get("message") or {}).get("tracking_id")
    if not isinstance(tracking, str):
        raise HTTPException(400, "the event names no tracking_id")
    return await take(runtime, tracking, True, None)


def parsed(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(value, dict):
        raise HTTPException(400, "the body is not a JSON object")
    return value


async def take(runtime: Runtime[Notifier], message_id: str, delivered: bool, reason: str | None) -> dict[str, Any]:
    async def work(tx: Tx) -> bool | None:
        item = await store.message(tx, message_id)
        if item is None:
            return None
        now = utcnow()
        if delivered and item.sent(item.provider_id or item.id, now):
            announce_sent(tx, item)  # taken although its sender never heard it was (a timeout)
        if not item.reported(delivered, reason, now):
            store.put_message(tx, item)
            return False
        tx.emit(
            MessageDelivered(
                dossier_code=item.subject,
                message_id=item.id,
                channel=item.channel,  # type: ignore[arg-type]
                template=item.template,
                status="delivered" if delivered else "undelivered",
                reason=reason,
                reported_at=now,
            ),
            commune=item.commune,
        )
        if not delivered:
            give_up_fallback(tx, item, now)
        store.put_message(tx, item)
        return True

    known = await runtime.documents.get(store.MESSAGES, message_id)
    if known is None:
        raise HTTPException(404, "no message with this id")
    with dossier_span(runtime.tracer, "notification delivery report", known["subject"], known.get("trace", {})):
        taken = await runtime.transact(work)
    if taken is None:
        raise HTTPException(404, "no message with this id")
    return {"taken": taken}
