"""Event contracts of the motcua platform.

from motcua_contracts import Envelope, DossierReceived
envelope = Envelope.model_validate_json(record.value)
payload = envelope.payload()          # -> DossierReceived, ...
"""

from .envelope import EVENT_TYPES, Envelope, Event, UnknownEventType, event
from .events import (
    Applicant,
    CitizenNotified,
    ComponentDigitised,
    ComponentReceived,
    DossierApologised,
    DossierApproved,
    DossierAssigned,
    DossierCompleted,
    DossierDigitised,
    DossierDueSoon,
    DossierOverdue,
    DossierReceived,
    DossierRefused,
    DossierStepStarted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierTransferred,
    DossierWithdrawalDeclined,
    DossierWithdrawalRequested,
    DossierWithdrawn,
    PaymentCancelled,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultSigned,
    StatsSnapshot,
)
from .ids import new_event_id
from .topics import ALL_TOPICS, DEAD_LETTER_TOPICS, EVENT_TOPICS, SERVICES, Topic, dead_letter_topic

__all__ = [
    "ALL_TOPICS",
    "DEAD_LETTER_TOPICS",
    "EVENT_TOPICS",
    "EVENT_TYPES",
    "SERVICES",
    "Applicant",
    "CitizenNotified",
    "ComponentDigitised",
    "ComponentReceived",
    "DossierApologised",
    "DossierApproved",
    "DossierAssigned",
    "DossierCompleted",
    "DossierDigitised",
    "DossierDueSoon",
    "DossierOverdue",
    "DossierReceived",
    "DossierRefused",
    "DossierStepStarted",
    "DossierSupplementRequested",
    "DossierSupplemented",
    "DossierTransferred",
    "DossierWithdrawalDeclined",
    "DossierWithdrawalRequested",
    "DossierWithdrawn",
    "Envelope",
    "Event",
    "PaymentCancelled",
    "PaymentCompleted",
    "PaymentNotRequired",
    "PaymentRequested",
    "ResultSigned",
    "StatsSnapshot",
    "Topic",
    "UnknownEventType",
    "dead_letter_topic",
    "event",
    "new_event_id",
]
