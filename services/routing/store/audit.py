"""The audit log: who did what, when, from which state to which, allowed or not.

Append-only: service code only ever inserts (a deployment grants routing `insert` and
`find` on it, never `update` or `remove`).
"""

from __future__ import annotations

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
) -> Entry:
    """One line of the log; `who` is an official, or the subject of a token that is none."""
    official = who if isinstance(who, Official) else None
    return {
        "_id": new_event_id(),  # sortable by time
        "at": utcnow(),
        "official": official.id if official else who,
        "roles": list(official.roles) if official else [],
        "unit": official.unit if official else None,
        "action": action,
        "dossier": dossier,
        "from": before,
        "to": after,
        "outcome": outcome,
        "detail": detail,
    }


def add(tx: Tx, line: Entry) -> None:
    """Record an allowed action with the change it made (same transaction)."""
    tx.add(AUDIT, line)


async def record(documents: Documents, line: Entry) -> None:
    """Record a refused attempt (nothing else is written)."""
    await documents.insert(AUDIT, [line])


async def trail(reader: Reader, where: Where, limit: int) -> list[Entry]:
    return await reader.find(AUDIT, where, order=[("at", 1), ("_id", 1)], limit=limit)
