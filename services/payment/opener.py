"""Opening payments at the gateway (INIT): a background job sends each pending payment to the
gateway and keeps the page where the citizen pays.

INIT is idempotent at the gateway by reference, so sending a payment again after a crash (or
from a second replica) is harmless. A gateway that is down or refuses delays the opening,
with backoff; it never loses a payment: the payment stays pending until it is opened.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial

import httpx
from pydantic import ValidationError

from services.runtime import Runtime, Tx, utcnow
from services.runtime.retry import backoff

from . import store
from .context import Payments
from .domain import Payment
from .gateway_protocol import CURRENCY, SUCCESS, InitRequest, InitResponse, gateway_time

log = logging.getLogger(__name__)
OPEN_BATCH = 100  # payments one round sends at most


class GatewayRefused(Exception):
    """The gateway answered, but opened no transaction."""


class GatewayUnavailable(Exception):
    """The gateway could not be reached or failed (a 5xx answer)."""


async def open_payments(runtime: Runtime[Payments]) -> None:
    """Background job: open due payments at the gateway, for as long as the service runs."""
    every = runtime.context.settings.open_every_s
    outages = 0
    while True:
        try:
            outages = 0 if await open_due(runtime) else outages + 1
        except Exception:
            outages += 1
            log.exception("opening payments at the gateway failed")
        await asyncio.sleep(backoff(outages, every) if outages else every)


async def open_due(runtime: Runtime[Payments], now: datetime | None = None) -> bool:
    """One round: send each payment due for opening to the gateway (as of `now`).

    Returns False if the gateway could not be reached: the round stops there and the job backs off.
    A payment the gateway refuses is tried again after its own backoff; the others go on.
    """
    now = now or utcnow()
    payments = runtime.context
    for payment in await store.due_for_opening(runtime, now, OPEN_BATCH):
        try:
            payment_url = await request_opening(payments, payment)
        except GatewayUnavailable as failure:
            log.warning("payment gateway unavailable; opening later", extra={"fields": {"problem": str(failure)}})
            return False
        except GatewayRefused as failure:
            pause = timedelta(seconds=backoff(payment.open_attempts + 1, payments.settings.open_retry_s))
            log.error(
                "payment gateway refused to open a payment; trying again later",
                extra={"fields": {"reference": payment.reference, "problem": str(failure)}},
            )
            await runtime.transact(partial(_postpone, dossier_code=payment.dossier_code, now=now, pause=pause))
            continue
        if await runtime.transact(partial(_opened, dossier_code=payment.dossier_code, payment_url=payment_url)):
            payments.opened.labels(runtime.name).inc()
    return True


async def request_opening(payments: Payments, payment: Payment) -> str:
    """INIT at the gateway; the page where the citizen pays."""
    request = InitRequest.signed(
        payments.secret,
        partner_code=payments.settings.gateway_partner_code,
        reference=payment.reference,
        amount_vnd=payment.amount_vnd,
        currency=CURRENCY,
        time=gateway_time(utcnow()),
    )
    try:
        response = await payments.gateway.post("/init", json=request.model_dump())
    except httpx.TransportError as error:
        raise GatewayUnavailable(f"gateway unreachable: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise GatewayUnavailable(f"gateway answered {response.status_code}")
    try:
        answer = InitResponse.model_validate_json(response.content)
    except ValidationError:
        raise GatewayRefused(f"gateway answered {response.status_code} without an INIT answer") from None
    if answer.error_code != SUCCESS or not answer.payment_url:
        raise GatewayRefused(f"gateway error {answer.error_code}: {answer.message}")
    return answer.payment_url


async def _opened(tx: Tx, dossier_code: str, payment_url: str) -> bool:
    payment = await store.load(tx, dossier_code)
    if payment is None or not payment.opened(payment_url, utcnow()):
        return False  # withdrawn meanwhile: a payment made anyway is recorded for refund
    store.save(tx, payment)
    return True


async def _postpone(tx: Tx, dossier_code: str, now: datetime, pause: timedelta) -> None:
    payment = await store.load(tx, dossier_code)
    if payment is not None and payment.opening_failed(now, pause):
        store.save(tx, payment)
