"""Dossiers: routing's aggregate, one document per dossier keyed by its code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.runtime import Tx
from services.runtime.documents import Reader, Where

from ..domain import Dossier

DOSSIERS = "dossiers"


async def load(tx: Tx, code: str) -> Dossier | None:
    """The dossier as this transaction sees it, if routing knows it."""
    document = await tx.load(DOSSIERS, code)
    return Dossier.model_validate(document) if document is not None else None


async def load_or_new(tx: Tx, code: str) -> Dossier:
    """The dossier, or a new one known only by its code (events come in any order)."""
    return await load(tx, code) or Dossier(code=code)


def save(tx: Tx, dossier: Dossier) -> None:
    tx.save(DOSSIERS, dump(dossier))


def dump(dossier: Dossier) -> dict[str, Any]:
    return dossier.model_dump(by_alias=True)


async def get(reader: Reader, code: str) -> Dossier | None:
    """The dossier as last committed (reads outside a transaction)."""
    document = await reader.get(DOSSIERS, code)
    return Dossier.model_validate(document) if document is not None else None


async def find(reader: Reader, where: Where, limit: int) -> list[Dossier]:
    """Dossiers matching `where`, the date promised to the citizen soonest first."""
    found = await reader.find(DOSSIERS, where, order=[("deadline_at", 1), ("_id", 1)], limit=limit)
    return [Dossier.model_validate(document) for document in found]


async def with_alarms_due(reader: Reader, now: datetime, limit: int) -> list[str]:
    """Codes of dossiers the deadline watcher must look at by `now`."""
    found = await reader.find(DOSSIERS, {"alarm_at": {"$lte": now}}, order=[("alarm_at", 1)], limit=limit)
    return [document["_id"] for document in found]
