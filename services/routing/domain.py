"""Routing rules (luân chuyển, xử lý): when a dossier can be decided, and how it ended.

Skeleton: a dossier is ready for a decision once it is received, digitised and
its fee settled; in skeleton mode it is then approved automatically. Workflows,
officers and deadlines come with the routing rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua_contracts.events import Outcome

from services.runtime.clock import LOCAL_TZ

# Dossier statuses, as synced to the national portal.
RECEIVED = "received"
WAITING_FOR_PAYMENT = "waiting_for_payment"
PROCESSING = "processing"
SIGNING = "signing"
DONE = "result_returned"
WAITING_FOR_SUPPLEMENT = "waiting_for_supplement"
WITHDRAWN = "withdrawn"


def ready_for_decision(dossier: dict[str, Any]) -> bool:
    """Received, digitised, fee settled, and not sent back for a supplement."""
    return (
        dossier.get("received", False)
        and dossier.get("digitised", False)
        and dossier.get("fee_settled", False)
        and not dossier.get("waiting_for_supplement", False)
    )


def decided(dossier: dict[str, Any]) -> bool:
    return dossier.get("status") in (SIGNING, DONE, WITHDRAWN)


def status_while_waiting(dossier: dict[str, Any]) -> str:
    if dossier.get("waiting_for_supplement"):
        return WAITING_FOR_SUPPLEMENT
    if dossier.get("payment_requested") and not dossier.get("fee_settled"):
        return WAITING_FOR_PAYMENT
    return PROCESSING if dossier.get("received") else RECEIVED


def classify(completed_at: datetime, due_at: datetime) -> Outcome:
    """Early / on time / late: the finishing date against the appointment date."""
    finished = completed_at.astimezone(LOCAL_TZ).date()
    due = due_at.astimezone(LOCAL_TZ).date()
    if finished < due:
        return "early"
    return "on_time" if finished == due else "late"
