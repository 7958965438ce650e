"""Structured JSON logs carrying the dossier code and the trace id."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

from opentelemetry import trace

current_dossier: ContextVar[str | None] = ContextVar("current_dossier", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if dossier := current_dossier.get():
            entry["dossier_code"] = dossier
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def redacted(error: BaseException) -> str:
    """An error's traceback without its messages: each exception's type and frames, the cause first.
    A message may quote the request that caused it (a validation error quotes the values sent)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\nwhich led to\n".join(
        f"{type(e).__module__}.{type(e).__qualname__}\n{''.join(traceback.format_tb(e.__traceback__))}"
        for e in reversed(chain)
    )


def setup_logging(service: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # httpx logs every request (the signing service asks the TSA twice a result); fontTools every subset
    for noisy in ("aiokafka", "faststream", "pymongo", "uvicorn.access", "httpx", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
