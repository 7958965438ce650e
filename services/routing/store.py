"""Routing's collection: the workflow state of every dossier."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from services.runtime import Runtime, Tx

DOSSIERS = "dossiers"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[DOSSIERS].create_index([("status", 1), ("due_at", 1)])


async def update(tx: Tx, dossier_code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (creating the record if events arrive out of order); returns the new state."""
    return await tx.db[DOSSIERS].find_one_and_update(
        {"_id": dossier_code},
        {"$set": changes},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=tx.session,
    )
