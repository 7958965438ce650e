"""Dossiers end to end through every service, on the real infrastructure: Kafka broker,
MongoDB-protocol server, each service its own OS process, the sandbox payment gateway
paying fees and simulated officials working each dossier through routing's officer API."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from typing import Any

import pytest
from motcua_contracts import (
    SERVICES,
    CitizenNotified,
    DossierApproved,
    DossierCompleted,
    DossierDigitised,
    DossierReceived,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultSigned,
    dead_letter_topic,
)

from infra.kafka_io import read_topic
from infra.stack import Stack

from .support import (
    PHONE,
    SENT,
    SIX_SERVICES,
    database,
    distinct_events_per_dossier,
    events,
    eventually,
    officials,
    settled,
    submit_and_complete,
    submit_dossiers,
    traces_by_dossier,
    wait_all_notified,
    wait_until,
)

pytestmark = pytest.mark.e2e


def assert_exactly_one_effect_each(stack: Stack, codes: list[str], fees: dict[str, int]) -> None:
    """One dossier with its receipt, one payment, one signature, one notification per dossier; none elsewhere."""

    def per_dossier(service: str, collection: str, key: str, query: dict | None = None) -> Counter[str]:
        rows = database(stack, service)[collection].find({key: {"$in": codes}, **(query or {})}, {key: 1})
        return Counter(row[key] for row in rows)

    assert per_dossier("intake", "dossiers", "_id") == Counter(codes)
    assert per_dossier("payment", "payments", "_id") == Counter(codes)
    paid = [c for c in codes if fees[c] > 0]
    assert per_dossier("payment", "payments", "_id", {"state": "paid"}) == Counter(paid)
    assert per_dossier("signing", "results", "dossier_code", {"state": "signed"}) == Counter(codes)
    told_result = {"milestone": "result_ready", "channel": {"$in": PHONE}, "state": {"$in": SENT}}
    assert per_dossier("notification", "messages", "subject", told_result) == Counter(codes)


async def assert_completed_exactly_once(stack: Stack, codes: list[str], fees: dict[str, int]) -> None:
    """Each lifecycle event exactly once per dossier (a republished copy keeps its id), none dead-lettered."""
    expected = {
        DossierReceived: codes,
        DossierDigitised: codes,
        PaymentRequested: [c for c in codes if fees[c]],
        PaymentCompleted: [c for c in codes if fees[c]],
        PaymentNotRequired: [c for c in codes if not fees[c]],
        DossierApproved: codes,
        ResultSigned: codes,
        DossierCompleted: codes,
        "result_ready": codes,
        "payment_requested": [c for c in codes if fees[c]],
    }
    topics = {event_type.TOPIC for event_type in expected if not isinstance(event_type, str)} | {CitizenNotified.TOPIC}

    async def published() -> dict[Any, Counter[str]]:
        """Distinct events of each type per dossier on the topics (a relay may still be publishing);
        the citizen's messages counted by milestone on their phone (ZNS, or SMS in its place): the
        result once, the fee's request once."""
        on_topic = {topic: await events(stack, topic) for topic in topics}
        found: dict[Any, Counter[str]] = {
            kind: distinct_events_per_dossier(on_topic[kind.TOPIC], kind.TYPE)
            for kind in expected
            if type(kind) is not str
        }
        for template in ("result_ready", "payment_requested"):
            told = [e for e in on_topic[CitizenNotified.TOPIC] if e.type == CitizenNotified.TYPE]
            told = [e for e in told if e.payload().template == template]  # type: ignore[attr-defined]
            told = [e for e in told if e.payload().channel in PHONE]  # type: ignore[attr-defined]
            found[template] = distinct_events_per_dossier(told, CitizenNotified.TYPE)
        return found

    def all_there(found: dict[Any, Counter[str]]) -> bool:
        return all(found[kind][code] for kind, wanted in expected.items() for code in wanted)

    found = await eventually(published, all_there)
    for event_type, wanted in expected.items():
        assert {code: found[event_type][code] for code in codes} == {code: int(code in wanted) for code in codes}, (
            getattr(event_type, "TYPE", event_type)
        )
    for service in SERVICES:
        parked = [r.key async for r in read_topic(stack.kafka_client(), dead_letter_topic(service).name)]
        assert not set(parked) & {code.encode() for code in codes}, f"{service} dead-lettered events of this run"

    # the one timeline of each dossier (intake's public history) shows its completion once,
    # as soon as intake has followed routing's topic that far
    def completions() -> dict[str, int]:
        timelines = database(stack, "intake")["tracking"].find({"_id": {"$in": codes}})
        return {t["_id"]: sum(step["event"] == DossierCompleted.TYPE for step in t["steps"]) for t in timelines}

    await wait_until(lambda: len(completions()) == len(codes) and all(completions().values()), "intake's histories")
    assert completions() == dict.fromkeys(codes, 1)


async def test_fifty_dossiers_complete_once_each_in_one_trace_across_six_services(stack: Stack) -> None:
    receipts = await submit_and_complete(stack, count=50, rate=25, seed=1)
    codes = [r["dossier_code"] for r in receipts]
    fees = {r["dossier_code"]: r["fee_vnd"] for r in receipts}
    assert len(set(codes)) == 50
    assert all(r["due_at"] > r["received_at"] for r in receipts)

    await wait_all_notified(stack, codes)
    assert_exactly_one_effect_each(stack, codes, fees)
    await assert_completed_exactly_once(stack, codes, fees)

    def traced() -> bool:
        traces = traces_by_dossier(stack)
        return all(SIX_SERVICES <= traces[c]["services"] for c in codes)

    await wait_until(traced, "spans of all six services for every dossier", timeout=30)
    traces = traces_by_dossier(stack)
    for code in codes:
        assert len(traces[code]["traces"]) == 1, f"{code} is spread over several traces"

    # Intake's JSON log names each dossier with the trace it belongs to.
    logged = {}
    for line in stack.log_file("intake").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("message") == "dossier received":
            logged[entry["dossier_code"]] = "0x" + entry["trace_id"]
    assert {code: logged.get(code) for code in codes} == {code: next(iter(traces[code]["traces"])) for code in codes}
    # No log line of any service carries an identity number.
    logs = "".join(stack.log_file(service).read_text(encoding="utf-8") for service in SIX_SERVICES)
    assert not [r["identity_number"] for r in receipts if r["identity_number"] in logs]


async def test_kill_9_of_services_mid_run_loses_nothing_and_duplicates_no_effect(stack: Stack) -> None:
    async with officials(stack) as working:
        # officials work each dossier as soon as its receipt is issued, while services are killed
        submitting = asyncio.create_task(
            submit_dossiers(stack, count=80, rate=10, seed=2, on_receipt=lambda r: working.add(r["dossier_code"]))
        )
        for victim in ("routing", "payment", "signing", "notification"):
            await asyncio.sleep(1.5)
            stack.stop(victim, signal.SIGKILL)  # no chance to finish a batch, commit offsets or flush the outbox
            await asyncio.sleep(1.0)
            stack.start_service(victim)
            await asyncio.to_thread(stack.wait_ready, victim)
        receipts = await submitting
        await settled(working, receipts)
    codes = [r["dossier_code"] for r in receipts]
    fees = {r["dossier_code"]: r["fee_vnd"] for r in receipts}

    await wait_all_notified(stack, codes)
    assert_exactly_one_effect_each(stack, codes, fees)
    await assert_completed_exactly_once(stack, codes, fees)
