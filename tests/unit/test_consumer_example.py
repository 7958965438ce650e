"""The departments' consumer example: what it makes of each record, and that it needs
nothing but the contracts package and aiokafka."""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from aiokafka.structs import TopicPartition
from motcua_contracts import DossierCompleted, DossierReceived, Envelope, StatsSnapshot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "contracts" / "examples" / "consume.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("consume_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


consume = load_example()

RECEIVED = DossierReceived.model_validate(
    {
        "dossier_code": "H40.101-261203-0001",
        "procedure_code": "1.001193",
        "procedure_name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "channel": "online_full",
        "commune_code": "H40.101",
        "applicant": {"key_id": "3f9a1c0b7d2e", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "c2VhbGVk"},
        "components": [{"name": "Tờ khai", "form": "electronic"}],
        "fee_vnd": 0,
        "receipt_number": "BN-H40.101-261203-0001",
        "received_at": "2026-12-03T01:00:00Z",
        "due_at": "2026-12-04T10:00:00Z",
    }
)
COMPLETED = DossierCompleted(
    dossier_code="H40.101-261203-0001",
    result_code="H40.101-261203-0001-KQ1",
    completed_at="2026-12-03T08:00:00Z",
    due_at="2026-12-04T10:00:00Z",
    outcome="early",
)
SNAPSHOT = StatsSnapshot(
    dossier_code="H40.101",
    unit="H40.101",
    unit_name="Xã An Hiệp",
    level="commune",
    as_of="2026-12-03T08:15:00Z",
    period_from="2026-01-01",
    period_to="2026-12-03",
    received=12,
    completed=10,
    resolved=10,
    early=4,
    on_time=5,
    late=1,
    online=9,
    paid=3,
    digitised=12,
    index_score=78.18,
    rates={"online_rate": 75.0, "early_or_on_time_rate": 90.0},
)


def wire(payload: Any, *, source: str, commune: str = "H40.101") -> bytes:
    envelope = Envelope.wrap(payload, source=source, commune=commune)
    return envelope.model_copy(update={"time": datetime(2026, 12, 3, 8, 15, 2, tzinfo=UTC)}).to_bytes()


def future(type_: str = "dossier.teleported") -> bytes:
    """An event type a newer producer added that these contracts do not know yet."""
    return Envelope(
        type=type_, source="routing", subject="H40.101-261203-0001", commune="H40.101", correlation_id="x", data={}
    ).to_bytes()


def test_a_dossier_received_is_described_with_its_procedure_and_channel() -> None:
    line = consume.handle(wire(RECEIVED, source="intake"))
    assert line == (
        "2026-12-03T08:15:02+00:00 dossier.received H40.101-261203-0001 procedure=1.001193 channel=online_full"
    )
    assert "c2VhbGVk" not in line  # the sealed applicant is never shown


def test_a_stats_snapshot_shows_its_unit_period_figures_and_index() -> None:
    assert consume.handle(wire(SNAPSHOT, source="stats")) == (
        "2026-12-03T08:15:02+00:00 stats.snapshot H40.101 unit=H40.101 (Xã An Hiệp) period=2026-01-01..2026-12-03"
        " received=12 resolved=10 index=78.18"
    )


def test_a_snapshot_of_an_older_producer_lacks_period_and_index_and_still_reads() -> None:
    older = json.loads(wire(SNAPSHOT, source="stats"))
    for name in ("unit", "unit_name", "level", "period_from", "period_to", "resolved", "index_score", "rates"):
        del older["data"][name]
    older["subject"] = older["data"]["dossier_code"] = "province"
    line = consume.handle(json.dumps(older).encode())
    assert line.endswith(" stats.snapshot province unit=province period=?..? received=12 resolved=0 index=-")


def test_a_completed_dossier_shows_its_outcome() -> None:
    assert consume.handle(wire(COMPLETED, source="routing")).endswith(" outcome=early")


def test_unknown_types_and_garbage_are_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="consume")
    assert consume.handle(future()) is None
    assert consume.handle(b"\xff\x00 not an envelope") is None
    assert consume.handle(b'{"type": "dossier.completed"}') is None  # an envelope's fields missing
    broken = json.loads(wire(COMPLETED, source="routing"))
    del broken["data"]["outcome"]
    assert consume.handle(json.dumps(broken).encode()) is None  # a known type, data off its schema
    assert consume.handle(None) is None  # a tombstone
    messages = [record.getMessage() for record in caplog.records]
    assert any("unknown event type dossier.teleported" in m for m in messages)
    assert sum("not an envelope" in m for m in messages) == 2
    assert any("dossier.completed does not match its schema" in m for m in messages)


def test_the_type_filter_and_replays_for_a_service_are_skipped() -> None:
    completed = wire(COMPLETED, source="routing")
    assert consume.handle(completed, types=["stats.snapshot"]) is None
    assert consume.handle(completed, types=["dossier.completed"]) is not None
    assert consume.handle(completed, headers=[("motcua-replay-for", b"stats")]) is None


class FakeConsumer:
    """What the loop needs of aiokafka's consumer: batches in, commits out."""

    def __init__(self, *batches: dict[TopicPartition, list[SimpleNamespace]]) -> None:
        self.batches = list(batches)
        self.committed: dict[TopicPartition, int] = {}
        self.stopped = False

    async def start(self) -> None:
        pass

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[SimpleNamespace]]:
        return self.batches.pop(0) if self.batches else {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)

    async def stop(self) -> None:
        self.stopped = True


def record(offset: int, value: bytes) -> SimpleNamespace:
    return SimpleNamespace(offset=offset, value=value, headers=())


async def test_the_loop_commits_only_what_it_handled_and_stops_after_max_events(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    intake, stats = TopicPartition("motcua.intake.v1", 0), TopicPartition("motcua.stats.v1", 0)
    fake = FakeConsumer(
        {intake: [record(7, wire(RECEIVED, source="intake")), record(8, future()), record(9, b"garbage")]},
        {stats: [record(0, wire(SNAPSHOT, source="stats")), record(1, wire(SNAPSHOT, source="stats"))]},
    )
    monkeypatch.setattr(consume, "connect", lambda args: fake)
    args = consume.arguments(["--bootstrap", "127.0.0.1:1", "--password", "x", "--max-events", "2"])
    assert await consume.consume(args) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["dossier.received", "stats.snapshot"]
    # skipped records are committed past; the second snapshot, not handled, is read again next time
    assert fake.committed == {intake: 10, stats: 1}
    assert fake.stopped


def test_the_defaults_read_the_shared_topics_as_the_reader_in_a_reader_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_KAFKA_PASSWORD", "from-the-environment")
    args = consume.arguments(["--bootstrap", "127.0.0.1:9092"])
    assert args.user == "reader" and args.group.startswith("reader.") and args.password == "from-the-environment"
    assert "motcua.stats.v1" in args.topics and "motcua.notification.v1" not in args.topics
    assert args.security_protocol == "SASL_PLAINTEXT"
    assert consume.arguments(["--bootstrap", "b:9093", "--ca-file", "ca.pem"]).security_protocol == "SASL_SSL"


def test_the_example_imports_only_the_standard_library_aiokafka_and_the_contracts() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(EXAMPLE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the example runs as a script"
            imported.add((node.module or "").split(".")[0])
    assert imported - sys.stdlib_module_names == {"aiokafka", "motcua_contracts"}
