"""`motcua load`: submit realistic dossiers over HTTP at a chosen rate and watch
them complete on the routing topic; ends with a latency summary."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field

import httpx
from motcua_contracts import DossierCompleted, Envelope
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .dossiers import make_dossier
from .kafka_io import topic_reader
from .stack import Stack


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=200, help="dossiers to submit (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="submissions per second (default 20)")
    parser.add_argument("--communes", type=int, default=130, help="spread over this many communes (default 130)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for completion (default 300)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")


CONNECTIONS = 32


@dataclass
class Summary:
    submitted: int = 0
    rejected: int = 0
    completed: int = 0
    wall_s: float = 0.0
    to_receipt_ms: list[float] = field(default_factory=list)
    to_complete_ms: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


async def run(stack: Stack, args: argparse.Namespace) -> Summary:
    rng = random.Random(args.seed)
    intake = stack.service_url("intake")
    summary = Summary()
    submitted_at: dict[str, float] = {}
    completed: asyncio.Queue[str] = asyncio.Queue()
    # Bound requests in flight: a deep queue inside the HTTP client's pool costs more CPU than the platform.
    in_flight = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=intake, timeout=30, limits=httpx.Limits(max_connections=CONNECTIONS)
    ) as client:
        procedures = (await client.get("/procedures")).raise_for_status().json()["procedures"]
        communes = (await client.get("/communes")).raise_for_status().json()[: args.communes]
        watcher = asyncio.create_task(watch_completions(stack, completed, summary))
        await asyncio.sleep(1)  # let the watcher take its position at the end of the topic
        start = time.monotonic()
        with Progress(
            TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as bar:
            sent = bar.add_task("submitted", total=args.count)
            done = bar.add_task("completed", total=args.count)

            async def submit(i: int) -> None:
                await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
                t0 = time.monotonic()
                async with in_flight:
                    response = await client.post("/dossiers", json=make_dossier(rng, procedures, communes))
                if response.status_code == 201:
                    submitted_at[response.json()["dossier_code"]] = t0
                    summary.to_receipt_ms.append((time.monotonic() - t0) * 1000)
                    summary.submitted += 1
                else:
                    summary.rejected += 1
                bar.advance(sent)

            submissions = asyncio.gather(*(submit(i) for i in range(args.count)))
            deadline = start + args.count / args.rate + args.timeout
            pending: set[str] = set()
            while time.monotonic() < deadline:
                try:
                    code = await asyncio.wait_for(completed.get(), timeout=0.5)
                except TimeoutError:
                    code = None
                if code is not None:
                    pending.add(code)
                for code in [c for c in pending if c in submitted_at]:
                    pending.discard(code)
                    summary.completed += 1
                    summary.to_complete_ms.append((time.monotonic() - submitted_at[code]) * 1000)
                    bar.advance(done)
                if submissions.done() and summary.completed >= summary.submitted:
                    break
            await submissions
        summary.wall_s = time.monotonic() - start
        watcher.cancel()
    return summary


async def watch_completions(stack: Stack, completed: asyncio.Queue[str], summary: Summary) -> None:
    """Follow the routing topic from its current end; queue each completed dossier once."""
    topic = DossierCompleted.TOPIC.name
    consumer = topic_reader(stack.kafka_bootstrap, topic, from_start=False)
    await consumer.start()
    try:
        for partition in consumer.assignment():
            await consumer.position(partition)  # pin the start now, before any submission
        seen: set[str] = set()
        async for record in consumer:
            envelope = Envelope.model_validate_json(record.value)
            if envelope.type == DossierCompleted.TYPE and envelope.subject not in seen:
                seen.add(envelope.subject)
                outcome = envelope.data["outcome"]
                summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
                completed.put_nowait(envelope.subject)
    finally:
        await consumer.stop()


def percentiles(values: list[float]) -> tuple[str, str, str]:
    if len(values) < 2:
        return ("-", "-", "-") if not values else (f"{values[0]:.0f}",) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49]:.0f}", f"{cuts[94]:.0f}", f"{cuts[98]:.0f}"


def summary_table(summary: Summary) -> Table:
    table = Table(title="load summary")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("submitted (receipt issued)", str(summary.submitted))
    table.add_row("rejected", str(summary.rejected))
    table.add_row("completed", str(summary.completed))
    table.add_row("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "-")
    table.add_row("wall time (s)", f"{summary.wall_s:.1f}")
    table.add_row("completed per second", f"{summary.completed / summary.wall_s:.1f}" if summary.wall_s else "-")
    for label, values in (("submit→receipt", summary.to_receipt_ms), ("submit→complete", summary.to_complete_ms)):
        p50, p95, p99 = percentiles(values)
        table.add_row(f"{label} p50 / p95 / p99 (ms)", f"{p50} / {p95} / {p99}")
    return table
