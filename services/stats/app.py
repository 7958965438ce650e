"""Stats (thống kê): read models over every topic, for dashboards.

Counts each event exactly once (inbox), keeps each dossier's timeline, and
publishes a province snapshot on `motcua.stats.v1` whenever counters change.
"""

import asyncio
import logging

from motcua_contracts import EVENT_TYPES, Event, StatsSnapshot

from services.runtime import Runtime, Service, Tx, utcnow

from . import domain, store
from .api import router
from .settings import settings

log = logging.getLogger(__name__)


async def on_event(event: Event, tx: Tx) -> None:
    assert tx.cause is not None
    store.record_step(tx, event.dossier_code, {"event": event.TYPE, "at": tx.cause.time, "source": tx.cause.source})
    if increments := domain.increments(event):
        store.add(tx, tx.cause.commune, increments)


async def publish_snapshots(runtime: Runtime) -> None:
    """Emit the province counters when they changed since the last snapshot."""
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

service = Service(
    "stats",
    settings,
    handlers=dict.fromkeys(TRACKED, on_event),
    api=router,
    background=[publish_snapshots],
)
