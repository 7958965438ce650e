"""Routing's domain (luân chuyển, xử lý): the dossier aggregate and the pure rules it keeps.

No I/O here: workflows and competent units (workflow.py), officials and assignment
(officials.py), who may give which roles (roles.py), deadlines (deadlines.py), statuses (status.py), the dossier
(record.py, progress.py, dossier.py) and the errors the rules raise (errors.py).
"""

from .deadlines import APOLOGY_HORIZON, Alarm, classify, due_alarms, next_alarm, pending_alarms, step_due
from .dossier import Dossier
from .errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Refused
from .officials import ADMIN, LEADER, RECEIVING, SPECIALIST, Official, OfficialRole, Team, administering, pick_official
from .record import Apology, Pin, Refusal, SupplementRequest, Withdrawal
from .roles import (
    FOUR_EYES_ROLES,
    ROLE_CHANGE_OPEN_FOR,
    RoleChange,
    granted,
    needs_second_administrator,
    standing,
)
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
    "APOLOGY_HORIZON",
    "CLOSED",
    "DECIDED",
    "DEFAULT_TEMPLATE",
    "DONE",
    "FOUR_EYES_ROLES",
    "LEADER",
    "PROCESSING",
    "PROVINCE_WIDE",
    "RECEIVED",
    "RECEIVING",
    "REFUSED",
    "RESOLVED",
    "ROLE_CHANGE_OPEN_FOR",
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
    "RoleChange",
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
    "granted",
    "needs_second_administrator",
    "next_alarm",
    "pending_alarms",
    "pick_official",
    "route",
    "standing",
    "step_due",
    "step_index",
]
