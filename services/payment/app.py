"""Payment (thanh toán): opens fee payments and confirms them from gateway callbacks.

In skeleton mode a sandbox gateway stands in for the citizen and the bank: it
pays every pending request by calling the real callback endpoint over HTTP.
"""

import asyncio
import logging
from datetime import timedelta

import httpx
from motcua_contracts import DossierReceived, PaymentNotRequired, PaymentRequested

from services.runtime import Runtime, Service, Tx, current_trace_headers, utcnow

from . import domain, store
from .api import router, sandbox_callback
from .settings import settings

log = logging.getLogger(__name__)


async def on_dossier_received(event: DossierReceived, tx: Tx) -> None:
    record = {
        "_id": event.dossier_code,
        "commune": event.commune_code,
        "amount_vnd": event.fee_vnd,
        "opened_at": utcnow(),
        "trace": current_trace_headers(),  # the gateway's callback continues the dossier's trace
    }
    if event.fee_vnd == 0:
        store.open_payment(tx, {**record, "state": store.NOT_REQUIRED})
        tx.emit(PaymentNotRequired(dossier_code=event.dossier_code))
        return
    reference = domain.reference_for(event.dossier_code)
    store.open_payment(tx, {**record, "state": store.PENDING, "reference": reference})
    tx.emit(
        PaymentRequested(
            dossier_code=event.dossier_code, reference=reference, amount_vnd=event.fee_vnd, gateway="sandbox"
        )
    )


async def sandbox_gateway(runtime: Runtime) -> None:
    """Skeleton stand-in for citizen and bank: pays pending requests via the real IPN."""
    if not runtime.settings.skeleton_mode:
        return
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            try:
                due = utcnow() - timedelta(seconds=settings.sandbox_pay_after_s)
                for payment in await store.pending(runtime):
                    if payment["opened_at"] <= due:
                        response = await client.post(settings.callback_url, json=sandbox_callback(payment, utcnow()))
                        response.raise_for_status()
            except Exception:
                log.exception("sandbox gateway round failed")
            await asyncio.sleep(0.3)


service = Service(
    "payment",
    settings,
    handlers={DossierReceived: on_dossier_received},
    api=router,
    on_start=store.create_indexes,
    background=[sandbox_gateway],
)
