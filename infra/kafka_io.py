"""Reading topics from the operator's side (no consumer group, nothing committed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord


def topic_reader(client: Mapping[str, str], topic: str, from_start: bool) -> AIOKafkaConsumer:
    """A consumer of every partition of `topic`, starting at its beginning or its end;
    `client` is the broker address and user (`Stack.kafka_client`)."""
    return AIOKafkaConsumer(
        topic,
        **client,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_start else "latest",
    )


async def read_topic(client: Mapping[str, str], topic: str) -> AsyncIterator[ConsumerRecord]:
    """Yield every record `topic` holds now, then stop."""
    consumer = topic_reader(client, topic, from_start=True)
    try:
        await consumer.start()
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    yield record
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
