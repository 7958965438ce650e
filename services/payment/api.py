"""Payment's HTTP edge: the gateway's server-to-server callback (IPN), the only trusted
confirmation of a payment."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException, Request
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from services.runtime import RuntimeDep, Tx, utcnow
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from . import domain, store
from .context import Payments, PaymentsDep
from .gateway_protocol import Callback

log = logging.getLogger(__name__)
router = APIRouter(tags=["payment"])
CALLBACK_BODY = {"required": True, "content": {"application/json": {"schema": Callback.model_json_schema()}}}


@router.post("/payments/ipn", openapi_extra={"requestBody": CALLBACK_BODY}, responses=answers(400, 401, 403, 404))
async def gateway_callback(request: Request, runtime: RuntimeDep, payments: PaymentsDep) -> dict[str, str]:
    """Take the gateway's word on a transaction: only from the gateway's addresses, checksum, partner,
    currency, time and amount verified; each gateway transaction has its effect once (a repeated
    callback is acknowledged and changes nothing); money that the fee did not need is recorded for refund."""
    host = request.client.host if request.client else None
    if not payments.from_gateway(host):
        refuse(payments, runtime.name, 403, "address", "callbacks are taken only from the gateway", address=host)
    callback = parse_callback(await request.body(), payments, runtime.name)
    if not callback.verify(payments.secret):
        refuse(payments, runtime.name, 401, "checksum", "checksum does not match", reference=callback.reference)
    settings = payments.settings
    assert settings.gateway_partner_code is not None  # required: the settings refuse to start without it
    max_age, skew = timedelta(seconds=settings.callback_max_age_s), timedelta(seconds=settings.callback_clock_skew_s)
    if problem := domain.callback_problem(callback, settings.gateway_partner_code, utcnow(), max_age, skew):
        refuse(payments, runtime.name, 400, problem.reason, problem.detail, reference=callback.reference)
    code = domain.dossier_code_of(callback.reference)
    payment = await store.find(runtime, code) if code else None
    if code is None or payment is None or payment.reference != callback.reference:
        detail = f"unknown payment reference {callback.reference!r}"
        refuse(payments, runtime.name, 404, "unknown", detail, reference=callback.reference)

    async def take(tx: Tx) -> str:
        current = await store.load(tx, code)
        assert current is not None  # payments are never deleted
        result, events = current.take(callback, utcnow())
        if result in domain.CHANGED:
            store.save(tx, current)
        for event in events:
            tx.emit(event, commune=current.commune)
        return result

    with dossier_span(runtime.tracer, "payment gateway callback", code, payment.trace, SpanKind.SERVER):
        result = await runtime.transact(take)
    facts = {"reference": callback.reference, "transaction": callback.transaction_id}
    if result in (domain.AMOUNT_FLAGGED, domain.ALREADY_FLAGGED):
        if result == domain.AMOUNT_FLAGGED:
            amounts = {"amount_vnd": callback.amount_vnd, "due_vnd": payment.amount_vnd}
            log.error(
                "a callback for another amount than the fee; flagged for follow-up", extra={"fields": facts | amounts}
            )
        detail = f"amount {callback.amount_vnd} does not match the {payment.amount_vnd} due; flagged for follow-up"
        refuse(payments, runtime.name, 400, "amount", detail, reference=callback.reference)
    if result == domain.RECORDED_FOR_REFUND:
        log.error("a payment the fee did not need; recorded for refund", extra={"fields": facts})
    payments.callbacks.labels(runtime.name, result).inc()
    if result == domain.NOT_PAID:
        return {"result": "payment not successful; nothing changed", "error_code": callback.error_code}
    return {"result": result}


def parse_callback(body: bytes, payments: Payments, service: str) -> Callback:
    """The callback in a JSON body; 422 (never 500) for anything else. No field takes a float, so
    NaN, Infinity and numbers beyond a float's range are refused with the rest."""
    try:
        return Callback.model_validate_json(body)
    except ValidationError as error:  # the values sent are left out: they may not even be JSON
        refuse(
            payments,
            service,
            422,
            "malformed",
            error.errors(include_url=False, include_context=False, include_input=False),
        )


def refuse(payments: Payments, service: str, status: int, reason: str, detail: Any, **facts: str | None) -> NoReturn:
    """Refuse the callback with `status` and say why; counted by `reason` and logged (without personal data)."""
    payments.refused.labels(service, reason).inc()
    log.warning("gateway callback refused", extra={"fields": {"reason": reason, "status": status, **facts}})
    raise HTTPException(status, detail)
