"""Stats (thống kê): read models over every topic, for dashboards.

Counts each event exactly once (inbox) and publishes snapshots of the province's and each
unit's counters on `motcua.stats.v1` whenever they change. A dossier's history is not kept here:
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
    """Emit the counters of the province, and of each unit, that changed since their last snapshot."""
    settings = cast(StatsSettings, runtime.settings)
    last: dict[str, dict] = {}
    while True:
        await asyncio.sleep(settings.snapshot_every_s)
        try:
            current = {row.pop("_id"): row for row in await store.communes(runtime)}
            current[store.PROVINCE] = await store.counters(runtime, store.PROVINCE) or {}
            changed = {key: counters for key, counters in current.items() if counters and counters != last.get(key)}
            if changed:
                await runtime.transact(lambda tx, changed=changed: _emit(tx, changed, settings.province_code))
                last.update(changed)
        except Exception:
            log.exception("stats snapshot failed")


async def _emit(tx: Tx, changed: dict[str, dict], province: str) -> None:
    now = utcnow()
    for key, counters in changed.items():
        values = {name: counters.get(name, 0) for name in domain.COUNTERS}
        unit = None if key == store.PROVINCE else key
        rate = domain.rates(values)["paid_online_rate"]
        snapshot = StatsSnapshot(dossier_code=key, as_of=now, unit=unit, paid_online_rate=rate, **values)
        tx.emit(snapshot, commune=unit or province)


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
