"""Stats (thống kê): read models over every topic, for dashboards and reports.

Each event moves its dossier's facts and, by the difference, the day rows the figures are
summed from (facts.py, store.py); read models are rebuilt from the topics' history beside
the one served (replay.py). The figures and the service index of the province and each unit
are published on `motcua.stats.v1` (snapshots.py) and served over HTTP with a live
dashboard (api.py, pages.py).
"""

from __future__ import annotations

import functools

from motcua_contracts import Event, OfficialUpdated

from services.runtime import Service, Tx

from . import context, replay, snapshots, store
from .api import router
from .context import Stats
from .pages import router as pages
from .settings import StatsSettings


async def on_event(event: Event, tx: Tx, stats: Stats) -> None:
    for model in stats.models:
        if isinstance(event, model.events):
            for generation in store.generations(await store.control(tx, model)):
                await model.project(tx, generation, [event])
    await store.note_change(tx)


async def on_official(event: OfficialUpdated, tx: Tx, stats: Stats) -> None:
    tx.save(
        store.OFFICIALS, {"_id": event.dossier_code, "unit": event.unit, "roles": event.roles, "active": event.active}
    )


def create(
    settings: StatsSettings | None = None, models: tuple[store.ReadModel, ...] = store.READ_MODELS
) -> Service[Stats]:
    """The stats service; `models` are the read models it keeps (a new one is filled from history at start)."""
    handlers = {event: on_event for model in models for event in model.events}
    return Service(
        "stats",
        settings or StatsSettings(),
        handlers={**handlers, OfficialUpdated: on_official},
        routers=[router, pages],
        context=functools.partial(context.start, models=models),
        background=[replay.rebuilder, snapshots.publish],
    )
