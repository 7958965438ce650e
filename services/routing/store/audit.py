"""The audit log: who did what, when, from which state to which, allowed or not.

Append-only: service code only ever inserts (a deployment grants routing `insert` and
`find` on it, never `update` or `remove`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from motcua_contracts import new_event_id

from services.runtime import Documents, Tx, utcnow
from services.runtime.documents import Reader, Where

from ..domain import Official

AUDIT = "audit"
Entry = dict[str, Any]


def entry(
    who: Official | str,
    action: str,
    dossier: str | None,
    outcome: str,
    detail: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    filed_under: Iterable[str | None] = (),
    extra: dict[str, Any] | None = None,
) -> Entry:
    """One line of the log; `who` is an official, or the subject of a token that is none.

    It is filed under the official's unit and `filed_under` (the unit holding the dossier,
    the unit whose officials or workflows were changed), so each unit's leaders and
    administrators read what was done or attempted there. It keeps ids, roles and states,
    never what a citizen wrote or is."""
    official = who if isinstance(who, Official) else None
    unit = official.unit if official else None
    return {
        "_id": new_event_id(),  # sortable by time
        "at": utcnow(),
        "official": official.id if official else who,
        "roles": list(official.roles) if official else [],
        "unit": unit,
        "units": [u for u in dict.fromkeys([unit, *filed_under]) if u],
        "action": action,
        "dossier": dossier,
        "from": before,
        "to": after,
        "outcome": outcome,
        "detail": detail,
        **(extra or {}),
    }


def add(tx: Tx, line: Entry) -> None:
    """Record an allowed action with the change it made (same transaction)."""
    tx.add(AUDIT, line)


async def record(documents: Documents, line: Entry) -> None:
    """Record a refused attempt (nothing else is written)."""
    await documents.insert(AUDIT, [line])


async def page(reader: Reader, where: Where, limit: int, before: str | None = None) -> tuple[list[Entry], str | None]:
    """Up to `limit` entries, newest first, older than the entry `before` (a cursor: an entry's
    id); and the cursor of the next page, if there are older entries still."""
    if before is not None:
        where = {**where, "_id": {"$lt": before}}
    found = await reader.find(AUDIT, where, order=[("_id", -1)], limit=limit + 1)
    entries = found[:limit]
    return entries, entries[-1]["_id"] if len(found) > limit else None
