"""Stats (thống kê): read models over every topic, for dashboards and reports.

Each event moves its dossier's facts and, by the difference, the day rows the figures are
summed from (facts.py, store.py); read models are rebuilt from the topics' history beside
the one served (replay.py). The figures and the service index of the province and each unit
are published on `motcua.stats.v1` (snapshots.py) and served over HTTP with a live
dashboard (api.py, pages.py).
"""

from __future__ import annotations

from motcua_contracts import Event, OfficialUpdated

from services.runtime import Service, Tx

from . import context, replay, snapshots, store
from .api import router
from .context import Stats
from .pages import router as pages
from .settings import StatsSettings


async def on_event(event: Event, tx: Tx, stats: Stats) -> None:
    for model in store.READ_MODELS:
        if isinstance(event, model.events):
            for generation in store.generations(await store.control(tx, model)):
                await model.project(tx, generation, [event])
    await store.note_change(tx)


async def on_official(event: OfficialUpdated, tx: Tx, stats: Stats) -> None:
    tx.save(
        store.OFFICIALS, {"_id": event.dossier_code, "unit": event.unit, "roles": event.roles, "active": event.active}
    )


def create(settings: StatsSettings | None = None) -> Service[Stats]:
    handlers = {event: on_event for model in store.READ_MODELS for event in model.events}
    return Service(
        "stats",
        settings or StatsSettings(),
        handlers={**handlers, OfficialUpdated: on_official},
        routers=[router, pages],
        context=context.start,
        background=[replay.rebuilder, snapshots.publish],
    )
