"""Taking a gateway's verified notice (its notification, or the answer to our query): the one
place where a transaction's outcome changes a payment, writes the ledger and issues the receipt."""

from __future__ import annotations

import logging
from typing import Any

from services.runtime import Runtime, Tx, utcnow

from . import domain, store
from .context import Payments
from .gateways import Notice

log = logging.getLogger(__name__)


async def take(runtime: Runtime[Payments], notice: Notice) -> str:
    """What the notice did (domain's results); UNKNOWN if no order of ours has its reference."""
    code = domain.dossier_code_of(notice.reference)
    if code is None:
        return domain.UNKNOWN
    payments = runtime.context

    async def work(tx: Tx) -> str:
        payment = await store.load(tx, code)
        if payment is None:
            return domain.UNKNOWN
        now = utcnow()
        result, entries = payment.take(notice, now)
        if result == domain.CONFIRMED:
            await issue_receipt(tx, payments, payment)
        if result in domain.CHANGED:
            store.save(tx, payment)
        store.record(tx, entries)
        return result

    result = await runtime.transact(work)
    facts: dict[str, Any] = {
        "reference": notice.reference,
        "transaction": notice.transaction_id,
        "gateway": notice.gateway,
    }
    if result == domain.AMOUNT_FLAGGED:
        log.error("a notice for another amount than the fee; flagged for follow-up", extra={"fields": facts})
    elif result == domain.RECORDED_FOR_REFUND:
        log.warning("money the fee did not need; a refund is due", extra={"fields": facts})
    payments.notices.labels(runtime.name, result).inc()
    return result


async def issue_receipt(tx: Tx, payments: Payments, payment: domain.Payment) -> None:
    """Number the captured fee's electronic receipt and publish `payment.completed` (in `tx`)."""
    assert payment.captured is not None
    number = await store.next_receipt_number(
        tx, payments.settings.receipt_series_prefix, payment.commune, payment.captured.paid_at
    )
    completed, entry = payment.issue_receipt(number)
    store.record(tx, [entry] if entry else [])
    tx.emit(completed, commune=payment.commune)
