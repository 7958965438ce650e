"""Routing's collection: the workflow state of every dossier (one document per dossier)."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

DOSSIERS = "dossiers"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[DOSSIERS].create_index([("status", 1), ("due_at", 1)])


async def get(tx: Tx, dossier_code: str) -> dict[str, Any]:
    """The dossier's state; a new one if its first event has not arrived yet (events come in any order)."""
    return await tx.load(DOSSIERS, dossier_code) or {"_id": dossier_code}


def put(tx: Tx, dossier: dict[str, Any]) -> None:
    tx.save(DOSSIERS, dossier)
