"""Batched, idempotent event handling with retries and a dead-letter topic.

FastStream subscribes the service's consumer group and decodes each record into the
contract's `Envelope` (or `Unreadable`, with the reason). Then, for each batch: the
unreadable records and payloads that do not match their type are dead-lettered at
once; every new event is applied in ONE database transaction together with the inbox
ids and the outbox entries. If the batch fails, each event is retried on its own with
backoff; one that still fails is dead-lettered and the others flow on. Offsets are
committed only after all of this. See docs/adr/0007-faststream-and-the-runtime.md.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage, Topic
from faststream.message import StreamMessage
from motcua_contracts import Envelope, Event, dead_letter_topic
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

from .documents import Documents, Writer
from .logs import current_dossier
from .metrics import Metrics
from .outbox import OutboxRelay
from .retry import backoff
from .settings import ConsumerSettings
from .store import INBOX, Pending, Tx
from .telemetry import DOSSIER_ATTRIBUTE, context_from_headers

log = logging.getLogger(__name__)

Handler = Callable[[Any, Tx, Any], Awaitable[None]]
"""`handler(event, tx, context)`: apply one typed event; `context` is the service's reference data."""

Item = tuple[ConsumerRecord, Envelope, Event]
DLQ_REASON = "motcua-dlq-reason"
# Set on events replayed from a dead-letter topic: only that service takes them again.
REPLAY_FOR = "motcua-replay-for"


class RejectedEvent(Exception):
    """Raised by a handler for an event it must never act on (e.g. one it cannot verify):
    parked on the dead-letter topic at once with this reason, without retries."""


class Unreadable(BaseModel):
    """A record that is not an envelope of the contracts; it is dead-lettered with `reason`."""

    reason: str


def read(record: ConsumerRecord) -> Envelope | Unreadable:
    """The record's envelope, or why there is none."""
    try:
        return Envelope.model_validate_json(record.value or b"")
    except (ValidationError, ValueError) as exc:
        return Unreadable(reason=f"malformed event: {_short(exc)}")


async def decode_batch(message: StreamMessage[Any]) -> list[Envelope | Unreadable]:
    """FastStream decoder: one envelope (or `Unreadable`) per record, in order."""
    return [read(record) for record in message.raw_message]


class EventConsumer:
    """Subscribes one consumer group (named after the service) to its handlers' topics."""

    def __init__(
        self,
        service: str,
        handlers: Mapping[type[Event], Handler],
        documents: Documents,
        broker: KafkaBroker,
        relay: OutboxRelay,
        settings: ConsumerSettings,
        metrics: Metrics,
        context: Callable[[], Any],
        state: str | None = None,
    ) -> None:
        self.service = service
        self.handlers = {event_type.TYPE: handler for event_type, handler in handlers.items()}
        self.topics = sorted({event_type.TOPIC.name for event_type in handlers})
        self.documents, self.broker, self.relay, self.settings = documents, broker, relay, settings
        self.metrics = metrics
        self.context = context  # the service's reference data, once it has started
        self.state = state  # collection keyed by dossier code, read for a whole batch at once
        self.outage_pauses = 0
        self.tracer = trace.get_tracer(f"motcua.{service}")

    def subscribe(self) -> None:
        if not self.topics:
            return

        # Topics exist already (created from the registry); the service may not create any.
        @self.broker.subscriber(
            *(Topic(name, declare=False) for name in self.topics),
            group_id=self.service,
            batch=True,
            max_records=self.settings.batch_max,
            batch_timeout_ms=self.settings.batch_wait_ms,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=decode_batch,
            title=f"{self.service}-events",
        )
        async def on_events(events: list[Envelope | Unreadable], message: KafkaMessage) -> None:
            try:
                await self.handle(list(zip(message.raw_message, events, strict=True)))
            except Exception:
                # Database or broker trouble: rewind to the batch's first records and try
                # again after a pause, rather than let the next commit skip this batch.
                self.outage_pauses += 1
                pause = backoff(self.outage_pauses, self.settings.retry_backoff_s)
                log.exception("batch not applied; will retry from the same offsets in %.1fs", pause)
                await message.nack()
                await asyncio.sleep(pause)
                return
            self.outage_pauses = 0
            await message.ack()

    async def handle_records(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle raw records as a batch (what the subscriber does after decoding)."""
        await self.handle([(record, read(record)) for record in records])

    async def handle(self, batch: list[tuple[ConsumerRecord, Envelope | Unreadable]]) -> None:
        items: list[Item] = []
        for record, envelope in batch:
            replay_for = _headers(record).get(REPLAY_FOR)
            if replay_for is not None and replay_for != self.service:
                continue  # replayed from another service's dead letters; handled here already
            if isinstance(envelope, Unreadable):
                await self.dead_letter(record, envelope.reason)
                continue
            if envelope.type not in self.handlers:
                continue  # another consumer's event, or a newer type we don't need
            try:
                items.append((record, envelope, envelope.payload()))
            except (ValidationError, ValueError) as exc:
                await self.dead_letter(record, f"malformed event: {_short(exc)}")
        if not items:
            return
        try:
            await self.apply(items)
        except Exception as exc:
            if is_outage(exc):
                raise
            log.warning("batch of %d failed; retrying its events one by one", len(items), exc_info=True)
            for item in items:
                await self.apply_one_or_dead_letter(item)

    async def apply_one_or_dead_letter(self, item: Item) -> None:
        """Retry one event with backoff; park it if its handler keeps failing.

        Outages (database or broker unreachable) are not the event's fault: they
        propagate, and the whole batch is retried later from the same offsets.
        """
        attempts = self.settings.retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self.apply([item])
                return
            except RejectedEvent as exc:
                await self.dead_letter(item[0], f"refused: {exc}")
                return
            except Exception as exc:
                if is_outage(exc):
                    raise
                if attempt == attempts:
                    await self.dead_letter(item[0], f"handler failed {attempts} times: {_short(exc)}")
                    return
                await asyncio.sleep(backoff(attempt, self.settings.retry_backoff_s))

    async def apply(self, items: list[Item]) -> None:
        """Apply the new events of `items` with their inbox and outbox entries in one transaction."""
        pending = Pending()
        context = self.context()

        async def work(writer: Writer) -> None:
            pending.clear()
            ids = [envelope.id for _, envelope, _ in items]
            seen = set(await writer.get_many(INBOX, ids))
            handled: list[dict[str, Any]] = []
            if self.state:
                await Tx(writer, self.service, None, pending).prefetch(self.state, [e.subject for _, e, _ in items])
            for record, envelope, payload in items:
                if envelope.id in seen:
                    continue
                seen.add(envelope.id)
                await self.run_handler(record, envelope, payload, Tx(writer, self.service, envelope, pending), context)
                handled.append({"_id": envelope.id, "type": envelope.type, "at": datetime.now(UTC)})
            await pending.flush(writer)
            await writer.insert(INBOX, handled)

        await self.documents.transaction(work)
        for _, envelope, _ in items:
            self.metrics.handled.labels(self.service, envelope.type).inc()
        if pending.outbox:
            self.relay.notify()

    async def run_handler(
        self, record: ConsumerRecord, envelope: Envelope, payload: Event, tx: Tx, context: Any
    ) -> None:
        token = current_dossier.set(envelope.subject)
        try:
            with self.tracer.start_as_current_span(
                f"{self.service} handle {envelope.type}",
                context=context_from_headers(record.headers),
                kind=SpanKind.CONSUMER,
                attributes={
                    DOSSIER_ATTRIBUTE: envelope.subject,
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.message.id": envelope.id,
                },
            ):
                await self.handlers[envelope.type](payload, tx, context)
        finally:
            current_dossier.reset(token)

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        """Park `record` unchanged on this service's dead-letter topic, with why and where from."""
        headers = _headers(record)
        headers |= {
            DLQ_REASON: reason,
            "motcua-dlq-service": self.service,
            "motcua-dlq-topic": record.topic,
            "motcua-dlq-partition": str(record.partition),
            "motcua-dlq-offset": str(record.offset),
            "motcua-dlq-time": datetime.now(UTC).isoformat(),
        }
        topic = dead_letter_topic(self.service).name
        for attempt in itertools.count(1):  # never acknowledge an event that is neither handled nor parked
            try:
                await self.broker.publish(record.value, topic, key=record.key, headers=headers)
                break
            except Exception:
                log.warning("dead-letter topic unavailable; retrying", exc_info=True)
                await asyncio.sleep(backoff(attempt, self.settings.retry_backoff_s))
        self.metrics.dead_lettered.labels(self.service, record.topic).inc()
        log.error(
            "event dead-lettered",
            extra={"fields": {"reason": reason, "topic": record.topic, "offset": record.offset}},
        )


def is_outage(exc: BaseException) -> bool:
    """True for failures of the database or broker, which retrying later can cure."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout | WTimeoutError | KafkaError):
        return True
    return isinstance(exc, PyMongoError) and (
        exc.has_error_label("TransientTransactionError") or exc.has_error_label("UnknownTransactionCommitResult")
    )


def _headers(record: ConsumerRecord) -> dict[str, str]:
    """Record headers as text (Kafka allows null header values)."""
    return {key: (value or b"").decode(errors="replace") for key, value in record.headers or ()}


def _short(exc: Exception, limit: int = 500) -> str:
    """The error in one line, without the values it was given (they may hold personal data)."""
    if isinstance(exc, ValidationError):
        text = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        )
    else:
        text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
