"""Rebuilding a read model from the topics' history (replay), beside the one being served.

`request()` opens a new generation (`building`); live events go to it from then on. The
rebuild job of one replica (a leased claim) reads every partition of the model's topics
from the beginning up to the end offsets it found when it started, applies the records
in batches (each batch with its end positions in one transaction, so a crash resumes
where it stopped), and records its progress; then the new generation is served and the
old one dropped. Other read models, and the served generation, go on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from motcua_contracts import EVENT_TYPES, Envelope, Event
from pydantic import ValidationError

from services.runtime import Duplicate, Runtime, Tx, utcnow
from services.runtime.service import kafka_client

from .store import MODELS, REPLICA, ReadModel, control

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 5000  # records read at a time
# Keys (dossiers) folded in memory before what they add is written, with the positions: a
# dossier's events lie across every topic, so a checkpoint by events read would write most
# dossiers again each time; by keys held, each is written about once (a few hundred MB).
CHECKPOINT = 200_000
CHUNK = 500  # dossiers written per transaction at a checkpoint
PROGRESS_EVERY_S = 2.0


def topics(model: ReadModel) -> list[tuple[str, int]]:
    """The topics (and their partition counts) holding the events `model` reads."""
    return sorted({(event.TOPIC.name, event.TOPIC.partitions) for event in model.events})


async def ensure(runtime: Runtime[Any], model: ReadModel) -> dict[str, Any]:
    """The model's control document; a model never seen before is filled from history into
    generation 1 (served while it fills), one whose version changed is rebuilt beside it."""
    document = await control(runtime.documents, model)
    if document is None:
        fresh = {"_id": model.name, "live": 1, "version": model.version, "building": 1, "rebuild": None}
        with contextlib.suppress(Duplicate):  # another replica was first
            await runtime.documents.insert(MODELS, [fresh])
    elif document.get("version") != model.version:
        await request(runtime, model)
    document = await control(runtime.documents, model)
    assert document is not None
    for generation in (document["live"], document.get("building")):
        if generation:
            await model.prepare(runtime.documents, generation)
    return document


async def request(runtime: Runtime[Any], model: ReadModel) -> dict[str, Any]:
    """Start rebuilding `model` into a fresh generation (or return the rebuild under way)."""
    document = await control(runtime.documents, model)
    assert document is not None, "ensure() runs at start"
    if document.get("building"):
        return document
    opening = document["live"] + 1
    for collection in model.collections(opening):
        await runtime.documents.drop(collection)  # leftovers of an abandoned attempt, if any
    await model.prepare(runtime.documents, opening)

    async def work(tx: Tx) -> dict[str, Any]:
        current = await control(tx, model)
        assert current is not None
        if not current.get("building"):
            current = current | {"building": opening, "building_version": model.version, "rebuild": None}
            tx.save(MODELS, current)
        return current

    return await runtime.transact(work)


def progress(document: dict[str, Any] | None) -> dict[str, Any]:
    """What an operator sees of a model: the generation served and the rebuild's progress."""
    if document is None:
        return {"state": "unknown"}
    rebuild = document.get("rebuild") or {}
    total, done = rebuild.get("total"), rebuild.get("done", 0)
    return {
        "model": document["_id"],
        "live": document["live"],
        "version": document.get("version"),
        "state": "rebuilding" if document.get("building") else "live",
        "building": document.get("building"),
        "events_total": total,
        "events_done": done,
        "percent": round(100 * done / total, 1) if total else (100.0 if total == 0 else None),
        "events_per_s": rebuild.get("events_per_s"),
        "started_at": rebuild.get("started_at"),
        "finished_at": document.get("finished_at"),
    }


async def rebuilder(runtime: Runtime[Any]) -> None:
    """Background job: take on any requested rebuild whose lease is free, one at a time."""
    while True:
        for model in runtime.context.models:
            try:
                if await _claim(runtime, model):
                    await run(runtime, model)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rebuild of %s failed; it will be taken up again", model.name)
        await asyncio.sleep(runtime.settings.rebuild_poll_s)


async def _claim(runtime: Runtime[Any], model: ReadModel) -> bool:
    async def work(tx: Tx) -> bool:
        document = await control(tx, model)
        if document is None or not document.get("building"):
            return False
        rebuild = document.get("rebuild") or {}
        now = utcnow()
        if rebuild.get("owner") not in (None, REPLICA) and rebuild.get("lease_until") and rebuild["lease_until"] > now:
            return False
        tx.save(MODELS, document | {"rebuild": rebuild | {"owner": REPLICA, "lease_until": now + LEASE}})
        return True

    return await runtime.transact(work)


async def run(runtime: Runtime[Any], model: ReadModel, sources: list[tuple[str, int]] | None = None) -> None:
    """Fill the generation being built from the topics' history (`sources`: other topics and
    their partition counts, for a benchmark), then serve it."""
    consumer = AIOKafkaConsumer(**kafka_client(runtime.settings, runtime.name), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for topic, count in sources or topics(model) for p in range(count)]
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        replay = await Replay.resume(runtime, model, starts, await consumer.end_offsets(partitions))
        for tp in partitions:
            consumer.seek(tp, replay.positions[tp])
        remaining = {tp for tp in partitions if replay.positions[tp] < replay.ends[tp]}
        log.info("rebuilding %s into generation %d: %d events", model.name, replay.generation, replay.left())
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=BATCH)
            for tp in list(remaining):
                if await consumer.position(tp) >= replay.ends[tp]:
                    remaining.discard(tp)
            await replay.add([r for batch in fetched.values() for r in batch], last=not remaining)
    finally:
        await consumer.stop()
    await replay.finish()


class Replay:
    """One rebuild's work: records in, folded in memory, written at checkpoints with the
    positions they reach; `finish()` serves the new generation."""

    def __init__(
        self,
        runtime: Runtime[Any],
        model: ReadModel,
        document: dict[str, Any],
        starts: dict[TopicPartition, int],
        ends: dict[TopicPartition, int],
    ) -> None:
        self.runtime, self.model, self.document = runtime, model, document
        self.generation: int = document["building"]
        rebuild = document.get("rebuild") or {}
        if rebuild.get("ends"):  # resuming: the same end positions as when it began
            ends = {TopicPartition(t, p): end for t, p, end in rebuild["ends"]}
        reached = {TopicPartition(t, p): offset for t, p, offset in rebuild.get("positions", [])}
        self.ends = ends
        self.positions = {tp: max(reached.get(tp, start), start) for tp, start in starts.items()}
        total = sum(ends[tp] - start for tp, start in starts.items())
        self.done = sum(self.positions[tp] - start for tp, start in starts.items())
        self.state = rebuild | {
            "total": total,
            "done": self.done,
            "ends": [[tp.topic, tp.partition, end] for tp, end in ends.items()],
            "started_at": rebuild.get("started_at") or utcnow(),
        }
        self.wanted = {event.TYPE for event in model.events}
        self.partial: dict[str, Any] = {}  # what the records since the last checkpoint add
        self.began, self.began_done, self.reported = time.monotonic(), self.done, 0.0

    @classmethod
    async def resume(
        cls,
        runtime: Runtime[Any],
        model: ReadModel,
        starts: dict[TopicPartition, int],
        ends: dict[TopicPartition, int],
    ) -> Replay:
        document = await control(runtime.documents, model)
        assert document is not None and document.get("building"), f"no rebuild of {model.name} was requested"
        return cls(runtime, model, document, starts, ends)

    def left(self) -> int:
        return self.state["total"] - self.done

    async def add(self, records: Sequence[ConsumerRecord], last: bool = False) -> None:
        """Fold `records` (those before the end positions); write a checkpoint when enough have
        been folded, or when these are the `last`."""
        records = [r for r in records if r.offset < self.ends[TopicPartition(r.topic, r.partition)]]
        self.model.fold(self.partial, parse(records, self.wanted))
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self.positions[tp] = max(self.positions[tp], record.offset + 1)
        self.done += len(records)
        elapsed = time.monotonic() - self.began
        self.state |= {
            "done": self.done,
            "events_per_s": round((self.done - self.began_done) / elapsed) if elapsed > 0 else None,
            "owner": REPLICA,
            "lease_until": utcnow() + LEASE,
        }
        if len(self.partial) >= CHECKPOINT or last:
            await self.checkpoint()
        elif time.monotonic() - self.reported >= PROGRESS_EVERY_S:
            await self.runtime.transact(lambda tx, state=dict(self.state): self._progress(tx, state))
            self.reported = time.monotonic()

    async def checkpoint(self) -> None:
        """Write what the folded records add, a chunk of keys per transaction, then the positions
        they reach: a crash in between repeats some chunks, which changes nothing (facts join)."""
        keys = list(self.partial)
        for start in range(0, len(keys), CHUNK):
            chunk = {key: self.partial[key] for key in keys[start : start + CHUNK]}
            await self.runtime.transact(lambda tx, chunk=chunk: self._absorb(tx, chunk))
        self.state["positions"] = [[tp.topic, tp.partition, offset] for tp, offset in self.positions.items()]
        await self.runtime.transact(lambda tx, state=dict(self.state): self._progress(tx, state))
        self.partial = {}

    async def finish(self) -> None:
        """Serve the new generation and drop the one it replaces."""
        await self.checkpoint()
        state = self.state | {"done": self.state["total"], "owner": None, "lease_until": None}

        async def serve(tx: Tx) -> None:
            document = await self._current(tx)
            version = document.get("building_version") or document.get("version")
            tx.save(
                MODELS,
                document
                | {"live": self.generation, "version": version, "building": None, "rebuild": state}
                | {"finished_at": utcnow()},
            )

        await self.runtime.transact(serve)
        if self.document["live"] != self.generation:
            for collection in self.model.collections(self.document["live"]):
                await self.runtime.documents.drop(collection)
        log.info("read model %s rebuilt: generation %d is served", self.model.name, self.generation)

    async def _current(self, tx: Tx) -> dict[str, Any]:
        document = await control(tx, self.model)
        if document is None or document.get("building") != self.generation:
            raise RuntimeError(f"the rebuild of {self.model.name} into generation {self.generation} was superseded")
        return document

    async def _absorb(self, tx: Tx, chunk: dict[str, Any]) -> None:
        await self._current(tx)
        await self.model.absorb(tx, self.generation, chunk)

    async def _progress(self, tx: Tx, state: dict[str, Any]) -> None:
        tx.save(MODELS, await self._current(tx) | {"rebuild": state})


def parse(records: Sequence[ConsumerRecord], wanted: set[str]) -> list[Event]:
    """The events of `records` the model reads; others, and unreadable records (the live
    consumer dead-letters those), are passed over."""
    events = []
    for record in records:
        try:
            envelope = Envelope.model_validate_json(record.value or b"")
            if envelope.type in wanted and envelope.type in EVENT_TYPES:
                events.append(envelope.payload())
        except (ValidationError, ValueError):
            continue
    return events
