"""Intake's collections, each keyed by what makes its documents unique:

- `dossiers`: the received dossier by its code (its receipt is read from it);
- `tracking`: each dossier's public history (`Timeline`) by its code;
- `submissions`: Idempotency-Keys of submissions, with the request's hash and the dossier code;
- `sequences`: per-unit daily counters behind the dossier codes;
- `catalogue`: the procedure catalogue's current version, one document;
- `limits`: owner look-ups per client and minute (expiring counters shared by every replica);
- `holdings`: what each owner holds in their e-data store, by kind of document (learned from
  digitisation's `result.archived`), so a new dossier takes it from there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.runtime import Runtime, Tx

from .catalogue import Catalogue
from .received import ReceivedDossier
from .submission import Holding
from .timeline import Timeline

DOSSIERS = "dossiers"
TRACKING = "tracking"
SUBMISSIONS = "submissions"
SEQUENCES = "sequences"
CATALOGUE = "catalogue"
CURRENT = "current"
HOLDINGS = "holdings"


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


async def holdings_of(runtime: Runtime[Any], owner: str, now: datetime) -> dict[str, Holding]:
    """The documents `owner` (an identity hash) holds and may still reuse at `now`, by kind."""
    found = await runtime.documents.find(HOLDINGS, {"owner": owner})
    held = (Holding(r["kind"], r["document_id"], r["sha256"], r.get("valid_until")) for r in found)
    return {h.kind: h for h in held if h.valid_until is None or h.valid_until > now}


async def hold(tx: Tx, owner: str, holding: Holding, archived_at: datetime) -> None:
    """The owner now holds `holding`: the newest document of its kind replaces an older one."""
    key = f"{owner}:{holding.kind}"
    current = await tx.load(HOLDINGS, key)
    if current is not None and current["archived_at"] >= archived_at:
        return
    tx.save(
        HOLDINGS,
        {
            "_id": key,
            "owner": owner,
            "kind": holding.kind,
            "document_id": holding.document_id,
            "sha256": holding.sha256,
            "valid_until": holding.valid_until,
            "archived_at": archived_at,
        },
    )
