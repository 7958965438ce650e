"""Signing's collection: one signature record per result code."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

SIGNATURES = "signatures"


async def create_indexes(runtime: Runtime[Any]) -> None:
    await runtime.documents.index(SIGNATURES, [("dossier_code", 1)])


def save_signature(tx: Tx, record: dict[str, Any]) -> None:
    tx.add(SIGNATURES, record)


async def find(runtime: Runtime[Any], result_code: str) -> dict[str, Any] | None:
    return await runtime.documents.get(SIGNATURES, result_code)
