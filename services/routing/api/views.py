"""What officials read: who they are, their unit's queue, a dossier, its forms, the audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from services.runtime import RuntimeDep, utcnow
from services.runtime.web import answers

from .. import queries
from .errors import answering
from .identity import OfficialDep
from .render import dossier_view, when

router = APIRouter(tags=["officers"])


@router.get("/me")
async def me(who: OfficialDep) -> dict[str, Any]:
    """Who the token belongs to: id, name, unit and roles."""
    return {"id": who.id, "name": who.name, "unit": who.unit, "roles": who.roles}


@router.get("/queue")
async def work_queue(
    who: OfficialDep,
    runtime: RuntimeDep,
    status: str | None = None,
    due: Literal["soon", "overdue"] | None = None,
    holder: Annotated[str | None, Query(description="`me`, `none` (unassigned) or an official id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Dossiers held by the official's unit, most urgent first."""
    now = utcnow()
    found = await queries.queue(runtime, who, now, status=status, due=due, holder=holder, limit=limit)
    return {"unit": who.unit, "count": len(found), "dossiers": [dossier_view(d, now) for d in found]}


@router.get("/dossiers/{code}", responses=answers(404))
async def get_dossier(code: str, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Where the dossier is, who holds it, its dates and what it waits for (officials of its route)."""
    with answering():
        dossier = await queries.dossier_for(runtime, who, code)
    return dossier_view(dossier, utcnow())


@router.get("/dossiers/{code}/forms/{kind}.pdf", response_class=Response, responses=answers(404))
async def form(code: str, kind: str, who: OfficialDep, runtime: RuntimeDep) -> Response:
    """The supplement request, refusal or apology form issued for the dossier (A4 PDF)."""
    with answering():
        pdf = await queries.form(runtime, who, code, kind)
    return Response(pdf, media_type="application/pdf")


@router.get("/audit", responses=answers(404))
async def audit(
    who: OfficialDep,
    runtime: RuntimeDep,
    dossier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before: Annotated[str | None, Query(max_length=40, description="The `next` cursor of the previous page.")] = None,
) -> dict[str, Any]:
    """The audit trail of a dossier routed through the unit, or (leaders, administrators) of the
    unit; newest first, `limit` at a time; `next` is the cursor of the following page (null at the end)."""
    with answering():
        entries, following = await queries.trail(runtime, who, dossier, limit, before)
    return {
        "entries": [
            {**{k: v for k, v in e.items() if k != "_id"}, "id": e["_id"], "at": when(e["at"])} for e in entries
        ],
        "next": following,
    }
