"""Signing's collection: one signature record per result code."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

SIGNATURES = "signatures"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[SIGNATURES].create_index("dossier_code")


async def save_signature(tx: Tx, record: dict[str, Any]) -> None:
    await tx.db[SIGNATURES].insert_one(record, session=tx.session)


async def find(runtime: Runtime, result_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[SIGNATURES].find_one({"_id": result_code})
