"""The thin shared runtime every service uses: settings, app factory, documents,
outbox and inbox, retries and dead-lettering, tracing, metrics, health and structured logs."""

from .clock import LOCAL_TZ, utcnow
from .consumer import Handler, RejectedEvent
from .documents import Documents, Duplicate
from .service import Runtime, RuntimeDep, Service, get_context, run
from .settings import ServiceSettings
from .store import Tx
from .telemetry import DOSSIER_ATTRIBUTE, context_from_carrier, current_trace_headers

__all__ = [
    "DOSSIER_ATTRIBUTE",
    "LOCAL_TZ",
    "Documents",
    "Duplicate",
    "Handler",
    "RejectedEvent",
    "Runtime",
    "RuntimeDep",
    "Service",
    "ServiceSettings",
    "Tx",
    "context_from_carrier",
    "current_trace_headers",
    "get_context",
    "run",
    "utcnow",
]
