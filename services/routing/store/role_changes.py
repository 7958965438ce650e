"""Role changes waiting for a second administrator (`_id` = a time-sortable id)."""

from __future__ import annotations

from motcua_contracts import new_event_id

from services.runtime import Tx
from services.runtime.documents import Reader

from ..domain import RoleChange

ROLE_CHANGES = "role_changes"


def new_id() -> str:
    return new_event_id()


def add(tx: Tx, change: RoleChange) -> None:
    tx.add(ROLE_CHANGES, change.model_dump(by_alias=True))


def save(tx: Tx, change: RoleChange) -> None:
    tx.save(ROLE_CHANGES, change.model_dump(by_alias=True))


async def load(tx: Tx, change_id: str) -> RoleChange | None:
    document = await tx.load(ROLE_CHANGES, change_id)
    return RoleChange.model_validate(document) if document is not None else None


async def pending(reader: Reader, unit: str) -> list[RoleChange]:
    """The unit's changes still waiting for confirmation, oldest first."""
    found = await reader.find(ROLE_CHANGES, {"units": unit, "status": "pending"}, order=[("_id", 1)])
    return [RoleChange.model_validate(document) for document in found]
