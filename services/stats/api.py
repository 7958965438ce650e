"""Stats' HTTP edge: figures, the service index, the communes' ranking, trends, breakdowns,
late dossiers, reports, live changes (server-sent events) and the read models' rebuilds.

Figures are aggregates without personal data: they are public, as the national portal's
index is. Starting a rebuild is for the province's administrators."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.runtime import RuntimeDep, get_context, utcnow
from services.runtime.auth import verified_claims
from services.runtime.web import answers

from . import queries, replay, reports, store
from .context import Stats
from .queries import BadQuestion, Period, Scope

router = APIRouter(prefix="/stats", tags=["stats"])
StatsDep = Annotated[Stats, Depends(get_context)]
KEEPALIVE_S = 15.0
OPERATORS = ("admin",)


def _period(start: str | None, end: str | None) -> Period:
    try:
        return Period.of(_day(start), _day(end))
    except BadQuestion as error:
        raise HTTPException(422, str(error)) from None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise BadQuestion(f"no such day: {text}") from None


def _scope(stats: Stats, unit: str | None, **filters: str | None) -> Scope:
    try:
        return Scope.of(stats.units, unit, **filters)
    except BadQuestion as error:
        raise HTTPException(404, str(error)) from None


DAY = r"^\d{4}-\d{2}-\d{2}$"
From = Annotated[
    str | None, Query(alias="from", pattern=DAY, description="First day, YYYY-MM-DD (local); default 1 January.")
]
To = Annotated[str | None, Query(alias="to", pattern=DAY, description="Last day, YYYY-MM-DD (local); default today.")]
Unit = Annotated[str | None, Query(description="A commune's or department's code; none: the province.")]


async def _figures(runtime: Any, stats: Stats, scope: Scope, period: Period) -> dict[str, Any]:
    return await queries.figures(runtime.documents, await store.live(runtime.documents, store.FIGURES), scope, period)


async def _index(
    runtime: Any, stats: Stats, scope: Scope, period: Period, found: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The scope's index for the period (from its `found` figures, when the caller has them)."""
    generation = await store.live(runtime.documents, store.FIGURES)
    found = found or await queries.figures(runtime.documents, generation, scope, period)
    result = stats.index.score(found["counters"], found["rates"])
    place: dict[str, Any] = {"rank": None, "of": None}
    if scope.level == "commune":
        table = await queries.ranking(runtime.documents, generation, stats.units, stats.index, period)
        row = next(row for row in table if row["unit"] == scope.unit)
        place = {"rank": row["rank"], "of": row["of"]}
    return (
        {"unit": scope.unit, "unit_name": scope.name, "level": scope.level, "period": period.public()} | result | place
    )


@router.get("/figures", responses=answers(404, 422))
async def figures(
    runtime: RuntimeDep,
    stats: StatsDep,
    start: From = None,
    end: To = None,
    unit: Unit = None,
    field: str | None = None,
    procedure: str | None = None,
    channel: Literal["online_full", "online_partial", "counter", "post"] | None = None,
) -> dict[str, Any]:
    """A unit's (or the province's) figures for a period: received (by channel, and carried
    over), resolved early / on time / late, in progress, overdue now, refused, withdrawn,
    apologised, digitisation, fees paid online, satisfaction and complaints, with their shares."""
    scope = _scope(stats, unit, field=field, procedure=procedure, channel=channel)
    return await _figures(runtime, stats, scope, _period(start, end))


@router.get("/index", responses=answers(404, 422))
async def service_index(
    runtime: RuntimeDep, stats: StatsDep, start: From = None, end: To = None, unit: Unit = None
) -> dict[str, Any]:
    """The service index of Decision 766/QĐ-TTg for a unit and period: each group's and each
    indicator's points, what it lost, and a commune's rank among the province's communes."""
    return await _index(runtime, stats, _scope(stats, unit), _period(start, end))


@router.get("/ranking", responses=answers(422))
async def ranking(runtime: RuntimeDep, stats: StatsDep, start: From = None, end: To = None) -> dict[str, Any]:
    """Every commune's index for the period, best first ("11th of 129")."""
    period = _period(start, end)
    generation = await store.live(runtime.documents, store.FIGURES)
    table = await queries.ranking(runtime.documents, generation, stats.units, stats.index, period)
    return {"period": period.public(), "communes": table}


@router.get("/trend", responses=answers(404, 422))
async def trend(
    runtime: RuntimeDep,
    stats: StatsDep,
    start: From = None,
    end: To = None,
    unit: Unit = None,
    field: str | None = None,
) -> dict[str, Any]:
    """Day by day: received, resolved, online, late, their shares, and what stood open."""
    scope, period = _scope(stats, unit, field=field), _period(start, end)
    generation = await store.live(runtime.documents, store.FIGURES)
    return {"period": period.public(), "days": await queries.trend(runtime.documents, generation, scope, period)}


@router.get("/breakdown", responses=answers(404, 422))
async def breakdown(
    runtime: RuntimeDep,
    stats: StatsDep,
    by: Literal["field", "procedure", "channel", "commune"] = "field",
    start: From = None,
    end: To = None,
    unit: Unit = None,
    field: str | None = None,
) -> dict[str, Any]:
    """The scope's figures split by field, procedure, channel or commune."""
    scope, period = _scope(stats, unit, field=field), _period(start, end)
    generation = await store.live(runtime.documents, store.FIGURES)
    found = await queries.breakdown(runtime.documents, generation, stats.units, scope, period, by)
    return {"by": by, "period": period.public(), "rows": found}


@router.get("/dossiers", responses=answers(404))
async def dossiers(
    runtime: RuntimeDep,
    stats: StatsDep,
    state: Literal["overdue", "due_soon"] = "overdue",
    unit: Unit = None,
    field: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Open dossiers past their appointment time (overdue) or due within a day (due_soon), most urgent first."""
    scope = _scope(stats, unit, field=field)
    generation = await store.live(runtime.documents, store.FIGURES)
    overdue, soon = await queries.open_dossiers(runtime.documents, generation, scope)
    found = overdue if state == "overdue" else soon
    return {"state": state, "dossiers": [queries.dossier_row(d, stats.units) for d in found[:limit]]}


async def _report_inputs(runtime: Any, stats: Stats, unit: str | None, start: str | None, end: str | None):
    scope, period = _scope(stats, unit), _period(start, end)
    found = await _figures(runtime, stats, scope, period)
    index = await _index(runtime, stats, scope, period, found)
    generation = await store.live(runtime.documents, store.FIGURES)
    fields = await queries.breakdown(runtime.documents, generation, stats.units, scope, period, "field")
    return scope, period, found, index, fields


@router.get("/report.csv", responses={**answers(404, 422), 200: {"content": {"text/csv": {}}}})
async def report_csv(
    runtime: RuntimeDep, stats: StatsDep, start: From = None, end: To = None, unit: Unit = None
) -> Response:
    """The period's figures, per field, and the index's points, as CSV (UTF-8 with BOM)."""
    scope, period, found, index, fields = await _report_inputs(runtime, stats, unit, start, end)
    name = f"bao-cao-{scope.unit or 'tinh'}-{period.start}-{period.end}.csv"
    return Response(
        reports.csv_report(found, index, fields).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/report.pdf", responses={**answers(404, 422), 200: {"content": {"application/pdf": {}}}})
async def report_pdf(
    runtime: RuntimeDep, stats: StatsDep, start: From = None, end: To = None, unit: Unit = None
) -> Response:
    """A one-page summary of the period in Vietnamese (PDF)."""
    scope, period, found, index, fields = await _report_inputs(runtime, stats, unit, start, end)
    settings = runtime.settings
    pdf = await asyncio.to_thread(
        reports.pdf_report,
        found,
        index,
        fields,
        unit_name=scope.name,
        generated_at=utcnow(),
        font=Path(settings.pdf_font),
        bold_font=Path(settings.pdf_bold_font),
    )
    name = f"bao-cao-{scope.unit or 'tinh'}-{period.start}-{period.end}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/live", include_in_schema=False)  # a stream: described in docs/stats.md
async def live(request: Request, stats: StatsDep) -> StreamingResponse:
    """Server-sent events: `changed` (with the units touched) at most once a second while events arrive."""

    async def stream() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        async for change in stats.changes.follow(KEEPALIVE_S):
            if await request.is_disconnected():
                return
            yield ": keepalive\n\n" if change is None else f"event: changed\ndata: {json.dumps(change)}\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


@router.get("/rebuild")
async def rebuild_progress(runtime: RuntimeDep, stats: StatsDep) -> dict[str, Any]:
    """Each read model: the generation served and the progress of its rebuild, if one runs."""
    return {"models": [replay.progress(await store.control(runtime.documents, m)) for m in stats.models]}


@router.post("/rebuild", status_code=202, responses=answers(401, 403, 404, 503))
async def rebuild(request: Request, runtime: RuntimeDep, stats: StatsDep, model: str = "figures") -> dict[str, Any]:
    """Rebuild a read model from the topics' history beside the one served (administrators)."""
    who = str((await verified_claims(request, stats.verifier))["sub"])
    record = await runtime.documents.get(store.OFFICIALS, who)
    if record is None or not record.get("active") or not set(record.get("roles", [])) & set(OPERATORS):
        raise HTTPException(403, "only the province's administrators start a rebuild")
    wanted = next((m for m in stats.models if m.name == model), None)
    if wanted is None:
        raise HTTPException(404, f"no read model {model!r}")
    return replay.progress(await replay.request(runtime, wanted))
