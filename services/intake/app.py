"""Intake (tiếp nhận): receives dossiers on every channel, publishes `dossier.received`,
passes the owner's supplements and withdrawal requests on, and keeps each dossier's public
history from every service's events."""

from __future__ import annotations

from motcua_contracts import (
    EVENT_TYPES,
    ComplaintReminded,
    DossierAssigned,
    DossierDueSoon,
    DossierOverdue,
    DossierStepStarted,
    Event,
    MessageDelivered,
    MessageFailed,
    OfficialNotified,
    OfficialUpdated,
    ResultArchived,
)

from services.runtime import Service, Tx

from . import store
from .api import ROUTERS
from .context import IntakeContext, start
from .settings import IntakeSettings
from .submission import Holding


async def on_progress(event: Event, tx: Tx, intake: IntakeContext) -> None:
    """Another service's event becomes a step of the dossier's public history."""
    assert tx.cause is not None  # handlers always run for a consumed event
    timeline = await store.load_timeline(tx, event.dossier_code)
    timeline.learn(event, tx.cause.time)
    store.save_timeline(tx, timeline)


async def on_result_archived(event: ResultArchived, tx: Tx, intake: IntakeContext) -> None:
    """The result is in the owner's e-data store: a step of the history, and what later dossiers reuse."""
    await on_progress(event, tx, intake)
    if event.owner is not None and event.kind is not None:
        owner = intake.personal.open_owner(event.owner, event.dossier_code)
        holding = Holding(event.kind, event.document_id, event.sha256, event.valid_until)
        await store.hold(tx, owner, holding, event.archived_at)


# Officers' internal bookkeeping and the messages' own bookkeeping, not part of the citizen's
# public history (a message's delivery, an official's alert or record, a reminder to the unit).
INTERNAL = (
    DossierStepStarted,
    DossierAssigned,
    DossierDueSoon,
    DossierOverdue,
    OfficialUpdated,
    OfficialNotified,
    MessageDelivered,
    MessageFailed,
    ComplaintReminded,
)
# Every other lifecycle event other services publish: each is a step of the public history.
PROGRESS = tuple(
    event for event in EVENT_TYPES.values() if event.TOPIC.owner not in ("intake", "stats") and event not in INTERNAL
)


def create(settings: IntakeSettings | None = None) -> Service[IntakeContext]:
    return Service(
        "intake",
        settings or IntakeSettings(),
        handlers=dict.fromkeys(PROGRESS, on_progress) | {ResultArchived: on_result_archived},
        routers=ROUTERS,
        context=start,
        state=store.TRACKING,
    )
