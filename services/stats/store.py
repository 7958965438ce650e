"""Stats' read models, each kept in generations so that one can be rebuilt beside the one served.

A read model (`ReadModel`) names its collections by generation (`days.3`). Its control
document in `models` says which generation is served (`live`) and which, if any, is being
filled from the topics' history (`building`); live events go to both, the replay
(replay.py) fills the one being built, and when it has caught up it becomes the one
served and the old generation is dropped. Events apply idempotently (facts.py), so the
live path and the replay may overlap.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from motcua_contracts import Event

from services.runtime import Tx, utcnow
from services.runtime.documents import Documents, Reader

from . import facts as dossier_facts

MODELS = "models"  # one control document per read model, by name


class ReadModel(Protocol):
    name: str
    version: int  # raise it when what the model keeps changes: the model is rebuilt from history
    events: tuple[type[Event], ...]  # what it reads

    def collections(self, generation: int) -> tuple[str, ...]: ...

    async def prepare(self, documents: Documents, generation: int) -> None:
        """Create the indexes its queries need."""

    async def project(self, tx: Tx, generation: int, events: Sequence[Event]) -> None:
        """Apply `events` (any order, any repeats) to `generation`."""

    def fold(self, partial: dict[str, Any], events: Sequence[Event]) -> None:
        """Accumulate `events` in memory, by key (a replay's work between two checkpoints)."""

    async def absorb(self, tx: Tx, generation: int, partial: dict[str, Any]) -> None:
        """Apply what `fold` accumulated for some keys to `generation`."""


@dataclass(frozen=True)
class Figures:
    """Each dossier's facts (`dossiers.N`) and the day rows they add up to (`days.N`): one row per
    (day, unit, field, procedure, channel) with the counters of figures.py; and the same summed
    per (day, unit) (`units.N`), which the questions about whole units read."""

    name: str = "figures"
    version: int = 2  # 2: rows per (day, unit) besides the finer ones
    events: tuple[type[Event], ...] = dossier_facts.EVENTS

    def collections(self, generation: int) -> tuple[str, str, str]:
        return f"dossiers.{generation}", f"days.{generation}", f"units.{generation}"

    async def prepare(self, documents: Documents, generation: int) -> None:
        dossiers, days, units = self.collections(generation)
        for rows in (days, units):
            await documents.index(rows, [("unit", 1), ("day", 1)])
            await documents.index(rows, [("day", 1)])
        await documents.index(dossiers, [("open", 1), ("due_at", 1)])

    def fold(self, partial: dict[str, dossier_facts.Facts], events: Sequence[Event]) -> None:
        """Merge `events` into per-dossier facts held in memory (what a replay accumulates)."""
        for event in events:
            dossier_facts.merge(partial.setdefault(event.dossier_code, {}), event)

    async def project(self, tx: Tx, generation: int, events: Sequence[Event]) -> None:
        partial: dict[str, dossier_facts.Facts] = {}
        self.fold(partial, events)
        await self.absorb(tx, generation, partial)

    async def absorb(self, tx: Tx, generation: int, partial: dict[str, dossier_facts.Facts]) -> None:
        """Join facts learnt elsewhere into the stored ones; the day rows move by the difference."""
        dossiers, days, units = self.collections(generation)
        await tx.prefetch(dossiers, list(partial))
        changes: dossier_facts.Rows = {}
        names: dict[str, str] = {}  # procedure code → name, for the rows made here
        for code, learnt in partial.items():
            document = await tx.load(dossiers, code) or {"_id": code, "facts": {}}
            before = dossier_facts.contributions(document["facts"])
            dossier_facts.join(document["facts"], learnt)
            change = dossier_facts.difference(before, dossier_facts.contributions(document["facts"]))
            for key, counts in change.items():
                changes.setdefault(key, Counter()).update(counts)
            if received := document["facts"].get("received"):
                names[received["procedure"]] = received["procedure_name"]
            tx.save(dossiers, document | listing(document["facts"]))
        per_unit: dict[tuple[str, str], Counter[str]] = {}
        for key, counts in changes.items():
            per_unit.setdefault(key[:2], Counter()).update(counts)
        await _add(tx, days, changes, lambda row: row.setdefault("procedure_name", names.get(row["procedure"])))
        await _add(tx, units, per_unit)


async def _add(tx: Tx, collection: str, changes: Mapping[tuple[str, ...], Counter[str]], new: Any = None) -> None:
    """Add `changes` to the rows of `collection` keyed by (day, unit, …), making missing rows."""
    rows = {row_id(key): key for key, counts in changes.items() if any(counts.values())}
    await tx.prefetch(collection, list(rows))
    for _id, key in rows.items():
        row = await tx.load(collection, _id)
        if row is None:
            row = dict(zip(ROW_FIELDS, key, strict=False), _id=_id)
            if new is not None:
                new(row)
        for name, value in changes[key].items():
            row[name] = row.get(name, 0) + value
        tx.save(collection, row)


ROW_FIELDS = ("day", "unit", "field", "procedure", "channel")
FIGURES = Figures()
READ_MODELS: tuple[ReadModel, ...] = (FIGURES,)


def row_id(key: tuple[str, ...]) -> str:
    return "|".join(key)


def listing(facts: dossier_facts.Facts) -> dict[str, Any]:
    """What the lists of late and soon-due dossiers query and show."""
    received = facts.get("received")
    if received is None:
        return {"open": False}
    step = facts.get("step", {}).get("value") or [None, None, None]
    return {
        "open": dossier_facts.closing(facts) is None,
        "unit": dossier_facts.unit(facts),
        "due_at": dossier_facts.due_at(facts),
        "received_at": received["at"],
        "field": received["field"],
        "procedure_name": received["procedure_name"],
        "holder": step[1],
    }


# --- generations -------------------------------------------------------------------------


async def control(reader: Reader | Tx, model: ReadModel) -> dict[str, Any] | None:
    if isinstance(reader, Tx):
        return await reader.load(MODELS, model.name)
    return await reader.get(MODELS, model.name)


def generations(document: dict[str, Any] | None) -> list[int]:
    """The generations live events go to: the one served and the one being built."""
    if document is None:
        return []
    return list(dict.fromkeys(g for g in (document.get("live"), document.get("building")) if g))


async def live(reader: Reader, model: ReadModel) -> int:
    """The generation served to queries."""
    document = await control(reader, model)
    return document["live"] if document else 1


# --- besides the read models ---------------------------------------------------------------

OFFICIALS = "officials"  # the roster as routing announces it: who may start a rebuild
CHANGES = "changes"  # per replica: the units its events touched and when (live pages, snapshots)
CHANGED_UNITS = 500  # units remembered per replica
REPLICA = f"{socket.gethostname()}:{os.getpid()}"


async def note_change(tx: Tx) -> None:
    """Note that this replica just applied an event of the cause's unit (one write per batch)."""
    assert tx.cause is not None
    now = utcnow()
    change = await tx.load(CHANGES, REPLICA) or {"_id": REPLICA, "units": []}
    units = [entry for entry in change["units"] if entry[0] != tx.cause.commune][-CHANGED_UNITS:]
    tx.save(CHANGES, change | {"at": now, "units": [*units, [tx.cause.commune, now]]})


def changed_units(changes: Sequence[dict[str, Any]], since: datetime) -> set[str]:
    """The units the replicas' `changes` touched after `since`."""
    return {unit for change in changes for unit, at in change.get("units", []) if at > since}
