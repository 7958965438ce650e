"""Routing's collections, through the runtime's document API only.

- `dossiers`: each dossier's processing state (`Dossier`, `_id` = dossier code).
- `officials`: officials with their unit, roles, fields, areas and open-dossier count.
- `workflows`: workflow templates, versioned (`_id` = `template@unit@version`).
- `audit`: the append-only log of every officer action, allowed or refused.
- `role_changes`: changes giving the leader or administrator role, waiting for a second administrator.
"""

from __future__ import annotations

from typing import Any

from services.runtime import Documents

from .audit import AUDIT
from .dossiers import DOSSIERS
from .officials import OFFICIALS
from .role_changes import ROLE_CHANGES
from .workflows import WORKFLOWS


async def create_indexes(documents: Documents) -> None:
    """The indexes routing's queries need (queues, the deadline sweep, rosters, trails)."""
    indexes: list[tuple[str, list[tuple[str, Any]]]] = [
        (DOSSIERS, [("holder_unit", 1), ("status", 1), ("deadline_at", 1)]),
        (DOSSIERS, [("alarm_at", 1)]),
        (WORKFLOWS, [("template", 1), ("unit", 1), ("version", -1)]),
        (OFFICIALS, [("unit", 1), ("roles", 1)]),
        (AUDIT, [("dossier", 1), ("_id", -1)]),
        (AUDIT, [("units", 1), ("_id", -1)]),
        (ROLE_CHANGES, [("units", 1), ("status", 1)]),
    ]
    for collection, fields in indexes:
        await documents.index(collection, fields)


__all__ = ["AUDIT", "DOSSIERS", "OFFICIALS", "ROLE_CHANGES", "WORKFLOWS", "create_indexes"]
