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
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from motcua_contracts import EVENT_TYPES, Envelope, Event
from pydantic import ValidationError

from services.runtime import Runtime, Tx, utcnow
from services.runtime.service import kafka_client

from .store import MODELS, READ_MODELS, REPLICA, ReadModel, control

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 5000  # records read at a time
CHECKPOINT = 200_000  # records folded in memory before what they add is written, with the positions
CHUNK = 500  # dossiers written per transaction at a checkpoint
PROGRESS_EVERY_S = 2.0


def topics(model: ReadModel) -> list[tuple[str, int]]:
    """The topics (and their partition counts) holding the events `model` reads."""
    return sorted({(event.TOPIC.name, event.TOPIC.partitions) for event in model.events})


async def ensure(runtime: Runtime[Any], model: ReadModel) -> dict[str, Any]:
    """The model's control document; a model never seen before, or whose version changed, is
    (re)built from history (the first one from generation 1, served while it fills)."""

    async def work(tx: Tx) -> dict[str, Any]:
        document = await control(tx, model)
        if document is None:
            document = {"_id": model.name, "live": 1, "version": model.version, "building": 1, "rebuild": None}
            tx.save(MODELS, document)
        elif document.get("version") != model.version and not document.get("building"):
            document = _requested(document, model)
            tx.save(MODELS, document)
        return document

    document = await runtime.transact(work)
    for generation in (document["live"], document.get("building")):
        if generation:
            await model.prepare(runtime.documents, generation)
    return document


def _requested(document: dict[str, Any], model: ReadModel) -> dict[str, Any]:
    return document | {"building": document["live"] + 1, "building_version": model.version, "rebuild": None}


async def request(runtime: Runtime[Any], model: ReadModel) -> dict[str, Any]:
    """Start rebuilding `model` into a fresh generation (or return the rebuild under way)."""

    async def work(tx: Tx) -> dict[str, Any]:
        document = await control(tx, model)
        assert document is not None, "ensure() runs at start"
        if not document.get("building"):
            document = _requested(document, model)
            tx.save(MODELS, document)
        return document

    document = await runtime.transact(work)
    for collection in model.collections(document["building"]):
        await runtime.documents.drop(collection)  # leftovers of an abandoned attempt, if any
    await model.prepare(runtime.documents, document["building"])
    return document


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
    settings = runtime.settings
    while True:
        for model in READ_MODELS:
            try:
                if await _claim(runtime, model):
                    await run(runtime, model)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rebuild of %s failed; it will be taken up again", model.name)
        await asyncio.sleep(getattr(settings, "rebuild_poll_s", 2.0))


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
    document = await runtime.documents.get(MODELS, model.name)
    assert document is not None
    generation, rebuild = document["building"], document.get("rebuild") or {}
    wanted = {event.TYPE for event in model.events}
    consumer = AIOKafkaConsumer(**kafka_client(runtime.settings, runtime.name), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for topic, count in sources or topics(model) for p in range(count)]
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = {tp: end for tp, end in (await consumer.end_offsets(partitions)).items()}
        if rebuild.get("ends"):  # resuming: the same end positions as when it began
            ends = {TopicPartition(t, p): end for t, p, end in rebuild["ends"]}
        positions = {TopicPartition(t, p): offset for t, p, offset in rebuild.get("positions", [])}
        for tp in partitions:
            consumer.seek(tp, max(positions.get(tp, starts[tp]), starts[tp]))
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        done = sum(max(positions.get(tp, starts[tp]), starts[tp]) - starts[tp] for tp in partitions)
        rebuild |= {
            "total": total,
            "ends": [[tp.topic, tp.partition, ends[tp]] for tp in partitions],
            "started_at": rebuild.get("started_at") or utcnow(),
        }
        began, began_done, reported = time.monotonic(), done, 0.0
        partial: dict[str, Any] = {}  # what the records read since the last checkpoint add
        pending = 0
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        log.info("rebuilding %s into generation %d: %d events", model.name, generation, total - done)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=BATCH)
            records = [r for tp, batch in fetched.items() for r in batch if r.offset < ends[tp]]
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            model.fold(partial, parse(records, wanted))
            for record in records:
                tp = TopicPartition(record.topic, record.partition)
                positions[tp] = max(positions.get(tp, 0), record.offset + 1)
            done, pending = done + len(records), pending + len(records)
            elapsed = time.monotonic() - began
            rebuild |= {
                "done": done,
                "events_per_s": round((done - began_done) / elapsed) if elapsed > 0 else None,
                "owner": REPLICA,
                "lease_until": utcnow() + LEASE,
            }
            if pending >= CHECKPOINT or not remaining:
                await checkpoint(runtime, model, generation, partial, rebuild, positions)
                partial, pending = {}, 0
            elif time.monotonic() - reported >= PROGRESS_EVERY_S:
                await runtime.transact(lambda tx, state=dict(rebuild): _progress(tx, model, generation, state))
                reported = time.monotonic()
        await runtime.transact(lambda tx: _finish(tx, model, generation, rebuild))
    finally:
        await consumer.stop()
    for collection in model.collections(document["live"]):
        if document["live"] != generation:
            await runtime.documents.drop(collection)
    log.info("read model %s rebuilt: generation %d is served", model.name, generation)


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


async def checkpoint(
    runtime: Runtime[Any],
    model: ReadModel,
    generation: int,
    partial: dict[str, Any],
    rebuild: dict[str, Any],
    positions: dict[TopicPartition, int],
) -> None:
    """Write what the folded records add, a chunk of keys per transaction, then the positions
    they reach: a crash in between repeats some chunks, which changes nothing (facts join)."""
    keys = list(partial)
    for start in range(0, len(keys), CHUNK):
        chunk = {key: partial[key] for key in keys[start : start + CHUNK]}
        await runtime.transact(lambda tx, chunk=chunk: _absorb(tx, model, generation, chunk))
    state = rebuild | {"positions": [[tp.topic, tp.partition, offset] for tp, offset in positions.items()]}
    rebuild["positions"] = state["positions"]
    await runtime.transact(lambda tx: _progress(tx, model, generation, state))


async def _current(tx: Tx, model: ReadModel, generation: int) -> dict[str, Any]:
    document = await control(tx, model)
    if document is None or document.get("building") != generation:
        raise RuntimeError(f"the rebuild of {model.name} into generation {generation} was superseded")
    return document


async def _absorb(tx: Tx, model: ReadModel, generation: int, chunk: dict[str, Any]) -> None:
    await _current(tx, model, generation)
    await model.absorb(tx, generation, chunk)


async def _progress(tx: Tx, model: ReadModel, generation: int, rebuild: dict[str, Any]) -> None:
    tx.save(MODELS, await _current(tx, model, generation) | {"rebuild": rebuild})


async def _finish(tx: Tx, model: ReadModel, generation: int, rebuild: dict[str, Any]) -> None:
    document = await control(tx, model)
    assert document is not None
    version = document.get("building_version") or document.get("version")
    rebuild = rebuild | {"done": rebuild.get("total", 0), "owner": None, "lease_until": None}
    tx.save(
        MODELS,
        document
        | {"live": generation, "version": version, "building": None, "rebuild": rebuild, "finished_at": utcnow()},
    )
