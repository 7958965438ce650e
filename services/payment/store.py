"""Payment's collection: one payment record per dossier (its _id is the dossier code)."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

PAYMENTS = "payments"
PENDING, PAID, NOT_REQUIRED = "pending", "paid", "not_required"


async def create_indexes(runtime: Runtime) -> None:
    db = runtime.store.db
    await db[PAYMENTS].create_index("reference", unique=True, sparse=True)
    await db[PAYMENTS].create_index("state")


async def open_payment(tx: Tx, record: dict[str, Any]) -> None:
    await tx.db[PAYMENTS].insert_one(record, session=tx.session)


async def find_by_reference(runtime: Runtime, reference: str, tx: Tx | None = None) -> dict[str, Any] | None:
    session = tx.session if tx else None
    return await runtime.store.db[PAYMENTS].find_one({"reference": reference}, session=session)


async def mark_paid(tx: Tx, reference: str, update: dict[str, Any]) -> bool:
    """Pending → paid, once; False if it was not pending any more."""
    result = await tx.db[PAYMENTS].update_one(
        {"reference": reference, "state": PENDING}, {"$set": {"state": PAID, **update}}, session=tx.session
    )
    return result.modified_count == 1


async def pending(runtime: Runtime, limit: int = 200) -> list[dict[str, Any]]:
    return await runtime.store.db[PAYMENTS].find({"state": PENDING}).limit(limit).to_list()
