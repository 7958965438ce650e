"""Snapshots on the public `motcua.stats.v1` topic, for dashboards outside the platform.

Every few seconds, the units whose figures changed (and the province) are published with
their year-to-date figures, service index and, for communes, rank; every few minutes every
unit is, so a dashboard that starts reading the topic's tail soon has all of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any, cast

from motcua_contracts import StatsSnapshot

from services.runtime import Runtime, Tx, utcnow

from . import queries, store
from .context import Stats
from .queries import Period, Scope
from .settings import StatsSettings

log = logging.getLogger(__name__)


async def publish(runtime: Runtime[Stats]) -> None:
    settings = cast(StatsSettings, runtime.settings)
    last_change, last_all = utcnow(), 0.0
    while True:
        await asyncio.sleep(settings.snapshot_every_s)
        try:
            changes = await runtime.documents.find(store.CHANGES, {"at": {"$gt": last_change}})
            everyone = time.monotonic() - last_all >= settings.snapshot_all_every_s
            if not changes and not everyone:
                continue
            touched = store.changed_units(changes, last_change)
            if changes:
                last_change = max(change["at"] for change in changes)
            snapshots = await build(runtime, None if everyone else touched)
            await runtime.transact(lambda tx, snapshots=snapshots: _emit(tx, snapshots, runtime.context))
            if everyone:
                last_all = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stats snapshot failed")


async def build(runtime: Runtime[Stats], touched: Iterable[str] | None) -> list[StatsSnapshot]:
    """Year-to-date snapshots of the province and of the `touched` units (all units: None)."""
    stats = runtime.context
    documents = runtime.documents
    generation = await store.live(documents, store.FIGURES)
    period = Period.of(None, None)
    table = {row["unit"]: row for row in await queries.ranking(documents, generation, stats.units, stats.index, period)}
    units = [*stats.units.communes, *stats.units.departments]
    wanted = [None, *(units if touched is None else sorted(set(touched) & set(units)))]
    now, snapshots = utcnow(), []
    for unit in wanted:
        scope = Scope.of(stats.units, unit)
        found = await queries.figures(documents, generation, scope, period)
        result = stats.index.score(found["counters"], found["rates"])
        place = table.get(unit or "", {})
        snapshots.append(_snapshot(scope, found, result, place, now, stats.units.province.code))
    return snapshots


def _snapshot(
    scope: Scope, found: dict[str, Any], result: dict[str, Any], place: dict[str, Any], now: Any, province: str
) -> StatsSnapshot:
    counters = found["counters"]
    return StatsSnapshot(
        dossier_code=scope.unit or "province",
        as_of=now,
        unit=scope.unit,
        level=scope.level,
        unit_name=scope.name,
        period_from=found["period"]["from"],
        period_to=found["period"]["to"],
        received=counters["received"],
        completed=counters["resolved"] - counters["refused"],
        early=counters["early"],
        on_time=counters["on_time"],
        late=counters["late"],
        online=counters["online"],
        paid=counters["paid_online"] + counters["paid_counter"],
        digitised=counters["dossiers_digitised"],
        supplement_requests=counters["supplement_requested"],
        withdrawn=counters["withdrawn"],
        components=counters["components"],
        components_digitised=counters["components_digitised"],
        components_scanned=counters["components_scanned"],
        components_reused=counters["components_reused"],
        results=counters["results"],
        results_digitised=counters["results_digitised"],
        fee_bearing=counters["fee_bearing"],
        fee_exempt=counters["fee_exempt"],
        paid_online=counters["paid_online"],
        paid_counter=counters["paid_counter"],
        paid_online_rate=found["rates"]["paid_online_rate"],
        collected_vnd=counters["collected_vnd"],
        payments_expired=counters["payments_expired"],
        refunded=counters["refunded"],
        refunded_vnd=counters["refunded_vnd"],
        carried_over=found["carried_over"],
        in_progress=found["in_progress"],
        overdue_now=found["overdue_now"],
        resolved=counters["resolved"],
        refused=counters["refused"],
        apologised=counters["apologised"],
        rated=counters["rated"],
        satisfied=counters["satisfied"],
        complaints=counters["complaints"],
        complaints_answered_on_time=counters["complaints_answered_on_time"],
        rates=found["rates"],
        index_score=result["score"],
        index_groups={group["id"]: group["score"] for group in result["groups"]},
        index_rank=place.get("rank"),
        index_of=place.get("of"),
    )


async def _emit(tx: Tx, snapshots: list[StatsSnapshot], stats: Stats) -> None:
    for snapshot in snapshots:
        tx.emit(snapshot, commune=snapshot.unit or stats.units.province.code)
