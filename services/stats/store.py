"""Stats' collection: counters per commune and for the province."""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

COUNTERS = "counters"  # _id: "province" or a commune code
PROVINCE = "province"


async def add(tx: Tx, commune: str, increments: dict[str, int]) -> None:
    """Add to the province's and the commune's counters (one read and one write each per batch)."""
    for key in (PROVINCE, commune):
        counters = await tx.load(COUNTERS, key) or {"_id": key}
        for name, value in increments.items():
            counters[name] = counters.get(name, 0) + value
        tx.save(COUNTERS, counters)


async def counters(runtime: Runtime[Any], key: str) -> dict[str, int] | None:
    found = await runtime.documents.get(COUNTERS, key)
    return None if found is None else {k: v for k, v in found.items() if k != "_id"}


async def communes(runtime: Runtime[Any]) -> list[dict[str, Any]]:
    return await runtime.documents.find(COUNTERS, {"_id": {"$ne": PROVINCE}}, order=[("_id", 1)])
