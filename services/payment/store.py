"""Payment's collection: one payment record per dossier (its _id is the dossier code)."""

from __future__ import annotations

from typing import Any

from pymongo import InsertOne

from services.runtime import Runtime, Tx

PAYMENTS = "payments"
PENDING, PAID, NOT_REQUIRED = "pending", "paid", "not_required"


async def create_indexes(runtime: Runtime) -> None:
    db = runtime.store.db
    await db[PAYMENTS].create_index("reference", unique=True, sparse=True)
    await db[PAYMENTS].create_index("state")


def open_payment(tx: Tx, record: dict[str, Any]) -> None:
    tx.defer(PAYMENTS, InsertOne(record))


async def find_by_reference(runtime: Runtime, reference: str) -> dict[str, Any] | None:
    return await runtime.store.db[PAYMENTS].find_one({"reference": reference})


async def mark_paid(tx: Tx, reference: str, update: dict[str, Any]) -> bool:
    """Pending → paid, once; False if it was not pending any more."""
    result = await tx.db[PAYMENTS].update_one(
        {"reference": reference, "state": PENDING}, {"$set": {"state": PAID, **update}}, session=tx.session
    )
    return result.modified_count == 1


async def pending(runtime: Runtime, limit: int = 200) -> list[dict[str, Any]]:
    return await runtime.store.db[PAYMENTS].find({"state": PENDING}).limit(limit).to_list()


async def record_extra_payment(tx: Tx, reference: str, transaction: dict[str, Any]) -> bool:
    """Keep a second, different successful transaction for an already-paid fee (to refund).

    Returns False when `transaction` is the one that paid it (a repeated callback).
    """
    result = await tx.db[PAYMENTS].update_one(
        {"reference": reference, "transaction_id": {"$ne": transaction["transaction_id"]}},
        {"$addToSet": {"extra_transactions": transaction}},
        session=tx.session,
    )
    return result.matched_count == 1
