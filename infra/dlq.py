"""Dead-letter topics: list what a service parked, and replay it once fixed.

Replay republishes each parked event to the topic it came from, marked for the
service that parked it: other consumer groups of that topic skip it, and the
service's inbox makes a replay of an event it did handle harmless. A replay
consumer group remembers what was replayed, so each record goes back once.
"""

from __future__ import annotations

import argparse

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from motcua_contracts import SERVICES, dead_letter_topic
from rich.console import Console
from rich.table import Table

from services.runtime.consumer import REPLAY_FOR

from .kafka_io import read_topic
from .stack import Stack

DLQ_PREFIX = "motcua-dlq-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("service", choices=SERVICES)


async def run(stack: Stack, args: argparse.Namespace) -> int:
    topic = dead_letter_topic(args.service).name
    if args.action == "list":
        table = Table(title=topic)
        for column in ("offset", "from", "reason"):
            table.add_column(column)
        async for record in read_topic(stack.kafka_client(), topic):
            headers = {k: v.decode(errors="replace") for k, v in record.headers}
            origin = f"{headers.get('motcua-dlq-topic')}[{headers.get('motcua-dlq-partition')}]@{headers.get('motcua-dlq-offset')}"
            table.add_row(str(record.offset), origin, headers.get("motcua-dlq-reason", "?"))
        Console().print(table)
        return 0
    replayed = await replay(stack, args.service)
    Console().print(f"replayed {replayed} event(s) from {topic}")
    return 0


async def replay(stack: Stack, service: str) -> int:
    topic = dead_letter_topic(service).name
    consumer = AIOKafkaConsumer(
        **stack.kafka_client(),
        group_id=f"{service}-dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**stack.kafka_client(), enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    count = 0
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        while await consumer.position(partition) < end:
            for record in (await consumer.getmany(partition, timeout_ms=1000)).get(partition, []):
                headers = {k: v for k, v in record.headers}
                origin = headers[f"{DLQ_PREFIX}topic"].decode()
                original = [(k, v) for k, v in record.headers if not k.startswith(DLQ_PREFIX) and k != REPLAY_FOR]
                original.append((REPLAY_FOR, service.encode()))  # only this service takes it again
                await producer.send_and_wait(origin, record.value, key=record.key, headers=original)
                count += 1
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return count
