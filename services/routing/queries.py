"""What officials read (service layer): who is asking, the unit's queue, a dossier, its
forms and its audit trail. A read outside the rules is refused and audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.runtime import Runtime
from services.runtime.calendar import HOURS_PER_WORKING_DAY

from . import forms
from .context import RoutingContext
from .domain import ADMIN, CLOSED, LEADER, Dossier, Forbidden, NotFound, Official
from .store import audit, dossiers, officials


async def identify(runtime: Runtime[RoutingContext], subject: str, attempt: str) -> Official:
    """The active official a verified token names; Forbidden (and audited) otherwise."""
    official = await officials.get(runtime.documents, subject)
    if official is None or not official.active:
        await audit.record(
            runtime.documents, audit.entry(subject, attempt, None, "forbidden", "not an active official")
        )
        raise Forbidden(f"{subject!r} is not an active official of this province")
    return official


async def dossier_for(runtime: Runtime[RoutingContext], who: Official, code: str) -> Dossier:
    """The dossier, if it is routed through the official's unit."""
    dossier = await dossiers.get(runtime.documents, code)
    if dossier is None or not dossier.received:
        raise NotFound(f"no dossier {code!r}")
    if not dossier.visible_to(who.unit):
        line = audit.entry(
            who,
            "view",
            code,
            "forbidden",
            "not routed through the unit",
            before=dossier.state(),
            filed_under=[dossier.holder_unit],
        )
        await audit.record(runtime.documents, line)
        raise Forbidden(f"dossier {code} is not routed through your unit")
    return dossier


async def queue(
    runtime: Runtime[RoutingContext],
    who: Official,
    now: datetime,
    *,
    status: str | None = None,
    due: Literal["soon", "overdue"] | None = None,
    holder: str | None = None,
    limit: int = 100,
) -> list[Dossier]:
    """Open dossiers the official's unit holds, most urgent first; `holder` is `me`, `none` or an id."""
    where: dict[str, Any] = {"holder_unit": who.unit, "status": status or {"$nin": list(CLOSED)}}
    if due == "overdue":
        where["deadline_at"] = {"$lt": now}
    elif due == "soon":  # within one working day
        soon = runtime.context.calendar.add_working_hours(now, HOURS_PER_WORKING_DAY)
        where["deadline_at"] = {"$gte": now, "$lte": soon}
    if holder is not None:
        where["holder"] = {"me": who.id, "none": None}.get(holder, holder)
    return await dossiers.find(runtime.documents, where, limit)


async def form(runtime: Runtime[RoutingContext], who: Official, code: str, kind: str) -> bytes:
    """The PDF of a form issued for the dossier (`supplement-request`, `refusal`, `apology`),
    rendered in a worker process."""
    dossier = await dossiers.get(runtime.documents, code)
    if dossier is None or not dossier.visible_to(who.unit):
        raise NotFound(f"no dossier {code!r} routed through your unit")
    routing, render = runtime.context, runtime.workers.run
    applicant = dossier.applicant_name or ""
    if kind == "supplement-request" and (asked := dossier.supplement):
        unit = routing.unit_name(asked.unit or dossier.holder_unit or "")
        officer = asked.by_name or asked.by
        return await render(
            forms.supplement_request,
            routing.fonts,
            unit,
            code,
            applicant,
            asked.documents,
            asked.reason,
            officer,
            asked.at,
        )
    procedure = dossier.procedure_name or ""
    if kind == "refusal" and (refused := dossier.refusal):
        unit = routing.unit_name(refused.unit)
        return await render(
            forms.refusal, routing.fonts, unit, code, applicant, procedure, refused.reason, refused.by, refused.at
        )
    if kind == "apology" and (sorry := dossier.apology) and dossier.due_at:
        unit = routing.unit_name(sorry.unit)
        return await render(
            forms.apology,
            routing.fonts,
            unit,
            code,
            applicant,
            procedure,
            sorry.reason,
            dossier.due_at,
            sorry.new_due_at,
            sorry.by,
            sorry.at,
        )
    raise NotFound(f"dossier {code} has no {kind} form")


async def trail(
    runtime: Runtime[RoutingContext], who: Official, dossier: str | None, limit: int, before: str | None = None
) -> tuple[list[audit.Entry], str | None]:
    """A dossier's audit trail (to officials of its route), or the unit's: what was done and
    attempted in it (to leaders and administrators). Newest first, `limit` at a time, older than
    the entry `before`; with the cursor of the next page."""
    if dossier is not None:
        found = await dossiers.get(runtime.documents, dossier)
        if found is None or not found.visible_to(who.unit):
            raise NotFound(f"no dossier {dossier!r} routed through your unit")
        return await audit.page(runtime.documents, {"dossier": dossier}, limit, before)
    if not who.has_role(LEADER, ADMIN):
        raise Forbidden("only leaders and administrators read their unit's audit trail")
    return await audit.page(runtime.documents, {"units": who.unit}, limit, before)
