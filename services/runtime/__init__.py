"""The thin shared runtime every service uses: settings, app factory, outbox and
inbox, retries and dead-lettering, tracing, health and structured logs."""

from .clock import LOCAL_TZ, utcnow
from .consumer import Handler
from .service import Runtime, RuntimeDep, Service, run
from .settings import ServiceSettings
from .store import Tx
from .telemetry import DOSSIER_ATTRIBUTE, context_from_carrier, current_trace_headers

__all__ = [
    "DOSSIER_ATTRIBUTE",
    "LOCAL_TZ",
    "Handler",
    "Runtime",
    "RuntimeDep",
    "Service",
    "ServiceSettings",
    "Tx",
    "context_from_carrier",
    "current_trace_headers",
    "run",
    "utcnow",
]
