"""Payment's HTTP edge: the gateway's callback (IPN) endpoint."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException
from motcua_contracts import PaymentCompleted
from opentelemetry.trace import SpanKind

from services.runtime import DOSSIER_ATTRIBUTE, RuntimeDep, Tx, context_from_carrier, utcnow

from . import domain, store
from .settings import settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["payment"])


@router.post("/payments/ipn")
async def gateway_callback(callback: domain.GatewayCallback, runtime: RuntimeDep) -> dict[str, str]:
    """Confirm a payment. Checksum and amount are verified; repeats are harmless."""
    if not domain.verify(callback, settings.gateway_secret):
        raise HTTPException(401, "checksum does not match")
    payment = await store.find_by_reference(runtime, callback.reference)
    if payment is None:
        raise HTTPException(404, f"unknown payment reference {callback.reference!r}")
    if callback.amount_vnd != payment["amount_vnd"]:
        raise HTTPException(400, f"amount {callback.amount_vnd} does not match {payment['amount_vnd']} due")
    if callback.error_code != domain.SUCCESS:
        return {"result": "payment not successful; still pending", "error_code": callback.error_code}

    async def confirm(tx: Tx) -> dict[str, str]:
        paid_at = utcnow()
        changes = {"transaction_id": callback.transaction_id, "paid_at": paid_at}
        if not await store.mark_paid(tx, callback.reference, changes):
            if await store.record_extra_payment(tx, callback.reference, changes):
                log.error(
                    "fee paid twice; second transaction recorded for refund",
                    extra={"fields": {"reference": callback.reference, "transaction": callback.transaction_id}},
                )
                return {"result": "already paid by another transaction; recorded for refund"}
            return {"result": "already confirmed"}
        tx.emit(
            PaymentCompleted(
                dossier_code=payment["_id"],
                reference=callback.reference,
                amount_vnd=payment["amount_vnd"],
                gateway_transaction=callback.transaction_id,
                paid_at=paid_at,
            ),
            commune=payment["commune"],
        )
        return {"result": "confirmed"}

    with runtime.tracer.start_as_current_span(
        "payment gateway callback",
        context=context_from_carrier(payment.get("trace", {})),
        kind=SpanKind.SERVER,
        attributes={DOSSIER_ATTRIBUTE: payment["_id"]},
    ):
        return await runtime.transact(confirm)


def sandbox_callback(payment: dict, at: datetime) -> dict:
    """What the sandbox gateway sends when the citizen has paid `payment`."""
    fields = {
        "partner_code": settings.gateway_partner_code,
        "reference": payment["reference"],
        "amount_vnd": payment["amount_vnd"],
        "currency": "VND",
        "transaction_id": "SBX" + hashlib.sha256(payment["reference"].encode()).hexdigest()[:12].upper(),
        "error_code": domain.SUCCESS,
        "time": domain.gateway_time(at),
    }
    signed = domain.GatewayCallback(**fields, checksum="").signed_fields()
    return {**fields, "checksum": domain.checksum(signed, settings.gateway_secret)}
