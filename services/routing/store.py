"""Routing's collections.

- `dossiers`: each dossier's workflow state (one document per dossier, keyed by code).
- `workflows`: workflow templates, versioned; a unit's override is a version of its own.
- `officials`: officials with their unit, roles, fields, areas and open-dossier count.
- `audit`: the append-only log of every officer action, allowed or refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from motcua_contracts import new_event_id
from pymongo import ASCENDING, DESCENDING, InsertOne
from pymongo.errors import DuplicateKeyError

from services.runtime import Runtime, Tx, utcnow

DOSSIERS = "dossiers"
WORKFLOWS = "workflows"
OFFICIALS = "officials"
AUDIT = "audit"
ANY_UNIT = "*"  # the province-wide template a unit's override replaces


async def create_indexes(runtime: Runtime) -> None:
    db = runtime.store.db
    await db[DOSSIERS].create_index([("holder_unit", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)])
    await db[DOSSIERS].create_index([("alarm_at", ASCENDING)], sparse=True)
    await db[WORKFLOWS].create_index(
        [("template", ASCENDING), ("unit", ASCENDING), ("version", DESCENDING)], unique=True
    )
    await db[OFFICIALS].create_index([("unit", ASCENDING), ("roles", ASCENDING)])
    await db[AUDIT].create_index([("dossier", ASCENDING), ("at", ASCENDING)])
    await db[AUDIT].create_index([("unit", ASCENDING), ("at", ASCENDING)])


# --- dossiers ------------------------------------------------------------------------


async def get(tx: Tx, dossier_code: str) -> dict[str, Any]:
    """The dossier's state; a new one if its first event has not arrived yet (events come in any order)."""
    return await tx.load(DOSSIERS, dossier_code) or {"_id": dossier_code}


def put(tx: Tx, dossier: dict[str, Any]) -> None:
    tx.save(DOSSIERS, dossier)


# --- workflows -------------------------------------------------------------------------


async def seed_workflows(runtime: Runtime, path: Path) -> None:
    """Load the template file's province-wide templates as version 1 where none exists yet."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for template, body in data["templates"].items():
        try:
            await runtime.store.db[WORKFLOWS].insert_one(
                {
                    "_id": f"{template}@{ANY_UNIT}@1",
                    "template": template,
                    "unit": ANY_UNIT,
                    "version": 1,
                    "name": body["name"],
                    "steps": body["steps"],
                    "created_at": utcnow(),
                    "created_by": "seed",
                }
            )
        except DuplicateKeyError:
            pass


async def latest_workflow(db: Any, template: str, unit: str, session: Any = None) -> dict[str, Any] | None:
    """The newest version of `unit`'s override of `template`, else of the province-wide template."""
    for scope in (unit, ANY_UNIT):
        found = await db[WORKFLOWS].find_one(
            {"template": template, "unit": scope}, sort=[("version", DESCENDING)], session=session
        )
        if found:
            return found
    return None


class WorkflowCache:
    """Latest workflow versions, re-read after `ttl` seconds: an override reaches every
    replica within that time, without a redeploy; dossiers keep the version they started with."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self.entries: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}

    async def get(self, tx: Tx, template: str, unit: str) -> dict[str, Any] | None:
        key, now = (template, unit), time.monotonic()
        cached = self.entries.get(key)
        if cached is None or now - cached[0] > self.ttl:
            cached = (now, await latest_workflow(tx.db, template, unit, tx.session))
            self.entries[key] = cached
        return cached[1]

    def forget(self) -> None:
        self.entries.clear()


async def save_workflow_version(
    runtime: Runtime, template: str, unit: str, name: str, steps: list[dict[str, Any]], by: str
) -> dict[str, Any]:
    """A new version of `unit`'s override; concurrent saves get distinct versions."""
    db = runtime.store.db
    while True:
        latest = await db[WORKFLOWS].find_one({"template": template, "unit": unit}, sort=[("version", DESCENDING)])
        version = (latest or {}).get("version", 0) + 1
        document = {
            "_id": f"{template}@{unit}@{version}",
            "template": template,
            "unit": unit,
            "version": version,
            "name": name,
            "steps": steps,
            "created_at": utcnow(),
            "created_by": by,
        }
        try:
            await db[WORKFLOWS].insert_one(document)
            return document
        except DuplicateKeyError:
            continue


async def workflow_versions(runtime: Runtime, template: str, unit: str) -> list[dict[str, Any]]:
    cursor = runtime.store.db[WORKFLOWS].find({"template": template, "unit": {"$in": [unit, ANY_UNIT]}})
    return await cursor.sort([("unit", ASCENDING), ("version", ASCENDING)]).to_list(None)


# --- officials ---------------------------------------------------------------------------


async def seed_officials(runtime: Runtime, path: Path) -> None:
    """Officials from the seed file that are not on record yet (records edited since are kept)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for row in data["officials"]:
        record = {"_id": row["id"], **{k: v for k, v in row.items() if k != "id"}, "active": True, "open": 0}
        try:
            await runtime.store.db[OFFICIALS].insert_one(record)
        except DuplicateKeyError:
            pass


async def official(runtime: Runtime, official_id: str) -> dict[str, Any] | None:
    return await runtime.store.db[OFFICIALS].find_one({"_id": official_id})


async def candidates(tx: Tx, unit: str, role: str) -> list[dict[str, Any]]:
    """Active officials of `unit` with `role`, as this transaction sees them (open counts included)."""
    query = {"unit": unit, "roles": role, "active": True}
    ids = [row["_id"] async for row in tx.db[OFFICIALS].find(query, {"_id": 1}, session=tx.session)]
    found = [await tx.load(OFFICIALS, official_id) for official_id in sorted(ids)]
    return [row for row in found if row is not None]


async def count_open(tx: Tx, official_id: str | None, change: int) -> None:
    """Keep an official's workload (open dossiers held) as dossiers are assigned and released."""
    if official_id is None:
        return
    row = await tx.load(OFFICIALS, official_id)
    if row is not None:
        row["open"] = max(0, row.get("open", 0) + change)
        tx.save(OFFICIALS, row)


# --- audit -------------------------------------------------------------------------------


def audit_entry(
    who: dict[str, Any],
    action: str,
    dossier: dict[str, Any] | None,
    outcome: str,
    detail: str | None = None,
    to_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Who did what, when, from which state (and to which), allowed or not."""
    return {
        "_id": new_event_id(),
        "at": utcnow(),
        "official": who.get("_id"),
        "roles": who.get("roles", []),
        "unit": who.get("unit"),
        "action": action,
        "dossier": (dossier or {}).get("_id"),
        "from": state_of(dossier),
        "to": to_state,
        "outcome": outcome,
        "detail": detail,
    }


def state_of(dossier: dict[str, Any] | None) -> dict[str, Any] | None:
    if not dossier:
        return None
    steps = (dossier.get("flow") or {}).get("steps") or []
    index = dossier.get("step")
    return {
        "status": dossier.get("status"),
        "step": steps[index]["id"] if index is not None and index < len(steps) else None,
        "unit": dossier.get("holder_unit"),
        "holder": dossier.get("holder"),
    }


def audit_in(tx: Tx, entry: dict[str, Any]) -> None:
    """Record an allowed action with the state change it made (same transaction)."""
    tx.defer(AUDIT, InsertOne(entry))


async def audit_now(runtime: Runtime, entry: dict[str, Any]) -> None:
    """Record a refused attempt (nothing else is written)."""
    await runtime.store.db[AUDIT].insert_one(entry)


async def audit_trail(runtime: Runtime, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    return await runtime.store.db[AUDIT].find(query).sort("at", ASCENDING).limit(limit).to_list(None)
