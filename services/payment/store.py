"""Payment's collections: one payment per dossier (`_id` the dossier code), the ledger (one
immutable entry per movement of money), the receipts' number series, and the reconciliations."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from services.runtime import Runtime, Tx
from services.runtime.clock import LOCAL_TZ, local

from .domain import PENDING, Payment
from .ledger import LEDGER, LedgerEntry

PAYMENTS = "payments"
RECEIPT_NUMBERS = "receipt_numbers"
RECONCILIATIONS = "reconciliations"


async def create_indexes(runtime: Runtime[Any]) -> None:
    documents = runtime.documents
    await documents.index(PAYMENTS, [("state", 1), ("next_open_at", 1)])
    await documents.index(PAYMENTS, [("state", 1), ("expires_at", 1)])
    await documents.index(PAYMENTS, [("next_query_at", 1)])
    await documents.index(PAYMENTS, [("next_refund_at", 1)])
    await documents.index(LEDGER, [("gateway", 1), ("at", 1)])


async def load(tx: Tx, dossier_code: str) -> Payment | None:
    document = await tx.load(PAYMENTS, dossier_code)
    return None if document is None else Payment.model_validate(document)


def save(tx: Tx, payment: Payment) -> None:
    tx.save(PAYMENTS, payment.model_dump(by_alias=True))


def record(tx: Tx, entries: list[LedgerEntry]) -> None:
    """Ledger entries, inserted with the payment's change (an entry already there stays as it is)."""
    for entry in entries:
        tx.add(LEDGER, entry.document())


async def next_receipt_number(tx: Tx, series_prefix: str, unit: str, at: datetime) -> str:
    """The next number of the unit's receipt series for `at`'s year, gap-free (inside the transaction)."""
    series = f"{series_prefix}{local(at):%y}E"
    number = await tx.increment(RECEIPT_NUMBERS, f"{unit}:{series}")
    return f"{series}-{number:07d}"


async def find(runtime: Runtime[Any], dossier_code: str) -> Payment | None:
    document = await runtime.documents.get(PAYMENTS, dossier_code)
    return None if document is None else Payment.model_validate(document)


async def _due(runtime: Runtime[Any], where: dict[str, Any], order: str, limit: int) -> list[Payment]:
    documents = await runtime.documents.find(PAYMENTS, where, order=[(order, 1)], limit=limit)
    return [Payment.model_validate(document) for document in documents]


async def due_for_opening(runtime: Runtime[Any], now: datetime, limit: int) -> list[Payment]:
    """Pending payments whose first order is still to be opened and whose (next) attempt is due."""
    return await _due(runtime, {"state": PENDING, "next_open_at": {"$lte": now}}, "next_open_at", limit)


async def due_for_expiry(runtime: Runtime[Any], now: datetime, limit: int) -> list[Payment]:
    return await _due(runtime, {"state": PENDING, "expires_at": {"$lte": now}}, "expires_at", limit)


async def due_for_query(runtime: Runtime[Any], now: datetime, limit: int) -> list[Payment]:
    return await _due(runtime, {"next_query_at": {"$lte": now}}, "next_query_at", limit)


async def due_for_refund(runtime: Runtime[Any], now: datetime, limit: int) -> list[Payment]:
    return await _due(runtime, {"next_refund_at": {"$lte": now}}, "next_refund_at", limit)


async def ledger_of_day(runtime: Runtime[Any], gateway: str, day: date, margin: timedelta) -> list[LedgerEntry]:
    """The gateway's entries of `day` (Vietnam time), and those within `margin` of its ends."""
    start = datetime.combine(day, datetime.min.time(), LOCAL_TZ) - margin
    end = start + timedelta(days=1) + 2 * margin
    documents = await runtime.documents.find(LEDGER, {"gateway": gateway, "at": {"$gte": start, "$lt": end}})
    return [LedgerEntry.model_validate(document) for document in documents]


async def ledger_of(runtime: Runtime[Any], dossier_code: str) -> list[LedgerEntry]:
    documents = await runtime.documents.find(LEDGER, {"dossier_code": dossier_code}, order=[("at", 1)])
    return [LedgerEntry.model_validate(document) for document in documents]
