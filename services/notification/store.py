"""Notification's collections: citizens' contacts and messages (one per dossier and template)."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

CONTACTS = "contacts"
MESSAGES = "messages"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[MESSAGES].create_index([("dossier_code", 1), ("template", 1)], unique=True)
    await runtime.store.db[MESSAGES].create_index("sent_at")


async def save_contact(tx: Tx, dossier_code: str, contact: dict[str, Any]) -> None:
    await tx.db[CONTACTS].update_one({"_id": dossier_code}, {"$set": contact}, upsert=True, session=tx.session)


async def contact(tx: Tx, dossier_code: str) -> dict[str, Any] | None:
    return await tx.db[CONTACTS].find_one({"_id": dossier_code}, session=tx.session)


async def queue_message(tx: Tx, message: dict[str, Any]) -> None:
    await tx.db[MESSAGES].update_one(
        {"_id": message["_id"]}, {"$setOnInsert": message}, upsert=True, session=tx.session
    )


async def unsent(tx: Tx, dossier_code: str) -> list[dict[str, Any]]:
    return await tx.db[MESSAGES].find({"dossier_code": dossier_code, "sent_at": None}, session=tx.session).to_list()


async def mark_sent(tx: Tx, message_id: str, changes: dict[str, Any]) -> None:
    await tx.db[MESSAGES].update_one({"_id": message_id}, {"$set": changes}, session=tx.session)
