"""Stats' collections: counters per commune and for the province, and each dossier's timeline."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from services.runtime import Runtime, Tx

COUNTERS = "counters"  # _id: "province" or a commune code
TIMELINES = "timelines"  # _id: dossier code
PROVINCE = "province"


# Stats only ever adds, never reads back within a batch: every write is deferred into
# one bulk write per collection per batch.


def add(tx: Tx, commune: str, increments: dict[str, int]) -> None:
    for key in (PROVINCE, commune):
        tx.defer(COUNTERS, UpdateOne({"_id": key}, {"$inc": increments}, upsert=True))


def record_step(tx: Tx, dossier_code: str, step: dict[str, Any]) -> None:
    tx.defer(
        TIMELINES,
        UpdateOne({"_id": dossier_code}, {"$push": {"steps": step}, "$set": {"status": step["event"]}}, upsert=True),
    )


async def counters(runtime: Runtime, key: str) -> dict[str, int] | None:
    return await runtime.store.db[COUNTERS].find_one({"_id": key}, {"_id": 0})


async def communes(runtime: Runtime) -> list[dict[str, Any]]:
    return await runtime.store.db[COUNTERS].find({"_id": {"$ne": PROVINCE}}).sort("_id", 1).to_list()


async def timeline(runtime: Runtime, dossier_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[TIMELINES].find_one({"_id": dossier_code})
