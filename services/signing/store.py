"""Signing's collections: one record per result (awaiting its leader's signature, then signed,
with the signed PDF), and the audit of signing requests."""

from __future__ import annotations

from typing import Any

from motcua_contracts import new_event_id

from services.runtime import Runtime, Tx, utcnow
from services.runtime.documents import Documents

RESULTS = "results"
AUDIT = "audit"

AWAITING = "awaiting_signature"
SIGNED = "signed"


async def create_indexes(runtime: Runtime[Any]) -> None:
    await runtime.documents.index(RESULTS, [("dossier_code", 1)])
    await runtime.documents.index(RESULTS, [("approver_id", 1), ("state", 1)])
    await runtime.documents.index(AUDIT, [("official", 1), ("at", -1)])


def add_result(tx: Tx, record: dict[str, Any]) -> None:
    tx.add(RESULTS, record)


async def find(runtime: Runtime[Any], result_code: str) -> dict[str, Any] | None:
    return await runtime.documents.get(RESULTS, result_code)


async def find_many(runtime: Runtime[Any], result_codes: list[str]) -> dict[str, dict[str, Any]]:
    return await runtime.documents.get_many(RESULTS, result_codes)


async def awaiting(runtime: Runtime[Any], official: str, limit: int) -> list[dict[str, Any]]:
    """The results waiting for `official`'s signature, oldest approval first."""
    return await runtime.documents.find(
        RESULTS, {"approver_id": official, "state": AWAITING}, order=[("approved_at", 1)], limit=limit
    )


async def audit(
    documents: Documents, official: str, outcome: str, results: list[str], detail: str | None = None
) -> None:
    """One line per signing request: who, which results, signed or refused and why."""
    line = {
        "_id": new_event_id(),
        "at": utcnow(),
        "official": official,
        "action": "sign",
        "results": results,
        "outcome": outcome,
        "detail": detail,
    }
    await documents.insert(AUDIT, [line])


async def audit_of(runtime: Runtime[Any], official: str, limit: int = 100) -> list[dict[str, Any]]:
    return await runtime.documents.find(AUDIT, {"official": official}, order=[("at", -1)], limit=limit)
