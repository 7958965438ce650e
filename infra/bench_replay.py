"""Stats replay benchmark: how fast stats rebuilds its read model from the topics' history.

    python3 -m uv run python -m infra.bench_replay [--stack dev] [--events 100000 1000000] [--keep]

For each size, against a running stack (`motcua up`): bench topics are made beside the real
ones (`bench.replay.<run>.intake.v1` and so on, with the real topics' partition counts) and
filled with that many lifecycle events of made-up dossiers, each on its owner's topic keyed by
the dossier code, in time order: a year of dossiers received in the 130 sample communes
(receipt, digitisation, fee or none, two workflow steps, approval, signed and archived result
and completion early, on time or late; some transferred to a department, sent back for
documents, refused, withdrawn, rated or complained of; the last days' still open). Producing
them is timed apart and is not part of the figure.

Then stats' own replay (`services.stats.replay.run`) rebuilds the `figures` read model from
those topics into a database of its own (`motcua_bench_replay_<run>`), in a fresh process:
reading, parsing, folding, the checkpoints' writes and the switch to the new generation are
timed. Printed: events per second and µs per event, the replaying process's CPU time and peak
memory, the database server's CPU time meanwhile, the dossiers and day rows written; then how
the cost per event moves from the smallest size to the largest. The province's received and
resolved counters, read from the rebuilt rows as the API reads them, are checked against what
was produced. The bench topics and database are deleted afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import multiprocessing
import os
import random
import resource
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from motcua_contracts import (
    Applicant,
    ComplaintAnswered,
    ComplaintReceived,
    DossierApologised,
    DossierApproved,
    DossierCompleted,
    DossierDigitised,
    DossierReceived,
    DossierRefused,
    DossierStepStarted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierTransferred,
    DossierWithdrawn,
    Envelope,
    Event,
    Exemption,
    FeedbackReceived,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultArchived,
    ResultSigned,
)
from pymongo import MongoClient
from rich.console import Console
from rich.table import Table

from services.runtime.documents import MongoDocuments
from services.runtime.personal import PersonalData
from services.runtime.service import Runtime
from services.runtime.units import SAMPLE, load_units
from services.stats import queries, replay, store
from services.stats.app import create
from services.stats.settings import StatsSettings

from .stack import Stack

VIETNAM = timezone(timedelta(hours=7))
LAST_DAY = date(2026, 12, 3)  # a year of dossiers up to this day
FIRST_DAY = LAST_DAY - timedelta(days=364)
NOW = datetime.combine(LAST_DAY, clock(17), VIETNAM)  # later events have not happened yet: open dossiers
WEEKDAY_SHARE = (1.0, 1.0, 1.0, 1.0, 1.0, 0.4, 0.05)  # Monday … Sunday
CHANNELS = {"online_full": 35, "online_partial": 25, "counter": 38, "post": 2}
RATINGS = {1: 2, 2: 3, 3: 6, 4: 25, 5: 64}
FLAT = 0.25  # the cost per event is "flat" when the largest size's is within ±25 % of the smallest's


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    days: int  # calendar days from receipt to the appointment
    fee_vnd: int
    share: int
    department: str | None = None  # inter-agency: transferred there, and resolved there
    workflow: str = "commune-standard"


PROCEDURES = (
    Procedure("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1, 0, 28),
    Procedure("1.004873", "Cấp giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 4, 0, 14),
    Procedure("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực", 1, 10_000, 24),
    Procedure("1.004194", "Đăng ký thường trú", "Cư trú", 10, 20_000, 16),
    Procedure("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", 21, 75_000, 8),
    Procedure(
        "1.004227", "Đăng ký biến động quyền sử dụng đất", "Đất đai", 14, 30_000, 10, "000.16.01.H40", "inter-agency"
    ),
)


# --- the events ---------------------------------------------------------------------------


class Dossiers:
    """Made-up dossiers, reproducibly from `seed`: each one's events as their owners publish them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.communes = sorted(load_units(SAMPLE).communes)
        self.commune_weights = list(itertools.accumulate(self.rng.lognormvariate(0, 0.6) for _ in self.communes))
        self.numbers: Counter[tuple[str, date]] = Counter()
        self.personal = PersonalData(secrets.token_bytes(32))

    def pick(self, shares: dict[Any, int]) -> Any:
        return self.rng.choices(list(shares), weights=list(shares.values()))[0]

    def received_on(self, day: date) -> list[tuple[datetime, Event]]:
        """One dossier received on `day`: its events that have happened by `NOW`, in time order."""
        rng = self.rng
        commune = self.rng.choices(self.communes, cum_weights=self.commune_weights)[0]
        procedure = self.pick({p: p.share for p in PROCEDURES})
        channel = self.pick(CHANNELS)
        self.numbers[commune, day] += 1
        code = f"{commune}-{day:%y%m%d}-{self.numbers[commune, day]:04d}"
        received_at = datetime.combine(day, clock(7, 30), VIETNAM) + timedelta(minutes=rng.randrange(540))
        due_at = datetime.combine(day + timedelta(days=procedure.days), clock(17), VIETNAM)
        unit = procedure.department or commune
        online = channel.startswith("online")
        forms = ["electronic" if online and rng.random() < 0.8 else "paper" for _ in range(rng.randint(2, 4))]
        forms[-1] = "e_data_store" if rng.random() < 0.3 else forms[-1]
        fee = procedure.fee_vnd
        exempt = fee > 0 and rng.random() < 0.05
        events: list[tuple[datetime, Event]] = [
            (
                received_at,
                DossierReceived(
                    dossier_code=code,
                    procedure_code=procedure.code,
                    procedure_name=procedure.name,
                    field=procedure.field,
                    channel=channel,
                    commune_code=commune,
                    applicant=self.personal.seal(Applicant(name="Nguyễn Văn An", phone="0912345678"), code),
                    components=[
                        {"name": f"Thành phần {n + 1}", "form": form, "sha256": f"{n:02x}" * 32}
                        for n, form in enumerate(forms)
                    ],
                    fee_vnd=0 if exempt else fee,
                    fee_lines=[{"kind": "charge", "name": "Lệ phí", "unit_vnd": fee, "quantity": 1, "amount_vnd": fee}]
                    if fee
                    else [],
                    pay_by=received_at + timedelta(days=3) if fee and not exempt else None,
                    receipt_number=f"BN-{code}",
                    received_at=received_at,
                    due_at=due_at,
                    level="inter_agency" if procedure.department else "commune",
                    workflow=procedure.workflow,
                ),
            )
        ]

        def add(after: timedelta, event: Event) -> None:
            events.append((received_at + after, event))

        if rng.random() < 0.92:
            add(
                timedelta(minutes=10),
                DossierDigitised(
                    dossier_code=code,
                    components=[
                        {
                            "name": f"Thành phần {n + 1}",
                            "origin": {"paper": "scanned", "electronic": "uploaded", "e_data_store": "reused"}[form],
                            "sha256": f"{n:02x}" * 32,
                            "document_id": f"{code}-{n}",
                        }
                        for n, form in enumerate(forms)
                    ],
                    digitised_at=received_at + timedelta(minutes=10),
                    unit=commune,
                    components_scanned=forms.count("paper"),
                    components_uploaded=forms.count("electronic"),
                    components_reused=forms.count("e_data_store"),
                ),
            )
        if fee and not exempt:
            reference = f"TT-{code}"
            add(
                timedelta(minutes=1),
                PaymentRequested(dossier_code=code, reference=reference, amount_vnd=fee, gateway="payment-platform"),
            )
            if rng.random() < 0.9:
                paid_online = online and rng.random() < 0.85
                paid_after = timedelta(minutes=rng.randrange(5, 600 if paid_online else 60))
                add(
                    paid_after,
                    PaymentCompleted(
                        dossier_code=code,
                        reference=reference,
                        amount_vnd=fee,
                        gateway_transaction=f"GD-{code}",
                        paid_at=received_at + paid_after,
                        channel="online" if paid_online else "counter",
                        method="gateway" if paid_online else "cash",
                    ),
                )
        else:
            exemption = {"ground": "poor_household", "label": "Hộ nghèo", "reason": "Sổ hộ nghèo", "waived_vnd": fee}
            add(
                timedelta(minutes=1),
                PaymentNotRequired(dossier_code=code, exemption=Exemption(**exemption) if exempt else None),
            )
        if procedure.department:
            add(
                timedelta(minutes=20),
                DossierTransferred(
                    dossier_code=code,
                    from_unit=commune,
                    to_unit=procedure.department,
                    step="review",
                    transferred_at=received_at + timedelta(minutes=20),
                ),
            )

        # how it ends: refused, withdrawn, or completed early, on time or late
        ending = rng.random()
        outcome = self.pick({"early": 60, "on_time": 30, "late": 10})
        if ending < 0.035:  # refused or withdrawn midway
            closed_at = received_at + (due_at - received_at) * rng.uniform(0.2, 0.8)
        elif outcome == "early":
            closed_on = day + timedelta(days=rng.randrange(procedure.days))
            closed_at = max(
                datetime.combine(closed_on, clock(rng.randint(8, 16)), VIETNAM), received_at + timedelta(hours=1)
            )
        elif outcome == "on_time":
            closed_at = due_at - timedelta(minutes=rng.randrange(30, 480))
        else:
            closed_at = due_at + timedelta(days=rng.randint(1, 6))
        span = closed_at - received_at

        def step(share: float, name: str, title: str, role: str) -> None:
            add(
                span * share,
                DossierStepStarted(
                    dossier_code=code,
                    workflow=procedure.workflow,
                    workflow_version=1,
                    step=name,
                    step_name=title,
                    unit=unit,
                    role=role,
                    holder=f"{unit.lower()}.{role}",
                    started_at=received_at + span * share,
                    step_due_at=received_at + span * (share + 0.4),
                ),
            )

        step(0.05, "review", "Thẩm định hồ sơ", "specialist")
        if rng.random() < 0.04:
            add(
                span * 0.2,
                DossierSupplementRequested(
                    dossier_code=code,
                    documents=["Giấy tờ chứng minh chỗ ở"],
                    reason="Thiếu giấy tờ",
                    requested_by=f"{unit.lower()}.specialist",
                    requested_at=received_at + span * 0.2,
                    unit=unit,
                ),
            )
            add(
                span * 0.3,
                DossierSupplemented(
                    dossier_code=code,
                    components=[{"name": "Giấy tờ chứng minh chỗ ở", "form": "electronic"}],
                    supplemented_at=received_at + span * 0.3,
                    paused_working_days=1,
                    due_at=due_at + timedelta(days=1),
                ),
            )
        if ending < 0.02:
            reason = "Không đủ điều kiện giải quyết"
            add(
                span,
                DossierRefused(
                    dossier_code=code,
                    reason=reason,
                    refused_by=f"{unit.lower()}.leader",
                    unit=unit,
                    refused_at=closed_at,
                ),
            )
        elif ending < 0.035:
            add(span, DossierWithdrawn(dossier_code=code, reason="Công dân rút hồ sơ", withdrawn_at=closed_at))
        else:
            step(0.6, "approve", "Phê duyệt kết quả", "leader")
            result = f"{code}-KQ1"
            apologised = outcome == "late" and rng.random() < 0.5
            if apologised:
                add(
                    due_at - timedelta(hours=3) - received_at,
                    DossierApologised(
                        dossier_code=code,
                        reason="Cần xác minh thêm",
                        due_at=due_at,
                        new_due_at=due_at + timedelta(days=7),
                        apologised_by=f"{unit.lower()}.leader",
                        unit=unit,
                        apologised_at=due_at - timedelta(hours=3),
                    ),
                )
            approved = DossierApproved(
                dossier_code=code,
                competent_unit=unit,
                approved_by="Nguyễn Văn Minh",
                result_title=procedure.name,
                procedure_code=procedure.code,
                procedure_name=procedure.name,
                field=procedure.field,
            )
            add(span * 0.85, approved)
            signed_at = received_at + span * 0.9
            add(
                span * 0.9,
                ResultSigned(
                    dossier_code=code,
                    result_code=result,
                    document_sha256="ab" * 32,
                    signature="c2lnbmF0dXJl",
                    algorithm="PAdES-B-LT",
                    key_id="3f9a1c0b7d2e4a51",
                    signed_at=signed_at,
                ),
            )
            if rng.random() < 0.9:
                archived_at = received_at + span * 0.95
                archived = ResultArchived(
                    dossier_code=code,
                    result_code=result,
                    document_id=result,
                    sha256="ab" * 32,
                    unit=unit,
                    archived_at=archived_at,
                )
                add(span * 0.95, archived)
            completed = DossierCompleted(
                dossier_code=code,
                result_code=result,
                completed_at=closed_at,
                due_at=due_at,
                outcome=outcome,
                apologised=apologised,
            )
            add(span, completed)
            if rng.random() < 0.3:
                later = span + timedelta(hours=rng.randint(1, 48))
                rating = self.pick(RATINGS)
                add(
                    later,
                    FeedbackReceived(dossier_code=code, rating=rating, unit=unit, received_at=received_at + later),
                )
        if rng.random() < 0.012:
            complaint, complained = f"PA-{code}-1", span * rng.uniform(0.3, 1.2)
            answer_by = received_at + complained + timedelta(days=10)
            add(
                complained,
                ComplaintReceived(
                    dossier_code=code,
                    complaint_code=complaint,
                    kind="phan_anh",
                    unit=unit,
                    received_at=received_at + complained,
                    answer_by=answer_by,
                ),
            )
            if rng.random() < 0.8:
                answered = complained + timedelta(days=rng.randint(1, 12))
                add(
                    answered,
                    ComplaintAnswered(
                        dossier_code=code,
                        complaint_code=complaint,
                        unit=unit,
                        answered_by=f"{unit.lower()}.leader",
                        answered_at=received_at + answered,
                        on_time=received_at + answered <= answer_by,
                    ),
                )
        return sorted((e for e in events if e[0] <= NOW), key=lambda e: e[0])


def year() -> list[tuple[date, float]]:
    """The days of the year of dossiers, each with its share of them."""
    days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    weights = [WEEKDAY_SHARE[day.weekday()] for day in days]
    total = sum(weights)
    return [(day, weight / total) for day, weight in zip(days, weights, strict=True)]


def events_per_dossier(seed: int, sample: int = 3000) -> float:
    dossiers, days = Dossiers(seed), year()
    chosen = dossiers.rng.choices([day for day, _ in days], weights=[share for _, share in days], k=sample)
    return sum(len(dossiers.received_on(day)) for day in chosen) / sample


@dataclass
class Produced:
    events: int = 0
    types: Counter[str] | None = None

    def expected(self, name: str) -> int:
        assert self.types is not None
        return self.types[name]


def records(size: int, seed: int, produced: Produced) -> Iterator[tuple[str, bytes, bytes]]:
    """`size` events as (real topic, key, envelope bytes), in time order across the dossiers."""
    dossiers, days = Dossiers(seed), year()
    wanted = size / events_per_dossier(seed + 1)  # dossiers to receive over the year
    types: Counter[str] = Counter()
    produced.types = types
    pending: list[tuple[datetime, int, str, bytes, bytes]] = []  # events not yet due, by time
    order = itertools.count()
    made, carry = 0, 0.0
    for number, (day, share) in enumerate(days):
        starts = datetime.combine(day, clock(0), VIETNAM)
        while pending and pending[0][0] < starts:
            yield heapq.heappop(pending)[2:]
        carry += wanted * share
        last = number == len(days) - 1
        while made < size and (carry >= 1 or last):
            carry -= 1
            events = dossiers.received_on(day)[: size - made]
            made += len(events)
            received = events[0][1]
            assert isinstance(received, DossierReceived)
            cause = None
            for at, event in events:
                envelope = Envelope.wrap(event, source=event.TOPIC.owner, commune=received.commune_code, cause=cause)
                cause = cause or envelope
                types[event.TYPE] += 1
                heapq.heappush(
                    pending, (at, next(order), event.TOPIC.name, event.dossier_code.encode(), envelope.to_bytes())
                )
    while pending:
        yield heapq.heappop(pending)[2:]
    produced.events = made


# --- the broker -----------------------------------------------------------------------------


def bench_topics(run: str) -> dict[str, tuple[str, int]]:
    """The bench topic (and partitions) standing in for each topic the read model reads."""
    return {
        name: (f"bench.replay.{run}.{name.removeprefix('motcua.')}", partitions)
        for name, partitions in replay.topics(store.FIGURES)
    }


async def create_topics(client: dict[str, str], topics: dict[str, tuple[str, int]]) -> None:
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in topics.values()])
        for _ in range(100):  # until every new partition has a leader (sends before that are refused)
            described = await admin.describe_topics([name for name, _ in topics.values()])
            if all(led(topic) for topic in described):
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def led(topic: dict[str, Any]) -> bool:
    partitions = topic["partitions"]
    return topic["error_code"] == 0 and bool(partitions) and all(p["leader"] >= 0 for p in partitions)


async def delete_topics(client: dict[str, str], topics: dict[str, tuple[str, int]]) -> None:
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        await admin.delete_topics([name for name, _ in topics.values()])
    finally:
        await admin.close()


async def produce(
    client: dict[str, str], topics: dict[str, tuple[str, int]], events: Iterator[tuple[str, bytes, bytes]]
) -> None:
    producer = AIOKafkaProducer(**client, linger_ms=20, max_batch_size=512 * 1024, acks=1)
    await producer.start()
    try:
        sent = []
        for topic, key, value in events:
            sent.append(await producer.send(topics[topic][0], value, key=key))
            if len(sent) >= 20_000:
                await asyncio.gather(*sent)
                sent.clear()
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


# --- the replay, in a process of its own ----------------------------------------------------


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU time `pid` has used so far (None: not running here)."""
    if pid is None:
        return None
    try:
        fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def noting(seen: list[dict[str, Any]]) -> None:
    """Have stats' own checkpoints note what each wrote, how long it took and how far each
    topic had been read (in the replaying process only)."""
    checkpoint = replay.Replay.checkpoint

    async def noted(self: replay.Replay) -> None:
        dossiers, started = len(self.partial), time.perf_counter()
        await checkpoint(self)
        ends, read = Counter[str](), Counter[str]()
        for partition, end in self.ends.items():
            ends[partition.topic] += end
            read[partition.topic] += self.positions[partition]
        if dossiers:
            seconds = time.perf_counter() - started
            shares = {topic.split(".")[-2]: read[topic] / ends[topic] for topic in sorted(ends) if ends[topic]}
            seen.append({"dossiers": dossiers, "seconds": seconds, "read": shares})
            read = ", ".join(f"{topic} {share:.0%}" for topic, share in shares.items())
            print(
                f"    checkpoint {len(seen)}: {dossiers:,} dossiers in {seconds:.1f} s "
                f"({seconds / dossiers * 1e3:.2f} ms each); read so far: {read}",
                flush=True,
            )

    replay.Replay.checkpoint = noted  # type: ignore[method-assign]


def measure(settings: dict[str, Any], sources: list[tuple[str, int]], database_pid: int | None) -> dict[str, Any]:
    """Rebuild the figures from `sources` (run in a fresh process: its CPU time and peak memory are the replay's)."""
    return asyncio.run(_measure(StatsSettings(**settings), sources, database_pid))


async def _measure(settings: StatsSettings, sources: list[tuple[str, int]], database_pid: int | None) -> dict[str, Any]:
    documents = MongoDocuments(settings.mongo_url, settings.database_name("stats"))
    runtime = Runtime(create(settings), documents=documents)
    try:
        await replay.ensure(runtime, store.FIGURES)  # generation 1 is built, as at a first start
        checkpoints: list[dict[str, Any]] = []
        noting(checkpoints)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        database_cpu, cpu, started = cpu_seconds(database_pid), time.process_time(), time.perf_counter()
        await replay.run(runtime, store.FIGURES, sources=sources)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        database_after = cpu_seconds(database_pid)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        dossiers, days, *totals = store.FIGURES.collections(1)
        period = queries.Period(FIRST_DAY, LAST_DAY)
        scope = queries.Scope.of(load_units(settings.units_file), None)
        province = await queries.figures(documents, 1, scope, period)
        return {
            "wall": wall,
            "cpu": cpu,
            "database_cpu": None if database_cpu is None or database_after is None else database_after - database_cpu,
            "rss_before": rss_before,
            "peak_rss": peak,
            "dossiers": await documents.db[dossiers].count_documents({}),
            "rows": await documents.db[days].count_documents({}),
            "unit_rows": sum([await documents.db[rows].count_documents({}) for rows in totals]),
            "counters": province["counters"],
            "checkpoints": checkpoints,
        }
    finally:
        await runtime.stop()
        await documents.close()


# --- one size, and the whole run ------------------------------------------------------------


@dataclass
class Result:
    size: int
    produce_s: float
    replay: dict[str, Any]
    checks: list[tuple[str, int, int]]

    @property
    def per_event_us(self) -> float:
        return self.replay["wall"] / self.size * 1e6


def bench(stack: Stack, size: int, run: str, seed: int, keep: bool) -> Result:
    client = stack.kafka_client("admin")
    topics = bench_topics(run)
    database = f"motcua_bench_replay_{run}"
    asyncio.run(create_topics(client, topics))
    try:
        produced = Produced()
        started = time.perf_counter()
        asyncio.run(produce(client, topics, records(size, seed, produced)))
        produce_s = time.perf_counter() - started
        settings = {
            "profile": "development",
            "kafka_bootstrap": stack.kafka_bootstrap,
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_username": "admin",
            "kafka_password": stack.secrets()["kafka.admin"],
            "mongo_url": stack.mongo_url,
            "database": database,
            "log_level": "WARNING",
        }
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            found = pool.submit(measure, settings, list(topics.values()), stack.pid("mongodb")).result()
        counters = found["counters"]
        resolved = produced.expected(DossierCompleted.TYPE) + produced.expected(DossierRefused.TYPE)
        checks = [
            ("received", produced.expected(DossierReceived.TYPE), counters["received"]),
            ("resolved", resolved, counters["resolved"]),
        ]
        return Result(produced.events, produce_s, found, checks)
    finally:
        if not keep:
            asyncio.run(delete_topics(client, topics))
            with MongoClient(stack.mongo_url) as mongo:
                mongo.drop_database(database)


def table(results: list[Result]) -> Table:
    grid = Table(title="Stats replay: the figures read model rebuilt from the topics")
    for column in (
        "events",
        "produce s",
        "replay s",
        "events/s",
        "µs/event",
        "CPU s",
        "DB CPU s",
        "peak MB",
        "dossiers",
        "rows",
    ):
        grid.add_column(column, justify="right")
    for result in results:
        found = result.replay
        grid.add_row(
            f"{result.size:,}",
            f"{result.produce_s:.1f}",
            f"{found['wall']:.1f}",
            f"{result.size / found['wall']:,.0f}",
            f"{result.per_event_us:.0f}",
            f"{found['cpu']:.1f}",
            "-" if found["database_cpu"] is None else f"{found['database_cpu']:.1f}",
            f"{found['peak_rss']:.0f}",
            f"{found['dossiers']:,}",
            f"{found['rows']:,}",
        )
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Leave the bench topics and databases for a look.")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the bench topics and database still go
    stack = Stack.named(args.stack)
    console = Console()
    console.width = max(console.width, 120)  # the table whole, also when printed to a file
    token = secrets.token_hex(3)
    results: list[Result] = []
    for size in sorted(args.events):
        run = f"{token}_{size}"
        console.print(f"{size:,} events: topics bench.replay.{run}.*, database motcua_bench_replay_{run}")
        result = bench(stack, size, run, args.seed, args.keep)
        found = result.replay
        console.print(
            f"  produced in {result.produce_s:.1f} s; replayed in {found['wall']:.1f} s "
            f"({size / found['wall']:,.0f} events/s); replaying process {found['rss_before']:.0f} MB before, "
            f"{found['peak_rss']:.0f} MB at its peak"
        )
        results.append(result)
        checkpoints = found["checkpoints"]
        writing = sum(c["seconds"] for c in checkpoints)
        written = sum(c["dossiers"] for c in checkpoints)
        console.print(
            f"  {len(checkpoints)} checkpoint(s) wrote {written:,} dossier documents "
            f"({written / found['dossiers']:.2f} per dossier), {found['rows']:,} day rows and "
            f"{found['unit_rows']:,} rows per (day, unit) in {writing:.1f} s; "
            f"reading, parsing and folding took the other {found['wall'] - writing:.1f} s"
        )
    console.print(table(results))
    failed = False
    for result in results:
        for name, expected, found in result.checks:
            good = expected == found
            failed |= not good
            mark = "[green]ok" if good else "[red]WRONG"
            console.print(f"  {result.size:,} events: province {name} {found:,}, produced {expected:,} {mark}")
    if len(results) > 1:
        first, last = results[0], results[-1]
        ratio = last.per_event_us / first.per_event_us
        verdict = "flat" if abs(ratio - 1) <= FLAT else "not flat"
        console.print(
            f"µs per event at {last.size:,} vs {first.size:,} events: {ratio:.2f}× "
            f"({verdict}: within ±{FLAT:.0%} counts as flat)"
        )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
