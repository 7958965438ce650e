"""The gateways' server-to-server notifications (IPN): the only trusted confirmation of a payment.

Each protocol has its own address and answer; both come down to one verified `Notice` taken by
notices.take: only from the gateways' addresses, signature, partner, currency, time and amount
checked; each gateway transaction has its effect once (a repeated notification is acknowledged
and changes nothing, concurrent ones are serialised by the payment's transaction).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind

from services.runtime import RuntimeDep, utcnow
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from .. import domain, notices, store
from ..context import Payments, PaymentsDep
from ..gateways import Notice, NotificationRefused
from ..gateways.platform import Callback

log = logging.getLogger(__name__)
router = APIRouter(tags=["payment"])
CALLBACK_BODY = {"required": True, "content": {"application/json": {"schema": Callback.model_json_schema()}}}
STATUS = {domain.AMOUNT_FLAGGED: 400, domain.ALREADY_FLAGGED: 400, domain.UNKNOWN: 404}
DETAIL = {
    domain.AMOUNT_FLAGGED: "the amount is not the fee's; flagged for follow-up",
    domain.ALREADY_FLAGGED: "the amount is not the fee's; flagged for follow-up",
    domain.UNKNOWN: "unknown payment reference",
}


@router.post("/payments/ipn", openapi_extra={"requestBody": CALLBACK_BODY}, responses=answers(400, 401, 403, 404, 422))
async def platform_notification(request: Request, runtime: RuntimeDep, payments: PaymentsDep) -> JSONResponse:
    """The national payment platform's notification (JSON, SHA-256 checksum)."""
    settings = payments.settings
    max_age, skew = timedelta(seconds=settings.callback_max_age_s), timedelta(seconds=settings.callback_clock_skew_s)
    gateway = payments.platform
    try:
        from_gateway(request, payments)
        notice = gateway.read_notification(await request.body(), utcnow(), max_age, skew)
    except NotificationRefused as refusal:
        return refused(payments, runtime.name, refusal, gateway.answer(refusal.reason, refusal.status))
    result = await taken(runtime, notice)
    status, body = gateway.answer(result, STATUS.get(result, 200))
    if status >= 400:
        body = {"detail": DETAIL[result], **body}
    elif result == domain.NOT_PAID:
        body |= {"detail": "payment not successful; nothing paid", "error_code": notice.code}
    return JSONResponse(body, status)


@router.get("/payments/ipn/card", responses=answers(400, 401, 403, 404, 422))
async def card_notification(request: Request, runtime: RuntimeDep, payments: PaymentsDep) -> JSONResponse:
    """The card and wallet gateway's notification (GET parameters, HMAC-SHA512), answered with
    `{"RspCode", "Message"}`: "00" taken, "02" already taken, "01" unknown, "04" wrong amount, "97" bad signature."""
    gateway = payments.card
    skew = timedelta(seconds=payments.settings.callback_clock_skew_s)
    try:
        from_gateway(request, payments)
        notice = gateway.read_notification(dict(request.query_params), utcnow(), skew)
    except NotificationRefused as refusal:
        return refused(payments, runtime.name, refusal, gateway.answer(refusal.reason, refusal.status))
    result = await taken(runtime, notice)
    status, body = gateway.answer(result, STATUS.get(result, 200))
    return JSONResponse(body, status)


def from_gateway(request: Request, payments: Payments) -> None:
    host = request.client.host if request.client else None
    if not payments.from_gateway(host):
        raise NotificationRefused(403, "address", "notifications are taken only from the gateways")


async def taken(runtime: RuntimeDep, notice: Notice) -> str:
    """The notice taken, inside the dossier's trace."""
    code = domain.dossier_code_of(notice.reference)
    payment = await store.find(runtime, code) if code else None
    if payment is None:
        runtime.context.refused.labels(runtime.name, "unknown").inc()
        log.warning(
            "gateway notification refused", extra={"fields": {"reason": "unknown", "reference": notice.reference}}
        )
        return domain.UNKNOWN
    with dossier_span(
        runtime.tracer, "payment gateway notification", payment.dossier_code, payment.trace, SpanKind.SERVER
    ):
        return await notices.take(runtime, notice)


def refused(
    payments: Payments, service: str, refusal: NotificationRefused, answer: tuple[int, dict[str, Any]]
) -> JSONResponse:
    """Refuse the notification with its status and say why; counted by reason and logged (without personal data)."""
    payments.refused.labels(service, refusal.reason).inc()
    facts = {"reason": refusal.reason, "status": refusal.status, "reference": refusal.reference}
    log.warning("gateway notification refused", extra={"fields": facts})
    status, body = answer
    return JSONResponse({"detail": refusal.detail, **body}, status)
