"""Stats (thống kê): read models over every topic, for dashboards.

Counts each event exactly once (inbox) and publishes a province snapshot on
`motcua.stats.v1` whenever counters change. A dossier's history is not kept here:
its one projection is intake's public tracking.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from motcua_contracts import EVENT_TYPES, Event, StatsSnapshot

from services.runtime import Runtime, Service, Tx, utcnow

from . import domain, store
from .api import router
from .settings import StatsSettings

log = logging.getLogger(__name__)


async def on_event(event: Event, tx: Tx, context: None) -> None:
    assert tx.cause is not None
    if increments := domain.increments(event):
        await store.add(tx, tx.cause.commune, increments)


async def publish_snapshots(runtime: Runtime[Any]) -> None:
    """Emit the province counters when they changed since the last snapshot."""
    settings = cast(StatsSettings, runtime.settings)
    last: dict | None = None
    while True:
        await asyncio.sleep(settings.snapshot_every_s)
        try:
            current = await store.counters(runtime, store.PROVINCE)
            if current and current != last:
                values = {name: current.get(name, 0) for name in domain.COUNTERS}

                async def emit(tx: Tx, values: dict = values) -> None:
                    tx.emit(
                        StatsSnapshot(dossier_code=store.PROVINCE, as_of=utcnow(), **values),
                        commune=settings.province_code,
                    )

                await runtime.transact(emit)
                last = current
        except Exception:
            log.exception("stats snapshot failed")


# Every event of the dossier lifecycle, except stats' own snapshots.
TRACKED = tuple(event for event in EVENT_TYPES.values() if event is not StatsSnapshot)


def create(settings: StatsSettings | None = None) -> Service[None]:
    return Service(
        "stats",
        settings or StatsSettings(),
        handlers=dict.fromkeys(TRACKED, on_event),
        routers=[router],
        background=[publish_snapshots],
    )
