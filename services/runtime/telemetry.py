"""OpenTelemetry tracing; trace context travels in Kafka headers (W3C traceparent).

One dossier is one trace: intake starts it on the HTTP request, every event
carries it, and each consumer starts its span as a child of the event's context.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer

from .settings import ServiceSettings

DOSSIER_ATTRIBUTE = "motcua.dossier_code"


def setup_tracing(service: str, settings: ServiceSettings) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if settings.trace_file:
        # Line-buffered JSON lines: one finished span per line.
        out = open(settings.trace_file, "a", buffering=1, encoding="utf-8")
        exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def context_from_headers(headers: Iterable[tuple[str, bytes]]) -> Context:
    """The trace context an event was published with."""
    return context_from_carrier({key: (value or b"").decode(errors="replace") for key, value in headers or ()})


def context_from_carrier(carrier: dict[str, str]) -> Context:
    """A trace context saved earlier with `current_trace_headers()`."""
    return propagate.extract(carrier)


def current_trace_headers() -> dict[str, str]:
    """Headers that make the current span the parent of the consumer's span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def dossier_span(
    tracer: Tracer, name: str, dossier_code: str, carrier: Mapping[str, str], kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[Span]:
    """A span in the dossier's own trace, whose context was saved with `current_trace_headers()`:
    work that starts outside any event (an official's request, a timer, a gateway's callback)
    stays in the one trace of its dossier, and so do the events it emits."""
    with tracer.start_as_current_span(
        name, context=context_from_carrier(dict(carrier)), kind=kind, attributes={DOSSIER_ATTRIBUTE: dossier_code}
    ) as span:
        yield span
