"""The status table: each process's health and each consumer group's lag."""

from __future__ import annotations

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from motcua_contracts import SERVICES
from rich.table import Table

from .stack import CA, GATEWAY, INFRA, ISSUER, MESSAGING, TSA, Stack


def process_table(stack: Stack) -> Table:
    table = Table(title=f"motcua stack '{stack.name}'")
    for column in ("process", "pid", "memory", "address", "health"):
        table.add_column(column)
    for process in INFRA:
        pid = stack.pid(process)
        address = stack.kafka_bootstrap if process == "kafka" else stack.mongo_address
        table.add_row(process, str(pid or "-"), _memory(pid), address, "[green]running" if pid else "[red]stopped")
    outside = (
        (ISSUER, stack.issuer_url),
        (GATEWAY, stack.gateway_url),
        (CA, stack.ca_url),
        (TSA, stack.tsa_url.removesuffix("/tsa")),
        (MESSAGING, stack.messaging_url),
    )
    for process, url in outside:
        pid = stack.pid(process)
        health = _readiness(url) if pid else "[red]stopped"
        table.add_row(process, str(pid or "-"), _memory(pid), url, health)
    for service in SERVICES:
        pid = stack.pid(service)
        health = _readiness(stack.service_url(service)) if pid else "[red]stopped"
        table.add_row(service, str(pid or "-"), _memory(pid), stack.service_url(service), health)
    return table


def _memory(pid: int | None) -> str:
    """Resident memory of a process, from /proc."""
    if pid is None:
        return "-"
    try:
        for line in open(f"/proc/{pid}/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return "?"


def _readiness(url: str) -> str:
    try:
        response = httpx.get(f"{url}/ready", timeout=3)
    except httpx.HTTPError as exc:
        return f"[red]no answer ({type(exc).__name__})"
    if response.status_code == 200:
        return "[green]ready"
    return f"[yellow]{response.json().get('checks')}"


async def consumer_lag(stack: Stack) -> dict[str, dict[str, int]]:
    """{group: {topic: messages not yet handled}} for every service's consumer group."""
    admin = AIOKafkaAdminClient(**stack.kafka_client(), request_timeout_ms=5000)
    consumer = AIOKafkaConsumer(**stack.kafka_client())
    await admin.start()
    await consumer.start()
    try:
        lag: dict[str, dict[str, int]] = {}
        for group in SERVICES:
            committed = await admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await consumer.end_offsets(list(committed))
            per_topic: dict[str, int] = {}
            for partition, meta in committed.items():
                behind = ends[partition] - max(meta.offset, 0)
                per_topic[partition.topic] = per_topic.get(partition.topic, 0) + behind
            lag[group] = per_topic
        return lag
    finally:
        await consumer.stop()
        await admin.close()


def lag_table(lag: dict[str, dict[str, int]]) -> Table:
    table = Table(title="consumer group lag (events not yet handled)")
    for column in ("group", "topic", "lag"):
        table.add_column(column)
    for group, topics in lag.items():
        for topic, behind in sorted(topics.items()):
            table.add_row(group, topic, f"[green]{behind}" if behind == 0 else f"[yellow]{behind}")
    return table


__all__ = ["consumer_lag", "lag_table", "process_table"]
