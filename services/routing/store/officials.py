"""Officials: seeded once from a file, then managed by administrators; workloads kept
in the transactions that change a dossier's holder."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from motcua_contracts import OfficialContact, OfficialUpdated

from services.runtime import Documents, Duplicate, Runtime, Tx, utcnow
from services.runtime.documents import Reader
from services.runtime.personal import PersonalData

from ..domain import Official, Team
from .cache import Expiring, Finder

OFFICIALS = "officials"


async def seed(documents: Documents, path: Path) -> None:
    """Officials from the seed file that are not on record yet (records edited since are kept)."""
    rows = json.loads(path.read_text(encoding="utf-8"))["officials"]
    known = await documents.get_many(OFFICIALS, [row["id"] for row in rows])
    for row in rows:
        if row["id"] not in known:
            official = Official.model_validate({**row, "_id": row["id"], "active": True, "open": 0})
            with contextlib.suppress(Duplicate):  # another replica seeded it meanwhile
                await documents.insert(OFFICIALS, [dump(official)])


def announce(tx: Tx, official: Official, personal: PersonalData) -> None:
    """Publish the record (`official.updated`): routing owns the roster; notification alerts from it."""
    contact = None
    if official.email or official.phone:
        details = OfficialContact(name=official.signature, email=official.email, phone=official.phone)
        contact = personal.seal_official(details, official.id)
    tx.emit(
        OfficialUpdated(
            dossier_code=official.id,
            unit=official.unit,
            roles=list(official.roles),
            active=official.active,
            contact=contact,
            updated_at=utcnow(),
        ),
        commune=official.unit,
    )


async def announce_all(runtime: Runtime[Any], personal: PersonalData) -> None:
    """Announce the whole roster (at start: a consumer that came later, or lost its copy, catches up)."""
    found = await runtime.documents.find(OFFICIALS, {}, order=[("_id", 1)])

    async def work(tx: Tx) -> None:
        for document in found:
            announce(tx, Official.model_validate(document), personal)

    if found:
        await runtime.transact(work)


def dump(official: Official) -> dict:
    return official.model_dump(by_alias=True)


async def get(reader: Reader, official_id: str) -> Official | None:
    document = await reader.get(OFFICIALS, official_id)
    return Official.model_validate(document) if document is not None else None


async def of_unit(reader: Reader, unit: str) -> list[Official]:
    """A unit's officials, by id."""
    found = await reader.find(OFFICIALS, {"unit": unit}, order=[("_id", 1)])
    return [Official.model_validate(document) for document in found]


async def load(tx: Tx, official_id: str) -> Official | None:
    document = await tx.load(OFFICIALS, official_id)
    return Official.model_validate(document) if document is not None else None


def save(tx: Tx, official: Official) -> None:
    tx.save(OFFICIALS, dump(official))


class Rosters:
    """Who belongs to each unit (ids only), kept a few seconds: a dossier's team is then
    read by id, and a batch of events of one unit reads each official once. A newcomer
    saved by another replica joins within `NEW_VERSIONS_WITHIN_S`; a move or a
    deactivation shows at once (the records themselves are read in the transaction)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache: Expiring[str, dict[str, list[str]]] = Expiring(clock=clock)

    async def of(self, finder: Finder, unit: str) -> list[str]:
        """The ids of `unit`'s officials (every unit's are read in one query, a province has a few hundred)."""
        return (await self.cache.get("all", lambda: _ids_by_unit(finder))).get(unit, [])

    def forget(self) -> None:
        self.cache.forget()


async def _ids_by_unit(finder: Finder) -> dict[str, list[str]]:
    by_unit: dict[str, list[str]] = {}
    for row in await finder.find(OFFICIALS, order=[("_id", 1)]):
        by_unit.setdefault(row["unit"], []).append(row["_id"])
    return by_unit


async def team(tx: Tx, rosters: Rosters, units: Iterable[str], also: Iterable[str | None] = ()) -> Team:
    """The officials of `units` (and `also`, e.g. the current holder), with the workloads
    this transaction sees: changes made earlier in the same batch included."""
    members = {official_id for official_id in also if official_id}
    for unit in sorted(set(units)):
        members.update(await rosters.of(tx, unit))
    ids = sorted(members)
    await tx.prefetch(OFFICIALS, ids)
    found = [await tx.load(OFFICIALS, official_id) for official_id in ids]
    return Team(Official.model_validate(document) for document in found if document is not None)


def save_workloads(tx: Tx, team: Team) -> None:
    """Write the officials whose open-dossier count changed."""
    for official in team.saved():
        save(tx, official)
