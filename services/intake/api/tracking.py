"""Public tracking (tra cứu hồ sơ): the owner reads the dossier's history, status and due date,
and while a fee waits to be paid, the amount, the link to pay it online and until when; and
finds the links to file a complaint or petition and to choose how to be told (notification's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep, utcnow
from services.runtime.clock import local
from services.runtime.web import answers

from .. import store
from ..context import IntakeDep
from ..received import ReceivedDossier
from ..settings import IntakeSettings
from ..timeline import Timeline
from .owners import Owner, owned_dossier

router = APIRouter(tags=["tracking"])
PAGE = (Path(__file__).parent.parent / "data" / "track.html").read_text(encoding="utf-8")


class Lookup(BaseModel):
    code: str = Field(min_length=5, max_length=40, examples=["H40.101-261123-0001"])
    owner: Owner


@router.get("/track", response_class=HTMLResponse, include_in_schema=False)
async def tracking_page() -> str:
    return PAGE


@router.post("/api/track", responses=answers(404, 429))
async def track(lookup: Lookup, request: Request, runtime: RuntimeDep, intake: IntakeDep) -> dict[str, Any]:
    """The dossier's history, current status and due date, and the fee waiting to be paid, for its owner only."""
    dossier = await owned_dossier(request, runtime, intake, lookup.code, lookup.owner)
    timeline = await store.find_timeline(runtime, lookup.code) or Timeline(_id=lookup.code)
    received = dossier.event()
    new_due_at = timeline.new_due_at
    return {
        "dossier_code": lookup.code,
        "procedure_name": received.procedure_name,
        "due_at": local(timeline.due_at or received.due_at).isoformat(),
        "new_due_at": local(new_due_at).isoformat() if new_due_at else None,
        "status": timeline.status,
        "history": [{"status": step.label, "at": local(step.at).isoformat()} for step in timeline.history()],
        "payment": payment_due(dossier, timeline, intake.settings),
        "complaint_url": intake.settings.complaint_url(lookup.code),
        "preferences_url": intake.settings.preferences_url(lookup.code),
    }


def payment_due(dossier: ReceivedDossier, timeline: Timeline, settings: IntakeSettings) -> dict[str, Any] | None:
    """The fee while the dossier waits for it: the amount, until when it can be paid online and the
    payment page (none once that time has passed: it is then paid at the counter)."""
    received = dossier.event()
    if not received.fee_vnd or not timeline.awaiting_payment:
        return None
    pay_by = received.pay_by
    online = pay_by is None or utcnow() < pay_by
    return {
        "amount_vnd": received.fee_vnd,
        "pay_by": local(pay_by).isoformat() if pay_by else None,
        "pay_url": settings.pay_url(dossier.code) if online else None,
    }
