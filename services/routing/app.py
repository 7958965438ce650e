"""Routing (luân chuyển, xử lý): the workflow engine of the one-stop centre.

Never blocks on another service: intake's, digitisation's, payment's and signing's
outcomes arrive as events, in any order, and are recorded on the dossier; officers act
over HTTP (api/, actions.py); deadlines are watched by a background job (deadlines.py).
Routing owns the dossier's processing status, so it alone grants or declines a
withdrawal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from motcua_contracts import (
    DossierDigitised,
    DossierReceived,
    DossierSupplemented,
    DossierWithdrawalRequested,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultSigned,
)

from services.runtime import Service, Tx, current_trace_headers, utcnow
from services.runtime.auth import TokenVerifier

from . import changes, deadlines, store
from .api import router
from .context import RoutingContext, start
from .domain import DEFAULT_TEMPLATE, Team, competent_unit
from .settings import RoutingSettings
from .store import dossiers, officials


async def on_received(event: DossierReceived, tx: Tx, routing: RoutingContext) -> None:
    """Resolve the competent unit, pin the newest workflow version, enter the first step."""
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    if dossier.received:
        return
    applicant = routing.personal.open(event.applicant, event.dossier_code)
    dossier.receive(event, applicant.name, routing.calendar)
    dossier.trace = current_trace_headers()  # this handler's span, in the trace intake started
    if dossier.closed:  # withdrawn before intake's facts came: its workflow never starts
        changes.commit(tx, dossier)
        return
    competent = competent_unit(
        event.level, event.competent_authority, event.commune_code, routing.units, routing.authorities
    )
    template = event.workflow or DEFAULT_TEMPLATE
    version = await routing.workflows.latest(tx, template, competent)
    if version is None:
        raise ValueError(f"no workflow template {template!r}")
    team = Team()  # nobody to pick or release: a step waiting in the pool needs no officials
    if dossier.needs_team_to_enter(version.steps[0]):
        team = await officials.team(tx, routing.rosters, {event.commune_code, competent})
    changes.commit(tx, dossier, team, dossier.start(competent, version, team, routing.calendar, utcnow()))


async def on_digitised(event: DossierDigitised, tx: Tx, routing: RoutingContext) -> None:
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    dossier.record_digitised(routing.calendar)
    changes.commit(tx, dossier)


async def on_payment_requested(event: PaymentRequested, tx: Tx, routing: RoutingContext) -> None:
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    dossier.record_payment_requested(routing.calendar)
    changes.commit(tx, dossier)


async def on_fee_settled(event: PaymentCompleted | PaymentNotRequired, tx: Tx, routing: RoutingContext) -> None:
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    dossier.record_fee_settled(routing.calendar)
    changes.commit(tx, dossier)


async def on_supplemented(event: DossierSupplemented, tx: Tx, routing: RoutingContext) -> None:
    """The clock resumes: intake moved the due date by the paused days; the step's moves likewise."""
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    dossier.resume(event.due_at, event.paused_working_days, routing.calendar)
    changes.commit(tx, dossier)


async def on_result_signed(event: ResultSigned, tx: Tx, routing: RoutingContext) -> None:
    """The signature arrived: the result goes to the return step."""
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    team = (
        await changes.team_of(tx, routing.rosters, dossier)
        if dossier.needs_team_to_enter(dossier.next_step)
        else Team()
    )
    events = dossier.record_signature(event.result_code, event.signed_at, team, routing.calendar, utcnow())
    changes.commit(tx, dossier, team, events)


async def on_withdrawal_requested(event: DossierWithdrawalRequested, tx: Tx, routing: RoutingContext) -> None:
    """The owner asks to withdraw: granted (`dossier.withdrawn`) unless already decided (declined)."""
    dossier = await dossiers.load_or_new(tx, event.dossier_code)
    team = await changes.team_of(tx, routing.rosters, dossier) if dossier.needs_team_to_enter(None) else Team()
    events = dossier.withdraw(event.reason, event.requested_at, team, routing.calendar, utcnow())
    changes.commit(tx, dossier, team, events)


def create(
    settings: RoutingSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    cache_clock: Callable[[], float] = time.monotonic,
) -> Service[RoutingContext]:
    """Routing as a service; tests may pass their own token verifier and the clock of its caches."""
    return Service(
        "routing",
        settings or RoutingSettings(),
        handlers={
            DossierReceived: on_received,
            DossierDigitised: on_digitised,
            PaymentRequested: on_payment_requested,
            PaymentCompleted: on_fee_settled,
            PaymentNotRequired: on_fee_settled,
            ResultSigned: on_result_signed,
            DossierSupplemented: on_supplemented,
            DossierWithdrawalRequested: on_withdrawal_requested,
        },
        routers=[router],
        context=partial(start, verifier=verifier, cache_clock=cache_clock),
        background=[deadlines.watch],
        state=store.DOSSIERS,
    )
