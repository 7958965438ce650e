"""Prometheus metrics at `GET /metrics`: FastStream's Kafka middleware (messages received
and published per topic, processing time, errors) plus the runtime's own counters."""

from __future__ import annotations

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """One registry per running service (tests run many services in one process)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.handled = self.counter("motcua_events_handled", "Events applied by the service's handlers.", "type")
        self.dead_lettered = self.counter(
            "motcua_events_dead_lettered", "Events parked on the dead-letter topic.", "topic"
        )
        self.published = self.counter("motcua_events_published", "Events published by the outbox relay.")

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter labelled with the service (and `labels`), in this service's registry."""
        return Counter(name, documentation, ["service", *labels], registry=self.registry)

    def gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(name, documentation, ["service"], registry=self.registry)

    def kafka_middleware(self) -> KafkaPrometheusMiddleware:
        return KafkaPrometheusMiddleware(registry=self.registry, app_name=self.service, metrics_prefix="faststream")

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
