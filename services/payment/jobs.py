"""Payment's background jobs, one loop of rounds for as long as the service runs:

- open: each new payment's first order at the default gateway (INIT is idempotent by
  reference, so a second replica or a restart sending it again is harmless);
- expire: a fee not paid online by its deadline (`payment.expired`);
- query: an order opened 30 minutes to 3 days ago without a final notification is asked about
  (QUERY / querydr): a notification lost on the way is found this way;
- refund: money the fee did not need is paid back through its gateway (idempotent by refund id).

A gateway that is down delays its round, with backoff; it never loses a payment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from services.runtime import Runtime, Tx, utcnow
from services.runtime.retry import backoff

from . import domain, notices, store
from .context import Payments
from .gateways import GatewayRefused, GatewayUnavailable, Notice, Order

log = logging.getLogger(__name__)
BATCH = 100  # payments one round handles at most
Round = Callable[[Runtime[Payments], datetime], Awaitable[bool]]


async def payment_jobs(runtime: Runtime[Payments]) -> None:
    """Background job: every round, again and again; a round whose gateway is away backs off alone."""
    every = runtime.context.settings.open_every_s
    rounds: dict[str, Round] = {"open": open_due, "expire": expire_due, "query": query_due, "refund": refund_due}
    outages = dict.fromkeys(rounds, 0)
    resume = dict.fromkeys(rounds, 0.0)
    loop = asyncio.get_running_loop()
    while True:
        for name, work in rounds.items():
            if loop.time() < resume[name]:
                continue
            try:
                outages[name] = 0 if await work(runtime, utcnow()) else outages[name] + 1
            except Exception:
                outages[name] += 1
                log.exception("payment's %s round failed", name)
            resume[name] = loop.time() + (backoff(outages[name], every) if outages[name] else 0)
        await asyncio.sleep(every)


def description(payment: domain.Payment) -> str:
    """What the order is for, as gateways show it (ASCII: some strip anything else)."""
    return f"Thanh toan phi, le phi ho so {payment.dossier_code}"


async def open_due(runtime: Runtime[Payments], now: datetime | None = None) -> bool:
    """Open each new payment's first order; False if the gateway could not be reached."""
    now = now or utcnow()
    payments = runtime.context
    settings = payments.settings
    for payment in await store.due_for_opening(runtime, now, BATCH):
        if not payment.to_open or payment.reference is None or payment.expires_at is None:
            continue
        order = Order(
            payment.reference,
            payment.amount_vnd,
            description(payment),
            payment.expires_at,
            payments.pay_url(payment.dossier_code),
        )
        gateway = payments.gateways[payment.orders[0].gateway]
        try:
            page_url = await gateway.open(order)
        except GatewayUnavailable as failure:
            log.warning("payment gateway unavailable; opening later", extra={"fields": {"problem": str(failure)}})
            return False
        except GatewayRefused as failure:
            pause = timedelta(seconds=backoff(payment.open_attempts + 1, settings.open_retry_s))
            log.error(
                "payment gateway refused to open a payment; trying again later",
                extra={"fields": {"reference": payment.reference, "problem": str(failure)}},
            )
            await change(runtime, payment.dossier_code, partial(domain.Payment.opening_failed, at=now, pause=pause))
            continue
        query_after = timedelta(seconds=settings.query_after_s)
        reference = payment.reference
        if await change(
            runtime,
            payment.dossier_code,
            partial(
                domain.Payment.opened, reference=reference, page_url=page_url, at=utcnow(), query_after=query_after
            ),
        ):
            payments.opened.labels(runtime.name).inc()
    return True


async def expire_due(runtime: Runtime[Payments], now: datetime | None = None) -> bool:
    now = now or utcnow()
    for payment in await store.due_for_expiry(runtime, now, BATCH):
        await change(runtime, payment.dossier_code, partial(domain.Payment.expire, at=now))
    return True


async def query_due(runtime: Runtime[Payments], now: datetime | None = None) -> bool:
    """Ask the gateways about orders without a final word; a final answer is taken like a notification."""
    now = now or utcnow()
    payments = runtime.context
    settings = payments.settings
    until, every = timedelta(seconds=settings.query_until_s), timedelta(seconds=settings.query_every_s)
    for payment in await store.due_for_query(runtime, now, BATCH):
        for order in payment.orders:
            if order.state != "open" or order.next_query_at is None or order.next_query_at > now:
                continue
            assert order.opened_at is not None
            reference = order.reference
            if now - order.opened_at > until:  # too old to ask about: left to reconciliation
                stop = partial(domain.Payment.queried, reference=reference, at=now, again_after=None, asked=False)
                await change(runtime, payment.dossier_code, stop)
                continue
            try:
                notice = await payments.gateways[order.gateway].query(order.reference, order.opened_at)
            except GatewayUnavailable:
                return False
            except GatewayRefused as failure:  # e.g. the citizen never reached the gateway's page
                notice = Notice(
                    order.gateway, order.reference, payment.amount_vnd, "pending", "", code=str(failure)[:40]
                )
            if notice.state != "pending":
                await notices.take(runtime, notice)
                continue
            again = every if now + every - order.opened_at <= until else None
            await change(
                runtime,
                payment.dossier_code,
                partial(domain.Payment.queried, reference=reference, at=now, again_after=again),
            )
    return True


async def refund_due(runtime: Runtime[Payments], now: datetime | None = None) -> bool:
    """Pay back what is due; each refund has its own id, so asking twice refunds once."""
    now = now or utcnow()
    payments = runtime.context
    for payment in await store.due_for_refund(runtime, now, BATCH):
        for refund in payment.refunds:
            if refund.state != "due" or refund.next_at is None or refund.next_at > now:
                continue
            gateway = payments.gateways.get(refund.gateway)
            if gateway is None:
                continue
            paid = Notice(refund.gateway, refund.reference, refund.amount_vnd, "success", refund.transaction_id)
            refund_id = refund.refund_id
            try:
                refund_transaction = await gateway.refund(paid, refund.refund_id, refund.reason)
            except GatewayUnavailable:
                return False
            except GatewayRefused as failure:
                pause = timedelta(seconds=backoff(refund.attempts + 1, payments.settings.open_retry_s * 60))
                log.error(
                    "a refund was refused; trying again later",
                    extra={"fields": {"refund": refund_id, "problem": str(failure)}},
                )
                await change(
                    runtime,
                    payment.dossier_code,
                    partial(
                        domain.Payment.refund_failed, refund_id=refund_id, problem=str(failure), at=now, pause=pause
                    ),
                )
                continue
            await refunded(runtime, payment.dossier_code, refund_id, refund_transaction)
            payments.refunds.labels(runtime.name).inc()
    return True


async def refunded(runtime: Runtime[Payments], dossier_code: str, refund_id: str, refund_transaction: str) -> None:
    async def work(tx: Tx) -> None:
        payment = await store.load(tx, dossier_code)
        if payment is None:
            return
        events, entries = payment.refunded(refund_id, refund_transaction, utcnow())
        if events:
            store.save(tx, payment)
            store.record(tx, entries)
        for event in events:
            tx.emit(event, commune=payment.commune)

    await runtime.transact(work)


async def change(runtime: Runtime[Payments], dossier_code: str, act: Callable[[domain.Payment], object]) -> bool:
    """Load the payment, act on it, save it if it changed (and publish what it says); what `act` returned."""

    async def work(tx: Tx) -> bool:
        payment = await store.load(tx, dossier_code)
        if payment is None:
            return False
        outcome = act(payment)
        events = outcome if isinstance(outcome, list) else []
        if outcome:
            store.save(tx, payment)
        for event in events:
            tx.emit(event, commune=payment.commune)
        return bool(outcome)

    return await runtime.transact(work)
