"""Routing's domain (luân chuyển, xử lý): the dossier aggregate and the pure rules it keeps.

No I/O here: workflows and competent units (workflow.py), officials and assignment
(officials.py), deadlines (deadlines.py), statuses (status.py), the dossier
(record.py, progress.py, dossier.py) and the errors the rules raise (errors.py).
"""

from .deadlines import Alarm, classify, due_alarms, next_alarm, pending_alarms, step_due
from .dossier import Dossier
from .errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Refused
from .officials import ADMIN, LEADER, RECEIVING, SPECIALIST, Official, OfficialRole, Team, administering, pick_official
from .record import Apology, Pin, Refusal, SupplementRequest, Withdrawal
from .status import (
    CLOSED,
    DECIDED,
    DONE,
    PROCESSING,
    RECEIVED,
    REFUSED,
    RESOLVED,
    SIGNING,
    WAITING_FOR_PAYMENT,
    WAITING_FOR_SUPPLEMENT,
    WITHDRAWN,
    Status,
)
from .workflow import (
    DEFAULT_TEMPLATE,
    PROVINCE_WIDE,
    Step,
    UnresolvedAuthority,
    Workflow,
    WorkflowVersion,
    competent_unit,
    route,
    step_index,
)

__all__ = [
    "ADMIN",
    "CLOSED",
    "DECIDED",
    "DEFAULT_TEMPLATE",
    "DONE",
    "LEADER",
    "PROCESSING",
    "PROVINCE_WIDE",
    "RECEIVED",
    "RECEIVING",
    "REFUSED",
    "RESOLVED",
    "SIGNING",
    "SPECIALIST",
    "WAITING_FOR_PAYMENT",
    "WAITING_FOR_SUPPLEMENT",
    "WITHDRAWN",
    "Alarm",
    "Apology",
    "Conflict",
    "DomainError",
    "Dossier",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Official",
    "OfficialRole",
    "Pin",
    "Refusal",
    "Refused",
    "Status",
    "Step",
    "SupplementRequest",
    "Team",
    "UnresolvedAuthority",
    "Withdrawal",
    "Workflow",
    "WorkflowVersion",
    "administering",
    "classify",
    "competent_unit",
    "due_alarms",
    "next_alarm",
    "pending_alarms",
    "pick_official",
    "route",
    "step_due",
    "step_index",
]
