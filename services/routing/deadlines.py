"""The deadline watcher: "due soon" one working day before, "overdue" once passed.

Due times live on each dossier (`due_at`, `step_due_at`) with the next moment to look
(`alarm_at`, indexed), so nothing is held in memory: after a restart the watcher picks
up every alarm that fell due meanwhile. Each alarm is marked given in the transaction
that emits it, so replicas racing on the same dossier fire it once. Every sweep counts
in `motcua_deadline_sweeps` (at `/metrics`), so a test or an operator can tell one ran.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import cast

from services.runtime import Runtime, Tx, utcnow
from services.runtime.retry import backoff
from services.runtime.telemetry import dossier_span

from . import changes
from .context import RoutingContext
from .settings import RoutingSettings
from .store import DOSSIERS, dossiers

log = logging.getLogger(__name__)
SWEEP_BATCH = 100
"""Dossiers one sweep looks at, in one transaction; a full batch is followed by another at once."""


async def sweep(runtime: Runtime[RoutingContext], now: datetime) -> int:
    """Fire every alarm due at `now` (of up to `SWEEP_BATCH` dossiers); the number looked at."""
    calendar = runtime.context.calendar
    codes = await dossiers.with_alarms_due(runtime.documents, now, SWEEP_BATCH)

    async def fire(tx: Tx) -> None:
        await tx.prefetch(DOSSIERS, codes)
        for code in codes:
            if dossier := await dossiers.load(tx, code):
                with dossier_span(runtime.tracer, "routing deadline alarms", code, dossier.trace):
                    changes.commit(tx, dossier, events=dossier.fire_alarms(calendar, now))

    if codes:
        await runtime.transact(fire)
    runtime.context.sweeps.labels(runtime.name).inc()
    return len(codes)


async def watch(runtime: Runtime[RoutingContext]) -> None:
    """Background job: sweep, and pause (`MOTCUA_DEADLINE_SWEEP_S`) only when nothing more is due."""
    pause = cast(RoutingSettings, runtime.settings).deadline_sweep_s
    failures = 0
    while True:
        try:
            looked_at = await sweep(runtime, utcnow())
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("deadline sweep failed; retrying")
            await asyncio.sleep(backoff(failures, pause))
            continue
        if looked_at < SWEEP_BATCH:
            await asyncio.sleep(pause)
