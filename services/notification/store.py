"""Notification's collections:

- `dossiers`: per dossier, the citizen's contact (opened from `dossier.received`), what the
  messages need to say (unit, procedure, due date) and the milestones to tell, kept until the
  contact is known;
- `messages`: one per (recipient, milestone, channel), its whole life (messages.py);
- `preferences`: each citizen's channels and quiet hours, keyed by a keyed hash of their phone;
- `officials`: the roster as routing announces it (`official.updated`), contacts opened;
- `late`: each unit's overdue dossiers, for the leaders' daily digest;
- `surveys`, `complaints`: satisfaction answers (one per dossier) and complaints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.runtime import Runtime, Tx

from .messages import Message

DOSSIERS = "dossiers"
MESSAGES = "messages"
PREFERENCES = "preferences"
OFFICIALS = "officials"
LATE = "late"
SURVEYS = "surveys"
COMPLAINTS = "complaints"
DIGESTS = "digests"  # the days whose digests are queued


async def create_indexes(runtime: Runtime[Any]) -> None:
    documents = runtime.documents
    await documents.index(MESSAGES, [("state", 1), ("next_at", 1)])
    await documents.index(MESSAGES, [("state", 1), ("lease_until", 1)])
    await documents.index(MESSAGES, [("subject", 1)])
    await documents.index(MESSAGES, [("provider_id", 1)])
    await documents.index(OFFICIALS, [("unit", 1)])
    await documents.index(LATE, [("unit", 1)])
    await documents.index(COMPLAINTS, [("state", 1), ("remind_at", 1)])
    await documents.index(COMPLAINTS, [("unit", 1), ("state", 1)])


async def dossier(tx: Tx, dossier_code: str) -> dict[str, Any]:
    document = await tx.load(DOSSIERS, dossier_code) or {"_id": dossier_code, "contact": None}
    document.setdefault("milestones", {})  # records kept before milestones and facts were
    document.setdefault("facts", {})
    return document


def put_dossier(tx: Tx, document: dict[str, Any]) -> None:
    tx.save(DOSSIERS, document)


async def message(tx: Tx, message_id: str) -> Message | None:
    document = await tx.load(MESSAGES, message_id)
    return None if document is None else Message.model_validate(document)


def put_message(tx: Tx, item: Message) -> None:
    tx.save(MESSAGES, item.document())


async def due_messages(runtime: Runtime[Any], now: datetime, limit: int) -> list[Message]:
    """Messages to send now: queued and due, or claimed by a sender whose lease ran out."""
    documents = runtime.documents
    queued = await documents.find(
        MESSAGES, {"state": "queued", "next_at": {"$lte": now}}, order=[("next_at", 1)], limit=limit
    )
    stale = await documents.find(
        MESSAGES, {"state": "sending", "lease_until": {"$lte": now}}, order=[("lease_until", 1)], limit=limit
    )
    return [Message.model_validate(document) for document in [*stale, *queued][:limit]]


async def find_messages(runtime: Runtime[Any], where: dict[str, Any], limit: int = 200) -> list[Message]:
    found = await runtime.documents.find(MESSAGES, where, order=[("created_at", 1)], limit=limit)
    return [Message.model_validate(document) for document in found]


async def officials_of(tx: Tx, unit: str) -> list[dict[str, Any]]:
    return await tx.find(OFFICIALS, {"unit": unit, "active": True}, order=[("_id", 1)])
