"""Intake's collections, each keyed by what makes its documents unique:

- `dossiers`: the received dossier by its code (its receipt is read from it);
- `tracking`: each dossier's public history (`Timeline`) by its code;
- `submissions`: Idempotency-Keys of submissions, with the request's hash and the dossier code;
- `sequences`: per-unit daily counters behind the dossier codes;
- `catalogue`: the procedure catalogue's current version, one document;
- `limits`: owner look-ups per client and minute (expiring counters shared by every replica).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.runtime import Runtime, Tx

from .catalogue import Catalogue
from .received import ReceivedDossier
from .timeline import Timeline

DOSSIERS = "dossiers"
TRACKING = "tracking"
SUBMISSIONS = "submissions"
SEQUENCES = "sequences"
CATALOGUE = "catalogue"
CURRENT = "current"


async def seed_catalogue(runtime: Runtime[Any], catalogue: Catalogue) -> bool:
    """Store `catalogue` unless the store holds that version already; True if stored."""
    current = await runtime.documents.get(CATALOGUE, CURRENT)
    if current is not None and current["version"] == catalogue.version:
        return False
    # one document: replicas switch versions all at once, never see half a catalogue
    await runtime.documents.put(
        CATALOGUE, [{"_id": CURRENT, "version": catalogue.version, "procedures": catalogue.rows()}]
    )
    return True


async def stored_catalogue(runtime: Runtime[Any]) -> Catalogue:
    current = await runtime.documents.get(CATALOGUE, CURRENT)
    if current is None:
        raise LookupError("no procedure catalogue in the store")
    return Catalogue.from_rows(current["version"], current["procedures"])


async def next_sequence(tx: Tx, unit_code: str, day: date) -> int:
    """Next number of the unit's dossiers that day; inside the transaction, so gap-free."""
    return await tx.increment(SEQUENCES, f"{unit_code}:{day:%Y%m%d}")


async def claim_idempotency_key(tx: Tx, key: str, request_hash: str, dossier_code: str) -> None:
    """Record the key with the dossier it created; `Duplicate` if another submission holds it."""
    await tx.insert_now(SUBMISSIONS, {"_id": key, "request_hash": request_hash, "dossier_code": dossier_code})


async def find_submission(runtime: Runtime[Any], key: str) -> dict[str, Any] | None:
    return await runtime.documents.get(SUBMISSIONS, key)


def add_dossier(tx: Tx, dossier: ReceivedDossier, timeline: Timeline) -> None:
    tx.add(DOSSIERS, dossier.document())
    tx.save(TRACKING, timeline.document())


async def find_dossier(runtime: Runtime[Any], dossier_code: str) -> ReceivedDossier | None:
    found = await runtime.documents.get(DOSSIERS, dossier_code)
    return None if found is None else ReceivedDossier.from_document(found)


async def load_timeline(tx: Tx, dossier_code: str) -> Timeline:
    """The dossier's timeline as this transaction sees it (an empty one if intake never saw the dossier)."""
    found = await tx.load(TRACKING, dossier_code)
    return Timeline.model_validate(found) if found else Timeline(_id=dossier_code)


def save_timeline(tx: Tx, timeline: Timeline) -> None:
    tx.save(TRACKING, timeline.document())


async def find_timeline(runtime: Runtime[Any], dossier_code: str) -> Timeline | None:
    found = await runtime.documents.get(TRACKING, dossier_code)
    return None if found is None else Timeline.model_validate(found)
