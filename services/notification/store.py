"""Notification's collection: one document per dossier with the citizen's contact
and the messages for it, keyed by template (so each is sent at most once)."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

DOSSIERS = "dossiers"


async def create_indexes(runtime: Runtime[Any]) -> None:
    await runtime.documents.index(DOSSIERS, [("messages.result_ready.sent_at", 1)])


async def get(tx: Tx, dossier_code: str) -> dict[str, Any]:
    return await tx.load(DOSSIERS, dossier_code) or {"_id": dossier_code, "contact": None, "messages": {}}


def put(tx: Tx, dossier: dict[str, Any]) -> None:
    tx.save(DOSSIERS, dossier)
