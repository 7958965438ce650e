"""Intake's collections: dossiers, receipt slips, and per-unit daily sequences."""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo import ReturnDocument, UpdateOne

from services.runtime import Runtime, Tx

DOSSIERS = "dossiers"
TRACKING = "tracking"  # each dossier's public status history, one document per dossier
SUBMISSIONS = "submissions"  # idempotency keys of submissions, with the dossier each created
RECEIPTS = "receipts"
SEQUENCES = "sequences"


async def create_indexes(runtime: Runtime) -> None:
    db = runtime.store.db
    await db[DOSSIERS].create_index("identity_hash")
    await db[RECEIPTS].create_index("dossier_code", unique=True)  # one receipt per dossier


async def next_sequence(tx: Tx, unit_code: str, day: date) -> int:
    """Next number of the unit's dossiers that day; inside the transaction, so gap-free."""
    counter = await tx.db[SEQUENCES].find_one_and_update(
        {"_id": f"{unit_code}:{day:%Y%m%d}"},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=tx.session,
    )
    return counter["value"]


async def save_dossier(tx: Tx, dossier: dict[str, Any], receipt: dict[str, Any]) -> None:
    await tx.db[DOSSIERS].insert_one(dossier, session=tx.session)
    await tx.db[RECEIPTS].insert_one(receipt, session=tx.session)
    history = {"_id": dossier["_id"], "steps": [{"event": "dossier.received", "at": dossier["received_at"]}]}
    await tx.db[TRACKING].insert_one(history, session=tx.session)


async def record_step(tx: Tx, dossier_code: str, event: str, at: Any) -> None:
    """Append a step to the dossier's public history (batch state: one write per batch)."""
    history = await tx.load(TRACKING, dossier_code) or {"_id": dossier_code, "steps": []}
    history["steps"].append({"event": event, "at": at})
    tx.save(TRACKING, history)


async def tracking(runtime: Runtime, dossier_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[TRACKING].find_one({"_id": dossier_code})


async def find_dossier(runtime: Runtime, dossier_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[DOSSIERS].find_one({"_id": dossier_code}, {"identity_hash": 0})


async def find_dossier_for_owner_check(runtime: Runtime, dossier_code: str) -> dict[str, Any] | None:
    """The dossier with what proves its owner (phone, identity hash) and what tracking shows."""
    return await runtime.store.db[DOSSIERS].find_one({"_id": dossier_code})


async def find_receipt(runtime: Runtime, dossier_code: str) -> dict[str, Any] | None:
    return await runtime.store.db[RECEIPTS].find_one({"dossier_code": dossier_code}, {"_id": 0})


PROCEDURES = "procedures"
CATALOGUE = "catalogue"  # one document: the version of the catalogue in PROCEDURES


async def seed_catalogue(runtime: Runtime, version: str, rows: list[dict[str, Any]]) -> bool:
    """Load a catalogue version into the store unless it is there already; True if loaded."""
    db = runtime.store.db
    current = await db[CATALOGUE].find_one({"_id": "current"})
    if current and current["version"] == version:
        return False

    async def replace(session: Any) -> None:
        await db[PROCEDURES].delete_many({}, session=session)
        await db[PROCEDURES].insert_many([{"_id": r["code"], **r} for r in rows], session=session)
        await db[CATALOGUE].replace_one({"_id": "current"}, {"version": version}, upsert=True, session=session)

    await runtime.store.transaction(replace)
    return True


async def catalogue_rows(runtime: Runtime) -> tuple[str, list[dict[str, Any]]]:
    db = runtime.store.db
    current = await db[CATALOGUE].find_one({"_id": "current"})
    rows = await db[PROCEDURES].find({}, {"_id": 0}).to_list()
    return (current or {}).get("version", ""), rows


async def remember_submission(tx: Tx, key: str, request_hash: str, dossier_code: str) -> None:
    """Record the idempotency key with the dossier; a second use of the key fails the transaction."""
    await tx.db[SUBMISSIONS].insert_one(
        {"_id": key, "request_hash": request_hash, "dossier_code": dossier_code}, session=tx.session
    )


async def find_submission(runtime: Runtime, key: str) -> dict[str, Any] | None:
    return await runtime.store.db[SUBMISSIONS].find_one({"_id": key})


async def change_status(
    tx: Tx,
    dossier_code: str,
    expected: tuple[str, ...],
    changes: dict[str, Any],
    conditions: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Apply `changes` if the dossier's status is one of `expected` and `conditions` hold; the dossier before, or None."""
    query = {"_id": dossier_code, "status": {"$in": list(expected)}, **(conditions or {})}
    return await tx.db[DOSSIERS].find_one_and_update(query, {"$set": changes}, session=tx.session)


async def move_due_date(tx: Tx, dossier_code: str, due_at: Any) -> None:
    await tx.db[RECEIPTS].update_one({"dossier_code": dossier_code}, {"$set": {"due_at": due_at}}, session=tx.session)


def mark_decided(tx: Tx, dossier_code: str) -> None:
    """Routing decided: the citizen can no longer withdraw it nor be asked for more."""
    tx.defer(DOSSIERS, UpdateOne({"_id": dossier_code, "status": "received"}, {"$set": {"status": "decided"}}))


def mark_waiting_for_supplement(tx: Tx, dossier_code: str, supplement: dict[str, Any]) -> None:
    """Routing sent the dossier back: the citizen may now resubmit against its code."""
    tx.defer(
        DOSSIERS,
        UpdateOne(
            {"_id": dossier_code, "status": "received"},
            {"$set": {"status": "waiting_for_supplement", "supplement": supplement}},
        ),
    )


def mark_refused(tx: Tx, dossier_code: str) -> None:
    tx.defer(
        DOSSIERS,
        UpdateOne(
            {"_id": dossier_code, "status": {"$in": ["received", "waiting_for_supplement"]}},
            {"$set": {"status": "refused"}},
        ),
    )


def promise_new_date(tx: Tx, dossier_code: str, new_due_at: Any) -> None:
    tx.defer(DOSSIERS, UpdateOne({"_id": dossier_code}, {"$set": {"new_due_at": new_due_at}}))


def mark_completed(tx: Tx, dossier_code: str) -> None:
    tx.defer(
        DOSSIERS,
        UpdateOne({"_id": dossier_code, "status": {"$ne": "withdrawn"}}, {"$set": {"status": "result_returned"}}),
    )
