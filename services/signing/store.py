"""Signing's collection: one signature record per result code."""

from __future__ import annotations

from typing import Any

from pymongo import InsertOne

from services.runtime import Runtime, Tx

SIGNATURES = "signatures"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[SIGNATURES].create_index("dossier_code")


def save_signature(tx: Tx, record: dict[str, Any]) -> None:
    tx.defer(SIGNATURES, InsertOne(record))


async def find(runtime: Runtime, result_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[SIGNATURES].find_one({"_id": result_code})
