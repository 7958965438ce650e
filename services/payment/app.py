"""Payment (thanh toán): asks for each dossier's fee, opens it at the gateways, takes the
gateways' verified notices and the counter's records, expires what is not paid in time, pays
back what the fee did not need, and reconciles the gateways' statements with its ledger.

The gateways are outside parties reached over HTTP (in development, the sandbox gateway
process `python -m infra.gateway`, speaking both protocols); nothing here stands in for them.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from motcua_contracts import DossierAssigned, DossierReceived, DossierRefused, DossierStepStarted, DossierWithdrawn

from services.runtime import Service, Tx, current_trace_headers, utcnow

from . import domain, store
from .api import routers
from .context import Payments, starter
from .jobs import payment_jobs
from .settings import PaymentSettings


async def on_dossier_received(event: DossierReceived, tx: Tx, payments: Payments) -> None:
    """A fee → a pending payment and `payment.requested`; none (or exempt) → `payment.not_required`."""
    assert tx.cause is not None
    payment = await store.load(tx, event.dossier_code) or domain.Payment.new(event.dossier_code, tx.cause.commune)
    window = timedelta(hours=payments.settings.payment_window_h)
    # the trace is kept so that the gateways' notices continue the dossier's trace
    events = payment.request(
        event,
        current_trace_headers(),
        payments.gateway_name,
        utcnow(),
        window,
        payments.personal.seal_pay_link(payments.pay_url(event.dossier_code), event.dossier_code),
    )
    if events:
        store.save(tx, payment)
    for emitted in events:
        tx.emit(emitted)


async def on_dossier_closed(event: DossierWithdrawn | DossierRefused, tx: Tx, payments: Payments) -> None:
    """Routing ended the dossier: a fee not paid is cancelled (never opened); one paid is refunded."""
    assert tx.cause is not None
    reason = domain.WITHDRAWN if isinstance(event, DossierWithdrawn) else domain.REFUSED
    payment = await store.load(tx, event.dossier_code)
    if payment is None:  # the dossier's receipt has not reached us yet
        store.save(tx, domain.Payment.closed_first(event.dossier_code, tx.cause.commune, reason, utcnow()))
        return
    events = payment.close(reason, utcnow())
    store.save(tx, payment)
    for emitted in events:
        tx.emit(emitted)


async def on_official_on_dossier(event: DossierStepStarted | DossierAssigned, tx: Tx, payments: Payments) -> None:
    """Routing put an official on the dossier: they may record its fee paid at the counter."""
    assert tx.cause is not None
    payment = await store.load(tx, event.dossier_code) or domain.Payment.new(event.dossier_code, tx.cause.commune)
    admitted = payment.admit(event.holder)
    if isinstance(event, DossierAssigned):
        admitted = payment.admit(event.assigned_by) or admitted
    if admitted:
        store.save(tx, payment)


def create(
    settings: PaymentSettings | None = None, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> Service[Payments]:
    """The payment service; `gateway_transport` replaces the network to the gateways (tests)."""
    return Service(
        "payment",
        settings or PaymentSettings(),
        handlers={
            DossierReceived: on_dossier_received,
            DossierWithdrawn: on_dossier_closed,
            DossierRefused: on_dossier_closed,
            DossierStepStarted: on_official_on_dossier,
            DossierAssigned: on_official_on_dossier,
        },
        routers=routers,
        context=starter(gateway_transport),
        background=[payment_jobs],
        state=store.PAYMENTS,
    )
