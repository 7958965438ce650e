"""Payment's HTTP edge: the gateway's server-to-server callback (IPN), the only trusted
confirmation of a payment."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, HTTPException
from opentelemetry.trace import SpanKind

from services.runtime import RuntimeDep, Tx, utcnow
from services.runtime.telemetry import dossier_span

from . import domain, store
from .context import PaymentsDep
from .gateway_protocol import SUCCESS, Callback

log = logging.getLogger(__name__)
router = APIRouter(tags=["payment"])


@router.post("/payments/ipn")
async def gateway_callback(callback: Callback, runtime: RuntimeDep, payments: PaymentsDep) -> dict[str, str]:
    """Take the gateway's word on a transaction: checksum, partner, currency, time and amount verified;
    a repeated callback is harmless; money that the fee did not need is recorded for refund."""
    if not callback.verify(payments.secret):
        raise HTTPException(401, "checksum does not match")
    window = timedelta(seconds=payments.settings.callback_window_s)
    if problem := domain.callback_problem(callback, payments.settings.gateway_partner_code, utcnow(), window):
        raise HTTPException(400, problem)
    code = domain.dossier_code_of(callback.reference)
    payment = await store.find(runtime, code) if code else None
    if code is None or payment is None or payment.reference != callback.reference:
        raise HTTPException(404, f"unknown payment reference {callback.reference!r}")
    if callback.amount_vnd != payment.amount_vnd:
        raise HTTPException(400, f"amount {callback.amount_vnd} does not match the {payment.amount_vnd} due")
    if callback.error_code != SUCCESS:
        return {"result": "payment not successful; still pending", "error_code": callback.error_code}

    async def confirm(tx: Tx) -> str:
        current = await store.load(tx, code)
        assert current is not None  # payments are never deleted
        result, events = current.confirm(callback.transaction_id, utcnow())
        if result in (domain.CONFIRMED, domain.RECORDED_FOR_REFUND):
            store.save(tx, current)
        for event in events:
            tx.emit(event, commune=current.commune)
        return result

    with dossier_span(runtime.tracer, "payment gateway callback", code, payment.trace, SpanKind.SERVER):
        result = await runtime.transact(confirm)
    if result == domain.RECORDED_FOR_REFUND:
        log.error(
            "a payment the fee did not need; recorded for refund",
            extra={"fields": {"reference": callback.reference, "transaction": callback.transaction_id}},
        )
    payments.callbacks.labels(runtime.name, result).inc()
    return {"result": result}
