"""Officers' actions on dossiers (the service layer between the HTTP edge and the aggregate).

Each action runs in one transaction: load the dossier and the officials of its units,
let the dossier apply the rules, save both with the events and the audit entry. An
attempt the rules refuse (403, 409, 422) changes nothing and is audited on its own,
filed under the unit holding the dossier too, so its leaders see attempts from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from motcua_contracts import DossierApproved, Event
from opentelemetry.trace import SpanKind

from services.runtime import Runtime, Tx, utcnow
from services.runtime.telemetry import dossier_span

from . import changes
from .context import RoutingContext
from .domain import Dossier, NotFound, Official, Refused, Team
from .store import audit, dossiers

Change = Callable[[Dossier, Team, datetime], list[Event]]


async def act(runtime: Runtime[RoutingContext], who: Official, code: str, action: str, change: Change) -> Dossier:
    """Run `change` on dossier `code` in one transaction with its audit entry."""
    before: dict[str, Any] = {}

    async def work(tx: Tx) -> Dossier:
        dossier = await dossiers.load(tx, code)
        if dossier is None or not dossier.started:
            raise NotFound(f"no dossier {code!r} in processing")
        before.update(dossier.state())
        team = await changes.team_of(tx, runtime.context.rosters, dossier)
        with dossier_span(runtime.tracer, f"routing {action}", code, dossier.trace, SpanKind.SERVER):
            changes.commit(tx, dossier, team, change(dossier, team, utcnow()))
        audit.add(tx, audit.entry(who, action, code, "allowed", before=dict(before), after=dossier.state()))
        return dossier

    try:
        return await runtime.transact(work)
    except Refused as refused:
        line = audit.entry(
            who,
            action,
            code,
            refused.outcome,
            str(refused),
            before=dict(before) or None,
            filed_under=[before.get("unit")],
        )
        await audit.record(runtime.documents, line)
        raise


async def claim(runtime: Runtime[RoutingContext], who: Official, code: str) -> Dossier:
    """Take an unassigned step from the unit's queue; of two officials claiming at once, one wins."""
    return await act(runtime, who, code, "claim", lambda dossier, team, now: dossier.claim(who, team, now))


async def forward(runtime: Runtime[RoutingContext], who: Official, code: str, to: str | None = None) -> Dossier:
    """Finish the current step; the next one may be at another unit."""
    calendar = runtime.context.calendar
    return await act(
        runtime, who, code, "forward", lambda dossier, team, now: dossier.forward(who, team, calendar, now, to)
    )


async def request_supplement(
    runtime: Runtime[RoutingContext], who: Official, code: str, documents: list[str], reason: str
) -> Dossier:
    """Send the dossier back for documents; the clock pauses."""
    calendar = runtime.context.calendar
    return await act(
        runtime,
        who,
        code,
        "request_supplement",
        lambda dossier, team, now: dossier.request_supplement(who, documents, reason, calendar, now),
    )


async def refuse(runtime: Runtime[RoutingContext], who: Official, code: str, reason: str) -> Dossier:
    """Refuse to resolve the dossier, with the reason."""
    calendar = runtime.context.calendar
    return await act(
        runtime, who, code, "refuse", lambda dossier, team, now: dossier.refuse(who, reason, team, calendar, now)
    )


async def approve(runtime: Runtime[RoutingContext], who: Official, code: str, title: str | None = None) -> Dossier:
    """A leader approves the result; it goes to signing, with routing's signature on the approval
    and the holder's name sealed for signing (it prints it on the result)."""
    calendar, approvals, personal = runtime.context.calendar, runtime.context.approvals, runtime.context.personal

    def approve_and_sign(dossier: Dossier, team: Team, now: datetime) -> list[Event]:
        def signed(approval: DossierApproved) -> DossierApproved:
            if dossier.applicant_name:
                holder = personal.seal_holder(dossier.applicant_name, dossier.code)
                approval = approval.model_copy(update={"holder": holder})
            return approvals.sign(approval)

        events = dossier.approve(who, team, calendar, now, title)
        return [signed(e) if isinstance(e, DossierApproved) else e for e in events]

    return await act(runtime, who, code, "approve", approve_and_sign)


async def return_result(runtime: Runtime[RoutingContext], who: Official, code: str) -> Dossier:
    """Hand the signed result to the citizen."""
    calendar = runtime.context.calendar
    return await act(
        runtime, who, code, "return", lambda dossier, team, now: dossier.return_result(who, team, calendar, now)
    )


async def apologise(
    runtime: Runtime[RoutingContext], who: Official, code: str, reason: str, new_due_at: datetime
) -> Dossier:
    """The holder of the step apologises with a new return date: once, before the due date,
    within the horizon the province set."""
    calendar, horizon = runtime.context.calendar, runtime.context.apology_horizon
    return await act(
        runtime,
        who,
        code,
        "apologise",
        lambda dossier, team, now: dossier.apologise(who, reason, new_due_at, calendar, now, horizon),
    )


async def reassign(runtime: Runtime[RoutingContext], who: Official, code: str, to: str) -> Dossier:
    """A leader moves the current step to another official of the unit."""
    return await act(runtime, who, code, "reassign", lambda dossier, team, now: dossier.reassign(who, to, team, now))
