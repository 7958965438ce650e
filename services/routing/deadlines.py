"""The deadline watcher: "due soon" one working day before, "overdue" once passed.

Due times live on each dossier (`due_at`, `step_due_at`) with the next moment to look
(`alarm_at`, indexed), so nothing is held in memory: after a restart the watcher picks
up every alarm that fell due meanwhile. Each alarm is marked sent in the transaction
that emits it, so replicas racing on the same dossier fire it once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from motcua_contracts import DossierDueSoon, DossierOverdue

from services.runtime import Runtime, Tx, utcnow

from . import domain, store, workflow
from .settings import settings
from .workflow import reference

log = logging.getLogger(__name__)
BATCH = 100


async def sweep(runtime: Runtime, now: datetime) -> int:
    """Fire every alarm due at `now`; the number of dossiers looked at."""
    query = {"alarm_at": {"$lte": now}}
    codes = [row["_id"] async for row in runtime.store.db[store.DOSSIERS].find(query, {"_id": 1}).limit(BATCH)]
    if not codes:
        return 0

    async def fire(tx: Tx) -> None:
        await tx.prefetch(store.DOSSIERS, codes)
        for code in codes:
            dossier = await tx.load(store.DOSSIERS, code)
            if dossier is None:
                continue
            for alarm in domain.due_alarms(dossier, reference.calendar, now):
                emit(tx, dossier, alarm.kind)
            workflow.settle(dossier)
            store.put(tx, dossier)

    await runtime.transact(fire)
    return len(codes)


def emit(tx: Tx, dossier: dict, kind: str) -> None:
    sent = dossier.setdefault("alarms", {})
    step = workflow.current_step(dossier) or {"id": "-"}
    common = {
        "dossier_code": dossier["_id"],
        "unit": dossier.get("holder_unit") or dossier["commune"],
        "holder": dossier.get("holder"),
    }
    if kind == "due_soon":
        sent["due_soon"] = domain.deadline(dossier)
        tx.emit(DossierDueSoon(due_at=sent["due_soon"], **common), commune=dossier["commune"])
    elif kind == "overdue":
        sent["overdue"] = sent["due_soon"] = domain.deadline(dossier)
        tx.emit(
            DossierOverdue(scope="dossier", step=step["id"], due_at=sent["overdue"], **common),
            commune=dossier["commune"],
        )
    else:
        sent["step_overdue"] = dossier["step_due_at"]
        tx.emit(
            DossierOverdue(scope="step", step=step["id"], due_at=sent["step_overdue"], **common),
            commune=dossier["commune"],
        )


async def watch(runtime: Runtime) -> None:
    """Background job: sweep, and sleep only when nothing was due."""
    while True:
        try:
            if await sweep(runtime, utcnow()) < BATCH:
                await asyncio.sleep(settings.deadline_sweep_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline sweep failed; retrying")
            await asyncio.sleep(settings.deadline_sweep_s)
