"""Payment (thanh toán): asks for each dossier's fee, opens it at the payment gateway, confirms it
from the gateway's verified callback, and stops asking when the dossier is withdrawn.

The gateway is an outside party reached over HTTP (in development, the sandbox gateway
process `python -m infra.gateway`); nothing here stands in for it.
"""

from __future__ import annotations

import httpx
from motcua_contracts import DossierReceived, DossierWithdrawn

from services.runtime import Service, Tx, current_trace_headers, utcnow

from . import domain, store
from .api import router
from .context import Payments, starter
from .opener import open_payments
from .settings import PaymentSettings


async def on_dossier_received(event: DossierReceived, tx: Tx, payments: Payments) -> None:
    """A fee → a pending payment and `payment.requested`; no fee → `payment.not_required`."""
    assert tx.cause is not None
    payment = await store.load(tx, event.dossier_code) or domain.Payment.new(event.dossier_code, tx.cause.commune)
    # the trace is kept so that the gateway's callback continues the dossier's trace
    events = payment.request(event, current_trace_headers(), payments.gateway_name, utcnow())
    if events:
        store.save(tx, payment)
    for emitted in events:
        tx.emit(emitted)


async def on_dossier_withdrawn(event: DossierWithdrawn, tx: Tx, payments: Payments) -> None:
    """Routing accepted the withdrawal: a fee not paid yet is cancelled (and never opened)."""
    assert tx.cause is not None
    payment = await store.load(tx, event.dossier_code)
    if payment is None:  # the dossier's receipt has not reached us yet
        store.save(tx, domain.Payment.withdrawal_first(event.dossier_code, tx.cause.commune, utcnow()))
        return
    events = payment.withdraw(utcnow())
    if events:
        store.save(tx, payment)
    for emitted in events:
        tx.emit(emitted)


def create(
    settings: PaymentSettings | None = None, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> Service[Payments]:
    """The payment service; `gateway_transport` replaces the network to the gateway (tests)."""
    return Service(
        "payment",
        settings or PaymentSettings(),
        handlers={DossierReceived: on_dossier_received, DossierWithdrawn: on_dossier_withdrawn},
        routers=[router],
        context=starter(gateway_transport),
        background=[open_payments],
        state=store.PAYMENTS,
    )
