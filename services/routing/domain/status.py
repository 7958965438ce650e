"""A dossier's processing status (trạng thái xử lý), as synced to the national portal.

Routing owns it: no other service keeps its own copy.
"""

from __future__ import annotations

from typing import Literal

RECEIVED = "received"
WAITING_FOR_PAYMENT = "waiting_for_payment"
PROCESSING = "processing"
WAITING_FOR_SUPPLEMENT = "waiting_for_supplement"
SIGNING = "signing"  # approved: the result waits for its signature
RESOLVED = "resolved"  # signed result waiting to be returned (đã giải quyết, chờ trả)
DONE = "result_returned"
WITHDRAWN = "withdrawn"
REFUSED = "refused"

Status = Literal[
    "received",
    "waiting_for_payment",
    "processing",
    "waiting_for_supplement",
    "signing",
    "resolved",
    "result_returned",
    "withdrawn",
    "refused",
]

CLOSED = (DONE, WITHDRAWN, REFUSED)
"""Nothing more happens to the dossier: no holder, no alarms."""

DECIDED = (SIGNING, RESOLVED, *CLOSED)
"""The outcome is settled: approved (and maybe signed or returned), refused or withdrawn."""

WHY_DECIDED = {
    SIGNING: "the result was already approved",
    RESOLVED: "the result was already approved and signed",
    DONE: "the result was already returned",
    REFUSED: "the dossier was already refused",
    WITHDRAWN: "the dossier was already withdrawn",
}
"""Why a withdrawal request is declined, by status."""
