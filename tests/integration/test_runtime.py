"""The shared runtime against the real Kafka broker and MongoDB-protocol server:
inbox dedupe, retries with backoff, dead-lettering with the reason."""

from __future__ import annotations

from collections import Counter

import pytest
from aiokafka import ConsumerRecord
from motcua_contracts import Envelope, PaymentRequested, dead_letter_topic

from infra.kafka_io import read_topic
from infra.stack import Stack
from services.runtime import Runtime, Service, ServiceSettings, Tx
from services.runtime.documents import MongoDocuments

pytestmark = pytest.mark.e2e


def record(offset: int, dossier_code: str) -> ConsumerRecord:
    payload = PaymentRequested(dossier_code=dossier_code, reference=f"PAY-{dossier_code}", amount_vnd=1000, gateway="t")
    value = Envelope.wrap(payload, source="payment", commune="H40.101").to_bytes()
    return ConsumerRecord("motcua.payment.v1", 0, offset, 0, 0, dossier_code.encode(), value, None, 0, len(value), [])


async def test_redelivered_events_have_no_second_effect_and_poison_is_dead_lettered(stack: Stack) -> None:
    calls: Counter[str] = Counter()

    async def handler(event: PaymentRequested, tx: Tx, context: None) -> None:
        calls[event.dossier_code] += 1
        if event.dossier_code == "poison":
            raise RuntimeError("tax office unreachable")
        await tx.insert_now("effects", {"_id": event.dossier_code})

    settings = ServiceSettings(
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_password=stack.secrets()["kafka.stats"],
        mongo_url=stack.mongo_url,
        database="motcua_runtime_test",
        retry_attempts=3,
        retry_backoff_s=0.01,
    )
    runtime = Runtime(Service("stats", settings, handlers={PaymentRequested: handler}))
    documents = runtime.documents
    assert isinstance(documents, MongoDocuments)
    await documents.client.drop_database("motcua_runtime_test")
    await runtime.broker.start()
    try:
        batch = (record(1, "good-1"), record(2, "poison"), record(3, "good-2"))
        await runtime.consumer.handle_records(batch)
        await runtime.consumer.handle_records(
            batch
        )  # the same records again, as after a crash before the offset commit
        effects = await documents.find("effects")
    finally:
        await runtime.broker.stop()
        await documents.close()

    assert sorted(e["_id"] for e in effects) == ["good-1", "good-2"]
    # good-1: in the failed batch (rolled back), then alone; good-2 came after the poison, so only alone.
    # The redelivered batch calls neither: the inbox knows them.
    assert (calls["good-1"], calls["good-2"]) == (2, 1)
    # poison: once in each batch, then 3 attempts alone; a dead-lettered event is not in the inbox, so
    # that a replay from the dead-letter topic is handled again
    assert calls["poison"] == 2 * (1 + 3)
    parked = [
        dict(r.headers)
        async for r in read_topic(stack.kafka_client(), dead_letter_topic("stats").name)
        if r.key == b"poison"
    ]
    assert len(parked) == 2
    reason = parked[0]["motcua-dlq-reason"].decode()
    assert reason == "handler failed 3 times: tax office unreachable"
    assert parked[0]["motcua-dlq-topic"] == b"motcua.payment.v1"
