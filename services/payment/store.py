"""Payment's collection: one payment per dossier, its `_id` the dossier code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.runtime import Runtime, Tx

from .domain import PENDING, Payment

PAYMENTS = "payments"


async def create_indexes(runtime: Runtime[Any]) -> None:
    await runtime.documents.index(PAYMENTS, [("state", 1), ("next_open_at", 1)])


async def load(tx: Tx, dossier_code: str) -> Payment | None:
    document = await tx.load(PAYMENTS, dossier_code)
    return None if document is None else Payment.model_validate(document)


def save(tx: Tx, payment: Payment) -> None:
    tx.save(PAYMENTS, payment.model_dump(by_alias=True))


async def find(runtime: Runtime[Any], dossier_code: str) -> Payment | None:
    document = await runtime.documents.get(PAYMENTS, dossier_code)
    return None if document is None else Payment.model_validate(document)


async def due_for_opening(runtime: Runtime[Any], now: datetime, limit: int) -> list[Payment]:
    """Pending payments not opened at the gateway yet whose (next) attempt is due, oldest first."""
    documents = await runtime.documents.find(
        PAYMENTS,
        {"state": PENDING, "payment_url": None, "next_open_at": {"$lte": now}},
        order=[("next_open_at", 1)],
        limit=limit,
    )
    return [Payment.model_validate(document) for document in documents]
