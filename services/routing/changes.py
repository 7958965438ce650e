"""Writing one change of a dossier inside the caller's transaction: the dossier, the
workloads of the officials it passed between, and the events it returned (outbox)."""

from __future__ import annotations

from collections.abc import Sequence

from motcua_contracts import Event

from services.runtime import Tx

from .domain import Dossier, Team
from .store import dossiers, officials
from .store.officials import Rosters


async def team_of(tx: Tx, rosters: Rosters, dossier: Dossier) -> Team:
    """The officials of the dossier's units and its current holder, as this transaction sees them."""
    return await officials.team(tx, rosters, dossier.units.values(), also=[dossier.holder])


def commit(tx: Tx, dossier: Dossier, team: Team | None = None, events: Sequence[Event] = ()) -> None:
    """Save the dossier and the workloads that moved; publish its events with the transaction."""
    dossiers.save(tx, dossier)
    if team is not None:
        officials.save_workloads(tx, team)
    for event in events:
        # a dossier known only by other services' facts has no commune yet: the causing event's is used
        tx.emit(event, commune=dossier.commune)
