"""Stats' HTTP edge: counters and rates for dashboards."""

from __future__ import annotations

from fastapi import APIRouter

from services.runtime import RuntimeDep

from . import domain, store

router = APIRouter(prefix="/stats", tags=["stats"])


def _view(counters: dict[str, int]) -> dict:
    values = {name: counters.get(name, 0) for name in domain.COUNTERS}
    return {**values, **domain.rates(values)}


@router.get("/summary")
async def summary(runtime: RuntimeDep) -> dict:
    """Province-wide counters and the rates the service index uses."""
    return _view(await store.counters(runtime, store.PROVINCE) or {})


@router.get("/communes")
async def by_commune(runtime: RuntimeDep) -> list[dict]:
    return [{"commune": row["_id"], **_view(row)} for row in await store.communes(runtime)]
